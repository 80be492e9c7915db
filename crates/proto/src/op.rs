//! Operations: what operators (and the relay's executor) add to the log.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::webhook::Chat;
use tsunagi_line::{MarkAsReadToken, MessageId, UserId, string_id};

pub use crate::ids::{DeviceId, EXECUTOR_DEVICE, OpId, OperatorId};
use crate::ids::{Seq, UnixMillis};

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
    /// An operator read a 1:1 chat up to the message this token came with: the executor
    /// tells LINE, and the patient sees "Read" (when the account's chat is on).
    MarkRead {
        conversation: ConversationId,
        token: MarkAsReadToken,
    },
    /// An operator is writing in a 1:1 chat: the executor starts LINE's loading animation
    /// there for `seconds` (5 to 60, in fives), if the op is still fresh when it sees it.
    Typing {
        conversation: ConversationId,
        seconds: u32,
    },
    /// A private note about a contact, never sent to LINE.
    Note { contact: UserId, text: String },
    /// The clinic's own facts about a contact (a chart number, their real name …), by
    /// field; an empty value clears the field. The others stay as they were.
    ContactFields {
        contact: UserId,
        fields: BTreeMap<String, String>,
    },
    /// Add or remove a tag on a contact.
    Tag {
        contact: UserId,
        tag: String,
        added: bool,
    },
    /// Replace one team setting as a whole; the last one in the log holds.
    Settings(Setting),
    /// Contacts' LINE profiles, as the relay fetched them (on follow, on a first message,
    /// or syncing the follower list).
    Profiles { profiles: Vec<ContactProfile> },
    /// The relay's executor delivered a `send` to LINE.
    Sent {
        send: OpId,
        via: Delivery,
        /// LINE's ids of the messages sent, in order (empty for multicasts).
        #[serde(default)]
        message_ids: Vec<MessageId>,
    },
    /// The relay's executor gave up on a `send`; LINE's reason, for people.
    SendFailed {
        send: OpId,
        reason: String,
        #[serde(default)]
        details: Vec<String>,
        /// LINE may have carried it out all the same: a reply answered 5xx or not at all,
        /// whose token was spent when asked again. Never pushed after (that could answer
        /// twice); the desk says it may not have arrived and offers to send it again.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        unconfirmed: bool,
        /// LINE's `x-line-request-id` of the refusal: what LINE's support asks for.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
    /// The relay's executor is about to deliver a `send` this way: by reply, with the reply
    /// token of the entry `token_of`, or by push after LINE refused the reply. Logged before
    /// the call, because a reply cannot be repeated safely: after a restart the executor
    /// knows whether the token may already be spent. (A first push needs no such note: its
    /// retry key makes a repeat harmless.)
    Sending {
        send: OpId,
        via: Delivery,
        #[serde(default)]
        token_of: Option<Seq>,
    },
    /// LINE certainly did not carry out the attempt last noted for a `send` (it answered
    /// with an error, or could not be reached): nothing went out, and the send waits for
    /// another try. LINE's reason, for the record.
    NotSent { send: OpId, reason: String },
    /// LINE answered the reply attempt last noted for a `send` with 5xx, or not at all: it
    /// may have carried it out (a 5xx "may still have been carried out"). The token is
    /// tried once more while it lasts (a token works once, so LINE taking it proves the
    /// first attempt did not); spent, the send ends unconfirmed, never pushed.
    Unanswered { send: OpId, reason: String },
    /// Something people should notice now: the desks raise a native alert.
    Alert {
        conversation: ConversationId,
        reason: AlertReason,
    },
    /// A reminder to patients, sent by the relay at its time; the op's id names it.
    ScheduleReminder(Reminder),
    /// Calls off a reminder not yet sent (recipients already sent to stay sent).
    CancelReminder { reminder: OpId },
    /// The executor fixed who a reminder goes to, when it came due.
    ReminderRecipients {
        reminder: OpId,
        recipients: Vec<UserId>,
    },
    /// The relay fetched (or could not fetch) the media of a message LINE hosts; devices
    /// get it from `GET /v1/channels/{id}/media/{message}`.
    Media {
        message: MessageId,
        outcome: MediaOutcome,
    },
    /// Fetch the account's follower list and every follower's profile from LINE; the op's
    /// id names the sync.
    SyncFollowers,
    /// One page of follower ids, as LINE listed them; `next` asks for the page after.
    FollowerIds {
        sync: OpId,
        page: u32,
        user_ids: Vec<UserId>,
        #[serde(default)]
        next: Option<String>,
    },
    /// How far a follower sync is: profiles logged of all the followers listed. `skipped`
    /// are listed followers LINE had no profile for any more (they left meanwhile).
    FollowerSyncProgress {
        sync: OpId,
        done: u64,
        total: u64,
        #[serde(default)]
        skipped: Vec<UserId>,
    },
    /// A follower sync ended.
    FollowerSyncDone { sync: OpId, outcome: SyncOutcome },
    /// What became of one part (up to 500) of a reminder's recipients.
    ReminderDelivered {
        reminder: OpId,
        part: u32,
        results: Vec<RecipientResult>,
    },
    /// An owner gave the relay a credential, or took it away. The relay keeps it sealed;
    /// the log only says that it has one.
    CredentialSet {
        credential: Credential,
        /// Whether the relay has one now.
        set: bool,
    },
    /// The AI responder decided about a patient's question (the entry `question`): its
    /// answer is the `send` logged with this op, or the chat goes to people.
    AiAnswered {
        conversation: ConversationId,
        question: Seq,
        /// The model asked, as the endpoint named it.
        model: String,
        outcome: AiOutcome,
    },
    /// The executor is about to send the Telegram alert caused by the entry `cause`.
    /// Logged before the call, because the Bot API has no retry key: after a restart, an
    /// alert noted but not logged as sent is not sent again.
    TelegramSending { cause: Seq },
    /// What became of the Telegram alert caused by the entry `cause`.
    TelegramSent {
        cause: Seq,
        outcome: TelegramOutcome,
    },
    /// How the account is set up in LINE's console, as the relay read it from LINE's bot
    /// info (at setup, then now and then): what the desks offer depends on it.
    LineAccount(LineAccount),
}

/// The settings of a LINE Official Account that change what a desk can do.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineAccount {
    /// LINE's Chat is on (`chatMode: chat`); off (`bot`), LINE's own console cannot
    /// answer, and patients never see "Read".
    pub chat: bool,
    /// LINE marks every message read the moment it arrives (`markAsReadMode: auto`):
    /// when the desks tell LINE makes no difference.
    pub marks_read_itself: bool,
}

/// A credential the relay keeps sealed for a channel.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The AI endpoint's API key.
    AiKey,
    /// The Telegram bot's token.
    TelegramToken,
}

impl Credential {
    pub fn name(self) -> &'static str {
        match self {
            Credential::AiKey => "ai_key",
            Credential::TelegramToken => "telegram_token",
        }
    }

    /// The credential kept under `name`, if it is one.
    pub fn named(name: &str) -> Option<Credential> {
        [Credential::AiKey, Credential::TelegramToken]
            .into_iter()
            .find(|c| c.name() == name)
    }
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

impl Operation {
    /// The conversation an operator's op acts on, if it acts on one.
    pub fn conversation(&self) -> Option<&ConversationId> {
        match self {
            Operation::Claim { conversation }
            | Operation::Release { conversation }
            | Operation::Transfer { conversation, .. }
            | Operation::Close { conversation }
            | Operation::SetMode { conversation, .. }
            | Operation::Alert { conversation, .. }
            | Operation::MarkRead { conversation, .. }
            | Operation::Typing { conversation, .. } => Some(conversation),
            Operation::Send(send) => Some(&send.conversation),
            _ => None,
        }
    }
}

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

/// How a send reached LINE: a reply (free, with the webhook's token) or a push (counted
/// against the monthly quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Reply,
    Push,
}

/// A team setting, carried by a [`Operation::Settings`] op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "setting", rename_all = "snake_case", deny_unknown_fields)]
pub enum Setting {
    /// Automatic replies to keywords, in BOT mode; the first match wins.
    KeywordRules { rules: Vec<KeywordRule> },
    /// Ready-made answers operators pick from.
    CannedResponses { responses: Vec<CannedResponse> },
    /// Opening hours per weekday, holidays, and the away reply outside them.
    BusinessHours(BusinessHours),
    /// What the bot says on follow, refollow and handoff.
    Greetings(Greetings),
    /// Reminder and message templates with `{{name}}`-style variables.
    Templates { templates: Vec<MessageTemplate> },
    /// When a chat goes to people, and when an idle one closes.
    Handoff(HandoffSettings),
    /// When desks tell LINE the patient's messages were read.
    ReadReceipts(ReadReceipts),
    /// The AI responder: which endpoint and model, what it knows of the clinic, and when
    /// it answers. Its API key is a [`Credential`], never here.
    Ai(AiSettings),
    /// Alerts to the owners' Telegram chats. The bot's token is a [`Credential`].
    Telegram(TelegramSettings),
    /// Words of an emergency: a patient who writes one gets the urgent-care message, not
    /// the bot, and every desk is alerted.
    RedFlags(RedFlagSettings),
    /// Fields the clinic keeps on every contact besides the built-in ones.
    ContactFields { fields: Vec<ContactField> },
}

impl Setting {
    /// The name under which this setting is kept: one value per name.
    pub fn name(&self) -> &'static str {
        match self {
            Setting::KeywordRules { .. } => "keyword_rules",
            Setting::CannedResponses { .. } => "canned_responses",
            Setting::BusinessHours(_) => "business_hours",
            Setting::Greetings(_) => "greetings",
            Setting::Templates { .. } => "templates",
            Setting::Handoff(_) => "handoff",
            Setting::ReadReceipts(_) => "read_receipts",
            Setting::Ai(_) => "ai",
            Setting::Telegram(_) => "telegram",
            Setting::RedFlags(_) => "red_flags",
            Setting::ContactFields { .. } => "contact_fields",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub pattern: String,
    #[serde(rename = "match")]
    pub matching: KeywordMatch,
    /// Only for patients writing in this language (`th`, `ja`, `zh-TW`, `en`); any if absent.
    #[serde(default)]
    pub language: Option<String>,
    pub reply: Vec<Message>,
}

/// How a keyword rule's pattern is matched. Every kind sees the patient's message the
/// same way: in NFKC (full-width letters and digits as their plain forms), in lower case,
/// with runs of white space as one space.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordMatch {
    /// The whole message is the pattern (taken the same way).
    Exact,
    /// The message holds the pattern (taken the same way).
    Contains,
    /// A regular expression (Rust's `regex` syntax), taken in NFKC and matched without
    /// regard to case, at most 1,000 characters.
    Regex,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    pub title: String,
    pub text: String,
    /// For patients whose LINE is in this language (`th`, `ja`, `zh-TW`, `en`); any if
    /// absent. The composer offers a patient's own language first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// An IANA time zone, such as `Asia/Tokyo`.
    pub time_zone: String,
    /// Opening hours; a weekday without any is closed.
    pub open: Vec<OpeningHours>,
    /// Closed all day, as `YYYY-MM-DD` in the time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Sent once a day per conversation to patients who write while closed.
    #[serde(default)]
    pub away_message: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// `HH:MM`, local time.
    pub from: String,
    pub to: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greetings {
    #[serde(default)]
    pub follow: Option<String>,
    /// To a patient who unblocked the account.
    #[serde(default)]
    pub refollow: Option<String>,
    /// When a chat goes to people; `{{position}}` and `{{wait}}` tell the queue.
    #[serde(default)]
    pub handoff: Option<String>,
    /// The clinic's name, as `{{clinic}}` says it in greetings and the away reply.
    #[serde(default)]
    pub clinic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub name: String,
    pub text: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSettings {
    /// Words that hand a chat to people, in any language.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// More such words, kept by language (`th`, `ja`, `zh-TW`, `en`) for the people who
    /// look after them; every patient's message is matched against all of them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keywords_by_language: BTreeMap<String, Vec<String>>,
    /// Close a session idle this long and give the chat back to the bot.
    #[serde(default)]
    pub auto_close_minutes: Option<u32>,
    /// Ask for a 1–5 rating when a session closes.
    #[serde(default)]
    pub csat: bool,
    /// A chat nobody has taken this long after it began to wait is escalated to the
    /// owners' desks (0: never).
    #[serde(default = "default_escalate_seconds")]
    pub escalate_seconds: u32,
    /// Buttons that ask for a person: a patient's postback with one of these `data`
    /// values hands the chat to people (besides Tsunagi's own handoff button).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postbacks: Vec<String>,
}

fn default_escalate_seconds() -> u32 {
    5 * 60
}

impl HandoffSettings {
    /// Every handoff word, whatever the language it is kept under.
    pub fn all_keywords(&self) -> impl Iterator<Item = &String> {
        self.keywords
            .iter()
            .chain(self.keywords_by_language.values().flatten())
    }
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            keywords: Vec::new(),
            keywords_by_language: BTreeMap::new(),
            auto_close_minutes: None,
            csat: false,
            escalate_seconds: default_escalate_seconds(),
            postbacks: Vec::new(),
        }
    }
}

/// When the patient sees "Read" under their messages (in 1:1 chats, when the account's
/// chat is on).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipts {
    pub mode: ReadMode,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMode {
    /// As soon as someone at a desk opens the chat.
    #[default]
    Opened,
    /// Only once staff answer.
    Answered,
    /// Never: the patient never sees "Read".
    Never,
}

/// The AI responder's settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiSettings {
    /// An OpenAI-compatible API, such as `https://api.openai.com/v1`: the responder
    /// calls `{base_url}/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// What the model should know of the clinic: hours, address, services, tone.
    pub prompt: String,
    /// How many earlier messages of the chat go with the question (0 to 50).
    #[serde(default = "default_ai_history")]
    pub history: u32,
    /// How long to wait for an answer before the chat goes to people (5 to 60 s).
    #[serde(default = "default_ai_timeout")]
    pub timeout_seconds: u32,
    /// Answers chats in BOT mode while the clinic is open.
    #[serde(default)]
    pub when_open: bool,
    /// Answers chats in BOT mode while the clinic is closed, instead of the away reply.
    #[serde(default)]
    pub when_closed: bool,
}

fn default_ai_history() -> u32 {
    10
}

fn default_ai_timeout() -> u32 {
    20
}

/// Words of an emergency, and what a patient who writes one is told at once.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedFlagSettings {
    /// Phrases kept by language (`ja`, `th`, `zh-TW`, `en`) for the people who look after
    /// them; every patient's message is matched against all of them.
    pub phrases: BTreeMap<String, Vec<String>>,
    /// The urgent-care message by language; `{{number}}` is the emergency number. A
    /// patient whose language has none gets the English one.
    pub messages: BTreeMap<String, String>,
    /// The number patients are told to call (119 in Japan and Taiwan, 1669 in Thailand).
    pub emergency_number: String,
}

impl RedFlagSettings {
    /// Every phrase, whatever the language it is kept under.
    pub fn all_phrases(&self) -> impl Iterator<Item = &String> {
        self.phrases.values().flatten()
    }
}

/// A field the clinic keeps on its contacts, as an owner named it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactField {
    /// Its key in [`Operation::ContactFields`]: lower-case letters, digits and `_`.
    pub key: String,
    /// What the window calls it.
    pub label: String,
}

/// The fields every clinic keeps on its contacts; the window names them in the operator's
/// language. `team_name` is the name the team uses for the patient, shown in place of their
/// LINE name.
pub const BUILT_IN_CONTACT_FIELDS: [&str; 5] = [
    "team_name",
    "real_name",
    "chart_number",
    "phone",
    "birth_date",
];

/// Telegram alerts' settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The chats alerted: a person's or a group's id.
    #[cfg_attr(feature = "ts", ts(type = "Array<number>"))]
    pub chats: Vec<i64>,
    /// Alert when a patient asks for a person.
    #[serde(default)]
    pub on_handoff: bool,
    /// Alert when a waiting chat is escalated to the owners.
    #[serde(default)]
    pub on_escalation: bool,
    /// Alert when a reminder could not reach some patients.
    #[serde(default)]
    pub on_reminder_failed: bool,
    /// Name the patient in alerts; else "a patient".
    #[serde(default)]
    pub show_names: bool,
    /// The language alerts are written in (`en`, `ja`, `th`, `zh-TW`).
    #[serde(default = "default_telegram_language")]
    pub language: String,
}

fn default_telegram_language() -> String {
    "en".to_owned()
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
