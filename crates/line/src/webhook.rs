//! Webhook callbacks: LINE's POST body turned into typed events.
//!
//! Every [`Event`] keeps the exact JSON text LINE sent for it (a copy of its slice of the body),
//! so whatever we do not model yet is still there, byte for byte. Event and message types we do
//! not know become [`EventKind::Unknown`] and [`MessageContent::Unknown`], never an error.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::id::UserId;

mod event;
mod incoming;
mod source;

pub use self::event::{
    AccountLink, Beacon, Event, EventKind, MalformedEvent, Membership, Mode, Postback,
    PostbackParams,
};
pub use self::incoming::{
    ContentProvider, ContentProviderKind, Emoji, ImageSet, IncomingMessage, MAX_FILE_BYTES,
    MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, Mention, Mentionee, MessageContent,
};
pub use self::source::{Chat, Source};

/// Why a callback body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook body is not a LINE callback: {0}")]
    Body(#[source] serde_json::Error),
    #[error("event {index} ({event_type}): {reason}")]
    Event {
        index: usize,
        event_type: String,
        reason: String,
    },
}

/// A callback body with its events still as raw JSON. Reading this never looks inside an
/// event, so it succeeds for any well-formed body, whatever LINE adds in the future.
#[derive(Debug, Deserialize)]
pub struct RawCallback {
    /// The bot's user id: which channel the events are for.
    pub destination: UserId,
    pub events: Vec<Box<RawValue>>,
}

impl RawCallback {
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body).map_err(WebhookError::Body)
    }
}

/// A callback body with every event typed.
#[derive(Debug)]
pub struct Callback {
    pub destination: UserId,
    pub events: Vec<Event>,
}

impl Callback {
    /// Parses a callback body. Check its signature first (see [`crate::signature`]).
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let raw = RawCallback::parse(body)?;
        let events = raw
            .events
            .into_iter()
            .enumerate()
            .map(|(index, raw)| {
                Event::from_raw(raw).map_err(|e| WebhookError::Event {
                    index,
                    event_type: e.event_type,
                    reason: e.reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            destination: raw.destination,
            events,
        })
    }
}

/// Reads a field kept raw, if it is there (`null` counts as absent).
fn optional<T: DeserializeOwned>(
    field: Option<&RawValue>,
    name: &str,
) -> Result<Option<T>, String> {
    field
        .map(|raw| serde_json::from_str(raw.get()).map_err(|e| format!("`{name}`: {e}")))
        .transpose()
}

/// Reads a field kept raw that must be there.
fn required<T: DeserializeOwned>(field: Option<&RawValue>, name: &str) -> Result<T, String> {
    optional(field, name)?.ok_or_else(|| format!("`{name}` is missing"))
}
