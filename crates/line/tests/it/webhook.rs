use pretty_assertions::assert_eq;
use serde_json::Value;
use serde_json::value::RawValue;
use tsunagi_line::webhook::{
    Callback, Chat, ContentProviderKind, Event, EventKind, MessageContent, Mode, RawCallback,
    Source,
};
use tsunagi_line::{GroupId, MessageId, ReplyToken, RoomId, UserId};

use crate::fixture;

fn parse(name: &str) -> (String, Callback) {
    let body = fixture(&format!("webhook/{name}"));
    let callback =
        Callback::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{name} did not parse: {e}"));
    (body, callback)
}

/// Each event keeps its exact slice of the body, and that slice is the same JSON as the
/// body's event at that index.
fn assert_raw_kept(body: &str, callback: &Callback) {
    let whole: Value = serde_json::from_str(body).expect("fixture is JSON");
    for (i, event) in callback.events.iter().enumerate() {
        assert!(
            body.contains(event.raw()),
            "event {i}'s raw text is not a slice of the body"
        );
        let reparsed: Value = serde_json::from_str(event.raw()).expect("raw is JSON");
        assert_eq!(reparsed, whole["events"][i], "event {i}");
    }
}

#[test]
fn every_fixture_keeps_each_events_raw_json_byte_for_byte() {
    for name in [
        "text.json",
        "media.json",
        "lifecycle.json",
        "interactions.json",
        "module.json",
        "edits.json",
        "redelivery.json",
        "unknown.json",
    ] {
        let (body, callback) = parse(name);
        assert!(!callback.events.is_empty(), "{name}");
        assert_raw_kept(&body, &callback);
    }
}

#[test]
fn text_messages_in_thai_japanese_chinese_and_emoji_parse_with_their_tokens() {
    let (_, callback) = parse("text.json");
    assert_eq!(
        callback.destination,
        UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f")
    );
    let texts: Vec<&str> = callback
        .events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Message(m) => match &m.content {
                MessageContent::Text { text, .. } => text.as_str(),
                other => panic!("expected text, got {other:?}"),
            },
            other => panic!("expected a message, got {other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        [
            "สวัสดีค่ะ อยากนัดหมอพรุ่งนี้ได้ไหมคะ",
            "明日の予約を変更したいです。スタッフと話したい",
            "請問週六有門診嗎？人工客服",
            "Thank you $ 🙏🏽👨‍👩‍👧",
            "@Clinic Bot @All ตารางหมอวันนี้",
        ]
    );

    let first = &callback.events[0];
    assert_eq!(first.event_type, "message");
    assert_eq!(first.timestamp, 1_767_225_600_000);
    assert_eq!(first.mode, Mode::Active);
    assert!(!first.is_redelivery);
    assert!(first.is_replyable());
    assert_eq!(
        first.reply_token,
        Some(ReplyToken::from("b60d432864f44d079f6d8efe86cf404b"))
    );
    let EventKind::Message(message) = &first.kind else {
        panic!("not a message")
    };
    assert_eq!(message.id, MessageId::from("468789577898262530"));
    assert_eq!(
        message.mark_as_read_token.as_ref().map(|t| t.as_str()),
        Some("mt-thai-001")
    );
    assert_eq!(
        message.quote_token.as_ref().map(|t| t.as_str()),
        Some("q3Plxr4AgKd-thai")
    );
}

#[test]
fn quoted_messages_emojis_and_group_mentions_are_typed() {
    let (_, callback) = parse("text.json");
    let EventKind::Message(chinese) = &callback.events[2].kind else {
        panic!()
    };
    assert!(matches!(chinese.content, MessageContent::Text { .. }));
    assert_eq!(
        chinese.quoted_message_id.as_ref(),
        Some(&MessageId::from("468789577898262400"))
    );

    let EventKind::Message(emoji) = &callback.events[3].kind else {
        panic!()
    };
    let MessageContent::Text { emojis, .. } = &emoji.content else {
        panic!()
    };
    assert_eq!(emojis.len(), 1);
    assert_eq!((emojis[0].index, emojis[0].length), (10, 1));
    assert_eq!(emojis[0].product_id, "5ac1bfd5040ab15980c9b435");

    let group = &callback.events[4];
    assert_eq!(
        group.source,
        Some(Source::Group {
            group_id: GroupId::from("Ca56f94637c1b2c3d4e5f60718293a4b5"),
            user_id: Some(UserId::from("U4af4980629a1b2c3d4e5f60718293a4b")),
        })
    );
    assert_eq!(
        group.source.as_ref().and_then(Source::chat),
        Some(Chat::Group(GroupId::from(
            "Ca56f94637c1b2c3d4e5f60718293a4b5"
        )))
    );
    let EventKind::Message(mention) = &group.kind else {
        panic!()
    };
    let MessageContent::Text { mention, .. } = &mention.content else {
        panic!()
    };
    let mentionees = &mention.as_ref().expect("mention").mentionees;
    assert_eq!(mentionees.len(), 2);
    assert!(mentionees[0].is_self);
    assert_eq!(mentionees[1].kind, "all");
    assert_eq!(mentionees[1].user_id, None);
}

#[test]
fn every_media_message_type_parses() {
    let (_, callback) = parse("media.json");
    let contents: Vec<&MessageContent> = callback
        .events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Message(m) => &m.content,
            other => panic!("{other:?}"),
        })
        .collect();

    // An image set arrives in any order; each part knows its place.
    let MessageContent::Image {
        content_provider,
        image_set,
    } = contents[0]
    else {
        panic!("{:?}", contents[0])
    };
    assert_eq!(content_provider.kind, ContentProviderKind::Line);
    let set = image_set.as_ref().expect("image set");
    assert_eq!((set.index, set.total), (Some(2), Some(2)));
    assert!(contents[0].has_line_content());

    let MessageContent::Image {
        content_provider, ..
    } = contents[2]
    else {
        panic!()
    };
    assert_eq!(content_provider.kind, ContentProviderKind::External);
    assert_eq!(
        content_provider.preview_image_url.as_deref(),
        Some("https://example.com/preview.jpg")
    );
    assert!(!contents[2].has_line_content());
    assert_eq!(
        callback.events[2].source.as_ref().and_then(Source::chat),
        Some(Chat::Room(RoomId::from(
            "Ra8dbf4673c1b2c3d4e5f60718293a4b5"
        )))
    );
    assert_eq!(
        callback.events[3].source.as_ref().and_then(Source::user_id),
        None,
        "a room member who did not consent has no user id"
    );

    assert!(matches!(
        contents[3],
        MessageContent::Video {
            duration: Some(60_000),
            ..
        }
    ));
    assert!(matches!(
        contents[4],
        MessageContent::Audio {
            duration: Some(4_200),
            ..
        }
    ));
    assert_eq!(
        contents[5],
        &MessageContent::File {
            file_name: "ใบรับรองแพทย์.pdf".into(),
            file_size: 2138
        }
    );
    assert_eq!(
        contents[6],
        &MessageContent::Location {
            title: Some("台北車站".into()),
            address: Some("100台北市中正區北平西路3號".into()),
            latitude: 25.047924,
            longitude: 121.517081,
        }
    );
    assert!(matches!(
        contents[7],
        MessageContent::Location {
            title: None,
            address: None,
            ..
        }
    ));
    let MessageContent::Sticker {
        package_id,
        sticker_id,
        sticker_resource_type,
        keywords,
        text,
    } = contents[9]
    else {
        panic!()
    };
    assert_eq!(
        (package_id.as_str(), sticker_id.as_str()),
        ("12287", "738839")
    );
    assert_eq!(sticker_resource_type.as_deref(), Some("MESSAGE"));
    assert_eq!(keywords, &["Anticipation"]);
    assert_eq!(text.as_deref(), Some("予約OK？"));
}

#[test]
fn follow_unfollow_join_leave_and_member_events_parse() {
    let (_, callback) = parse("lifecycle.json");
    let kinds: Vec<&EventKind> = callback.events.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds[0],
        &EventKind::Follow {
            is_unblocked: false
        }
    );
    assert_eq!(kinds[1], &EventKind::Follow { is_unblocked: true });
    assert_eq!(kinds[2], &EventKind::Unfollow);
    assert!(
        callback.events[2].reply_token.is_none(),
        "unfollow cannot be replied to"
    );
    assert_eq!(kinds[3], &EventKind::Join);
    assert_eq!(kinds[4], &EventKind::Leave);
    let EventKind::MemberJoined { members } = kinds[5] else {
        panic!()
    };
    assert_eq!(members.len(), 2);
    assert_eq!(
        kinds[6],
        &EventKind::MemberLeft {
            members: vec![Source::User {
                user_id: Some(UserId::from("U7dh7cb3952d4e5f60718293a4b5c6d7e"))
            }]
        }
    );
}

#[test]
fn postbacks_beacons_account_links_and_memberships_parse() {
    let (_, callback) = parse("interactions.json");
    let EventKind::Postback(picker) = &callback.events[0].kind else {
        panic!()
    };
    assert_eq!(picker.data, "action=book&slot=2026-12-01T10:00");
    assert_eq!(
        picker.params.as_ref().and_then(|p| p.datetime.as_deref()),
        Some("2026-12-01T10:00")
    );
    let EventKind::Postback(menu) = &callback.events[1].kind else {
        panic!()
    };
    let params = menu.params.as_ref().expect("params");
    assert_eq!(
        params.new_rich_menu_alias_id.as_deref(),
        Some("richmenu-alias-b")
    );
    assert_eq!(params.status.as_deref(), Some("SUCCESS"));
    let EventKind::Postback(plain) = &callback.events[2].kind else {
        panic!()
    };
    assert_eq!(plain.params, None);

    assert_eq!(
        callback.events[3].kind,
        EventKind::VideoPlayComplete {
            tracking_id: "track-clinic-tour".into()
        }
    );
    let EventKind::Beacon(beacon) = &callback.events[4].kind else {
        panic!()
    };
    assert_eq!(
        (beacon.hwid.as_str(), beacon.kind.as_str()),
        ("d41d8cd98f", "enter")
    );
    let EventKind::AccountLink(ok) = &callback.events[5].kind else {
        panic!()
    };
    assert_eq!(ok.result, "ok");
    let failed = &callback.events[6];
    assert!(
        failed.source.is_none(),
        "a failed account link has no source"
    );
    assert!(matches!(&failed.kind, EventKind::AccountLink(l) if l.result == "failed"));
    let EventKind::Membership(membership) = &callback.events[7].kind else {
        panic!()
    };
    assert_eq!(
        (membership.kind.as_str(), membership.membership_id),
        ("joined", 3189)
    );
}

#[test]
fn module_chat_control_bot_state_and_delivery_events_parse() {
    let (_, callback) = parse("module.json");
    let EventKind::Module(module) = &callback.events[0].kind else {
        panic!()
    };
    assert_eq!(module["type"], "attached");
    assert_eq!(
        callback.events[1].kind,
        EventKind::Activated {
            expire_at: Some(1_767_312_401_000)
        }
    );
    assert_eq!(callback.events[2].kind, EventKind::Deactivated);
    assert_eq!(callback.events[3].kind, EventKind::BotSuspended);
    assert_eq!(callback.events[4].kind, EventKind::BotResumed);
    assert_eq!(
        callback.events[5].kind,
        EventKind::Delivery {
            data: "pnp-delivery-0001".into()
        }
    );
}

#[test]
fn a_standby_event_has_no_reply_token_and_is_not_replyable() {
    let (_, callback) = parse("module.json");
    let standby = callback.events.last().expect("events");
    assert_eq!(standby.mode, Mode::Standby);
    assert_eq!(standby.reply_token, None);
    assert!(!standby.is_replyable());
    assert!(matches!(standby.kind, EventKind::Message(_)));
}

#[test]
fn edits_and_unsends_name_the_message_they_change() {
    let (_, callback) = parse("edits.json");
    let EventKind::MessageEdited(edited) = &callback.events[0].kind else {
        panic!()
    };
    assert_eq!(edited.id, MessageId::from("468789577898262534"));
    assert!(matches!(&edited.content, MessageContent::Text { text, .. } if text.ends_with("พรุ่งนี้")));
    assert_eq!(
        callback.events[1].kind,
        EventKind::Unsend {
            message_id: MessageId::from("468789577898262530")
        }
    );
}

#[test]
fn a_redelivery_is_marked_and_keeps_its_event_id_and_reply_token() {
    let (_, original) = parse("text.json");
    let (_, again) = parse("redelivery.json");
    let (first, second) = (&original.events[0], &again.events[0]);
    assert!(!first.is_redelivery);
    assert!(second.is_redelivery);
    assert_eq!(first.webhook_event_id, second.webhook_event_id);
    assert_eq!(first.reply_token, second.reply_token);
    assert_eq!(first.kind, second.kind);
}

#[test]
fn unknown_event_and_message_types_keep_their_json_exactly() {
    let (body, callback) = parse("unknown.json");
    let reaction = &callback.events[0];
    assert_eq!(reaction.event_type, "reaction");
    assert_eq!(reaction.kind, EventKind::Unknown);
    // Escapes, number spelling and spacing survive: the text is the body's own slice.
    let expected = r#"{"type":"reaction",   "reaction":{"emoji":"\ud83d\udc4d","messageId":"468789577898262530","nested":{"deep":[1,2.50,{"x":null}]}},"webhookEventId":"01HZXE000000000000000UNKN1","deliveryContext":{"isRedelivery":false},"timestamp":1767226200000,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},"replyToken":"e5000000000000000000000000000001","mode":"active","message":{"shape":"not a message object"}}"#;
    assert_eq!(reaction.raw(), expected);
    assert!(
        reaction.is_replyable(),
        "common fields are still read from an unknown event"
    );

    let EventKind::Message(poll) = &callback.events[1].kind else {
        panic!("an unknown message type is still a message event")
    };
    assert_eq!(poll.id, MessageId::from("468789577898263000"));
    let MessageContent::Unknown { message_type, raw } = &poll.content else {
        panic!("{:?}", poll.content)
    };
    assert_eq!(message_type, "poll");
    assert!(body.contains(raw.as_str()));
    assert!(raw.contains(r#""question":"\u3042\u3057\u305f?""#));
}

#[test]
fn an_empty_event_list_is_a_valid_callback() {
    let body = br#"{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[]}"#;
    let callback = Callback::parse(body).expect("LINE's Verify button sends this");
    assert!(callback.events.is_empty());
}

#[test]
fn a_body_that_is_not_a_callback_is_an_error_not_a_panic() {
    for body in [
        &b"not json"[..],
        b"{}",
        br#"{"destination":"U1","events":{}}"#,
        b"",
    ] {
        assert!(Callback::parse(body).is_err(), "{body:?}");
        assert!(RawCallback::parse(body).is_err(), "{body:?}");
    }
}

#[test]
fn a_known_event_missing_a_required_field_names_the_event_and_field() {
    let body = br#"{"destination":"U1","events":[{"type":"unsend","webhookEventId":"01X","timestamp":1,"mode":"active","deliveryContext":{"isRedelivery":false}}]}"#;
    let error = Callback::parse(body).expect_err("unsend without `unsend`");
    let text = error.to_string();
    assert!(text.contains("event 0"), "{text}");
    assert!(text.contains("unsend"), "{text}");
    // The raw view still reads it: nothing LINE sends is refused at ingest.
    let raw = RawCallback::parse(body).expect("raw parse never looks inside events");
    assert_eq!(raw.events.len(), 1);
}

fn read_one(event: &str) -> Event {
    Event::read(RawValue::from_string(event.to_owned()).expect("JSON")).expect("an object")
}

#[test]
fn a_user_source_without_a_user_id_is_read_not_refused() {
    let event = read_one(
        r#"{"type":"follow","webhookEventId":"01F","timestamp":1,"mode":"active","source":{"type":"user"},"replyToken":"r","deliveryContext":{"isRedelivery":false}}"#,
    );
    assert_eq!(
        event.kind,
        EventKind::Follow {
            is_unblocked: false
        }
    );
    assert_eq!(event.source, Some(Source::User { user_id: None }));
    assert_eq!(event.source.and_then(|s| s.chat()), None);
}

#[test]
fn a_message_event_whose_message_cannot_be_read_is_still_a_message_from_its_patient() {
    // `text` must be a string; LINE's next version may send more.
    let event = read_one(
        r#"{"type":"message","webhookEventId":"01M","timestamp":7,"mode":"active","replyToken":"rt","source":{"type":"user","userId":"U1"},"message":{"id":"55","type":"text","text":{"rich":true},"quoteToken":"q"},"deliveryContext":{"isRedelivery":false}}"#,
    );
    assert_eq!(event.reply_token, Some(ReplyToken::from("rt")));
    assert_eq!(event.timestamp, 7);
    assert_eq!(
        event.source.as_ref().and_then(Source::chat),
        Some(Chat::User(UserId::from("U1")))
    );
    let EventKind::Message(message) = &event.kind else {
        panic!("{:?}", event.kind);
    };
    assert_eq!(message.id, MessageId::from("55"));
    match &message.content {
        MessageContent::Unreadable {
            message_type,
            reason,
        } => {
            assert_eq!(message_type, "text");
            assert!(reason.contains("text"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn another_event_whose_fields_cannot_be_read_is_unreadable_with_what_could_be_read() {
    let event = read_one(
        r#"{"type":"unsend","webhookEventId":"01U","timestamp":1,"source":{"type":"group","groupId":"C1"}}"#,
    );
    assert_eq!(event.event_type, "unsend");
    assert!(
        matches!(&event.kind, EventKind::Unreadable { reason } if reason.contains("unsend")),
        "{:?}",
        event.kind
    );
    assert_eq!(
        event.source.as_ref().and_then(Source::chat),
        Some(Chat::Group(GroupId::from("C1")))
    );
    // Only what is not an object is refused.
    assert!(Event::read(RawValue::from_string("[1]".into()).unwrap()).is_err());
}
