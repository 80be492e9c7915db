//! The app in the OS: the link it started with, alerts and their pause, the tray and badge,
//! starting at login, updates, and the window's lock.

use tauri::{AppHandle, Manager as _, State};
use tsunagi_desk::alerts::Preferences;
use tsunagi_desk::lock::{LockState, Opened, ScreenLock};
use tsunagi_proto::UnixMillis;

use crate::desk::Shell;
use crate::ipc::{
    AlertShowRequest, AlertsPaused, ErrorCode, IpcError, LockPinRequest, PresenceRequest,
    UpdateOffer, UpdateSettings, UpdateSettingsRequest,
};
use crate::{alerts, presence, updates};

use super::Answer;

/// Whether this desk has a PIN for the window's lock, and whether a try must wait.
#[tauri::command]
pub(crate) fn lock_state(shell: State<'_, Shell>) -> Answer<LockState> {
    Ok(ScreenLock::new(&shell.data).state(UnixMillis::now())?)
}

/// Sets this desk's PIN for the window's lock (4 to 12 digits).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn lock_set_pin(
    shell: State<'_, Shell>,
    request: LockPinRequest,
) -> Answer<LockState> {
    let lock = ScreenLock::new(&shell.data);
    // Hashing takes a moment on purpose: off the app's threads.
    tokio::task::spawn_blocking(move || {
        lock.set_pin(&request.pin)?;
        lock.state(UnixMillis::now())
    })
    .await
    .map_err(IpcError::internal)?
    .map_err(IpcError::from)
}

/// Opens the window's lock with a PIN, unless wrong PINs before it make this try wait.
#[tauri::command]
pub(crate) async fn lock_open(shell: State<'_, Shell>, request: LockPinRequest) -> Answer<Opened> {
    let lock = ScreenLock::new(&shell.data);
    tokio::task::spawn_blocking(move || lock.open(&request.pin, UnixMillis::now()))
        .await
        .map_err(IpcError::internal)?
        .map_err(IpcError::from)
}

/// The chat a `tsunagi://` link asked for when the app started, once.
#[tauri::command]
pub(crate) fn link_at_start(at_start: State<'_, crate::links::AtStart>) -> Answer<Option<String>> {
    Ok(at_start.take())
}

#[tauri::command]
pub(crate) fn alert_preferences(app: AppHandle) -> Answer<Preferences> {
    Ok(alerts::preferences(&app))
}

#[tauri::command]
pub(crate) fn alert_preferences_set(app: AppHandle, request: Preferences) -> Answer<()> {
    let problems = request.problems();
    if !problems.is_empty() {
        return Err(IpcError::new(
            ErrorCode::SettingsInvalid,
            problems.join("; "),
        ));
    }
    alerts::save_preferences(&app, &request)
}

#[tauri::command]
pub(crate) fn alert_show(app: AppHandle, request: AlertShowRequest) -> Answer<()> {
    alerts::notify(&app, request)
}

#[tauri::command]
pub(crate) fn alert_test(app: AppHandle) -> Answer<()> {
    alerts::emit(&app, &alerts::test_notice(&app));
    Ok(())
}

#[tauri::command]
pub(crate) fn alert_paused(app: AppHandle) -> Answer<AlertsPaused> {
    Ok(app.state::<alerts::Alerts>().pause_state())
}

/// Pauses alerts for `request` minutes, or resumes them (`null`).
#[tauri::command]
pub(crate) fn alert_pause(app: AppHandle, request: Option<u32>) -> Answer<AlertsPaused> {
    Ok(alerts::pause(&app, request))
}

#[tauri::command]
pub(crate) fn presence_update(app: AppHandle, request: PresenceRequest) -> Answer<()> {
    presence::update(&app, &request)
}

#[tauri::command]
pub(crate) fn autostart_get(app: AppHandle) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt as _;
    app.autolaunch().is_enabled().map_err(IpcError::internal)
}

#[tauri::command]
pub(crate) fn autostart_set(app: AppHandle, request: bool) -> Answer<()> {
    use tauri_plugin_autostart::ManagerExt as _;
    let autolaunch = app.autolaunch();
    if request {
        autolaunch.enable()
    } else {
        autolaunch.disable()
    }
    .map_err(IpcError::internal)
}

#[tauri::command]
pub(crate) fn update_settings(app: AppHandle) -> Answer<UpdateSettings> {
    Ok(updates::settings(&app))
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn update_settings_set(
    app: AppHandle,
    request: UpdateSettingsRequest,
) -> Answer<UpdateSettings> {
    updates::set_address(&app, &request)
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn update_check(app: AppHandle) -> Answer<Option<UpdateOffer>> {
    updates::check(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) async fn update_download(app: AppHandle) -> Answer<UpdateOffer> {
    updates::download(&app).await
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn update_install(app: AppHandle) -> Answer<()> {
    updates::install(&app)
}

#[tauri::command]
pub(crate) fn update_postpone(app: AppHandle) -> Answer<()> {
    updates::postpone(&app)
}
