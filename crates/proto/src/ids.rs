//! The names and numbers the log is written with: positions in it and times, the devices
//! and people that append to it and the role they act in, and operations' ids. Every other
//! part of the log's types uses these; these use none of them.

use serde::{Deserialize, Serialize};
use tsunagi_line::string_id;
use uuid::Uuid;

/// A position in one channel's log: 1, 2, 3… with no gaps.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seq(pub u64);

impl Seq {
    /// Before the first entry: reading "after zero" reads everything.
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl std::fmt::Display for Seq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Now, on this computer's clock.
    pub fn now() -> UnixMillis {
        UnixMillis::from(std::time::SystemTime::now())
    }
}

impl From<std::time::SystemTime> for UnixMillis {
    /// (Before the epoch reads as 0; past `i64`'s range, as its end.)
    fn from(at: std::time::SystemTime) -> Self {
        UnixMillis(at.duration_since(std::time::UNIX_EPOCH).map_or(0, |since| {
            i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
        }))
    }
}

string_id!(
    /// A desktop (or the relay's executor) that appends to the log.
    DeviceId
);
string_id!(
    /// A person at the desk. Each operator works from their own enrolled device, so the
    /// id is that device's id; their name is the one they gave when it enrolled
    /// (`GET /v1/channels/{id}/operators`).
    OperatorId
);

impl From<&DeviceId> for OperatorId {
    fn from(device: &DeviceId) -> Self {
        OperatorId::new(device.as_str())
    }
}

/// The device under which the relay's executor logs what it did (automations, sends).
pub const EXECUTOR_DEVICE: &str = "executor";
/// The client-chosen id of an operation: the relay stores each one once, forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub Uuid);

impl OpId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id of an op the executor logs because of something in the log, named by
    /// `cause` (such as `greeting/42`). Deciding it again gives the same id, so the log
    /// keeps it once.
    pub fn derived(cause: &str) -> Self {
        Self(Uuid::new_v5(&DERIVED_OPS, cause.as_bytes()))
    }
}

/// The namespace of [`OpId::derived`] ids.
const DERIVED_OPS: Uuid = Uuid::from_u128(0x7375_6e61_6769_4f70_8000_0000_0000_0001);

impl Default for OpId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What a device may do in its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Invites staff, manages devices and the channel's LINE credentials. An owner of the
    /// whole relay (no channel) also adds channels.
    Owner,
    Staff,
}
