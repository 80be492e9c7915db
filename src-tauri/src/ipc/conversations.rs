//! The inbox and a conversation: its pane, its pages of messages, handoff controls, what an
//! operator sends, and search.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
pub use tsunagi_desk::actions::{
    ConversationView, HandoffRequest, Outgoing, PendingAction, PendingKind,
};
use tsunagi_desk::query::{InboxList, PageCursor};

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

/// `message_send`: a message to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendRequest {
    pub conversation: String,
    pub message: Outgoing,
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

impl From<tsunagi_proto::OpId> for Submitted {
    fn from(op_id: tsunagi_proto::OpId) -> Self {
        Submitted {
            op_id: op_id.to_string(),
        }
    }
}

/// `search_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchRequest {
    pub query: String,
    pub limit: u32,
}
