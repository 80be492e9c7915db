//! Template messages (spec: `TemplateMessage`, `Template` and its mapping: buttons,
//! confirm, carousel, image_carousel; reference: #template-messages).

use serde_json::Value;

use super::action::{self, Place};
use super::message::MAX_ALT_TEXT;
use super::{Check, Str, field, one_of_message, path};

/// spec: `Template.discriminator.mapping`.
const TYPES: &[&str] = &["buttons", "confirm", "carousel", "image_carousel"];
/// spec: `TemplateImageAspectRatio`.
const ASPECT_RATIOS: &[&str] = &["rectangle", "square"];
/// spec: `TemplateImageSize`.
const IMAGE_SIZES: &[&str] = &["cover", "contain"];
/// reference: #carousel, #image-carousel `columns` "Max columns: 10".
const MAX_COLUMNS: usize = 10;

/// spec: `TemplateMessage` (required `altText`, `template`).
pub(super) fn check(check: &mut Check, at: &str, message: &Value) {
    check.string(message, at, "altText", Str::required(MAX_ALT_TEXT));
    let Some(template) = check.required(message, at, "template") else {
        return;
    };
    let at = path(at, "template");
    if check.object(template, &at).is_none() {
        return;
    }
    let Some(kind) = check.required(template, &at, "type") else {
        return;
    };
    match kind.as_str() {
        Some("buttons") => buttons(check, &at, template),
        Some("confirm") => confirm(check, &at, template),
        Some("carousel") => carousel(check, &at, template),
        Some("image_carousel") => image_carousel(check, &at, template),
        _ => check.fail(path(&at, "type"), one_of_message(TYPES)),
    }
}

/// Title and text texts count grapheme clusters (reference: "Character counting in a
/// text": buttons, confirm and carousel templates).
fn text(max: usize) -> Str {
    Str::required(max).graphemes()
}

/// spec: `ButtonsTemplate` (required `text`, `actions`); reference: #buttons:
/// `thumbnailImageUrl` HTTPS at most 2000; `title` at most 40; `text` at most 160, or 60
/// with an image or title; `imageBackgroundColor` RGB; `actions` "Max: 4".
fn buttons(check: &mut Check, at: &str, template: &Value) {
    let thumbnail = check.https_url(template, at, "thumbnailImageUrl", false);
    check.one_of(template, at, "imageAspectRatio", ASPECT_RATIOS, false);
    check.one_of(template, at, "imageSize", IMAGE_SIZES, false);
    check.color(template, at, "imageBackgroundColor", false);
    let title = check.string(template, at, "title", Str::optional(40).graphemes());
    let max = if thumbnail.is_some() || title.is_some() {
        60
    } else {
        160
    };
    check.string(template, at, "text", text(max));
    default_action(check, at, template);
    actions(check, at, template, 1, 4);
}

/// spec: `ConfirmTemplate` (required `text`, `actions`); reference: #confirm: `text` at most
/// 240; `actions` "Set 2 actions for the 2 buttons".
fn confirm(check: &mut Check, at: &str, template: &Value) {
    check.string(template, at, "text", text(240));
    actions(check, at, template, 2, 2);
}

/// spec: `CarouselTemplate` (required `columns`), `CarouselColumn` (required `text`,
/// `actions`); reference: #carousel, #column-object-for-carousel: at most 10 columns;
/// `title` at most 40; `text` at most 120, or 60 with an image or title; `actions` "Max: 3";
/// "Keep the number of actions consistent for all columns", and images and titles on all
/// columns or none.
fn carousel(check: &mut Check, at: &str, template: &Value) {
    check.one_of(template, at, "imageAspectRatio", ASPECT_RATIOS, false);
    check.one_of(template, at, "imageSize", IMAGE_SIZES, false);
    let Some(columns) = check.array(template, at, "columns", 1, MAX_COLUMNS, true) else {
        return;
    };
    let mut shapes = Vec::new();
    for (j, column) in columns.iter().enumerate() {
        let at = format!("{at}.columns[{j}]");
        if check.object(column, &at).is_none() {
            continue;
        }
        let thumbnail = check.https_url(column, &at, "thumbnailImageUrl", false);
        check.color(column, &at, "imageBackgroundColor", false);
        let title = check.string(column, &at, "title", Str::optional(40).graphemes());
        let max = if thumbnail.is_some() || title.is_some() {
            60
        } else {
            120
        };
        check.string(column, &at, "text", text(max));
        default_action(check, &at, column);
        let count = actions(check, &at, column, 1, 3);
        shapes.push((count, thumbnail.is_some(), title.is_some()));
    }
    let at = path(at, "columns");
    if shapes.windows(2).any(|w| w[0].0 != w[1].0) {
        check.fail(&at, "must all have the same number of actions");
    }
    if shapes.windows(2).any(|w| w[0].1 != w[1].1) {
        check.fail(&at, "must all have a thumbnailImageUrl or none");
    }
    if shapes.windows(2).any(|w| w[0].2 != w[1].2) {
        check.fail(&at, "must all have a title or none");
    }
}

/// spec: `ImageCarouselTemplate` (required `columns`), `ImageCarouselColumn` (required
/// `imageUrl`, `action`); reference: #image-carousel: at most 10 columns, HTTPS image URLs
/// at most 2000.
fn image_carousel(check: &mut Check, at: &str, template: &Value) {
    let Some(columns) = check.array(template, at, "columns", 1, MAX_COLUMNS, true) else {
        return;
    };
    for (j, column) in columns.iter().enumerate() {
        let at = format!("{at}.columns[{j}]");
        if check.object(column, &at).is_none() {
            continue;
        }
        check.https_url(column, &at, "imageUrl", true);
        if let Some(action) = check.required(column, &at, "action") {
            action::check(check, &path(&at, "action"), action, Place::ImageCarousel);
        }
    }
}

fn default_action(check: &mut Check, at: &str, object: &Value) {
    if let Some(action) = field(object, "defaultAction") {
        action::check(
            check,
            &path(at, "defaultAction"),
            action,
            Place::DefaultAction,
        );
    }
}

/// The `actions` of a template or column, `min..=max` of them; how many there were.
fn actions(check: &mut Check, at: &str, object: &Value, min: usize, max: usize) -> usize {
    let Some(actions) = check.array(object, at, "actions", min, max, true) else {
        return 0;
    };
    for (k, action) in actions.iter().enumerate() {
        action::check(
            check,
            &format!("{at}.actions[{k}]"),
            action,
            Place::Template,
        );
    }
    actions.len()
}
