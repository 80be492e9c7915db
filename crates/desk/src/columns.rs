//! How the desk's store spells what it keeps: the closed sets of words stored as text (a
//! message's direction, a session's status …) with their reading back, the conversation
//! mode's words, how a message's row id follows from its log entry, the page sizes
//! queries take, and a message's body without what its columns hold (`body`). The
//! projection writes these and the queries read them; neither owns them.

pub(crate) mod body;

use serde::{Deserialize, Serialize};
use tsunagi_proto::ConversationMode;

use crate::{Error, Result};

/// Most messages one entry can carry (a message's id is its seq × this + its place).
pub const MESSAGES_PER_ENTRY: i64 = 1024;

/// The most items one page of a query holds.
pub const MAX_PAGE: u32 = 500;

pub(crate) fn check_limit(limit: u32) -> Result<i64> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(Error::Invalid(format!(
            "a page holds 1 to {MAX_PAGE} items, not {limit}"
        )));
    }
    Ok(i64::from(limit))
}

/// Declares a closed set of words stored as text: the enum, its text, and reading it back.
macro_rules! stored_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub(crate) fn parse(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(Error::unreadable(format!(
                        concat!("the store holds an unknown ", stringify!($name), " {:?}"), other
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Who a conversation is with, stored as its word (`ChatKind::as_str`).
pub use tsunagi_proto::ChatKind;
stored_words!(
    /// Where a session stands: in the queue, with an operator, or over.
    SessionStatus { Waiting = "waiting", Active = "active", Closed = "closed" }
);
stored_words!(
    /// From the patient, from the team (or the bot), or a note of what happened.
    Direction { In = "in", Out = "out", System = "system" }
);
stored_words!(
    /// Who wrote the message an inbox row previews.
    Speaker { Patient = "patient", Bot = "bot", Staff = "staff" }
);
stored_words!(
    /// What the relay keeps of a message's media.
    MediaState { Stored = "stored", Gone = "gone", Failed = "failed" }
);

stored_words!(
    /// How a sent message went out: by reply token (free) or by push (counted).
    SentVia { Reply = "reply", Push = "push" }
);
stored_words!(
    /// An outgoing message: waiting for the relay's executor, delivered, or given up on.
    SendStatus {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
        /// Failed as far as the relay knows, but LINE may have carried it out: a reply it
        /// did not confirm (stored as failed, with `unconfirmed` set).
        Unconfirmed = "unconfirmed",
    }
);

pub(crate) fn mode_from(text: &str) -> Result<ConversationMode> {
    match text {
        "bot" => Ok(ConversationMode::Bot),
        "human" => Ok(ConversationMode::Human),
        other => Err(Error::unreadable(format!("unknown mode {other}"))),
    }
}

pub(crate) fn mode_text(mode: ConversationMode) -> &'static str {
    match mode {
        ConversationMode::Bot => "bot",
        ConversationMode::Human => "human",
    }
}
