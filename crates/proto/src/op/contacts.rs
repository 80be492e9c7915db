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
    /// Who the conversation is with, as its id says (LINE's user ids start with `U`,
    /// groups' with `C`, rooms' with `R`); `None` for an id LINE would not give.
    pub fn kind(&self) -> Option<ChatKind> {
        match self.as_str().as_bytes().first() {
            Some(b'U') => Some(ChatKind::User),
            Some(b'C') => Some(ChatKind::Group),
            Some(b'R') => Some(ChatKind::Room),
            _ => None,
        }
    }

    /// A 1:1 chat with one LINE user.
    pub fn is_one_to_one(&self) -> bool {
        self.kind() == Some(ChatKind::User)
    }
}

/// Who a conversation is with: one LINE user, a group, or a multi-person chat (a room).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    User,
    Group,
    Room,
}

impl ChatKind {
    /// Its word, as JSON and the desks' stores spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatKind::User => "user",
            ChatKind::Group => "group",
            ChatKind::Room => "room",
        }
    }
}

impl std::str::FromStr for ChatKind {
    type Err = String;

    fn from_str(word: &str) -> Result<Self, Self::Err> {
        [ChatKind::User, ChatKind::Group, ChatKind::Room]
            .into_iter()
            .find(|kind| kind.as_str() == word)
            .ok_or_else(|| format!("{word:?} is not a kind of chat"))
    }
}

impl std::fmt::Display for ChatKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
