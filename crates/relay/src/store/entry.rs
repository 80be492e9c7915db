//! What is appended to a channel's log, and where it went.

use serde_json::value::RawValue;
use tsunagi_line::{MessageId, UserId, WebhookEventId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{DeviceId, Entry, EntryBody, OpId, Seq, UnixMillis};

use super::{Result, StoreError};

/// Something to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: UnixMillis,
    pub body: NewBody,
}

impl NewEntry {
    /// An entry of another log, to append as it was (a benchmark's or a test's log). A LINE
    /// event goes without its webhook event id and message link: copies are not deduplicated
    /// or redacted as LINE's own deliveries are.
    pub fn copy_of(entry: &Entry) -> Result<NewEntry> {
        let body = match &entry.body {
            EntryBody::Line { destination, event } => NewBody::Line {
                destination: destination.clone(),
                webhook_event_id: None,
                event: event.clone(),
                link: MessageLink::None,
            },
            EntryBody::Op {
                op_id,
                device,
                role,
                op,
            } => NewBody::Op {
                op_id: *op_id,
                device: device.clone(),
                role: *role,
                op: serde_json::to_string(op)
                    .ok()
                    .and_then(|json| RawValue::from_string(json).ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("entry {}: an op that is not JSON", entry.seq))
                    })?,
            },
        };
        Ok(NewEntry { at: entry.at, body })
    }
}

#[derive(Debug, Clone)]
pub enum NewBody {
    /// A LINE webhook event, exactly as received. Without an id it cannot be deduplicated,
    /// but it is still kept.
    Line {
        destination: UserId,
        webhook_event_id: Option<WebhookEventId>,
        event: Box<RawValue>,
        /// The message it carries or unsends, for redacting unsent messages.
        link: MessageLink,
    },
    /// An operation, already checked against the operation types.
    Op {
        op_id: OpId,
        device: DeviceId,
        /// The device's role as it appends; `None` for the executor.
        role: Option<Role>,
        op: Box<RawValue>,
    },
}

/// How a LINE event relates to a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MessageLink {
    #[default]
    None,
    /// A message (or an edit of one) with this id.
    Carries(MessageId),
    /// The user unsent the message with this id: its content must go.
    Unsends(MessageId),
}

/// What is kept of a message event once the user unsent it: the envelope (who, when,
/// which message) without the content. `message.type` becomes `unsent`.
pub fn tombstone(event: &str) -> String {
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(event) else {
        return r#"{"type":"message","message":{"type":"unsent"}}"#.to_owned();
    };
    let id = fields
        .get("message")
        .and_then(|m| m.get("id"))
        .cloned()
        .unwrap_or_default();
    fields.insert(
        "message".to_owned(),
        serde_json::json!({ "id": id, "type": "unsent" }),
    );
    serde_json::Value::Object(fields).to_string()
}

/// Where an appended entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Written now, at this seq.
    New(Seq),
    /// Already in the log (same webhook event id or idempotency key), at this seq.
    Existing(Seq),
}

impl Appended {
    pub fn seq(self) -> Seq {
        match self {
            Appended::New(seq) | Appended::Existing(seq) => seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tombstone_keeps_the_envelope_and_drops_the_content() {
        let event = r#"{"type":"message","message":{"type":"image","id":"M1","contentProvider":{"type":"line"}},"webhookEventId":"01E","timestamp":5}"#;
        let tomb: serde_json::Value = serde_json::from_str(&tombstone(event)).unwrap();
        assert_eq!(
            tomb,
            serde_json::json!({
                "type": "message", "message": {"id": "M1", "type": "unsent"},
                "webhookEventId": "01E", "timestamp": 5
            })
        );
    }

    #[test]
    fn a_tombstone_of_something_that_is_not_an_event_keeps_nothing() {
        assert!(!tombstone(r#""a secret""#).contains("secret"));
        assert!(!tombstone("[1,2]").contains('1'));
    }
}
