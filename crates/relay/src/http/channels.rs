//! Channels: the relay owner's list, connecting one with LINE, replacing its secret, and
//! its monthly message quota.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{
    AddChannel, ChannelConnected, ChannelInfo, ErrorCode, MessageQuota, ReplaceSecret,
};

use super::auth::Authenticated;
use super::{ApiError, bad_request, parse_channel_id};
use crate::line_setup::{self, LineSetup, SetupError};
use crate::relay::Relay;
use crate::secret::ChannelSecret;
use crate::store::{LogStore, StoreError};

/// Channels: listed, connected with LINE, their secrets replaced, their message quota.
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route(
            "/v1/channels",
            get(list_channels::<S>).post(add_channel::<S>),
        )
        .route("/v1/channels/{channel_id}/secret", put(replace_secret::<S>))
        .route("/v1/channels/{channel_id}/quota", get(message_quota::<S>))
}

/// `GET /v1/channels/{id}/quota` (every device of the channel): what a reminder would cost
/// against the month's messages, asked of LINE.
async fn message_quota<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<MessageQuota>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let setup = line_setup(&relay)?;
    match line_setup::quota(&relay, &channel, setup).await {
        Ok(quota) => Ok(Json(quota)),
        Err(SetupError::Credentials(line)) => Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::LineUnavailable,
            format!("LINE did not tell the month's quota: {line}"),
        )),
        Err(other) => Err(other.into()),
    }
}

/// A LINE channel secret as an owner pasted it.
fn parse_channel_secret(secret: &str) -> Result<ChannelSecret, ApiError> {
    let secret = secret.trim();
    if secret.is_empty() || secret.len() > 256 || !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_request(
            "channel_secret must be the LINE channel's secret, as the LINE console shows it",
        ));
    }
    Ok(ChannelSecret::new(secret))
}

fn line_setup<S: LogStore>(relay: &Relay<S>) -> Result<&LineSetup, ApiError> {
    relay.line().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NotConfigured,
            "this relay was started without --public-url, so it cannot connect channels to LINE",
        )
    })
}

/// `GET /v1/channels`: the channels this device reaches.
async fn list_channels<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
) -> Result<Json<Vec<ChannelInfo>>, ApiError> {
    let channels = relay.store.channels().await?;
    Ok(Json(
        channels
            .into_iter()
            .filter(|channel| device.reaches(&channel.id))
            .map(|channel| ChannelInfo {
                channel_id: channel.id,
                head: channel.head,
                added_at: channel.created_at.0,
            })
            .collect(),
    ))
}

/// `POST /v1/channels` (owners of the whole relay): check the credentials with LINE, store
/// the channel, point its webhook here and have LINE test it. 201 with every step once the
/// channel is stored; nothing is stored when LINE refuses the credentials.
#[tracing::instrument(skip_all)]
async fn add_channel<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    body: Bytes,
) -> Result<(StatusCode, Json<ChannelConnected>), ApiError> {
    device.relay_owner()?;
    let request: AddChannel =
        serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))?;
    let channel = parse_channel_id(request.channel_id.as_str())?;
    let secret = parse_channel_secret(&request.channel_secret)?;
    if relay.secret(&channel).await?.is_some() {
        return Err(StoreError::ChannelExists(channel).into());
    }
    let setup = line_setup(&relay)?;
    let steps = line_setup::connect(&relay, &channel, secret, setup).await?;
    tracing::info!(%channel, ok = steps.iter().all(|s| s.ok), "channel connected");
    Ok((
        StatusCode::CREATED,
        Json(ChannelConnected {
            channel_id: channel,
            steps,
        }),
    ))
}

/// `PUT /v1/channels/{id}/secret` (the channel's owners): LINE issued a new secret. It
/// replaces the old one once LINE accepts it; the webhook is set and tested again.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn replace_secret<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    body: Bytes,
) -> Result<Json<ChannelConnected>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let request: ReplaceSecret =
        serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))?;
    let secret = parse_channel_secret(&request.channel_secret)?;
    if relay.secret(&channel).await?.is_none() {
        return Err(StoreError::UnknownChannel(channel).into());
    }
    let setup = line_setup(&relay)?;
    let steps = line_setup::reconnect(&relay, &channel, secret, setup).await?;
    tracing::info!(ok = steps.iter().all(|s| s.ok), "channel secret replaced");
    Ok(Json(ChannelConnected {
        channel_id: channel,
        steps,
    }))
}
