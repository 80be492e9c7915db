//! The relay's HTTP API: LINE's webhook in, the log out.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use tsunagi_line::signature::{SIGNATURE_HEADER, verify};
use tsunagi_line::webhook::RawCallback;
use tsunagi_line::{ChannelId, MessageId, WebhookEventId};
use tsunagi_proto::api::{
    AddChannel, Appended, ChannelConnected, ChannelInfo, CreateInvite, DeviceInfo, Enroll,
    ErrorBody, ErrorCode, Invited, LogPage, MessageQuota, OperatorInfo, ReplaceSecret, Role,
    Uploaded,
};
use tsunagi_proto::{DeviceId, EntryBody, OpId, Operation, OperatorId, Seq};

use tsunagi_domain::validate;

use crate::auth::Authenticated;
use crate::line_setup::{self, LineSetup, SetupError};
use crate::media::{Part, Stored};
use crate::relay::{Relay, now};
use crate::secret::ChannelSecret;
use crate::store::{Device, LogStore, MessageLink, NewBody, NewEntry, StoreError};

/// Longest device or operator name.
const MAX_NAME: usize = 100;

/// LINE's webhook bodies are small; anything bigger is not from LINE.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;
pub const MAX_WAIT: Duration = Duration::from_secs(25);
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

/// How the HTTP API behaves; tests shorten the heartbeat.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often an idle log stream sends a comment, so clients notice a dead one.
    pub heartbeat: Duration,
    /// How long sent data may wait unacknowledged (a reader that stopped reading) before
    /// the connection is dropped. Linux only (`TCP_USER_TIMEOUT`).
    pub stalled_reader: Duration,
    /// Enrollment attempts per client address per minute (each may guess a code).
    pub enrolls_per_minute: NonZeroU32,
    /// Log streams one device may hold open at once.
    pub streams_per_device: usize,
    /// Who may read `/metrics` here.
    pub metrics: MetricsAccess,
}

/// Who may read the relay's metrics on its main address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Anyone who reaches the address (behind a firewall that keeps the world out).
    #[default]
    Open,
    /// Only with `Authorization: Bearer <token>`.
    Token(String),
    /// Not here: served on an address of their own ([`metrics_router`]).
    Elsewhere,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            stalled_reader: Duration::from_secs(30),
            enrolls_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            streams_per_device: 4,
            metrics: MetricsAccess::Open,
        }
    }
}

/// Enrollment attempts so far, per client address.
type EnrollLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;
/// Addresses the enrollment limiter remembers before it forgets those back to a full
/// budget.
const ENROLL_ADDRESSES_KEPT: usize = 10_000;

/// Serves the relay on `listener` until `shutdown` resolves, then closes streams and
/// long-polls and waits for requests in flight.
///
/// A reader that stops reading is disconnected after `options.stalled_reader`: the stream
/// is pulled, so it never makes the relay buffer a backlog, and the kernel drops the
/// connection once its data goes unacknowledged that long.
pub async fn serve<S: LogStore>(
    listener: tokio::net::TcpListener,
    relay: Arc<Relay<S>>,
    options: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let stalled = options.stalled_reader;
    let listener = listener.tap_io(move |tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "setting TCP_NODELAY");
        }
        #[cfg(target_os = "linux")]
        if let Err(error) = socket2::SockRef::from(&*tcp).set_tcp_user_timeout(Some(stalled)) {
            tracing::warn!(%error, "setting TCP_USER_TIMEOUT; stalled readers stay connected");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = stalled;
    });
    let closing = relay.clone();
    let app = router_with(relay, options).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.close();
        })
        .await
}

pub fn router<S: LogStore>(relay: Arc<Relay<S>>) -> Router {
    router_with(relay, Options::default())
}

/// `/metrics` alone, for an address of its own (a private interface the scraper reaches).
pub fn metrics_router<S: LogStore>(relay: Arc<Relay<S>>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::<S>))
        .layer(axum::Extension(MetricsAccess::Open))
        .with_state(relay)
}

pub fn router_with<S: LogStore>(relay: Arc<Relay<S>>, options: Options) -> Router {
    let mut router = Router::new();
    if options.metrics != MetricsAccess::Elsewhere {
        router = router.route("/metrics", get(metrics::<S>));
    }
    router
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready::<S>))
        .route(
            "/v1/channels",
            get(list_channels::<S>).post(add_channel::<S>),
        )
        .route("/v1/channels/{channel_id}/secret", put(replace_secret::<S>))
        .route("/v1/channels/{channel_id}/log", get(read_log::<S>))
        .route(
            "/webhook/line/{channel_id}",
            post(ingest::<S>).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BODY)),
        )
        .route("/v1/channels/{channel_id}/ops", post(append_op::<S>))
        .route(
            "/v1/channels/{channel_id}/invites",
            post(create_invite::<S>),
        )
        .route("/v1/channels/{channel_id}/devices", get(list_devices::<S>))
        .route("/v1/channels/{channel_id}/quota", get(message_quota::<S>))
        .route(
            "/v1/channels/{channel_id}/operators",
            get(list_operators::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/media/{message_id}",
            get(media_content::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/media/{message_id}/preview",
            get(media_preview::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/uploads",
            post(create_upload::<S>).layer(DefaultBodyLimit::max(crate::upload::MAX_IMAGE + 1)),
        )
        .route("/public/uploads/{name}", get(public_upload::<S>))
        .route(
            "/public/uploads/{name}/preview",
            get(public_upload_preview::<S>),
        )
        .route("/v1/devices/{device_id}/revoke", post(revoke_device::<S>))
        .route("/v1/enroll", post(enroll::<S>))
        .layer(axum::Extension(Arc::new(EnrollLimiter::keyed(
            governor::Quota::per_minute(options.enrolls_per_minute),
        ))))
        .layer(axum::Extension(crate::stream::StreamSlots::new(
            options.streams_per_device,
        )))
        .layer(axum::Extension(options.metrics.clone()))
        .layer(axum::Extension(options))
        .with_state(relay)
}

/// An error answer: 4xx say what was wrong, 5xx say little (the log has the rest).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
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
                ErrorCode::NotFound,
                format!("there is no channel {channel}"),
            ),
            StoreError::ChannelExists(channel) => ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                format!("channel {channel} exists already"),
            ),
            StoreError::Invite(problem) => ApiError::new(
                StatusCode::BAD_REQUEST,
                // Desks tell their users which: a typo, a code someone used, or one too old.
                match problem {
                    crate::store::InviteProblem::Unknown => ErrorCode::InvalidCode,
                    crate::store::InviteProblem::Used => ErrorCode::UsedCode,
                    crate::store::InviteProblem::Expired => ErrorCode::ExpiredCode,
                },
                format!("this enrollment code {problem}"),
            ),
            StoreError::Unavailable(_) | StoreError::Corrupt(_) | StoreError::LeaseLost(_) => {
                tracing::error!(%error, "storage failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "storage is unavailable; try again",
                )
            }
        }
    }
}

impl From<SetupError> for ApiError {
    fn from(error: SetupError) -> Self {
        match error {
            SetupError::Store(error) => error.into(),
            SetupError::Credentials(line) => {
                if line.class() != tsunagi_line::client::Class::Retriable {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::LineRefused,
                        format!("LINE refused the channel's credentials: {line}"),
                    )
                } else {
                    ApiError::new(
                        StatusCode::BAD_GATEWAY,
                        ErrorCode::LineUnavailable,
                        format!("LINE could not check the channel now; nothing was stored: {line}"),
                    )
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
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
    let secret = relay.secret(&channel).await?.ok_or_else(|| {
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
    let at = now();
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
    axum::Extension(slots): axum::Extension<crate::stream::StreamSlots>,
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
        return Ok(crate::stream::response(
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

/// Prometheus' text format.
async fn metrics<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    axum::Extension(access): axum::Extension<MetricsAccess>,
    headers: HeaderMap,
) -> Response {
    if let MetricsAccess::Token(token) = &access {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into();
        if !matches {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "the metrics need `Authorization: Bearer <metrics token>`",
            )
            .into_response();
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        relay.store.metrics().encode(),
    )
        .into_response()
}

/// Ready when the store answers.
async fn ready<S: LogStore>(State(relay): State<Arc<Relay<S>>>) -> Result<&'static str, ApiError> {
    relay.store.ready().await?;
    Ok("ready")
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
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
            "only the relay's executor logs what LINE did (sent, send_failed, profiles)",
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
    validate::operation(&op)
        .map_err(|problems| bad_request(format!("op: {}", problems.join("; "))))?;
    let entry = NewEntry {
        at: now(),
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

/// `POST /v1/enroll`: a one-time code for a device token.
#[tracing::instrument(skip_all)]
async fn enroll<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    axum::Extension(limiter): axum::Extension<Arc<EnrollLimiter>>,
    client: Option<axum::Extension<axum::extract::ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // Served without addresses (in-process tests), every attempt shares one budget.
    let address = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    // Addresses whose budget is whole again are forgotten, so that many of them cannot
    // grow the table without end.
    if limiter.len() > ENROLL_ADDRESSES_KEPT {
        limiter.retain_recent();
    }
    if let Err(not_until) = limiter.check_key(&address) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many enrollment attempts from this address: wait a minute",
        )
        .into_response();
        if let Ok(seconds) = HeaderValue::from_str(&(wait.as_secs() + 1).to_string()) {
            response.headers_mut().insert(RETRY_AFTER, seconds);
        }
        return Ok(response);
    }
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
    Ok(Json(relay.enroll(&request).await?).into_response())
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
    Ok(Json(relay.invite(&channel, request.role).await?))
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

/// `GET /v1/channels/{id}/media/{message}` (the channel's devices): what the user sent.
async fn media_content<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    media(
        &relay,
        &device,
        (channel_id, message_id),
        Part::Content,
        headers,
    )
    .await
}

/// `POST /v1/channels/{id}/uploads`: an image an operator will send. The relay keeps it and
/// a thumbnail, and answers the public addresses LINE fetches them from.
async fn create_upload<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let unavailable = |why: &str| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NoUploads,
            why.to_owned(),
        )
    };
    let public = relay
        .line()
        .map(|line| line.public_url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            unavailable("this relay has no public address for LINE to fetch images from")
        })?;
    let uploads = relay
        .media()
        .map(crate::media::MediaStore::uploads)
        .ok_or_else(|| unavailable("this relay keeps no media"))?;
    let kept = uploads.save(body).await.map_err(|error| match error {
        crate::upload::UploadError::Io(e) => {
            StoreError::Unavailable(format!("keeping an upload: {e}")).into()
        }
        refused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadImage,
            refused.to_string(),
        ),
    })?;
    Ok((
        StatusCode::CREATED,
        Json(Uploaded {
            original_content_url: format!("{public}/public/uploads/{}", kept.name),
            preview_image_url: format!("{public}/public/uploads/{}/preview", kept.name),
        }),
    ))
}

/// `GET /public/uploads/{name}`: an uploaded image, for LINE (no authentication: the name
/// is the secret).
async fn public_upload<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    upload(&relay, &name, false).await
}

async fn public_upload_preview<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    upload(&relay, &name, true).await
}

async fn upload<S: LogStore>(
    relay: &Relay<S>,
    name: &str,
    preview: bool,
) -> Result<Response, ApiError> {
    let missing = || ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such upload");
    let uploads = relay
        .media()
        .map(crate::media::MediaStore::uploads)
        .ok_or_else(missing)?;
    let (content_type, bytes) = uploads
        .open(name, preview)
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading an upload: {e}")))?
        .ok_or_else(missing)?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (
                axum::http::header::CACHE_CONTROL,
                "public, max-age=31536000, immutable",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /v1/channels/{id}/media/{message}/preview`: LINE's thumbnail of an image or video.
async fn media_preview<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    media(
        &relay,
        &device,
        (channel_id, message_id),
        Part::Preview,
        headers,
    )
    .await
}

/// A message's media as the relay keeps it: ranges for seeking in video and audio, its own
/// content type (never sniffed), cached for good (it never changes).
async fn media<S: LogStore>(
    relay: &Relay<S>,
    device: &Authenticated,
    (channel_id, message_id): (String, String),
    part: Part,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use tower::ServiceExt as _;

    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoMedia,
            "the relay has no media for this message (yet)",
        )
    };
    let store = relay.media().ok_or_else(missing)?;
    let stored = store
        .open(&channel, &MessageId::new(message_id), part)
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading media: {e}")))?;
    let (content_type, path) = match stored {
        Stored::Ready { content_type, path } => (content_type, path),
        Stored::Gone => {
            return Err(ApiError::new(
                StatusCode::GONE,
                ErrorCode::Unsent,
                "the user unsent this message before its media was kept",
            ));
        }
        Stored::Missing => return Err(missing()),
    };
    let mut request = axum::http::Request::new(axum::body::Body::empty());
    for name in [axum::http::header::RANGE, axum::http::header::IF_RANGE] {
        if let Some(value) = headers.get(&name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    let served = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading media: {e}")))?;
    let mut response = served.map(axum::body::Body::new);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    headers.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
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
    relay.revoke_device(&id, now()).await?;
    tracing::info!("device revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// A LINE channel id as an owner typed it: digits.
fn parse_channel_id(id: &str) -> Result<ChannelId, ApiError> {
    let id = id.trim();
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_request(
            "channel_id must be the LINE channel's id: digits, as the LINE console shows it",
        ));
    }
    Ok(ChannelId::from(id))
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
