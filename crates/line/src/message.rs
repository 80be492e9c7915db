//! Message objects we send, and the limits LINE enforces on them.
//!
//! [`validate()`] checks a batch against LINE's documented limits before anything leaves the
//! machine, naming each offending field the way LINE's own `details[].property` does
//! (`messages[0].template.actions[4]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::QuoteToken;

/// Most messages one request may carry.
pub const MAX_MESSAGES: usize = 5;
/// Longest text, counted in UTF-16 code units as LINE counts.
pub const MAX_TEXT_UTF16: usize = 5_000;
pub const MAX_QUICK_REPLY_ITEMS: usize = 13;
pub const MAX_ALT_TEXT: usize = 1_500;
pub const MAX_BUTTONS_ACTIONS: usize = 4;
pub const MAX_CAROUSEL_COLUMNS: usize = 10;
pub const MAX_CAROUSEL_COLUMN_ACTIONS: usize = 3;
pub const MAX_FLEX_CAROUSEL_BUBBLES: usize = 12;
pub const MAX_EMOJIS: usize = 20;
pub const MAX_URL: usize = 2_000;
pub const MAX_MULTICAST_RECIPIENTS: usize = 500;

/// One message to send, with the optional extras any message may carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(flatten)]
    pub body: MessageBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_reply: Option<QuickReply>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<Sender>,
}

impl Message {
    /// A plain text message.
    pub fn text(text: impl Into<String>) -> Self {
        MessageBody::Text {
            text: text.into(),
            emojis: Vec::new(),
            quote_token: None,
        }
        .into()
    }

    pub fn with_quick_reply(mut self, quick_reply: QuickReply) -> Self {
        self.quick_reply = Some(quick_reply);
        self
    }

    pub fn with_sender(mut self, sender: Sender) -> Self {
        self.sender = Some(sender);
        self
    }
}

impl From<MessageBody> for Message {
    fn from(body: MessageBody) -> Self {
        Self {
            body,
            quick_reply: None,
            sender: None,
        }
    }
}

/// The message itself, by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum MessageBody {
    #[serde(rename_all = "camelCase")]
    Text {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        emojis: Vec<OutgoingEmoji>,
        #[serde(skip_serializing_if = "Option::is_none")]
        quote_token: Option<QuoteToken>,
    },
    /// Text with `{key}` placeholders filled by mentions or emojis.
    #[serde(rename = "textV2", rename_all = "camelCase")]
    TextV2 {
        text: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        substitution: BTreeMap<String, Substitution>,
        #[serde(skip_serializing_if = "Option::is_none")]
        quote_token: Option<QuoteToken>,
    },
    #[serde(rename_all = "camelCase")]
    Sticker {
        package_id: String,
        sticker_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        quote_token: Option<QuoteToken>,
    },
    #[serde(rename_all = "camelCase")]
    Image {
        original_content_url: String,
        preview_image_url: String,
    },
    #[serde(rename_all = "camelCase")]
    Video {
        original_content_url: String,
        preview_image_url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        tracking_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Audio {
        original_content_url: String,
        /// Milliseconds.
        duration: u64,
    },
    Location {
        title: String,
        address: String,
        latitude: f64,
        longitude: f64,
    },
    #[serde(rename_all = "camelCase")]
    Template {
        alt_text: String,
        template: Box<Template>,
    },
    #[serde(rename_all = "camelCase")]
    Flex {
        alt_text: String,
        /// A bubble or carousel container, as LINE's Flex Message JSON.
        contents: serde_json::Value,
    },
}

/// A LINE emoji placed into a text message at a UTF-16 index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutgoingEmoji {
    pub index: u32,
    pub product_id: String,
    pub emoji_id: String,
}

/// What a `{key}` in a textV2 message becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Substitution {
    Mention {
        mentionee: Mentionee,
    },
    #[serde(rename_all = "camelCase")]
    Emoji {
        product_id: String,
        emoji_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Mentionee {
    #[serde(rename_all = "camelCase")]
    User {
        user_id: String,
    },
    All,
}

/// Template messages: buttons, confirm and carousel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Template {
    #[serde(rename_all = "camelCase")]
    Buttons {
        #[serde(skip_serializing_if = "Option::is_none")]
        thumbnail_image_url: Option<String>,
        #[serde(flatten)]
        image: TemplateImage,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        default_action: Option<Box<Action>>,
        actions: Vec<Action>,
    },
    Confirm {
        text: String,
        actions: Vec<Action>,
    },
    Carousel {
        columns: Vec<CarouselColumn>,
        #[serde(flatten)]
        image: TemplateImage,
    },
}

/// How a template shows its images. LINE's defaults apply to what is left out.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateImage {
    /// `rectangle` (1.51:1) or `square` (1:1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_aspect_ratio: Option<String>,
    /// `cover` or `contain`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<String>,
    /// A `#RRGGBB` colour behind the image (buttons only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_background_color: Option<String>,
}

impl TemplateImage {
    fn check(&self, at: &str, check: &mut Checker) {
        if let Some(ratio) = &self.image_aspect_ratio
            && !matches!(ratio.as_str(), "rectangle" | "square")
        {
            check.fail(
                format!("{at}.imageAspectRatio"),
                "must be rectangle or square",
            );
        }
        if let Some(size) = &self.image_size
            && !matches!(size.as_str(), "cover" | "contain")
        {
            check.fail(format!("{at}.imageSize"), "must be cover or contain");
        }
        if let Some(color) = &self.image_background_color {
            let hex = color.strip_prefix('#').unwrap_or_default();
            if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                check.fail(
                    format!("{at}.imageBackgroundColor"),
                    "must be a #RRGGBB colour",
                );
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CarouselColumn {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbnail_image_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_action: Option<Action>,
    pub actions: Vec<Action>,
}

/// What happens when a user taps a button or quick reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    #[serde(rename_all = "camelCase")]
    Postback {
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        data: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        display_text: Option<String>,
    },
    Message {
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        text: String,
    },
    Uri {
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        uri: String,
    },
    #[serde(rename = "datetimepicker")]
    DatetimePicker {
        #[serde(skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        data: String,
        /// `date`, `time` or `datetime`.
        mode: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        initial: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<String>,
    },
    Camera {
        label: String,
    },
    CameraRoll {
        label: String,
    },
    Location {
        label: String,
    },
}

impl Action {
    fn label(&self) -> Option<&str> {
        match self {
            Action::Postback { label, .. }
            | Action::Message { label, .. }
            | Action::Uri { label, .. }
            | Action::DatetimePicker { label, .. } => label.as_deref(),
            Action::Camera { label }
            | Action::CameraRoll { label }
            | Action::Location { label } => Some(label),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub items: Vec<QuickReplyItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyItem {
    /// Always `action`.
    #[serde(rename = "type", default = "QuickReplyItem::kind")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    pub action: Action,
}

impl QuickReplyItem {
    pub fn new(action: Action) -> Self {
        Self {
            kind: Self::kind(),
            image_url: None,
            action,
        }
    }

    fn kind() -> String {
        "action".to_owned()
    }
}

/// Shows a different name and icon as the sender of one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
}

mod flex;
mod validate;

use self::validate::Checker;
pub use self::validate::{ValidationError, Violation, utf16_len, validate};
