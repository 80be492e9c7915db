//! Reminders: a draft, whom it reaches, and the month's quota of messages LINE counts.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::outreach::AudienceKind;

/// A reminder as the form has it, before it is scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderDraft {
    /// With `{{name}}`, `{{date}}`, `{{time}}` and `{{clinic}}`.
    pub text: String,
    /// The appointment's date and time as the message says them (free text).
    pub date: Option<String>,
    pub time: Option<String>,
    pub clinic: Option<String>,
    /// When it goes out, on the clinic's clock: `YYYY-MM-DD` and `HH:MM`.
    pub send_on: String,
    pub send_at: String,
    pub audience: AudienceKind,
    /// The patient's user id, or the tag.
    pub target: Option<String>,
}

/// `reminder_preview`: whom a draft reaches and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderPreview {
    /// Following patients it reaches now (the relay fixes the list when it goes out).
    pub recipients: u32,
    /// Patients it names (a tag's, or the one) who blocked the clinic: reported blocked.
    pub blocked: u32,
    /// Whom the preview is written for; null when it reaches nobody.
    pub sample: Option<String>,
    /// The text as that patient reads it.
    pub text: String,
    /// The month's quota as LINE tells it; null when LINE could not be asked.
    pub quota: Option<QuotaView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QuotaView {
    /// Null: no limit.
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
    #[ts(type = "number")]
    pub used: u64,
}

/// Names one reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderRequest {
    pub id: String,
}
