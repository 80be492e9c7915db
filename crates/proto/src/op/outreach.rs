//! Reaching many patients: reminders, who they go to and what became of them, and how a
//! follower sync ended.

use serde::{Deserialize, Serialize};
use tsunagi_line::UserId;

use crate::ids::UnixMillis;

/// A message to patients at a time: `text` with `{{name}}`, `{{date}}`, `{{time}}` and
/// `{{clinic}}` filled in (the name per patient, the others from here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub text: String,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub clinic: Option<String>,
    /// When it goes out.
    pub at: UnixMillis,
    pub to: Audience,
}

/// Who a reminder goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "audience", rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    /// One patient.
    Contact { user: UserId },
    /// Every following contact with this tag.
    Tag { tag: String },
    /// Every following contact.
    Following,
}

/// How a follower sync ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SyncOutcome {
    Done {
        total: u64,
    },
    /// LINE lists followers only for verified and premium accounts.
    Unavailable {
        reason: String,
    },
    Failed {
        reason: String,
    },
}

/// What became of a reminder for one patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientResult {
    pub user: UserId,
    #[serde(flatten)]
    pub outcome: RecipientOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RecipientOutcome {
    Sent,
    /// LINE refused, with its reason (the month's quota, for one).
    Failed {
        reason: String,
    },
    /// The patient blocked the account: nothing was sent.
    Blocked,
    /// Nothing was sent: the patient asked for no reminders, or never agreed to them
    /// where the clinic asks first.
    OptedOut {
        why: OptOut,
    },
}

/// Why a patient gets no reminders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum OptOut {
    /// They wrote one of the clinic's stop words.
    StopWord { word: String },
    /// They withdrew their consent to reminders (or an operator recorded that they did).
    Withdrew,
    /// The clinic asks for consent before any reminder, and they have not given it.
    NoConsent,
}

/// What a patient agrees to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// To be sent reminders.
    Reminders,
    /// To have health questions handled on LINE.
    HealthOnLine,
}

impl ConsentKind {
    /// Its word, as serde writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Reminders => "reminders",
            ConsentKind::HealthOnLine => "health_on_line",
        }
    }
}
