//! Sends and what became of them: how a send reached LINE, the media the relay fetched,
//! and the outcomes of the AI responder and of Telegram alerts.

use serde::{Deserialize, Serialize};
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;

use super::contacts::ConversationId;
use crate::ids::OpId;

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

/// How a send reached LINE: a reply (free, with the webhook's token) or a push (counted
/// against the monthly quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Reply,
    Push,
}

/// What became of a message's media.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum MediaOutcome {
    /// Kept by the relay; `preview` says whether a thumbnail is kept too.
    Stored {
        content_type: String,
        size: u64,
        preview: bool,
    },
    /// The user unsent the message first: LINE no longer has it.
    Gone,
    Failed {
        reason: String,
    },
}

/// What the AI responder did with a question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AiOutcome {
    /// The model answered; `send` is the answer's send.
    Answered { send: OpId },
    /// The model could not help (it asked for a person, refused, failed or took too
    /// long): the chat went to people. Why, for people.
    HandedOver { reason: String },
}

/// What became of a Telegram alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TelegramOutcome {
    /// Sent to this many of the chats; `failed` says why the others were not, and
    /// `trouble` what kept the first of them from it.
    Sent {
        chats: u32,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        failed: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trouble: Option<TelegramTrouble>,
    },
    /// Not sent: Telegram refused (the bot's token, for one) or could not be reached.
    /// `reason` in the relay's words; `trouble`, for the owner to mend.
    Failed {
        reason: String,
        #[serde(default)]
        trouble: TelegramTrouble,
    },
    /// The relay stopped while sending it: it may have gone out, so it was not sent again.
    Unconfirmed,
}

/// What kept a Telegram alert from a chat, in terms the owner can act on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TelegramTrouble {
    /// Telegram refused the bot's token: revoked at @BotFather, or the bot deleted.
    Token,
    /// The chat refused it: the bot is not in it, or was blocked there.
    Chat,
    /// Telegram could not be reached, or kept asking to wait.
    Unreachable,
    /// Alerts were off, or the relay had no bot token, when it was due.
    Off,
    /// Not sent within the hour it was worth sending in.
    Late,
    /// Anything else (and what was logged before troubles had kinds).
    #[default]
    Other,
}

impl TelegramTrouble {
    /// Every kind of trouble.
    pub const ALL: [TelegramTrouble; 6] = [
        TelegramTrouble::Token,
        TelegramTrouble::Chat,
        TelegramTrouble::Unreachable,
        TelegramTrouble::Off,
        TelegramTrouble::Late,
        TelegramTrouble::Other,
    ];

    /// Its name, as logged.
    pub fn name(self) -> &'static str {
        match self {
            TelegramTrouble::Token => "token",
            TelegramTrouble::Chat => "chat",
            TelegramTrouble::Unreachable => "unreachable",
            TelegramTrouble::Off => "off",
            TelegramTrouble::Late => "late",
            TelegramTrouble::Other => "other",
        }
    }

    /// The trouble named `name`; a name this version does not know is `Other`.
    pub fn named(name: &str) -> TelegramTrouble {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .unwrap_or_default()
    }
}
