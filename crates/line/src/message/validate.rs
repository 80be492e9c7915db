//! [`validate()`](fn@validate): a batch of messages against LINE's documented limits,
//! each offending field named the way LINE's own `details[].property` does.

use serde::{Deserialize, Serialize};

use super::flex::FlexChecker;
use super::*;

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
pub(super) struct Checker {
    pub(super) violations: Vec<Violation>,
}

impl Checker {
    pub(super) fn fail(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            property: property.into(),
            message: message.into(),
        });
    }

    pub(super) fn finish(self) -> Result<(), ValidationError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                violations: self.violations,
            })
        }
    }

    /// Text must be non-empty and at most `max` UTF-16 units.
    pub(super) fn text(&mut self, property: String, text: &str, max: usize) {
        if text.is_empty() {
            self.fail(property, "must not be empty");
        } else if utf16_len(text) > max {
            self.fail(property, format!("length must be at most {max}"));
        }
    }

    pub(super) fn optional_text(&mut self, property: String, text: Option<&str>, max: usize) {
        if let Some(text) = text {
            self.text(property, text, max);
        }
    }

    pub(super) fn https_url(&mut self, property: String, url: &str) {
        if !url.starts_with("https://") {
            self.fail(property, "must be an HTTPS URL");
        } else if url.len() > MAX_URL {
            self.fail(property, format!("length must be at most {MAX_URL}"));
        }
    }

    pub(super) fn count(&mut self, property: String, len: usize, min: usize, max: usize) {
        if len < min || len > max {
            self.fail(property, format!("size must be between {min} and {max}"));
        }
    }

    pub(super) fn message(&mut self, at: &str, message: &Message) {
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

    pub(super) fn template(&mut self, at: &str, template: &Template) {
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

    pub(super) fn actions(&mut self, at: &str, actions: &[Action], min: usize, max: usize) {
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
    pub(super) fn default_action(&mut self, at: &str, action: &Action) {
        self.outside_quick_reply(at, action);
        self.action_fields(at, action);
    }

    /// Camera, camera roll and location actions belong to quick replies only.
    pub(super) fn outside_quick_reply(&mut self, at: &str, action: &Action) {
        if matches!(
            action,
            Action::Camera { .. } | Action::CameraRoll { .. } | Action::Location { .. }
        ) {
            self.fail(format!("{at}.type"), "Invalid action type");
        }
    }

    pub(super) fn action_fields(&mut self, at: &str, action: &Action) {
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

    pub(super) fn flex(&mut self, at: &str, contents: &serde_json::Value) {
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
