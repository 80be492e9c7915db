//! The Tsunagi log, as relay and desktops both see it.
//!
//! Every fact enters a channel's log once, with a gap-free sequence number: a LINE webhook
//! event (its JSON kept byte for byte) or an operation (an operator's action, or what the
//! relay's executor did). See [`Entry`] for the JSON shape.

pub mod api;
mod entry;
mod ids;
mod op;

pub use entry::{Entry, EntryBody, EntryError, Seq, UnixMillis};
pub use op::{
    AiOutcome, AiSettings, AlertReason, Audience, BUILT_IN_CONTACT_FIELDS, BusinessHours,
    CannedResponse, ChatKind, ConsentKind, ContactField, ContactProfile, ConversationId,
    ConversationMode, Credential, Cutoffs, Delivery, DeviceId, EXECUTOR_DEVICE, Greetings,
    HandoffSettings, KeywordMatch, KeywordRule, LineAccount, LoggedOp, MediaOutcome,
    MessageTemplate, OpId, OpeningHours, Operation, OperatorId, OptOut, PatientData, ReadMode,
    ReadReceipts, RecipientOutcome, RecipientResult, RedFlagSettings, Reminder, Retention, SendOp,
    Setting, SyncOutcome, TelegramOutcome, TelegramSettings, TelegramTrouble,
};
pub use tsunagi_line::ChannelId;

#[cfg(feature = "testing")]
pub mod testing;
