//! Operations: what operators (and the relay's executor) add to the log.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::webhook::Chat;
use tsunagi_line::{UserId, string_id};
use uuid::Uuid;

string_id!(
    /// A desktop (or the relay's executor) that appends to the log.
    DeviceId
);
string_id!(
    /// A person at the desk, as named when their device enrolled.
    OperatorId
);
string_id!(
    /// A conversation: the LINE user, group or room id it is with.
    ConversationId
);

impl From<&Chat> for ConversationId {
    fn from(chat: &Chat) -> Self {
        ConversationId::new(chat.id())
    }
}

/// The client-chosen id of an operation: the relay stores each one once, forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpId(pub Uuid);

impl OpId {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for OpId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Who answers a conversation: the bot's automations, or people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationMode {
    Bot,
    Human,
}

/// An operation, as appended. JSON: `{"type": "claim", "conversation": "U…"}` and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    /// An operator takes a waiting conversation. The first claim in the log wins.
    Claim { conversation: ConversationId },
    /// The operator hands the conversation back to the waiting queue.
    Release { conversation: ConversationId },
    /// Hand an active conversation to another operator.
    Transfer {
        conversation: ConversationId,
        to: OperatorId,
    },
    /// End the current session.
    Close { conversation: ConversationId },
    /// Switch between the bot and people.
    SetMode {
        conversation: ConversationId,
        mode: ConversationMode,
    },
    /// Send messages; the relay's executor does the LINE call and logs the result.
    Send(SendOp),
    /// A private note about a contact, never sent to LINE.
    Note { contact: UserId, text: String },
    /// Add or remove a tag on a contact.
    Tag {
        contact: UserId,
        tag: String,
        added: bool,
    },
}

/// Messages to send to a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendOp {
    pub conversation: ConversationId,
    pub messages: Vec<Message>,
    /// Fixed when the send is first logged, so no retry can send twice.
    pub retry_key: RetryKey,
    /// Use the conversation's reply token while it is valid (free), else push.
    #[serde(default = "yes")]
    pub prefer_reply_token: bool,
}

fn yes() -> bool {
    true
}

/// An operation as found in the log. A newer relay or desktop may log operations this
/// version does not know; they are kept as they were written and shown as unsupported.
#[derive(Debug, Clone)]
pub enum LoggedOp {
    Known(Operation),
    Unsupported(Box<RawValue>),
}

impl LoggedOp {
    pub fn known(&self) -> Option<&Operation> {
        match self {
            LoggedOp::Known(op) => Some(op),
            LoggedOp::Unsupported(_) => None,
        }
    }
}

impl From<Operation> for LoggedOp {
    fn from(op: Operation) -> Self {
        LoggedOp::Known(op)
    }
}

impl PartialEq for LoggedOp {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (LoggedOp::Known(a), LoggedOp::Known(b)) => a == b,
            (LoggedOp::Unsupported(a), LoggedOp::Unsupported(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl Serialize for LoggedOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LoggedOp::Known(op) => op.serialize(serializer),
            LoggedOp::Unsupported(raw) => raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for LoggedOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Ok(match serde_json::from_str::<Operation>(raw.get()) {
            Ok(op) => LoggedOp::Known(op),
            Err(_) => LoggedOp::Unsupported(raw),
        })
    }
}
