//! One call to LINE, from request to answer: sending each try, reading its answer, and
//! retrying what may be retried within the client's deadline.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::id::RequestId;
use crate::message::ValidationError;

use super::error::{api_error, unencodable};
use super::send::RetryKey;
use super::{
    ACCEPTED_REQUEST_ID, Class, Client, Done, Error, MAX_REQUEST_BYTES, RETRY_KEY, Result,
};

/// How a call's answer is read.
#[derive(Debug, Clone, Copy)]
pub(super) enum Read {
    /// All of it, within the call's timeout.
    Whole,
    /// Its status now, its body by the caller, a chunk at a time.
    Streaming,
}

/// A call that succeeded, read as asked.
pub(super) enum Started {
    Whole(Answer),
    Streaming(reqwest::Response),
}

/// A successful answer, as far as the transport is concerned.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Answer {
    pub(super) fn header(&self, name: &str) -> Option<RequestId> {
        header_str(&self.headers, name).map(RequestId::from)
    }

    pub(super) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode(e.to_string()))
    }
}

pub(super) enum Body {
    None,
    Json(Bytes),
    Form(Bytes),
}

pub(super) struct Call<'a> {
    method: Method,
    url: String,
    pub(super) body: Body,
    pub(super) retry_key: Option<RetryKey>,
    pub(super) query: &'a [(&'a str, String)],
    /// Whether doing it twice is harmless, so that a try whose answer was lost may be
    /// repeated. Not so for a reply, which carries no retry key.
    pub(super) repeatable: bool,
}

impl<'a> Call<'a> {
    pub(super) fn new(method: Method, url: String) -> Self {
        Self {
            method,
            url,
            body: Body::None,
            retry_key: None,
            query: &[],
            repeatable: true,
        }
    }

    pub(super) fn json(mut self, body: &impl Serialize) -> Result<Self> {
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

impl Client {
    /// Sends a call, retrying what may be retried: a [`Class::Retriable`] failure, when the
    /// call is repeatable or LINE certainly did not act on it. Success is any 2xx, and a 409
    /// that LINE marks as an already accepted retry key. Never outlasts the deadline.
    pub(super) async fn execute(&self, call: Call<'_>) -> Result<Answer> {
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
    pub(super) async fn with_retries(&self, call: &Call<'_>, read: Read) -> Result<Started> {
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

pub(super) fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_str(headers, RETRY_AFTER.as_str())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
