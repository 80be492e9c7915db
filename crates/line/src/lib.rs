//! The LINE Messaging API as Tsunagi uses it.
//!
//! - [`webhook`]: a signed callback body into typed [`webhook::Event`]s, each keeping its raw
//!   JSON exactly as LINE sent it.
//! - [`signature`]: sign and verify `x-line-signature`.
//! - [`message`]: the message objects we send and LINE's limits on them.
//! - [`client`]: an async client with LINE's retry rules.

pub mod client;
pub mod id;
pub mod message;
pub mod retry;
pub mod signature;
pub mod sticker;
pub mod webhook;

pub use client::{Client, Error, Result};
pub use id::*;
