//! The message a user sent, as a `message` or `messageEdited` event carries it: its
//! content by message type, with emojis, mentions and who holds its media.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::id::{MarkAsReadToken, MessageId, QuoteToken, UserId};

use super::{optional, required};

/// The message object inside a `message` or `messageEdited` event.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub id: MessageId,
    pub mark_as_read_token: Option<MarkAsReadToken>,
    pub quote_token: Option<QuoteToken>,
    /// The past message this one quotes (a text or a sticker can quote one).
    pub quoted_message_id: Option<MessageId>,
    pub content: MessageContent,
}

/// What a user sent, by message type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text {
        text: String,
        emojis: Vec<Emoji>,
        mention: Option<Mention>,
    },
    Image {
        content_provider: ContentProvider,
        image_set: Option<ImageSet>,
    },
    Video {
        /// Milliseconds.
        duration: Option<u64>,
        content_provider: ContentProvider,
    },
    Audio {
        /// Milliseconds.
        duration: Option<u64>,
        content_provider: ContentProvider,
    },
    File {
        file_name: String,
        file_size: u64,
    },
    Location {
        title: Option<String>,
        address: Option<String>,
        latitude: f64,
        longitude: f64,
    },
    Sticker {
        package_id: String,
        sticker_id: String,
        sticker_resource_type: Option<String>,
        keywords: Vec<String>,
        text: Option<String>,
    },
    /// A message type this version does not know, with the message object's JSON.
    Unknown {
        message_type: String,
        raw: String,
    },
    /// A message of a known type whose fields this version cannot read, read by
    /// [`Event::read`](super::Event::read): still a patient writing, whose words no one has seen.
    Unreadable {
        message_type: String,
        reason: String,
    },
}

/// The most bytes a user's image may have as LINE serves it (rounded up: LINE's app
/// shrinks photos well below this).
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The most a user's video or audio may have (LINE's app sends up to five minutes).
pub const MAX_VIDEO_BYTES: u64 = 300 * 1024 * 1024;
/// The most a user's file may have: LINE's app sends files up to 1 GB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

impl MessageContent {
    /// The most bytes LINE's download of this message's content may have: a file's own
    /// declared size, else the limit of its kind; `None` for what has no content.
    pub fn content_limit(&self) -> Option<u64> {
        match self {
            MessageContent::Image { .. } => Some(MAX_IMAGE_BYTES),
            MessageContent::Video { .. } | MessageContent::Audio { .. } => Some(MAX_VIDEO_BYTES),
            MessageContent::File { file_size, .. } => Some((*file_size).min(MAX_FILE_BYTES)),
            _ => None,
        }
    }

    /// The words the patient wrote: a text's, or what they typed on a message sticker.
    /// What handoff words, keyword replies, red flags, the AI and search read.
    pub fn words(&self) -> Option<&str> {
        match self {
            MessageContent::Text { text, .. } => Some(text),
            MessageContent::Sticker { text, .. } => text.as_deref().filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// Where the sender keeps media hosted outside LINE (`contentProvider: external`):
    /// the original's address and the preview's, when LINE gave them.
    pub fn external_media(&self) -> Option<(&str, Option<&str>)> {
        match self {
            MessageContent::Image {
                content_provider, ..
            }
            | MessageContent::Video {
                content_provider, ..
            }
            | MessageContent::Audio {
                content_provider, ..
            } if content_provider.kind == ContentProviderKind::External => Some((
                content_provider.original_content_url.as_deref()?,
                content_provider.preview_image_url.as_deref(),
            )),
            _ => None,
        }
    }

    /// Whether LINE holds bytes for this message that can be downloaded.
    pub fn has_line_content(&self) -> bool {
        match self {
            MessageContent::Image {
                content_provider, ..
            }
            | MessageContent::Video {
                content_provider, ..
            }
            | MessageContent::Audio {
                content_provider, ..
            } => content_provider.kind == ContentProviderKind::Line,
            MessageContent::File { .. } => true,
            _ => false,
        }
    }
}

/// A message object as it is on the wire: what every type has, typed; each type's own
/// fields still raw, so that a type this version does not know cannot fail to read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMessage<'a> {
    #[serde(rename = "type")]
    message_type: String,
    id: MessageId,
    mark_as_read_token: Option<MarkAsReadToken>,
    quote_token: Option<QuoteToken>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
    #[serde(borrow)]
    emojis: Option<&'a RawValue>,
    #[serde(borrow)]
    mention: Option<&'a RawValue>,
    #[serde(borrow)]
    quoted_message_id: Option<&'a RawValue>,
    #[serde(borrow)]
    content_provider: Option<&'a RawValue>,
    #[serde(borrow)]
    image_set: Option<&'a RawValue>,
    #[serde(borrow)]
    duration: Option<&'a RawValue>,
    #[serde(borrow)]
    file_name: Option<&'a RawValue>,
    #[serde(borrow)]
    file_size: Option<&'a RawValue>,
    #[serde(borrow)]
    title: Option<&'a RawValue>,
    #[serde(borrow)]
    address: Option<&'a RawValue>,
    #[serde(borrow)]
    latitude: Option<&'a RawValue>,
    #[serde(borrow)]
    longitude: Option<&'a RawValue>,
    #[serde(borrow)]
    package_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sticker_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sticker_resource_type: Option<&'a RawValue>,
    #[serde(borrow)]
    keywords: Option<&'a RawValue>,
}

impl IncomingMessage {
    /// Reads the message object of a `message` or `messageEdited` event.
    pub(super) fn read(raw: Option<&RawValue>) -> Result<Self, String> {
        let raw = raw.ok_or("`message` is missing")?;
        Self::from_wire(raw).map_err(|reason| format!("message {reason}"))
    }

    fn from_wire(raw: &RawValue) -> Result<Self, String> {
        let m: WireMessage<'_> = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        let content = match m.message_type.as_str() {
            "text" => MessageContent::Text {
                text: required(m.text, "text")?,
                emojis: optional(m.emojis, "emojis")?.unwrap_or_default(),
                mention: optional(m.mention, "mention")?,
            },
            "image" => MessageContent::Image {
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
                image_set: optional(m.image_set, "imageSet")?,
            },
            "video" => MessageContent::Video {
                duration: optional(m.duration, "duration")?,
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
            },
            "audio" => MessageContent::Audio {
                duration: optional(m.duration, "duration")?,
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
            },
            "file" => MessageContent::File {
                file_name: required(m.file_name, "fileName")?,
                file_size: required(m.file_size, "fileSize")?,
            },
            "location" => MessageContent::Location {
                title: optional(m.title, "title")?,
                address: optional(m.address, "address")?,
                latitude: required(m.latitude, "latitude")?,
                longitude: required(m.longitude, "longitude")?,
            },
            "sticker" => MessageContent::Sticker {
                package_id: required(m.package_id, "packageId")?,
                sticker_id: required(m.sticker_id, "stickerId")?,
                sticker_resource_type: optional(m.sticker_resource_type, "stickerResourceType")?,
                keywords: optional(m.keywords, "keywords")?.unwrap_or_default(),
                text: optional(m.text, "text")?,
            },
            _ => MessageContent::Unknown {
                message_type: m.message_type,
                raw: raw.get().to_owned(),
            },
        };
        Ok(IncomingMessage {
            id: m.id,
            mark_as_read_token: m.mark_as_read_token,
            quote_token: m.quote_token,
            quoted_message_id: optional(m.quoted_message_id, "quotedMessageId")?,
            content,
        })
    }
}

impl<'de> Deserialize<'de> for IncomingMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::from_wire(&raw).map_err(|reason| D::Error::custom(format!("message {reason}")))
    }
}

/// A LINE emoji inside a text message; `index` and `length` count UTF-16 units.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emoji {
    pub index: u32,
    pub length: u32,
    pub product_id: String,
    pub emoji_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mention {
    pub mentionees: Vec<Mentionee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mentionee {
    pub index: u32,
    pub length: u32,
    /// `user` or `all`.
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub is_self: bool,
}

/// Who holds a medium's bytes. Without one (as webhooks from before LINE added it), LINE
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentProvider {
    #[serde(rename = "type")]
    pub kind: ContentProviderKind,
    pub original_content_url: Option<String>,
    pub preview_image_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentProviderKind {
    /// LINE holds the bytes: fetch them from the content endpoint.
    #[default]
    Line,
    /// The sender's URLs hold them.
    External,
    #[serde(other)]
    Unknown,
}

/// Several images sent at once arrive as separate events, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ImageSet {
    pub id: String,
    pub index: Option<u32>,
    pub total: Option<u32>,
}
