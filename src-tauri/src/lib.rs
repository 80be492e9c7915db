//! Tsunagi's desktop app: a thin Tauri shell. Everything that is not drawing lives in the
//! `crates/` (no Tauri there); this crate wires `tsunagi-desk` to the window, the keyring,
//! notifications and the store plugin.

mod alerts;
mod commands;
mod desk;
pub mod ipc;
mod media;
mod presence;

use std::path::PathBuf;

use tauri::Manager as _;

/// Where the desk keeps its store: `TSUNAGI_DATA_DIR` (the demo's second desk), else the
/// OS data directory of the app.
fn data_dir(app: &tauri::App) -> Result<PathBuf, tauri::Error> {
    match std::env::var_os("TSUNAGI_DATA_DIR") {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => app.path().app_data_dir(),
    }
}

/// The window shows one app, not the web: WebKit need not keep pages and resources it
/// would for back and forward browsing (its "document viewer" cache model), which keeps
/// the web process's memory down over a day of chats.
///
/// (Drawing without OpenGL, `HardwareAccelerationPolicy::Never`, halved the time to switch
/// chats and took the web process from 250 to 146 MiB after an hour under Mesa's software
/// GL, but WebKitGTK 2.50 then lost clicks on the rows of the conversation's virtual list:
/// a click at a button's centre hit the list's scroller instead. Compositing stays on
/// until that is understood.)
fn lean_webview(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        let tuned = window.with_webview(|webview| {
            use webkit2gtk::{CacheModel, WebContextExt as _, WebViewExt as _};
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        });
        if let Err(error) = tuned {
            tracing::debug!(%error, "the webview's caches keep their defaults");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Starts the app. Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn run() {
    tsunagi_log::init("info");
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Tsunagi is starting");

    let result = tauri::Builder::default()
        // First, before any window: one app per desk, and a second launch brings this
        // window forward and exits.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(presence::instance_id())
                .callback(|app, _args, _cwd| presence::show_window(app))
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        // Opened from Rust only (`link_open`): the window gets no opener permission.
        .plugin(tauri_plugin_opener::init())
        // Likewise the save dialog (`media_save`).
        .plugin(tauri_plugin_dialog::init())
        // The window's size and place, as the operator left them.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_autostart::Builder::new().build())
        .setup(|app| {
            let data = data_dir(app)?;
            std::fs::create_dir_all(&data)?;
            tracing::info!(data = %data.display(), "opening the desk");
            app.manage(desk::Shell::new(data));
            app.manage(alerts::Alerts::default());
            if let Err(error) = presence::setup_tray(app.handle()) {
                tracing::warn!(%error, "no tray icon on this desktop");
            }
            lean_webview(app);
            // Opening the store and the keyring waits on disk and D-Bus: the window is up
            // meanwhile, and its first command waits for the desk.
            desk::Shell::open_at_launch(app.handle());
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, media::serve)
        .invoke_handler(ipc::handler())
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "Tsunagi stopped");
        std::process::exit(1);
    }
}
