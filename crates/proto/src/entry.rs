//! The log entry envelope.

use serde::de::Error as _;
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tsunagi_line::UserId;

use crate::ids::{DeviceId, OpId, Role};
pub use crate::ids::{Seq, UnixMillis};
use crate::op::LoggedOp;

/// One entry of a channel's log.
///
/// On the wire it is flat JSON, either
/// `{"seq": N, "at": MS, "kind": "line", "destination": "U…", "event": {…}}` with the event
/// exactly as LINE sent it, or
/// `{"seq": N, "at": MS, "kind": "op", "op_id": "<uuid>", "device": "<device id>",
/// "role": "owner" | "staff", "op": {…}}` (no `role` for the executor's ops, and for those
/// logged before roles were recorded).
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: Seq,
    /// When the relay received it. The projection's clock: never the local time.
    pub at: UnixMillis,
    pub body: EntryBody,
}

#[derive(Debug, Clone)]
pub enum EntryBody {
    /// A webhook event from LINE.
    Line {
        /// The bot user id the webhook was addressed to.
        destination: UserId,
        /// The event's JSON exactly as received.
        event: Box<RawValue>,
    },
    /// An operation appended by a device or by the relay's executor.
    Op {
        op_id: OpId,
        device: DeviceId,
        /// The device's role when the relay took the op; `None` for the executor.
        role: Option<Role>,
        op: LoggedOp,
    },
}

impl PartialEq for EntryBody {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                EntryBody::Line {
                    destination: d1,
                    event: e1,
                },
                EntryBody::Line {
                    destination: d2,
                    event: e2,
                },
            ) => d1 == d2 && e1.get() == e2.get(),
            (
                EntryBody::Op {
                    op_id: i1,
                    device: d1,
                    role: r1,
                    op: o1,
                },
                EntryBody::Op {
                    op_id: i2,
                    device: d2,
                    role: r2,
                    op: o2,
                },
            ) => i1 == i2 && d1 == d2 && r1 == r2 && o1 == o2,
            _ => false,
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq && self.at == other.at && self.body == other.body
    }
}

/// An entry whose JSON does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log entry {seq}: {reason}")]
pub struct EntryError {
    pub seq: u64,
    pub reason: String,
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Entry", 7)?;
        s.serialize_field("seq", &self.seq)?;
        s.serialize_field("at", &self.at)?;
        match &self.body {
            EntryBody::Line { destination, event } => {
                s.serialize_field("kind", "line")?;
                s.serialize_field("destination", destination)?;
                s.serialize_field("event", event)?;
            }
            EntryBody::Op {
                op_id,
                device,
                role,
                op,
            } => {
                s.serialize_field("kind", "op")?;
                s.serialize_field("op_id", op_id)?;
                s.serialize_field("device", device)?;
                if let Some(role) = role {
                    s.serialize_field("role", role)?;
                }
                s.serialize_field("op", op)?;
            }
        }
        s.end()
    }
}

/// The flat wire form, every kind's fields optional.
#[derive(Deserialize)]
struct Wire {
    seq: Seq,
    at: UnixMillis,
    kind: String,
    destination: Option<UserId>,
    #[serde(default, deserialize_with = "present")]
    event: Option<Box<RawValue>>,
    op_id: Option<OpId>,
    device: Option<DeviceId>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    op: Option<LoggedOp>,
}

/// A field that is there, even as `null`, is `Some`: a logged `null` is kept, not lost.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl TryFrom<Wire> for Entry {
    type Error = EntryError;

    fn try_from(wire: Wire) -> Result<Self, EntryError> {
        let missing = |field: &str| EntryError {
            seq: wire.seq.0,
            reason: format!("a `{}` entry needs `{field}`", wire.kind),
        };
        let body = match wire.kind.as_str() {
            "line" => EntryBody::Line {
                destination: wire
                    .destination
                    .clone()
                    .ok_or_else(|| missing("destination"))?,
                event: wire.event.ok_or_else(|| missing("event"))?,
            },
            "op" => EntryBody::Op {
                op_id: wire.op_id.ok_or_else(|| missing("op_id"))?,
                device: wire.device.clone().ok_or_else(|| missing("device"))?,
                role: wire.role,
                op: wire.op.ok_or_else(|| missing("op"))?,
            },
            other => {
                return Err(EntryError {
                    seq: wire.seq.0,
                    reason: format!("unknown kind `{other}`"),
                });
            }
        };
        Ok(Entry {
            seq: wire.seq,
            at: wire.at,
            body,
        })
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = Wire::deserialize(deserializer)?;
        Entry::try_from(wire).map_err(D::Error::custom)
    }
}
