//! Tsunagi's desktop app: a thin Tauri shell. Everything that is not drawing lives in the
//! `crates/` (no Tauri there); this crate wires them to windows, the keyring, notifications
//! and the store.

mod credentials;
pub mod ipc;
mod relay_url;

use ipc::{AppInfo, IpcError, RelayUrlCheckRequest, RelayUrlChecked};

/// About this copy of the app.
#[tauri::command]
#[tracing::instrument(skip_all)]
async fn app_info() -> Result<AppInfo, IpcError> {
    // The keyring may block on D-Bus: keep it off the async runtime.
    let keyring = tauri::async_runtime::spawn_blocking(credentials::probe)
        .await
        .map_err(|e| {
            tracing::error!(%e, "keyring probe panicked");
            IpcError {
                code: ipc::ErrorCode::Internal,
                message: "Could not check the system keyring.".into(),
            }
        })?;
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
        keyring,
    })
}

/// Checks and normalizes a relay address before the desk connects to it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
fn relay_url_check(request: RelayUrlCheckRequest) -> Result<RelayUrlChecked, IpcError> {
    relay_url::check(&request.url)
}

/// Starts the app. Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        .invoke_handler(tauri::generate_handler![app_info, relay_url_check])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "Tsunagi stopped");
        std::process::exit(1);
    }
}
