//! Who an operation is about: conversations, how they are answered, why one raises an
//! alert, and contacts' LINE profiles.

use serde::{Deserialize, Serialize};
use tsunagi_line::webhook::Chat;
use tsunagi_line::{UserId, string_id};

// For the doc links only: their text goes into the TypeScript bindings as it is written.
#[cfg(doc)]
use super::Operation;

string_id!(
    /// A conversation: the LINE user, group or room id it is with.
    ConversationId
);

impl ConversationId {
    /// A 1:1 chat with one LINE user (LINE's user ids start with `U`; groups' with `C`,
    /// rooms' with `R`).
    pub fn is_one_to_one(&self) -> bool {
        self.as_str().starts_with('U')
    }
}

impl From<&Chat> for ConversationId {
    fn from(chat: &Chat) -> Self {
        ConversationId::new(chat.id())
    }
}

/// Who answers a conversation: the bot's automations, or people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationMode {
    Bot,
    Human,
}

/// Why an [`Operation::Alert`] was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertReason {
    /// A patient asked for a person and is waiting in the queue.
    Handoff,
    /// A chat has waited past the clinic's escalation time with nobody taking it: the
    /// owners' desks are alerted too.
    Escalated,
    /// A patient wrote words of an emergency: every desk is alerted, even in quiet hours.
    RedFlag,
}

/// A LINE user's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactProfile {
    pub user_id: UserId,
    pub display_name: String,
    #[serde(default)]
    pub picture_url: Option<String>,
    #[serde(default)]
    pub status_message: Option<String>,
    /// The language of the user's LINE app, such as `th`, `ja` or `zh-TW`.
    #[serde(default)]
    pub language: Option<String>,
    /// Listed among the account's followers when the profile was fetched.
    #[serde(default)]
    pub follower: bool,
}
