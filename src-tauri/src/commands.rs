//! The window's commands: each takes one request, answers one response, and calls only
//! `tsunagi-desk`. Actions are queued in the desk's outbox and return at once; the log
//! settles them and the window hears of it through `desk-changed`.

pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod desktop;
pub(crate) mod media;
pub(crate) mod outreach;
pub(crate) mod reports;
pub(crate) mod settings;
pub(crate) mod setup;
pub(crate) mod team;

use tsunagi_proto::OpId;

use crate::ipc::{ErrorCode, IpcError};

type Answer<T> = Result<T, IpcError>;

fn op_id(text: &str) -> Answer<OpId> {
    text.parse()
        .map(OpId)
        .map_err(|_| IpcError::new(ErrorCode::InvalidInput, format!("{text:?} is not an op id")))
}

/// Asks where to save a file named `name` with the system's dialog, titled `title`; None
/// if the operator chose nowhere. The name offered is a safe one, whoever made it
/// ([`tsunagi_desk::media::safe_name`]: no path, nothing that hides or reorders its letters).
async fn save_as(
    window: &tauri::Window,
    title: String,
    name: String,
) -> Answer<Option<std::path::PathBuf>> {
    use tauri_plugin_dialog::DialogExt as _;
    let (chosen, choice) = tokio::sync::oneshot::channel();
    let dialog = window.dialog().file().set_parent(window).set_title(title);
    let dialog = match tsunagi_desk::media::safe_name(&name) {
        Some(name) => dialog.set_file_name(name),
        None => dialog,
    };
    dialog.save_file(move |path| {
        let _ = chosen.send(path);
    });
    let Some(path) = choice.await.ok().flatten() else {
        return Ok(None);
    };
    path.into_path()
        .map(Some)
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))
}

/// Writes `bytes` where the operator chooses in the save dialog; false if they chose
/// nowhere.
async fn save_file(
    window: &tauri::Window,
    title: String,
    name: String,
    bytes: Vec<u8>,
) -> Answer<bool> {
    let Some(path) = save_as(window, title, name).await? else {
        return Ok(false);
    };
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))?;
    Ok(true)
}
