//! The events the app emits to the window, by name, with the payloads that are the app's
//! own (the sync's status and the desk's notices are the desk's types).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The event `desk-changed`: what an applied batch of the log changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskChanged {
    pub conversations: Vec<String>,
    pub contacts: Vec<String>,
    pub settings: bool,
    /// A follower sync began, moved on or ended.
    pub followers: bool,
    /// A reminder was scheduled, cancelled or (partly) delivered.
    pub reminders: bool,
    /// Happened now, not caught up on.
    pub live: bool,
}

/// `alert-open`: the operator clicked a notification, or followed a `tsunagi://` link to a
/// chat; the window opens the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertOpened {
    pub conversation: String,
    /// A link asked for it: anyone can make one, so the window only shows the chat
    /// (`conversation_show`), and nothing is marked read until the operator opens it.
    pub linked: bool,
}

/// `desk-removed`: the relay said an owner removed this computer from the clinic; its copy
/// of patients' conversations and files was deleted, and it has left the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskRemoved {
    /// When (ms since the epoch).
    #[ts(type = "number")]
    pub at: i64,
}

/// `update-progress`: bytes of the update downloaded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateProgress {
    pub received: f64,
    pub total: Option<f64>,
}

/// The events the app emits, by name, with their payloads.
pub const EVENT_CHANGED: &str = "desk-changed";
pub const EVENT_STATUS: &str = "desk-status";
/// Something to alert the operator to: the window words it and plays its sound.
pub const EVENT_ALERT: &str = "desk-alert";
/// A notification was clicked: the window opens its chat.
pub const EVENT_ALERT_OPEN: &str = "alert-open";
/// Alerts were paused or resumed (from the tray or the window).
pub const EVENT_ALERTS_PAUSED: &str = "alerts-paused";
/// The background look found a newer version.
pub const EVENT_UPDATE_AVAILABLE: &str = "update-available";
/// An update's download goes on.
pub const EVENT_UPDATE_PROGRESS: &str = "update-progress";
/// An owner removed this computer from the clinic, and its copy was deleted.
pub const EVENT_REMOVED: &str = "desk-removed";
