//! The app's one window, as the rest of the app asks for it: a second launch, the tray's
//! "Open", a clicked alert and a `tsunagi://` link all bring it forward. Its own module so
//! that the tray, the alerts and the links each use it without using one another.

use tauri::{AppHandle, Manager as _};

/// Brings the window forward: a second launch, the tray's "Open", a clicked alert.
pub(crate) fn show(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
