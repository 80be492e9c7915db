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
                // Each emoji replaces its own `$`, found by UTF-16 index.
                let dollars: Vec<u32> = text
                    .encode_utf16()
                    .zip(0..)
                    .filter(|(unit, _)| *unit == u16::from(b'$'))
                    .map(|(_, i)| i)
                    .collect();
                let mut taken = Vec::new();
                for (j, emoji) in emojis.iter().enumerate() {
                    if !dollars.contains(&emoji.index) {
                        self.fail(
                            format!("{at}.emojis[{j}].index"),
                            "must point at a $ placeholder in the text",
                        );
                    } else if taken.contains(&emoji.index) {
                        self.fail(
                            format!("{at}.emojis[{j}].index"),
                            "is used by another emoji",
                        );
                    }
                    taken.push(emoji.index);
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
                    let well_formed = !key.is_empty()
                        && key.len() <= 20
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !well_formed {
                        self.fail(
                            format!("{at}.substitution.{key}"),
                            "must be 1 to 20 of [a-zA-Z0-9_]",
                        );
                    } else if !text.contains(&format!("{{{key}}}")) {
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
            } => {
                self.https_url(format!("{at}.originalContentUrl"), original_content_url);
                self.https_url(format!("{at}.previewImageUrl"), preview_image_url);
            }
            MessageBody::Video {
                original_content_url,
                preview_image_url,
                tracking_id,
            } => {
                self.https_url(format!("{at}.originalContentUrl"), original_content_url);
                self.https_url(format!("{at}.previewImageUrl"), preview_image_url);
                if let Some(id) = tracking_id {
                    // LINE: at most 100 of `[a-zA-Z0-9-.=,+*()%$&;:@{}!?<>[]]`.
                    let allowed =
                        |c: char| c.is_ascii_alphanumeric() || "-.=,+*()%$&;:@{}!?<>[]".contains(c);
                    if id.is_empty() || id.len() > 100 || !id.chars().all(allowed) {
                        self.fail(
                            format!("{at}.trackingId"),
                            "must be 1 to 100 of [a-zA-Z0-9-.=,+*()%$&;:@{}!?<>[]]",
                        );
                    }
                }
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
                if item.kind != "action" {
                    self.fail(format!("{at}.type"), "must be action");
                }
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
            // LINE: "Certain words such as `LINE` may not be used."
            if let Some(name) = &sender.name
                && name
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|word| word.eq_ignore_ascii_case("line") || word == "ＬＩＮＥ")
            {
                self.fail(
                    format!("{at}.sender.name"),
                    "must not contain the word LINE",
                );
            }
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
                    self.default_action(&format!("{at}.defaultAction"), action);
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
                    if let Some(action) = &column.default_action {
                        self.default_action(&format!("{at}.defaultAction"), action);
                    }
                    self.actions(&at, &column.actions, 1, MAX_CAROUSEL_COLUMN_ACTIONS);
                }
                // LINE: images and titles on every column or on none.
                if columns.windows(2).any(|w| {
                    w[0].thumbnail_image_url.is_some() != w[1].thumbnail_image_url.is_some()
                }) {
                    self.fail(
                        format!("{at}.columns"),
                        "every column or none must have a thumbnailImageUrl",
                    );
                }
                if columns
                    .windows(2)
                    .any(|w| w[0].title.is_some() != w[1].title.is_some())
                {
                    self.fail(
                        format!("{at}.columns"),
                        "every column or none must have a title",
                    );
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
            self.outside_quick_reply(&at, action);
            match action.label() {
                Some(label) => self.text(format!("{at}.label"), label, 20),
                None => self.fail(format!("{at}.label"), "must be specified"),
            }
            self.action_fields(&at, action);
        }
    }

    /// A template's or column's `defaultAction`: no label needed.
    fn default_action(&mut self, at: &str, action: &Action) {
        self.outside_quick_reply(at, action);
        self.action_fields(at, action);
    }

    /// Camera, camera roll and location actions belong to quick replies only.
    fn outside_quick_reply(&mut self, at: &str, action: &Action) {
        if matches!(
            action,
            Action::Camera { .. } | Action::CameraRoll { .. } | Action::Location { .. }
        ) {
            self.fail(format!("{at}.type"), "Invalid action type");
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
            Action::DatetimePicker {
                data,
                mode,
                initial,
                max,
                min,
                ..
            } => {
                self.text(format!("{at}.data"), data, 300);
                if !matches!(mode.as_str(), "date" | "time" | "datetime") {
                    self.fail(format!("{at}.mode"), "must be date, time or datetime");
                    return;
                }
                let mut read = |key: &str, value: &Option<String>| {
                    let value = value.as_deref()?;
                    let moment = moment(mode, value);
                    if moment.is_none() {
                        self.fail(
                            format!("{at}.{key}"),
                            format!(
                                "must be a {mode} between 1900-01-01T00:00 and 2100-12-31T23:59"
                            ),
                        );
                    }
                    moment
                };
                let (initial, max, min) =
                    (read("initial", initial), read("max", max), read("min", min));
                if let (Some(max), Some(min)) = (max, min)
                    && max <= min
                {
                    self.fail(format!("{at}.max"), "must be later than min");
                }
                if let Some(initial) = initial
                    && (min.is_some_and(|min| initial < min)
                        || max.is_some_and(|max| initial > max))
                {
                    self.fail(format!("{at}.initial"), "must be between min and max");
                }
            }
            Action::Camera { .. } | Action::CameraRoll { .. } | Action::Location { .. } => {}
        }
    }

    fn flex(&mut self, at: &str, contents: &serde_json::Value) {
        let mut animated = 0;
        let mut flex = FlexChecker {
            check: self,
            animated: &mut animated,
        };
        flex.container(at, contents);
    }
}

/// A date, time or datetime picker value as (day ordinal, minute of day), comparable within
/// one mode; `None` when malformed or outside 1900-01-01T00:00..=2100-12-31T23:59.
fn moment(mode: &str, value: &str) -> Option<(u32, u32)> {
    fn number(text: &str, digits: usize) -> Option<u32> {
        if text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse().ok()
        } else {
            None
        }
    }
    fn date(text: &str) -> Option<u32> {
        let mut parts = text.split('-');
        let (y, m, d) = (
            number(parts.next()?, 4)?,
            number(parts.next()?, 2)?,
            number(parts.next()?, 2)?,
        );
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        let ok = parts.next().is_none() && (1900..=2100).contains(&y) && (1..=days).contains(&d);
        ok.then_some(y * 400 + m * 32 + d)
    }
    fn time(text: &str) -> Option<u32> {
        let (h, m) = text.split_once(':')?;
        let (h, m) = (number(h, 2)?, number(m, 2)?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    }
    match mode {
        "date" => Some((date(value)?, 0)),
        "time" => Some((0, time(value)?)),
        _ => {
            let (d, t) = value.split_once('T')?;
            Some((date(d)?, time(t)?))
        }
    }
}

/// LINE's rules for a Flex Message's container, walked over its JSON (the client keeps
/// Flex contents as JSON, so anything can be built and everything must be checked here).
struct FlexChecker<'a> {
    check: &'a mut Checker,
    animated: &'a mut usize,
}

const FLEX_SPACES: &[&str] = &["none", "xs", "sm", "md", "lg", "xl", "xxl"];
const FLEX_FONT_SIZES: &[&str] = &[
    "xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl",
];
const FLEX_GRAVITIES: &[&str] = &["top", "bottom", "center"];
const FLEX_ALIGNS: &[&str] = &["start", "end", "center"];

impl FlexChecker<'_> {
    fn fail(&mut self, property: String, message: impl Into<String>) {
        self.check.fail(property, message);
    }

    fn str_of<'v>(value: &'v serde_json::Value, key: &str) -> Option<&'v str> {
        value.get(key).and_then(serde_json::Value::as_str)
    }

    fn has(value: &serde_json::Value, key: &str) -> bool {
        value.get(key).is_some_and(|v| !v.is_null())
    }

    /// `key`, when present, is one of `values`.
    fn one_of(&mut self, value: &serde_json::Value, at: &str, key: &str, values: &[&str]) {
        if Self::has(value, key) && !Self::str_of(value, key).is_some_and(|v| values.contains(&v)) {
            self.fail(
                format!("{at}.{key}"),
                format!("must be one of {}", values.join(", ")),
            );
        }
    }

    /// `key`, when present, is a keyword, `{n}px`, or with `percent` `{n}%`.
    fn size(
        &mut self,
        value: &serde_json::Value,
        at: &str,
        key: &str,
        keywords: &[&str],
        percent: bool,
    ) {
        if !Self::has(value, key) {
            return;
        }
        let decimal = |n: &str| {
            let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
            !whole.is_empty()
                && !fraction.is_empty()
                && whole
                    .bytes()
                    .chain(fraction.bytes())
                    .all(|b| b.is_ascii_digit())
        };
        let ok = Self::str_of(value, key).is_some_and(|v| {
            keywords.contains(&v)
                || v.strip_suffix("px").is_some_and(decimal)
                || (percent && v.strip_suffix('%').is_some_and(decimal))
        });
        if !ok {
            self.fail(
                format!("{at}.{key}"),
                "must be a keyword, pixels or (where allowed) percent",
            );
        }
    }

    fn color(&mut self, value: &serde_json::Value, at: &str, key: &str) {
        if !Self::has(value, key) {
            return;
        }
        let ok = Self::str_of(value, key)
            .and_then(|c| c.strip_prefix('#'))
            .is_some_and(|hex| {
                (hex.len() == 6 || hex.len() == 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
            });
        if !ok {
            self.fail(format!("{at}.{key}"), "must be #RRGGBB or #RRGGBBAA");
        }
    }

    fn required(&mut self, value: &serde_json::Value, at: &str, key: &str) -> bool {
        let present = Self::has(value, key);
        if !present {
            self.fail(format!("{at}.{key}"), "must be specified");
        }
        present
    }

    fn https(&mut self, value: &serde_json::Value, at: &str, key: &str) {
        if self.required(value, at, key) {
            let url = Self::str_of(value, key).unwrap_or_default();
            self.check.https_url(format!("{at}.{key}"), url);
        }
    }

    fn action(&mut self, value: &serde_json::Value, at: &str) {
        let Some(action) = value.get("action").filter(|a| !a.is_null()) else {
            return;
        };
        let at = format!("{at}.action");
        match Self::str_of(action, "type") {
            Some("clipboard") => {
                let text = Self::str_of(action, "clipboardText").unwrap_or_default();
                self.check.text(format!("{at}.clipboardText"), text, 1_000);
            }
            Some("postback" | "message" | "uri" | "datetimepicker") => {
                match serde_json::from_value::<Action>(action.clone()) {
                    Ok(parsed) => self.check.action_fields(&at, &parsed),
                    Err(_) => self.fail(at, "is not a valid action"),
                }
            }
            _ => self.fail(format!("{at}.type"), "Invalid action type"),
        }
    }

    fn container(&mut self, at: &str, contents: &serde_json::Value) {
        match Self::str_of(contents, "type") {
            Some("bubble") => self.bubble(at, contents),
            Some("carousel") => {
                if contents.to_string().len() > 50 * 1024 {
                    self.fail(at.to_owned(), "must be at most 50 KB of JSON");
                }
                let bubbles = contents
                    .get("contents")
                    .and_then(|c| c.as_array())
                    .map_or(&[][..], Vec::as_slice);
                self.check.count(
                    format!("{at}.contents"),
                    bubbles.len(),
                    1,
                    MAX_FLEX_CAROUSEL_BUBBLES,
                );
                for (j, bubble) in bubbles.iter().enumerate() {
                    let at = format!("{at}.contents[{j}]");
                    if Self::str_of(bubble, "type") == Some("bubble") {
                        self.bubble(&at, bubble);
                    } else {
                        self.fail(format!("{at}.type"), "must be bubble");
                    }
                }
            }
            _ => self.fail(format!("{at}.type"), "must be bubble or carousel"),
        }
    }

    fn bubble(&mut self, at: &str, bubble: &serde_json::Value) {
        if bubble.to_string().len() > 30 * 1024 {
            self.fail(at.to_owned(), "must be at most 30 KB of JSON");
        }
        self.one_of(bubble, at, "direction", &["ltr", "rtl"]);
        let sizes = ["nano", "micro", "deca", "hecto", "kilo", "mega", "giga"];
        self.one_of(bubble, at, "size", &sizes);
        for block in ["header", "body", "footer"] {
            if let Some(component) = bubble.get(block).filter(|b| !b.is_null()) {
                self.component(&format!("{at}.{block}"), component, &["box"]);
            }
        }
        if let Some(hero) = bubble.get("hero").filter(|h| !h.is_null()) {
            self.component(&format!("{at}.hero"), hero, &["box", "image", "video"]);
            let size = Self::str_of(bubble, "size").unwrap_or("mega");
            if Self::str_of(hero, "type") == Some("video")
                && !matches!(size, "kilo" | "mega" | "giga")
            {
                self.fail(
                    format!("{at}.size"),
                    "must be kilo, mega or giga with a video",
                );
            }
        }
        if let Some(styles) = bubble.get("styles").and_then(|s| s.as_object()) {
            for (block, style) in styles {
                let at = format!("{at}.styles.{block}");
                self.color(style, &at, "backgroundColor");
                self.color(style, &at, "separatorColor");
            }
        }
        self.action(bubble, at);
    }

    fn component(&mut self, at: &str, component: &serde_json::Value, allowed: &[&str]) {
        let Some(kind) = Self::str_of(component, "type") else {
            self.fail(format!("{at}.type"), "must be specified");
            return;
        };
        if !allowed.contains(&kind) {
            self.fail(
                format!("{at}.type"),
                format!("must be one of {}", allowed.join(", ")),
            );
            return;
        }
        if let Some(flex) = component.get("flex").filter(|f| !f.is_null())
            && flex.as_u64().is_none()
        {
            self.fail(format!("{at}.flex"), "must be a non-negative integer");
        }
        self.size(component, at, "margin", FLEX_SPACES, false);
        self.one_of(component, at, "position", &["relative", "absolute"]);
        for offset in ["offsetTop", "offsetBottom", "offsetStart", "offsetEnd"] {
            self.size(component, at, offset, FLEX_SPACES, true);
        }
        match kind {
            "box" => self.flex_box(at, component),
            "button" => {
                if self.required(component, at, "action") {
                    self.action(component, at);
                }
                self.one_of(component, at, "style", &["primary", "secondary", "link"]);
                self.one_of(component, at, "height", &["sm", "md"]);
                self.one_of(component, at, "gravity", FLEX_GRAVITIES);
                self.color(component, at, "color");
            }
            "image" => {
                self.https(component, at, "url");
                let mut sizes = FLEX_FONT_SIZES.to_vec();
                sizes.push("full");
                self.size(component, at, "size", &sizes, true);
                self.aspect_ratio(component, at);
                self.one_of(component, at, "aspectMode", &["fit", "cover"]);
                self.one_of(component, at, "align", FLEX_ALIGNS);
                self.one_of(component, at, "gravity", FLEX_GRAVITIES);
                self.color(component, at, "backgroundColor");
                if component
                    .get("animated")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true)
                {
                    *self.animated += 1;
                    if *self.animated > 10 {
                        self.fail(
                            format!("{at}.animated"),
                            "at most 10 animated images a message",
                        );
                    }
                }
                self.action(component, at);
            }
            "video" => {
                self.https(component, at, "url");
                self.https(component, at, "previewUrl");
                if self.required(component, at, "altContent") {
                    self.component(
                        &format!("{at}.altContent"),
                        &component["altContent"],
                        &["box", "image"],
                    );
                }
                self.action(component, at);
            }
            "icon" => {
                self.https(component, at, "url");
                self.size(component, at, "size", FLEX_FONT_SIZES, false);
            }
            "text" => self.text(at, component),
            "separator" => self.color(component, at, "color"),
            _ => {}
        }
    }

    fn flex_box(&mut self, at: &str, component: &serde_json::Value) {
        let layout = Self::str_of(component, "layout");
        if self.required(component, at, "layout") {
            self.one_of(
                component,
                at,
                "layout",
                &["horizontal", "vertical", "baseline"],
            );
        }
        let allowed: &[&str] = if layout == Some("baseline") {
            &["icon", "text", "filler"]
        } else {
            &["box", "button", "image", "text", "separator", "filler"]
        };
        if self.required(component, at, "contents") {
            let children = component["contents"]
                .as_array()
                .map_or(&[][..], Vec::as_slice);
            for (k, child) in children.iter().enumerate() {
                self.component(&format!("{at}.contents[{k}]"), child, allowed);
            }
        }
        self.size(component, at, "spacing", FLEX_SPACES, false);
        self.size(component, at, "cornerRadius", FLEX_SPACES, false);
        let borders = ["none", "light", "normal", "medium", "semi-bold", "bold"];
        self.size(component, at, "borderWidth", &borders, false);
        for key in ["width", "maxWidth", "height", "maxHeight"] {
            self.size(component, at, key, &[], true);
        }
        for key in [
            "paddingAll",
            "paddingTop",
            "paddingBottom",
            "paddingStart",
            "paddingEnd",
        ] {
            self.size(component, at, key, FLEX_SPACES, true);
        }
        self.color(component, at, "backgroundColor");
        self.color(component, at, "borderColor");
        let justify = [
            "center",
            "flex-start",
            "flex-end",
            "space-between",
            "space-around",
            "space-evenly",
        ];
        self.one_of(component, at, "justifyContent", &justify);
        self.one_of(
            component,
            at,
            "alignItems",
            &["center", "flex-start", "flex-end"],
        );
        if let Some(background) = component.get("background").filter(|b| !b.is_null()) {
            let at = format!("{at}.background");
            self.one_of(background, &at, "type", &["linearGradient"]);
            for key in ["angle", "startColor", "endColor"] {
                self.required(background, &at, key);
            }
            for key in ["startColor", "endColor", "centerColor"] {
                self.color(background, &at, key);
            }
        }
        self.action(component, at);
    }

    fn aspect_ratio(&mut self, component: &serde_json::Value, at: &str) {
        if !Self::has(component, "aspectRatio") {
            return;
        }
        let ratio = Self::str_of(component, "aspectRatio")
            .and_then(|r| r.split_once(':'))
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
        let ok = ratio.is_some_and(|(w, h)| {
            (1..=100_000).contains(&w) && (1..=100_000).contains(&h) && h <= w * 3
        });
        if !ok {
            self.fail(
                format!("{at}.aspectRatio"),
                "must be {width}:{height}, each 1 to 100000, at most three times as tall as wide",
            );
        }
    }

    fn text(&mut self, at: &str, component: &serde_json::Value) {
        match component.get("contents").filter(|c| !c.is_null()) {
            None => {
                self.required(component, at, "text");
            }
            Some(spans) => {
                let spans = spans.as_array().map_or(&[][..], Vec::as_slice);
                for (k, span) in spans.iter().enumerate() {
                    let at = format!("{at}.contents[{k}]");
                    if Self::str_of(span, "type") != Some("span") {
                        self.fail(format!("{at}.type"), "must be span");
                        continue;
                    }
                    self.required(span, &at, "text");
                    self.size(span, &at, "size", FLEX_FONT_SIZES, false);
                    self.color(span, &at, "color");
                    self.one_of(span, &at, "weight", &["regular", "bold"]);
                    self.one_of(span, &at, "style", &["normal", "italic"]);
                    self.one_of(
                        span,
                        &at,
                        "decoration",
                        &["none", "underline", "line-through"],
                    );
                }
            }
        }
        self.size(component, at, "size", FLEX_FONT_SIZES, false);
        self.color(component, at, "color");
        self.one_of(component, at, "weight", &["regular", "bold"]);
        self.one_of(component, at, "style", &["normal", "italic"]);
        self.one_of(
            component,
            at,
            "decoration",
            &["none", "underline", "line-through"],
        );
        self.one_of(component, at, "align", FLEX_ALIGNS);
        self.one_of(component, at, "gravity", FLEX_GRAVITIES);
        if let Some(lines) = component.get("maxLines").filter(|l| !l.is_null())
            && lines.as_u64().is_none()
        {
            self.fail(format!("{at}.maxLines"), "must be a non-negative integer");
        }
        self.action(component, at);
    }
}
