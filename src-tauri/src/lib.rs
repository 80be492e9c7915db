//! Tsunagi's desktop app: a thin Tauri shell. Everything that is not drawing lives in the
//! `crates/` (no Tauri there); this crate wires `tsunagi-desk` to the window, the keyring,
//! notifications and the store plugin.

mod alerts;
pub mod bindings;
mod commands;
mod desk;
pub mod ipc;
mod links;
mod media;
mod origin;
mod presence;
mod updates;
mod window;

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
/// On a machine with no GPU to draw with (no DRM render node: a virtual machine, a remote
/// desktop, a thin client), WebKit would composite through Mesa's software OpenGL, which is
/// slower than painting without it and holds its buffers besides: there the window paints
/// without OpenGL. At 100,000 chats under software GL that took switching chats from p95
/// 84 to 31 ms, the start to a usable inbox from 1.2 to 0.7 s, and the app's memory after
/// an hour from 388 to 295 MiB PSS (`cargo xtask bench`).
/// The window tests run this way (CI has no GPU), clicks on the history's virtual rows
/// included. The blank window the bench measures the app against (`examples/blank.rs`)
/// sets the same, so that both stand on the same WebKit.
pub fn lean_webview(app: &tauri::App) {
    #[cfg(target_os = "linux")]
    if let Some(window) = app.get_webview_window("main") {
        let software = !has_render_node(std::path::Path::new("/dev/dri"));
        let tuned = window.with_webview(move |webview| {
            use webkit2gtk::{
                CacheModel, HardwareAccelerationPolicy, SettingsExt as _, WebContextExt as _,
                WebViewExt as _,
            };
            let view = webview.inner();
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
            if software && let Some(settings) = view.settings() {
                settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            }
        });
        match tuned {
            Ok(()) if software => tracing::info!("no GPU: the window paints without OpenGL"),
            Ok(()) => {}
            Err(error) => tracing::debug!(%error, "the webview keeps its defaults"),
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = app;
}

/// Whether `dri` holds a DRM render node (`renderD128`, …): a GPU OpenGL can draw with.
#[cfg(target_os = "linux")]
fn has_render_node(dri: &std::path::Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// The desktop's plugins the app is built with (after its single-instance guard): the blank
/// window `cargo xtask bench` measures the app against takes the same.
pub fn with_desktop_plugins(builder: tauri::Builder<tauri::Wry>) -> tauri::Builder<tauri::Wry> {
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        // Opened from Rust only (`link_open`): the window gets no opener permission.
        .plugin(tauri_plugin_opener::init())
        // Likewise the save dialog (`media_save`).
        .plugin(tauri_plugin_dialog::init())
        // The window's size and place, as the operator left them.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_autostart::Builder::new().build())
        // Used from Rust only (`updates`): the window gets no updater permission.
        .plugin(tauri_plugin_updater::Builder::new().build())
}

/// Starts the app. Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn run() {
    tsunagi_log::init("info");
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Tsunagi is starting");

    let builder = tauri::Builder::default()
        // First, before any window: one app per desk, and a second launch brings this
        // window forward and exits.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(presence::instance_id())
                .callback(|app, args, _cwd| {
                    window::show(app);
                    links::open(app, &args);
                })
                .build(),
        )
        // The window never leaves the app's page (for a patient's file, a link, the web).
        .plugin(origin::guard());
    let result = with_desktop_plugins(builder)
        .setup(|app| {
            let data = data_dir(app)?;
            // For this computer's user alone (0700 on Unix), as all the desk keeps in it.
            tsunagi_desk::private::create_dir_all(&data)?;
            tracing::info!(data = %data.display(), "opening the desk");
            app.manage(desk::Shell::new(data));
            app.manage(alerts::Alerts::default());
            app.manage(updates::Updates::default());
            app.manage(links::AtStart::from_args(std::env::args()));
            updates::look_in_background(app.handle());
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
        .invoke_handler(bindings::handler())
        .run(tauri::generate_context!());
    if let Err(error) = result {
        tracing::error!(%error, "Tsunagi stopped");
        std::process::exit(1);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::has_render_node;

    #[test]
    fn only_a_render_node_counts_as_a_gpu_to_draw_with() {
        let dri = tempfile::tempdir().expect("a temp dir");
        assert!(!has_render_node(&dri.path().join("missing")));
        assert!(!has_render_node(dri.path()));
        // A display controller alone (card0) is no GPU that renders.
        std::fs::write(dri.path().join("card0"), b"").expect("card0");
        assert!(!has_render_node(dri.path()));
        std::fs::write(dri.path().join("renderD128"), b"").expect("renderD128");
        assert!(has_render_node(dri.path()));
    }
}
