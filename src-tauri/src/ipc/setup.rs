//! This copy of the app, and joining a relay: the keyring, the desk's profile, the relay's
//! address, the invite code and the first LINE channel.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::profile::Profile;
use tsunagi_proto::api::{Role, SetupProblem};

/// Where the OS keyring stands, for keeping the device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyringStatus {
    Available,
    /// No keyring could be reached; `reason` is the system's own words, for details.
    Unavailable {
        reason: String,
    },
}

/// Who this desk is, once joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileView {
    pub relay: String,
    /// None while the relay has no LINE channel yet: its owner connects one.
    pub channel_id: Option<String>,
    pub operator_id: String,
    pub operator: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
}

impl From<&Profile> for ProfileView {
    fn from(profile: &Profile) -> Self {
        Self {
            relay: profile.relay.as_str().trim_end_matches('/').to_owned(),
            channel_id: profile.channel_id.as_ref().map(ToString::to_string),
            operator_id: profile.device_id.to_string(),
            operator: profile.operator.clone(),
            role: profile.role,
        }
    }
}

/// `app_info`: about this copy of the app, and whether it has joined a relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// `linux`, `macos` or `windows`.
    pub os: String,
    pub keyring: KeyringStatus,
    pub profile: Option<ProfileView>,
    /// This launch found the desk's store unusable and set it aside for a fresh copy from
    /// the relay.
    pub set_aside: Option<SetAsideView>,
    /// When this computer learned that an owner removed it from the clinic, and deleted its
    /// copy of patients' conversations and files (ms since the epoch); until it joins again.
    #[ts(type = "number | null")]
    pub removed_at: Option<i64>,
}

/// A desk store set aside at launch: why, and where the old one is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetAsideView {
    /// `damaged` or `newer`.
    pub reason: String,
    pub kept_as: String,
}

impl From<&tsunagi_desk::store::SetAside> for SetAsideView {
    fn from(set_aside: &tsunagi_desk::store::SetAside) -> Self {
        use tsunagi_desk::store::Unusable;
        Self {
            reason: match set_aside.why {
                Unusable::Damaged(_) => "damaged",
                Unusable::Newer { .. } => "newer",
            }
            .to_owned(),
            kept_as: set_aside.kept_as.display().to_string(),
        }
    }
}

/// `relay_url_check`: is this a relay address the desk can use?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlCheckRequest {
    pub url: String,
}

/// A usable relay address, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlChecked {
    pub relay_url: String,
    /// The address LINE will call for a channel, with `{channel_id}` to fill in.
    pub webhook_url_template: String,
    /// False only for a relay on this machine over plain HTTP (the demo).
    pub encrypted: bool,
}

/// `desk_join`: join a relay with an invite code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskJoinRequest {
    pub relay: String,
    pub code: String,
    pub name: String,
}

/// `channel_connect`: the LINE channel's ID and secret, from the LINE Developers Console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChannelConnectRequest {
    pub channel_id: String,
    pub channel_secret: String,
}

impl std::fmt::Debug for ChannelConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConnectRequest")
            .field("channel_id", &self.channel_id)
            .finish_non_exhaustive()
    }
}

/// One step of connecting a channel, as the relay reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupStepView {
    /// `credentials`, `bot info`, `stored`, `webhook URL` or `webhook test`.
    pub name: String,
    pub ok: bool,
    /// LINE's or the relay's own words: the bot's name, the webhook address, LINE's answer.
    pub detail: String,
    /// What went wrong, when the relay knows: the window says it in the owner's language.
    pub problem: Option<SetupProblem>,
}

/// The channel is stored by the relay and this desk follows it; how each step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChannelConnected {
    pub profile: ProfileView,
    pub steps: Vec<SetupStepView>,
}
