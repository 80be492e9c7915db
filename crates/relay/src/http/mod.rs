//! The relay's HTTP API: LINE's webhook in, the log out. One module per resource, each
//! with its routes: `webhook`, `log` (and its `stream`), `devices`, `channels`, `media`,
//! `health`; `auth` is who a request comes from.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{ErrorBody, ErrorCode};

use crate::line_setup::SetupError;
use crate::relay::Relay;
use crate::store::{LogStore, StoreError};

mod auth;
mod automations;
mod channels;
mod client;
mod devices;
mod health;
pub mod listen;
mod log;
mod media;
mod stream;
mod webhook;

pub use self::auth::Authenticated;
pub use self::client::{ClientAddress, Strikes, TrustedProxies};

/// Longest device or operator name.
const MAX_NAME: usize = 100;

/// LINE's webhook bodies are small; anything bigger is not from LINE.
pub const MAX_WEBHOOK_BODY: usize = 1024 * 1024;

pub const MAX_WAIT: Duration = Duration::from_secs(25);

/// How the HTTP API behaves; tests shorten the heartbeat.
#[derive(Debug, Clone)]
pub struct Options {
    /// How often an idle log stream sends a comment, so clients notice a dead one.
    pub heartbeat: Duration,
    /// How long sent data may wait unacknowledged (a reader that stopped reading) before
    /// the connection is dropped. Linux only (`TCP_USER_TIMEOUT`).
    pub stalled_reader: Duration,
    /// Failed attempts to prove who one is (a wrong enrollment code, a bad device token, a
    /// webhook for no channel or with a bad signature) per client address per minute;
    /// past them, the address waits. Successes never count.
    pub failures_per_minute: NonZeroU32,
    /// The reverse proxies whose `Forwarded` and `X-Forwarded-For` name the client.
    pub trusted_proxies: TrustedProxies,
    /// Log streams one device may hold open at once.
    pub streams_per_device: usize,
    /// Who may read `/metrics` here.
    pub metrics: MetricsAccess,
    /// How long a client has to send a request's headers, and how many connections are
    /// served at once.
    pub limits: listen::Limits,
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

/// Failed attempts to prove who one is, per address and minute, unless the operator says.
const FAILURES_PER_MINUTE: NonZeroU32 = match NonZeroU32::new(10) {
    Some(n) => n,
    None => panic!("at least one"),
};

impl Default for Options {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            stalled_reader: Duration::from_secs(30),
            failures_per_minute: FAILURES_PER_MINUTE,
            trusted_proxies: TrustedProxies::default(),
            streams_per_device: 4,
            metrics: MetricsAccess::Open,
            limits: listen::Limits::default(),
        }
    }
}

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
    let stalled = options.stalled_reader;
    let tap = move |tcp: &tokio::net::TcpStream| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "setting TCP_NODELAY");
        }
        #[cfg(target_os = "linux")]
        if let Err(error) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(stalled)) {
            tracing::warn!(%error, "setting TCP_USER_TIMEOUT; stalled readers stay connected");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = stalled;
    };
    let closing = relay.clone();
    let limits = options.limits;
    let proxies = options.trusted_proxies.clone();
    let app = router_with(relay, options);
    let close = move || closing.close();
    listen::serve(listener, app, limits, proxies, tap, shutdown, close).await;
    Ok(())
}

pub fn router<S: LogStore>(relay: Arc<Relay<S>>) -> Router {
    router_with(relay, Options::default())
}

/// `/metrics` alone, for an address of its own (a private interface the scraper reaches).
pub fn metrics_router<S: LogStore>(relay: Arc<Relay<S>>) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics::<S>))
        .layer(axum::Extension(MetricsAccess::Open))
        .with_state(relay)
}

pub fn router_with<S: LogStore>(relay: Arc<Relay<S>>, options: Options) -> Router {
    let mut router = Router::new();
    if options.metrics != MetricsAccess::Elsewhere {
        router = router.route("/metrics", get(health::metrics::<S>));
    }
    router
        .merge(health::routes())
        .merge(webhook::routes())
        .merge(log::routes())
        .merge(devices::routes())
        .merge(channels::routes())
        .merge(automations::routes())
        .merge(media::routes())
        .layer(axum::Extension(Strikes::new(options.failures_per_minute)))
        .layer(axum::Extension(options.trusted_proxies.clone()))
        .layer(axum::Extension(stream::StreamSlots::new(
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
    /// For a 429: when to come back (`Retry-After`).
    retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
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
                    crate::store::InviteProblem::Withdrawn => ErrorCode::WithdrawnCode,
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
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(seconds) = HeaderValue::from_str(&(wait.as_secs() + 1).to_string())
        {
            response.headers_mut().insert(RETRY_AFTER, seconds);
        }
        response
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
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
