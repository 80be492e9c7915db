//! Request and response bodies of the relay's HTTP API (`/v1/…`).

use serde::{Deserialize, Serialize};
use tsunagi_line::ChannelId;

use crate::entry::{Entry, Seq};
use crate::op::{DeviceId, Operation};

/// `GET /v1/channels/{id}/log?after=N&limit=M[&wait=S]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<Entry>,
    /// The newest seq in the log when the page was read.
    pub head: Seq,
}

/// `POST /v1/channels/{id}/ops` with header `Idempotency-Key: <uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendOp {
    pub op: Operation,
}

/// Where an appended operation landed (the original seq when the key was seen before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub seq: Seq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Invites staff, manages devices and the channel's LINE credentials.
    Owner,
    Staff,
}

/// `POST /v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    pub code: String,
    pub device_name: String,
    pub operator_name: String,
}

/// What a device gets when it enrolls. The token is shown once and stored only as a hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub device_id: DeviceId,
    pub token: String,
    pub channel_id: ChannelId,
    pub role: Role,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("device_id", &self.device_id)
            .field("token", &"…")
            .field("channel_id", &self.channel_id)
            .field("role", &self.role)
            .finish()
    }
}

/// Every error answer of the relay's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable, machine-readable code such as `bad_request` or `forbidden`.
    pub code: String,
    /// What was wrong, for people.
    pub message: String,
}

/// `POST /v1/channels/{id}/invites` (owners only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    pub role: Role,
}

/// A one-time enrollment code, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    pub code: String,
    /// Unix milliseconds after which the code no longer works.
    pub expires_at: i64,
}

/// A device as owners see it (`GET /v1/channels/{id}/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: DeviceId,
    pub device_name: String,
    pub operator_name: String,
    pub role: Role,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}
