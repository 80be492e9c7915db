//! Media LINE hosts, or its sender keeps outside LINE, that the relay should fetch and keep.

use tsunagi_line::MessageId;
use tsunagi_line::webhook::{IncomingMessage, MessageContent};
use tsunagi_proto::{ConversationId, Entry};

use super::Bot;

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
    /// The chat it came in (none in snapshots from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<ConversationId>,
}

/// Where media hosted outside LINE is: the original, and its preview if the sender gave
/// one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outside {
    pub original: String,
    pub preview: Option<String>,
}

impl Bot {
    /// Media to fetch from LINE, oldest first.
    pub fn pending_media(&self) -> impl Iterator<Item = &PendingMedia> {
        self.media.values()
    }

    /// A message with media: noted, to be fetched.
    pub(super) fn note_media(
        &mut self,
        entry: &Entry,
        chat: &ConversationId,
        message: &IncomingMessage,
    ) {
        let outside = message
            .content
            .external_media()
            .map(|(original, preview)| Outside {
                original: original.to_owned(),
                preview: preview.map(str::to_owned),
            });
        if !(message.content.has_line_content() || outside.is_some()) {
            return;
        }
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
            message.id.clone(),
            PendingMedia {
                message: message.id.clone(),
                preview,
                limit: message
                    .content
                    .content_limit()
                    .unwrap_or(tsunagi_line::webhook::MAX_FILE_BYTES),
                outside,
                chat: Some(chat.clone()),
            },
        );
    }

    /// The relay kept a message's media.
    pub(super) fn fold_media(&mut self, message: &MessageId) {
        self.media.remove(message);
    }
}
