//! The inbox and a conversation: its pane, its pages of messages, handoff controls, what an
//! operator sends, and search.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::detail::{ContactDetail, HandoffEvent};
use tsunagi_desk::query::{InboxItem, InboxList, MessageView, PageCursor, SessionSummary};

/// `inbox_list`: a page of one of the inbox's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct InboxListRequest {
    pub list: InboxList,
    /// Only the chats of contacts with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

/// Names one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConversationRequest {
    pub conversation: String,
}

/// `conversation_open`: everything the conversation pane shows at first. Opening marks it
/// read for this desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ConversationView {
    pub item: InboxItem,
    /// The newest messages, oldest first.
    pub messages: Vec<MessageView>,
    /// Whether older messages exist before `messages`.
    pub has_older: bool,
    pub handoffs: Vec<HandoffEvent>,
    /// This desk's actions on the chat that have not reached the log.
    pub pending: Vec<PendingAction>,
    pub contact: Option<ContactDetail>,
    /// Earlier sessions, newest first.
    pub sessions: Vec<SessionSummary>,
    /// Until when an answer goes free, on a reply token the patient gave that nothing has
    /// used yet; null: it would count against the month's messages.
    #[ts(type = "number | null")]
    pub free_reply_until: Option<i64>,
}

/// An action of this desk not yet in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PendingAction {
    pub op_id: String,
    pub kind: PendingKind,
    /// A send's text.
    pub text: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    pub last_error: Option<String>,
    /// The relay refused it: it will not go out unless retried.
    pub refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    Claim,
    Release,
    Transfer,
    Close,
    SetMode,
    Send,
    Other,
}

/// `conversation_messages`: messages before a position (scrolling up), or after it
/// (scrolling down from a search hit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessagesRequest {
    pub conversation: String,
    pub seq: u32,
    pub part: u32,
    /// After the position instead of before it.
    pub newer: bool,
    pub limit: u32,
}

/// `conversation_act`: a handoff control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ActRequest {
    pub conversation: String,
    pub action: HandoffRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandoffRequest {
    Claim,
    Release,
    Close,
    ToBot,
    ToPeople,
    Transfer { to: String },
}

/// `message_send`: a message to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendRequest {
    pub conversation: String,
    pub message: Outgoing,
}

/// What an operator sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outgoing {
    /// Text, quoting a message when `quote_token` is given.
    Text {
        text: String,
        quote_token: Option<String>,
    },
    /// One of the stickers LINE lets bots send (`stickers_list`).
    Sticker {
        package_id: String,
        sticker_id: String,
    },
    /// An image `image_upload` handed to the relay.
    Image {
        original_content_url: String,
        preview_image_url: String,
    },
}

/// The bytes of a JPEG or PNG, sent as the command's raw body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImageBytes(#[ts(type = "Uint8Array")] pub Vec<u8>);

/// `image_upload`: where the relay keeps the image for LINE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UploadedImage {
    pub original_content_url: String,
    pub preview_image_url: String,
}

/// A package of the stickers LINE lets bots send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StickerPackage {
    pub package_id: String,
    pub sticker_ids: Vec<String>,
}

/// The id of an op this desk made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OpRequest {
    pub op_id: String,
}

/// What an action became: queued under this id (the log settles it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Submitted {
    pub op_id: String,
}

/// `search_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchRequest {
    pub query: String,
    pub limit: u32,
}
