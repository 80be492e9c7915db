//! The clinic's devices and the invite codes its owners hand out.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_proto::api::Role;

/// A device of the clinic, as its owners see it in the team list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamDevice {
    pub device_id: String,
    pub operator: String,
    /// The computer, as it named itself when it joined.
    pub device_name: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    #[ts(type = "number")]
    pub joined_at: i64,
    #[ts(type = "number | null")]
    pub revoked_at: Option<i64>,
    /// When it last reached the relay, to the minute.
    #[ts(type = "number | null")]
    pub last_seen_at: Option<i64>,
    /// This desk.
    pub me: bool,
}

/// `team_invite`: a code for one more desk, with this role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamInviteRequest {
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
}

/// A one-time invite code to hand over, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamInvite {
    pub id: String,
    pub code: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    #[ts(type = "number")]
    pub expires_at: i64,
}

/// A code handed out that still works, as owners see it in Team (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamCode {
    pub id: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    /// The device that asked for it (`null`: the relay's operator).
    pub created_by: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub expires_at: i64,
}

/// `team_withdraw`: the code to withdraw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamWithdrawRequest {
    pub id: String,
}

/// `team_revoke`: the device to shut out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamRevokeRequest {
    pub device_id: String,
}
