//! Tsunagi in the OS beyond its window: a tray icon with the number waiting and a menu
//! (open, pause alerts, quit), the taskbar or dock badge, one app per desk (a second launch
//! brings the first window forward), and starting at login.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager as _, Wry};

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

/// The tray's menu items, kept so that new words relabel them in place: a menu replaced
/// while the operator has it open would close under their pointer, and its items would
/// change identity on the desktop's side.
struct TrayMenu {
    open: MenuItem<Wry>,
    pause_30: MenuItem<Wry>,
    pause_60: MenuItem<Wry>,
    resume: MenuItem<Wry>,
    quit: MenuItem<Wry>,
    words: Mutex<TrayWords>,
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
    let item = |id: &str, text: &str| MenuItem::with_id(app, id, text, true, None::<&str>);
    let items = TrayMenu {
        open: item("open", &words.open)?,
        pause_30: item("pause-30", &words.pause_30)?,
        pause_60: item("pause-60", &words.pause_60)?,
        resume: item("resume", &words.resume)?,
        quit: item("quit", &words.quit)?,
        words: Mutex::new(words.clone()),
    };
    let menu = Menu::with_items(
        app,
        &[
            &items.open,
            &PredefinedMenuItem::separator(app)?,
            &items.pause_30,
            &items.pause_60,
            &items.resume,
            &PredefinedMenuItem::separator(app)?,
            &items.quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .menu(&menu)
        .tooltip(&words.waiting)
        .on_menu_event(|app, event| chosen(app, event.id().as_ref()));
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(items);
    Ok(())
}

impl TrayMenu {
    /// Relabels the items whose words changed; `true` when any did.
    fn speak(&self, words: &TrayWords) -> tauri::Result<bool> {
        let mut said = self.words.lock().unwrap_or_else(PoisonError::into_inner);
        if *said == *words {
            return Ok(false);
        }
        for (item, old, new) in [
            (&self.open, &said.open, &words.open),
            (&self.pause_30, &said.pause_30, &words.pause_30),
            (&self.pause_60, &said.pause_60, &words.pause_60),
            (&self.resume, &said.resume, &words.resume),
            (&self.quit, &said.quit, &words.quit),
        ] {
            if old != new {
                item.set_text(new)?;
            }
        }
        *said = words.clone();
        Ok(true)
    }
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
        let menu = app.state::<TrayMenu>();
        if menu.speak(&request.words).map_err(IpcError::internal)? {
            tray.set_tooltip(Some(&request.words.waiting))
                .map_err(IpcError::internal)?;
        }
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
