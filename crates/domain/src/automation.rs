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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use tsunagi_line::client::RetryKey;
use tsunagi_line::id::ReplyToken;
use tsunagi_line::message::MAX_MULTICAST_RECIPIENTS;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_line::webhook::{Event, EventKind, IncomingMessage, MessageContent, Mode};
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{
    AiSettings, AlertReason, Audience, ConversationId, ConversationMode, Credential, Delivery,
    Entry, EntryBody, Greetings, HandoffSettings, KeywordRule, LoggedOp, OpId, Operation,
    OperatorId, RecipientOutcome, RedFlagSettings, Reminder, SendOp, Seq, Setting,
    TelegramSettings, UnixMillis,
};
use uuid::Uuid;

use crate::handoff::{HandoffKeywords, KeywordRules};
use crate::hours::Hours;
use crate::red_flag::{self, RedFlags};
use crate::session::{self, Action, Change, Status};
use crate::{conversation, csat, template};

mod assistant;
mod telegram;

pub use assistant::{AiQuestion, Said};
pub use telegram::{About, TelegramAlert};

/// How long after its webhook arrived a reply token is used; LINE allows about a minute.
pub const REPLY_TOKEN_MS: i64 = 50_000;
/// Most messages in one LINE call.
pub const MESSAGES_PER_CALL: usize = 5;
/// A send not delivered within LINE's retry-key memory fails instead of going out late.
pub const SEND_EXPIRES_MS: i64 = 24 * 60 * 60 * 1000;
/// Reply tokens kept per conversation.
const TOKENS_KEPT: usize = 8;
/// The longest LINE honours a reply token: a redelivered event's, 20 minutes after the
/// event. Older ones are dropped.
const TOKEN_USABLE_MS: i64 = 20 * 60 * 1000;
/// How long after a reminder a patient's message counts as answering it.
pub const REMINDER_REPLY_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// The postback data with which a rich menu or button asks for a person.
pub const HANDOFF_POSTBACK: &str = "tsunagi:handoff";
/// How many recent claims the queue's wait estimate averages.
const WAITS_REMEMBERED: usize = 20;
/// How long a greeting that says `{{name}}` waits for the new follower's profile before it
/// goes without the name.
pub const NAME_WAIT_MS: i64 = 5_000;
/// The estimated wait per place in the queue before anyone was ever claimed.
const DEFAULT_WAIT_MS: i64 = 5 * 60 * 1000;
/// A patient who writes words of an emergency again this soon after the urgent-care
/// message is not sent it again (the desks are alerted each time).
pub const URGENT_AGAIN_MS: i64 = 30 * 60 * 1000;

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

/// A send in the log that LINE has not taken yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub op_id: OpId,
    pub seq: Seq,
    pub at: UnixMillis,
    pub send: SendOp,
    /// How an earlier attempt went out, if one was logged (`sending`).
    pub attempt: Option<Attempt>,
    /// Attempts LINE certainly did not carry out (`not_sent`).
    pub failed_attempts: u32,
}

impl Pending {
    /// The id of the note of a new attempt by `via`; each attempt after one LINE certainly
    /// did not carry out is noted anew.
    pub fn attempt_cause(&self, via: Delivery) -> String {
        let via = match via {
            Delivery::Reply => "reply",
            Delivery::Push => "push",
        };
        match self.failed_attempts {
            0 => format!("sending/{}/{via}", self.op_id),
            n => format!("sending/{}/{via}/{n}", self.op_id),
        }
    }

    /// The id of the record that LINE did not carry out the attempt noted last.
    pub fn not_sent_cause(&self) -> String {
        format!("not-sent/{}/{}", self.op_id, self.failed_attempts)
    }

    /// Whether the attempt noted last was by reply, may have gone out, and its token is no
    /// longer known (it was dropped from the chat's few kept tokens before the note was
    /// read): it can be neither asked about again nor pushed after, which could answer
    /// twice. The executor ends such a send unconfirmed rather than plan it.
    pub fn lost_reply(&self) -> bool {
        matches!(
            self.attempt,
            Some(Attempt::Reply {
                token: None,
                open: true,
                ..
            })
        )
    }

    /// The id of the record that LINE's answer to the attempt noted last was a 5xx or lost.
    pub fn unanswered_cause(&self) -> String {
        format!("unanswered/{}/{}", self.op_id, self.failed_attempts)
    }
}

/// A delivery attempt noted in the log before it was made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Attempt {
    /// With the reply token of the entry `of` (`None` if it is no longer known), given at
    /// `at`. `open` until LINE certainly refused it: LINE may have carried it out.
    /// `unanswered` once LINE answered it 5xx or not at all.
    Reply {
        token: Option<ReplyToken>,
        of: Seq,
        at: UnixMillis,
        open: bool,
        #[serde(default)]
        unanswered: bool,
    },
    Push,
}

/// How one LINE call of a send goes out.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// With the reply token of the entry `of`; `if_spent` says what LINE refusing the token
    /// means.
    Reply {
        token: ReplyToken,
        of: Seq,
        if_spent: IfSpent,
    },
    Push {
        to: ConversationId,
        key: RetryKey,
    },
}

/// What LINE answering that a reply token is used or too old means for a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfSpent {
    /// A new attempt (noted first): nothing went out, so push instead.
    Push,
    /// The attempt noted before was cut short by the executor stopping (LINE gave no
    /// failure), and its token is still within LINE's minute: only that attempt can have
    /// used it, and LINE carries out what it takes, so the send went out.
    WentOut,
    /// An attempt with it may have gone out, and LINE answered it 5xx or not at all, or the
    /// token is old enough to have lapsed: whether the patient has the message cannot be
    /// known. Never pushed, which could answer twice; the desk hears that it may not have
    /// arrived. (Asking again while the token lasts is safe: a token works once, so LINE
    /// taking it now proves the first attempt did not.)
    Unconfirmed,
}

/// One LINE call of a send: up to five messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub messages: Vec<Message>,
    pub route: Route,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Token {
    token: ReplyToken,
    of: Seq,
    at: UnixMillis,
    used: bool,
}

/// What the bot knows of a conversation.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Chat {
    state: session::Conversation,
    /// The open session: the seq that opened it, and when.
    session: Option<(Seq, UnixMillis)>,
    /// The newest message in or out, for auto-close.
    active_at: UnixMillis,
    active_seq: Seq,
    /// The newest reply tokens, newest last: the newest answers new sends; the others
    /// are kept so that an attempt logged with one of them can be retried after a restart.
    tokens: VecDeque<Token>,
    /// The clinic's day on which the away reply last went out.
    away_sent: Option<jiff::civil::Date>,
    /// A handoff the bot decided and whose mode change is not in the log yet.
    handing_off: bool,
    /// A handoff asked for while closed (the seq of the asking), done at opening.
    deferred: Option<Seq>,
    /// The language the patient last wrote in, by its script, until their profile says.
    wrote_in: Option<String>,
    /// A greeting that says `{{name}}`, waiting for the profile of a patient who just
    /// followed (or for [`NAME_WAIT_MS`] to pass).
    owed_greeting: Option<OwedGreeting>,
    /// Since when the chat waits in the queue for a person, if it does.
    #[serde(default)]
    waiting: Option<Waiting>,
    /// The newest texts of the chat, in and out, oldest first: what the AI responder is
    /// shown.
    #[serde(default)]
    said: VecDeque<Said>,
    /// The patient's newest question for the AI responder, not answered yet: its seq.
    #[serde(default)]
    question: Option<Seq>,
    /// When the patient was last sent the urgent-care message.
    #[serde(default)]
    urgent_at: Option<UnixMillis>,
}

/// A stretch of waiting in the queue.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Waiting {
    /// The entry that put the chat in the queue.
    seq: Seq,
    at: UnixMillis,
    /// The owners have been alerted to it.
    escalated: bool,
}

/// A greeting decided, to be sent once the patient's name is known.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct OwedGreeting {
    /// The cause its send is logged under (`greeting/<seq of the follow>`).
    cause: String,
    text: String,
    /// When the follow arrived.
    at: UnixMillis,
}

impl Chat {
    /// Starts or ends the stretch of waiting after `entry` changed the chat's session.
    fn note_waiting(&mut self, entry: &Entry) {
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

    fn new(at: UnixMillis, seq: Seq) -> Self {
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

    fn in_bot_mode(&self) -> bool {
        self.state.mode == ConversationMode::Bot && !self.handing_off
    }
}

/// The settings in force, compiled for matching. Kept in a snapshot as the settings
/// themselves, and compiled again when it is read.
#[derive(Debug, Clone, Default)]
struct Settings {
    /// Each setting as logged, by name: what the rest is compiled from.
    logged: BTreeMap<&'static str, Setting>,
    /// The keyword rules as logged, and compiled for matching.
    rules: Vec<KeywordRule>,
    keywords: KeywordRules,
    greetings: Greetings,
    handoff: HandoffSettings,
    handoff_words: HandoffKeywords,
    hours: Option<Hours>,
    away: Option<String>,
    ai: Option<AiSettings>,
    telegram: Option<TelegramSettings>,
    red_flags: RedFlagsInForce,
}

/// The red flags in force: as an owner set them, else as seeded for the clinic's time
/// zone; and compiled for matching.
#[derive(Debug, Clone)]
struct RedFlagsInForce {
    settings: RedFlagSettings,
    words: RedFlags,
}

impl RedFlagsInForce {
    fn new(settings: RedFlagSettings) -> Self {
        let words = RedFlags::new(&settings);
        Self { settings, words }
    }
}

impl Default for RedFlagsInForce {
    fn default() -> Self {
        Self::new(red_flag::seeded(None))
    }
}

/// What the bot knows of a LINE user.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Contact {
    /// Their LINE app's language and their name, once their profile is known.
    language: Option<String>,
    name: Option<String>,
    following: bool,
    blocked: bool,
    tags: BTreeSet<String>,
}

/// A reminder in the log, and how far it went.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Scheduled {
    op_id: OpId,
    reminder: Reminder,
    by: OperatorId,
    /// Fixed when it came due.
    recipients: Option<Vec<UserId>>,
    /// Parts whose results are logged.
    done: BTreeSet<u32>,
    cancelled: bool,
}

/// One part of a reminder's recipients, to send in one go.
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderPart {
    pub reminder: OpId,
    pub part: u32,
    /// Recipients who blocked the account: nothing goes to them.
    pub blocked: Vec<UserId>,
    pub send: ReminderSend,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReminderSend {
    /// The same message to all of them, in one call.
    Multicast {
        to: Vec<UserId>,
        message: Message,
        key: RetryKey,
    },
    /// A message of their own to each (the text names them).
    Push(Vec<(UserId, Message, RetryKey)>),
}

/// One channel's log, folded for the executor.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Bot {
    seq: Seq,
    settings: Settings,
    chats: HashMap<ConversationId, Chat>,
    contacts: HashMap<UserId, Contact>,
    pending: BTreeMap<Seq, Pending>,
    pending_by_op: HashMap<OpId, Seq>,
    /// How long recently claimed sessions waited, newest last.
    waits: VecDeque<i64>,
    reminders: BTreeMap<Seq, Scheduled>,
    reminder_by_op: HashMap<OpId, Seq>,
    /// Who was last sent a reminder, by whom and when: their reply goes to that operator.
    reminded: HashMap<UserId, (OperatorId, UnixMillis)>,
    /// Media LINE hosts that the relay has not fetched yet, oldest first.
    media: BTreeMap<Seq, PendingMedia>,
    media_by_id: HashMap<MessageId, Seq>,
    syncs: BTreeMap<Seq, FollowerSync>,
    sync_by_op: HashMap<OpId, Seq>,
    /// The credentials the relay holds for the channel, as the log says.
    #[serde(default)]
    credentials: HashSet<Credential>,
    /// Telegram alerts not sent yet, by the seq of their cause.
    #[serde(default)]
    telegram: BTreeMap<Seq, TelegramAlert>,
}

/// A follower sync in the log, and how far it got.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct FollowerSync {
    op_id: OpId,
    /// Follower ids in the order LINE listed them, page by page.
    ids: Vec<UserId>,
    listed: HashSet<UserId>,
    pages: u32,
    next: Option<String>,
    /// Every page is listed.
    complete: bool,
    /// Followers whose profile is logged since the sync began.
    profiled: HashSet<UserId>,
    finished: bool,
}

/// What a follower sync needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStep {
    /// The next page of follower ids, from `start` (LINE's `next` of the page before).
    Page {
        sync: OpId,
        page: u32,
        start: Option<String>,
    },
    /// Profiles to fetch, and how far the sync is.
    Profiles {
        sync: OpId,
        users: Vec<UserId>,
        done: u64,
        total: u64,
    },
    /// Every listed follower is profiled.
    Finish { sync: OpId, total: u64 },
}

/// A message whose media LINE hosts and the relay should keep.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingMedia {
    pub message: MessageId,
    /// Images and videos have a thumbnail too.
    pub preview: bool,
    /// The most bytes LINE's download may have (LINE's limit for its kind, or a file's
    /// declared size).
    pub limit: u64,
    /// Kept by the sender outside LINE (`contentProvider: external`): fetched from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<Outside>,
}

/// Where media hosted outside LINE is: the original, and its preview if the sender gave
/// one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outside {
    pub original: String,
    pub preview: Option<String>,
}

/// The version of [`Bot::snapshot`]'s format: a snapshot of another is not read (the
/// executor folds the log from the start instead).
pub const SNAPSHOT_VERSION: u32 = 1;

/// A snapshot this version cannot read.
#[derive(Debug, thiserror::Error)]
#[error("an executor snapshot this version cannot read: {0}")]
pub struct SnapshotError(String);

#[derive(serde::Serialize)]
struct SnapshotOut<'a> {
    version: u32,
    bot: &'a Bot,
}

#[derive(serde::Deserialize)]
struct SnapshotIn {
    version: u32,
    bot: Bot,
}

/// Just the version of a snapshot, to say which it is when it cannot be read.
#[derive(serde::Deserialize)]
struct SnapshotVersion {
    version: u32,
}

impl Bot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything folded so far, to start from instead of the log's first entry: what
    /// [`Bot::from_snapshot`] reads back into the same state.
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&SnapshotOut {
            version: SNAPSHOT_VERSION,
            bot: self,
        })
        .unwrap_or_default()
    }

    pub fn from_snapshot(bytes: &[u8]) -> Result<Bot, SnapshotError> {
        let other_version = |version: u32| {
            SnapshotError(format!(
                "version {version} (this one reads {SNAPSHOT_VERSION})"
            ))
        };
        match serde_json::from_slice::<SnapshotIn>(bytes) {
            Ok(read) if read.version == SNAPSHOT_VERSION => Ok(read.bot),
            Ok(read) => Err(other_version(read.version)),
            // Another version's state may not parse as this one's: say which it was.
            Err(error) => match serde_json::from_slice::<SnapshotVersion>(bytes) {
                Ok(read) if read.version != SNAPSHOT_VERSION => Err(other_version(read.version)),
                _ => Err(SnapshotError(error.to_string())),
            },
        }
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
                if let Ok(event) = Event::read(event.to_owned()) {
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

    /// The next step of the oldest follower sync not finished, with at most `batch`
    /// profiles to fetch.
    pub fn follower_sync(&self, batch: usize) -> Option<SyncStep> {
        let sync = self.syncs.values().find(|s| !s.finished)?;
        if !sync.complete {
            return Some(SyncStep::Page {
                sync: sync.op_id,
                page: sync.pages,
                start: sync.next.clone(),
            });
        }
        let total = sync.ids.len() as u64;
        let users: Vec<UserId> = sync
            .ids
            .iter()
            .filter(|u| !sync.profiled.contains(*u))
            .take(batch)
            .cloned()
            .collect();
        if users.is_empty() {
            return Some(SyncStep::Finish {
                sync: sync.op_id,
                total,
            });
        }
        Some(SyncStep::Profiles {
            sync: sync.op_id,
            users,
            done: sync.profiled.len() as u64,
            total,
        })
    }

    /// Media to fetch from LINE, oldest first.
    pub fn pending_media(&self) -> impl Iterator<Item = &PendingMedia> {
        self.media.values()
    }

    /// Sends waiting for LINE, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &Pending> {
        self.pending.values()
    }

    /// How `pending` goes out at `now`, a call per five messages. The first call uses a
    /// reply token of the conversation if the send prefers it and one is fresh and unused;
    /// the others push, each with its own retry key drawn from the send's.
    pub fn plan(&self, pending: &Pending, now: UnixMillis) -> Vec<Call> {
        let send = &pending.send;
        let push = Route::Push {
            to: send.conversation.clone(),
            key: send.retry_key,
        };
        let fresh = |at: UnixMillis| now.0 - at.0 <= REPLY_TOKEN_MS;
        let first = match &pending.attempt {
            Some(Attempt::Reply {
                token: Some(token),
                of,
                at,
                open,
                unanswered,
            }) => match (*open, fresh(*at)) {
                (true, true) if !*unanswered => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::WentOut,
                },
                (true, _) => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::Unconfirmed,
                },
                // LINE did not take the last attempt: another, while the token lasts.
                (false, true) => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::Push,
                },
                (false, false) => push,
            },
            Some(Attempt::Push) | Some(Attempt::Reply { token: None, .. }) => push,
            None => match self.fresh_token(&send.conversation, now) {
                Some(token) if send.prefer_reply_token => Route::Reply {
                    token: token.token.clone(),
                    of: token.of,
                    if_spent: IfSpent::Push,
                },
                _ => push,
            },
        };
        send.messages
            .chunks(MESSAGES_PER_CALL)
            .enumerate()
            .map(|(n, messages)| Call {
                messages: messages.to_vec(),
                route: if n == 0 {
                    first.clone()
                } else {
                    Route::Push {
                        to: send.conversation.clone(),
                        key: part_key(send.retry_key, n),
                    }
                },
            })
            .collect()
    }

    /// A reply token of the chat that is unused and still alive, the newest first: a
    /// patient who wrote and then tapped "talk to staff" gave two, and the bot's queue line
    /// took only one, so the operator's answer a moment later is still free.
    fn fresh_token(&self, conversation: &ConversationId, now: UnixMillis) -> Option<&Token> {
        self.chats
            .get(conversation)?
            .tokens
            .iter()
            .rev()
            .find(|t| !t.used && now.0 - t.at.0 <= REPLY_TOKEN_MS)
    }

    /// What time calls for at `now`: sessions idle past the auto-close time are closed, and
    /// handoffs asked for while closed happen once the clinic opens.
    pub fn due(&self, now: UnixMillis) -> Vec<Decision> {
        let mut decisions = Vec::new();
        for scheduled in self.reminders.values() {
            if !scheduled.cancelled
                && scheduled.recipients.is_none()
                && scheduled.reminder.at <= now
            {
                decisions.push(log(
                    &format!("reminder/{}/recipients", scheduled.op_id),
                    Operation::ReminderRecipients {
                        reminder: scheduled.op_id,
                        recipients: self.audience(&scheduled.reminder.to),
                    },
                ));
            }
        }
        let mut chats: Vec<_> = self.chats.iter().collect();
        chats.sort_by_key(|(id, _)| id.as_str());
        for (id, chat) in chats {
            if let (Some(minutes), Some((session, _))) =
                (self.settings.handoff.auto_close_minutes, chat.session)
                && now.0 - chat.active_at.0 >= i64::from(minutes) * 60_000
            {
                decisions.push(log(
                    &format!("auto-close/{}/{}", session.0, chat.active_seq.0),
                    Operation::Close {
                        conversation: id.clone(),
                    },
                ));
            }
            if let Some(asked) = chat.deferred
                && self.is_open(now)
                && chat.state.mode == ConversationMode::Bot
            {
                self.hand_off(id, asked, now, &mut decisions);
            }
            if let Some(waiting) = &chat.waiting
                && let Some(after) = self.escalate_after()
                && !waiting.escalated
                && now.0 - waiting.at.0 >= after
            {
                decisions.push(log(
                    &format!("escalate/{}", waiting.seq.0),
                    Operation::Alert {
                        conversation: id.clone(),
                        reason: AlertReason::Escalated,
                    },
                ));
            }
            // No profile came (LINE did not give it): greeted without the name.
            if let Some(owed) = &chat.owed_greeting
                && now.0 - owed.at.0 >= NAME_WAIT_MS
            {
                decisions.push(self.greet(id, &owed.cause, &owed.text, owed.at));
            }
        }
        decisions
    }

    /// When [`Bot::due`] may next have something to do, if ever.
    pub fn next_due(&self, now: UnixMillis) -> Option<UnixMillis> {
        let close = self
            .settings
            .handoff
            .auto_close_minutes
            .and_then(|minutes| {
                self.chats
                    .values()
                    .filter(|c| c.session.is_some())
                    .map(|c| UnixMillis(c.active_at.0 + i64::from(minutes) * 60_000))
                    .min()
            });
        let opening = self
            .chats
            .values()
            .any(|c| c.deferred.is_some())
            .then(|| self.settings.hours.as_ref()?.next_opening(now))
            .flatten();
        let reminder = self
            .reminders
            .values()
            .filter(|s| !s.cancelled && s.recipients.is_none())
            .map(|s| s.reminder.at)
            .min();
        let greeting = self
            .chats
            .values()
            .filter_map(|c| c.owed_greeting.as_ref())
            .map(|owed| UnixMillis(owed.at.0 + NAME_WAIT_MS))
            .min();
        let escalation = self.escalate_after().and_then(|after| {
            self.chats
                .values()
                .filter_map(|c| c.waiting.as_ref())
                .filter(|w| !w.escalated)
                .map(|w| UnixMillis(w.at.0 + after))
                .min()
        });
        [close, opening, reminder, greeting, escalation]
            .into_iter()
            .flatten()
            .min()
    }

    /// How long a chat may wait before the owners are alerted (ms), unless never.
    fn escalate_after(&self) -> Option<i64> {
        let seconds = self.settings.handoff.escalate_seconds;
        (seconds > 0).then(|| i64::from(seconds) * 1000)
    }

    fn is_open(&self, at: UnixMillis) -> bool {
        self.settings.hours.as_ref().is_none_or(|h| h.is_open(at))
    }

    fn chat(&mut self, conversation: &ConversationId, entry: &Entry) -> &mut Chat {
        self.chats
            .entry(conversation.clone())
            .or_insert_with(|| Chat::new(entry.at, entry.seq))
    }

    /// The patient's language: their LINE app's, else the script they last wrote in.
    fn language(&self, conversation: &ConversationId) -> Option<&str> {
        let profile = self
            .contacts
            .get(&UserId::new(conversation.as_str()))
            .and_then(|c| c.language.as_deref());
        profile.or_else(|| self.chats.get(conversation)?.wrote_in.as_deref())
    }

    // ─── LINE events ────────────────────────────────────────────────────────────────────

    fn line_event(&mut self, entry: &Entry, event: &Event, decisions: &mut Vec<Decision>) {
        let Some(conversation) = conversation::of_event(event) else {
            return;
        };
        let user = event.source.as_ref().and_then(|s| s.user_id()).cloned();
        if let Some(user) = &user
            && !self.contacts.contains_key(user)
        {
            self.contacts.insert(user.clone(), Contact::default());
            decisions.push(Decision::FetchProfile {
                user: user.clone(),
                chat: (event.source.as_ref().and_then(|s| s.chat()))
                    .unwrap_or_else(|| tsunagi_line::webhook::Chat::User(user.clone())),
                op_id: OpId::derived(&format!("profile/{}", entry.seq.0)),
            });
        }
        if let Some(contact) = user.as_ref().and_then(|u| self.contacts.get_mut(u)) {
            match event.kind {
                EventKind::Follow { .. } => {
                    contact.following = true;
                    contact.blocked = false;
                }
                EventKind::Unfollow => {
                    contact.following = false;
                    contact.blocked = true;
                }
                _ => {}
            }
        }
        let is_message = matches!(event.kind, EventKind::Message(_));
        if let EventKind::Message(message) = &event.kind
            && let outside = message
                .content
                .external_media()
                .map(|(original, preview)| Outside {
                    original: original.to_owned(),
                    preview: preview.map(str::to_owned),
                })
            && (message.content.has_line_content() || outside.is_some())
        {
            // (A preview is LINE's thumbnail, or the one the sender hosts beside it.)
            let preview = match &outside {
                Some(outside) => outside.preview.is_some(),
                None => matches!(
                    message.content,
                    MessageContent::Image { .. } | MessageContent::Video { .. }
                ),
            };
            self.media.insert(
                entry.seq,
                PendingMedia {
                    message: message.id.clone(),
                    preview,
                    limit: message
                        .content
                        .content_limit()
                        .unwrap_or(tsunagi_line::webhook::MAX_FILE_BYTES),
                    outside,
                },
            );
            self.media_by_id.insert(message.id.clone(), entry.seq);
        }
        // The chat's texts are kept for the AI responder only, while it is set up.
        let keeps_texts = self.settings.ai.is_some();
        let chat = self.chat(&conversation, entry);
        if let Some(token) = event.reply_token.as_ref().filter(|_| event.is_replyable()) {
            // A token past even a redelivered event's life can answer nothing more.
            chat.tokens
                .retain(|t| entry.at.0 - t.at.0 <= TOKEN_USABLE_MS);
            if chat.tokens.len() == TOKENS_KEPT {
                chat.tokens.pop_front();
            }
            chat.tokens.push_back(Token {
                token: token.clone(),
                of: entry.seq,
                at: entry.at,
                used: false,
            });
        }
        if let EventKind::Message(message) = &event.kind
            && let Some(text) = message.content.words()
        {
            if let Some(language) = language_of(text) {
                chat.wrote_in = Some(language.to_owned());
            }
            if keeps_texts {
                chat.note_said(entry.seq, true, text);
            }
        }
        if crate::conversation::patient_acts(event) {
            chat.active_at = entry.at;
            chat.active_seq = entry.seq;
            if let Some(Change::Open { status, operator }) =
                session::on_patient_message(chat.state.mode, chat.state.open.is_some())
            {
                chat.state.open = Some(session::Open { status, operator });
                chat.session = Some((entry.seq, entry.at));
                chat.note_waiting(entry);
            }
        }
        // (A channel in standby belongs to a partner's module: it sends nothing.)
        if let EventKind::Message(message) = &event.kind
            && let Some(text) = message.content.words()
            && event.mode == Mode::Active
            && user.is_some()
            && conversation.is_one_to_one()
            && self.settings.red_flags.words.matches(text)
        {
            self.red_flag(&conversation, entry, decisions);
            return;
        }
        let Some(chat) = self.chats.get(&conversation) else {
            return;
        };
        if !chat.in_bot_mode() {
            return;
        }
        if is_message && let Some(user) = &user {
            self.route_reply_to_reminder(&conversation, user, entry, decisions);
            if self
                .chats
                .get(&conversation)
                .is_none_or(|c| !c.in_bot_mode())
            {
                return;
            }
        }
        if !event.is_replyable() {
            return;
        }
        match &event.kind {
            EventKind::Follow { is_unblocked } => {
                let greeting = if *is_unblocked {
                    &self.settings.greetings.refollow
                } else {
                    &self.settings.greetings.follow
                };
                if let Some(text) = greeting.clone() {
                    let cause = format!("greeting/{}", entry.seq.0);
                    let says_name = template::pieces(&text)
                        .is_ok_and(|p| p.contains(&template::Piece::Variable("name")));
                    let name_known = user
                        .as_ref()
                        .and_then(|u| self.contacts.get(u))
                        .is_some_and(|c| c.name.is_some());
                    if says_name && !name_known {
                        // Its profile is fetched now: the greeting waits for the name.
                        if let Some(chat) = self.chats.get_mut(&conversation) {
                            chat.owed_greeting = Some(OwedGreeting {
                                cause,
                                text,
                                at: entry.at,
                            });
                        }
                    } else {
                        decisions.push(self.greet(&conversation, &cause, &text, entry.at));
                    }
                }
            }
            EventKind::Postback(postback)
                if postback.data == HANDOFF_POSTBACK
                    || self.settings.handoff.postbacks.contains(&postback.data) =>
            {
                self.ask_for_people(&conversation, entry, decisions);
            }
            // The bot cannot read it, so people must.
            EventKind::Message(IncomingMessage {
                content: MessageContent::Unreadable { .. },
                ..
            }) => self.ask_for_people(&conversation, entry, decisions),
            EventKind::Message(message) => {
                let Some(text) = message.content.words() else {
                    return;
                };
                if self.settings.handoff_words.matches(text) {
                    self.ask_for_people(&conversation, entry, decisions);
                } else if let Some(reply) = self.keyword_reply(&conversation, text) {
                    decisions.push(log(
                        &format!("keyword/{}", entry.seq.0),
                        self.send(&conversation, reply),
                    ));
                } else if self.ai_answers(entry.at) {
                    // The executor asks the model; its answer, or the handoff, is logged.
                    if let Some(chat) = self.chats.get_mut(&conversation) {
                        chat.question = Some(entry.seq);
                    }
                } else if !self.is_open(entry.at) {
                    self.away(&conversation, entry, decisions);
                }
            }
            _ => {}
        }
    }

    /// A patient wrote words of an emergency: whatever the hour and whoever holds the
    /// chat, it goes to people (the desks put it first in the queue), every desk and the
    /// owners' Telegram are alerted, and the patient is told to call the emergency number.
    /// The bot, its queue line and the AI responder say nothing.
    fn red_flag(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        let cause = format!("red-flag/{}", entry.seq.0);
        let Some(chat) = self.chats.get_mut(conversation) else {
            return;
        };
        if chat.in_bot_mode() {
            decisions.push(to_people(&cause, conversation));
            chat.handing_off = true;
        }
        // An earlier question the model is still thinking about: its answer is only noted.
        chat.question = None;
        let told_lately = chat
            .urgent_at
            .is_some_and(|at| entry.at.0 - at.0 < URGENT_AGAIN_MS);
        if !told_lately {
            chat.urgent_at = Some(entry.at);
        }
        decisions.push(log(
            &format!("{cause}/alert"),
            Operation::Alert {
                conversation: conversation.clone(),
                reason: AlertReason::RedFlag,
            },
        ));
        if told_lately {
            return;
        }
        let language = self.language(conversation);
        if let Some(text) = red_flag::message(&self.settings.red_flags.settings, language) {
            let text = self.fill(&text, conversation, entry.at, &[]);
            decisions.push(log(
                &format!("{cause}/message"),
                self.send(conversation, vec![Message::text(text)]),
            ));
        }
    }

    fn keyword_reply(&self, conversation: &ConversationId, text: &str) -> Option<Vec<Message>> {
        let rule = (self.settings.keywords).first_match(text, self.language(conversation))?;
        Some(self.settings.rules[rule].reply.clone())
    }

    /// A patient asks for a person: the chat goes to the queue now, or at opening.
    fn ask_for_people(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        if self.is_open(entry.at) {
            self.hand_off(conversation, entry.seq, entry.at, decisions);
            if let Some(chat) = self.chats.get_mut(conversation) {
                chat.handing_off = true;
            }
        } else {
            self.away(conversation, entry, decisions);
            if let Some(chat) = self.chats.get_mut(conversation)
                && chat.deferred.is_none()
            {
                chat.deferred = Some(entry.seq);
            }
        }
    }

    /// Hands a chat to people: HUMAN mode (a waiting session), an alert for the desks, and
    /// the queue message telling the patient their place and the expected wait.
    fn hand_off(
        &self,
        conversation: &ConversationId,
        asked: Seq,
        at: UnixMillis,
        decisions: &mut Vec<Decision>,
    ) {
        let cause = format!("handoff/{}", asked.0);
        decisions.push(to_people(&cause, conversation));
        decisions.push(log(
            &format!("{cause}/alert"),
            Operation::Alert {
                conversation: conversation.clone(),
                reason: AlertReason::Handoff,
            },
        ));
        let position = self.waiting() + 1;
        let wait_minutes = (self.wait_per_place() * position as i64 + 59_999) / 60_000;
        let text = self
            .settings
            .greetings
            .handoff
            .clone()
            .unwrap_or_else(|| default_queue_message(self.language(conversation)).to_owned());
        let (position, wait_minutes) = (position.to_string(), wait_minutes.to_string());
        let text = self.fill(
            &text,
            conversation,
            at,
            &[("position", &position), ("wait", &wait_minutes)],
        );
        decisions.push(log(
            &format!("{cause}/greeting"),
            self.send(conversation, vec![Message::text(text)]),
        ));
    }

    /// Sessions waiting in the queue.
    fn waiting(&self) -> usize {
        self.chats
            .values()
            .filter(|c| {
                c.state
                    .open
                    .as_ref()
                    .is_some_and(|o| o.status == Status::Waiting)
                    || c.handing_off
            })
            .count()
    }

    /// The average wait of recent claims, per place in the queue.
    fn wait_per_place(&self) -> i64 {
        if self.waits.is_empty() {
            return DEFAULT_WAIT_MS;
        }
        self.waits.iter().sum::<i64>() / self.waits.len() as i64
    }

    /// The away reply, once a day per conversation, if there is one.
    fn away(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        let Some((send, today)) = self.away_reply(conversation, entry.seq, entry.at) else {
            return;
        };
        if let Some(chat) = self.chats.get_mut(conversation) {
            chat.away_sent = Some(today);
        }
        decisions.push(send);
    }

    /// The away reply to the entry `seq` at `at`, unless it went out that day already,
    /// and the clinic's day.
    fn away_reply(
        &self,
        conversation: &ConversationId,
        seq: Seq,
        at: UnixMillis,
    ) -> Option<(Decision, jiff::civil::Date)> {
        let (Some(hours), Some(text)) = (&self.settings.hours, self.settings.away.as_ref()) else {
            return None;
        };
        let today = hours.day(at);
        if self.chats.get(conversation)?.away_sent == Some(today) {
            return None;
        }
        let text = self.fill(text, conversation, at, &[]);
        let send = log(
            &format!("away/{}", seq.0),
            self.send(conversation, vec![Message::text(text)]),
        );
        Some((send, today))
    }

    /// A greeting's send, its variables filled.
    fn greet(
        &self,
        conversation: &ConversationId,
        cause: &str,
        text: &str,
        at: UnixMillis,
    ) -> Decision {
        let text = self.fill(text, conversation, at, &[]);
        log(cause, self.send(conversation, vec![Message::text(text)]))
    }

    /// `text` with the variables the validator lets greetings and the away reply use: the
    /// patient's `{{name}}` (empty while unknown), the clinic's `{{date}}` and `{{time}}`
    /// at `at` in its time zone, `{{clinic}}`, and `extra`. None is ever left as written.
    fn fill(
        &self,
        text: &str,
        conversation: &ConversationId,
        at: UnixMillis,
        extra: &[(&str, &str)],
    ) -> String {
        let name = self
            .contacts
            .get(&UserId::new(conversation.as_str()))
            .and_then(|c| c.name.clone())
            .unwrap_or_default();
        let local = match &self.settings.hours {
            Some(hours) => hours.local(at),
            None => jiff::Timestamp::from_millisecond(at.0)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_zoned(jiff::tz::TimeZone::UTC),
        };
        let date = local.strftime("%Y-%m-%d").to_string();
        let time = local.strftime("%H:%M").to_string();
        let clinic = self.settings.greetings.clinic.clone().unwrap_or_default();
        let mut values = vec![
            ("name", name.as_str()),
            ("date", date.as_str()),
            ("time", time.as_str()),
            ("clinic", clinic.as_str()),
        ];
        values.extend_from_slice(extra);
        let filled = template::fill(text, &values);
        // A variable left empty leaves no doubled or dangling space behind.
        filled
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn send(&self, conversation: &ConversationId, messages: Vec<Message>) -> Operation {
        Operation::Send(SendOp {
            conversation: conversation.clone(),
            messages,
            // Replaced by the op's own id in `log`, so a decision made twice keeps its key.
            retry_key: RetryKey(Uuid::nil()),
            prefer_reply_token: true,
        })
    }

    /// A patient answering a reminder within a week goes to the operator who scheduled it.
    fn route_reply_to_reminder(
        &mut self,
        conversation: &ConversationId,
        user: &UserId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        if conversation.as_str() != user.as_str() {
            return;
        }
        let Some((by, at)) = self.reminded.get(user).cloned() else {
            return;
        };
        if entry.at.0 - at.0 > REMINDER_REPLY_MS {
            return;
        }
        self.reminded.remove(user);
        let cause = format!("reminder-reply/{}", entry.seq.0);
        decisions.push(to_people(&cause, conversation));
        decisions.push(log(
            &format!("{cause}/assign"),
            Operation::Transfer {
                conversation: conversation.clone(),
                to: by,
            },
        ));
        if let Some(chat) = self.chats.get_mut(conversation) {
            chat.handing_off = true;
        }
    }

    fn scheduled(&mut self, reminder: &OpId) -> Option<&mut Scheduled> {
        let seq = self.reminder_by_op.get(reminder)?;
        self.reminders.get_mut(seq)
    }

    /// Who a reminder goes to, as the log stands.
    fn audience(&self, to: &Audience) -> Vec<UserId> {
        let mut users: Vec<UserId> = match to {
            Audience::Contact { user } => vec![user.clone()],
            // A tagged patient who blocked the account stays on the list, to be reported
            // blocked: the clinic learns whom the reminder could not reach.
            Audience::Tag { tag } => self
                .contacts
                .iter()
                .filter(|(_, c)| (c.following || c.blocked) && c.tags.contains(tag.trim()))
                .map(|(u, _)| u.clone())
                .collect(),
            Audience::Following => self
                .contacts
                .iter()
                .filter(|(_, c)| c.following)
                .map(|(u, _)| u.clone())
                .collect(),
        };
        users.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        users
    }

    /// Reminders whose recipients are fixed, in parts still to send, oldest first.
    pub fn reminder_parts(&self) -> Vec<ReminderPart> {
        let mut parts = Vec::new();
        for scheduled in self.reminders.values().filter(|s| !s.cancelled) {
            let Some(recipients) = &scheduled.recipients else {
                continue;
            };
            let reminder = &scheduled.reminder;
            let personal = template::pieces(&reminder.text)
                .is_ok_and(|p| p.contains(&template::Piece::Variable("name")));
            for (n, chunk) in recipients.chunks(MAX_MULTICAST_RECIPIENTS).enumerate() {
                let part = n as u32;
                if scheduled.done.contains(&part) {
                    continue;
                }
                let (blocked, reachable): (Vec<UserId>, Vec<UserId>) = chunk
                    .iter()
                    .cloned()
                    .partition(|u| self.contacts.get(u).is_some_and(|c| c.blocked));
                let text = |user: Option<&UserId>| {
                    let name = user
                        .and_then(|u| self.contacts.get(u)?.name.clone())
                        .unwrap_or_default();
                    template::reminder_text(reminder, &name)
                };
                let key = |what: &str| {
                    RetryKey(Uuid::new_v5(
                        &scheduled.op_id.0,
                        format!("part/{part}/{what}").as_bytes(),
                    ))
                };
                let send = if personal {
                    ReminderSend::Push(
                        reachable
                            .iter()
                            .map(|u| (u.clone(), Message::text(text(Some(u))), key(u.as_str())))
                            .collect(),
                    )
                } else {
                    ReminderSend::Multicast {
                        to: reachable,
                        message: Message::text(text(None)),
                        key: key("multicast"),
                    }
                };
                parts.push(ReminderPart {
                    reminder: scheduled.op_id,
                    part,
                    blocked,
                    send,
                });
            }
        }
        parts
    }

    // ─── Ops ────────────────────────────────────────────────────────────────────────────

    fn operation(
        &mut self,
        entry: &Entry,
        actor: &session::Actor,
        op: &Operation,
        decisions: &mut Vec<Decision>,
    ) {
        let by = &actor.operator;
        let action = match op {
            Operation::Claim { conversation } => Some((conversation, Action::Claim)),
            Operation::Release { conversation } => Some((conversation, Action::Release)),
            Operation::Transfer { conversation, to } => {
                Some((conversation, Action::Transfer { to: to.clone() }))
            }
            Operation::Close { conversation } => Some((conversation, Action::Close)),
            Operation::SetMode { conversation, mode } => {
                Some((conversation, Action::SetMode(*mode)))
            }
            _ => None,
        };
        if let Some((conversation, action)) = action {
            self.session_action(entry, conversation, &action, actor, decisions);
            return;
        }
        match op {
            Operation::Alert {
                conversation,
                reason,
            } => {
                if *reason == AlertReason::Escalated
                    && let Some(waiting) = self
                        .chats
                        .get_mut(conversation)
                        .and_then(|c| c.waiting.as_mut())
                {
                    waiting.escalated = true;
                }
                self.alert_on_telegram(entry, conversation, *reason);
            }
            Operation::CredentialSet { credential, set } => {
                if *set {
                    self.credentials.insert(*credential);
                } else {
                    self.credentials.remove(credential);
                }
            }
            Operation::AiAnswered {
                conversation,
                question,
                outcome,
                ..
            } => self.fold_ai_answer(entry, conversation, *question, outcome),
            Operation::TelegramSending { cause } => {
                if let Some(alert) = self.telegram.get_mut(cause) {
                    alert.noted = true;
                }
            }
            Operation::TelegramSent { cause, .. } => {
                self.telegram.remove(cause);
            }
            Operation::Send(send) => {
                let op_id = match &entry.body {
                    EntryBody::Op { op_id, .. } => *op_id,
                    EntryBody::Line { .. } => return,
                };
                let keeps_texts = self.settings.ai.is_some();
                let chat = self.chat(&send.conversation, entry);
                chat.active_at = entry.at;
                chat.active_seq = entry.seq;
                for message in &send.messages {
                    if let MessageBody::Text { text, .. } = &message.body
                        && keeps_texts
                    {
                        chat.note_said(entry.seq, false, text);
                    }
                }
                // An owed greeting that went out (the executor logged it before a restart).
                if chat
                    .owed_greeting
                    .as_ref()
                    .is_some_and(|owed| OpId::derived(&owed.cause) == op_id)
                {
                    chat.owed_greeting = None;
                }
                self.pending.insert(
                    entry.seq,
                    Pending {
                        op_id,
                        seq: entry.seq,
                        at: entry.at,
                        send: send.clone(),
                        attempt: None,
                        failed_attempts: 0,
                    },
                );
                self.pending_by_op.insert(op_id, entry.seq);
            }
            Operation::Sending {
                send,
                via,
                token_of,
            } => {
                let Some(pending) = self
                    .pending_by_op
                    .get(send)
                    .and_then(|seq| self.pending.get_mut(seq))
                else {
                    return;
                };
                pending.attempt = Some(match (via, token_of) {
                    (Delivery::Reply, Some(of)) => {
                        let token = self
                            .chats
                            .get_mut(&pending.send.conversation)
                            .and_then(|c| c.tokens.iter_mut().find(|t| t.of == *of));
                        let at = token.as_ref().map_or(UnixMillis(0), |t| t.at);
                        Attempt::Reply {
                            token: token.map(|t| {
                                t.used = true;
                                t.token.clone()
                            }),
                            of: *of,
                            at,
                            open: true,
                            unanswered: false,
                        }
                    }
                    _ => Attempt::Push,
                });
            }
            Operation::NotSent { send, .. } => {
                let Some(pending) = self
                    .pending_by_op
                    .get(send)
                    .and_then(|seq| self.pending.get_mut(seq))
                else {
                    return;
                };
                pending.failed_attempts += 1;
                if let Some(Attempt::Reply { open, .. }) = &mut pending.attempt {
                    *open = false;
                }
            }
            Operation::Unanswered { send, .. } => {
                if let Some(Attempt::Reply { unanswered, .. }) = self
                    .pending_by_op
                    .get(send)
                    .and_then(|seq| self.pending.get_mut(seq))
                    .and_then(|pending| pending.attempt.as_mut())
                {
                    *unanswered = true;
                }
            }
            Operation::SyncFollowers => {
                if let EntryBody::Op { op_id, .. } = &entry.body {
                    self.syncs.insert(
                        entry.seq,
                        FollowerSync {
                            op_id: *op_id,
                            ids: Vec::new(),
                            listed: HashSet::new(),
                            pages: 0,
                            next: None,
                            complete: false,
                            profiled: HashSet::new(),
                            finished: false,
                        },
                    );
                    self.sync_by_op.insert(*op_id, entry.seq);
                }
            }
            Operation::FollowerIds {
                sync,
                page,
                user_ids,
                next,
            } => {
                let Some(sync) = self
                    .sync_by_op
                    .get(sync)
                    .and_then(|s| self.syncs.get_mut(s))
                else {
                    return;
                };
                if *page != sync.pages || sync.complete {
                    return;
                }
                for user in user_ids {
                    if sync.listed.insert(user.clone()) {
                        sync.ids.push(user.clone());
                    }
                }
                sync.pages += 1;
                sync.next.clone_from(next);
                sync.complete = next.is_none();
            }
            Operation::FollowerSyncProgress { sync, skipped, .. } => {
                if let Some(sync) = self
                    .sync_by_op
                    .get(sync)
                    .and_then(|s| self.syncs.get_mut(s))
                {
                    sync.profiled.extend(skipped.iter().cloned());
                }
            }
            Operation::FollowerSyncDone { sync, .. } => {
                if let Some(sync) = self
                    .sync_by_op
                    .get(sync)
                    .and_then(|s| self.syncs.get_mut(s))
                {
                    sync.finished = true;
                }
            }
            Operation::Media { message, .. } => {
                if let Some(seq) = self.media_by_id.remove(message) {
                    self.media.remove(&seq);
                }
            }
            Operation::Sent { send, .. } | Operation::SendFailed { send, .. } => {
                if let Some(seq) = self.pending_by_op.remove(send) {
                    self.pending.remove(&seq);
                }
            }
            Operation::Settings(setting) => self.settings.set(setting),
            Operation::Profiles { profiles } => {
                for sync in self.syncs.values_mut().filter(|s| !s.finished) {
                    sync.profiled.extend(
                        profiles
                            .iter()
                            .map(|p| &p.user_id)
                            .filter(|u| sync.listed.contains(*u))
                            .cloned(),
                    );
                }
                for profile in profiles {
                    let contact = self.contacts.entry(profile.user_id.clone()).or_default();
                    contact.language.clone_from(&profile.language);
                    contact.name = Some(profile.display_name.clone());
                    if profile.follower {
                        contact.following = true;
                        contact.blocked = false;
                    }
                    // The name a greeting waited for.
                    let conversation = ConversationId::from(profile.user_id.as_str());
                    let owed = self
                        .chats
                        .get_mut(&conversation)
                        .and_then(|c| c.owed_greeting.take());
                    if let Some(owed) = owed {
                        decisions.push(self.greet(&conversation, &owed.cause, &owed.text, owed.at));
                    }
                }
            }
            Operation::Tag {
                contact,
                tag,
                added,
            } => {
                let tags = &mut self.contacts.entry(contact.clone()).or_default().tags;
                if *added {
                    tags.insert(tag.trim().to_owned());
                } else {
                    tags.remove(tag.trim());
                }
            }
            Operation::ScheduleReminder(reminder) => {
                if let EntryBody::Op { op_id, .. } = &entry.body {
                    self.reminders.insert(
                        entry.seq,
                        Scheduled {
                            op_id: *op_id,
                            reminder: reminder.clone(),
                            by: by.clone(),
                            recipients: None,
                            done: BTreeSet::new(),
                            cancelled: false,
                        },
                    );
                    self.reminder_by_op.insert(*op_id, entry.seq);
                }
            }
            Operation::CancelReminder { reminder } => {
                if let Some(scheduled) = self.scheduled(reminder)
                    && crate::validate::may_cancel(&scheduled.reminder, actor.oversees)
                {
                    scheduled.cancelled = true;
                }
            }
            Operation::ReminderRecipients {
                reminder,
                recipients,
            } => {
                if let Some(scheduled) = self.scheduled(reminder)
                    && scheduled.recipients.is_none()
                {
                    scheduled.recipients = Some(recipients.clone());
                }
            }
            Operation::ReminderDelivered {
                reminder,
                part,
                results,
            } => {
                let Some(scheduled) = self.scheduled(reminder) else {
                    return;
                };
                scheduled.done.insert(*part);
                let by = scheduled.by.clone();
                for result in results {
                    if result.outcome == RecipientOutcome::Sent {
                        self.reminded
                            .insert(result.user.clone(), (by.clone(), entry.at));
                    }
                }
                let failed = results
                    .iter()
                    .filter(|r| matches!(r.outcome, RecipientOutcome::Failed { .. }))
                    .count();
                if failed > 0 {
                    self.alert_reminder_failed(entry, failed);
                }
            }
            _ => {}
        }
    }

    fn session_action(
        &mut self,
        entry: &Entry,
        conversation: &ConversationId,
        action: &Action,
        actor: &session::Actor,
        decisions: &mut Vec<Decision>,
    ) {
        let Some(chat) = self.chats.get_mut(conversation) else {
            return;
        };
        let Ok(changes) = session::decide(Some(&chat.state), action, actor) else {
            return;
        };
        let mut closed = false;
        for change in changes {
            match change {
                Change::Mode(mode) => {
                    chat.state.mode = mode;
                    chat.handing_off = false;
                    chat.question = None;
                    if mode == ConversationMode::Human {
                        chat.deferred = None;
                    }
                }
                Change::Open { status, operator } => {
                    chat.state.open = Some(session::Open { status, operator });
                    chat.session = Some((entry.seq, entry.at));
                    chat.active_at = entry.at;
                    chat.active_seq = entry.seq;
                }
                Change::Assign { operator, .. } => {
                    if let Some(open) = &mut chat.state.open {
                        if open.status == Status::Waiting
                            && let Some((_, started)) = chat.session
                        {
                            self.waits.push_back(entry.at.0 - started.0);
                            if self.waits.len() > WAITS_REMEMBERED {
                                self.waits.pop_front();
                            }
                        }
                        open.status = Status::Active;
                        open.operator = Some(operator);
                    }
                }
                Change::Unassign => {
                    if let Some(open) = &mut chat.state.open {
                        open.status = Status::Waiting;
                        open.operator = None;
                    }
                }
                Change::Close => {
                    chat.state.open = None;
                    chat.session = None;
                    closed = true;
                }
            }
        }
        chat.note_waiting(entry);
        if closed && self.settings.handoff.csat && conversation.is_one_to_one() {
            let question = csat::question(self.language(conversation));
            decisions.push(log(
                &format!("csat/{}", entry.seq.0),
                self.send(conversation, vec![question]),
            ));
        }
    }
}

impl serde::Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.logged.values())
    }
}

impl<'de> serde::Deserialize<'de> for Settings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let logged: Vec<Setting> = serde::Deserialize::deserialize(deserializer)?;
        let mut settings = Settings::default();
        for setting in &logged {
            settings.set(setting);
        }
        Ok(settings)
    }
}

impl Settings {
    fn set(&mut self, setting: &Setting) {
        self.logged.insert(setting.name(), setting.clone());
        match setting {
            Setting::KeywordRules { rules } => {
                self.keywords = KeywordRules::new(rules);
                self.rules = rules.clone();
            }
            Setting::Greetings(greetings) => self.greetings = greetings.clone(),
            Setting::Handoff(handoff) => {
                let words: Vec<&String> = handoff.all_keywords().collect();
                self.handoff_words = if words.is_empty() {
                    HandoffKeywords::default()
                } else {
                    HandoffKeywords::new(words)
                };
                self.handoff = handoff.clone();
            }
            Setting::BusinessHours(hours) => {
                self.hours = Hours::new(hours).ok();
                self.away = hours.away_message.clone();
                // Until an owner sets red flags, the emergency number is the zone's.
                if !self.logged.contains_key("red_flags") {
                    let seeded = red_flag::seeded(Some(hours.time_zone.as_str()));
                    self.red_flags = RedFlagsInForce::new(seeded);
                }
            }
            Setting::Ai(ai) => self.ai = Some(ai.clone()),
            Setting::Telegram(telegram) => self.telegram = Some(telegram.clone()),
            Setting::RedFlags(flags) => self.red_flags = RedFlagsInForce::new(flags.clone()),
            // What desks do, not the bot.
            Setting::CannedResponses { .. }
            | Setting::Templates { .. }
            | Setting::ReadReceipts(_)
            | Setting::ContactFields { .. } => {}
        }
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

/// The retry key of the `n`th call of a send (the first uses the send's own).
fn part_key(key: RetryKey, n: usize) -> RetryKey {
    RetryKey(Uuid::new_v5(&key.0, format!("part/{n}").as_bytes()))
}

/// The language a text is written in, judged by its script: Thai, Japanese (kana),
/// Chinese (Han without kana), or English (Latin letters).
fn language_of(text: &str) -> Option<&'static str> {
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

/// The queue message when the team wrote none, in the patient's language.
fn default_queue_message(language: Option<&str>) -> &'static str {
    match language.map(|l| l.split('-').next().unwrap_or(l)) {
        Some("th") => "เจ้าหน้าที่จะตอบกลับโดยเร็วค่ะ คุณอยู่คิวที่ {{position}} รอประมาณ {{wait}} นาที",
        Some("ja") => "担当者におつなぎします。{{position}}番目にお待ちです(約{{wait}}分)。",
        Some("zh") => "已為您轉接專人服務,您目前排在第 {{position}} 位,預計等候約 {{wait}} 分鐘。",
        _ => {
            "A member of our team will be with you shortly. You are number {{position}} in the queue (about {{wait}} min)."
        }
    }
}

#[cfg(test)]
mod tests;
