//! The projection: any log applied in order gives one store, however it is batched,
//! re-applied or replayed.

use proptest::prelude::*;
use tsunagi_desk::Store;
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::{
    ConversationId, ConversationMode, Delivery, Entry, Greetings, OpId, Operation, OperatorId,
    SendOp, Setting,
};

use crate::log;

const USERS: [&str; 3] = [
    "U4af4980629a1b2c3d4e5f60718293a4b",
    "U5bf5a91730b2c3d4e5f60718293a4b5c",
    "U6cf6ba2841c3d4e5f60718293a4b5c6d",
];
const DEVICES: [&str; 2] = ["d-yuki", "d-somchai"];
const TEXTS: [&str; 4] = [
    "明日の予約を変更したいです",
    "ขอเลื่อนนัดได้ไหมคะ",
    "我想掛號",
    "Can I book for Tuesday?",
];

/// One step of a generated log, before it gets its seq.
#[derive(Debug, Clone)]
enum Step {
    Text {
        user: usize,
        text: usize,
    },
    Image {
        user: usize,
    },
    Edit {
        user: usize,
        message: u64,
        text: usize,
        later: bool,
    },
    Unsend {
        user: usize,
        message: u64,
    },
    Follow {
        user: usize,
        unblocked: bool,
    },
    Unfollow {
        user: usize,
    },
    UnknownEvent {
        user: usize,
    },
    Claim {
        user: usize,
        device: usize,
    },
    Release {
        user: usize,
        device: usize,
    },
    Transfer {
        user: usize,
        device: usize,
        to: usize,
    },
    Close {
        user: usize,
        device: usize,
    },
    Mode {
        user: usize,
        device: usize,
        human: bool,
    },
    Send {
        user: usize,
        device: usize,
        text: usize,
    },
    Outcome {
        send: u64,
        failed: bool,
    },
    Note {
        user: usize,
        device: usize,
    },
    Tag {
        user: usize,
        device: usize,
        added: bool,
    },
    Greeting {
        device: usize,
        text: usize,
    },
    Unsupported {
        device: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let user = 0..USERS.len();
    let device = 0..DEVICES.len();
    let text = 0..TEXTS.len();
    prop_oneof![
        4 => (user.clone(), text.clone()).prop_map(|(user, text)| Step::Text { user, text }),
        1 => user.clone().prop_map(|user| Step::Image { user }),
        1 => (user.clone(), 1..40u64, text.clone(), any::<bool>())
            .prop_map(|(user, message, text, later)| Step::Edit { user, message, text, later }),
        1 => (user.clone(), 1..40u64).prop_map(|(user, message)| Step::Unsend { user, message }),
        1 => (user.clone(), any::<bool>()).prop_map(|(user, unblocked)| Step::Follow { user, unblocked }),
        1 => user.clone().prop_map(|user| Step::Unfollow { user }),
        1 => user.clone().prop_map(|user| Step::UnknownEvent { user }),
        3 => (user.clone(), device.clone()).prop_map(|(user, device)| Step::Claim { user, device }),
        1 => (user.clone(), device.clone()).prop_map(|(user, device)| Step::Release { user, device }),
        1 => (user.clone(), device.clone(), device.clone())
            .prop_map(|(user, device, to)| Step::Transfer { user, device, to }),
        2 => (user.clone(), device.clone()).prop_map(|(user, device)| Step::Close { user, device }),
        2 => (user.clone(), device.clone(), any::<bool>())
            .prop_map(|(user, device, human)| Step::Mode { user, device, human }),
        3 => (user.clone(), device.clone(), text.clone())
            .prop_map(|(user, device, text)| Step::Send { user, device, text }),
        2 => (1..40u64, any::<bool>()).prop_map(|(send, failed)| Step::Outcome { send, failed }),
        1 => (user.clone(), device.clone()).prop_map(|(user, device)| Step::Note { user, device }),
        1 => (user.clone(), device.clone(), any::<bool>())
            .prop_map(|(user, device, added)| Step::Tag { user, device, added }),
        1 => (device.clone(), text).prop_map(|(device, text)| Step::Greeting { device, text }),
        1 => device.prop_map(|device| Step::Unsupported { device }),
    ]
}

fn conversation(user: usize) -> ConversationId {
    ConversationId::from(USERS[user])
}

/// The entry a step becomes at `seq`. Message ids are `M<seq>`; a send's op id is its seq.
fn entry(seq: u64, step: &Step) -> Entry {
    let device = |d: usize| DEVICES[d];
    match step {
        Step::Text { user, text } => log::text(seq, USERS[*user], &format!("M{seq}"), TEXTS[*text]),
        Step::Image { user } => log::image(seq, USERS[*user], &format!("M{seq}")),
        Step::Edit {
            user,
            message,
            text,
            later,
        } => {
            // An edit may carry an older timestamp than one already applied.
            let timestamp = log::at(seq).0 + if *later { 0 } else { -60_000 };
            log::edited(
                seq,
                USERS[*user],
                &format!("M{message}"),
                TEXTS[*text],
                timestamp,
            )
        }
        Step::Unsend { user, message } => log::unsend(seq, USERS[*user], &format!("M{message}")),
        Step::Follow { user, unblocked } => log::follow(seq, USERS[*user], *unblocked),
        Step::Unfollow { user } => log::unfollow(seq, USERS[*user]),
        Step::UnknownEvent { user } => log::unknown_event(seq, USERS[*user]),
        Step::Claim { user, device: d } => log::op(
            seq,
            device(*d),
            Operation::Claim {
                conversation: conversation(*user),
            },
        ),
        Step::Release { user, device: d } => log::op(
            seq,
            device(*d),
            Operation::Release {
                conversation: conversation(*user),
            },
        ),
        Step::Transfer {
            user,
            device: d,
            to,
        } => log::op(
            seq,
            device(*d),
            Operation::Transfer {
                conversation: conversation(*user),
                to: OperatorId::from(DEVICES[*to]),
            },
        ),
        Step::Close { user, device: d } => log::op(
            seq,
            device(*d),
            Operation::Close {
                conversation: conversation(*user),
            },
        ),
        Step::Mode {
            user,
            device: d,
            human,
        } => log::op(
            seq,
            device(*d),
            Operation::SetMode {
                conversation: conversation(*user),
                mode: if *human {
                    ConversationMode::Human
                } else {
                    ConversationMode::Bot
                },
            },
        ),
        Step::Send {
            user,
            device: d,
            text,
        } => log::op(
            seq,
            device(*d),
            Operation::Send(SendOp {
                conversation: conversation(*user),
                messages: vec![Message::text(TEXTS[*text])],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }),
        ),
        Step::Outcome { send, failed } => {
            let send = OpId(uuid::Uuid::from_u128(u128::from(*send)));
            let op = if *failed {
                Operation::SendFailed {
                    send,
                    reason: "The user hasn't added the LINE Official Account as a friend.".into(),
                    details: Vec::new(),
                    unconfirmed: false,
                    request_id: None,
                }
            } else {
                Operation::Sent {
                    send,
                    via: Delivery::Push,
                    message_ids: vec![tsunagi_line::MessageId::from(format!("S{seq}"))],
                }
            };
            log::op(seq, tsunagi_proto::EXECUTOR_DEVICE, op)
        }
        Step::Note { user, device: d } => log::op(
            seq,
            device(*d),
            Operation::Note {
                contact: UserId::from(USERS[*user]),
                text: "prefers mornings".into(),
            },
        ),
        Step::Tag {
            user,
            device: d,
            added,
        } => log::op(
            seq,
            device(*d),
            Operation::Tag {
                contact: UserId::from(USERS[*user]),
                tag: "vip".into(),
                added: *added,
            },
        ),
        Step::Greeting { device: d, text } => log::op(
            seq,
            device(*d),
            Operation::Settings(Setting::Greetings(Greetings {
                follow: Some(TEXTS[*text].into()),
                ..Greetings::default()
            })),
        ),
        Step::Unsupported { device: d } => log::unsupported_op(seq, device(*d)),
    }
}

fn entries(steps: &[Step]) -> Vec<Entry> {
    entries_from(1, steps)
}

/// The entries `steps` become, the first at `seq`.
fn entries_from(seq: u64, steps: &[Step]) -> Vec<Entry> {
    steps
        .iter()
        .enumerate()
        .map(|(i, step)| entry(seq + i as u64, step))
        .collect()
}

async fn fresh() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("desk.db")).await.unwrap();
    (store, dir)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Replaying the whole log into an empty store gives the store that applied it as it
    /// came, in batches of any size, some of them overlapping what was already applied.
    #[test]
    fn a_log_gives_one_store_however_it_is_batched_replayed_or_applied_twice(
        steps in prop::collection::vec(step(), 1..60),
        cuts in prop::collection::vec((0usize..60, 0usize..10), 1..8),
    ) {
        let log = entries(&steps);
        runtime().block_on(async {
            let (replayed, _a) = fresh().await;
            replayed.apply(&log).await.unwrap();

            let (live, _b) = fresh().await;
            let mut applied: usize = 0;
            let mut ends: Vec<usize> = cuts.iter().map(|(end, _)| end % (log.len() + 1)).collect();
            ends.sort_unstable();
            ends.push(log.len());
            for (end, (_, overlap)) in ends.iter().zip(cuts.iter().chain(std::iter::repeat(&(0, 0)))) {
                // Each batch starts up to `overlap` entries before what was applied.
                let start = applied.saturating_sub(*overlap);
                if *end > start {
                    live.apply(&log[start..*end]).await.unwrap();
                    applied = applied.max(*end);
                }
            }
            let live_print = live.fingerprint().await.unwrap();
            prop_assert_eq!(&live_print, &replayed.fingerprint().await.unwrap());
            // The inbox's tallies are what counting the rows gives.
            for me in [None, Some(OperatorId::from(DEVICES[0]))] {
                prop_assert_eq!(
                    live.inbox_counts(me.as_ref()).await.unwrap(),
                    live.inbox_counts_counted(me.as_ref()).await.unwrap()
                );
            }

            // The whole log once more: nothing changes.
            live.apply(&log).await.unwrap();
            prop_assert_eq!(live_print, live.fingerprint().await.unwrap());
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn a_gap_in_the_log_applies_nothing_of_the_batch() {
    let (store, _dir) = fresh().await;
    let log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Text { user: 1, text: 1 },
        Step::Text { user: 2, text: 2 },
    ]);
    let before = store.fingerprint().await.unwrap();
    let error = store
        .apply(&[log[0].clone(), log[2].clone()])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("from 2 to 3"), "{error}");
    assert_eq!(store.fingerprint().await.unwrap(), before);
    assert_eq!(store.cursor().await.unwrap().0, 0);
}

#[tokio::test]
async fn a_handoff_from_message_to_close_as_the_inbox_shows_it() {
    use tsunagi_desk::query::{InboxList, MessagesPage, SendStatus, SessionStatus};
    use tsunagi_proto::UnixMillis;

    let (store, _dir) = fresh().await;
    let patient = USERS[0];
    let chat = conversation(0);
    let yuki = OperatorId::from(DEVICES[0]);
    let somchai = OperatorId::from(DEVICES[1]);
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Mode {
            user: 0,
            device: 0,
            human: true,
        },
        Step::Claim { user: 0, device: 1 },
        Step::Claim { user: 0, device: 0 },
        Step::Send {
            user: 0,
            device: 1,
            text: 3,
        },
        Step::Outcome {
            send: 5,
            failed: false,
        },
    ]);
    store.apply(&log[..2]).await.unwrap();

    let waiting = store
        .inbox(InboxList::Waiting, None, log::at(12), None, 50)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].conversation, chat);
    assert_eq!(waiting[0].queue_position, Some(1));
    assert_eq!(waiting[0].waiting_ms, Some(10_000));
    assert_eq!(waiting[0].unread, 1);

    store.apply(&log[2..]).await.unwrap();
    let audit = store.audit(Some(&chat), 10).await.unwrap();
    let claims: Vec<(&str, &str, Option<&str>)> = audit
        .iter()
        .filter(|a| a.op_type == "claim")
        .map(|a| (a.device.as_str(), a.outcome.as_str(), a.reason.as_deref()))
        .collect();
    assert_eq!(
        claims,
        [
            (
                "d-yuki",
                "rejected",
                Some("d-somchai already has this conversation")
            ),
            ("d-somchai", "applied", None),
        ]
    );
    let mine = store
        .inbox(InboxList::Mine, Some(&somchai), UnixMillis(0), None, 50)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].unread, 0, "answered");
    let session = mine[0].session.clone().unwrap();
    assert_eq!(session.operator, Some(somchai.clone()));
    // When LINE took the answer.
    assert_eq!(session.first_response_at, Some(log::at(6).0));
    assert!(
        store
            .inbox(InboxList::Mine, Some(&yuki), UnixMillis(0), None, 50)
            .await
            .unwrap()
            .is_empty()
    );

    let messages = store
        .messages(&chat, MessagesPage::Newest, 50)
        .await
        .unwrap();
    let shown: Vec<(&str, Option<&str>, Option<&str>)> = messages
        .iter()
        .map(|m| {
            (
                m.direction.as_str(),
                m.text.as_deref(),
                m.send_status.map(SendStatus::as_str),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("in", Some(TEXTS[0]), None),
            ("out", Some(TEXTS[3]), Some("sent")),
        ]
    );
    assert_eq!(messages[1].line_message_id.as_deref(), Some("S6"));
    assert_eq!(
        messages[0].reply_token_expires_at,
        Some(log::at(1).0 + tsunagi_desk::projection::REPLY_TOKEN_LIFETIME_MS)
    );

    // The patient unsends their message; someone closes the chat.
    log.push(log::unsend(7, patient, "M1"));
    log.push(log::op(
        8,
        DEVICES[1],
        Operation::Close {
            conversation: chat.clone(),
        },
    ));
    store.apply(&log[6..]).await.unwrap();
    store.index_search().await.unwrap();
    let messages = store
        .messages(&chat, MessagesPage::Newest, 50)
        .await
        .unwrap();
    assert!(messages[0].unsent);
    assert_eq!(messages[0].text, None);
    assert!(
        store.search("予約", 10).await.unwrap().is_empty(),
        "unsent text is not found"
    );
    let closed = store
        .inbox(InboxList::Closed, None, UnixMillis(0), None, 50)
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].mode, ConversationMode::Bot);
    let sessions = store.sessions(&chat).await.unwrap();
    assert_eq!(sessions[0].status, SessionStatus::Closed);
    assert_eq!(sessions[0].closed_by.as_deref(), Some(DEVICES[1]));
    assert_eq!(
        sessions[0].message_count, 1,
        "the send; the patient wrote before it opened"
    );
}

#[tokio::test]
async fn the_newest_edit_wins_and_unknown_types_are_kept_as_unsupported() {
    use tsunagi_desk::query::MessagesPage;

    let (store, _dir) = fresh().await;
    let user = USERS[1];
    let log = vec![
        log::text(1, user, "M1", "first"),
        log::edited(2, user, "M1", "second", log::at(2).0),
        log::edited(3, user, "M1", "stale", log::at(2).0 - 1),
        log::line(
            4,
            serde_json::json!({
                "type": "message", "mode": "active", "timestamp": 1,
                "webhookEventId": "01W4", "deliveryContext": {"isRedelivery": false},
                "source": {"type": "user", "userId": user},
                "message": {"type": "hologram", "id": "M4", "depth": 3}
            }),
        ),
    ];
    store.apply(&log).await.unwrap();
    store.index_search().await.unwrap();
    let messages = store
        .messages(&conversation(1), MessagesPage::Newest, 10)
        .await
        .unwrap();
    assert_eq!(messages[0].text.as_deref(), Some("second"));
    assert_eq!(messages[0].edited_at, Some(log::at(2).0));
    assert_eq!(messages[1].message_type, "hologram");
    assert_eq!(store.search("second", 10).await.unwrap().len(), 1);
    assert!(store.search("first", 10).await.unwrap().is_empty());
    // An edit of a message already in the search index replaces it there.
    store
        .apply(&[log::edited(5, user, "M1", "third", log::at(5).0)])
        .await
        .unwrap();
    store.index_search().await.unwrap();
    assert!(store.search("second", 10).await.unwrap().is_empty());
    assert_eq!(store.search("third", 10).await.unwrap().len(), 1);
    assert!(!messages[1].supported);
    assert!(
        messages[1].body.contains("\"depth\":3"),
        "{}",
        messages[1].body
    );
}

#[tokio::test]
async fn search_finds_words_inside_thai_japanese_and_chinese_text() {
    let (store, _dir) = fresh().await;
    let log = vec![
        log::text(1, USERS[0], "M1", "สวัสดีค่ะ ขอเลื่อนนัดวันพรุ่งนี้ได้ไหมคะ"),
        log::text(2, USERS[1], "M2", "明日の予約を変更したいです"),
        log::text(3, USERS[2], "M3", "請問今天還可以掛號嗎"),
        log::text(4, USERS[0], "M4", "Can I book for Tuesday?"),
    ];
    store.apply(&log).await.unwrap();
    store.index_search().await.unwrap();
    for (query, seq, hit) in [
        ("นัด", 1, "นัด"),
        ("予約", 2, "予約"),
        ("掛號", 3, "掛號"),
        ("TUES", 4, "Tues"),
        ("約", 2, "約"),
    ] {
        let hits = store.search(query, 10).await.unwrap();
        assert_eq!(hits.len(), 1, "{query}: {hits:?}");
        assert_eq!(hits[0].seq, Some(seq), "{query}");
        let marked: Vec<&str> = hits[0]
            .snippet
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(marked, [hit], "{query}");
    }
    assert!(store.search("予定", 10).await.unwrap().is_empty());
    assert!(store.search("   ", 10).await.is_err());
}

#[tokio::test]
async fn a_conversation_pages_back_and_forth_in_log_order() {
    use tsunagi_desk::query::MessagesPage;

    let (store, _dir) = fresh().await;
    let log: Vec<Entry> = (1..=5)
        .map(|seq| log::text(seq, USERS[0], &format!("M{seq}"), &format!("message {seq}")))
        .collect();
    store.apply(&log).await.unwrap();
    let chat = conversation(0);
    let texts = |page: &[tsunagi_desk::query::MessageView]| -> Vec<String> {
        page.iter().map(|m| m.text.clone().unwrap()).collect()
    };
    let newest = store
        .messages(&chat, MessagesPage::Newest, 2)
        .await
        .unwrap();
    assert_eq!(texts(&newest), ["message 4", "message 5"]);
    let before = MessagesPage::Before {
        seq: newest[0].seq,
        part: newest[0].part,
    };
    let older = store.messages(&chat, before, 2).await.unwrap();
    assert_eq!(texts(&older), ["message 2", "message 3"]);
    let after = MessagesPage::After {
        seq: older[0].seq,
        part: older[0].part,
    };
    let newer = store.messages(&chat, after, 2).await.unwrap();
    assert_eq!(texts(&newer), ["message 3", "message 4"]);
}

#[tokio::test]
async fn an_op_the_relay_would_refuse_never_enters_the_outbox() {
    let (store, _dir) = fresh().await;
    let blank = Operation::Note {
        contact: UserId::from(USERS[0]),
        text: "  ".into(),
    };
    let error = store
        .enqueue(&blank, tsunagi_proto::UnixMillis(0))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("note"), "{error}");
    assert!(store.pending().await.unwrap().is_empty());
}

/// "First claim wins" cannot be got round: a transfer to oneself, or a close, by staff of
/// a chat someone else holds is rejected in the log, with the reason; an owner's is not.
#[tokio::test]
async fn staff_cannot_take_or_close_a_chat_another_holds_and_an_owner_can() {
    use tsunagi_proto::api::Role;

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Claim { user: 0, device: 0 },
    ]);
    let staff = |seq, op| log::op_by(seq, DEVICES[1], Role::Staff, op);
    log.push(staff(
        3,
        Operation::Transfer {
            conversation: chat.clone(),
            to: OperatorId::from(DEVICES[1]),
        },
    ));
    log.push(staff(
        4,
        Operation::Close {
            conversation: chat.clone(),
        },
    ));
    log.push(log::op_by(
        5,
        "d-aiko",
        Role::Owner,
        Operation::Transfer {
            conversation: chat.clone(),
            to: OperatorId::from(DEVICES[1]),
        },
    ));
    store.apply(&log).await.unwrap();
    let audit = store.audit(Some(&chat), 10).await.unwrap();
    let outcomes: Vec<(&str, &str, Option<&str>)> = audit
        .iter()
        .filter(|a| matches!(a.op_type.as_str(), "transfer" | "close"))
        .map(|a| (a.op_type.as_str(), a.outcome.as_str(), a.reason.as_deref()))
        .collect();
    let not_yours = Some("only the operator who has this conversation can do this");
    assert_eq!(
        outcomes,
        [
            ("transfer", "applied", None),
            ("close", "rejected", not_yours),
            ("transfer", "rejected", not_yours),
        ]
    );
}

/// The bot's queue message after a handoff is no one's answer: the chat waits with its
/// unread, and its first response is still to come.
#[tokio::test]
async fn the_bots_queue_message_neither_answers_the_chat_nor_clears_its_unread() {
    use tsunagi_desk::query::InboxList;
    use tsunagi_proto::{EXECUTOR_DEVICE, UnixMillis};

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let executor = |seq, op| log::op(seq, EXECUTOR_DEVICE, op);
    let mut log = entries(&[Step::Text { user: 0, text: 0 }]);
    log.push(executor(
        2,
        Operation::SetMode {
            conversation: chat.clone(),
            mode: ConversationMode::Human,
        },
    ));
    log.push(executor(
        3,
        Operation::Send(SendOp {
            conversation: chat.clone(),
            messages: vec![Message::text("You are number 1 in the queue")],
            retry_key: RetryKey::new(),
            prefer_reply_token: true,
        }),
    ));
    log.push(executor(
        4,
        Operation::Sent {
            send: OpId(uuid::Uuid::from_u128(3)),
            via: Delivery::Reply,
            message_ids: vec![],
        },
    ));
    store.apply(&log).await.unwrap();
    let waiting = store
        .inbox(InboxList::Waiting, None, UnixMillis(0), None, 50)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        waiting[0].unread, 1,
        "the patient's message is still unanswered"
    );
    let session = waiting[0].session.clone().unwrap();
    assert_eq!(session.first_response_at, None);
}

#[tokio::test]
async fn an_edit_or_an_unsend_of_the_newest_message_changes_the_inbox_preview() {
    use tsunagi_desk::query::InboxList;
    use tsunagi_proto::UnixMillis;

    let (store, _dir) = fresh().await;
    let preview = |store: Store| async move {
        let rows = store
            .inbox(InboxList::Bot, None, UnixMillis(0), None, 50)
            .await
            .unwrap();
        rows[0].preview.clone().unwrap_or_default()
    };
    store
        .apply(&[
            log::text(1, USERS[0], "M1", "9時に伺います"),
            log::edited(2, USERS[0], "M1", "10時に伺います", log::at(2).0),
        ])
        .await
        .unwrap();
    assert_eq!(preview(store.clone()).await, "10時に伺います");
    store
        .apply(&[log::unsend(3, USERS[0], "M1")])
        .await
        .unwrap();
    assert_eq!(preview(store.clone()).await, "[unsent]");
}

#[tokio::test]
async fn a_released_chat_goes_to_the_end_of_the_queue_and_waits_from_its_release() {
    use tsunagi_desk::query::InboxList;

    let (store, _dir) = fresh().await;
    let log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Mode {
            user: 0,
            device: 0,
            human: true,
        },
        Step::Text { user: 1, text: 1 },
        Step::Mode {
            user: 1,
            device: 0,
            human: true,
        },
        Step::Claim { user: 0, device: 0 },
        Step::Release { user: 0, device: 0 },
    ]);
    store.apply(&log).await.unwrap();
    let now = log::at(10);
    let queue = store
        .inbox(InboxList::Waiting, None, now, None, 50)
        .await
        .unwrap();
    let order: Vec<(ConversationId, Option<u32>, Option<i64>)> = queue
        .iter()
        .map(|q| (q.conversation.clone(), q.queue_position, q.waiting_ms))
        .collect();
    assert_eq!(
        order,
        [
            (conversation(1), Some(1), Some(now.0 - log::at(4).0)),
            (conversation(0), Some(2), Some(now.0 - log::at(6).0)),
        ]
    );
    // Paging after the first keeps the order.
    let rest = store
        .inbox(InboxList::Waiting, None, now, Some(queue[0].cursor), 50)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(
        (rest[0].conversation.clone(), rest[0].queue_position),
        (conversation(0), Some(2))
    );
}

#[tokio::test]
async fn a_rating_counts_once_per_closed_session_and_only_within_a_day_of_the_question() {
    use tsunagi_domain::csat::{ANSWERED_WITHIN_MS, postback_data};
    use tsunagi_proto::UnixMillis;

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let ratings = |store: Store, chat: ConversationId| async move {
        let sessions = store.sessions(&chat).await.unwrap();
        sessions.iter().map(|s| s.csat).collect::<Vec<_>>()
    };
    let claim_and_close = |from: u64| {
        [
            entry(from, &Step::Text { user: 0, text: 0 }),
            entry(from + 1, &Step::Claim { user: 0, device: 0 }),
            entry(from + 2, &Step::Close { user: 0, device: 0 }),
        ]
    };
    let mut log = claim_and_close(1).to_vec();
    log.push(log::postback(4, USERS[0], &postback_data(4)));
    // Tapped again, another star: the first answer stands.
    log.push(log::postback(5, USERS[0], &postback_data(1)));
    store.apply(&log).await.unwrap();
    assert_eq!(ratings(store.clone(), chat.clone()).await, [Some(4)]);

    // The next session closes; an answer more than a day later no longer counts.
    let mut log = claim_and_close(6).to_vec();
    let mut late = log::postback(9, USERS[0], &postback_data(5));
    late.at = UnixMillis(log[2].at.0 + ANSWERED_WITHIN_MS + 1);
    log.push(late);
    store.apply(&log).await.unwrap();
    let mut rated = ratings(store.clone(), chat).await;
    rated.sort();
    assert_eq!(rated, [None, Some(4)]);
}

/// What each step of a chat's day alerts, on Yuki's desk and on Somchai's, when applied
/// live; and that the same log caught up on alerts nobody.
#[tokio::test]
async fn each_desk_is_alerted_to_what_concerns_its_operator() {
    use tsunagi_desk::alerts::{AlertKind, Me};

    let (store, _dir) = fresh().await;
    let desks = DEVICES.map(|d| Me {
        operator: OperatorId::from(d),
        owner: false,
    });
    let log = entries(&[
        // In the bot's hands: nothing.
        Step::Text { user: 0, text: 0 },
        // To people: the chat waits, and the patient writes again.
        Step::Mode {
            user: 0,
            device: 0,
            human: true,
        },
        Step::Text { user: 0, text: 1 },
        // Somchai takes it; the patient writes.
        Step::Claim { user: 0, device: 1 },
        Step::Text { user: 0, text: 2 },
        // Somchai hands it to Yuki.
        Step::Transfer {
            user: 0,
            device: 1,
            to: 0,
        },
        // Yuki answers; LINE refuses it.
        Step::Send {
            user: 0,
            device: 0,
            text: 3,
        },
        Step::Outcome {
            send: 7,
            failed: true,
        },
    ]);
    let mut seen = Vec::new();
    for entry in &log {
        let mut changes = store.apply(std::slice::from_ref(entry)).await.unwrap();
        changes.live = true;
        let mut each = Vec::new();
        for me in &desks {
            let kinds: Vec<AlertKind> = store
                .alerts(&changes, me)
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.kind)
                .collect();
            each.push(kinds);
        }
        seen.push(each);
    }
    use AlertKind::*;
    assert_eq!(
        seen,
        vec![
            vec![vec![], vec![]],
            vec![vec![], vec![]],
            vec![vec![Waiting], vec![Waiting]],
            vec![vec![], vec![]],
            vec![vec![], vec![MyChat]],
            vec![vec![Transferred], vec![]],
            vec![vec![], vec![]],
            vec![vec![SendFailed], vec![]],
        ]
    );

    // The notice's words: the patient's name (if the desk has it) and what they wrote.
    let (fresh_store, _other) = fresh().await;
    let mut changes = fresh_store.apply(&log[..3]).await.unwrap();
    changes.live = true;
    let alerts = fresh_store.alerts(&changes, &desks[0]).await.unwrap();
    let (_, text) = fresh_store.alert_words(&alerts[0]).await.unwrap();
    assert_eq!(text.as_deref(), Some(TEXTS[1]));

    // Caught up on, the same log alerts nobody.
    let (caught_up, _third) = fresh().await;
    let changes = caught_up.apply(&log).await.unwrap();
    assert!(!changes.live && !changes.happened.is_empty());
    for me in &desks {
        assert_eq!(caught_up.alerts(&changes, me).await.unwrap(), vec![]);
    }
}

/// A follower sync's progress and a reminder's recipients are kept as the executor reports
/// them: the owner's screens read one row, and a cancel that comes too late is refused.
#[tokio::test]
async fn follower_syncs_and_reminders_are_kept_as_the_executor_reports_them() {
    use tsunagi_desk::outreach::{AudienceKind, RecipientState, SyncEnd};
    use tsunagi_proto::{
        Audience, EXECUTOR_DEVICE, RecipientOutcome, RecipientResult, Reminder, SyncOutcome,
        UnixMillis,
    };

    let (store, _dir) = fresh().await;
    let executor = |seq, op| log::op(seq, EXECUTOR_DEVICE, op);
    let (sync, reminder, late) = (OpId::new(), OpId::new(), OpId::new());
    let remind = |text: &str| {
        Operation::ScheduleReminder(Reminder {
            text: text.into(),
            date: Some("12/4".into()),
            time: None,
            clinic: None,
            at: UnixMillis(1_900_000_000_000),
            to: Audience::Tag { tag: "flu".into() },
        })
    };
    let users: Vec<UserId> = USERS.iter().map(|u| UserId::from(*u)).collect();
    let log = vec![
        log::op_with_id(1, DEVICES[0], sync, Operation::SyncFollowers),
        executor(
            2,
            Operation::FollowerSyncProgress {
                sync,
                done: 500,
                total: 2_000,
                skipped: Vec::new(),
            },
        ),
        log::op_with_id(
            3,
            DEVICES[0],
            reminder,
            remind("{{name}}, flu shots {{date}}"),
        ),
        log::op_with_id(4, DEVICES[0], late, remind("too late to call off")),
        executor(
            5,
            Operation::ReminderRecipients {
                reminder: late,
                recipients: users[..1].to_vec(),
            },
        ),
        executor(
            6,
            Operation::ReminderRecipients {
                reminder,
                recipients: users.clone(),
            },
        ),
        executor(
            7,
            Operation::ReminderDelivered {
                reminder,
                part: 0,
                results: vec![
                    RecipientResult {
                        user: users[0].clone(),
                        outcome: RecipientOutcome::Sent,
                    },
                    RecipientResult {
                        user: users[1].clone(),
                        outcome: RecipientOutcome::Blocked,
                    },
                    RecipientResult {
                        user: users[2].clone(),
                        outcome: RecipientOutcome::Failed {
                            reason: "You have reached your monthly limit.".into(),
                        },
                    },
                ],
            },
        ),
        log::op(8, DEVICES[1], Operation::CancelReminder { reminder: late }),
        executor(
            9,
            Operation::FollowerSyncDone {
                sync,
                outcome: SyncOutcome::Done { total: 1_990 },
            },
        ),
    ];

    let changes = store.apply(&log[..2]).await.unwrap();
    assert!(changes.followers);
    let running = store.follower_sync().await.unwrap().unwrap();
    assert_eq!(
        (running.done, running.total, running.outcome),
        (500, Some(2_000), None)
    );
    assert!(running.eta().is_some(), "a running sync tells its end");

    store.apply(&log[2..]).await.unwrap();
    let done = store.follower_sync().await.unwrap().unwrap();
    assert_eq!(
        (done.done, done.total, done.outcome),
        (1_990, Some(1_990), Some(SyncEnd::Done))
    );
    assert_eq!(done.eta(), None);

    let reminders = store.reminders(10).await.unwrap();
    assert_eq!(reminders.len(), 2);
    let flu = reminders
        .iter()
        .find(|r| r.id == reminder.to_string())
        .unwrap();
    assert_eq!(flu.audience, AudienceKind::Tag);
    assert_eq!(flu.target.as_deref(), Some("flu"));
    assert_eq!(
        (flu.recipients, flu.sent, flu.blocked, flu.failed),
        (3, 1, 1, 1)
    );
    let outcomes: Vec<(String, Option<RecipientState>, Option<String>)> = store
        .reminder_recipients(&reminder.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.user_id, r.outcome, r.reason))
        .collect();
    assert_eq!(
        outcomes,
        [
            (
                USERS[2].to_owned(),
                Some(RecipientState::Failed),
                Some("You have reached your monthly limit.".to_owned())
            ),
            (USERS[1].to_owned(), Some(RecipientState::Blocked), None),
            (USERS[0].to_owned(), Some(RecipientState::Sent), None),
        ]
    );

    let too_late = reminders.iter().find(|r| r.id == late.to_string()).unwrap();
    assert_eq!(too_late.cancelled_at, None, "it went out before the cancel");
    let cancel = store.audit(None, 20).await.unwrap();
    let cancel = cancel
        .iter()
        .find(|a| a.op_type == "cancel_reminder")
        .unwrap();
    assert_eq!(cancel.outcome, "rejected");
}

/// The follower list finds people by part of their name (a `%` in it taken as itself) and
/// exports what it shows as CSV a spreadsheet reads back.
#[tokio::test]
async fn contacts_are_found_by_name_and_exported_as_csv() {
    use tsunagi_desk::query::{ContactFilter, FriendStatus};
    use tsunagi_proto::{ContactProfile, EXECUTOR_DEVICE};

    let (store, _dir) = fresh().await;
    let names = ["田中 花子", "100% Somchai", "Lee, Mei"];
    let profiles = USERS
        .iter()
        .zip(names)
        .map(|(user, name)| ContactProfile {
            user_id: UserId::from(*user),
            display_name: name.into(),
            picture_url: None,
            status_message: None,
            language: Some("th".into()),
            follower: true,
        })
        .collect();
    let mut log: Vec<Entry> = USERS
        .iter()
        .enumerate()
        .map(|(i, user)| log::follow(i as u64 + 1, user, false))
        .collect();
    log.push(log::op(
        4,
        EXECUTOR_DEVICE,
        Operation::Profiles { profiles },
    ));
    log.push(log::op(
        5,
        DEVICES[0],
        Operation::Tag {
            contact: UserId::from(USERS[2]),
            tag: "flu".into(),
            added: true,
        },
    ));
    store.apply(&log).await.unwrap();

    let named = |name: &str| ContactFilter {
        name: Some(name.into()),
        ..ContactFilter::default()
    };
    let found = |filter: ContactFilter| {
        let store = store.clone();
        async move {
            let page = store.contacts(&filter, None, 50).await.unwrap();
            page.into_iter()
                .filter_map(|c| c.display_name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(found(named("%")).await, ["100% Somchai"]);
    assert_eq!(found(named("somchai")).await, ["100% Somchai"]);
    assert_eq!(found(named("花子")).await, ["田中 花子"]);
    assert_eq!(
        found(named("  ")).await.len(),
        3,
        "a blank search is no search"
    );
    let following = ContactFilter {
        friend_status: Some(FriendStatus::Following),
        tag: Some("flu".into()),
        ..ContactFilter::default()
    };
    assert_eq!(found(following.clone()).await, ["Lee, Mei"]);

    let mut out = Vec::new();
    let written = store
        .contacts_csv(&ContactFilter::default(), &mut out)
        .await
        .unwrap();
    assert_eq!(written, 3);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[1], "name");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let lee = rows.iter().find(|r| &r[0] == USERS[2]).unwrap();
    assert_eq!(
        (&lee[1], &lee[2], &lee[4]),
        ("Lee, Mei", "following", "flu")
    );
}

#[tokio::test]
async fn a_patients_name_or_tag_that_starts_a_formula_is_exported_as_text() {
    use tsunagi_desk::query::ContactFilter;
    use tsunagi_proto::ContactProfile;

    let (store, _dir) = fresh().await;
    let patient = UserId::from(USERS[0]);
    let mut log = entries(&[Step::Text { user: 0, text: 0 }]);
    log.push(log::op(
        2,
        tsunagi_proto::EXECUTOR_DEVICE,
        Operation::Profiles {
            profiles: vec![ContactProfile {
                user_id: patient.clone(),
                display_name: "=HYPERLINK(\"https://evil.example\",\"Open\")".into(),
                picture_url: None,
                status_message: None,
                language: None,
                follower: true,
            }],
        },
    ));
    log.push(log::op(
        3,
        DEVICES[0],
        Operation::Tag {
            contact: patient,
            tag: "@SUM(1+1)".into(),
            added: true,
        },
    ));
    store.apply(&log).await.unwrap();
    let mut out = Vec::new();
    store
        .contacts_csv(&ContactFilter::default(), &mut out)
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        (&row[1], &row[4]),
        (
            "'=HYPERLINK(\"https://evil.example\",\"Open\")",
            "'@SUM(1+1)"
        )
    );
}

/// The audit screen lists operators' actions (not the executor's reports), filtered by who,
/// what and outcome, and exports them as CSV.
#[tokio::test]
async fn the_audit_lists_operators_actions_by_who_what_and_outcome() {
    use tsunagi_desk::query::AuditFilter;
    use tsunagi_proto::{EXECUTOR_DEVICE, api::Role};

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Claim { user: 0, device: 0 },
    ]);
    log.push(log::op_by(
        3,
        DEVICES[1],
        Role::Staff,
        Operation::Close {
            conversation: chat.clone(),
        },
    ));
    log.push(log::op(
        4,
        EXECUTOR_DEVICE,
        Operation::NotSent {
            send: OpId::new(),
            reason: "LINE was down".into(),
        },
    ));
    store.apply(&log).await.unwrap();

    let kinds = |filter: AuditFilter| {
        let store = store.clone();
        async move {
            let page = store.audit_page(&filter, None, 50).await.unwrap();
            page.into_iter()
                .map(|a| (a.device, a.op_type, a.outcome))
                .collect::<Vec<_>>()
        }
    };
    let everything = kinds(AuditFilter::default()).await;
    assert!(
        everything
            .iter()
            .all(|(device, ..)| device != EXECUTOR_DEVICE),
        "{everything:?}"
    );
    assert!(everything.iter().any(|(_, kind, _)| kind == "claim"));
    let refused = AuditFilter {
        rejected_only: true,
        ..AuditFilter::default()
    };
    assert_eq!(
        kinds(refused.clone()).await,
        [(
            DEVICES[1].to_owned(),
            "close".to_owned(),
            "rejected".to_owned()
        )]
    );
    let yuki = AuditFilter {
        device: Some(DEVICES[0].into()),
        op_type: Some("claim".into()),
        ..AuditFilter::default()
    };
    assert_eq!(kinds(yuki).await.len(), 1);

    let mut out = Vec::new();
    assert_eq!(store.audit_csv(&refused, &mut out).await.unwrap(), 1);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!((&row[3], &row[5]), ("close", "rejected"));
    assert!(!row[6].is_empty(), "the reason it was refused");
}

#[tokio::test]
async fn a_red_flag_leads_the_queue_is_marked_while_open_and_is_on_the_record() {
    use tsunagi_desk::query::{AuditFilter, InboxList};
    use tsunagi_proto::{AlertReason, EXECUTOR_DEVICE};

    let (store, _dir) = fresh().await;
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Mode {
            user: 0,
            device: 0,
            human: true,
        },
        Step::Text { user: 1, text: 1 },
        Step::Mode {
            user: 1,
            device: 0,
            human: true,
        },
        Step::Text { user: 2, text: 2 },
        Step::Mode {
            user: 2,
            device: 0,
            human: true,
        },
    ]);
    // The last to join the queue wrote words of an emergency.
    let flagged = Operation::Alert {
        conversation: conversation(2),
        reason: AlertReason::RedFlag,
    };
    log.push(log::op(7, EXECUTOR_DEVICE, flagged));
    store.apply(&log).await.unwrap();
    let now = log::at(10);
    let queue = store
        .inbox(InboxList::Waiting, None, now, None, 50)
        .await
        .unwrap();
    let order: Vec<(ConversationId, Option<u32>, bool)> = queue
        .iter()
        .map(|q| {
            let urgent = q.session.as_ref().is_some_and(|s| s.urgent_at.is_some());
            (q.conversation.clone(), q.queue_position, urgent)
        })
        .collect();
    assert_eq!(
        order,
        [
            (conversation(2), Some(1), true),
            (conversation(0), Some(2), false),
            (conversation(1), Some(3), false),
        ]
    );
    // Pages keep that order.
    let rest = store
        .inbox(InboxList::Waiting, None, now, Some(queue[0].cursor), 1)
        .await
        .unwrap();
    assert_eq!(
        (rest[0].conversation.clone(), rest[0].queue_position),
        (conversation(0), Some(2))
    );
    // The audit names the case, though the executor logged it.
    let audit = store
        .audit_page(&AuditFilter::default(), None, 50)
        .await
        .unwrap();
    let cases: Vec<_> = audit
        .iter()
        .filter(|a| a.op_type == "red_flag")
        .map(|a| a.conversation.clone())
        .collect();
    assert_eq!(cases, [Some(conversation(2).to_string())]);
    // Taken and closed, the next session of the chat starts unmarked.
    store
        .apply(&entries_from(
            8,
            &[
                Step::Claim { user: 2, device: 0 },
                Step::Close { user: 2, device: 0 },
                Step::Text { user: 2, text: 3 },
                Step::Mode {
                    user: 2,
                    device: 0,
                    human: true,
                },
            ],
        ))
        .await
        .unwrap();
    let queue = store
        .inbox(InboxList::Waiting, None, now, None, 50)
        .await
        .unwrap();
    let last = queue.last().unwrap();
    assert_eq!(last.conversation, conversation(2));
    assert_eq!(last.session.as_ref().unwrap().urgent_at, None);
}

#[tokio::test]
async fn a_row_previews_the_patient_not_the_queue_line_and_needs_reply_lists_who_waits_longest() {
    use tsunagi_desk::query::{InboxList, Speaker};
    use tsunagi_proto::EXECUTOR_DEVICE;

    let bot_says = |seq: u64, user: usize, text: &str| {
        log::op(
            seq,
            EXECUTOR_DEVICE,
            Operation::Send(SendOp {
                conversation: conversation(user),
                messages: vec![Message::text(text)],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }),
        )
    };
    let (store, _dir) = fresh().await;
    let mut log = entries(&[Step::Text { user: 0, text: 0 }]);
    // The bot answers a chat that is its own: that is the clinic speaking.
    log.push(bot_says(2, 0, "Our hours are 9 to 6."));
    store.apply(&log).await.unwrap();
    let row = store.conversation(&conversation(0)).await.unwrap().unwrap();
    assert_eq!(
        (row.preview.as_deref(), row.speaker, row.awaiting_since),
        (Some("Our hours are 9 to 6."), Some(Speaker::Bot), None)
    );

    let mut log = entries_from(
        3,
        &[
            Step::Text { user: 0, text: 1 },
            Step::Mode {
                user: 0,
                device: 0,
                human: true,
            },
        ],
    );
    // In people's hands, the queue line is no answer: the patient's words stay.
    log.push(bot_says(5, 0, "You are number 1 in the queue."));
    log.extend(entries_from(
        6,
        &[
            Step::Text { user: 1, text: 2 },
            Step::Mode {
                user: 1,
                device: 0,
                human: true,
            },
            Step::Claim { user: 1, device: 0 },
            Step::Text { user: 2, text: 3 },
            Step::Mode {
                user: 2,
                device: 0,
                human: true,
            },
            Step::Claim { user: 2, device: 0 },
            Step::Send {
                user: 2,
                device: 0,
                text: 0,
            },
            Step::Image { user: 1 },
        ],
    ));
    store.apply(&log).await.unwrap();
    let row = |n: usize| {
        let store = &store;
        async move { store.conversation(&conversation(n)).await.unwrap().unwrap() }
    };
    let waiting = row(0).await;
    assert_eq!(
        (
            waiting.preview.as_deref(),
            waiting.speaker,
            waiting.awaiting_since
        ),
        (Some(TEXTS[1]), Some(Speaker::Patient), Some(log::at(3).0))
    );
    // A photo after their question: the preview says what it is; the wait runs on.
    let mine = row(1).await;
    assert_eq!(
        (mine.preview.as_deref(), mine.speaker, mine.awaiting_since),
        (Some("[image]"), Some(Speaker::Patient), Some(log::at(6).0))
    );
    // Answered: the answer, its writer, no wait.
    let answered = row(2).await;
    assert_eq!(
        (
            answered.preview.as_deref(),
            answered.speaker,
            answered.speaker_id.as_ref().map(OperatorId::as_str),
            answered.awaiting_since
        ),
        (Some(TEXTS[0]), Some(Speaker::Staff), Some(DEVICES[0]), None)
    );

    // Needs reply: the queue and my chats whose patient spoke last, longest wait first.
    let yuki = OperatorId::from(DEVICES[0]);
    let needs: Vec<(ConversationId, Option<u32>)> = store
        .inbox(InboxList::NeedsReply, Some(&yuki), log::at(20), None, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.conversation, i.queue_position))
        .collect();
    assert_eq!(needs, [(conversation(0), Some(1)), (conversation(1), None)]);
    // Somchai holds none of them: only the queue.
    let somchai = OperatorId::from(DEVICES[1]);
    let needs = store
        .inbox(InboxList::NeedsReply, Some(&somchai), log::at(20), None, 50)
        .await
        .unwrap();
    assert_eq!(needs.len(), 1);
    let counts = store.inbox_counts(Some(&yuki)).await.unwrap();
    assert_eq!(
        (
            counts.needs_reply,
            counts.unread_needs_reply,
            counts.unread_waiting,
            counts.unread_mine
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(
        store.inbox_counts(Some(&yuki)).await.unwrap(),
        store.inbox_counts_counted(Some(&yuki)).await.unwrap()
    );
}

#[tokio::test]
async fn the_clinics_own_fields_are_kept_shown_and_found_by_search() {
    use std::collections::BTreeMap;

    let (store, _dir) = fresh().await;
    let mut log = entries(&[Step::Text { user: 0, text: 0 }]);
    let fields = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>()
    };
    let set = |seq: u64, pairs: &[(&str, &str)]| {
        log::op(
            seq,
            DEVICES[0],
            Operation::ContactFields {
                contact: UserId::from(USERS[0]),
                fields: fields(pairs),
            },
        )
    };
    log.push(set(
        2,
        &[
            ("chart_number", "A-20931"),
            ("team_name", "Tanaka (back pain)"),
            ("phone", "090-1234-5678"),
        ],
    ));
    // A later edit clears one field and keeps the others.
    log.push(set(3, &[("phone", " ")]));
    // No such contact: refused, nothing kept.
    log.push(log::op(
        4,
        DEVICES[0],
        Operation::ContactFields {
            contact: UserId::from("U99999999999999999999999999999999"),
            fields: fields(&[("chart_number", "X")]),
        },
    ));
    store.apply(&log).await.unwrap();
    store.index_search().await.unwrap();

    let detail = store.contact(USERS[0]).await.unwrap().unwrap();
    assert_eq!(
        detail.fields,
        fields(&[
            ("chart_number", "A-20931"),
            ("team_name", "Tanaka (back pain)")
        ])
    );
    let row = store.conversation(&conversation(0)).await.unwrap().unwrap();
    assert_eq!(row.team_name.as_deref(), Some("Tanaka (back pain)"));
    // The chart number finds the patient, named as the team knows them.
    let hits = store.search("20931", 10).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].name.as_deref(), Some("Tanaka (back pain)"));
    assert!(
        hits[0].snippet.iter().any(|p| p.hit && p.text == "20931"),
        "{hits:?}"
    );
    // The cleared phone is no longer found.
    assert_eq!(store.search("090-1234", 10).await.unwrap().len(), 0);
    // Their messages' hits say whose chat they are.
    let hits = store.search(&TEXTS[0][..9], 10).await.unwrap();
    assert!(
        hits.iter()
            .any(|h| h.name.as_deref() == Some("Tanaka (back pain)")),
        "{hits:?}"
    );
    let audit = store.audit(None, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.op_type == "contact_fields" && a.outcome == "rejected")
    );
}

#[tokio::test]
async fn a_tag_narrows_every_list_keeps_the_queues_places_and_finds_the_patient() {
    use tsunagi_desk::query::InboxList;

    let (store, _dir) = fresh().await;
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Mode {
            user: 0,
            device: 0,
            human: true,
        },
        Step::Text { user: 1, text: 1 },
        Step::Mode {
            user: 1,
            device: 0,
            human: true,
        },
    ]);
    log.push(log::op(
        5,
        DEVICES[0],
        Operation::Tag {
            contact: UserId::from(USERS[1]),
            tag: "diabetes".into(),
            added: true,
        },
    ));
    store.apply(&log).await.unwrap();
    store.index_search().await.unwrap();
    let yuki = OperatorId::from(DEVICES[0]);
    for list in [InboxList::Waiting, InboxList::NeedsReply, InboxList::Active] {
        let tagged = store
            .inbox_tagged(list, Some("diabetes"), Some(&yuki), log::at(9), None, 50)
            .await
            .unwrap();
        let shown: Vec<(ConversationId, Option<u32>)> = tagged
            .into_iter()
            .map(|i| (i.conversation, i.queue_position))
            .collect();
        let expected = match list {
            // Second in the whole queue, though first in the narrowed list.
            InboxList::Waiting | InboxList::NeedsReply => vec![(conversation(1), Some(2))],
            _ => vec![],
        };
        assert_eq!(shown, expected, "{list:?}");
    }
    let hits = store.search("diabetes", 10).await.unwrap();
    assert_eq!(
        hits.iter()
            .map(|h| h.conversation.clone())
            .collect::<Vec<_>>(),
        [Some(conversation(1))]
    );
}

#[tokio::test]
async fn a_field_nobody_added_is_refused_and_a_rating_or_a_close_leaves_nobody_waiting() {
    use std::collections::BTreeMap;
    use tsunagi_proto::ContactField;

    let (store, _dir) = fresh().await;
    let field = |seq: u64, key: &str| {
        log::op(
            seq,
            DEVICES[1],
            Operation::ContactFields {
                contact: UserId::from(USERS[0]),
                fields: BTreeMap::from([(key.to_owned(), "yes".to_owned())]),
            },
        )
    };
    let mut log = entries(&[Step::Text { user: 0, text: 0 }]);
    log.push(field(2, "allergies"));
    log.push(log::op(
        3,
        DEVICES[0],
        Operation::Settings(Setting::ContactFields {
            fields: vec![ContactField {
                key: "allergies".into(),
                label: "Allergies".into(),
            }],
        }),
    ));
    log.push(field(4, "allergies"));
    // The chat is taken and closed with the patient's question unanswered; they rate it.
    log.extend(entries_from(
        5,
        &[
            Step::Mode {
                user: 0,
                device: 0,
                human: true,
            },
            Step::Claim { user: 0, device: 0 },
            Step::Close { user: 0, device: 0 },
        ],
    ));
    log.push(log::postback(8, USERS[0], "tsunagi:csat:5"));
    store.apply(&log).await.unwrap();
    let audit = store.audit(None, 20).await.unwrap();
    let outcomes: Vec<&str> = audit
        .iter()
        .filter(|a| a.op_type == "contact_fields")
        .map(|a| a.outcome.as_str())
        .collect();
    // Newest first: kept once the owners added the field, refused before.
    assert_eq!(outcomes, ["applied", "rejected"]);
    let detail = store.contact(USERS[0]).await.unwrap().unwrap();
    assert_eq!(
        detail.fields.get("allergies").map(String::as_str),
        Some("yes")
    );
    let row = store.conversation(&conversation(0)).await.unwrap().unwrap();
    assert_eq!(row.awaiting_since, None, "closed and rated: nobody waits");
    assert_eq!(row.preview.as_deref(), Some(TEXTS[0]));
}

#[tokio::test]
async fn a_reply_line_may_have_carried_out_shows_as_unconfirmed_not_failed() {
    use tsunagi_desk::query::{MessagesPage, SendStatus};

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let mut log = entries(&[
        Step::Text { user: 0, text: 0 },
        Step::Send {
            user: 0,
            device: 0,
            text: 3,
        },
    ]);
    let send = OpId(uuid::Uuid::from_u128(2));
    for (seq, op) in [
        (
            3,
            Operation::Unanswered {
                send,
                reason: "LINE answered 500: Internal server error".into(),
            },
        ),
        (
            4,
            Operation::SendFailed {
                send,
                reason: "LINE did not confirm the reply".into(),
                details: Vec::new(),
                unconfirmed: true,
                request_id: Some("7d9c1e2a-0000-4f00-8000-000000000001".into()),
            },
        ),
    ] {
        log.push(log::op(seq, tsunagi_proto::EXECUTOR_DEVICE, op));
    }
    store.apply(&log).await.unwrap();
    let messages = store
        .messages(&chat, MessagesPage::Newest, 50)
        .await
        .unwrap();
    let out = messages.iter().find(|m| m.direction.as_str() == "out");
    let out = out.expect("the send is shown");
    assert_eq!(out.send_status, Some(SendStatus::Unconfirmed));
    assert_eq!(
        out.failure.as_deref(),
        Some("LINE did not confirm the reply")
    );
    assert_eq!(
        out.line_request_id.as_deref(),
        Some("7d9c1e2a-0000-4f00-8000-000000000001")
    );
    let audit = store.audit(None, 10).await.unwrap();
    assert!(
        audit.iter().any(|a| a.op_type == "unanswered"),
        "{audit:#?}"
    );
}

#[tokio::test]
async fn an_event_this_version_cannot_read_is_seen_and_its_message_still_waits_for_an_answer() {
    use tsunagi_desk::query::{InboxList, MessagesPage};
    use tsunagi_proto::UnixMillis;

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    let handed_over = log::op(
        3,
        tsunagi_proto::EXECUTOR_DEVICE,
        Operation::SetMode {
            conversation: chat.clone(),
            mode: ConversationMode::Human,
        },
    );
    store
        .apply(&[
            log::unreadable_unsend(1, USERS[0]),
            log::unreadable_text(2, USERS[0], "M2"),
            handed_over,
        ])
        .await
        .unwrap();
    let shown: Vec<_> = store
        .messages(&chat, MessagesPage::Newest, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.direction.as_str(), m.message_type, m.text, m.supported))
        .collect();
    assert_eq!(
        shown[..2],
        [
            (
                "system",
                "unreadable".to_owned(),
                Some("unsend".to_owned()),
                false
            ),
            ("in", "unreadable".to_owned(), None, false),
        ]
    );
    let waiting = store
        .inbox(InboxList::Waiting, None, UnixMillis(0), None, 50)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].conversation, chat);
    assert_eq!(waiting[0].unread, 1);
}

#[tokio::test]
async fn staff_cannot_cancel_a_reminder_to_many_patients_and_the_audit_says_why() {
    use tsunagi_proto::api::Role;
    use tsunagi_proto::{Audience, Reminder, UnixMillis};

    let (store, _dir) = fresh().await;
    let reminder = OpId::new();
    let schedule = Operation::ScheduleReminder(Reminder {
        text: "Flu shots this week".into(),
        date: None,
        time: None,
        clinic: None,
        at: UnixMillis(1_900_000_000_000),
        to: Audience::Following,
    });
    let cancel = |seq, role| {
        log::op_by(
            seq,
            DEVICES[1],
            role,
            Operation::CancelReminder { reminder },
        )
    };
    store
        .apply(&[
            log::op_with_id(1, DEVICES[0], reminder, schedule),
            cancel(2, Role::Staff),
        ])
        .await
        .unwrap();
    let listed = store.reminders(10).await.unwrap();
    assert_eq!(listed[0].cancelled_at, None);
    let audit = store.audit(None, 10).await.unwrap();
    let refused = audit
        .iter()
        .find(|a| a.op_type == "cancel_reminder")
        .unwrap();
    assert_eq!(
        (refused.outcome.as_str(), refused.reason.as_deref()),
        (
            "rejected",
            Some("only an owner cancels a reminder to more than one patient")
        )
    );
    store.apply(&[cancel(3, Role::Owner)]).await.unwrap();
    assert!(store.reminders(10).await.unwrap()[0].cancelled_at.is_some());
}

#[tokio::test]
async fn what_a_patient_typed_on_a_sticker_picked_or_quoted_is_kept_previewed_and_found() {
    use tsunagi_desk::query::{Direction, MessagesPage, QuotedView, Speaker};

    let (store, _dir) = fresh().await;
    let chat = conversation(0);
    store
        .apply(&[
            log::text(1, USERS[0], "M1", "明日の予約を変更したいです"),
            log::message_sticker(2, USERS[0], "M2", "よろしくお願いします"),
        ])
        .await
        .unwrap();
    let row = store.conversation(&chat).await.unwrap().unwrap();
    assert_eq!(row.preview.as_deref(), Some("よろしくお願いします"));
    store.index_search().await.unwrap();
    let hits = store.search("お願い", 10).await.unwrap();
    assert_eq!(
        hits.iter().map(|h| h.seq).collect::<Vec<_>>(),
        [Some(2)],
        "the sticker's words are found"
    );

    store
        .apply(&[
            log::quoting(3, USERS[0], "M3", "やはり水曜日で", "M1"),
            log::picked(4, USERS[1], "action=book", "2026-09-03T15:30"),
        ])
        .await
        .unwrap();
    let messages = store
        .messages(&chat, MessagesPage::Newest, 50)
        .await
        .unwrap();
    assert_eq!(
        messages[2].quoted,
        Some(QuotedView {
            direction: Direction::In,
            author_name: None,
            message_type: "text".into(),
            text: Some("明日の予約を変更したいです".into()),
            unsent: false,
        })
    );
    assert_eq!(messages[0].quoted, None);

    // The date the patient picked is kept with the button's data, and the tap waits for
    // an answer like a message.
    let tapped = conversation(1);
    let picked = store
        .messages(&tapped, MessagesPage::Newest, 50)
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&picked[0].body).unwrap();
    assert_eq!(
        (picked[0].message_type.as_str(), picked[0].text.as_deref()),
        ("postback", Some("action=book"))
    );
    assert_eq!(body["params"]["datetime"], "2026-09-03T15:30");
    let row = store.conversation(&tapped).await.unwrap().unwrap();
    assert_eq!(row.speaker, Some(Speaker::Patient));
    assert_eq!(row.awaiting_since, Some(log::at(4).0));
}

#[tokio::test]
async fn members_joining_and_leaving_a_group_are_rows_under_their_names() {
    use tsunagi_desk::query::MessagesPage;
    use tsunagi_proto::{ContactProfile, EXECUTOR_DEVICE};

    const GROUP: &str = "Cf0a1b2c3d4e5f60718293a4b5c6d7e8f";
    let (store, _dir) = fresh().await;
    let members = |seq: u64, kind: &str, field: &str| {
        let users: Vec<_> = USERS[..2]
            .iter()
            .map(|u| serde_json::json!({"type": "user", "userId": u}))
            .collect();
        log::line(
            seq,
            serde_json::json!({
                "type": kind, "mode": "active", "timestamp": log::at(seq).0,
                "webhookEventId": format!("01M{seq}"), "deliveryContext": {"isRedelivery": false},
                "source": {"type": "group", "groupId": GROUP},
                field: {"members": users},
            }),
        )
    };
    let named = log::op(
        3,
        EXECUTOR_DEVICE,
        Operation::Profiles {
            profiles: vec![ContactProfile {
                user_id: UserId::new(USERS[0]),
                display_name: "Mali".into(),
                picture_url: None,
                status_message: None,
                language: Some("th".into()),
                follower: false,
            }],
        },
    );
    store
        .apply(&[
            members(1, "memberJoined", "joined"),
            members(2, "memberLeft", "left"),
            named,
        ])
        .await
        .unwrap();
    let rows: Vec<_> = store
        .messages(&ConversationId::from(GROUP), MessagesPage::Newest, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.direction.as_str(), m.author_name, m.text))
        .collect();
    let row =
        |name: Option<&str>, note: &str| ("system", name.map(str::to_owned), Some(note.to_owned()));
    assert_eq!(
        rows,
        [
            row(Some("Mali"), "joined the chat"),
            row(None, "joined the chat"),
            row(Some("Mali"), "left the chat"),
            row(None, "left the chat"),
        ]
    );
    let group = store
        .conversation(&ConversationId::from(GROUP))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(group.unread, 0, "nobody wrote");
}
