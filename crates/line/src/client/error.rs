//! What a LINE call can fail with, and what each failure means: [`Error::class`] and
//! [`Error::done`]. LINE's error answers, with the request id to quote.

use std::fmt;

use serde::Deserialize;

use crate::id::RequestId;
use crate::message::{ValidationError, Violation};

use super::REQUEST_ID;
use super::call::Answer;

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

/// Our own request could not be put into JSON or a form: it was never sent.
pub(super) fn unencodable(error: impl fmt::Display) -> Error {
    ValidationError::one("body", format!("cannot be encoded: {error}")).into()
}

pub(super) fn api_error(answer: &Answer) -> ApiError {
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
