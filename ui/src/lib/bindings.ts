// Generated from src-tauri/src/ipc.rs by `cargo xtask bindings`. Do not edit.

export type ErrorCode = "invalid_input" | "internal";

export type IpcError = { code: ErrorCode, message: string, };

export type KeyringStatus = { "state": "available" } | { "state": "unavailable", reason: string, };

export type AppInfo = { version: string, 
/**
 * `linux`, `macos` or `windows`.
 */
os: string, keyring: KeyringStatus, };

export type RelayUrlCheckRequest = { url: string, };

export type RelayUrlChecked = { 
/**
 * The address as the desk will use it: no trailing slash, no path noise.
 */
relay_url: string, 
/**
 * The address LINE will call for a channel, with `{channel_id}` to fill in.
 */
webhook_url_template: string, 
/**
 * False only for a relay on this machine over plain HTTP (the demo).
 */
encrypted: boolean, };
