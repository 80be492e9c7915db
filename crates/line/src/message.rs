//! Message objects we send, and the limits LINE enforces on them.
//!
//! [`validate`] checks a batch against LINE's documented limits before anything leaves the
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

/// One broken rule, named like LINE's `details[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The JSON path of the offending field, e.g. `messages[0].text`. LINE leaves it out of
    /// some answers' details: then empty.
    #[serde(default)]
    pub property: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    /// `property: message`, or the message alone when LINE named no property.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.property.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.property, self.message)
        }
    }
}

/// Every rule a batch of messages breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.violations))]
pub struct ValidationError {
    pub violations: Vec<Violation>,
}

impl ValidationError {
    /// A single broken rule.
    pub fn one(property: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            violations: vec![Violation {
                property: property.into(),
                message: message.into(),
            }],
        }
    }
}

fn describe(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Length as LINE counts text: UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Checks a batch against LINE's limits. All violations are reported, not just the first.
pub fn validate(messages: &[Message]) -> Result<(), ValidationError> {
    let mut check = Checker::default();
    if messages.is_empty() {
        check.fail("messages", "must contain at least 1 message");
    }
    if messages.len() > MAX_MESSAGES {
        check.fail(
            "messages",
            format!("size must be between 1 and {MAX_MESSAGES}"),
        );
    }
    for (i, message) in messages.iter().enumerate() {
        check.message(&format!("messages[{i}]"), message);
    }
    check.finish()
}

#[derive(Default)]
struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn fail(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            property: property.into(),
            message: message.into(),
        });
    }

    fn finish(self) -> Result<(), ValidationError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                violations: self.violations,
            })
        }
    }

    /// Text must be non-empty and at most `max` UTF-16 units.
    fn text(&mut self, property: String, text: &str, max: usize) {
        if text.is_empty() {
            self.fail(property, "must not be empty");
        } else if utf16_len(text) > max {
            self.fail(property, format!("length must be at most {max}"));
        }
    }

    fn optional_text(&mut self, property: String, text: Option<&str>, max: usize) {
        if let Some(text) = text {
            self.text(property, text, max);
        }
    }

    fn https_url(&mut self, property: String, url: &str) {
        if !url.starts_with("https://") {
            self.fail(property, "must be an HTTPS URL");
        } else if url.len() > MAX_URL {
            self.fail(property, format!("length must be at most {MAX_URL}"));
        }
    }

    fn count(&mut self, property: String, len: usize, min: usize, max: usize) {
        if len < min || len > max {
            self.fail(property, format!("size must be between {min} and {max}"));
        }
    }

    fn message(&mut self, at: &str, message: &Message) {
        match &message.body {
            MessageBody::Text { text, emojis, .. } => {
                self.text(format!("{at}.text"), text, MAX_TEXT_UTF16);
                if emojis.len() > MAX_EMOJIS {
                    self.fail(
                        format!("{at}.emojis"),
                        format!("size must be at most {MAX_EMOJIS}"),
                    );
                }
                let units = utf16_len(text) as u32;
                for (j, emoji) in emojis.iter().enumerate() {
                    if emoji.index >= units {
                        self.fail(
                            format!("{at}.emojis[{j}].index"),
                            "must point inside the text",
                        );
                    }
                }
            }
            MessageBody::TextV2 {
                text, substitution, ..
            } => {
                self.text(format!("{at}.text"), text, MAX_TEXT_UTF16);
                if substitution.len() > 100 {
                    self.fail(format!("{at}.substitution"), "size must be at most 100");
                }
                for key in substitution.keys() {
                    if !text.contains(&format!("{{{key}}}")) {
                        self.fail(
                            format!("{at}.substitution.{key}"),
                            "is not used in the text",
                        );
                    }
                }
            }
            MessageBody::Sticker {
                package_id,
                sticker_id,
                ..
            } => {
                self.text(format!("{at}.packageId"), package_id, 100);
                self.text(format!("{at}.stickerId"), sticker_id, 100);
                if !crate::sticker::sendable(package_id, sticker_id) {
                    self.fail(
                        format!("{at}.stickerId"),
                        "is not in LINE's list of stickers a bot may send",
                    );
                }
            }
            MessageBody::Image {
                original_content_url,
                preview_image_url,
            }
            | MessageBody::Video {
                original_content_url,
                preview_image_url,
                ..
            } => {
                self.https_url(format!("{at}.originalContentUrl"), original_content_url);
                self.https_url(format!("{at}.previewImageUrl"), preview_image_url);
            }
            MessageBody::Audio {
                original_content_url,
                duration,
            } => {
                self.https_url(format!("{at}.originalContentUrl"), original_content_url);
                if *duration == 0 {
                    self.fail(format!("{at}.duration"), "must be positive");
                }
            }
            MessageBody::Location {
                title,
                address,
                latitude,
                longitude,
            } => {
                self.text(format!("{at}.title"), title, 100);
                self.text(format!("{at}.address"), address, 100);
                if !(-90.0..=90.0).contains(latitude) {
                    self.fail(format!("{at}.latitude"), "must be between -90 and 90");
                }
                if !(-180.0..=180.0).contains(longitude) {
                    self.fail(format!("{at}.longitude"), "must be between -180 and 180");
                }
            }
            MessageBody::Template { alt_text, template } => {
                self.text(format!("{at}.altText"), alt_text, MAX_ALT_TEXT);
                self.template(&format!("{at}.template"), template);
            }
            MessageBody::Flex { alt_text, contents } => {
                self.text(format!("{at}.altText"), alt_text, MAX_ALT_TEXT);
                self.flex(&format!("{at}.contents"), contents);
            }
        }
        if let Some(quick_reply) = &message.quick_reply {
            let at = format!("{at}.quickReply.items");
            self.count(
                at.clone(),
                quick_reply.items.len(),
                1,
                MAX_QUICK_REPLY_ITEMS,
            );
            for (j, item) in quick_reply.items.iter().enumerate() {
                let at = format!("{at}[{j}]");
                if let Some(url) = &item.image_url {
                    self.https_url(format!("{at}.imageUrl"), url);
                }
                // Quick reply buttons always show a label.
                match item.action.label() {
                    Some(label) => self.text(format!("{at}.action.label"), label, 20),
                    None => self.fail(format!("{at}.action.label"), "must be specified"),
                }
                self.action_fields(&format!("{at}.action"), &item.action);
            }
        }
        if let Some(sender) = &message.sender {
            self.optional_text(format!("{at}.sender.name"), sender.name.as_deref(), 20);
            if let Some(url) = &sender.icon_url {
                self.https_url(format!("{at}.sender.iconUrl"), url);
            }
        }
    }

    fn template(&mut self, at: &str, template: &Template) {
        match template {
            Template::Buttons {
                thumbnail_image_url,
                image,
                title,
                text,
                default_action,
                actions,
            } => {
                if let Some(url) = thumbnail_image_url {
                    self.https_url(format!("{at}.thumbnailImageUrl"), url);
                }
                image.check(at, self);
                self.optional_text(format!("{at}.title"), title.as_deref(), 40);
                let max = if title.is_some() || thumbnail_image_url.is_some() {
                    60
                } else {
                    160
                };
                self.text(format!("{at}.text"), text, max);
                if let Some(action) = default_action {
                    self.action_fields(&format!("{at}.defaultAction"), action);
                }
                self.actions(at, actions, 1, MAX_BUTTONS_ACTIONS);
            }
            Template::Confirm { text, actions } => {
                self.text(format!("{at}.text"), text, 240);
                self.actions(at, actions, 2, 2);
            }
            Template::Carousel { columns, image } => {
                image.check(at, self);
                self.count(
                    format!("{at}.columns"),
                    columns.len(),
                    1,
                    MAX_CAROUSEL_COLUMNS,
                );
                for (j, column) in columns.iter().enumerate() {
                    let at = format!("{at}.columns[{j}]");
                    if let Some(url) = &column.thumbnail_image_url {
                        self.https_url(format!("{at}.thumbnailImageUrl"), url);
                    }
                    self.optional_text(format!("{at}.title"), column.title.as_deref(), 40);
                    let max = if column.title.is_some() || column.thumbnail_image_url.is_some() {
                        60
                    } else {
                        120
                    };
                    self.text(format!("{at}.text"), &column.text, max);
                    self.actions(&at, &column.actions, 1, MAX_CAROUSEL_COLUMN_ACTIONS);
                }
                if let Some(first) = columns.first()
                    && columns
                        .iter()
                        .any(|c| c.actions.len() != first.actions.len())
                {
                    self.fail(
                        format!("{at}.columns"),
                        "every column must have the same number of actions",
                    );
                }
            }
        }
    }

    fn actions(&mut self, at: &str, actions: &[Action], min: usize, max: usize) {
        self.count(format!("{at}.actions"), actions.len(), min, max);
        for (k, action) in actions.iter().enumerate() {
            let at = format!("{at}.actions[{k}]");
            match action.label() {
                Some(label) => self.text(format!("{at}.label"), label, 20),
                None => self.fail(format!("{at}.label"), "must be specified"),
            }
            self.action_fields(&at, action);
        }
    }

    fn action_fields(&mut self, at: &str, action: &Action) {
        match action {
            Action::Postback {
                data, display_text, ..
            } => {
                self.text(format!("{at}.data"), data, 300);
                self.optional_text(format!("{at}.displayText"), display_text.as_deref(), 300);
            }
            Action::Message { text, .. } => self.text(format!("{at}.text"), text, 300),
            Action::Uri { uri, .. } => {
                let ok = ["http://", "https://", "line://", "tel:"]
                    .iter()
                    .any(|scheme| uri.starts_with(scheme));
                if !ok {
                    self.fail(
                        format!("{at}.uri"),
                        "must be an http, https, line or tel URI",
                    );
                } else if uri.len() > 1_000 {
                    self.fail(format!("{at}.uri"), "length must be at most 1000");
                }
            }
            Action::DatetimePicker { data, mode, .. } => {
                self.text(format!("{at}.data"), data, 300);
                if !matches!(mode.as_str(), "date" | "time" | "datetime") {
                    self.fail(format!("{at}.mode"), "must be date, time or datetime");
                }
            }
            Action::Camera { .. } | Action::CameraRoll { .. } | Action::Location { .. } => {}
        }
    }

    fn flex(&mut self, at: &str, contents: &serde_json::Value) {
        match contents.get("type").and_then(|t| t.as_str()) {
            Some("bubble") => {}
            Some("carousel") => {
                let bubbles = contents
                    .get("contents")
                    .and_then(|c| c.as_array())
                    .map_or(0, Vec::len);
                self.count(
                    format!("{at}.contents"),
                    bubbles,
                    1,
                    MAX_FLEX_CAROUSEL_BUBBLES,
                );
            }
            _ => self.fail(format!("{at}.type"), "must be bubble or carousel"),
        }
    }
}
