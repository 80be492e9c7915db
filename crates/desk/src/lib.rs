//! Tsunagi's desktop core, without Tauri: the local store, the projection of the relay's
//! log into it, sync with the relay, and the queries behind the inbox. The app and
//! `tsunagi-cli` only call into this crate.

pub mod relay;
