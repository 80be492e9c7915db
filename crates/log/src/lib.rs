//! How every Tsunagi program logs.
//!
//! Lines go to stderr (stdout is for what the person at the terminal asked for: codes,
//! reports), filtered by `RUST_LOG` or else at `default`, and carry terminal colour codes
//! only when stderr is a terminal: a log written to a file, a pipe or journald stays plain.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Installs the process's logger. `default` is the filter when `RUST_LOG` is unset or
/// unreadable (`"info"`, `"warn"`, `"tsunagi_relay=debug"`).
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
