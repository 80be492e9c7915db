//! Whole-system tests without a window: real `tsunagi-relay` processes, a PostgreSQL
//! server, linesim and desks, and the faults between them.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod erase;
mod processes;
mod upgrades;
