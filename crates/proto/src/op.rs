//! Operations: what operators (and the relay's executor) add to the log.
//!
//! The [`Operation`] enum is here; its payloads are kept by family in `op/`: settings,
//! outreach (reminders and follower syncs), sends and their outcomes, and contacts.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tsunagi_line::{MarkAsReadToken, MessageId, UserId};

mod contacts;
mod outreach;
mod sends;
mod settings;

use crate::ids::Seq;
pub use crate::ids::{DeviceId, EXECUTOR_DEVICE, OpId, OperatorId};
pub use contacts::{AlertReason, ChatKind, ContactProfile, ConversationId, ConversationMode};
pub use outreach::{
    Audience, ConsentKind, OptOut, RecipientOutcome, RecipientResult, Reminder, SyncOutcome,
};
pub use sends::{AiOutcome, Delivery, MediaOutcome, SendOp, TelegramOutcome, TelegramTrouble};
pub use settings::{
    AiSettings, BUILT_IN_CONTACT_FIELDS, BusinessHours, CannedResponse, ContactField, Credential,
    Cutoffs, Greetings, HandoffSettings, KeywordMatch, KeywordRule, LineAccount, MessageTemplate,
    OpeningHours, PatientData, ReadMode, ReadReceipts, RedFlagSettings, Retention, Setting,
    TelegramSettings,
};

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
    /// An owner took a copy of everything Tsunagi holds about a contact (a patient's
    /// request for their data): the audit keeps who did, and when.
    Export { contact: UserId },
    /// An owner erased everything Tsunagi holds about a contact (a patient's request, or
    /// the clinic's own): the relay replaces every entry about them with [`Operation::Erased`]
    /// or an erased LINE event, deletes their media, and every desk purges them when it
    /// applies this. The op itself stays, the audit of who erased which LINE user id when.
    Erase { contact: UserId },
    /// What the relay keeps of an op it erased: its place in the log, nothing else. No
    /// device and no executor logs one.
    Erased,
    /// An owner keeps a contact's data whatever the retention (`held`, with the reason),
    /// or lets the retention apply to them again.
    Hold {
        contact: UserId,
        held: bool,
        #[serde(default)]
        reason: String,
    },
    /// The relay's nightly purge of what the retention keeps no longer, but for the
    /// contacts on hold: as for an erase, the relay rewrites its log and deletes files, and
    /// every desk purges its copy as it applies this.
    Expire { before: Cutoffs, held: Vec<UserId> },
    /// A patient gave or withdrew a consent, as an operator recorded it: to the wording of
    /// this version (`wording`, the clinic's name for it).
    Consent {
        contact: UserId,
        consent: ConsentKind,
        given: bool,
        wording: String,
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

    /// The op's kind, as its JSON's `type` spells it (`"claim"`, `"send_failed"` …): for
    /// the audit and for logs, without serializing the op.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Claim { .. } => "claim",
            Operation::Release { .. } => "release",
            Operation::Transfer { .. } => "transfer",
            Operation::Close { .. } => "close",
            Operation::SetMode { .. } => "set_mode",
            Operation::Send(_) => "send",
            Operation::MarkRead { .. } => "mark_read",
            Operation::Typing { .. } => "typing",
            Operation::Note { .. } => "note",
            Operation::ContactFields { .. } => "contact_fields",
            Operation::Tag { .. } => "tag",
            Operation::Export { .. } => "export",
            Operation::Erase { .. } => "erase",
            Operation::Erased => "erased",
            Operation::Hold { .. } => "hold",
            Operation::Expire { .. } => "expire",
            Operation::Consent { .. } => "consent",
            Operation::Settings(_) => "settings",
            Operation::Profiles { .. } => "profiles",
            Operation::Sent { .. } => "sent",
            Operation::SendFailed { .. } => "send_failed",
            Operation::Sending { .. } => "sending",
            Operation::NotSent { .. } => "not_sent",
            Operation::Unanswered { .. } => "unanswered",
            Operation::Alert { .. } => "alert",
            Operation::ScheduleReminder(_) => "schedule_reminder",
            Operation::CancelReminder { .. } => "cancel_reminder",
            Operation::ReminderRecipients { .. } => "reminder_recipients",
            Operation::Media { .. } => "media",
            Operation::SyncFollowers => "sync_followers",
            Operation::FollowerIds { .. } => "follower_ids",
            Operation::FollowerSyncProgress { .. } => "follower_sync_progress",
            Operation::FollowerSyncDone { .. } => "follower_sync_done",
            Operation::ReminderDelivered { .. } => "reminder_delivered",
            Operation::CredentialSet { .. } => "credential_set",
            Operation::AiAnswered { .. } => "ai_answered",
            Operation::TelegramSending { .. } => "telegram_sending",
            Operation::TelegramSent { .. } => "telegram_sent",
            Operation::LineAccount(_) => "line_account",
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One op of every kind, as JSON, in the enum's order.
    const EVERY_KIND: &[&str] = &[
        r#"{"type":"claim","conversation":"U1"}"#,
        r#"{"type":"release","conversation":"U1"}"#,
        r#"{"type":"transfer","conversation":"U1","to":"d-yuki"}"#,
        r#"{"type":"close","conversation":"U1"}"#,
        r#"{"type":"set_mode","conversation":"U1","mode":"bot"}"#,
        r#"{"type":"send","conversation":"U1","messages":[{"type":"text","text":"hi"}],"retry_key":"4a8a4a8e-8f33-4a3f-9d5c-0f0e0c0b0a09"}"#,
        r#"{"type":"mark_read","conversation":"U1","token":"m1"}"#,
        r#"{"type":"typing","conversation":"U1","seconds":20}"#,
        r#"{"type":"note","contact":"U1","text":"allergic to penicillin"}"#,
        r#"{"type":"contact_fields","contact":"U1","fields":{"chart":"A-1"}}"#,
        r#"{"type":"tag","contact":"U1","tag":"vip","added":true}"#,
        r#"{"type":"export","contact":"U1"}"#,
        r#"{"type":"erase","contact":"U1"}"#,
        r#"{"type":"erased"}"#,
        r#"{"type":"hold","contact":"U1","held":true,"reason":"complaint"}"#,
        r#"{"type":"expire","before":{"messages":5},"held":["U1"]}"#,
        r#"{"type":"consent","contact":"U1","consent":"reminders","given":true,"wording":"v1"}"#,
        r#"{"type":"settings","setting":"read_receipts","mode":"opened"}"#,
        r#"{"type":"profiles","profiles":[]}"#,
        r#"{"type":"sent","send":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","via":"reply"}"#,
        r#"{"type":"send_failed","send":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","reason":"no"}"#,
        r#"{"type":"sending","send":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","via":"push"}"#,
        r#"{"type":"not_sent","send":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","reason":"no"}"#,
        r#"{"type":"unanswered","send":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","reason":"5xx"}"#,
        r#"{"type":"alert","conversation":"U1","reason":"handoff"}"#,
        r#"{"type":"schedule_reminder","text":"see you","at":1,"to":{"audience":"following"}}"#,
        r#"{"type":"cancel_reminder","reminder":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f"}"#,
        r#"{"type":"reminder_recipients","reminder":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","recipients":[]}"#,
        r#"{"type":"media","message":"M1","outcome":{"result":"gone"}}"#,
        r#"{"type":"sync_followers"}"#,
        r#"{"type":"follower_ids","sync":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","page":1,"user_ids":[]}"#,
        r#"{"type":"follower_sync_progress","sync":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","done":0,"total":0}"#,
        r#"{"type":"follower_sync_done","sync":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","outcome":{"result":"done","total":0}}"#,
        r#"{"type":"reminder_delivered","reminder":"0190a0e4-1f2b-7c3d-8e4f-5a6b7c8d9e0f","part":0,"results":[]}"#,
        r#"{"type":"credential_set","credential":"ai_key","set":true}"#,
        r#"{"type":"ai_answered","conversation":"U1","question":3,"model":"m","outcome":{"kind":"handed_over","reason":"asked"}}"#,
        r#"{"type":"telegram_sending","cause":3}"#,
        r#"{"type":"telegram_sent","cause":3,"outcome":{"kind":"sent","chats":1}}"#,
        r#"{"type":"line_account","chat":true,"marks_read_itself":false}"#,
    ];

    /// Every kind serde knows, in the enum's order, as its refusal of an unknown one lists
    /// them.
    fn serdes_kinds() -> Vec<String> {
        let refused = serde_json::from_str::<Operation>(r#"{"type":"no_such_kind"}"#)
            .expect_err("an unknown kind is refused")
            .to_string();
        let listed = refused
            .split("expected one of ")
            .nth(1)
            .unwrap_or_else(|| panic!("serde lists the kinds: {refused}"));
        listed
            .split(',')
            .filter_map(|part| part.split('`').nth(1))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_ops_kind_is_its_json_type() {
        let mut kinds = Vec::new();
        for json in EVERY_KIND {
            let op: Operation =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            let written = serde_json::to_value(&op).expect("serializes");
            assert_eq!(written["type"], op.kind(), "{json}");
            kinds.push(op.kind().to_owned());
        }
        assert_eq!(
            kinds,
            serdes_kinds(),
            "one sample of every kind, in the enum's order"
        );
    }

    #[test]
    fn a_conversations_kind_is_read_from_its_id_and_its_word_back() {
        let kind = |id: &str| ConversationId::from(id).kind();
        assert_eq!(kind("U4af4980629"), Some(ChatKind::User));
        assert_eq!(kind("Ca56f94637c"), Some(ChatKind::Group));
        assert_eq!(kind("Rb2e6f3a9d1"), Some(ChatKind::Room));
        assert_eq!(kind("u4af4980629"), None);
        assert_eq!(kind(""), None);
        assert!(ConversationId::from("U4af4980629").is_one_to_one());
        assert!(!ConversationId::from("Ca56f94637c").is_one_to_one());
        for kind in [ChatKind::User, ChatKind::Group, ChatKind::Room] {
            assert_eq!(kind.as_str().parse(), Ok(kind));
            assert_eq!(
                serde_json::to_value(kind).expect("serializes"),
                kind.as_str()
            );
        }
        assert!("person".parse::<ChatKind>().is_err());
    }
}
