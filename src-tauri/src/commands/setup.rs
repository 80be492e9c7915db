//! Setting up this computer: what the app knows of itself, joining a relay with an invite
//! code, connecting the relay's first LINE channel, leaving, and the sync's state.

use tauri::{AppHandle, State};
use tsunagi_desk::profile::{JoinRequest, Profile};
use tsunagi_desk::sync::SyncStatus;
use tsunagi_desk::{profile, relay_url};

use crate::desk::Shell;
use crate::ipc::{
    AppInfo, ChannelConnectRequest, ChannelConnected, DeskJoinRequest, IpcError, KeyringStatus,
    ProfileView, RelayUrlCheckRequest, RelayUrlChecked, SetAsideView, SetupStepView,
};

use super::Answer;

#[tauri::command]
#[tracing::instrument(skip_all)]
pub(crate) async fn app_info(shell: State<'_, Shell>) -> Answer<AppInfo> {
    let joined = shell.joined().await;
    let set_aside = joined
        .as_ref()
        .ok()
        .and_then(|joined| joined.set_aside.as_ref())
        .map(SetAsideView::from);
    let profile = match joined {
        Ok(joined) => Some(ProfileView::from(&joined.profile)),
        // Joined, with no channel to follow yet: the owner's desk connects one.
        Err(_) => Profile::load(&shell.data)
            .ok()
            .flatten()
            .filter(|profile| profile.channel_id.is_none())
            .map(|profile| ProfileView::from(&profile)),
    };
    // A joined desk read its sign-in from the keyring just now; only a desk about to join
    // asks it whether it can keep one (off the async runtime: it may block on D-Bus).
    let keyring = match profile {
        Some(_) => Ok(()),
        None => {
            let vault = shell.vault.clone();
            tauri::async_runtime::spawn_blocking(move || vault.probe())
                .await
                .map_err(IpcError::internal)?
        }
    };
    let keyring = match keyring {
        Ok(()) => KeyringStatus::Available,
        Err(error) => KeyringStatus::Unavailable {
            reason: error.to_string(),
        },
    };
    Ok(AppInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
        keyring,
        profile,
        set_aside,
        removed_at: profile::removed(&shell.data).map(|removed| removed.at),
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "debug"))]
pub(crate) fn relay_url_check(request: RelayUrlCheckRequest) -> Answer<RelayUrlChecked> {
    let checked = relay_url::check(&request.url)?;
    Ok(RelayUrlChecked {
        relay_url: checked.as_str().to_owned(),
        webhook_url_template: checked.webhook_template(),
        encrypted: checked.encrypted,
    })
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn desk_join(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: DeskJoinRequest,
) -> Answer<ProfileView> {
    let device_name =
        computer_name().unwrap_or_else(|| format!("Tsunagi on {}", std::env::consts::OS));
    // A desk whose sign-in was lost (its profile is here, its token is not) joins afresh.
    if shell.joined().await.is_err() && Profile::load(&shell.data).ok().flatten().is_some() {
        profile::leave(&shell.data, &shell.vault)?;
    }
    let join = JoinRequest {
        relay: request.relay,
        code: request.code,
        operator_name: request.name,
        device_name,
        channel: None,
    };
    let (profile, _) = profile::join(&shell.data, &shell.vault, &join).await?;
    // (A relay owner's desk on a relay with no channel yet opens once it connects one.)
    shell.open(&app).await?;
    Ok(ProfileView::from(&profile))
}

/// The relay owner's desk connects the relay's first LINE channel, then opens on it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn channel_connect(
    app: AppHandle,
    shell: State<'_, Shell>,
    request: ChannelConnectRequest,
) -> Answer<ChannelConnected> {
    let (profile, steps) = profile::connect_channel(
        &shell.data,
        &shell.vault,
        &request.channel_id,
        &request.channel_secret,
    )
    .await?;
    shell.open(&app).await?;
    Ok(ChannelConnected {
        profile: ProfileView::from(&profile),
        steps: steps
            .into_iter()
            .map(|step| SetupStepView {
                name: step.name,
                ok: step.ok,
                detail: step.detail,
                problem: step.problem,
            })
            .collect(),
    })
}

/// This computer's name, for the owner's list of devices.
fn computer_name() -> Option<String> {
    let from_env = ["COMPUTERNAME", "HOSTNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok());
    let name = from_env.or_else(|| std::fs::read_to_string("/etc/hostname").ok())?;
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn desk_leave(shell: State<'_, Shell>) -> Answer<()> {
    shell.leave().await
}

#[tauri::command]
pub(crate) async fn desk_status(shell: State<'_, Shell>) -> Answer<SyncStatus> {
    let joined = shell.joined().await?;
    let status = joined.sync.status().borrow().clone();
    Ok(status)
}
