//! Devices: enrolling with a one-time code, invites, the channel's devices and operators,
//! revoking.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{
    CreateInvite, DeviceInfo, Enroll, ErrorCode, InviteInfo, Invited, OperatorInfo,
};
use tsunagi_proto::{DeviceId, OperatorId};

use super::auth::Authenticated;
use super::client::{ClientAddress, Strikes};
use super::{ApiError, MAX_NAME, bad_request};
use crate::relay::Relay;
use crate::store::{Device, LogStore, StoreError};

/// Enrollment, invites, and a channel's devices and operators.
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route("/v1/enroll", post(enroll::<S>))
        .route(
            "/v1/channels/{channel_id}/invites",
            post(create_invite::<S>).get(list_invites::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/invites/{invite_id}",
            delete(withdraw_invite::<S>),
        )
        .route("/v1/channels/{channel_id}/devices", get(list_devices::<S>))
        .route(
            "/v1/channels/{channel_id}/operators",
            get(list_operators::<S>),
        )
        .route("/v1/devices/{device_id}/revoke", post(revoke_device::<S>))
}

/// `POST /v1/enroll`: a one-time code for a device token.
#[tracing::instrument(skip_all)]
async fn enroll<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    axum::Extension(strikes): axum::Extension<Arc<Strikes>>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Only codes that fail count: a guesser waits, and a valid code from elsewhere (or
    // from here, before the guessing) gets in.
    strikes.check(address)?;
    let request: Enroll = serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))?;
    for (field, value) in [
        ("device_name", &request.device_name),
        ("operator_name", &request.operator_name),
    ] {
        let length = value.trim().chars().count();
        if length == 0 || length > MAX_NAME {
            return Err(bad_request(format!(
                "{field} must be 1 to {MAX_NAME} characters"
            )));
        }
    }
    match relay.enroll(&request).await {
        Ok(enrolled) => Ok(Json(enrolled).into_response()),
        Err(error @ StoreError::Invite(_)) => {
            strikes.failed(address);
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /v1/channels/{id}/invites` (owners).
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn create_invite<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    body: Bytes,
) -> Result<Json<Invited>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let request: CreateInvite =
        serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))?;
    Ok(Json(
        relay
            .invite(&channel, request.role, Some(&device.0.id))
            .await?,
    ))
}

/// `GET /v1/channels/{id}/invites` (owners): the codes handed out that still work.
async fn list_invites<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<Vec<InviteInfo>>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let invites = relay.store.invites(&channel, relay.now()).await?;
    Ok(Json(
        invites
            .into_iter()
            .map(|invite| InviteInfo {
                id: invite.id,
                role: invite.role,
                created_by: invite.created_by,
                created_at: invite.created_at.0,
                expires_at: invite.expires_at.0,
            })
            .collect(),
    ))
}

/// `DELETE /v1/channels/{id}/invites/{invite_id}` (owners): the code stops working.
#[tracing::instrument(skip_all, fields(channel = %channel_id, invite = %invite_id))]
async fn withdraw_invite<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, invite_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    if !relay
        .store
        .withdraw_invite(&channel, &invite_id, relay.now())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "there is no such code, or it was used or withdrawn already",
        ));
    }
    tracing::info!("invite withdrawn");
    Ok(StatusCode::NO_CONTENT)
}

fn device_info(device: Device) -> DeviceInfo {
    DeviceInfo {
        device_id: device.id,
        channel_id: device.channel,
        device_name: device.device_name,
        operator_name: device.operator_name,
        role: device.role,
        created_at: device.created_at.0,
        revoked_at: device.revoked_at.map(|at| at.0),
        last_seen_at: device.last_seen_at.map(|at| at.0),
    }
}

/// `GET /v1/channels/{id}/devices` (owners).
async fn list_devices<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<Vec<DeviceInfo>>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let devices = relay.store.devices(&channel).await?;
    Ok(Json(devices.into_iter().map(device_info).collect()))
}

/// `GET /v1/channels/{id}/operators` (every device of the channel): who works there, by
/// name, so desks can show who holds a chat and whom to transfer it to.
async fn list_operators<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<Vec<OperatorInfo>>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let devices = relay.store.devices(&channel).await?;
    Ok(Json(
        devices
            .into_iter()
            .map(|device| OperatorInfo {
                operator: OperatorId::from(&device.id),
                name: device.operator_name,
                role: device.role,
                active: device.revoked_at.is_none(),
            })
            .collect(),
    ))
}

/// `POST /v1/devices/{id}/revoke` (owners of that device's channel).
#[tracing::instrument(skip_all, fields(device = %device_id))]
async fn revoke_device<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    owner: Authenticated,
    Path(device_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = DeviceId::new(device_id);
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "there is no such device",
        )
    };
    let target = relay.store.device(&id).await?.ok_or_else(not_found)?;
    match &target.channel {
        Some(channel) => owner.owner_of(channel)?,
        None => owner.relay_owner()?,
    }
    relay.revoke_device(&id, relay.now()).await?;
    tracing::info!("device revoked");
    Ok(StatusCode::NO_CONTENT)
}
