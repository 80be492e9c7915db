//! Tsunagi's pure decisions: no I/O, no clocks, no randomness. Given the same log, every
//! desktop and the relay decide the same things.

pub mod automation;
pub mod consent;
pub mod conversation;
pub mod csat;
pub mod erasure;
pub mod expiry;
pub mod handoff;
pub mod hours;
pub mod red_flag;
pub mod session;
pub mod template;
pub mod validate;
