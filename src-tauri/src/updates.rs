//! Updates. The app looks for a newer release at its update address (built in by the
//! release, or set on this computer; off while there is none), shows what is new, and
//! downloads it when asked. The updater plugin checks the download's signature against
//! the public key built into the app, and that the signature was made for the version the
//! address announced; only then is it kept, and installed when the operator restarts into
//! it. Anything else is refused with the reason, and nothing is installed.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter as _, Manager as _};
use tauri_plugin_store::StoreExt as _;
use tauri_plugin_updater::UpdaterExt as _;
use tsunagi_desk::relay_url;

use crate::ipc::{
    EVENT_UPDATE_AVAILABLE, EVENT_UPDATE_PROGRESS, ErrorCode, IpcError, UpdateOffer,
    UpdateProgress, UpdateSettings, UpdateSettingsRequest,
};

/// Where this computer's update settings are kept (the store plugin's file).
const FILE: &str = "updates.json";
const KEY_ADDRESS: &str = "address";
const KEY_POSTPONED: &str = "postponed";

/// The update address the release built in (`TSUNAGI_UPDATE_URL` when it was compiled).
const BUILT_IN_ADDRESS: Option<&str> = option_env!("TSUNAGI_UPDATE_URL");

/// How long "Later" keeps a version from being offered again.
const POSTPONE_FOR: Duration = Duration::from_secs(24 * 3600);
/// The first look after launch, and how often after it.
const FIRST_LOOK_AFTER: Duration = Duration::from_secs(60);
const LOOK_EVERY: Duration = Duration::from_secs(6 * 3600);

/// The update found by the last check, and its bytes once downloaded and verified.
#[derive(Default)]
pub(crate) struct Updates {
    found: Mutex<Option<Found>>,
}

struct Found {
    update: tauri_plugin_updater::Update,
    verified: Option<Vec<u8>>,
}

/// A version "Later" was said to, until when (ms since the epoch).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Postponed {
    version: String,
    until: i64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The public key updates must be signed with: the one built into the app. A debug build
/// (the tests') may be given another in `TSUNAGI_UPDATER_PUBKEY`; a release build never.
fn public_key(app: &AppHandle) -> Option<String> {
    #[cfg(debug_assertions)]
    if let Ok(key) = std::env::var("TSUNAGI_UPDATER_PUBKEY") {
        return Some(key);
    }
    app.config()
        .plugins
        .0
        .get("updater")
        .and_then(|updater| updater.get("pubkey"))
        .and_then(|key| key.as_str())
        .filter(|key| !key.trim().is_empty())
        .map(str::to_owned)
}

/// Whether this copy can install an update: one a package installed. The bundler marks
/// the binary it packs with its kind; on Linux the packages put it under /usr (an AppImage
/// says where it is in `APPIMAGE`), so a marked binary left in a build folder, as a
/// developer runs it, is not taken for an installed one (the update would overwrite it).
fn installable() -> bool {
    if tauri::utils::platform::bundle_type().is_none() {
        return false;
    }
    if cfg!(target_os = "linux") && std::env::var_os("APPIMAGE").is_none() {
        return std::env::current_exe().is_ok_and(|exe| exe.starts_with("/usr/"));
    }
    true
}

fn saved_address(app: &AppHandle) -> Option<String> {
    let store = app.store(FILE).ok()?;
    store
        .get(KEY_ADDRESS)
        .and_then(|value| value.as_str().map(str::to_owned))
        .filter(|address| !address.is_empty())
}

/// The address in use: this computer's, else the built-in one.
fn address(app: &AppHandle) -> Option<String> {
    saved_address(app).or_else(|| BUILT_IN_ADDRESS.map(str::to_owned))
}

fn postponed(app: &AppHandle) -> Option<Postponed> {
    let store = app.store(FILE).ok()?;
    let postponed: Postponed = serde_json::from_value(store.get(KEY_POSTPONED)?).ok()?;
    (postponed.until > now_ms()).then_some(postponed)
}

pub(crate) fn settings(app: &AppHandle) -> UpdateSettings {
    UpdateSettings {
        current_version: app.package_info().version.to_string(),
        address: saved_address(app),
        built_in_address: BUILT_IN_ADDRESS.map(str::to_owned),
        can_verify: public_key(app).is_some(),
        installable: installable(),
        postponed: postponed(app).map(|p| p.version),
    }
}

/// Sets (or with an empty one, clears) this computer's update address.
pub(crate) fn set_address(
    app: &AppHandle,
    request: &UpdateSettingsRequest,
) -> Result<UpdateSettings, IpcError> {
    let store = app.store(FILE).map_err(IpcError::internal)?;
    match request.address.as_deref().map(str::trim) {
        None | Some("") => {
            store.delete(KEY_ADDRESS);
        }
        Some(address) => {
            let checked = relay_url::check(address).map_err(|problem| {
                IpcError::new(ErrorCode::UpdateAddressInvalid, problem.to_string())
            })?;
            store.set(KEY_ADDRESS, checked.as_str());
        }
    }
    store.save().map_err(IpcError::internal)?;
    *found(app) = None;
    Ok(settings(app))
}

fn found(app: &AppHandle) -> std::sync::MutexGuard<'_, Option<Found>> {
    app.state::<Updates>()
        .inner()
        .found
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The plugin's error, as the window words it. Whatever it is, nothing was installed.
fn refused(error: tauri_plugin_updater::Error) -> IpcError {
    use tauri_plugin_updater::Error;
    let code = match &error {
        Error::Minisign(_)
        | Error::Base64(_)
        | Error::SignatureUtf8(_)
        | Error::SignedVersionMismatch { .. }
        | Error::MissingSignedVersion => ErrorCode::UpdateSignatureRefused,
        Error::Reqwest(_) | Error::Network(_) | Error::Io(_) => ErrorCode::UpdateUnreachable,
        Error::ReleaseNotFound
        | Error::Serialization(_)
        | Error::Semver(_)
        | Error::UrlParse(_)
        | Error::TargetNotFound(_)
        | Error::TargetsNotFound(_)
        | Error::InsecureTransportProtocol => ErrorCode::UpdateManifestInvalid,
        Error::InvalidUpdaterFormat
        | Error::AuthenticationFailed
        | Error::DebInstallFailed
        | Error::PackageInstallFailed
        | Error::BinaryNotFoundInArchive => ErrorCode::UpdateInstallFailed,
        _ => ErrorCode::UpdateInstallFailed,
    };
    tracing::warn!(%error, ?code, "update refused");
    IpcError::new(code, error.to_string())
}

/// Asks the update address whether there is a newer version. Nothing is downloaded.
pub(crate) async fn check(app: &AppHandle) -> Result<Option<UpdateOffer>, IpcError> {
    let Some(address) = address(app) else {
        return Err(IpcError::new(
            ErrorCode::UpdateOff,
            "no update address is set on this computer",
        ));
    };
    let Some(key) = public_key(app) else {
        return Err(IpcError::new(
            ErrorCode::UpdateUnverifiable,
            "this build has no key to check updates with",
        ));
    };
    let endpoint = url::Url::parse(&address).map_err(IpcError::internal)?;
    let updater = app
        .updater_builder()
        .pubkey(key)
        .endpoints(vec![endpoint])
        .map_err(refused)?
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(refused)?;
    let update = updater.check().await.map_err(refused)?;
    let offer = update.as_ref().map(offer);
    *found(app) = update.map(|update| Found {
        update,
        verified: None,
    });
    Ok(offer)
}

fn offer(update: &tauri_plugin_updater::Update) -> UpdateOffer {
    UpdateOffer {
        version: update.version.clone(),
        notes: update.body.clone().filter(|notes| !notes.trim().is_empty()),
        published: update
            .date
            .map(|date| (date.unix_timestamp_nanos() / 1_000_000) as f64),
    }
}

/// Downloads the update the last check found, and has the plugin verify it. Kept for
/// [`install`] only when it passed.
pub(crate) async fn download(app: &AppHandle) -> Result<UpdateOffer, IpcError> {
    let update = found(app)
        .as_ref()
        .map(|found| found.update.clone())
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no update was found to download"))?;
    let events = app.clone();
    let mut received: u64 = 0;
    let bytes = update
        .download(
            |chunk, total| {
                received += chunk as u64;
                let _ = events.emit(
                    EVENT_UPDATE_PROGRESS,
                    UpdateProgress {
                        received: received as f64,
                        total: total.map(|t| t as f64),
                    },
                );
            },
            || {},
        )
        .await
        .map_err(refused)?;
    tracing::info!(version = %update.version, bytes = bytes.len(), "the update is downloaded and its signature checked");
    let offer = offer(&update);
    *found(app) = Some(Found {
        update,
        verified: Some(bytes),
    });
    Ok(offer)
}

/// Installs the verified update and restarts into it.
pub(crate) fn install(app: &AppHandle) -> Result<(), IpcError> {
    if !installable() {
        return Err(IpcError::new(
            ErrorCode::UpdateNotInstallable,
            "this copy of Tsunagi was not installed from a package",
        ));
    }
    let taken = found(app).take();
    let Some(Found {
        update,
        verified: Some(bytes),
    }) = taken
    else {
        return Err(IpcError::new(
            ErrorCode::NotFound,
            "no verified update is waiting to be installed",
        ));
    };
    if let Err(error) = update.install(&bytes) {
        // Still verified: the operator may try again.
        *found(app) = Some(Found {
            update,
            verified: Some(bytes),
        });
        return Err(refused(error));
    }
    tracing::info!(version = %update.version, "the update is installed; restarting");
    app.restart()
}

/// "Later": the offered version is not offered again for a day.
pub(crate) fn postpone(app: &AppHandle) -> Result<(), IpcError> {
    let version = found(app)
        .as_ref()
        .map(|found| found.update.version.clone())
        .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "no update was offered"))?;
    let store = app.store(FILE).map_err(IpcError::internal)?;
    let postponed = Postponed {
        version,
        until: now_ms() + POSTPONE_FOR.as_millis() as i64,
    };
    store.set(
        KEY_POSTPONED,
        serde_json::to_value(postponed).map_err(IpcError::internal)?,
    );
    store.save().map_err(IpcError::internal)
}

/// Looks for an update a minute after launch and every few hours, while an address and a
/// key are set, and tells the window of one not postponed.
pub(crate) fn look_in_background(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_LOOK_AFTER).await;
        loop {
            if address(&app).is_some() && public_key(&app).is_some() {
                match check(&app).await {
                    Ok(Some(offer))
                        if postponed(&app).is_none_or(|p| p.version != offer.version) =>
                    {
                        let _ = app.emit(EVENT_UPDATE_AVAILABLE, offer);
                    }
                    Ok(_) => {}
                    Err(error) => tracing::info!(%error, "no update could be looked for"),
                }
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
    });
}
