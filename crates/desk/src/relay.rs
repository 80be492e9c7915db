//! The relay's HTTP API as a desk uses it: enroll, read the log (SSE or long-poll), append
//! operations.
//!
//! A log stream that goes quiet is dead: the relay sends a heartbeat every 15 seconds, so a
//! stream from which no byte arrives for [`DEAD_AFTER`] is given up, whatever TCP believes.
//!
//! The relay is trusted for the log's content, never for paths or sizes: every id it names
//! that a desk may keep or put in a path is checked here ([`crate::id`]), and every answer
//! is read only up to a bound of its kind (an error, a JSON answer, an event of the stream,
//! a file), past which it is [`Error::TooLarge`] and read no further.

use std::time::Duration;

use tokio::time::Instant;
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::api::{
    AddChannel, ChannelConnected, ChannelInfo, CreateInvite, DeviceInfo, Enroll, Enrolled,
    ErrorBody, ErrorCode, LogPage, MessageQuota, OperatorInfo, PhotoDelivery,
};
use tsunagi_proto::api::{
    CredentialKept, InviteInfo, Invited, Role, SetCredential, TelegramTest, TelegramTested,
};
use tsunagi_proto::{Credential, DeviceId, Entry, OpId, Operation, Seq};
use url::Url;

mod events;
use events::EventReader;

/// Three missed heartbeats.
pub const DEAD_AFTER: Duration = Duration::from_secs(45);
/// Longest a long-poll waits on the relay (its limit).
pub const LONG_POLL: Duration = Duration::from_secs(25);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(40);

/// The most of an error answer that is read. The relay's errors are a short JSON `{code,
/// message}`; whatever is longer is cut here.
const MAX_ERROR_BODY: usize = 4 * 1024;
/// The most an SSE event (one entry of the log) may be. An entry is one LINE event (the
/// relay takes webhook bodies of at most 1 MiB) or one op (axum's default limit of 2 MiB a
/// request); four times the larger leaves room for JSON's escapes.
pub const MAX_EVENT: usize = 8 * 1024 * 1024;
/// The most a JSON answer may be. The largest is a page of the log: entries of a few KiB
/// (a LINE text is at most 5,000 characters), 500 of them a page when a desk catches up.
/// 64 MiB is 128 KiB an entry on such a page, and a bound on a relay that never stops.
const MAX_ANSWER: usize = 64 * 1024 * 1024;
/// The most a user's file may be: the relay keeps nothing larger than LINE lets a user send
/// (a file, 1 GiB; videos and audio 300 MiB).
pub const MAX_MEDIA: u64 = tsunagi_line::webhook::MAX_FILE_BYTES;
/// The most a thumbnail may be: the relay keeps LINE's previews up to an image's limit.
pub const MAX_PREVIEW: u64 = tsunagi_line::webhook::MAX_IMAGE_BYTES;
/// The most an image the team uploaded may be: the relay takes uploads of at most 10 MiB
/// (`tsunagi_relay::upload::MAX_IMAGE`), and makes smaller thumbnails of them.
pub const MAX_UPLOAD: usize = 10 * 1024 * 1024;

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
    /// The relay named something (a channel, a device) in a form no relay makes: it is
    /// broken, fake or compromised, and nothing of the answer was kept.
    #[error("the relay's answer cannot be used: {0}")]
    Suspect(String),
    /// The relay's answer was longer than any it makes; the rest was not read.
    #[error("the relay's {what} was over {limit} bytes and was not read further")]
    TooLarge { what: &'static str, limit: u64 },
}

impl Error {
    /// Whether trying again later can help: the relay was unreachable, overloaded or the
    /// stream died. A refusal (bad token, forbidden, bad request) will not change by itself.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Refused { status, .. } => *status >= 500 || *status == 429,
            Error::Unreachable(_) | Error::DeadStream(_) | Error::Unreadable(_) => true,
            Error::Suspect(_) | Error::TooLarge { .. } => false,
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
    let text = error_text(response).await;
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

/// The first [`MAX_ERROR_BODY`] bytes of an error answer, as text; the rest is not read.
async fn error_text(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(MAX_ERROR_BODY);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An answer's body, whole, if it is at most `limit` bytes; a longer one is an error as
/// soon as it says so (its length) or shows it (its bytes), and is read no further.
async fn body(
    mut response: reqwest::Response,
    what: &'static str,
    limit: usize,
) -> Result<Vec<u8>> {
    let too_large = || Error::TooLarge {
        what,
        limit: limit as u64,
    };
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::Unreachable)? {
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The media type an answer names, when it has a media type's form (`type/subtype`, with
/// parameters, in printable ASCII, not too long to be one); else `default`.
fn content_type(response: &reqwest::Response, default: &str) -> String {
    response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| {
            t.len() <= 255
                && t.bytes().all(|b| (b' '..=b'~').contains(&b))
                && t.split(';')
                    .next()
                    .and_then(|mime| mime.trim().split_once('/'))
                    .is_some_and(|(kind, sub)| !kind.is_empty() && !sub.is_empty())
        })
        .unwrap_or(default)
        .to_owned()
}

async fn json<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T> {
    let bytes = body(checked(response).await?, "answer", MAX_ANSWER).await?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Unreadable(e.to_string()))
}

/// Refuses an answer that names an id in a form no relay makes ([`crate::id`]).
fn named(checked: Result<(), crate::id::BadId>) -> Result<()> {
    checked.map_err(|bad| Error::Suspect(format!("it named {bad}")))
}

/// A file the relay is sending: its content type, and its bytes as they arrive.
#[derive(Debug)]
pub struct Download {
    pub content_type: String,
    response: reqwest::Response,
    limit: u64,
    read: u64,
}

impl Download {
    /// The next bytes of the file; `None` once it is whole. Past the limit the download
    /// is [`Error::TooLarge`] and nothing more is read.
    pub async fn chunk(&mut self) -> Result<Option<impl AsRef<[u8]> + use<>>> {
        let Some(chunk) = self.response.chunk().await.map_err(Error::Unreachable)? else {
            return Ok(None);
        };
        self.read += chunk.len() as u64;
        if self.read > self.limit {
            return Err(Error::TooLarge {
                what: "file",
                limit: self.limit,
            });
        }
        Ok(Some(chunk))
    }
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
        let enrolled: Enrolled = json(response).await?;
        named(crate::id::device(&enrolled.device_id))?;
        if let Some(channel) = &enrolled.channel_id {
            named(crate::id::channel(channel))?;
        }
        Ok(enrolled)
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
        let channels: Vec<ChannelInfo> = self
            .call(self.http.get(endpoint(&self.base, "/v1/channels")))
            .await?;
        for channel in &channels {
            named(crate::id::channel(&channel.channel_id))?;
        }
        Ok(channels)
    }

    /// Connects a LINE channel to the relay (its owner's device): the relay checks the
    /// credentials with LINE, stores them, points the webhook at itself and has LINE test it.
    pub async fn add_channel(&self, request: &AddChannel) -> Result<ChannelConnected> {
        let connected: ChannelConnected = self
            .call(
                self.http
                    .post(endpoint(&self.base, "/v1/channels"))
                    .json(request),
            )
            .await?;
        named(crate::id::channel(&connected.channel_id))?;
        Ok(connected)
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

    /// The codes handed out for `channel` that still work (owners).
    pub async fn invites(&self, channel: &ChannelId) -> Result<Vec<InviteInfo>> {
        let path = format!("/v1/channels/{channel}/invites");
        let invites: Vec<InviteInfo> = self
            .call(self.http.get(endpoint(&self.base, &path)))
            .await?;
        for invite in &invites {
            named(crate::id::invite(&invite.id))?;
        }
        Ok(invites)
    }

    /// Withdraws a code handed out for `channel` (owners): it no longer lets a desk join.
    pub async fn withdraw_invite(&self, channel: &ChannelId, id: &str) -> Result<()> {
        named(crate::id::invite(id))?;
        let path = format!("/v1/channels/{channel}/invites/{id}");
        let response = self
            .http
            .delete(endpoint(&self.base, &path))
            .bearer_auth(self.token.expose())
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(Error::Unreachable)?;
        checked(response).await.map(drop)
    }

    /// Every device of `channel`, revoked ones too (owners).
    pub async fn devices(&self, channel: &ChannelId) -> Result<Vec<DeviceInfo>> {
        let path = format!("/v1/channels/{channel}/devices");
        let devices: Vec<DeviceInfo> = self
            .call(self.http.get(endpoint(&self.base, &path)))
            .await?;
        for device in &devices {
            named(crate::id::device(&device.device_id))?;
        }
        Ok(devices)
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
    /// content type, and its bytes to read, at most `limit` of them.
    pub async fn media(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        preview: bool,
        limit: u64,
    ) -> Result<Download> {
        named(crate::id::channel(channel))?;
        named(crate::id::message(message))?;
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
        let response = checked(response).await?;
        if response
            .content_length()
            .is_some_and(|length| length > limit)
        {
            return Err(Error::TooLarge {
                what: "file",
                limit,
            });
        }
        Ok(Download {
            content_type: content_type(&response, "application/octet-stream"),
            response,
            limit,
            read: 0,
        })
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
        // An error answer that trickles is as dead as a silent stream.
        let response = tokio::time::timeout(dead_after, checked(response))
            .await
            .map_err(|_| Error::DeadStream(dead_after))??;
        let opened = Instant::now();
        Ok(LogStream {
            response,
            events: EventReader::default(),
            last_bytes: opened,
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

    /// Whether LINE could fetch the images operators send from the relay's public address,
    /// as the relay last found (it looks first if it never did). An operator is told before
    /// sending a photo LINE cannot fetch.
    pub async fn photo_delivery(&self, channel: &ChannelId) -> Result<PhotoDelivery> {
        let path = format!("/v1/channels/{channel}/uploads/check");
        self.call(self.http.get(endpoint(&self.base, &path))).await
    }

    /// Has the relay check again now that LINE can fetch images from it (owners).
    pub async fn check_photo_delivery(&self, channel: &ChannelId) -> Result<PhotoDelivery> {
        let path = format!("/v1/channels/{channel}/uploads/check");
        self.call(self.http.post(endpoint(&self.base, &path))).await
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
        let response = checked(response).await?;
        let content_type = content_type(&response, "image/jpeg");
        let bytes = body(response, "image", MAX_UPLOAD).await?;
        Ok((content_type, bytes))
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

/// A channel's log as it arrives.
pub struct LogStream {
    response: reqwest::Response,
    events: EventReader,
    /// When the last bytes arrived, heartbeats included.
    last_bytes: Instant,
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
        self.last_bytes > self.opened
    }

    /// The next entry; `None` when the relay ended the stream (it is shutting down).
    /// Entries come in order, each exactly once: anything else is an error.
    pub async fn next(&mut self) -> Result<Option<Entry>> {
        loop {
            let Some(data) = self.events.event()? else {
                // Bytes, whether an event's or a heartbeat's, are life.
                let deadline = self.last_bytes + self.dead_after;
                match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                    Ok(Ok(Some(chunk))) => {
                        self.last_bytes = Instant::now();
                        self.events.push(&chunk);
                    }
                    Ok(Ok(None)) => return Ok(None),
                    Ok(Err(error)) => return Err(Error::Unreachable(error)),
                    Err(_) => return Err(Error::DeadStream(self.dead_after)),
                }
                continue;
            };
            if data.is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(&data)
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
