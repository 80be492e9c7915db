//! LINE's rules for the `messages` of a send, written from LINE's own OpenAPI specification
//! (`messaging-api.yml` in github.com/line/line-openapi) and the Messaging API reference
//! that its `externalDocs` links point to (developers.line.biz/en/reference/messaging-api/).
//!
//! This is linesim's own reading of LINE, kept apart from the client's validator
//! (`tsunagi_line::message::validate`) on purpose: a rule the client forgot must still fail
//! a test here. Messages are checked as raw JSON, so message types and actions our client
//! cannot build yet (imagemap, image carousel, clipboard, textV2, coupon) are judged too.
//!
//! Each rule names where it comes from: `spec: Schema.property` for the OpenAPI file,
//! `reference: #anchor` for a page section of the reference. Violations are reported as LINE
//! reports them: `property` is the JSON path (`messages[0].template.actions[4].label`),
//! `message` LINE's wording where it is known ("must be specified", "May not be empty",
//! "Length must be between 0 and 20", "Size must be between 1 and 5",
//! "Must be one of the following values: [...]", "Invalid action type").

mod action;
mod flex;
mod imagemap;
mod message;
mod sticker;
mod template;
mod text;

use serde_json::{Map, Value};
use tsunagi_line::message::Violation;

use crate::error::LineError;

/// spec: `ReplyMessageRequest.messages` (and push, multicast, broadcast, narrowcast,
/// validate): `minItems: 1`, `maxItems: 5`.
pub(crate) const MAX_MESSAGES: usize = 5;

/// LINE's `details[].message` for a required property that is absent or null.
const MUST_BE_SPECIFIED: &str = "must be specified";
/// LINE's `details[].message` for an empty required text.
const MAY_NOT_BE_EMPTY: &str = "May not be empty";

/// Checks a request's `messages`: their count, then each message. Every broken rule is
/// reported, as LINE lists them all in `details`.
pub(crate) fn check_messages(messages: &[Value]) -> Result<(), LineError> {
    let mut check = Check::default();
    if messages.is_empty() || messages.len() > MAX_MESSAGES {
        check.fail("messages", size_message(1, MAX_MESSAGES));
    }
    for (i, value) in messages.iter().enumerate() {
        message::check(&mut check, &format!("messages[{i}]"), value);
    }
    if check.violations.is_empty() {
        Ok(())
    } else {
        Err(LineError::invalid(check.violations))
    }
}

fn size_message(min: usize, max: usize) -> String {
    format!("Size must be between {min} and {max}")
}

fn length_message(min: usize, max: usize) -> String {
    format!("Length must be between {min} and {max}")
}

fn one_of_message(values: &[&str]) -> String {
    format!(
        "Must be one of the following values: [{}]",
        values.join(", ")
    )
}

/// How LINE counts a text's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Units {
    /// UTF-16 code units: LINE's count for message texts (reference: "Character counting
    /// in a text", and LINE.md).
    Utf16,
    /// Grapheme clusters: LINE's count for action objects and the texts of buttons,
    /// confirm and carousel templates (the same page's table of exceptions).
    Graphemes,
}

/// What a string property must be.
#[derive(Debug, Clone, Copy)]
struct Str {
    required: bool,
    min: usize,
    max: usize,
    units: Units,
}

impl Str {
    /// Required, not empty, at most `max` UTF-16 units.
    fn required(max: usize) -> Self {
        Self {
            required: true,
            min: 1,
            max,
            units: Units::Utf16,
        }
    }

    /// Optional; when present at most `max` UTF-16 units (and not empty).
    fn optional(max: usize) -> Self {
        Self {
            required: false,
            ..Self::required(max)
        }
    }

    /// The spec's `minLength: 0`: an empty string is allowed.
    fn may_be_empty(self) -> Self {
        Self { min: 0, ..self }
    }

    fn graphemes(self) -> Self {
        Self {
            units: Units::Graphemes,
            ..self
        }
    }
}

/// Collects violations while walking a message.
#[derive(Debug, Default)]
struct Check {
    violations: Vec<Violation>,
}

fn path(at: &str, key: &str) -> String {
    format!("{at}.{key}")
}

/// A property, with an explicit `null` read as absent (LINE's Java validators do the same).
fn field<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

impl Check {
    fn fail(&mut self, property: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            property: property.into(),
            message: message.into(),
        });
    }

    /// The object at `at`, or a violation.
    fn object<'a>(&mut self, value: &'a Value, at: &str) -> Option<&'a Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.fail(at, "Must be an object");
        }
        object
    }

    /// A required property: present and not null.
    fn required<'a>(&mut self, object: &'a Value, at: &str, key: &str) -> Option<&'a Value> {
        let value = field(object, key);
        if value.is_none() {
            self.fail(path(at, key), MUST_BE_SPECIFIED);
        }
        value
    }

    fn present<'a>(
        &mut self,
        object: &'a Value,
        at: &str,
        key: &str,
        required: bool,
    ) -> Option<&'a Value> {
        if required {
            self.required(object, at, key)
        } else {
            field(object, key)
        }
    }

    /// A string property under `rule`.
    fn string<'a>(&mut self, object: &'a Value, at: &str, key: &str, rule: Str) -> Option<&'a str> {
        let value = self.present(object, at, key, rule.required)?;
        let Some(text) = value.as_str() else {
            self.fail(path(at, key), "Must be a string");
            return None;
        };
        let length = match rule.units {
            Units::Utf16 => text::utf16_len(text),
            Units::Graphemes => text::graphemes(text),
        };
        if length == 0 && rule.min > 0 {
            self.fail(path(at, key), MAY_NOT_BE_EMPTY);
        } else if length < rule.min || length > rule.max {
            // LINE words a required text's limit from 0; emptiness has its own message.
            let shown = if rule.min <= 1 { 0 } else { rule.min };
            self.fail(path(at, key), length_message(shown, rule.max));
        }
        Some(text)
    }

    /// A URL that LINE fetches itself: `format: uri`, HTTPS only, at most 2000 characters
    /// (reference: image, video, audio, imagemap, template, Flex image and icon URLs,
    /// quick reply and sender icons: "Max character limit: 2000, Protocol: HTTPS (TLS 1.2
    /// or later)").
    fn https_url<'a>(
        &mut self,
        object: &'a Value,
        at: &str,
        key: &str,
        required: bool,
    ) -> Option<&'a str> {
        let url = self.string(
            object,
            at,
            key,
            Str {
                required,
                ..Str::required(2_000)
            },
        )?;
        if !text::has_scheme(url, &["https"]) {
            self.fail(path(at, key), "Invalid URL scheme: must be https");
        }
        Some(url)
    }

    /// A link a user opens: at most `max` characters with the scheme `http`, `https`,
    /// `line` or `tel` (reference: URI action `uri`, `altUri.desktop`, imagemap `linkUri`).
    fn link<'a>(
        &mut self,
        object: &'a Value,
        at: &str,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<&'a str> {
        let uri = self.string(
            object,
            at,
            key,
            Str {
                required,
                ..Str::required(max)
            },
        )?;
        if !text::has_scheme(uri, &["http", "https", "line", "tel"]) {
            self.fail(
                path(at, key),
                "Invalid URI scheme: must be http, https, line or tel",
            );
        }
        Some(uri)
    }

    /// A string property whose value is one of `values` (the spec's `enum`).
    fn one_of<'a>(
        &mut self,
        object: &'a Value,
        at: &str,
        key: &str,
        values: &[&str],
        required: bool,
    ) -> Option<&'a str> {
        let value = self.present(object, at, key, required)?;
        match value.as_str() {
            Some(v) if values.contains(&v) => Some(v),
            _ => {
                self.fail(path(at, key), one_of_message(values));
                None
            }
        }
    }

    /// An array property of `min..=max` items (the spec's `minItems`/`maxItems`).
    fn array<'a>(
        &mut self,
        object: &'a Value,
        at: &str,
        key: &str,
        min: usize,
        max: usize,
        required: bool,
    ) -> Option<&'a [Value]> {
        let value = self.present(object, at, key, required)?;
        let Some(items) = value.as_array() else {
            self.fail(path(at, key), "Must be an array");
            return None;
        };
        if items.len() < min || items.len() > max {
            self.fail(path(at, key), size_message(min, max));
        }
        Some(items)
    }

    /// An integer property in `min..=max` (`type: integer`).
    fn integer(
        &mut self,
        object: &Value,
        at: &str,
        key: &str,
        min: i64,
        max: i64,
        required: bool,
    ) -> Option<i64> {
        let value = self.present(object, at, key, required)?;
        let Some(number) = value.as_i64() else {
            self.fail(path(at, key), "Must be an integer");
            return None;
        };
        if number < min || number > max {
            self.fail(path(at, key), format!("Must be between {min} and {max}"));
        }
        Some(number)
    }

    /// A number property in `min..=max` (`type: number`).
    fn number(
        &mut self,
        object: &Value,
        at: &str,
        key: &str,
        min: f64,
        max: f64,
        required: bool,
    ) -> Option<f64> {
        let value = self.present(object, at, key, required)?;
        let Some(number) = value.as_f64() else {
            self.fail(path(at, key), "Must be a number");
            return None;
        };
        if !(min..=max).contains(&number) {
            self.fail(path(at, key), format!("Must be between {min} and {max}"));
        }
        Some(number)
    }

    fn boolean(&mut self, object: &Value, at: &str, key: &str) -> Option<bool> {
        let value = field(object, key)?;
        let flag = value.as_bool();
        if flag.is_none() {
            self.fail(path(at, key), "Must be a boolean");
        }
        flag
    }

    /// A colour: `#RRGGBB`, or with `alpha` also `#RRGGBBAA` (reference: template
    /// `imageBackgroundColor` "RGB color value"; Flex colours "hexadecimal color code").
    fn color(&mut self, object: &Value, at: &str, key: &str, alpha: bool) {
        let Some(value) = field(object, key) else {
            return;
        };
        let ok = value.as_str().is_some_and(|c| text::is_color(c, alpha));
        if !ok {
            let shape = if alpha {
                "#RRGGBB or #RRGGBBAA"
            } else {
                "#RRGGBB"
            };
            self.fail(path(at, key), format!("Invalid color: must be {shape}"));
        }
    }
}
