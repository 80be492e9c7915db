//! The app in the OS: alerts and their pause, the tray's words and count, and updates.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The tray menu in the operator's words, and its tooltip ("3 waiting").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TrayWords {
    pub open: String,
    pub pause_30: String,
    pub pause_60: String,
    pub resume: String,
    pub quit: String,
    pub waiting: String,
}

/// `lock_set_pin`, `lock_open`: a PIN for the window's lock, never kept as itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LockPinRequest {
    pub pin: String,
}

impl std::fmt::Debug for LockPinRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LockPinRequest { pin: … }")
    }
}

/// `presence_update`: how many wait, for the tray and the badge, and the tray's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PresenceRequest {
    pub waiting: u32,
    pub words: TrayWords,
}

/// `alert_show`: a notice in the operator's words, to show as a native notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertShowRequest {
    pub title: String,
    pub body: String,
    /// The chat a click on the notification opens.
    pub conversation: Option<String>,
}

/// `alerts-paused`, `alert_paused`, `alert_pause`: until when alerts are paused (ms since
/// the epoch), or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertsPaused {
    #[ts(type = "number | null")]
    pub until: Option<i64>,
}

/// `update_settings`: how this computer looks for updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateSettings {
    pub current_version: String,
    /// The update address set on this computer, if any.
    pub address: Option<String>,
    /// The address this build came with, used when none is set here.
    pub built_in_address: Option<String>,
    /// False for a build with no key to check updates with: it never looks.
    pub can_verify: bool,
    /// False when this copy was not installed from a package (a developer's build).
    pub installable: bool,
    /// The version "Later" was said to, while it is not offered.
    pub postponed: Option<String>,
}

/// `update_settings_set`: this computer's update address; empty or none goes back to the
/// built-in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateSettingsRequest {
    pub address: Option<String>,
}

/// `update_check`, `update_download`, `update-available`: a newer version on offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateOffer {
    pub version: String,
    /// What is new, as the release wrote it.
    pub notes: Option<String>,
    /// When it was published (ms since the epoch).
    pub published: Option<f64>,
}
