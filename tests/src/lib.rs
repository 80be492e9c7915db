//! Helpers for Tsunagi's end-to-end tests: the real app, started by tauri-driver and driven
//! over WebDriver, in throwaway home directories with its own keyring.

pub mod app;
