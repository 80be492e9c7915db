//! The relay's HTTP API: LINE's webhook in, the log out.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tsunagi_line::signature::{SIGNATURE_HEADER, verify};
use tsunagi_line::webhook::RawCallback;
use tsunagi_line::{ChannelId, WebhookEventId};
use tsunagi_proto::Seq;
use tsunagi_proto::api::{ErrorBody, LogPage};

use crate::relay::{Relay, now};
use crate::store::{LogStore, NewBody, NewEntry, StoreError};

/// LINE's webhook bodies are small; anything bigger is not from LINE.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;
pub const MAX_WAIT: Duration = Duration::from_secs(25);
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

pub fn router<S: LogStore>(relay: Arc<Relay<S>>) -> Router {
    Router::new()
        .route(
            "/webhook/line/{channel_id}",
            post(ingest::<S>).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY)),
        )
        .route("/v1/channels/{channel_id}/log", get(read_log::<S>))
        .with_state(relay)
}

/// An error answer: 4xx say what was wrong, 5xx say little (the log has the rest).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::UnknownChannel(channel) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("there is no channel {channel}"),
            ),
            StoreError::ChannelExists(channel) => ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("channel {channel} exists already"),
            ),
            StoreError::Unavailable(_) | StoreError::Corrupt(_) => {
                tracing::error!(%error, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "storage is unavailable; try again",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// `POST /webhook/line/{channel_id}`: verify, then make every event durable, then 200.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn ingest<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<StatusCode, ApiError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, rejection.body_text())
    })?;
    let channel = ChannelId::new(channel_id);
    let secret = relay.secret(&channel).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("there is no channel {channel}"),
        )
    })?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    verify(secret.expose().as_bytes(), &body, signature).map_err(|error| {
        tracing::warn!(%error, "refused a webhook");
        ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", error.to_string())
    })?;
    let callback = RawCallback::parse(&body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?;
    if callback.events.is_empty() {
        return Ok(StatusCode::OK);
    }
    let at = now();
    let entries = callback
        .events
        .into_iter()
        .map(|event| NewEntry {
            at,
            body: NewBody::Line {
                destination: callback.destination.clone(),
                webhook_event_id: webhook_event_id(&event),
                event,
            },
        })
        .collect();
    let appended = relay.store.append(&channel, entries).await?;
    tracing::debug!(events = appended.len(), "webhook logged");
    Ok(StatusCode::OK)
}

/// The event's `webhookEventId`, if it has one.
fn webhook_event_id(event: &serde_json::value::RawValue) -> Option<WebhookEventId> {
    #[derive(Deserialize)]
    struct Id {
        #[serde(rename = "webhookEventId")]
        id: Option<WebhookEventId>,
    }
    let id = serde_json::from_str::<Id>(event.get())
        .ok()
        .and_then(|e| e.id);
    if id.is_none() {
        tracing::warn!("an event without a webhookEventId is logged but cannot be deduplicated");
    }
    id
}

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
    /// Seconds to wait for an entry after `after` when there is none yet.
    wait: Option<u64>,
}

/// `GET /v1/channels/{id}/log?after=N&limit=M[&wait=S]`.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn read_log<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(channel_id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let channel = ChannelId::new(channel_id);
    let limit = match query.limit {
        None => DEFAULT_PAGE,
        Some(limit @ 1..=MAX_PAGE) => limit,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("limit must be 1 to {MAX_PAGE}, not {other}"),
            ));
        }
    };
    let wait = match query.wait {
        None => Duration::ZERO,
        Some(seconds) if Duration::from_secs(seconds) <= MAX_WAIT => Duration::from_secs(seconds),
        Some(seconds) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!(
                    "wait must be at most {} seconds, not {seconds}",
                    MAX_WAIT.as_secs()
                ),
            ));
        }
    };
    let after = Seq(query.after);
    // Subscribe before reading, so a commit between the read and the wait is not missed.
    let mut head = relay.store.subscribe(&channel);
    let mut entries = relay.store.read(&channel, after, limit).await?;
    if entries.is_empty() && !wait.is_zero() {
        // Wait on the head alone: no database connection is held meanwhile.
        let newer = async { head.wait_for(|head| *head > after).await.is_ok() };
        if tokio::time::timeout(wait, newer).await.unwrap_or(false) {
            entries = relay.store.read(&channel, after, limit).await?;
        }
    }
    let head = relay.store.head(&channel).await?;
    Ok(Json(LogPage { entries, head }))
}
