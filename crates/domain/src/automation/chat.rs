//! What the bot knows of each chat: its mode and session, its reply tokens, its place in
//! the queue, a greeting it owes, and the language its patient writes in.

use std::collections::VecDeque;

use tsunagi_line::UserId;
use tsunagi_line::id::ReplyToken;
use tsunagi_proto::{ConversationId, ConversationMode, Entry, Seq, UnixMillis};

use crate::session::{self, Status};

use super::{Bot, Said};

/// Reply tokens kept per conversation.
const TOKENS_KEPT: usize = 8;
/// The longest LINE honours a reply token: a redelivered event's, 20 minutes after the
/// event. Older ones are dropped.
const TOKEN_USABLE_MS: i64 = 20 * 60 * 1000;
/// How long a greeting that says `{{name}}` waits for the new follower's profile before it
/// goes without the name.
pub const NAME_WAIT_MS: i64 = 5_000;

/// A reply token of the chat: the entry it came with, when, and whether an attempt took it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Token {
    pub(super) token: ReplyToken,
    pub(super) of: Seq,
    pub(super) at: UnixMillis,
    pub(super) used: bool,
}

/// What the bot knows of a conversation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Chat {
    pub(super) state: session::Conversation,
    /// The open session: the seq that opened it, and when.
    pub(super) session: Option<(Seq, UnixMillis)>,
    /// The newest message in or out, for auto-close.
    pub(super) active_at: UnixMillis,
    pub(super) active_seq: Seq,
    /// The newest reply tokens, newest last: the newest answers new sends; the others
    /// are kept so that an attempt logged with one of them can be retried after a restart.
    pub(super) tokens: VecDeque<Token>,
    /// The clinic's day on which the away reply last went out.
    pub(super) away_sent: Option<jiff::civil::Date>,
    /// A handoff the bot decided and whose mode change is not in the log yet.
    pub(super) handing_off: bool,
    /// A handoff asked for while closed (the seq of the asking), done at opening.
    pub(super) deferred: Option<Seq>,
    /// The language the patient last wrote in, by its script, until their profile says.
    pub(super) wrote_in: Option<String>,
    /// A greeting that says `{{name}}`, waiting for the profile of a patient who just
    /// followed (or for [`NAME_WAIT_MS`] to pass).
    pub(super) owed_greeting: Option<OwedGreeting>,
    /// Since when the chat waits in the queue for a person, if it does.
    #[serde(default)]
    pub(super) waiting: Option<Waiting>,
    /// The newest texts of the chat, in and out, oldest first: what the AI responder is
    /// shown.
    #[serde(default)]
    pub(super) said: VecDeque<Said>,
    /// The patient's newest question for the AI responder, not answered yet: its seq.
    #[serde(default)]
    pub(super) question: Option<Seq>,
    /// When the patient was last sent the urgent-care message.
    #[serde(default)]
    pub(super) urgent_at: Option<UnixMillis>,
}

/// A stretch of waiting in the queue.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Waiting {
    /// The entry that put the chat in the queue.
    pub(super) seq: Seq,
    pub(super) at: UnixMillis,
    /// The owners have been alerted to it.
    pub(super) escalated: bool,
}

/// A greeting decided, to be sent once the patient's name is known.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct OwedGreeting {
    /// The cause its send is logged under (`greeting/<seq of the follow>`).
    pub(super) cause: String,
    pub(super) text: String,
    /// When the follow arrived.
    pub(super) at: UnixMillis,
}

impl Chat {
    /// Starts or ends the stretch of waiting after `entry` changed the chat's session.
    pub(super) fn note_waiting(&mut self, entry: &Entry) {
        let waits = self
            .state
            .open
            .as_ref()
            .is_some_and(|o| o.status == Status::Waiting);
        match (waits, &self.waiting) {
            (true, None) => {
                self.waiting = Some(Waiting {
                    seq: entry.seq,
                    at: entry.at,
                    escalated: false,
                });
            }
            (false, Some(_)) => self.waiting = None,
            _ => {}
        }
    }

    pub(super) fn new(at: UnixMillis, seq: Seq) -> Self {
        Self {
            state: session::Conversation {
                mode: ConversationMode::Bot,
                open: None,
            },
            session: None,
            active_at: at,
            active_seq: seq,
            tokens: VecDeque::new(),
            away_sent: None,
            handing_off: false,
            deferred: None,
            wrote_in: None,
            owed_greeting: None,
            waiting: None,
            said: VecDeque::new(),
            question: None,
            urgent_at: None,
        }
    }

    pub(super) fn in_bot_mode(&self) -> bool {
        self.state.mode == ConversationMode::Bot && !self.handing_off
    }

    /// Keeps the reply token of `entry`, the newest, and drops the oldest of more than
    /// [`TOKENS_KEPT`].
    pub(super) fn note_token(&mut self, token: &ReplyToken, entry: &Entry) {
        // A token past even a redelivered event's life can answer nothing more.
        self.tokens
            .retain(|t| entry.at.0 - t.at.0 <= TOKEN_USABLE_MS);
        if self.tokens.len() == TOKENS_KEPT {
            self.tokens.pop_front();
        }
        self.tokens.push_back(Token {
            token: token.clone(),
            of: entry.seq,
            at: entry.at,
            used: false,
        });
    }
}

impl Bot {
    pub(super) fn chat(&mut self, conversation: &ConversationId, entry: &Entry) -> &mut Chat {
        self.chats
            .entry(conversation.clone())
            .or_insert_with(|| Chat::new(entry.at, entry.seq))
    }

    /// The patient's language: their LINE app's, else the script they last wrote in.
    pub(super) fn language(&self, conversation: &ConversationId) -> Option<&str> {
        let profile = self
            .contacts
            .get(&UserId::new(conversation.as_str()))
            .and_then(|c| c.language.as_deref());
        profile.or_else(|| self.chats.get(conversation)?.wrote_in.as_deref())
    }
}

/// The language a text is written in, judged by its script: Thai, Japanese (kana),
/// Chinese (Han without kana), or English (Latin letters).
pub(super) fn language_of(text: &str) -> Option<&'static str> {
    let mut han = false;
    let mut latin = false;
    for c in text.chars() {
        match c {
            '\u{0E00}'..='\u{0E7F}' => return Some("th"),
            '\u{3040}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}' => return Some("ja"),
            '\u{4E00}'..='\u{9FFF}' => han = true,
            'a'..='z' | 'A'..='Z' => latin = true,
            _ => {}
        }
    }
    if han {
        Some("zh")
    } else if latin {
        Some("en")
    } else {
        None
    }
}
