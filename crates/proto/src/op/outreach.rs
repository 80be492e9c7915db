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
}
