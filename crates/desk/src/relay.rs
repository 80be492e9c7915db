//! The relay's HTTP API as a desk uses it: enroll, read the log (SSE or long-poll), append
//! operations.
//!
//! A log stream that goes quiet is dead: the relay sends a heartbeat every 15 seconds, so a
//! stream from which no byte arrives for [`DEAD_AFTER`] is given up, whatever TCP believes.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::Eventsource as _;
use futures_util::{Stream, StreamExt as _, TryStreamExt as _};
use tokio::time::Instant;
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::api::{
    AddChannel, ChannelConnected, ChannelInfo, CreateInvite, DeviceInfo, Enroll, Enrolled,
    ErrorBody, ErrorCode, LogPage, MessageQuota, OperatorInfo,
};
use tsunagi_proto::api::{
    CredentialKept, Invited, Role, SetCredential, TelegramTest, TelegramTested,
};
use tsunagi_proto::{Credential, DeviceId, Entry, OpId, Operation, Seq};
use url::Url;

/// Three missed heartbeats.
pub const DEAD_AFTER: Duration = Duration::from_secs(45);
/// Longest a long-poll waits on the relay (its limit).
pub const LONG_POLL: Duration = Duration::from_secs(25);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// A device's bearer token. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl DeviceToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceToken(…)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The relay answered with an error; its code and message say why.
    #[error("the relay refused ({status}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    #[error("could not reach the relay: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the relay's answer could not be read: {0}")]
    Unreadable(String),
    /// Nothing, not even a heartbeat, arrived on the log stream for this long.
    #[error("the log stream went silent for {0:?}")]
    DeadStream(Duration),
}

impl Error {
    /// Whether trying again later can help: the relay was unreachable, overloaded or the
    /// stream died. A refusal (bad token, forbidden, bad request) will not change by itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Refused { status, .. } => *status >= 500 || *status == 429,
            Error::Unreachable(_) | Error::DeadStream(_) | Error::Unreadable(_) => true,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A relay, as one enrolled device reaches it.
#[derive(Debug, Clone)]
pub struct RelayClient {
    http: reqwest::Client,
    base: Url,
    token: DeviceToken,
}

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .build()
        .map_err(Error::Unreachable)
}

fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!("{}{path}", base.path().trim_end_matches('/'));
    url.set_path(&joined);
    url
}

/// Turns an error answer into [`Error::Refused`] with the relay's code and message.
async fn checked(response: reqwest::Response) -> Result<reqwest::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str::<ErrorBody>(&text).unwrap_or_else(|_| ErrorBody {
        code: ErrorCode::Unknown,
        message: if text.is_empty() {
            status.to_string()
        } else {
            text
        },
    });
    Err(Error::Refused {
        status: status.as_u16(),
        code: body.code,
        message: body.message,
    })
}

/// A file the relay answered with: its content type (`default` when it names none) and bytes.
async fn file(response: reqwest::Response, default: &str) -> Result<(String, Vec<u8>)> {
    let response = checked(response).await?;
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(default)
        .to_owned();
    let bytes = response.bytes().await.map_err(Error::Unreachable)?;
    Ok((content_type, bytes.to_vec()))
}

async fn json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let bytes = checked(response)
        .await?
        .bytes()
        .await
        .map_err(Error::Unreachable)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Unreadable(e.to_string()))
}

impl RelayClient {
    pub fn new(base: Url, token: DeviceToken) -> Result<Self> {
        Ok(Self {
            http: http_client()?,
            base,
            token,
        })
    }

    /// Uses a one-time code to enroll this device.
    pub async fn enroll(base: &Url, request: &Enroll) -> Result<Enrolled> {
        let response = http_client()?
            .post(endpoint(base, "/v1/enroll"))
            .timeout(REQUEST_TIMEOUT)
            .json(request)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        json(response).await
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Sends `request` as this device and reads the JSON answer.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T> {
        let response = request
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        json(response).await
    }

    /// The channels this device reaches.
    pub async fn channels(&self) -> Result<Vec<ChannelInfo>> {
        self.call(self.http.get(endpoint(&self.base, "/v1/channels")))
            .await
    }

    /// Connects a LINE channel to the relay (its owner's device): the relay checks the
    /// credentials with LINE, stores them, points the webhook at itself and has LINE test it.
    pub async fn add_channel(&self, request: &AddChannel) -> Result<ChannelConnected> {
        self.call(
            self.http
                .post(endpoint(&self.base, "/v1/channels"))
                .json(request),
        )
        .await
    }

    /// A one-time code that enrolls a device of `channel` with `role` (owners).
    pub async fn invite(&self, channel: &ChannelId, role: Role) -> Result<Invited> {
        let path = format!("/v1/channels/{channel}/invites");
        self.call(
            self.http
                .post(endpoint(&self.base, &path))
                .json(&CreateInvite { role }),
        )
        .await
    }

    /// Every device of `channel`, revoked ones too (owners).
    pub async fn devices(&self, channel: &ChannelId) -> Result<Vec<DeviceInfo>> {
        let path = format!("/v1/channels/{channel}/devices");
        self.call(self.http.get(endpoint(&self.base, &path))).await
    }

    /// Revokes a device: its token stops working at once (owners).
    pub async fn revoke(&self, device: &DeviceId) -> Result<()> {
        let path = format!("/v1/devices/{device}/revoke");
        let response = self
            .http
            .post(endpoint(&self.base, &path))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        checked(response).await.map(drop)
    }

    /// The month's message quota and what was used of it, as LINE tells the relay.
    pub async fn quota(&self, channel: &ChannelId) -> Result<MessageQuota> {
        let path = format!("/v1/channels/{channel}/quota");
        self.call(self.http.get(endpoint(&self.base, &path))).await
    }

    /// Gives the relay a credential to keep sealed (`Some`), or has it forget it (owners).
    pub async fn set_credential(
        &self,
        channel: &ChannelId,
        credential: Credential,
        value: Option<&str>,
    ) -> Result<CredentialKept> {
        let path = format!("/v1/channels/{channel}/credentials/{}", credential.name());
        let url = endpoint(&self.base, &path);
        let request = match value {
            Some(value) => self.http.put(url).json(&SetCredential {
                value: value.to_owned(),
            }),
            None => self.http.delete(url),
        };
        self.call(request).await
    }

    /// Has the relay send a test message to each of `chats` with the bot it keeps (owners).
    pub async fn test_telegram(
        &self,
        channel: &ChannelId,
        request: &TelegramTest,
    ) -> Result<TelegramTested> {
        let path = format!("/v1/channels/{channel}/telegram/test");
        self.call(self.http.post(endpoint(&self.base, &path)).json(request))
            .await
    }

    /// The channel's operators by name.
    pub async fn operators(&self, channel: &ChannelId) -> Result<Vec<OperatorInfo>> {
        let path = format!("/v1/channels/{channel}/operators");
        self.call(self.http.get(endpoint(&self.base, &path))).await
    }

    /// What a user sent (or its thumbnail, with `preview`), as the relay keeps it: its
    /// content type and bytes.
    pub async fn media(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        preview: bool,
    ) -> Result<(String, Vec<u8>)> {
        let suffix = if preview { "/preview" } else { "" };
        let path = format!("/v1/channels/{channel}/media/{message}{suffix}");
        let response = self
            .http
            .get(endpoint(&self.base, &path))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        file(response, "application/octet-stream").await
    }

    /// Up to `limit` entries after `after`; with `wait`, holds until there is one or the
    /// wait is over (long-poll).
    pub async fn log_page(
        &self,
        channel: &ChannelId,
        after: Seq,
        limit: u32,
        wait: Option<Duration>,
    ) -> Result<LogPage> {
        let mut url = endpoint(&self.base, &format!("/v1/channels/{channel}/log"));
        url.query_pairs_mut()
            .append_pair("after", &after.0.to_string())
            .append_pair("limit", &limit.to_string());
        if let Some(wait) = wait {
            url.query_pairs_mut()
                .append_pair("wait", &wait.as_secs().min(LONG_POLL.as_secs()).to_string());
        }
        self.call(self.http.get(url)).await
    }

    /// The log after `after` as Server-Sent Events: what is stored, then live. A stream
    /// from which nothing arrives for `dead_after` ends with [`Error::DeadStream`].
    pub async fn stream(
        &self,
        channel: &ChannelId,
        after: Seq,
        dead_after: Duration,
    ) -> Result<LogStream> {
        let mut url = endpoint(&self.base, &format!("/v1/channels/{channel}/log"));
        url.query_pairs_mut()
            .append_pair("after", &after.0.to_string());
        let request = self
            .http
            .get(url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send();
        // Even the answer's headers must come within the dead time.
        let response = tokio::time::timeout(dead_after, request)
            .await
            .map_err(|_| Error::DeadStream(dead_after))?
            .map_err(Error::Unreachable)?;
        let response = checked(response).await?;
        let opened = Instant::now();
        let activity = Arc::new(Mutex::new(opened));
        let seen = activity.clone();
        // Every chunk counts as life, heartbeat comments included (the SSE parser does
        // not hand those on).
        let bytes = response.bytes_stream().inspect_ok(move |_| {
            *seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        });
        Ok(LogStream {
            events: Box::pin(bytes.eventsource()),
            activity,
            dead_after,
            opened,
            after,
        })
    }

    /// Hands the relay an image to send (JPEG or PNG): where LINE will fetch it and its
    /// thumbnail.
    pub async fn upload(
        &self,
        channel: &ChannelId,
        bytes: Vec<u8>,
    ) -> Result<tsunagi_proto::api::Uploaded> {
        let request = self
            .http
            .post(endpoint(
                &self.base,
                &format!("/v1/channels/{channel}/uploads"),
            ))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.call(request).await
    }

    /// An image this channel's operators uploaded (or its thumbnail), by the name the relay
    /// gave it: its content type and bytes.
    pub async fn uploaded(&self, name: &str, preview: bool) -> Result<(String, Vec<u8>)> {
        if name.len() != 32 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Unreadable(format!(
                "{name:?} is not an upload's name"
            )));
        }
        let suffix = if preview { "/preview" } else { "" };
        let response = self
            .http
            .get(endpoint(
                &self.base,
                &format!("/public/uploads/{name}{suffix}"),
            ))
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        file(response, "image/jpeg").await
    }

    /// Appends an operation under its idempotency key; the same key again returns the
    /// seq it got the first time.
    pub async fn append(&self, channel: &ChannelId, key: OpId, op: &Operation) -> Result<Seq> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            op: &'a Operation,
        }
        let request = self
            .http
            .post(endpoint(&self.base, &format!("/v1/channels/{channel}/ops")))
            .header("idempotency-key", key.to_string())
            .json(&Body { op });
        let appended: tsunagi_proto::api::Appended = self.call(request).await?;
        Ok(appended.seq)
    }
}

type Events = Pin<
    Box<
        dyn Stream<
                Item = Result<
                    eventsource_stream::Event,
                    eventsource_stream::EventStreamError<reqwest::Error>,
                >,
            > + Send,
    >,
>;

/// A channel's log as it arrives.
pub struct LogStream {
    events: Events,
    /// When the last bytes arrived.
    activity: Arc<Mutex<Instant>>,
    dead_after: Duration,
    opened: Instant,
    /// The seq of the last entry handed out.
    after: Seq,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("after", &self.after)
            .field("dead_after", &self.dead_after)
            .finish_non_exhaustive()
    }
}

impl LogStream {
    /// Whether anything (an entry or a heartbeat) came through yet. A stream that dies
    /// without ever having been heard from is likely cut by a proxy that buffers it.
    pub fn heard_from(&self) -> bool {
        *self
            .activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            > self.opened
    }

    /// The next entry; `None` when the relay ended the stream (it is shutting down).
    /// Entries come in order, each exactly once: anything else is an error.
    pub async fn next(&mut self) -> Result<Option<Entry>> {
        loop {
            let last = *self
                .activity
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let deadline = last + self.dead_after;
            let event = match tokio::time::timeout_at(deadline, self.events.next()).await {
                Ok(Some(Ok(event))) => event,
                Ok(Some(Err(error))) => return Err(stream_error(error)),
                Ok(None) => return Ok(None),
                Err(_) => {
                    // Heartbeats (which the parser swallows) may have arrived meanwhile.
                    let newest = *self
                        .activity
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if newest > last {
                        continue;
                    }
                    return Err(Error::DeadStream(self.dead_after));
                }
            };
            if event.data.is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(&event.data)
                .map_err(|e| Error::Unreadable(format!("entry: {e}")))?;
            if entry.seq.0 != self.after.0 + 1 {
                return Err(Error::Unreadable(format!(
                    "expected entry {} after {}, got {}",
                    self.after.0 + 1,
                    self.after,
                    entry.seq
                )));
            }
            self.after = entry.seq;
            return Ok(Some(entry));
        }
    }
}

fn stream_error(error: eventsource_stream::EventStreamError<reqwest::Error>) -> Error {
    match error {
        eventsource_stream::EventStreamError::Transport(e) => Error::Unreachable(e),
        other => Error::Unreadable(other.to_string()),
    }
}
