//! Tsunagi in the OS beyond its window: a tray icon with the number waiting and a menu
//! (open, pause alerts, quit), the taskbar or dock badge, one app per desk (a second launch
//! brings the first window forward), and starting at login.

use std::path::PathBuf;

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager as _};

use crate::alerts;
use crate::ipc::{IpcError, PresenceRequest, TrayWords};

const TRAY: &str = "tsunagi";

/// The D-Bus name (Linux) that makes a desk's app single: one per data directory
/// (`TSUNAGI_DATA_DIR`, else the user's data home), so that the demo's second desk and a
/// test's second window, each with a directory of its own, both run.
pub(crate) fn instance_id() -> String {
    use std::hash::{Hash as _, Hasher as _};
    let data: Option<PathBuf> = std::env::var_os("TSUNAGI_DATA_DIR")
        .or_else(|| std::env::var_os("XDG_DATA_HOME"))
        .or_else(|| std::env::var_os("HOME"))
        .map(PathBuf::from);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut hasher);
    format!("app.tsunagi.desk.d{:016x}", hasher.finish())
}

/// The tray icon, in English until the window sends the operator's words.
pub(crate) fn setup_tray(app: &AppHandle) -> tauri::Result<()> {
    let words = TrayWords {
        open: "Open Tsunagi".into(),
        pause_30: "Pause alerts for 30 minutes".into(),
        pause_60: "Pause alerts for 1 hour".into(),
        resume: "Resume alerts".into(),
        quit: "Quit".into(),
        waiting: "Tsunagi".into(),
    };
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .menu(&menu(app, &words)?)
        .tooltip(&words.waiting)
        .on_menu_event(|app, event| chosen(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

fn menu(app: &AppHandle, words: &TrayWords) -> tauri::Result<Menu<tauri::Wry>> {
    Menu::with_items(
        app,
        &[
            &MenuItem::with_id(app, "open", &words.open, true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "pause-30", &words.pause_30, true, None::<&str>)?,
            &MenuItem::with_id(app, "pause-60", &words.pause_60, true, None::<&str>)?,
            &MenuItem::with_id(app, "resume", &words.resume, true, None::<&str>)?,
            &PredefinedMenuItem::separator(app)?,
            &MenuItem::with_id(app, "quit", &words.quit, true, None::<&str>)?,
        ],
    )
}

/// What the tray's menu item `id` does.
pub(crate) fn chosen(app: &AppHandle, id: &str) {
    match id {
        "open" => crate::window::show(app),
        "pause-30" => drop(alerts::pause(app, Some(30))),
        "pause-60" => drop(alerts::pause(app, Some(60))),
        "resume" => drop(alerts::pause(app, None)),
        "quit" => app.exit(0),
        _ => {}
    }
}

/// The number waiting on the tray and the badge, and the tray's menu in the operator's
/// words (the window sends them whenever either changes).
pub(crate) fn update(app: &AppHandle, request: &PresenceRequest) -> Result<(), IpcError> {
    if let Some(tray) = app.tray_by_id(TRAY) {
        tray.set_menu(Some(menu(app, &request.words).map_err(IpcError::internal)?))
            .map_err(IpcError::internal)?;
        tray.set_tooltip(Some(&request.words.waiting))
            .map_err(IpcError::internal)?;
        let count = (request.waiting > 0).then(|| request.waiting.to_string());
        // (A label beside the icon where the OS shows one.)
        let _ = tray.set_title(count.as_deref());
    }
    if let Some(window) = app.get_webview_window("main") {
        let badge = (request.waiting > 0).then_some(i64::from(request.waiting));
        // Not every desktop has a badge (GNOME without a dock extension): nothing to do.
        if let Err(error) = window.set_badge_count(badge) {
            tracing::debug!(%error, "no badge on this desktop");
        }
    }
    Ok(())
}
