//! The clinic's devices and invite codes, for its owners.

use tauri::State;

use crate::desk::Shell;
use crate::ipc::{
    ErrorCode, IpcError, TeamCode, TeamDevice, TeamInvite, TeamInviteRequest, TeamRevokeRequest,
    TeamWithdrawRequest,
};

use super::Answer;

/// The clinic's devices (owners): who joined from which computer, and who was shut out.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_list(shell: State<'_, Shell>) -> Answer<Vec<TeamDevice>> {
    let joined = shell.joined().await?;
    let devices = joined.sync.client().devices(joined.sync.channel()).await?;
    Ok(devices
        .into_iter()
        .map(|device| TeamDevice {
            me: device.device_id == joined.profile.device_id,
            device_id: device.device_id.to_string(),
            operator: device.operator_name,
            device_name: device.device_name,
            role: device.role,
            joined_at: device.created_at,
            revoked_at: device.revoked_at,
            last_seen_at: device.last_seen_at,
        })
        .collect())
}

/// A one-time code for one more desk (owners), valid for a day.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_invite(
    shell: State<'_, Shell>,
    request: TeamInviteRequest,
) -> Answer<TeamInvite> {
    let joined = shell.joined().await?;
    let invited = joined
        .sync
        .client()
        .invite(joined.sync.channel(), request.role)
        .await?;
    Ok(TeamInvite {
        id: invited.id,
        code: invited.code,
        role: request.role,
        expires_at: invited.expires_at,
    })
}

/// The codes handed out that still work (owners): what role each gives, who asked for
/// it, until when.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_codes(shell: State<'_, Shell>) -> Answer<Vec<TeamCode>> {
    let joined = shell.joined().await?;
    let codes = joined.sync.client().invites(joined.sync.channel()).await?;
    Ok(codes
        .into_iter()
        .map(|code| TeamCode {
            id: code.id,
            role: code.role,
            created_by: code.created_by.map(|d| d.to_string()),
            created_at: code.created_at,
            expires_at: code.expires_at,
        })
        .collect())
}

/// Withdraws a code handed out (owners): no desk can join with it any more.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_withdraw(
    shell: State<'_, Shell>,
    request: TeamWithdrawRequest,
) -> Answer<()> {
    let joined = shell.joined().await?;
    joined
        .sync
        .client()
        .withdraw_invite(joined.sync.channel(), &request.id)
        .await?;
    Ok(())
}

/// Shuts a device out (owners): its token stops working at once, and it leaves the
/// operators one can transfer a chat to.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn team_revoke(shell: State<'_, Shell>, request: TeamRevokeRequest) -> Answer<()> {
    let joined = shell.joined().await?;
    let device = tsunagi_proto::DeviceId::new(request.device_id);
    if device == joined.profile.device_id {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "this desk cannot revoke itself: leave the relay instead",
        ));
    }
    joined.sync.client().revoke(&device).await?;
    joined.sync.refresh_operators().await?;
    Ok(())
}
