//! Action objects (spec: `Action` and its discriminator mapping; reference: #action-objects).

use serde_json::Value;

use super::{Check, Str, field, path};

/// Where an action sits, which decides whether it needs a label, how long the label may
/// be, and which types are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// A button of a buttons, confirm or carousel template: label required, at most 20.
    Template,
    /// An image carousel column: label optional, at most 12.
    ImageCarousel,
    /// A template's or column's `defaultAction` (the image, title and text area).
    DefaultAction,
    /// A quick reply button: label required, at most 20.
    QuickReply,
    /// A Flex Message component or bubble.
    Flex,
}

/// spec: `Action.discriminator.mapping` less `richmenuswitch`, which the reference
/// (#richmenu-switch-action, "Use quick replies") allows in rich menus only; camera,
/// camera roll and location are quick-reply actions only (reference: #camera-action,
/// #camera-roll-action, #location-action).
fn allowed(place: Place) -> &'static [&'static str] {
    match place {
        Place::QuickReply => &[
            "postback",
            "message",
            "uri",
            "datetimepicker",
            "camera",
            "cameraRoll",
            "location",
            "clipboard",
        ],
        Place::Template | Place::ImageCarousel | Place::DefaultAction | Place::Flex => {
            &["postback", "message", "uri", "datetimepicker", "clipboard"]
        }
    }
}

/// reference: #postback-action and its siblings, `label`: "Required for templates other
/// than image carousel. Max character limit: 20. Optional for image carousel templates.
/// Max character limit: 12. Required for quick reply buttons. Max character limit: 20."
/// Counted in grapheme clusters (reference: "Character counting in a text").
fn label_rule(place: Place) -> Option<Str> {
    match place {
        Place::Template | Place::QuickReply => Some(Str::required(20).graphemes()),
        Place::ImageCarousel => Some(Str::optional(12).graphemes()),
        Place::DefaultAction => Some(Str::optional(20).graphemes()),
        Place::Flex => None,
    }
}

/// reference: #postback-action `data`, `displayText`, `text`, `fillInText`; #message-action
/// `text`: "Max character limit: 300".
const MAX_ACTION_TEXT: usize = 300;
/// reference: #uri-action `uri` and spec: `AltUri.desktop` `maxLength: 1000`.
const MAX_URI: usize = 1_000;

pub(super) fn check(check: &mut Check, at: &str, action: &Value, place: Place) {
    if check.object(action, at).is_none() {
        return;
    }
    let Some(kind) = check.required(action, at, "type") else {
        return;
    };
    let kind = kind.as_str().unwrap_or_default();
    if !allowed(place).contains(&kind) {
        check.fail(path(at, "type"), "Invalid action type");
        return;
    }
    match label_rule(place) {
        Some(rule) => {
            check.string(action, at, "label", rule);
        }
        // Flex labels: no limit of the reference's is known to us; a string at least.
        None => {
            check.string(
                action,
                at,
                "label",
                Str::optional(usize::MAX).may_be_empty(),
            );
        }
    }
    let text = |required| Str {
        required,
        ..Str::required(MAX_ACTION_TEXT).graphemes()
    };
    match kind {
        // spec: `PostbackAction` (`data` `maxLength: 300`, `minLength: 0`; `inputOption`
        // enum); reference: #postback-action (`data` required; `displayText` and the
        // deprecated `text` not both).
        "postback" => {
            check.string(action, at, "data", text(true).may_be_empty());
            let display = check.string(action, at, "displayText", text(false));
            let shown = check.string(action, at, "text", text(false));
            if display.is_some() && shown.is_some() {
                check.fail(
                    path(at, "text"),
                    "displayText and text cannot be specified together",
                );
            }
            check.one_of(
                action,
                at,
                "inputOption",
                &["closeRichMenu", "openRichMenu", "openKeyboard", "openVoice"],
                false,
            );
            check.string(action, at, "fillInText", text(false));
        }
        // spec: `MessageAction.text`; reference: #message-action (required, at most 300).
        "message" => {
            check.string(action, at, "text", text(true));
        }
        // spec: `URIAction` (`uri` `format: uri`; `altUri.desktop` `maxLength: 1000`);
        // reference: #uri-action (required; http, https, line or tel; at most 1000).
        "uri" => {
            check.link(action, at, "uri", true, MAX_URI);
            if let Some(alt) = field(action, "altUri") {
                let at = path(at, "altUri");
                if check.object(alt, &at).is_some() {
                    check.link(alt, &at, "desktop", true, MAX_URI);
                }
            }
        }
        "datetimepicker" => datetime_picker(check, at, action),
        // spec: `ClipboardAction.clipboardText` (required, `minLength: 1`,
        // `maxLength: 1000`).
        "clipboard" => {
            check.string(action, at, "clipboardText", Str::required(1_000));
        }
        // spec: `CameraAction`, `CameraRollAction`, `LocationAction`: a label only.
        _ => {}
    }
}

/// spec: `DatetimePickerAction` (`data` `maxLength: 300`; `mode` date | time | datetime;
/// `initial`, `max`, `min`); reference: #datetime-picker-action: `data` and `mode`
/// required; values as `2100-12-31`, `23:59` or `2100-12-31T23:59` by mode, from
/// 1900-01-01T00:00 to 2100-12-31T23:59; `max` after `min`, `initial` between them.
fn datetime_picker(check: &mut Check, at: &str, action: &Value) {
    check.string(
        action,
        at,
        "data",
        Str::required(MAX_ACTION_TEXT).graphemes().may_be_empty(),
    );
    let Some(mode) = check.one_of(action, at, "mode", &["date", "time", "datetime"], true) else {
        return;
    };
    let mut read = |key: &str| -> Option<(u32, u32)> {
        let value = check.string(action, at, key, Str::optional(16))?;
        let parsed = parse_moment(mode, value);
        if parsed.is_none() {
            let shape = match mode {
                "date" => "yyyy-MM-dd",
                "time" => "HH:mm",
                _ => "yyyy-MM-ddTHH:mm",
            };
            check.fail(
                path(at, key),
                format!(
                    "Invalid {mode}: must be {shape} within 1900-01-01T00:00 and 2100-12-31T23:59"
                ),
            );
        }
        parsed
    };
    let initial = read("initial");
    let max = read("max");
    let min = read("min");
    if let (Some(max), Some(min)) = (max, min)
        && max <= min
    {
        check.fail(path(at, "max"), "must be later than min");
    }
    if let Some(initial) = initial
        && (min.is_some_and(|min| initial < min) || max.is_some_and(|max| initial > max))
    {
        check.fail(path(at, "initial"), "must be between min and max");
    }
}

/// A date, time or datetime as (days since 1900-01-01 or 0, minutes of the day or 0), so
/// that values of one mode compare in order; `None` when malformed or out of LINE's range.
fn parse_moment(mode: &str, value: &str) -> Option<(u32, u32)> {
    let (date, time) = match mode {
        "date" => (Some(value), None),
        "time" => (None, Some(value)),
        _ => {
            let (date, time) = value.split_once('T')?;
            (Some(date), Some(time))
        }
    };
    let day = match date {
        Some(date) => parse_date(date)?,
        None => 0,
    };
    let minute = match time {
        Some(time) => parse_time(time)?,
        None => 0,
    };
    Some((day, minute))
}

fn digits(text: &str, len: usize) -> Option<u32> {
    (text.len() == len && text.chars().all(|c| c.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `yyyy-MM-dd` between 1900-01-01 and 2100-12-31, as an ordinal.
fn parse_date(date: &str) -> Option<u32> {
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if parts.next().is_some() || !(1900..=2100).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days_in_month).contains(&day) {
        return None;
    }
    Some((year - 1900) * 372 + (month - 1) * 31 + (day - 1))
}

/// `HH:mm` from 00:00 to 23:59, as minutes of the day.
fn parse_time(time: &str) -> Option<u32> {
    let (hours, minutes) = time.split_once(':')?;
    let (hours, minutes) = (digits(hours, 2)?, digits(minutes, 2)?);
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse_by_mode_within_lines_range() {
        assert!(parse_moment("date", "2024-02-29").is_some());
        assert!(parse_moment("date", "2023-02-29").is_none());
        assert!(parse_moment("date", "1899-12-31").is_none());
        assert!(parse_moment("date", "2101-01-01").is_none());
        assert!(parse_moment("time", "23:59").is_some());
        assert!(parse_moment("time", "24:00").is_none());
        assert!(parse_moment("datetime", "2026-01-01T09:30").is_some());
        assert!(parse_moment("datetime", "2026-01-01").is_none());
        assert!(parse_moment("date", "2026-01-01T09:30").is_none());
        assert!(parse_moment("date", "2026-01-02") > parse_moment("date", "2026-01-01"));
        assert!(parse_moment("date", "2026-02-01") > parse_moment("date", "2026-01-31"));
    }
}
