//! A store as the released schema (up to `20261207150000_messages_by_line_id`) left it,
//! and how it upgrades.
//!
//! `testdata/desk-20261207150000.db` was written by that release's projection and search
//! indexer (commit 5b7921b, by a test since removed) from [`clinic_log`]: the first part
//! applied and indexed, then the rest (an edit and an unsend of indexed messages among it)
//! applied and indexed, then copied out with `VACUUM INTO`. It stands for the stores
//! clinics have, and is never written again: this version would write its own schema.

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

const THAI: &str = "U1111111111111111111111111111111a";
const JAPANESE: &str = "U2222222222222222222222222222222b";
const CHINESE: &str = "U3333333333333333333333333333333c";
const ENGLISH: &str = "U4444444444444444444444444444444d";
const GROUP: &str = "C5555555555555555555555555555555e";

/// How many entries of [`clinic_log`] were indexed before the rest came.
const FIRST_PART: usize = 24;

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
fn clinic_log() -> Vec<Entry> {
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

/// The released store, copied into `dir` and opened (so upgraded) by this version.
async fn upgraded(dir: &std::path::Path) -> super::Store {
    let path = dir.join("desk.db");
    std::fs::copy(RELEASED, &path).unwrap();
    super::Store::open(&path).await.unwrap()
}

const RELEASED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/store/testdata/desk-20261207150000.db"
);

/// A store this version made of [`clinic_log`], indexed as the released one was.
async fn fresh(dir: &std::path::Path) -> super::Store {
    let store = super::Store::open(&dir.join("fresh.db")).await.unwrap();
    let log = clinic_log();
    store.apply(&log[..FIRST_PART]).await.unwrap();
    store.index_search().await.unwrap();
    store.apply(&log[FIRST_PART..]).await.unwrap();
    store.index_search().await.unwrap();
    store
}

#[tokio::test]
async fn a_released_store_upgrades_to_what_this_version_makes_of_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let upgraded = upgraded(dir.path()).await;
    let fresh = fresh(dir.path()).await;
    pretty_assertions::assert_eq!(
        upgraded.fingerprint().await.unwrap(),
        fresh.fingerprint().await.unwrap()
    );
}

#[tokio::test]
async fn a_released_store_shows_every_message_as_it_did() {
    let dir = tempfile::tempdir().unwrap();
    // What the release kept of each message, read before the upgrade.
    let released = rusqlite::Connection::open(RELEASED).unwrap();
    let before: Vec<(i64, String, Option<String>, String)> = released
        .prepare("SELECT id, conversation_id, text, body FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(released);
    let store = upgraded(dir.path()).await;
    for chat in [THAI, JAPANESE, CHINESE, ENGLISH, GROUP] {
        let chat = ConversationId::new(chat);
        let shown = store
            .messages(&chat, crate::query::MessagesPage::Newest, 50)
            .await
            .unwrap();
        let kept: Vec<_> = before.iter().filter(|m| m.1 == chat.as_str()).collect();
        assert_eq!(shown.len(), kept.len(), "{chat}");
        for (view, (id, _, text, body)) in shown.iter().zip(kept) {
            assert_eq!(
                view.seq as i64 * crate::columns::MESSAGES_PER_ENTRY + i64::from(view.part),
                *id
            );
            assert_eq!(&view.text, text, "{id}");
            let view_body: serde_json::Value = serde_json::from_str(&view.body).unwrap();
            let body: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(view_body, body, "{id}");
        }
    }
    // The quote still finds what it quotes.
    let japanese = store
        .messages(
            &ConversationId::new(JAPANESE),
            crate::query::MessagesPage::Newest,
            50,
        )
        .await
        .unwrap();
    let quoting = japanese.iter().find(|m| m.seq == 22).unwrap();
    assert_eq!(
        quoting.quoted.as_ref().and_then(|q| q.text.as_deref()),
        Some("明日の予約を変更したいです")
    );
}

/// What the release's search found in [`clinic_log`]: per query, the contacts (by user id)
/// then the messages (by seq, newest first).
const FOUND: &[(&str, &[&str], &[u64])] = &[
    ("นัด", &[], &[6]),
    ("ขอเลื่อนนัด", &[], &[6]),
    ("予約", &[], &[22, 7]),
    ("約", &[], &[22, 7]),
    ("掛號", &[], &[8]),
    ("診察券", &[], &[11]),
    ("報告", &[CHINESE], &[28]),
    ("check-up", &[], &[]),
    ("see you", &[], &[29]),
    ("THEN", &[], &[29]),
    ("ต้องมารับ", &[], &[23]),
    ("ยาหมด", &[], &[23]),
    ("referral", &[], &[16]),
    ("台北", &[], &[17]),
    ("ขอบคุณ", &[], &[15]),
    ("welcome", &[], &[30]),
    ("承知", &[], &[11]),
    ("action=", &[], &[19, 18]),
    ("HN-20417", &[THAI], &[]),
    ("สมชาย", &[THAI], &[]),
    ("ゆき", &[JAPANESE], &[]),
    ("美玲", &[CHINESE], &[]),
    ("mali", &[ENGLISH], &[]),
    ("予定", &[], &[]),
];

#[tokio::test]
async fn a_released_store_finds_what_it_found_before_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let store = upgraded(dir.path()).await;
    store.index_search().await.unwrap();
    for (query, contacts, messages) in FOUND {
        let hits = store.search(query, 50).await.unwrap();
        let found_contacts: Vec<&str> = hits
            .iter()
            .filter(|h| h.kind == crate::search::HitKind::Contact)
            .filter_map(|h| h.user_id.as_deref())
            .collect();
        let found_messages: Vec<u64> = hits
            .iter()
            .filter(|h| h.kind == crate::search::HitKind::Message)
            .filter_map(|h| h.seq)
            .collect();
        assert_eq!(
            (found_contacts.as_slice(), found_messages.as_slice()),
            (*contacts, *messages),
            "{query}"
        );
    }
}
