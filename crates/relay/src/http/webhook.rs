//! LINE's webhooks: verified against the channel's secret, logged durably, then 200.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde::Deserialize;
use serde_json::value::RawValue;
use tsunagi_line::signature::{SIGNATURE_HEADER, verify};
use tsunagi_line::webhook::RawCallback;
use tsunagi_line::{ChannelId, MessageId, WebhookEventId};
use tsunagi_proto::api::ErrorCode;

use super::{ApiError, MAX_WEBHOOK_BODY};
use crate::relay::Relay;
use crate::store::{LogStore, MessageLink, NewBody, NewEntry};

/// `POST /webhook/line/{channel_id}`: LINE's signed webhooks.
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new().route(
        "/webhook/line/{channel_id}",
        post(ingest::<S>).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY)),
    )
}

/// `POST /webhook/line/{channel_id}`: verify, then make every event durable, then 200.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn ingest<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let arrived = std::time::Instant::now();
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::TooLarge
        } else {
            ErrorCode::BadRequest
        };
        ApiError::new(status, code, rejection.body_text())
    })?;
    let channel = ChannelId::new(channel_id);
    // Not judged by address: every LINE channel's webhooks come from LINE's servers, and a
    // sender making up channel ids costs a read of the channel list once a second at most.
    let secret = relay.webhook_secret(&channel).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("there is no channel {channel}"),
        )
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    verify(secret.expose().as_bytes(), &body, signature).map_err(|error| {
        tracing::warn!(%error, "refused a webhook");
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadSignature,
            error.to_string(),
        )
    })?;
    let callback = RawCallback::parse(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            e.to_string(),
        )
    })?;
    if callback.events.is_empty() {
        return Ok(StatusCode::OK);
    }
    let at = relay.now();
    let entries = callback
        .events
        .into_iter()
        .map(|event| {
            let (webhook_event_id, link) = event_keys(&event);
            NewEntry {
                at,
                body: NewBody::Line {
                    destination: callback.destination.clone(),
                    webhook_event_id,
                    event,
                    link,
                },
            }
        })
        .collect();
    let appended = relay.store.append(&channel, entries).await?;
    let new = appended
        .iter()
        .filter(|a| matches!(a, crate::store::Appended::New(_)))
        .count();
    relay.store.metrics().ingested(new, arrived.elapsed());
    tracing::debug!(events = appended.len(), new, "webhook logged");
    Ok(StatusCode::OK)
}

/// The event's `webhookEventId` (to deduplicate) and the message it carries or unsends
/// (to redact unsent messages). Read leniently: an event of a type we do not know, with
/// fields of shapes we do not expect, still keeps its id.
fn event_keys(event: &RawValue) -> (Option<WebhookEventId>, MessageLink) {
    #[derive(Deserialize)]
    struct Keys {
        #[serde(rename = "webhookEventId")]
        id: Option<serde_json::Value>,
        #[serde(rename = "type")]
        kind: Option<serde_json::Value>,
        message: Option<serde_json::Value>,
        unsend: Option<serde_json::Value>,
    }
    let Ok(keys) = serde_json::from_str::<Keys>(event.get()) else {
        tracing::warn!("an event that is not an object is logged but cannot be deduplicated");
        return (None, MessageLink::None);
    };
    let id = keys
        .id
        .as_ref()
        .and_then(|id| id.as_str())
        .map(WebhookEventId::from);
    if id.is_none() {
        tracing::warn!("an event without a webhookEventId is logged but cannot be deduplicated");
    }
    let text = |value: Option<&serde_json::Value>, field: &str| {
        value
            .and_then(|v| v.get(field))
            .and_then(|v| v.as_str())
            .map(MessageId::from)
    };
    let link = match keys.kind.as_ref().and_then(|k| k.as_str()) {
        Some("message" | "messageEdited") => {
            text(keys.message.as_ref(), "id").map_or(MessageLink::None, MessageLink::Carries)
        }
        Some("unsend") => {
            text(keys.unsend.as_ref(), "messageId").map_or(MessageLink::None, MessageLink::Unsends)
        }
        _ => MessageLink::None,
    };
    (id, link)
}
