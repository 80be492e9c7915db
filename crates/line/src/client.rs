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

use crate::retry::RetryPolicy;

mod account;
mod call;
mod content;
mod error;
mod send;

pub use self::account::{
    BotInfo, FollowerIds, IssuedToken, Profile, Quota, WebhookEndpoint, WebhookTest,
};
pub use self::content::{Content, ContentBody, ContentStream, Transcoding};
pub use self::error::{ApiError, Class, Done, Error, Result};
pub use self::send::{RetryKey, SendKind, SendOutcome, SentMessage};

pub const DEFAULT_API_BASE: &str = "https://api.line.me";
pub const DEFAULT_DATA_BASE: &str = "https://api-data.line.me";

/// Largest request body LINE accepts (bigger gets 413).
pub const MAX_REQUEST_BYTES: usize = 2 * 1024 * 1024;

const REQUEST_ID: &str = "x-line-request-id";
const ACCEPTED_REQUEST_ID: &str = "x-line-accepted-request-id";
const RETRY_KEY: &str = "x-line-retry-key";

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
}
