//! A store as the released schema (up to `20261207150000_messages_by_line_id`) left it,
//! and how it upgrades.
//!
//! `testdata/desk-20261207150000.db` was written by that release's projection and search
//! indexer (commit bc9a2ab) from [`clinic_log`]: the first part applied and indexed, then
//! the rest (an edit and an unsend of indexed messages among it) applied and indexed.
//! It stands for the stores clinics have; it is never written again.

use std::collections::BTreeMap;

use serde_json::json;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::testing::{
    edited, follow, image, line, message_sticker, op_with_id, picked, postback, quoting, text,
    text_to_mark, unknown_event, unreadable_text, unsend,
};
use tsunagi_proto::{
    ContactProfile, ConversationId, Delivery, Entry, MediaOutcome, OpId, Operation, SendOp,
};

pub(super) const THAI: &str = "U1111111111111111111111111111111a";
pub(super) const JAPANESE: &str = "U2222222222222222222222222222222b";
pub(super) const CHINESE: &str = "U3333333333333333333333333333333c";
pub(super) const ENGLISH: &str = "U4444444444444444444444444444444d";
pub(super) const GROUP: &str = "C5555555555555555555555555555555e";

/// How many entries of [`clinic_log`] were indexed before the rest came.
pub(super) const FIRST_PART: usize = 24;

fn op(seq: u64, device: &str, op: Operation) -> Entry {
    op_with_id(
        seq,
        device,
        OpId(uuid::Uuid::from_u128(u128::from(seq))),
        op,
    )
}

fn send(conversation: &str, key: u128, messages: Vec<Message>) -> Operation {
    Operation::Send(SendOp {
        conversation: ConversationId::new(conversation),
        messages,
        retry_key: RetryKey(uuid::Uuid::from_u128(key)),
        prefer_reply_token: true,
    })
}

fn group_text(seq: u64, user: &str, message_id: &str, words: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "message", "mode": "active", "timestamp": tsunagi_proto::testing::at(seq).0 - 200,
            "webhookEventId": format!("01G{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": {"type": "group", "groupId": GROUP, "userId": user},
            "replyToken": format!("r{seq}"),
            "message": {"type": "text", "id": message_id, "quoteToken": format!("q{seq}"),
                        "text": words, "emojis": [{"index": 0, "productId": "5ac1bfd5040ab15980c9b435", "emojiId": "001", "length": 6}]}
        }),
    )
}

fn user_message(seq: u64, user: &str, message: serde_json::Value) -> Entry {
    line(
        seq,
        json!({
            "type": "message", "mode": "active", "timestamp": tsunagi_proto::testing::at(seq).0 - 200,
            "webhookEventId": format!("01U{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": user}, "replyToken": format!("r{seq}"),
            "message": message
        }),
    )
}

/// A clinic's log in four languages with a message of every kind the projection stores:
/// texts (with read tokens, emojis, a quote), a photo, a message sticker, a file, a
/// location, picked dates and postbacks, a message this version cannot read, an unknown
/// event, the team's sends (one of two messages) and their outcomes, media, the clinic's
/// fields and tags on a contact, an edit and unsends.
pub(super) fn clinic_log() -> Vec<Entry> {
    let device = "d-yuki";
    let executor = tsunagi_proto::EXECUTOR_DEVICE;
    let profile = |user: &str, name: &str, language: &str| ContactProfile {
        user_id: UserId::new(user),
        display_name: name.into(),
        picture_url: None,
        status_message: None,
        language: Some(language.into()),
        follower: true,
    };
    let mut fields = BTreeMap::new();
    fields.insert("chart_number".to_owned(), "HN-20417".to_owned());
    fields.insert("team_name".to_owned(), "คุณสมชาย".to_owned());
    let mut log = vec![
        follow(1, THAI, false),
        follow(2, JAPANESE, false),
        follow(3, CHINESE, false),
        follow(4, ENGLISH, false),
        op(
            5,
            executor,
            Operation::Profiles {
                profiles: vec![
                    profile(THAI, "สมชาย ใจดี", "th"),
                    profile(JAPANESE, "ゆき", "ja"),
                    profile(CHINESE, "美玲", "zh-TW"),
                    profile(ENGLISH, "Mali Check", "en"),
                ],
            },
        ),
        text_to_mark(6, THAI, "700006", "สวัสดีค่ะ ขอเลื่อนนัดวันพรุ่งนี้ได้ไหมคะ"),
        text(7, JAPANESE, "700007", "明日の予約を変更したいです"),
        text(8, CHINESE, "700008", "請問今天還可以掛號嗎"),
        text(
            9,
            ENGLISH,
            "700009",
            "Can I book a check-up for Tuesday morning?",
        ),
        op(
            10,
            device,
            Operation::Claim {
                conversation: ConversationId::new(JAPANESE),
            },
        ),
        op(
            11,
            device,
            send(
                JAPANESE,
                11,
                vec![
                    Message::text("承知しました"),
                    Message::text("診察券をお持ちください"),
                ],
            ),
        ),
        op(
            12,
            executor,
            Operation::Sent {
                send: OpId(uuid::Uuid::from_u128(11)),
                via: Delivery::Reply,
                message_ids: vec![MessageId::from("900011"), MessageId::from("900012")],
            },
        ),
        image(13, CHINESE, "700013"),
        op(
            14,
            executor,
            Operation::Media {
                message: MessageId::from("700013"),
                outcome: MediaOutcome::Stored {
                    content_type: "image/jpeg".into(),
                    size: 48_213,
                    preview: true,
                },
            },
        ),
        message_sticker(15, THAI, "700015", "ขอบคุณค่ะ"),
        user_message(
            16,
            ENGLISH,
            json!({"type": "file", "id": "700016", "fileName": "referral letter.pdf", "fileSize": 20480}),
        ),
        user_message(
            17,
            CHINESE,
            json!({"type": "location", "id": "700017", "title": "台北診所",
                   "address": "台北市中正區", "latitude": 25.0330, "longitude": 121.5654}),
        ),
        picked(18, JAPANESE, "action=book", "2026-12-24T10:00"),
        postback(19, THAI, "action=menu"),
        unreadable_text(20, ENGLISH, "700020"),
        unknown_event(21, ENGLISH),
        quoting(22, JAPANESE, "700022", "この予約です", "700007"),
        group_text(23, THAI, "700023", "$ ยาหมดแล้วค่ะ"),
        op(
            24,
            device,
            Operation::ContactFields {
                contact: UserId::new(THAI),
                fields,
            },
        ),
        // Indexed up to here; then:
        edited(
            25,
            THAI,
            "700023",
            "ยาหมดแล้วค่ะ ต้องมารับที่คลินิกไหมคะ",
            tsunagi_proto::testing::at(25).0,
        ),
        unsend(26, ENGLISH, "700009"),
        op(
            27,
            device,
            Operation::Tag {
                contact: UserId::new(CHINESE),
                tag: "報告待ち".into(),
                added: true,
            },
        ),
        text(28, CHINESE, "700028", "我的檢查報告出來了嗎"),
        text(29, ENGLISH, "700029", "Thank you, see you then"),
        op(
            30,
            executor,
            send(ENGLISH, 30, vec![Message::text("You're welcome!")]),
        ),
    ];
    // The edit is of a group message: its source is the group.
    if let tsunagi_proto::EntryBody::Line { event, .. } = &mut log[24].body {
        let mut value: serde_json::Value = serde_json::from_str(event.get()).unwrap();
        value["source"] = json!({"type": "group", "groupId": GROUP, "userId": THAI});
        *event = serde_json::value::RawValue::from_string(value.to_string()).unwrap();
    }
    log
}

#[tokio::test]
#[ignore = "writes the fixture; run once, by the release that wrote it"]
async fn write_the_released_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let store = super::Store::open(&path).await.unwrap();
    let log = clinic_log();
    store.apply(&log[..FIRST_PART]).await.unwrap();
    store.index_search().await.unwrap();
    store.apply(&log[FIRST_PART..]).await.unwrap();
    store.index_search().await.unwrap();
    store.close().await;
    drop(store);
    let to = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/store/testdata/desk-20261207150000.db"
    );
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute("VACUUM INTO ?", [to]).unwrap();
}
