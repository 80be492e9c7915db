//! Message objects: the common properties, then each `type` (spec: `Message` and its
//! discriminator mapping).

use serde_json::Value;

use super::action::{self, Place};
use super::{Check, Str, field, flex, imagemap, one_of_message, path, sticker, template};

/// spec: `Message.discriminator.mapping`: every type LINE accepts.
const TYPES: &[&str] = &[
    "text", "textV2", "sticker", "image", "video", "audio", "location", "imagemap", "template",
    "flex", "coupon",
];

/// reference: #text-message `text` "Max character limit: 5000"; #text-message-v2 the same.
const MAX_TEXT: usize = 5_000;
/// reference: #imagemap-message, #template-messages, #flex-message `altText`
/// "Max character limit: 1500".
pub(super) const MAX_ALT_TEXT: usize = 1_500;
/// reference: #text-message `emojis` "Max: 20 LINE emojis".
const MAX_EMOJIS: usize = 20;
/// reference: #text-message-v2 `substitution` "Max: 100".
const MAX_SUBSTITUTIONS: usize = 100;

pub(super) fn check(check: &mut Check, at: &str, message: &Value) {
    if check.object(message, at).is_none() {
        return;
    }
    let Some(kind) = check.required(message, at, "type") else {
        return;
    };
    match kind.as_str() {
        Some("text") => text_message(check, at, message),
        Some("textV2") => text_v2(check, at, message),
        Some("sticker") => sticker_message(check, at, message),
        Some("image") => image(check, at, message),
        Some("video") => video(check, at, message),
        Some("audio") => audio(check, at, message),
        Some("location") => location(check, at, message),
        Some("imagemap") => imagemap::check(check, at, message),
        Some("template") => template::check(check, at, message),
        Some("flex") => flex::check(check, at, message),
        Some("coupon") => coupon(check, at, message),
        _ => check.fail(path(at, "type"), one_of_message(TYPES)),
    }
    quick_reply(check, at, message);
    sender(check, at, message);
}

/// spec: `TextMessage` (required `text`; `emojis`: `Emoji`; `quoteToken`);
/// reference: #text-message.
fn text_message(check: &mut Check, at: &str, message: &Value) {
    let text = check.string(message, at, "text", Str::required(MAX_TEXT));
    check.string(message, at, "quoteToken", Str::optional(MAX_TEXT));
    let Some(emojis) = check.array(message, at, "emojis", 0, MAX_EMOJIS, false) else {
        return;
    };
    // reference: #text-message `emojis[].index`: "The specified position must correspond
    // to a $ character, which serves as a placeholder for the LINE emoji", counted in
    // UTF-16 units from 0. So each emoji takes its own `$`: there can be no more emojis
    // than `$` characters, and no two on one.
    let dollars: Vec<usize> = text
        .map(|t| {
            t.encode_utf16()
                .enumerate()
                .filter(|(_, unit)| *unit == u16::from(b'$'))
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    let mut taken = Vec::new();
    for (j, emoji) in emojis.iter().enumerate() {
        let at = format!("{at}.emojis[{j}]");
        if check.object(emoji, &at).is_none() {
            continue;
        }
        let index = check.integer(emoji, &at, "index", 0, i64::from(i32::MAX), true);
        check.string(emoji, &at, "productId", Str::required(100));
        check.string(emoji, &at, "emojiId", Str::required(100));
        if let (Some(index), Some(_)) = (index, text) {
            let index = usize::try_from(index).unwrap_or(usize::MAX);
            if !dollars.contains(&index) {
                check.fail(path(&at, "index"), "must point at a $ placeholder in text");
            } else if taken.contains(&index) {
                check.fail(path(&at, "index"), "is used by another emoji");
            }
            taken.push(index);
        }
    }
    if text.is_some() && emojis.len() > dollars.len() {
        check.fail(
            path(at, "emojis"),
            format!(
                "has {} emojis for {} $ placeholders in text",
                emojis.len(),
                dollars.len()
            ),
        );
    }
}

/// spec: `TextMessageV2` (required `text`; `substitution`: map of `SubstitutionObject`);
/// reference: #text-message-v2.
fn text_v2(check: &mut Check, at: &str, message: &Value) {
    let text = check.string(message, at, "text", Str::required(MAX_TEXT));
    check.string(message, at, "quoteToken", Str::optional(MAX_TEXT));
    let Some(substitution) = field(message, "substitution") else {
        return;
    };
    let at = path(at, "substitution");
    let Some(map) = check.object(substitution, &at) else {
        return;
    };
    if map.len() > MAX_SUBSTITUTIONS {
        check.fail(&at, super::size_message(0, MAX_SUBSTITUTIONS));
    }
    for (key, object) in map {
        let at = format!("{at}.{key}");
        // reference: #text-message-v2 `substitution`: keys are what `{key}` in `text`
        // names, made of half-width letters, digits and `_`, at most 20 characters.
        let key_ok = !key.is_empty()
            && key.len() <= 20
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !key_ok {
            check.fail(&at, "Invalid key: must be 1 to 20 of [a-zA-Z0-9_]");
        } else if let Some(text) = text
            && !text.contains(&format!("{{{key}}}"))
        {
            check.fail(&at, "is not used in text");
        }
        substitution_object(check, &at, object);
    }
}

/// spec: `SubstitutionObject` (`type`: mention | emoji), `MentionSubstitutionObject`
/// (required `mentionee`: `MentionTarget`, `type` user | all; `UserMentionTarget` requires
/// `userId`), `EmojiSubstitutionObject` (required `productId`, `emojiId`).
fn substitution_object(check: &mut Check, at: &str, object: &Value) {
    if check.object(object, at).is_none() {
        return;
    }
    match check.one_of(object, at, "type", &["mention", "emoji"], true) {
        Some("mention") => {
            let Some(mentionee) = check.required(object, at, "mentionee") else {
                return;
            };
            let at = path(at, "mentionee");
            if check.object(mentionee, &at).is_none() {
                return;
            }
            if check.one_of(mentionee, &at, "type", &["user", "all"], true) == Some("user") {
                check.string(mentionee, &at, "userId", Str::required(100));
            }
        }
        Some("emoji") => {
            check.string(object, at, "productId", Str::required(100));
            check.string(object, at, "emojiId", Str::required(100));
        }
        _ => {}
    }
}

/// spec: `StickerMessage` (required `packageId`, `stickerId`); reference: #sticker-message
/// and "List of available stickers": a bot may send only the listed stickers.
fn sticker_message(check: &mut Check, at: &str, message: &Value) {
    let package = check.string(message, at, "packageId", Str::required(100));
    let sticker = check.string(message, at, "stickerId", Str::required(100));
    check.string(message, at, "quoteToken", Str::optional(MAX_TEXT));
    if let (Some(package), Some(sticker)) = (package, sticker)
        && !sticker::sendable(package, sticker)
    {
        check.fail(
            path(at, "stickerId"),
            "is not in LINE's list of stickers a bot may send",
        );
    }
}

/// spec: `ImageMessage` (required `originalContentUrl`, `previewImageUrl`, `format: uri`);
/// reference: #image-message (HTTPS, at most 2000 characters).
fn image(check: &mut Check, at: &str, message: &Value) {
    check.https_url(message, at, "originalContentUrl", true);
    check.https_url(message, at, "previewImageUrl", true);
}

/// spec: `VideoMessage` (required `originalContentUrl`, `previewImageUrl`; `trackingId`);
/// reference: #video-message (`trackingId` at most 100 characters of
/// `[a-zA-Z0-9-.=,+*()%$&;:@{}!?<>[]]`).
fn video(check: &mut Check, at: &str, message: &Value) {
    check.https_url(message, at, "originalContentUrl", true);
    check.https_url(message, at, "previewImageUrl", true);
    if let Some(id) = check.string(message, at, "trackingId", Str::optional(100)) {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-.=,+*()%$&;:@{}!?<>[]".contains(c);
        if !id.chars().all(allowed) {
            check.fail(path(at, "trackingId"), "Invalid characters in trackingId");
        }
    }
}

/// spec: `AudioMessage` (required `originalContentUrl`, `duration`: integer, int64);
/// reference: #audio-message (`duration` the audio's length in milliseconds).
fn audio(check: &mut Check, at: &str, message: &Value) {
    check.https_url(message, at, "originalContentUrl", true);
    check.integer(message, at, "duration", 0, i64::MAX, true);
}

/// spec: `LocationMessage` (required `title`, `address`, `latitude`, `longitude`);
/// reference: #location-message (`title`, `address` at most 100 characters). A latitude is
/// within ±90 degrees and a longitude within ±180.
fn location(check: &mut Check, at: &str, message: &Value) {
    check.string(message, at, "title", Str::required(100));
    check.string(message, at, "address", Str::required(100));
    check.number(message, at, "latitude", -90.0, 90.0, true);
    check.number(message, at, "longitude", -180.0, 180.0, true);
}

/// spec: `CouponMessage` (required `couponId`; `deliveryTag` `maxLength: 30`).
fn coupon(check: &mut Check, at: &str, message: &Value) {
    check.string(message, at, "couponId", Str::required(100));
    check.string(message, at, "deliveryTag", Str::optional(30));
}

/// spec: `QuickReply.items` (`maxItems: 13`) of `QuickReplyItem` (`type` `action`,
/// `imageUrl` `maxLength: 2000`, `action`); reference: #quick-reply, #items-object
/// (`action` required; HTTPS icon) and "Use quick replies" (any action but the rich menu
/// switch; camera, camera roll and location are for quick replies only).
fn quick_reply(check: &mut Check, at: &str, message: &Value) {
    let Some(quick_reply) = field(message, "quickReply") else {
        return;
    };
    let at = path(at, "quickReply");
    if check.object(quick_reply, &at).is_none() {
        return;
    }
    let Some(items) = check.array(quick_reply, &at, "items", 0, 13, true) else {
        return;
    };
    for (j, item) in items.iter().enumerate() {
        let at = format!("{at}.items[{j}]");
        if check.object(item, &at).is_none() {
            continue;
        }
        check.one_of(item, &at, "type", &["action"], false);
        check.https_url(item, &at, "imageUrl", false);
        if let Some(action) = check.required(item, &at, "action") {
            action::check(check, &path(&at, "action"), action, Place::QuickReply);
        }
    }
}

/// spec: `Sender` (`name` `maxLength: 20`: "Certain words such as `LINE` may not be used";
/// `iconUrl` `maxLength: 2000`, `format: uri`); reference: #icon-nickname-switch (HTTPS).
fn sender(check: &mut Check, at: &str, message: &Value) {
    let Some(sender) = field(message, "sender") else {
        return;
    };
    let at = path(at, "sender");
    if check.object(sender, &at).is_none() {
        return;
    }
    if let Some(name) = check.string(sender, &at, "name", Str::optional(20))
        && name
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word.eq_ignore_ascii_case("line") || word == "ＬＩＮＥ")
    {
        check.fail(path(&at, "name"), "must not contain the word LINE");
    }
    check.https_url(sender, &at, "iconUrl", false);
}
