//! A typed async client for the Messaging API.
//!
//! Base URLs are configurable so tests and the demo can point it at the simulator. Calls that
//! fail with 429, 5xx or a timeout are retried with [`RetryPolicy`]; other 4xx never are.
//! Push-family calls take an `X-Line-Retry-Key` chosen by the caller, so a retry after a crash
//! cannot send twice: LINE's 409 "already accepted" comes back as [`SendOutcome::AlreadyAccepted`].
//! A reply has no such key, so it is retried only when LINE certainly did not act on the try
//! before (see [`Error::done`]).
//!
//! What a failure means is decided here and nowhere else: [`Error::class`] and [`Error::done`].

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::id::{MarkAsReadToken, MessageId, ReplyToken, RequestId, UserId};
use crate::message::{self, MAX_MULTICAST_RECIPIENTS, Message, ValidationError, Violation};
use crate::retry::RetryPolicy;

pub const DEFAULT_API_BASE: &str = "https://api.line.me";
pub const DEFAULT_DATA_BASE: &str = "https://api-data.line.me";

/// Largest request body LINE accepts (bigger gets 413).
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

const REQUEST_ID: &str = "x-line-request-id";
const ACCEPTED_REQUEST_ID: &str = "x-line-accepted-request-id";
const RETRY_KEY: &str = "x-line-retry-key";
const MONTHLY_LIMIT: &str = "You have reached your monthly limit.";
const INVALID_REPLY_TOKEN: &str = "Invalid reply token";

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a LINE call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// LINE answered with an error status.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The request broke LINE's rules and was not sent.
    #[error("not sent: {0}")]
    Invalid(#[from] ValidationError),
    /// LINE could not be reached, or did not answer in time, after every retry.
    #[error("could not reach LINE: {0}")]
    Transport(#[source] reqwest::Error),
    /// LINE answered success with a body we could not read.
    #[error("LINE's answer could not be read: {0}")]
    Decode(String),
}

/// What a failed call calls for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// LINE is down, overloaded or out of reach (5xx, 429 other than the month's quota, the
    /// network): the same call may work later.
    Retriable,
    /// The channel access token expired or was revoked (401): issue another, then try again.
    AccessToken,
    /// The reply token was used or is too old: the answer has to go another way.
    SpentReplyToken,
    /// Refused for good (any other 4xx, the month's quota), never sent because it broke
    /// LINE's rules, or answered with success in a form we could not read: asking again
    /// would not help.
    Permanent,
}

/// Whether LINE carried out a call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Certainly not: LINE refused the call (a 4xx, which it gives only for what it did not
    /// do), the call was refused before it was sent, or no connection was made.
    No,
    /// Perhaps: LINE answered 5xx, which it documents as "may still have been carried
    /// out", or the request may have reached LINE and no answer came back (a timeout, a
    /// connection lost on the way).
    Maybe,
    /// Yes: LINE answered with success, but the answer could not be read.
    Yes,
}

impl Error {
    /// The HTTP status LINE answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    pub fn class(&self) -> Class {
        match self {
            Error::Api(api) if api.is_spent_reply_token() => Class::SpentReplyToken,
            Error::Api(api) if api.status == 401 => Class::AccessToken,
            Error::Api(api) if api.is_monthly_limit() => Class::Permanent,
            Error::Api(api) if api.status == 429 || api.status >= 500 => Class::Retriable,
            Error::Api(_) | Error::Invalid(_) | Error::Decode(_) => Class::Permanent,
            Error::Transport(_) => Class::Retriable,
        }
    }

    pub fn done(&self) -> Done {
        match self {
            Error::Api(api) if api.status >= 500 => Done::Maybe,
            Error::Api(_) | Error::Invalid(_) => Done::No,
            Error::Transport(e) if e.is_connect() => Done::No,
            Error::Transport(_) => Done::Maybe,
            Error::Decode(_) => Done::Yes,
        }
    }
}

/// An error answer from LINE: status, its message and details, and the request id to quote
/// when asking LINE about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LINE answered {status}: {message}{}", details_suffix(.details))]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub details: Vec<Violation>,
    pub request_id: Option<RequestId>,
}

fn details_suffix(details: &[Violation]) -> String {
    if details.is_empty() {
        return String::new();
    }
    let parts: Vec<_> = details.iter().map(Violation::to_string).collect();
    format!(" ({})", parts.join("; "))
}

impl ApiError {
    /// 429 for the month's quota, which no retry today will fix.
    pub fn is_monthly_limit(&self) -> bool {
        self.status == 429 && self.message == MONTHLY_LIMIT
    }

    /// 400 for a reply token that is used or too old.
    pub fn is_spent_reply_token(&self) -> bool {
        self.status == 400 && self.message == INVALID_REPLY_TOKEN
    }
}

/// A channel access token. Never printed.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(…)")
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    api_base: String,
    data_base: String,
    token: Option<AccessToken>,
    retry: RetryPolicy,
    timeout: Duration,
    deadline: Option<Duration>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            data_base: DEFAULT_DATA_BASE.to_owned(),
            token: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            deadline: None,
        }
    }
}

impl ClientBuilder {
    /// Base of `api.line.me` calls, without a trailing slash.
    pub fn api_base(mut self, base: impl Into<String>) -> Self {
        self.api_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    /// Base of `api-data.line.me` calls (content download), without a trailing slash.
    pub fn data_base(mut self, base: impl Into<String>) -> Self {
        self.data_base = base.into().trim_end_matches('/').to_owned();
        self
    }

    pub fn access_token(mut self, token: AccessToken) -> Self {
        self.token = Some(token);
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long one attempt may take before it counts as a timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long a call may take in all, its retries included: no call outlasts it (an
    /// attempt is cut short, and no retry starts, past it). Without it, only the retry
    /// policy bounds a call.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    pub fn build(self) -> Result<Client> {
        // Each call sets its own total timeout; a download (which may be long) is bounded by
        // the wait for each read instead.
        let http = reqwest::Client::builder()
            .read_timeout(self.timeout)
            .user_agent(concat!("tsunagi/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(Error::Transport)?;
        Ok(Client {
            http,
            api_base: self.api_base,
            data_base: self.data_base,
            token: self.token,
            retry: self.retry,
            timeout: self.timeout,
            deadline: self.deadline,
        })
    }
}

/// The Messaging API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    api_base: String,
    data_base: String,
    token: Option<AccessToken>,
    retry: RetryPolicy,
    timeout: Duration,
    deadline: Option<Duration>,
}

/// A message LINE accepted, as listed in its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: MessageId,
    pub quote_token: Option<String>,
}

/// How a send ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// LINE took the messages now.
    Accepted {
        request_id: Option<RequestId>,
        sent_messages: Vec<SentMessage>,
    },
    /// An earlier request with the same retry key already went out; nothing was sent again.
    AlreadyAccepted {
        accepted_request_id: RequestId,
        sent_messages: Vec<SentMessage>,
    },
}

impl SendOutcome {
    pub fn sent_messages(&self) -> &[SentMessage] {
        match self {
            SendOutcome::Accepted { sent_messages, .. }
            | SendOutcome::AlreadyAccepted { sent_messages, .. } => sent_messages,
        }
    }
}

/// The LINE key that makes a push-family request idempotent for 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RetryKey(pub Uuid);

impl RetryKey {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for RetryKey {
    fn default() -> Self {
        Self::new()
    }
}

/// Which send a payload is checked for by [`Client::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    Reply,
    Push,
    Multicast,
    Narrowcast,
    Broadcast,
}

impl SendKind {
    fn path(self) -> &'static str {
        match self {
            SendKind::Reply => "reply",
            SendKind::Push => "push",
            SendKind::Multicast => "multicast",
            SendKind::Narrowcast => "narrowcast",
            SendKind::Broadcast => "broadcast",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub display_name: String,
    pub user_id: UserId,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
}

/// One page of follower ids; ask again with `next` until it is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowerIds {
    pub user_ids: Vec<UserId>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    pub user_id: UserId,
    pub basic_id: String,
    pub premium_id: Option<String>,
    pub display_name: String,
    pub picture_url: Option<String>,
    /// `chat` or `bot`.
    pub chat_mode: String,
    /// `manual` or `auto`.
    pub mark_as_read_mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Quota {
    /// `none` (unlimited) or `limited`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<u64>,
}

/// A message's media, or why it is not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Ready {
        content_type: String,
        bytes: Bytes,
    },
    /// A large video or audio is still being prepared: ask again later.
    Preparing,
    /// The user unsent the message, so LINE no longer has it.
    Gone,
}

/// How far LINE is with preparing a user's video or audio for download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transcoding {
    Processing,
    Succeeded,
    /// LINE could not prepare it: it will never download.
    Failed,
}

/// A message's media as it downloads, or why it is not there.
#[derive(Debug)]
pub enum ContentStream {
    Ready {
        content_type: String,
        /// What LINE says it will send, if it says.
        length: Option<u64>,
        body: ContentBody,
    },
    Preparing,
    Gone,
}

/// The bytes of a download, a chunk at a time: never all in memory.
#[derive(Debug)]
pub struct ContentBody(reqwest::Response);

impl ContentBody {
    /// The body of any response, read the same way: media a sender keeps outside LINE.
    pub fn of(response: reqwest::Response) -> Self {
        ContentBody(response)
    }

    /// The next chunk; `None` at the end. A failure midway is [`Error::Transport`].
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        self.0.chunk().await.map_err(Error::Transport)
    }
}

/// The webhook URL LINE has for the channel, and whether it sends webhooks there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookEndpoint {
    pub endpoint: String,
    /// The channel's "Use webhook" switch: off, LINE delivers nothing, whatever the URL.
    pub active: bool,
}

/// LINE's report of sending an empty test webhook to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    /// LINE may leave it out (when it got no answer, say): absent reads as false.
    #[serde(default)]
    pub success: bool,
    pub timestamp: String,
    /// The endpoint's HTTP status; zero or negative when LINE got no answer at all.
    pub status_code: i32,
    /// Why, in LINE's words: `OK`, `COULD_NOT_CONNECT`, `REQUEST_TIMEOUT`,
    /// `ERROR_STATUS_CODE`, `UNCLASSIFIED`.
    pub reason: String,
    pub detail: String,
}

impl WebhookTest {
    /// Whether the endpoint answered LINE with a 2xx. The status decides, whatever
    /// `success` says: no answer (a status of zero or less) or any other status is a
    /// failure.
    pub fn reached(&self) -> bool {
        (200..300).contains(&self.status_code)
    }

    /// Whether LINE got any answer from the endpoint.
    pub fn answered(&self) -> bool {
        self.status_code > 0
    }
}

/// A short-lived channel access token.
#[derive(Clone, Deserialize)]
pub struct IssuedToken {
    pub access_token: String,
    /// Seconds.
    pub expires_in: u64,
    pub token_type: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"…")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish()
    }
}

/// How a call's answer is read.
#[derive(Debug, Clone, Copy)]
enum Read {
    /// All of it, within the call's timeout.
    Whole,
    /// Its status now, its body by the caller, a chunk at a time.
    Streaming,
}

/// A call that succeeded, read as asked.
enum Started {
    Whole(Answer),
    Streaming(reqwest::Response),
}

/// A successful answer, as far as the transport is concerned.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<RequestId> {
        header_str(&self.headers, name).map(RequestId::from)
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(e.to_string()))
    }
}

enum Body {
    None,
    Json(Bytes),
    Form(Bytes),
}

struct Call<'a> {
    method: Method,
    url: String,
    body: Body,
    retry_key: Option<RetryKey>,
    query: &'a [(&'a str, String)],
    /// Whether doing it twice is harmless, so that a try whose answer was lost may be
    /// repeated. Not so for a reply, which carries no retry key.
    repeatable: bool,
}

impl<'a> Call<'a> {
    fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            body: Body::None,
            retry_key: None,
            query: &[],
            repeatable: true,
        }
    }

    fn json(mut self, body: &impl Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body).map_err(unencodable)?;
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(ValidationError::one(
                "body",
                format!("request size must be at most {MAX_REQUEST_BYTES} bytes"),
            )
            .into());
        }
        self.body = Body::Json(bytes.into());
        Ok(self)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplyBody<'a> {
    reply_token: &'a ReplyToken,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PushBody<'a, To: Serialize> {
    to: To,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessagesOnly<'a> {
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentBody {
    #[serde(default)]
    sent_messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Vec<Violation>,
    // The OAuth endpoints answer `{error, error_description}` instead.
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The same client with another access token.
    pub fn with_access_token(&self, token: AccessToken) -> Self {
        Self {
            token: Some(token),
            ..self.clone()
        }
    }

    fn api(&self, path: &str) -> String {
        format!("{}{path}", self.api_base)
    }

    fn data(&self, path: &str) -> String {
        format!("{}{path}", self.data_base)
    }

    /// Replies with a reply token (free, single use, about a minute).
    #[tracing::instrument(skip_all, err)]
    pub async fn reply(
        &self,
        reply_token: &ReplyToken,
        messages: &[Message],
        notification_disabled: bool,
    ) -> Result<SendOutcome> {
        message::validate(messages)?;
        let mut call =
            Call::new(Method::POST, self.api("/v2/bot/message/reply")).json(&ReplyBody {
                reply_token,
                messages,
                notification_disabled,
            })?;
        call.repeatable = false;
        self.send_messages(call).await
    }

    /// Pushes to a user, group or room (`to` is its id). Counts against the monthly quota.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn push(
        &self,
        to: &str,
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let body = PushBody {
            to,
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/push", messages, &body, retry_key)
            .await
    }

    /// Pushes the same messages to up to 500 users.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        if to.is_empty() || to.len() > MAX_MULTICAST_RECIPIENTS {
            return Err(ValidationError::one(
                "to",
                format!("size must be between 1 and {MAX_MULTICAST_RECIPIENTS}"),
            )
            .into());
        }
        let body = PushBody {
            to,
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/multicast", messages, &body, retry_key)
            .await
    }

    /// Sends to every friend of the account.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn broadcast(
        &self,
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let body = MessagesOnly {
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/broadcast", messages, &body, retry_key)
            .await
    }

    /// Sends to an audience or filter (`recipient`, `filter`, `limit` as LINE's JSON). LINE
    /// answers 202 and works in the background; the request id tracks its progress.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn narrowcast(
        &self,
        messages: &[Message],
        targeting: serde_json::Map<String, serde_json::Value>,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let mut body = targeting;
        body.insert(
            "messages".to_owned(),
            serde_json::to_value(messages).map_err(unencodable)?,
        );
        self.send_keyed("/v2/bot/message/narrowcast", messages, &body, retry_key)
            .await
    }

    /// Asks LINE whether `messages` would be accepted for a send of `kind`, sending nothing.
    #[tracing::instrument(skip_all, err)]
    pub async fn validate(&self, kind: SendKind, messages: &[Message]) -> Result<()> {
        let url = self.api(&format!("/v2/bot/message/validate/{}", kind.path()));
        let call = Call::new(Method::POST, url).json(&MessagesOnly {
            messages,
            notification_disabled: false,
        })?;
        self.execute(call).await.map(drop)
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn profile(&self, user_id: &UserId) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/profile/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// The profile of a member of a group the bot is in, friend of the account or not
    /// (`/profile` answers 404 for those who are not). LINE gives a member's name and
    /// picture only: no status message or language.
    #[tracing::instrument(skip_all, err)]
    pub async fn group_member_profile(
        &self,
        group_id: &crate::id::GroupId,
        user_id: &UserId,
    ) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/group/{group_id}/member/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// The profile of a member of a room (a multi-person chat) the bot is in, as
    /// [`group_member_profile`](Self::group_member_profile) for groups.
    #[tracing::instrument(skip_all, err)]
    pub async fn room_member_profile(
        &self,
        room_id: &crate::id::RoomId,
        user_id: &UserId,
    ) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/room/{room_id}/member/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// One page of follower ids. `limit` defaults to 300 at LINE; at most 1,000.
    #[tracing::instrument(skip_all, err)]
    pub async fn followers_ids(
        &self,
        limit: Option<u32>,
        start: Option<&str>,
    ) -> Result<FollowerIds> {
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(start) = start {
            query.push(("start", start.to_owned()));
        }
        let mut call = Call::new(Method::GET, self.api("/v2/bot/followers/ids"));
        call.query = &query;
        self.execute(call).await?.json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn bot_info(&self) -> Result<BotInfo> {
        self.execute(Call::new(Method::GET, self.api("/v2/bot/info")))
            .await?
            .json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn quota(&self) -> Result<Quota> {
        self.execute(Call::new(Method::GET, self.api("/v2/bot/message/quota")))
            .await?
            .json()
    }

    /// Messages counted against this month's quota so far.
    #[tracing::instrument(skip_all, err)]
    pub async fn quota_consumption(&self) -> Result<u64> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Consumption {
            total_usage: u64,
        }
        let url = self.api("/v2/bot/message/quota/consumption");
        let consumption: Consumption = self.execute(Call::new(Method::GET, url)).await?.json()?;
        Ok(consumption.total_usage)
    }

    /// The bytes of an image, video, audio or file a user sent.
    #[tracing::instrument(skip_all, err)]
    pub async fn content(&self, message_id: &MessageId) -> Result<Content> {
        self.fetch_content(format!("/v2/bot/message/{message_id}/content"))
            .await
    }

    /// A thumbnail of an image or video a user sent.
    #[tracing::instrument(skip_all, err)]
    pub async fn content_preview(&self, message_id: &MessageId) -> Result<Content> {
        self.fetch_content(format!("/v2/bot/message/{message_id}/content/preview"))
            .await
    }

    /// The bytes of an image, video, audio or file a user sent (or its thumbnail), to read a
    /// chunk at a time. A call that fails before the body starts is retried as any other.
    #[tracing::instrument(skip_all, err)]
    pub async fn content_stream(
        &self,
        message_id: &MessageId,
        preview: bool,
    ) -> Result<ContentStream> {
        let suffix = if preview { "/preview" } else { "" };
        let call = Call::new(
            Method::GET,
            self.data(&format!("/v2/bot/message/{message_id}/content{suffix}")),
        );
        let response = match self.with_retries(&call, Read::Streaming).await {
            Ok(Started::Streaming(response)) => response,
            Ok(Started::Whole(_)) => {
                return Err(Error::Decode("a download read whole".into()));
            }
            Err(Error::Api(e)) if e.status == StatusCode::GONE.as_u16() => {
                return Ok(ContentStream::Gone);
            }
            Err(e) => return Err(e),
        };
        if response.status() == StatusCode::ACCEPTED {
            return Ok(ContentStream::Preparing);
        }
        Ok(ContentStream::Ready {
            content_type: header_str(response.headers(), CONTENT_TYPE.as_str())
                .unwrap_or("application/octet-stream")
                .to_owned(),
            length: response.content_length(),
            body: ContentBody(response),
        })
    }

    /// Whether LINE has prepared a user's video or audio (`GET …/content/transcoding`).
    #[tracing::instrument(skip_all, err)]
    pub async fn transcoding(&self, message_id: &MessageId) -> Result<Transcoding> {
        #[derive(serde::Deserialize)]
        struct Status {
            status: Transcoding,
        }
        let path = format!("/v2/bot/message/{message_id}/content/transcoding");
        let status: Status = self
            .execute(Call::new(Method::GET, self.data(&path)))
            .await?
            .json()?;
        Ok(status.status)
    }

    async fn fetch_content(&self, path: String) -> Result<Content> {
        match self.execute(Call::new(Method::GET, self.data(&path))).await {
            Ok(answer) if answer.status == StatusCode::ACCEPTED => Ok(Content::Preparing),
            Ok(answer) => Ok(Content::Ready {
                content_type: header_str(&answer.headers, CONTENT_TYPE.as_str())
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                bytes: answer.body,
            }),
            Err(Error::Api(e)) if e.status == StatusCode::GONE.as_u16() => Ok(Content::Gone),
            Err(e) => Err(e),
        }
    }

    /// Shows the "typing" indicator in a 1:1 chat for `seconds` (5 to 60, a multiple of 5).
    #[tracing::instrument(skip_all, err)]
    pub async fn loading_start(&self, chat_id: &UserId, seconds: u32) -> Result<()> {
        if !(5..=60).contains(&seconds) || !seconds.is_multiple_of(5) {
            return Err(
                ValidationError::one("loadingSeconds", "must be 5 to 60, in steps of 5").into(),
            );
        }
        let call = Call::new(Method::POST, self.api("/v2/bot/chat/loading/start"))
            .json(&serde_json::json!({ "chatId": chat_id, "loadingSeconds": seconds }))?;
        self.execute(call).await.map(drop)
    }

    /// Marks the message carrying `token`, and every earlier one, as read.
    #[tracing::instrument(skip_all, err)]
    pub async fn mark_as_read(&self, token: &MarkAsReadToken) -> Result<()> {
        let call = Call::new(Method::POST, self.api("/v2/bot/chat/markAsRead"))
            .json(&serde_json::json!({ "markAsReadToken": token }))?;
        self.execute(call).await.map(drop)
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn webhook_endpoint(&self) -> Result<WebhookEndpoint> {
        let url = self.api("/v2/bot/channel/webhook/endpoint");
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn set_webhook_endpoint(&self, endpoint: &str) -> Result<()> {
        let call = Call::new(Method::PUT, self.api("/v2/bot/channel/webhook/endpoint"))
            .json(&serde_json::json!({ "endpoint": endpoint }))?;
        self.execute(call).await.map(drop)
    }

    /// Has LINE send an empty webhook to `endpoint` (or the configured one) and report.
    #[tracing::instrument(skip_all, err)]
    pub async fn test_webhook(&self, endpoint: Option<&str>) -> Result<WebhookTest> {
        let body = match endpoint {
            Some(endpoint) => serde_json::json!({ "endpoint": endpoint }),
            None => serde_json::json!({}),
        };
        let call = Call::new(Method::POST, self.api("/v2/bot/channel/webhook/test")).json(&body)?;
        self.execute(call).await?.json()
    }

    /// Issues a short-lived (30 day) channel access token from the channel's id and secret.
    /// LINE keeps at most 30 of them per channel: a 31st revokes the oldest, so this is for
    /// a client that keeps its token.
    #[tracing::instrument(skip_all, err)]
    pub async fn issue_channel_token(
        &self,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        self.issue_token("/v2/oauth/accessToken", channel_id, channel_secret)
            .await
    }

    /// Issues a stateless channel access token (15 minutes, no cap): for a one-off call,
    /// it revokes no other token.
    #[tracing::instrument(skip_all, err)]
    pub async fn issue_stateless_token(
        &self,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        self.issue_token("/oauth2/v3/token", channel_id, channel_secret)
            .await
    }

    async fn issue_token(
        &self,
        path: &str,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", channel_id.as_str()),
            ("client_secret", channel_secret),
        ])
        .map_err(unencodable)?;
        let mut call = Call::new(Method::POST, self.api(path));
        call.body = Body::Form(form.into());
        self.execute(call).await?.json()
    }

    /// A push-family send: checked, then sent with its retry key on every attempt.
    async fn send_keyed(
        &self,
        path: &str,
        messages: &[Message],
        body: &impl Serialize,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        message::validate(messages)?;
        let mut call = Call::new(Method::POST, self.api(path)).json(body)?;
        call.retry_key = Some(retry_key);
        self.send_messages(call).await
    }

    async fn send_messages(&self, call: Call<'_>) -> Result<SendOutcome> {
        let answer = self.execute(call).await?;
        let sent: SentBody = if answer.body.is_empty() {
            SentBody {
                sent_messages: Vec::new(),
            }
        } else {
            answer.json()?
        };
        Ok(match answer.header(ACCEPTED_REQUEST_ID) {
            Some(accepted_request_id) if answer.status == StatusCode::CONFLICT => {
                SendOutcome::AlreadyAccepted {
                    accepted_request_id,
                    sent_messages: sent.sent_messages,
                }
            }
            _ => SendOutcome::Accepted {
                request_id: answer.header(REQUEST_ID),
                sent_messages: sent.sent_messages,
            },
        })
    }

    /// Sends a call, retrying what may be retried: a [`Class::Retriable`] failure, when the
    /// call is repeatable or LINE certainly did not act on it. Success is any 2xx, and a 409
    /// that LINE marks as an already accepted retry key. Never outlasts the deadline.
    async fn execute(&self, call: Call<'_>) -> Result<Answer> {
        match self.with_retries(&call, Read::Whole).await? {
            Started::Whole(answer) => Ok(answer),
            Started::Streaming(response) => Err(Error::Decode(format!(
                "an answer ({}) left unread",
                response.status()
            ))),
        }
    }

    /// Tries `call` until it succeeds, fails for good, or the retry policy or deadline
    /// says stop; read as `read` says.
    async fn with_retries(&self, call: &Call<'_>, read: Read) -> Result<Started> {
        let ends = self.deadline.map(|d| Instant::now() + d);
        let mut retry = 0;
        loop {
            let timeout = ends.map_or(self.timeout, |ends| {
                self.timeout
                    .min(ends.saturating_duration_since(Instant::now()))
            });
            let tried = match read {
                Read::Whole => self.attempt(call, Some(timeout)).await.map(Started::Whole),
                // No bound on the whole: a large video takes what it takes, each read bounded.
                Read::Streaming => self.start(call, None).await.map(Started::Streaming),
            };
            let (error, asked_wait) = match tried {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            let again = retry + 1 < self.retry.max_attempts
                && error.class() == Class::Retriable
                && (call.repeatable || error.done() == Done::No);
            if !again {
                return Err(error);
            }
            let wait = asked_wait
                .unwrap_or_else(|| self.retry.delay(retry))
                .min(self.retry.max_delay);
            if ends.is_some_and(|ends| Instant::now() + wait >= ends) {
                return Err(error);
            }
            tracing::debug!(%error, ?wait, retry, "retrying LINE call");
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// One try, its whole answer read; a failure comes with how long LINE asked us to wait,
    /// if it did.
    async fn attempt(
        &self,
        call: &Call<'_>,
        timeout: Option<Duration>,
    ) -> Result<Answer, (Error, Option<Duration>)> {
        let response = self.start(call, timeout).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(body) => body,
            // Asking again is harmless: as any lost answer.
            Err(error) if call.repeatable => return Err((Error::Transport(error), None)),
            // The status is in: LINE acted on it, whatever the body said.
            Err(error) => {
                return Err((
                    Error::Decode(format!("the answer ({status}) was cut off: {error}")),
                    None,
                ));
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// Sends one try and reads its status: a success (or an already accepted retry key)
    /// with its body still to read, else LINE's error, read whole. `timeout` bounds it all,
    /// the body included; without one, only each read is bounded.
    async fn start(
        &self,
        call: &Call<'_>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, (Error, Option<Duration>)> {
        let mut request = self
            .http
            .request(call.method.clone(), &call.url)
            .query(call.query);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        if let Some(token) = &self.token {
            request = request.header(AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        if let Some(key) = call.retry_key {
            request = request.header(RETRY_KEY, key.0.to_string());
        }
        request = match &call.body {
            Body::None => request,
            Body::Json(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Form(bytes) => request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(bytes.clone()),
        };
        let response = request
            .send()
            .await
            .map_err(|e| (Error::Transport(e), None))?;
        let status = response.status();
        let accepted = status == StatusCode::CONFLICT
            && header_str(response.headers(), ACCEPTED_REQUEST_ID).is_some();
        if status.is_success() || accepted {
            return Ok(response);
        }
        let headers = response.headers().clone();
        // An error's body may be cut off: LINE's status still says it did nothing.
        let body = response.bytes().await.unwrap_or_default();
        let answer = Answer {
            status,
            headers,
            body,
        };
        Err((api_error(&answer).into(), retry_after(&answer.headers)))
    }
}

/// Our own request could not be put into JSON or a form: it was never sent.
fn unencodable(error: impl fmt::Display) -> Error {
    ValidationError::one("body", format!("cannot be encoded: {error}")).into()
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_str(headers, RETRY_AFTER.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn api_error(answer: &Answer) -> ApiError {
    let status = answer.status;
    let parsed: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
    let (message, details) = match parsed {
        Some(body) => {
            let message = body
                .message
                .or(body.error_description)
                .or(body.error)
                .unwrap_or_default();
            (message, body.details)
        }
        None => (
            String::from_utf8_lossy(&answer.body).into_owned(),
            Vec::new(),
        ),
    };
    let message = if message.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        message
    };
    ApiError {
        status: status.as_u16(),
        message,
        details,
        request_id: answer.header(REQUEST_ID),
    }
}
