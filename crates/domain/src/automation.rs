//! What the bot does on its own, and which sends still wait for LINE.
//!
//! A [`Bot`] folds one channel's log, entry by entry, into what the relay's executor needs:
//! each conversation's mode and session, its newest reply token, the team's settings, the
//! contacts' languages, and the sends not yet delivered. Folding an entry may decide
//! something — a greeting, a keyword reply, a handoff to people, the satisfaction question
//! after a close — always as ops to log whose ids follow from their cause. Deciding again
//! (after a restart) therefore logs nothing twice. Time-driven work (auto-close, a handoff
//! that waited for opening) is decided by [`Bot::due`] from the time it is given.
//!
//! Automations run in BOT mode only: while people hold a chat, the bot says nothing.
//!
//! The rooms: [`Bot`] and how it folds an entry are here; what it keeps lives beside what
//! it does with it — the chats (`chat`), the contacts (`contacts`), the settings
//! (`settings`), the sends waiting for LINE (`sends`), reminders (`reminders`), media
//! (`media`), follower syncs (`followers`), each kept in a `Ledger` (`ledger`) where it
//! is one — and the deciding: LINE events (`events`), ops (`ops`), handoffs (`handoff`),
//! what the bot says (`replies`), time (`due`), the AI responder (`assistant`), Telegram
//! alerts (`telegram`). How it is kept between runs is `snapshot`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use tsunagi_line::client::RetryKey;
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{
    ConversationId, ConversationMode, Credential, Entry, EntryBody, LoggedOp, OpId, Operation,
    OperatorId, Seq, UnixMillis,
};

use crate::session;

mod assistant;
mod chat;
mod contacts;
mod due;
mod events;
mod followers;
mod forget;
mod handoff;
mod ledger;
mod media;
mod ops;
mod reminders;
mod replies;
mod retention;
mod sends;
mod settings;
mod snapshot;
mod telegram;

pub use assistant::{AiQuestion, Said};
pub use chat::NAME_WAIT_MS;
pub use events::HANDOFF_POSTBACK;
pub use followers::SyncStep;
pub use handoff::URGENT_AGAIN_MS;
pub use media::{Outside, PendingMedia};
pub use reminders::{REMINDER_REPLY_MS, ReminderPart, ReminderSend};
pub use sends::{
    Attempt, Call, IfSpent, MESSAGES_PER_CALL, Pending, REPLY_TOKEN_MS, Route, SEND_EXPIRES_MS,
};
pub use snapshot::{SNAPSHOT_VERSION, SnapshotError};
pub use telegram::{About, TelegramAlert};

use chat::Chat;
use contacts::Contact;
use followers::FollowerSync;
use ledger::Ledger;
use reminders::Scheduled;
use settings::Settings;

/// An op the bot wants logged.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub op_id: OpId,
    pub op: Operation,
}

/// What folding an entry, or the passing of time, calls for.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Log(Logged),
    /// Fetch this user's LINE profile and log it (as `profiles`, under `op_id`). `chat` is
    /// where they were first seen: in a group or room LINE answers for a member who is not
    /// the account's friend only through that group's or room's member profile.
    FetchProfile {
        user: UserId,
        chat: tsunagi_line::webhook::Chat,
        op_id: OpId,
    },
}

/// One channel's log, folded for the executor. [`Bot::snapshot`] keeps it between runs.
#[derive(Debug, Clone, Default)]
pub struct Bot {
    seq: Seq,
    settings: Settings,
    chats: HashMap<ConversationId, Chat>,
    contacts: HashMap<UserId, Contact>,
    /// Sends waiting for LINE, by their op id.
    pending: Ledger<OpId, Pending>,
    /// How long recently claimed sessions waited, newest last.
    waits: VecDeque<i64>,
    /// Reminders, by their op id.
    reminders: Ledger<OpId, Scheduled>,
    /// Who was last sent a reminder, by whom and when: their reply goes to that operator.
    reminded: HashMap<UserId, (OperatorId, UnixMillis)>,
    /// Media LINE hosts that the relay has not fetched yet, oldest first, by message.
    media: Ledger<MessageId, PendingMedia>,
    /// Follower syncs, by their op id.
    syncs: Ledger<OpId, FollowerSync>,
    /// The credentials the relay holds for the channel, as the log says.
    credentials: HashSet<Credential>,
    /// Telegram alerts not sent yet, by the seq of their cause.
    telegram: BTreeMap<Seq, TelegramAlert>,
    /// The clinic's day of the last night's purge.
    expired_on: Option<jiff::civil::Date>,
}

impl Bot {
    pub fn new() -> Self {
        Self::default()
    }

    /// The seq of the last entry folded.
    pub fn seq(&self) -> Seq {
        self.seq
    }

    /// Folds the next entry in; returns what it calls for.
    pub fn apply(&mut self, entry: &Entry) -> Vec<Decision> {
        self.seq = entry.seq;
        let mut decisions = Vec::new();
        match &entry.body {
            EntryBody::Line { event, .. } => {
                if let Ok(event) = tsunagi_line::webhook::Event::read(event.to_owned()) {
                    self.line_event(entry, &event, &mut decisions);
                }
            }
            EntryBody::Op {
                device, role, op, ..
            } => {
                if let LoggedOp::Known(op) = op {
                    let actor = session::Actor::new(device, *role);
                    self.operation(entry, &actor, op, &mut decisions);
                }
            }
        }
        decisions
    }
}

/// An op to log under the id that its cause names. A send's retry key is its op id, so
/// the same decision always carries the same key.
fn log(cause: &str, mut op: Operation) -> Decision {
    let op_id = OpId::derived(cause);
    if let Operation::Send(send) = &mut op {
        send.retry_key = RetryKey(op_id.0);
    }
    Decision::Log(Logged { op_id, op })
}

/// The chat goes to people (HUMAN mode, a waiting session), because of `cause`.
fn to_people(cause: &str, conversation: &ConversationId) -> Decision {
    log(
        &format!("{cause}/mode"),
        Operation::SetMode {
            conversation: conversation.clone(),
            mode: ConversationMode::Human,
        },
    )
}

#[cfg(test)]
mod tests;
