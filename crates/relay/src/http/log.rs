//! A channel's log over HTTP: pages and long-polls, the stream (`stream`), and ops that
//! desks append.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use tsunagi_domain::validate;
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{Appended, ErrorCode, LogPage, Role};
use tsunagi_proto::{DeviceId, EntryBody, OpId, Operation, Seq, Setting};

use super::auth::Authenticated;
use super::{ApiError, MAX_WAIT, Options, bad_request};
use crate::relay::Relay;
use crate::store::{LogStore, NewBody, NewEntry, StoreError};

/// A channel's log: read (pages, long-polls and the stream) and appended to.
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route("/v1/channels/{channel_id}/log", get(read_log::<S>))
        .route("/v1/channels/{channel_id}/ops", post(append_op::<S>))
}

const DEFAULT_PAGE: u32 = 100;

const MAX_PAGE: u32 = 1_000;

#[derive(Debug, Deserialize)]
struct LogQuery {
    #[serde(default)]
    after: u64,
    limit: Option<u32>,
    /// Seconds to wait for an entry after `after` when there is none yet.
    wait: Option<u64>,
}

/// `GET /v1/channels/{id}/log?after=N&limit=M[&wait=S]`, or with
/// `Accept: text/event-stream` the log as SSE from `Last-Event-ID` or `after`.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn read_log<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    axum::Extension(options): axum::Extension<Options>,
    axum::Extension(slots): axum::Extension<super::stream::StreamSlots>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    Query(query): Query<LogQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let wants_stream = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if wants_stream {
        relay.store.head(&channel).await?;
        let resume = match headers.get("last-event-id") {
            None => query.after,
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| bad_request("Last-Event-ID must be a seq"))?,
        };
        let slot = slots.take(&device.0.id).ok_or_else(|| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::TooManyStreams,
                format!(
                    "this device already has {} log streams open: close one first",
                    options.streams_per_device
                ),
            )
        })?;
        return Ok(super::stream::response(
            relay.clone(),
            channel,
            (device.0.id.clone(), slot),
            Seq(resume),
            options.heartbeat,
        ));
    }
    let limit = match query.limit {
        None => DEFAULT_PAGE,
        Some(limit @ 1..=MAX_PAGE) => limit,
        Some(other) => {
            return Err(bad_request(format!(
                "limit must be 1 to {MAX_PAGE}, not {other}"
            )));
        }
    };
    let wait = match query.wait {
        None => Duration::ZERO,
        Some(seconds) if Duration::from_secs(seconds) <= MAX_WAIT => Duration::from_secs(seconds),
        Some(seconds) => {
            return Err(bad_request(format!(
                "wait must be at most {} seconds, not {seconds}",
                MAX_WAIT.as_secs()
            )));
        }
    };
    let after = Seq(query.after);
    // Subscribe before reading, so a commit between the read and the wait is not missed.
    let mut head = relay.store.subscribe(&channel);
    let mut entries = relay.store.read(&channel, after, limit).await?;
    if entries.is_empty() && !wait.is_zero() {
        // Wait on the head alone: no database connection is held meanwhile.
        let _waiting = relay.store.metrics().long_poll_waiting();
        let newer = async {
            tokio::select! {
                newer = head.wait_for(|head| *head > after) => newer.is_ok(),
                () = relay.closed() => false,
                () = relay.until_revoked(&device.0.id) => false,
            }
        };
        if tokio::time::timeout(wait, newer).await.unwrap_or(false) {
            entries = relay.store.read(&channel, after, limit).await?;
        }
    }
    // Checked after reading: what was read was logged before any revoke not seen here.
    if relay.is_revoked(&device.0.id).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "this device was revoked",
        ));
    }
    let head = relay.store.head(&channel).await?;
    Ok(Json(LogPage { entries, head }).into_response())
}

/// `POST /v1/channels/{id}/ops` with `Idempotency-Key: <uuid>` and `{"op": {…}}`.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn append_op<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Appended>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| bad_request("send an `Idempotency-Key: <uuid>` header"))?
        .to_str()
        .ok()
        .and_then(|v| uuid::Uuid::parse_str(v.trim()).ok())
        .ok_or_else(|| bad_request("the Idempotency-Key must be a UUID"))?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        op: Box<RawValue>,
    }
    let body: Body = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("the body must be {{\"op\": {{…}}}}: {e}")))?;
    // Checked against the operation types and rules; the op is logged as the device wrote
    // it.
    let op = serde_json::from_str::<Operation>(body.op.get())
        .map_err(|e| bad_request(format!("op: {e}")))?;
    if validate::author(&op) == validate::Author::Executor {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "only the relay logs what LINE, the AI endpoint and Telegram did (sent, \
             send_failed, profiles, ai_answered, telegram_sent) and which credentials it \
             keeps",
        ));
    }
    if validate::owner_only(&op) && device.0.role != Role::Owner {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::OwnerOnly,
            "only the channel's owners change settings, remind a tag or every follower, \
             or sync followers",
        ));
    }
    validate::operation(&op).map_err(|problems| bad_request(format!("op: {problems}")))?;
    // Where the relay will call with the clinic's key and its patients' words: said now,
    // to the owner saving it, and checked again on every call.
    if let Operation::Settings(Setting::Ai(ai)) = &op {
        relay
            .egress()
            .check_now(&ai.base_url)
            .await
            .map_err(|refused| bad_request(format!("op: the AI service's address: {refused}")))?;
    }
    // The executor's op ids and retry keys follow from their causes (UUID version 5); a
    // device's are random (version 4). Kept apart, no device can take an id the executor
    // will log its outcome under, nor a key it will push with.
    if key.get_version_num() != 4 {
        return Err(bad_request(
            "the Idempotency-Key must be a random UUID (version 4)",
        ));
    }
    if let Operation::Send(send) = &op
        && send.retry_key.0.get_version_num() != 4
    {
        return Err(bad_request(
            "a send's retry_key must be a random UUID (version 4)",
        ));
    }
    let entry = NewEntry {
        at: relay.now(),
        body: NewBody::Op {
            op_id: OpId(key),
            device: device.0.id.clone(),
            role: Some(device.0.role),
            op: body.op,
        },
    };
    let appended = relay.store.append(&channel, vec![entry]).await?;
    let appended = appended
        .first()
        .copied()
        .ok_or_else(|| ApiError::from(StoreError::Corrupt("an append returned nothing".into())))?;
    if let crate::store::Appended::Existing(seq) = appended {
        same_as_logged(&relay, &channel, seq, &device.0.id, &op).await?;
    }
    // The log holds no more of the patient: now their files go. (Should this fail, the
    // erase stands, and the files are deleted when the relay starts again.)
    if let Operation::Erase { .. } = &op
        && let Err(error) = crate::erased::delete_erased_files(&relay, &channel).await
    {
        tracing::warn!(%error, "deleting an erased patient's files; tried again at the next start");
    }
    Ok(Json(Appended {
        seq: appended.seq(),
    }))
}

/// A retry with an Idempotency-Key already logged is answered with the first one's seq
/// only if it is the same op from the same device; a key reused for another op is a
/// conflict, never silently taken for the first.
async fn same_as_logged<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    seq: Seq,
    device: &DeviceId,
    op: &Operation,
) -> Result<(), ApiError> {
    let logged = relay
        .store
        .read(channel, Seq(seq.0.saturating_sub(1)), 1)
        .await?
        .into_iter()
        .next();
    let same = logged.is_some_and(|logged| match logged.body {
        EntryBody::Op {
            device: logged_device,
            op: logged_op,
            ..
        } => logged_device == *device && logged_op.known() == Some(op),
        EntryBody::Line { .. } => false,
    });
    if same {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "this Idempotency-Key was used for another op: send a new key for a new op",
        ))
    }
}
