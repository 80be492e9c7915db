//! LINE's message rules, one case each, written from LINE's OpenAPI specification
//! (`messaging-api.yml`) and the Messaging API reference it links to — not from either of
//! our implementations. Every case breaks exactly one rule: linesim must refuse it with
//! LINE's 400 naming the property, and where our client can build that exact JSON, the
//! client's own validator must refuse it too, so the two cannot drift apart unseen.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tsunagi_line::message::{Message, validate};

use crate::Harness;

async fn harness() -> Harness {
    Harness::start_with(|c| c.rate_scale = None).await
}

/// Pushes `messages` to a friend; the status and the `details[].property` of the answer.
async fn push(h: &Harness, messages: Value) -> (StatusCode, Vec<String>, Value) {
    let body = json!({ "to": h.friend(0), "messages": messages });
    let (status, _, answer) = h
        .raw_post("/v2/bot/message/push", body.to_string(), &[])
        .await;
    let properties = answer["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d["property"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (status, properties, answer)
}

/// What the client's validator says of `message`, when the client can build exactly this
/// JSON (it deserializes into `Message` and serializes back unchanged); `None` otherwise.
fn client_verdict(message: &Value) -> Option<Result<(), Vec<String>>> {
    let parsed: Message = serde_json::from_value(message.clone()).ok()?;
    if serde_json::to_value(&parsed).ok()? != *message {
        return None;
    }
    Some(validate(&[parsed]).map_err(|e| e.violations.into_iter().map(|v| v.property).collect()))
}

fn text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    if let Some(object) = base.as_object_mut() {
        object.remove(key);
    }
    base
}

fn postback(label: &str) -> Value {
    json!({"type": "postback", "label": label, "data": "booking=1"})
}

fn buttons(template: Value) -> Value {
    json!({"type": "template", "altText": "Booking", "template": template})
}

fn buttons_with(actions: Value) -> Value {
    buttons(json!({"type": "buttons", "text": "Book a visit?", "actions": actions}))
}

/// A buttons template whose one action is `action`.
fn in_template(action: Value) -> Value {
    buttons_with(json!([action]))
}

fn in_quick_reply(action: Value) -> Value {
    with(
        text("Choose"),
        "quickReply",
        json!({"items": [{"type": "action", "action": action}]}),
    )
}

fn column(title: Option<&str>, actions: usize) -> Value {
    let mut column = json!({
        "text": "Dr. Somchai",
        "actions": (0..actions).map(|i| postback(&format!("Slot {i}"))).collect::<Vec<_>>(),
    });
    if let Some(title) = title {
        column["title"] = title.into();
    }
    column
}

fn carousel(columns: Vec<Value>) -> Value {
    buttons(json!({"type": "carousel", "columns": columns}))
}

fn image_carousel(columns: Value) -> Value {
    buttons(json!({"type": "image_carousel", "columns": columns}))
}

fn image_column() -> Value {
    json!({"imageUrl": "https://example.com/room.jpg", "action": postback("Room")})
}

fn imagemap() -> Value {
    json!({
        "type": "imagemap",
        "baseUrl": "https://example.com/map",
        "altText": "Clinic map",
        "baseSize": {"width": 1040, "height": 1040},
        "actions": [
            {"type": "uri", "linkUri": "https://example.com/parking", "area": {"x": 0, "y": 0, "width": 520, "height": 1040}},
            {"type": "message", "text": "Where is the entrance?", "area": {"x": 520, "y": 0, "width": 520, "height": 520}},
            {"type": "clipboard", "clipboardText": "CLINIC-2026", "area": {"x": 520, "y": 520, "width": 520, "height": 520}}
        ]
    })
}

fn imagemap_action(action: Value) -> Value {
    with(imagemap(), "actions", json!([action]))
}

fn area() -> Value {
    json!({"x": 0, "y": 0, "width": 1040, "height": 1040})
}

fn bubble_with(body: Value) -> Value {
    json!({"type": "flex", "altText": "Visit", "contents": {"type": "bubble", "body": body}})
}

fn vbox(contents: Value) -> Value {
    json!({"type": "box", "layout": "vertical", "contents": contents})
}

/// A Flex bubble whose body holds `component`.
fn in_flex(component: Value) -> Value {
    bubble_with(vbox(json!([component])))
}

fn flex_text(text: &str) -> Value {
    json!({"type": "text", "text": text})
}

fn flex_image(url: &str) -> Value {
    json!({"type": "image", "url": url})
}

fn datetime(mode: &str) -> Value {
    json!({"type": "datetimepicker", "label": "Pick", "data": "visit", "mode": mode})
}

fn emoji(index: u32) -> Value {
    json!({"index": index, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"})
}

fn emojis(count: u32) -> Value {
    Value::Array((0..count).map(emoji).collect())
}

fn video() -> Value {
    json!({"type": "video", "originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg"})
}

fn image() -> Value {
    json!({"type": "image", "originalContentUrl": "https://example.com/a.jpg", "previewImageUrl": "https://example.com/a-small.jpg"})
}

fn long(unit: &str, count: usize) -> String {
    unit.repeat(count)
}

/// Each case: its name, one message breaking exactly one rule, and the property LINE
/// names for it (relative to `messages[0]`).
fn refused_cases() -> Vec<(&'static str, Value, &'static str)> {
    let https_long = format!("https://example.com/{}", long("a", 1_981));
    vec![
        // Message (spec: Message.type and its discriminator)
        (
            "an_unknown_message_type",
            json!({"type": "fax", "text": "x"}),
            "type",
        ),
        ("a_message_without_type", json!({"text": "x"}), "type"),
        ("a_message_that_is_not_an_object", json!("hello"), ""),
        // TextMessage
        ("a_text_without_text", json!({"type": "text"}), "text"),
        ("an_empty_text", text(""), "text"),
        (
            "a_text_over_5000_utf16_units",
            text(&long("🍎", 2_501)),
            "text",
        ),
        (
            "more_than_20_emojis",
            with(text(&long("$", 21)), "emojis", emojis(21)),
            "emojis",
        ),
        (
            "an_emoji_index_not_at_a_dollar",
            with(text("a$"), "emojis", json!([emoji(0)])),
            "emojis[0].index",
        ),
        (
            "an_emoji_index_counted_in_characters_not_utf16",
            with(text("🍎$"), "emojis", json!([emoji(1)])),
            "emojis[0].index",
        ),
        (
            "two_emojis_on_one_dollar",
            with(text("$"), "emojis", json!([emoji(0), emoji(0)])),
            "emojis[1].index",
        ),
        (
            "an_emoji_without_product_id",
            with(text("$"), "emojis", json!([{"index": 0, "emojiId": "001"}])),
            "emojis[0].productId",
        ),
        // TextMessageV2, SubstitutionObject
        ("a_text_v2_without_text", json!({"type": "textV2"}), "text"),
        (
            "a_text_v2_over_5000_units",
            json!({"type": "textV2", "text": long("x", 5_001)}),
            "text",
        ),
        (
            "a_substitution_not_used_in_text",
            json!({"type": "textV2", "text": "Hello", "substitution": {"name": {"type": "mention", "mentionee": {"type": "all"}}}}),
            "substitution.name",
        ),
        (
            "a_substitution_key_with_a_hyphen",
            json!({"type": "textV2", "text": "Hi {a-b}", "substitution": {"a-b": {"type": "mention", "mentionee": {"type": "all"}}}}),
            "substitution.a-b",
        ),
        (
            "a_substitution_of_unknown_type",
            json!({"type": "textV2", "text": "Hi {x}", "substitution": {"x": {"type": "sticker"}}}),
            "substitution.x.type",
        ),
        (
            "a_mention_without_mentionee",
            json!({"type": "textV2", "text": "Hi {x}", "substitution": {"x": {"type": "mention"}}}),
            "substitution.x.mentionee",
        ),
        (
            "a_user_mention_without_user_id",
            json!({"type": "textV2", "text": "Hi {x}", "substitution": {"x": {"type": "mention", "mentionee": {"type": "user"}}}}),
            "substitution.x.mentionee.userId",
        ),
        (
            "an_emoji_substitution_without_emoji_id",
            json!({"type": "textV2", "text": "Hi {x}", "substitution": {"x": {"type": "emoji", "productId": "5ac1bfd5040ab15980c9b435"}}}),
            "substitution.x.emojiId",
        ),
        // StickerMessage
        (
            "a_sticker_without_package_id",
            json!({"type": "sticker", "stickerId": "1988"}),
            "packageId",
        ),
        (
            "a_sticker_not_in_lines_list",
            json!({"type": "sticker", "packageId": "1", "stickerId": "1"}),
            "stickerId",
        ),
        // ImageMessage, VideoMessage, AudioMessage
        (
            "an_image_over_http",
            with(
                image(),
                "originalContentUrl",
                json!("http://example.com/a.jpg"),
            ),
            "originalContentUrl",
        ),
        (
            "an_image_without_preview",
            without(image(), "previewImageUrl"),
            "previewImageUrl",
        ),
        (
            "an_image_url_over_2000",
            with(image(), "originalContentUrl", json!(https_long)),
            "originalContentUrl",
        ),
        (
            "a_video_preview_over_http",
            with(
                video(),
                "previewImageUrl",
                json!("http://example.com/v.jpg"),
            ),
            "previewImageUrl",
        ),
        (
            "a_video_tracking_id_over_100",
            with(video(), "trackingId", json!(long("t", 101))),
            "trackingId",
        ),
        (
            "a_video_tracking_id_with_a_space",
            with(video(), "trackingId", json!("visit 1")),
            "trackingId",
        ),
        (
            "an_audio_without_duration",
            json!({"type": "audio", "originalContentUrl": "https://example.com/a.m4a"}),
            "duration",
        ),
        (
            "an_audio_with_negative_duration",
            json!({"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": -1}),
            "duration",
        ),
        (
            "an_audio_over_http",
            json!({"type": "audio", "originalContentUrl": "http://example.com/a.m4a", "duration": 1000}),
            "originalContentUrl",
        ),
        // LocationMessage
        (
            "a_location_title_over_100",
            json!({"type": "location", "title": long("t", 101), "address": "1 Main St", "latitude": 13.75, "longitude": 100.5}),
            "title",
        ),
        (
            "a_location_without_address",
            json!({"type": "location", "title": "Clinic", "latitude": 13.75, "longitude": 100.5}),
            "address",
        ),
        (
            "a_latitude_over_90",
            json!({"type": "location", "title": "Clinic", "address": "1 Main St", "latitude": 91.0, "longitude": 100.5}),
            "latitude",
        ),
        (
            "a_longitude_under_minus_180",
            json!({"type": "location", "title": "Clinic", "address": "1 Main St", "latitude": 13.75, "longitude": -181.0}),
            "longitude",
        ),
        // ImagemapMessage
        (
            "an_imagemap_without_base_url",
            without(imagemap(), "baseUrl"),
            "baseUrl",
        ),
        (
            "an_imagemap_base_url_over_http",
            with(imagemap(), "baseUrl", json!("http://example.com/map")),
            "baseUrl",
        ),
        (
            "an_imagemap_alt_text_over_1500",
            with(imagemap(), "altText", json!(long("a", 1_501))),
            "altText",
        ),
        (
            "an_imagemap_base_width_not_1040",
            with(
                imagemap(),
                "baseSize",
                json!({"width": 1000, "height": 1000}),
            ),
            "baseSize.width",
        ),
        (
            "an_imagemap_with_51_actions",
            with(
                imagemap(),
                "actions",
                Value::Array(vec![
                    json!({"type": "message", "text": "x", "area": area()});
                    51
                ]),
            ),
            "actions",
        ),
        (
            "an_imagemap_postback_action",
            imagemap_action(json!({"type": "postback", "data": "x", "area": area()})),
            "actions[0].type",
        ),
        (
            "an_imagemap_link_over_ftp",
            imagemap_action(json!({"type": "uri", "linkUri": "ftp://example.com", "area": area()})),
            "actions[0].linkUri",
        ),
        (
            "an_imagemap_message_over_400",
            imagemap_action(json!({"type": "message", "text": long("m", 401), "area": area()})),
            "actions[0].text",
        ),
        (
            "an_imagemap_empty_clipboard_text",
            imagemap_action(json!({"type": "clipboard", "clipboardText": "", "area": area()})),
            "actions[0].clipboardText",
        ),
        (
            "an_imagemap_action_without_area",
            imagemap_action(json!({"type": "message", "text": "x"})),
            "actions[0].area",
        ),
        (
            "an_imagemap_area_at_negative_x",
            imagemap_action(
                json!({"type": "message", "text": "x", "area": {"x": -1, "y": 0, "width": 10, "height": 10}}),
            ),
            "actions[0].area.x",
        ),
        (
            "an_imagemap_video_without_area",
            with(
                imagemap(),
                "video",
                json!({"originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg"}),
            ),
            "video.area",
        ),
        (
            "an_imagemap_video_link_label_over_30",
            with(
                imagemap(),
                "video",
                json!({"originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg", "area": area(), "externalLink": {"linkUri": "https://example.com", "label": long("l", 31)}}),
            ),
            "video.externalLink.label",
        ),
        // TemplateMessage, Template
        (
            "a_template_without_alt_text",
            without(in_template(postback("Book")), "altText"),
            "altText",
        ),
        (
            "a_template_alt_text_over_1500",
            with(
                in_template(postback("Book")),
                "altText",
                json!(long("a", 1_501)),
            ),
            "altText",
        ),
        (
            "a_template_of_unknown_type",
            buttons(json!({"type": "list", "text": "x"})),
            "template.type",
        ),
        // ButtonsTemplate
        (
            "buttons_text_over_160",
            buttons(
                json!({"type": "buttons", "text": long("t", 161), "actions": [postback("Book")]}),
            ),
            "template.text",
        ),
        (
            "buttons_text_over_60_with_a_title",
            buttons(
                json!({"type": "buttons", "title": "Visit", "text": long("t", 61), "actions": [postback("Book")]}),
            ),
            "template.text",
        ),
        (
            "buttons_title_over_40",
            buttons(
                json!({"type": "buttons", "title": long("t", 41), "text": "x", "actions": [postback("Book")]}),
            ),
            "template.title",
        ),
        (
            "buttons_with_five_actions",
            buttons_with(json!([
                postback("1"),
                postback("2"),
                postback("3"),
                postback("4"),
                postback("5")
            ])),
            "template.actions",
        ),
        (
            "buttons_without_actions",
            buttons_with(json!([])),
            "template.actions",
        ),
        (
            "buttons_thumbnail_over_http",
            buttons(
                json!({"type": "buttons", "thumbnailImageUrl": "http://example.com/t.jpg", "text": "x", "actions": [postback("Book")]}),
            ),
            "template.thumbnailImageUrl",
        ),
        (
            "buttons_image_aspect_ratio_wide",
            buttons(
                json!({"type": "buttons", "imageAspectRatio": "wide", "text": "x", "actions": [postback("Book")]}),
            ),
            "template.imageAspectRatio",
        ),
        (
            "buttons_image_size_fill",
            buttons(
                json!({"type": "buttons", "imageSize": "fill", "text": "x", "actions": [postback("Book")]}),
            ),
            "template.imageSize",
        ),
        (
            "buttons_background_not_rgb",
            buttons(
                json!({"type": "buttons", "imageBackgroundColor": "white", "text": "x", "actions": [postback("Book")]}),
            ),
            "template.imageBackgroundColor",
        ),
        (
            "buttons_default_action_camera",
            buttons(
                json!({"type": "buttons", "text": "x", "defaultAction": {"type": "camera", "label": "Camera"}, "actions": [postback("Book")]}),
            ),
            "template.defaultAction.type",
        ),
        // ConfirmTemplate
        (
            "confirm_text_over_240",
            buttons(
                json!({"type": "confirm", "text": long("t", 241), "actions": [postback("Yes"), postback("No")]}),
            ),
            "template.text",
        ),
        (
            "confirm_with_one_action",
            buttons(json!({"type": "confirm", "text": "Sure?", "actions": [postback("Yes")]})),
            "template.actions",
        ),
        (
            "confirm_with_three_actions",
            buttons(
                json!({"type": "confirm", "text": "Sure?", "actions": [postback("Yes"), postback("No"), postback("Maybe")]}),
            ),
            "template.actions",
        ),
        // CarouselTemplate, CarouselColumn
        (
            "a_carousel_of_11_columns",
            carousel(vec![column(None, 1); 11]),
            "template.columns",
        ),
        (
            "a_carousel_without_columns",
            buttons(json!({"type": "carousel"})),
            "template.columns",
        ),
        (
            "a_carousel_column_with_four_actions",
            carousel(vec![column(None, 4)]),
            "template.columns[0].actions",
        ),
        (
            "carousel_columns_with_different_action_counts",
            carousel(vec![column(None, 1), column(None, 2)]),
            "template.columns",
        ),
        (
            "carousel_columns_with_and_without_titles",
            carousel(vec![column(Some("A"), 1), column(None, 1)]),
            "template.columns",
        ),
        (
            "carousel_columns_with_and_without_thumbnails",
            carousel(vec![
                with(
                    column(None, 1),
                    "thumbnailImageUrl",
                    json!("https://example.com/a.jpg"),
                ),
                column(None, 1),
            ]),
            "template.columns",
        ),
        (
            "a_carousel_column_text_over_120",
            carousel(vec![with(column(None, 1), "text", json!(long("t", 121)))]),
            "template.columns[0].text",
        ),
        (
            "a_carousel_column_text_over_60_with_a_title",
            carousel(vec![with(
                column(Some("A"), 1),
                "text",
                json!(long("t", 61)),
            )]),
            "template.columns[0].text",
        ),
        (
            "a_carousel_column_default_action_location",
            carousel(vec![with(
                column(None, 1),
                "defaultAction",
                json!({"type": "location", "label": "Here"}),
            )]),
            "template.columns[0].defaultAction.type",
        ),
        // ImageCarouselTemplate, ImageCarouselColumn
        (
            "an_image_carousel_of_11_columns",
            image_carousel(Value::Array(vec![image_column(); 11])),
            "template.columns",
        ),
        (
            "an_image_carousel_image_over_http",
            image_carousel(json!([with(
                image_column(),
                "imageUrl",
                json!("http://example.com/r.jpg")
            )])),
            "template.columns[0].imageUrl",
        ),
        (
            "an_image_carousel_label_over_12",
            image_carousel(json!([with(
                image_column(),
                "action",
                postback(&long("l", 13))
            )])),
            "template.columns[0].action.label",
        ),
        (
            "an_image_carousel_column_without_action",
            image_carousel(json!([without(image_column(), "action")])),
            "template.columns[0].action",
        ),
        // Action, its types and where they may stand
        (
            "an_action_of_unknown_type",
            in_template(json!({"type": "share", "label": "Share"})),
            "template.actions[0].type",
        ),
        (
            "a_rich_menu_switch_in_a_template",
            in_template(
                json!({"type": "richmenuswitch", "label": "Menu", "richMenuAliasId": "menu-b", "data": "menu=b"}),
            ),
            "template.actions[0].type",
        ),
        (
            "a_camera_action_in_a_template",
            in_template(json!({"type": "camera", "label": "Camera"})),
            "template.actions[0].type",
        ),
        (
            "a_template_action_without_label",
            in_template(json!({"type": "message", "text": "yes"})),
            "template.actions[0].label",
        ),
        (
            "a_template_label_over_20",
            in_template(postback(&long("l", 21))),
            "template.actions[0].label",
        ),
        (
            "a_template_label_of_21_emoji",
            in_template(postback(&long("🍎", 21))),
            "template.actions[0].label",
        ),
        // PostbackAction
        (
            "a_postback_without_data",
            in_template(json!({"type": "postback", "label": "Book"})),
            "template.actions[0].data",
        ),
        (
            "a_postback_data_over_300",
            in_template(json!({"type": "postback", "label": "Book", "data": long("d", 301)})),
            "template.actions[0].data",
        ),
        (
            "a_postback_display_text_over_300",
            in_template(
                json!({"type": "postback", "label": "Book", "data": "x", "displayText": long("d", 301)}),
            ),
            "template.actions[0].displayText",
        ),
        (
            "a_postback_with_display_text_and_text",
            in_template(
                json!({"type": "postback", "label": "Book", "data": "x", "displayText": "Book", "text": "Book"}),
            ),
            "template.actions[0].text",
        ),
        (
            "a_postback_input_option_unknown",
            in_template(
                json!({"type": "postback", "label": "Book", "data": "x", "inputOption": "openCamera"}),
            ),
            "template.actions[0].inputOption",
        ),
        // MessageAction
        (
            "a_message_action_without_text",
            in_template(json!({"type": "message", "label": "Yes"})),
            "template.actions[0].text",
        ),
        (
            "a_message_action_text_over_300",
            in_template(json!({"type": "message", "label": "Yes", "text": long("y", 301)})),
            "template.actions[0].text",
        ),
        // URIAction
        (
            "a_uri_action_over_ftp",
            in_template(json!({"type": "uri", "label": "Map", "uri": "ftp://example.com/map"})),
            "template.actions[0].uri",
        ),
        (
            "a_uri_action_over_1000",
            in_template(
                json!({"type": "uri", "label": "Map", "uri": format!("https://example.com/{}", long("a", 1_000))}),
            ),
            "template.actions[0].uri",
        ),
        (
            "a_uri_action_without_uri",
            in_template(json!({"type": "uri", "label": "Map"})),
            "template.actions[0].uri",
        ),
        (
            "an_alt_uri_over_ftp",
            in_template(
                json!({"type": "uri", "label": "Map", "uri": "https://example.com", "altUri": {"desktop": "ftp://example.com"}}),
            ),
            "template.actions[0].altUri.desktop",
        ),
        // DatetimePickerAction
        (
            "a_datetime_picker_mode_week",
            in_template(datetime("week")),
            "template.actions[0].mode",
        ),
        (
            "a_datetime_picker_without_data",
            in_template(without(datetime("date"), "data")),
            "template.actions[0].data",
        ),
        (
            "a_date_picker_initial_with_a_time",
            in_template(with(datetime("date"), "initial", json!("2026-01-01T09:00"))),
            "template.actions[0].initial",
        ),
        (
            "a_time_picker_at_24_00",
            in_template(with(datetime("time"), "max", json!("24:00"))),
            "template.actions[0].max",
        ),
        (
            "a_date_picker_before_1900",
            in_template(with(datetime("date"), "min", json!("1899-12-31"))),
            "template.actions[0].min",
        ),
        (
            "a_date_picker_max_before_min",
            in_template(with(
                with(datetime("date"), "min", json!("2026-02-01")),
                "max",
                json!("2026-01-01"),
            )),
            "template.actions[0].max",
        ),
        (
            "a_datetime_picker_initial_after_max",
            in_template(with(
                with(datetime("datetime"), "max", json!("2026-01-01T18:00")),
                "initial",
                json!("2026-01-02T09:00"),
            )),
            "template.actions[0].initial",
        ),
        // ClipboardAction
        (
            "a_clipboard_action_without_text",
            in_template(json!({"type": "clipboard", "label": "Copy"})),
            "template.actions[0].clipboardText",
        ),
        (
            "a_clipboard_text_over_1000",
            in_template(
                json!({"type": "clipboard", "label": "Copy", "clipboardText": long("c", 1_001)}),
            ),
            "template.actions[0].clipboardText",
        ),
        // QuickReply, QuickReplyItem
        (
            "a_quick_reply_of_14_items",
            with(
                text("Choose"),
                "quickReply",
                json!({"items": vec![json!({"type": "action", "action": {"type": "message", "label": "x", "text": "x"}}); 14]}),
            ),
            "quickReply.items",
        ),
        (
            "a_quick_reply_without_items",
            with(text("Choose"), "quickReply", json!({})),
            "quickReply.items",
        ),
        (
            "a_quick_reply_item_without_action",
            with(
                text("Choose"),
                "quickReply",
                json!({"items": [{"type": "action"}]}),
            ),
            "quickReply.items[0].action",
        ),
        (
            "a_quick_reply_item_of_type_button",
            with(
                text("Choose"),
                "quickReply",
                json!({"items": [{"type": "button", "action": {"type": "message", "label": "x", "text": "x"}}]}),
            ),
            "quickReply.items[0].type",
        ),
        (
            "a_quick_reply_icon_over_http",
            with(
                text("Choose"),
                "quickReply",
                json!({"items": [{"type": "action", "imageUrl": "http://example.com/i.png", "action": {"type": "message", "label": "x", "text": "x"}}]}),
            ),
            "quickReply.items[0].imageUrl",
        ),
        (
            "a_quick_reply_action_without_label",
            in_quick_reply(json!({"type": "message", "text": "yes"})),
            "quickReply.items[0].action.label",
        ),
        (
            "a_quick_reply_label_over_20",
            in_quick_reply(json!({"type": "message", "label": long("l", 21), "text": "yes"})),
            "quickReply.items[0].action.label",
        ),
        (
            "a_rich_menu_switch_in_a_quick_reply",
            in_quick_reply(
                json!({"type": "richmenuswitch", "label": "Menu", "richMenuAliasId": "menu-b", "data": "menu=b"}),
            ),
            "quickReply.items[0].action.type",
        ),
        (
            "a_camera_action_without_label",
            in_quick_reply(json!({"type": "camera"})),
            "quickReply.items[0].action.label",
        ),
        // Sender
        (
            "a_sender_name_over_20",
            with(text("Hi"), "sender", json!({"name": long("n", 21)})),
            "sender.name",
        ),
        (
            "a_sender_named_line",
            with(text("Hi"), "sender", json!({"name": "LINE Support"})),
            "sender.name",
        ),
        (
            "a_sender_icon_over_http",
            with(
                text("Hi"),
                "sender",
                json!({"iconUrl": "http://example.com/i.png"}),
            ),
            "sender.iconUrl",
        ),
        // CouponMessage
        (
            "a_coupon_without_coupon_id",
            json!({"type": "coupon"}),
            "couponId",
        ),
        (
            "a_coupon_delivery_tag_over_30",
            json!({"type": "coupon", "couponId": "01JABC", "deliveryTag": long("t", 31)}),
            "deliveryTag",
        ),
        // FlexMessage, FlexContainer, FlexBubble, FlexCarousel
        (
            "a_flex_without_alt_text",
            without(in_flex(flex_text("Hi")), "altText"),
            "altText",
        ),
        (
            "a_flex_alt_text_over_1500",
            with(in_flex(flex_text("Hi")), "altText", json!(long("a", 1_501))),
            "altText",
        ),
        (
            "a_flex_without_contents",
            json!({"type": "flex", "altText": "x"}),
            "contents",
        ),
        (
            "a_flex_container_of_unknown_type",
            json!({"type": "flex", "altText": "x", "contents": {"type": "page"}}),
            "contents.type",
        ),
        (
            "a_flex_carousel_of_13_bubbles",
            json!({"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": vec![json!({"type": "bubble"}); 13]}}),
            "contents.contents",
        ),
        (
            "a_flex_carousel_holding_a_carousel",
            json!({"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": [{"type": "carousel", "contents": []}]}}),
            "contents.contents[0].type",
        ),
        (
            "a_flex_bubble_size_huge",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "size": "huge"}}),
            "contents.size",
        ),
        (
            "a_flex_bubble_direction_up",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "direction": "up"}}),
            "contents.direction",
        ),
        (
            "a_flex_body_that_is_not_a_box",
            bubble_with(flex_text("Hi")),
            "contents.body.type",
        ),
        (
            "a_flex_bubble_over_30_kb",
            in_flex(flex_text(&long("x", 31 * 1024))),
            "contents",
        ),
        (
            "a_flex_style_color_not_hex",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": vbox(json!([])), "styles": {"body": {"backgroundColor": "blue"}}}}),
            "contents.styles.body.backgroundColor",
        ),
        (
            "a_flex_hero_video_in_a_nano_bubble",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "size": "nano", "hero": {"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/v.jpg", "altContent": flex_image("https://example.com/v.jpg")}}}),
            "contents.size",
        ),
        (
            "a_flex_bubble_action_camera",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "action": {"type": "camera", "label": "Camera"}}}),
            "contents.action.type",
        ),
        // FlexComponent, FlexBox
        (
            "a_flex_component_of_unknown_type",
            in_flex(json!({"type": "table"})),
            "contents.body.contents[0].type",
        ),
        (
            "a_flex_box_without_layout",
            bubble_with(json!({"type": "box", "contents": []})),
            "contents.body.layout",
        ),
        (
            "a_flex_box_layout_grid",
            bubble_with(json!({"type": "box", "layout": "grid", "contents": []})),
            "contents.body.layout",
        ),
        (
            "a_flex_box_without_contents",
            bubble_with(json!({"type": "box", "layout": "vertical"})),
            "contents.body.contents",
        ),
        (
            "a_flex_icon_in_a_vertical_box",
            in_flex(json!({"type": "icon", "url": "https://example.com/i.png"})),
            "contents.body.contents[0].type",
        ),
        (
            "a_flex_button_in_a_baseline_box",
            bubble_with(
                json!({"type": "box", "layout": "baseline", "contents": [{"type": "button", "action": postback("Book")}]}),
            ),
            "contents.body.contents[0].type",
        ),
        (
            "a_flex_video_in_a_body",
            in_flex(
                json!({"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/v.jpg", "altContent": flex_image("https://example.com/v.jpg")}),
            ),
            "contents.body.contents[0].type",
        ),
        (
            "a_flex_box_spacing_wide",
            bubble_with(with(vbox(json!([])), "spacing", json!("wide"))),
            "contents.body.spacing",
        ),
        (
            "a_flex_box_padding_without_unit",
            bubble_with(with(vbox(json!([])), "paddingAll", json!("12"))),
            "contents.body.paddingAll",
        ),
        (
            "a_flex_box_border_width_thick",
            bubble_with(with(vbox(json!([])), "borderWidth", json!("thick"))),
            "contents.body.borderWidth",
        ),
        (
            "a_flex_box_justify_content_stretch",
            bubble_with(with(vbox(json!([])), "justifyContent", json!("stretch"))),
            "contents.body.justifyContent",
        ),
        (
            "a_flex_box_width_in_ems",
            bubble_with(with(vbox(json!([])), "width", json!("10em"))),
            "contents.body.width",
        ),
        (
            "a_flex_gradient_without_end_color",
            bubble_with(with(
                vbox(json!([])),
                "background",
                json!({"type": "linearGradient", "angle": "90deg", "startColor": "#ffffff"}),
            )),
            "contents.body.background.endColor",
        ),
        (
            "a_flex_component_with_negative_flex",
            in_flex(with(flex_text("Hi"), "flex", json!(-1))),
            "contents.body.contents[0].flex",
        ),
        (
            "a_flex_component_margin_huge",
            in_flex(with(flex_text("Hi"), "margin", json!("huge"))),
            "contents.body.contents[0].margin",
        ),
        (
            "a_flex_component_position_fixed",
            in_flex(with(flex_text("Hi"), "position", json!("fixed"))),
            "contents.body.contents[0].position",
        ),
        (
            "a_flex_component_offset_in_ems",
            in_flex(with(flex_text("Hi"), "offsetTop", json!("1em"))),
            "contents.body.contents[0].offsetTop",
        ),
        // FlexButton
        (
            "a_flex_button_without_action",
            in_flex(json!({"type": "button"})),
            "contents.body.contents[0].action",
        ),
        (
            "a_flex_button_style_danger",
            in_flex(json!({"type": "button", "style": "danger", "action": postback("Book")})),
            "contents.body.contents[0].style",
        ),
        (
            "a_flex_button_height_lg",
            in_flex(json!({"type": "button", "height": "lg", "action": postback("Book")})),
            "contents.body.contents[0].height",
        ),
        (
            "a_flex_button_action_location",
            in_flex(json!({"type": "button", "action": {"type": "location", "label": "Here"}})),
            "contents.body.contents[0].action.type",
        ),
        (
            "a_flex_button_uri_over_ftp",
            in_flex(
                json!({"type": "button", "action": {"type": "uri", "label": "Map", "uri": "ftp://example.com"}}),
            ),
            "contents.body.contents[0].action.uri",
        ),
        // FlexImage, FlexVideo, FlexIcon
        (
            "a_flex_image_without_url",
            in_flex(json!({"type": "image"})),
            "contents.body.contents[0].url",
        ),
        (
            "a_flex_image_over_http",
            in_flex(flex_image("http://example.com/a.jpg")),
            "contents.body.contents[0].url",
        ),
        (
            "a_flex_image_size_huge",
            in_flex(with(
                flex_image("https://example.com/a.jpg"),
                "size",
                json!("huge"),
            )),
            "contents.body.contents[0].size",
        ),
        (
            "a_flex_image_four_times_taller_than_wide",
            in_flex(with(
                flex_image("https://example.com/a.jpg"),
                "aspectRatio",
                json!("1:4"),
            )),
            "contents.body.contents[0].aspectRatio",
        ),
        (
            "a_flex_image_aspect_ratio_zero",
            in_flex(with(
                flex_image("https://example.com/a.jpg"),
                "aspectRatio",
                json!("0:1"),
            )),
            "contents.body.contents[0].aspectRatio",
        ),
        (
            "a_flex_image_aspect_mode_stretch",
            in_flex(with(
                flex_image("https://example.com/a.jpg"),
                "aspectMode",
                json!("stretch"),
            )),
            "contents.body.contents[0].aspectMode",
        ),
        (
            "eleven_animated_flex_images",
            in_flex_many(vec![
                with(
                    flex_image("https://example.com/a.png"),
                    "animated",
                    json!(true)
                );
                11
            ]),
            "contents.body.contents[10].animated",
        ),
        (
            "a_flex_video_without_alt_content",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "hero": {"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/v.jpg"}}}),
            "contents.hero.altContent",
        ),
        (
            "a_flex_video_preview_over_http",
            json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "hero": {"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "http://example.com/v.jpg", "altContent": flex_image("https://example.com/v.jpg")}}}),
            "contents.hero.previewUrl",
        ),
        (
            "a_flex_icon_over_http",
            bubble_with(
                json!({"type": "box", "layout": "baseline", "contents": [{"type": "icon", "url": "http://example.com/i.png"}]}),
            ),
            "contents.body.contents[0].url",
        ),
        // FlexText, FlexSpan, FlexSeparator
        (
            "a_flex_text_without_text_or_spans",
            in_flex(json!({"type": "text"})),
            "contents.body.contents[0].text",
        ),
        (
            "a_flex_text_weight_heavy",
            in_flex(with(flex_text("Hi"), "weight", json!("heavy"))),
            "contents.body.contents[0].weight",
        ),
        (
            "a_flex_text_decoration_overline",
            in_flex(with(flex_text("Hi"), "decoration", json!("overline"))),
            "contents.body.contents[0].decoration",
        ),
        (
            "a_flex_text_color_by_name",
            in_flex(with(flex_text("Hi"), "color", json!("red"))),
            "contents.body.contents[0].color",
        ),
        (
            "a_flex_text_size_in_points",
            in_flex(with(flex_text("Hi"), "size", json!("12pt"))),
            "contents.body.contents[0].size",
        ),
        (
            "a_flex_text_with_negative_max_lines",
            in_flex(with(flex_text("Hi"), "maxLines", json!(-1))),
            "contents.body.contents[0].maxLines",
        ),
        (
            "a_flex_span_without_text",
            in_flex(json!({"type": "text", "contents": [{"type": "span"}]})),
            "contents.body.contents[0].contents[0].text",
        ),
        (
            "a_flex_text_holding_a_text",
            in_flex(json!({"type": "text", "contents": [{"type": "text", "text": "x"}]})),
            "contents.body.contents[0].contents[0].type",
        ),
        (
            "a_flex_separator_color_by_name",
            in_flex(json!({"type": "separator", "color": "grey"})),
            "contents.body.contents[0].color",
        ),
    ]
}

fn in_flex_many(components: Vec<Value>) -> Value {
    bubble_with(vbox(Value::Array(components)))
}

/// Every rule, broken alone: linesim answers 400 naming the property, and the client's
/// validator refuses whatever of it the client can build.
#[tokio::test]
async fn each_broken_rule_is_refused_by_linesim_and_by_the_client() {
    let h = harness().await;
    let mut failures = Vec::new();
    let mut client_checked = 0;
    for (name, message, property) in refused_cases() {
        let expected = if property.is_empty() {
            "messages[0]".to_owned()
        } else {
            format!("messages[0].{property}")
        };
        let (status, properties, answer) = push(&h, json!([message])).await;
        if status != StatusCode::BAD_REQUEST || !properties.contains(&expected) {
            failures.push(format!(
                "{name}: linesim answered {status} {answer}, expected {expected}"
            ));
        }
        match client_verdict(&message) {
            None => {}
            Some(Ok(())) => failures.push(format!("{name}: the client's validator accepts it")),
            Some(Err(client)) => {
                client_checked += 1;
                if !client.contains(&expected) {
                    failures.push(format!(
                        "{name}: the client names {client:?}, expected {expected}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        client_checked > 50,
        "only {client_checked} cases reached the client"
    );
    assert!(
        h.sim.inbox(h.friend(0).as_str()).is_empty(),
        "nothing refused was delivered"
    );
}

/// spec: `…Request.messages` `minItems: 1`, `maxItems: 5`.
#[tokio::test]
async fn a_request_needs_one_to_five_messages() {
    let h = harness().await;
    for count in [0, 6] {
        let messages = vec![text("x"); count];
        let (status, properties, _) = push(&h, json!(messages)).await;
        assert_eq!(
            (status, properties),
            (StatusCode::BAD_REQUEST, vec!["messages".to_owned()])
        );
        let parsed: Vec<Message> = serde_json::from_value(json!(messages)).unwrap();
        let client = validate(&parsed).unwrap_err();
        assert!(
            client.violations.iter().any(|v| v.property == "messages"),
            "{client}"
        );
    }
    let (status, _, _) = push(&h, json!(vec![text("x"); 5])).await;
    assert_eq!(status, StatusCode::OK);
}

/// Every violation is listed, each under its own message's index.
#[tokio::test]
async fn violations_are_listed_per_message_with_lines_wording() {
    let h = harness().await;
    let (status, properties, answer) = push(
        &h,
        json!([
            text("ok"),
            text(""),
            in_template(postback(&long("l", 21))),
            json!({"type": "fax"})
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        properties,
        [
            "messages[1].text",
            "messages[2].template.actions[0].label",
            "messages[3].type"
        ]
    );
    assert_eq!(answer["message"], "The request body has 3 error(s)");
    assert_eq!(answer["details"][0]["message"], "May not be empty");
    assert_eq!(
        answer["details"][1]["message"],
        "Length must be between 0 and 20"
    );
    assert!(
        answer["details"][2]["message"]
            .as_str()
            .unwrap()
            .starts_with("Must be one of the following values: [text, textV2, "),
        "{answer}"
    );
    let (_, _, answer) = push(
        &h,
        json!([in_template(json!({"type": "postback", "data": "x"}))]),
    )
    .await;
    assert_eq!(answer["details"][0]["message"], "must be specified");
    let (_, _, answer) = push(
        &h,
        json!([in_template(json!({"type": "share", "label": "x"}))]),
    )
    .await;
    assert_eq!(answer["details"][0]["message"], "Invalid action type");
    let (_, _, answer) = push(&h, json!([buttons_with(json!([]))])).await;
    assert_eq!(
        answer["details"][0]["message"],
        "Size must be between 1 and 4"
    );
}

/// A valid example of every message type and action LINE accepts, the ones our client
/// does not send included, each accepted and delivered.
#[tokio::test]
async fn valid_messages_of_every_type_and_action_are_accepted() {
    let h = harness().await;
    let all_actions = json!([
        {"type": "postback", "label": "Book", "data": "book=1", "displayText": "Book please", "inputOption": "openKeyboard", "fillInText": "Name:"},
        {"type": "message", "label": "Yes", "text": "yes"},
        {"type": "uri", "label": "Map", "uri": "https://example.com/map", "altUri": {"desktop": "https://example.com/map?pc"}},
        {"type": "datetimepicker", "label": "When", "data": "when", "mode": "datetime", "initial": "2026-01-05T09:00", "min": "2026-01-01T00:00", "max": "2026-12-31T23:59"},
    ]);
    let quick_actions = json!([
        {"type": "camera", "label": "Camera"},
        {"type": "cameraRoll", "label": "Photos"},
        {"type": "location", "label": "Location"},
        {"type": "clipboard", "label": "Copy", "clipboardText": "CLINIC-2026"},
        {"type": "uri", "label": "Call", "uri": "tel:021234567"},
        {"type": "datetimepicker", "label": "Day", "data": "day", "mode": "date", "min": "1900-01-01", "max": "2100-12-31"},
        {"type": "datetimepicker", "label": "Time", "data": "time", "mode": "time", "initial": "09:30"},
    ]);
    let samples: Vec<(&str, Value)> = vec![
        (
            "text with emojis and a quote",
            json!({"type": "text", "text": "🍎$ hello $", "quoteToken": "q1", "emojis": [emoji(2), emoji(10)]}),
        ),
        ("text of 5000 UTF-16 units", text(&long("🍎", 2_500))),
        (
            "text with every extra",
            with(
                with(
                    text("Hi"),
                    "sender",
                    json!({"name": "Front desk", "iconUrl": "https://example.com/desk.png"}),
                ),
                "quickReply",
                json!({"items": quick_actions.as_array().unwrap().iter().map(|a| json!({"type": "action", "imageUrl": "https://example.com/i.png", "action": a})).collect::<Vec<_>>()}),
            ),
        ),
        (
            "textV2",
            json!({"type": "textV2", "text": "Hi {all} {smile} and {user_1}", "substitution": {
            "all": {"type": "mention", "mentionee": {"type": "all"}},
            "smile": {"type": "emoji", "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001"},
            "user_1": {"type": "mention", "mentionee": {"type": "user", "userId": "U4af4980629a0c1f2f6ec0b1d4a9c0a0b"}}}}),
        ),
        (
            "sticker",
            json!({"type": "sticker", "packageId": "446", "stickerId": "1988"}),
        ),
        ("image", image()),
        (
            "video with tracking id",
            with(video(), "trackingId", json!("visit-1.a=b")),
        ),
        (
            "audio",
            json!({"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": 60_000}),
        ),
        (
            "location",
            json!({"type": "location", "title": "Clinic", "address": "1 Main St", "latitude": -90.0, "longitude": 180.0}),
        ),
        (
            "imagemap with video",
            with(
                imagemap(),
                "video",
                json!({"originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg", "area": area(), "externalLink": {"linkUri": "https://example.com", "label": "More"}}),
            ),
        ),
        (
            "buttons with every option",
            buttons(
                json!({"type": "buttons", "thumbnailImageUrl": "https://example.com/t.jpg", "imageAspectRatio": "square", "imageSize": "contain", "imageBackgroundColor": "#FFFFFF", "title": "Visit", "text": long("t", 60), "defaultAction": {"type": "uri", "uri": "https://example.com"}, "actions": all_actions}),
            ),
        ),
        (
            "buttons with a Thai label of 20 graphemes",
            in_template(postback(&long("ที่", 20))),
        ),
        (
            "buttons with a clipboard action",
            in_template(
                json!({"type": "clipboard", "label": "Copy code", "clipboardText": "CLINIC-2026"}),
            ),
        ),
        (
            "buttons text of 160",
            buttons(
                json!({"type": "buttons", "text": long("t", 160), "actions": [postback("Book")]}),
            ),
        ),
        (
            "confirm",
            buttons(
                json!({"type": "confirm", "text": "Sure?", "actions": [postback("Yes"), json!({"type": "message", "label": "No", "text": "no"})]}),
            ),
        ),
        (
            "carousel of 10",
            carousel(vec![
                with(
                    with(
                        column(Some("Dr."), 3),
                        "thumbnailImageUrl",
                        json!("https://example.com/a.jpg")
                    ),
                    "imageBackgroundColor",
                    json!("#000000")
                );
                10
            ]),
        ),
        (
            "image carousel of 10",
            image_carousel(Value::Array(vec![
                with(
                    image_column(),
                    "action",
                    json!({"type": "uri", "uri": "https://example.com"})
                );
                10
            ])),
        ),
        (
            "flex bubble with every component",
            json!({"type": "flex", "altText": "Visit", "contents": {
            "type": "bubble", "size": "giga", "direction": "ltr",
            "styles": {"header": {"backgroundColor": "#00000080", "separator": true, "separatorColor": "#cccccc"}},
            "header": vbox(json!([flex_text("Sakura Clinic")])),
            "hero": {"type": "video", "url": "https://example.com/v.mp4", "previewUrl": "https://example.com/v.jpg", "aspectRatio": "16:9", "altContent": with(flex_image("https://example.com/v.jpg"), "aspectRatio", json!("16:9"))},
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "paddingAll": "12px", "paddingTop": "5%", "cornerRadius": "8px", "borderWidth": "light", "borderColor": "#ff0000", "width": "100%", "justifyContent": "space-between", "alignItems": "center",
                "background": {"type": "linearGradient", "angle": "90deg", "startColor": "#ffffff", "endColor": "#000000", "centerColor": "#888888", "centerPosition": "40%"},
                "action": {"type": "uri", "uri": "https://example.com"},
                "contents": [
                    {"type": "box", "layout": "baseline", "contents": [{"type": "icon", "url": "https://example.com/i.png", "size": "sm"}, flex_text("Open"), {"type": "filler"}]},
                    {"type": "text", "contents": [{"type": "span", "text": "Bold", "weight": "bold", "color": "#111111"}, {"type": "span", "text": " and plain", "size": "12px"}], "wrap": true, "maxLines": 3, "lineSpacing": "4px"},
                    {"type": "image", "url": "https://example.com/a.png", "size": "full", "aspectRatio": "3:1", "aspectMode": "cover", "animated": true, "offsetTop": "2px", "position": "relative"},
                    {"type": "separator", "margin": "md", "color": "#cccccc"},
                    {"type": "button", "style": "primary", "height": "sm", "color": "#00B900", "action": {"type": "clipboard", "label": "Copy", "clipboardText": "x"}},
                    {"type": "button", "style": "link", "action": {"type": "datetimepicker", "label": "Pick", "data": "d", "mode": "date"}}
                ]},
            "footer": vbox(json!([])),
            "action": {"type": "message", "label": "Open", "text": "open"}}}),
        ),
        (
            "flex carousel of 12",
            json!({"type": "flex", "altText": "x", "contents": {"type": "carousel", "contents": vec![json!({"type": "bubble", "body": vbox(json!([flex_text("Hi")]))}); 12]}}),
        ),
        (
            "coupon",
            json!({"type": "coupon", "couponId": "01JABCDEF", "deliveryTag": "spring"}),
        ),
    ];
    let mut failures = Vec::new();
    for (name, message) in &samples {
        let (status, _, answer) = push(&h, json!([message])).await;
        if status != StatusCode::OK {
            failures.push(format!("{name}: {status} {answer}"));
        }
    }
    assert!(failures.is_empty(), "refused:\n{}", failures.join("\n"));
    assert_eq!(h.sim.inbox(h.friend(0).as_str()).len(), samples.len());
}

/// Whatever valid message the client builds is valid to linesim too: the client's
/// validator and linesim agree on what passes.
#[tokio::test]
async fn what_the_client_builds_and_accepts_linesim_accepts() {
    let h = harness().await;
    let messages = [
        text("สวัสดีค่ะ"),
        json!({"type": "sticker", "packageId": "8515", "stickerId": "16581254"}),
        image(),
        in_template(postback("Book")),
        in_quick_reply(json!({"type": "location", "label": "Send location"})),
    ];
    for message in messages {
        assert_eq!(client_verdict(&message), Some(Ok(())), "{message}");
        let (status, _, answer) = push(&h, json!([message])).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
}
