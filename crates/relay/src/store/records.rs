//! What the store keeps besides the log: channels, the devices that reach them, the
//! codes that enroll devices, and the fence an executor's lease puts on its appends.

use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_proto::{DeviceId, Seq, UnixMillis};

/// Who may append: the holder of a channel's executor lease, checked as the append is
/// written, so that a process that lost its lease (paused, cut off) appends nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub holder: String,
    /// The holder's time: the lease must last past it.
    pub now: UnixMillis,
}

/// A desk allowed to read and append to one channel's log, or to every channel's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    /// `None`: an owner of the whole relay.
    pub channel: Option<ChannelId>,
    pub role: Role,
    pub device_name: String,
    pub operator_name: String,
    /// SHA-256 of its token.
    pub token_hash: Vec<u8>,
    pub created_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
    /// When it last called the relay, to the minute.
    pub last_seen_at: Option<UnixMillis>,
}

/// What a device brings to enrollment; its channel and role come from the invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: DeviceId,
    pub device_name: String,
    pub operator_name: String,
    /// SHA-256 of its token.
    pub token_hash: Vec<u8>,
}

/// A one-time enrollment code, by the hash of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// What owners list and withdraw it by (the code is kept only as a hash).
    pub id: String,
    pub code_hash: Vec<u8>,
    /// `None`: the device will own the whole relay (the role is then always owner), and
    /// the code is the relay's setup code.
    pub channel: Option<ChannelId>,
    pub role: Role,
    /// The device that asked for it; `None` for the relay's setup code. Its codes die
    /// with its access.
    pub created_by: Option<DeviceId>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// A code not used, withdrawn or expired yet, as owners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingInvite {
    pub id: String,
    pub role: Role,
    pub created_by: Option<DeviceId>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// A channel the relay holds a log for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub head: Seq,
    pub created_at: UnixMillis,
}
