//! Everything that crosses the IPC boundary. TypeScript for these types is generated into
//! `ui/src/lib/bindings.ts` (see the `bindings` test); the UI never guesses a shape.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the UI can act on when a command fails. Add a variant only when the UI handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user typed something we cannot use; `message` says what and how to fix it.
    InvalidInput,
    /// Something went wrong inside the app; details are in the log.
    Internal,
}

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl IpcError {
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidInput,
            message: message.into(),
        }
    }
}

/// Where the OS keyring stands, for keeping the device token and LINE credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyringStatus {
    Available,
    /// No keyring could be reached; `reason` says why, in words a user can act on.
    Unavailable {
        reason: String,
    },
}

/// About this copy of the app, for the first screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// `linux`, `macos` or `windows`.
    pub os: String,
    pub keyring: KeyringStatus,
}

/// `relay_url_check`: is this a relay address the desk can use?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlCheckRequest {
    pub url: String,
}

/// A usable relay address, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlChecked {
    /// The address as the desk will use it: no trailing slash, no path noise.
    pub relay_url: String,
    /// The address LINE will call for a channel, with `{channel_id}` to fill in.
    pub webhook_url_template: String,
    /// False only for a relay on this machine over plain HTTP (the demo).
    pub encrypted: bool,
}

/// The TypeScript for every IPC type, as committed in `ui/src/lib/bindings.ts`.
pub fn typescript() -> String {
    let declarations = [
        ErrorCode::decl(),
        IpcError::decl(),
        KeyringStatus::decl(),
        AppInfo::decl(),
        RelayUrlCheckRequest::decl(),
        RelayUrlChecked::decl(),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/ipc.rs by `cargo xtask bindings`. Do not edit.\n",
    );
    for declaration in declarations {
        out.push_str("\nexport ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");
        let generated = typescript();
        if std::env::var_os("TSUNAGI_WRITE_BINDINGS").is_some() {
            std::fs::write(path, &generated).expect("writing bindings");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
        );
    }

    #[test]
    fn errors_cross_ipc_as_code_and_message() {
        let error = IpcError::invalid_input("The relay address must start with https://");
        assert_eq!(
            serde_json::to_value(&error).expect("serializes"),
            serde_json::json!({
                "code": "invalid_input",
                "message": "The relay address must start with https://"
            })
        );
    }
}
