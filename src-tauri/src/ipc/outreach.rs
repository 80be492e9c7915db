//! Reminders: a draft, whom it reaches, and the month's quota of messages LINE counts.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
pub use tsunagi_desk::actions::ReminderDraft;

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
