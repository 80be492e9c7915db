use pretty_assertions::assert_eq;
use serde_json::json;
use tsunagi_line::message::{
    Action, CarouselColumn, Message, MessageBody, QuickReply, QuickReplyItem, Sender, Template,
    TemplateImage, ValidationError, validate,
};

fn properties(error: ValidationError) -> Vec<String> {
    error.violations.into_iter().map(|v| v.property).collect()
}

fn postback(label: &str) -> Action {
    Action::Postback {
        label: Some(label.into()),
        data: format!("tap={label}"),
        display_text: None,
    }
}

fn template(template: Template) -> Message {
    MessageBody::Template {
        alt_text: "Appointment".into(),
        template: Box::new(template),
    }
    .into()
}

#[test]
fn every_outgoing_type_serializes_to_lines_json() {
    let messages = vec![
        Message::text("สวัสดีค่ะ").with_sender(Sender {
            name: Some("Front desk".into()),
            icon_url: Some("https://example.com/desk.png".into()),
        }),
        MessageBody::Sticker {
            package_id: "446".into(),
            sticker_id: "1988".into(),
            quote_token: Some("q1".into()),
        }
        .into(),
        MessageBody::Image {
            original_content_url: "https://example.com/a.jpg".into(),
            preview_image_url: "https://example.com/a-small.jpg".into(),
        }
        .into(),
        MessageBody::Location {
            title: "Clinic".into(),
            address: "1 Main St".into(),
            latitude: 13.75,
            longitude: 100.5,
        }
        .into(),
        Message::text("Book?").with_quick_reply(QuickReply {
            items: vec![QuickReplyItem::new(Action::Message {
                label: Some("Yes".into()),
                text: "yes".into(),
            })],
        }),
    ];
    let value = serde_json::to_value(&messages).expect("serializes");
    assert_eq!(
        value,
        json!([
            {"type": "text", "text": "สวัสดีค่ะ", "sender": {"name": "Front desk", "iconUrl": "https://example.com/desk.png"}},
            {"type": "sticker", "packageId": "446", "stickerId": "1988", "quoteToken": "q1"},
            {"type": "image", "originalContentUrl": "https://example.com/a.jpg", "previewImageUrl": "https://example.com/a-small.jpg"},
            {"type": "location", "title": "Clinic", "address": "1 Main St", "latitude": 13.75, "longitude": 100.5},
            {"type": "text", "text": "Book?", "quickReply": {"items": [
                {"type": "action", "action": {"type": "message", "label": "Yes", "text": "yes"}}
            ]}}
        ])
    );
    assert_eq!(validate(&messages), Ok(()));
    // And back again, unchanged.
    let back: Vec<Message> = serde_json::from_value(value).expect("deserializes");
    assert_eq!(back, messages);
}

#[test]
fn text_v2_video_audio_flex_and_templates_round_trip() {
    let messages: Vec<Message> = serde_json::from_value(json!([
        {"type": "textV2", "text": "Welcome {user}! {smile}", "substitution": {
            "user": {"type": "mention", "mentionee": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"}},
            "smile": {"type": "emoji", "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "002"}
        }},
        {"type": "video", "originalContentUrl": "https://example.com/v.mp4", "previewImageUrl": "https://example.com/v.jpg", "trackingId": "t1"},
        {"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": 60000},
        {"type": "flex", "altText": "Your booking", "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": []}}},
        {"type": "template", "altText": "Doctors", "template": {"type": "buttons",
            "thumbnailImageUrl": "https://example.com/dr.jpg", "imageAspectRatio": "square",
            "imageSize": "contain", "imageBackgroundColor": "#FFFFFF", "title": "Dr. Somchai",
            "text": "Mon–Fri 9:00–17:00", "actions": [{"type": "uri", "label": "Book", "uri": "https://example.com/book"}]}},
        {"type": "template", "altText": "Confirm", "template": {"type": "confirm", "text": "Come at 10:00?", "actions": [
            {"type": "message", "label": "Yes", "text": "yes"},
            {"type": "datetimepicker", "label": "Other time", "data": "pick", "mode": "datetime"}
        ]}}
    ]))
    .expect("LINE JSON reads as messages");
    for batch in messages.chunks(5) {
        assert_eq!(validate(batch), Ok(()));
    }
    let again: Vec<Message> =
        serde_json::from_value(serde_json::to_value(&messages).expect("serializes"))
            .expect("reads back");
    assert_eq!(again, messages);
}

#[test]
fn at_most_five_messages_and_at_least_one() {
    let six = vec![Message::text("hi"); 6];
    assert_eq!(properties(validate(&six).unwrap_err()), ["messages"]);
    assert_eq!(properties(validate(&[]).unwrap_err()), ["messages"]);
    assert_eq!(validate(&six[..5]), Ok(()));
}

#[test]
fn text_length_counts_utf16_units_as_line_does() {
    // A Thai character is one UTF-16 unit; an emoji outside the BMP is two.
    let thai = "ก".repeat(5_000);
    assert_eq!(validate(&[Message::text(thai.clone())]), Ok(()));
    let over = thai + "ก";
    assert_eq!(
        properties(validate(&[Message::text(over)]).unwrap_err()),
        ["messages[0].text"]
    );
    let emoji = "🙏".repeat(2_500);
    assert_eq!(validate(&[Message::text(emoji.clone())]), Ok(()));
    let error = validate(&[Message::text("ok"), Message::text(emoji + "a")]).unwrap_err();
    assert_eq!(properties(error), ["messages[1].text"]);
    assert_eq!(
        properties(validate(&[Message::text("")]).unwrap_err()),
        ["messages[0].text"]
    );
}

#[test]
fn quick_reply_holds_at_most_thirteen_labelled_items() {
    let item = QuickReplyItem::new(postback("Yes"));
    let ok = Message::text("?").with_quick_reply(QuickReply {
        items: vec![item.clone(); 13],
    });
    assert_eq!(validate(&[ok]), Ok(()));
    let fourteen = Message::text("?").with_quick_reply(QuickReply {
        items: vec![item; 14],
    });
    assert_eq!(
        properties(validate(&[fourteen]).unwrap_err()),
        ["messages[0].quickReply.items"]
    );
    let unlabelled = Message::text("?").with_quick_reply(QuickReply {
        items: vec![QuickReplyItem::new(Action::Postback {
            label: None,
            data: "x".into(),
            display_text: None,
        })],
    });
    assert_eq!(
        properties(validate(&[unlabelled]).unwrap_err()),
        ["messages[0].quickReply.items[0].action.label"]
    );
}

#[test]
fn buttons_allow_four_actions_and_confirm_exactly_two() {
    let buttons = |n: usize| {
        template(Template::Buttons {
            thumbnail_image_url: None,
            image: TemplateImage::default(),
            title: None,
            text: "Pick a time".into(),
            default_action: None,
            actions: (0..n).map(|i| postback(&format!("{i}"))).collect(),
        })
    };
    assert_eq!(validate(&[buttons(4)]), Ok(()));
    assert_eq!(
        properties(validate(&[buttons(5)]).unwrap_err()),
        ["messages[0].template.actions"]
    );
    assert_eq!(
        properties(validate(&[buttons(0)]).unwrap_err()),
        ["messages[0].template.actions"]
    );

    let confirm = template(Template::Confirm {
        text: "Sure?".into(),
        actions: vec![postback("Yes")],
    });
    assert_eq!(
        properties(validate(&[confirm]).unwrap_err()),
        ["messages[0].template.actions"]
    );
}

#[test]
fn carousel_limits_columns_and_wants_equal_action_counts() {
    let column = |actions: usize| CarouselColumn {
        thumbnail_image_url: None,
        title: None,
        text: "Dr. Tanaka".into(),
        default_action: None,
        actions: (0..actions).map(|i| postback(&format!("{i}"))).collect(),
    };
    let carousel = |columns| {
        template(Template::Carousel {
            columns,
            image: TemplateImage::default(),
        })
    };
    assert_eq!(validate(&[carousel(vec![column(2); 10])]), Ok(()));
    assert_eq!(
        properties(validate(&[carousel(vec![column(2); 11])]).unwrap_err()),
        ["messages[0].template.columns"]
    );
    assert_eq!(
        properties(validate(&[carousel(vec![column(2), column(3)])]).unwrap_err()),
        ["messages[0].template.columns"]
    );
    assert_eq!(
        properties(validate(&[carousel(vec![column(4)])]).unwrap_err()),
        ["messages[0].template.columns[0].actions"]
    );
}

#[test]
fn labels_urls_and_alt_text_are_checked_with_their_paths() {
    let message = template(Template::Buttons {
        thumbnail_image_url: Some("http://insecure.example.com/a.jpg".into()),
        image: TemplateImage {
            image_aspect_ratio: Some("wide".into()),
            image_size: Some("cover".into()),
            image_background_color: Some("#12345G".into()),
        },
        title: Some("Book".into()),
        text: "x".repeat(61),
        default_action: None,
        actions: vec![postback("a label that is far too long")],
    });
    assert_eq!(
        properties(validate(&[message]).unwrap_err()),
        [
            "messages[0].template.thumbnailImageUrl",
            "messages[0].template.imageAspectRatio",
            "messages[0].template.imageBackgroundColor",
            "messages[0].template.text",
            "messages[0].template.actions[0].label",
        ]
    );
    let flex: Message = MessageBody::Flex {
        alt_text: String::new(),
        contents: json!({"type": "carousel", "contents": vec![json!({"type": "bubble"}); 13]}),
    }
    .into();
    assert_eq!(
        properties(validate(&[flex]).unwrap_err()),
        ["messages[0].altText", "messages[0].contents.contents"]
    );
}

#[test]
fn a_validation_error_lists_every_violation_readably() {
    let error = validate(&[
        Message::text(""),
        MessageBody::Image {
            original_content_url: "ftp://x".into(),
            preview_image_url: "https://example.com/p.jpg".into(),
        }
        .into(),
    ])
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "messages[0].text: must not be empty; messages[1].originalContentUrl: must be an HTTPS URL"
    );
}

#[test]
fn a_sticker_outside_lines_list_for_bots_is_refused() {
    let sticker = |package: &str, id: &str| -> Message {
        MessageBody::Sticker {
            package_id: package.into(),
            sticker_id: id.into(),
            quote_token: None,
        }
        .into()
    };
    assert!(validate(&[sticker("8515", "16581254")]).is_ok());
    let refused = validate(&[sticker("11537", "1")]).unwrap_err();
    assert_eq!(
        properties(refused),
        vec!["messages[0].stickerId".to_owned()]
    );
}
