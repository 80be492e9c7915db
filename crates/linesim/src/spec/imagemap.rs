//! Imagemap messages (spec: `ImagemapMessage`, `ImagemapBaseSize`, `ImagemapAction` and its
//! mapping, `ImagemapArea`, `ImagemapVideo`, `ImagemapExternalLink`; reference:
//! #imagemap-message, #imagemap-action-objects).

use serde_json::Value;

use super::message::MAX_ALT_TEXT;
use super::{Check, Str, field, one_of_message, path};

/// spec: `ImagemapAction.discriminator.mapping`.
const ACTION_TYPES: &[&str] = &["uri", "message", "clipboard"];
/// reference: #imagemap-message `baseSize.width` "Set to 1040".
const BASE_WIDTH: i64 = 1_040;
/// reference: #imagemap-message `actions` "Max: 50".
const MAX_ACTIONS: usize = 50;

/// spec: `ImagemapMessage` (required `baseUrl`, `altText`, `baseSize`, `actions`).
pub(super) fn check(check: &mut Check, at: &str, message: &Value) {
    check.https_url(message, at, "baseUrl", true);
    check.string(message, at, "altText", Str::required(MAX_ALT_TEXT));
    if let Some(size) = check.required(message, at, "baseSize") {
        let at = path(at, "baseSize");
        if check.object(size, &at).is_some() {
            check.integer(size, &at, "width", BASE_WIDTH, BASE_WIDTH, true);
            check.integer(size, &at, "height", 1, i64::from(i32::MAX), true);
        }
    }
    if let Some(actions) = check.array(message, at, "actions", 0, MAX_ACTIONS, true) {
        for (k, action) in actions.iter().enumerate() {
            imagemap_action(check, &format!("{at}.actions[{k}]"), action);
        }
    }
    if let Some(video) = field(message, "video") {
        imagemap_video(check, &path(at, "video"), video);
    }
}

/// spec: `ImagemapAction` (required `type`, `area`), `URIImagemapAction` (required
/// `linkUri`), `MessageImagemapAction` (required `text`), `ClipboardImagemapAction`
/// (required `clipboardText`, 1 to 1000); reference: #imagemap-action-objects (`linkUri`
/// http, https, line or tel at most 1000; `text` at most 400).
fn imagemap_action(check: &mut Check, at: &str, action: &Value) {
    if check.object(action, at).is_none() {
        return;
    }
    if let Some(area) = check.required(action, at, "area") {
        self::area(check, &path(at, "area"), area);
    }
    check.string(action, at, "label", Str::optional(usize::MAX));
    let Some(kind) = check.required(action, at, "type") else {
        return;
    };
    match kind.as_str() {
        Some("uri") => {
            check.link(action, at, "linkUri", true, 1_000);
        }
        Some("message") => {
            check.string(action, at, "text", Str::required(400));
        }
        Some("clipboard") => {
            check.string(action, at, "clipboardText", Str::required(1_000));
        }
        _ => check.fail(path(at, "type"), one_of_message(ACTION_TYPES)),
    }
}

/// spec: `ImagemapArea` (required `x`, `y`, `width`, `height`, integers): a place on the
/// 1040-wide image, so not negative and not empty.
fn area(check: &mut Check, at: &str, area: &Value) {
    if check.object(area, at).is_none() {
        return;
    }
    let max = i64::from(i32::MAX);
    check.integer(area, at, "x", 0, max, true);
    check.integer(area, at, "y", 0, max, true);
    check.integer(area, at, "width", 1, max, true);
    check.integer(area, at, "height", 1, max, true);
}

/// spec: `ImagemapVideo`, `ImagemapExternalLink`; reference: #imagemap-message `video.*`:
/// with a video, its URLs (HTTPS) and area are required; an external link needs `linkUri`
/// (at most 1000) and `label` (at most 30).
fn imagemap_video(check: &mut Check, at: &str, video: &Value) {
    if check.object(video, at).is_none() {
        return;
    }
    check.https_url(video, at, "originalContentUrl", true);
    check.https_url(video, at, "previewImageUrl", true);
    if let Some(area) = check.required(video, at, "area") {
        self::area(check, &path(at, "area"), area);
    }
    if let Some(link) = field(video, "externalLink") {
        let at = path(at, "externalLink");
        if check.object(link, &at).is_some() {
            check.link(link, &at, "linkUri", true, 1_000);
            check.string(link, &at, "label", Str::required(30));
        }
    }
}
