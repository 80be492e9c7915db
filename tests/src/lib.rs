//! Helpers for Tsunagi's end-to-end tests and its demo: the real app, started by
//! tauri-driver and driven over WebDriver, in throwaway home directories with its own
//! keyring; and a whole clinic (linesim, relay, executor) in process.

pub mod app;
pub mod clinic;
