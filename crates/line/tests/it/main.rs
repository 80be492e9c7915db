//! Integration tests for tsunagi-line: fixtures written from LINE's specification, and the
//! client against an in-process fake of the Messaging API.

mod client;
mod message;
mod webhook;

/// Reads a fixture file under `tests/fixtures`.
fn fixture(path: &str) -> String {
    let full = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/").to_owned() + path;
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"))
}
