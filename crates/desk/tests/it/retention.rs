//! The night's purge on a desk: a desk that applies it ends as one that read the relay's
//! purged log from the start, and a held patient's data stays.

use pretty_assertions::assert_eq;
use tsunagi_desk::Store;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, MessageId, UserId};
use tsunagi_proto::testing as log;
use tsunagi_proto::{
    ConversationId, Delivery, EXECUTOR_DEVICE, Entry, MediaOutcome, OpId, Operation, Retention,
    SendOp, Seq, UnixMillis,
};
use tsunagi_relay::http::Options;
use tsunagi_relay::store::{LogStore as _, NewEntry};

use crate::{CHANNEL, TestRelay};

const ANA: &str = "U0123456789abcdef0123456789abcdef";
const BEN: &str = "Ufedcba9876543210fedcba9876543210";
const DAY: i64 = 86_400_000;

fn on_day(mut entry: Entry, day: i64) -> Entry {
    entry.at = UnixMillis(log::START + day * DAY);
    entry
}

async fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&dir.path().join(name)).await.unwrap()
}

async fn texts(store: &Store, user: &str) -> Vec<String> {
    let chat = ConversationId::from(user);
    let page = store
        .messages(&chat, tsunagi_desk::query::MessagesPage::Newest, 50)
        .await
        .unwrap();
    page.into_iter().filter_map(|m| m.text).collect()
}

#[tokio::test]
async fn a_desk_purges_as_the_relay_does_and_keeps_a_held_patients_data() {
    let relay = TestRelay::start(Options::default()).await;
    let channel = ChannelId::from(CHANNEL);
    let reply = Operation::Send(SendOp {
        conversation: ConversationId::from(ANA),
        messages: vec![Message::text("see you on Monday")],
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    });
    let old = [
        log::text(1, ANA, "M1", "ana on day one"),
        log::text(2, BEN, "M2", "ben on day one"),
        log::image(3, ANA, "M3"),
        log::op(
            4,
            EXECUTOR_DEVICE,
            Operation::Media {
                message: MessageId::new("M3"),
                outcome: MediaOutcome::Stored {
                    content_type: "image/jpeg".into(),
                    size: 3,
                    preview: true,
                },
            },
        ),
        log::op(5, "d-yuki", reply),
        log::op(
            6,
            EXECUTOR_DEVICE,
            Operation::Sent {
                send: OpId(uuid::Uuid::from_u128(5)),
                via: Delivery::Reply,
                message_ids: vec![MessageId::new("M6")],
            },
        ),
        log::op(
            7,
            "d-yuki",
            Operation::Export {
                contact: UserId::new(ANA),
            },
        ),
    ];
    let mut entries: Vec<Entry> = old.into_iter().map(|e| on_day(e, 1)).collect();
    entries.push(on_day(log::text(8, ANA, "M8", "ana on day sixty"), 60));
    entries.push(on_day(
        log::op(
            9,
            "d-owner",
            Operation::Hold {
                contact: UserId::new(BEN),
                held: true,
                reason: "a complaint".into(),
            },
        ),
        60,
    ));
    let copies: Vec<NewEntry> = entries
        .iter()
        .map(|e| NewEntry::copy_of(e).unwrap())
        .collect();
    relay.relay.store.append(&channel, copies).await.unwrap();
    let before_purge = relay.relay.store.read(&channel, Seq(0), 100).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let live = open(&dir, "live.db").await;
    live.apply(&before_purge).await.unwrap();
    // What tonight's purge would remove, counted before: Ana's three messages of day one
    // (her text, her photo, the reply) and the export's record.
    let retention = Retention {
        messages_days: Some(30),
        audit_days: Some(30),
        ..Retention::default()
    };
    let night = UnixMillis(log::START + 61 * DAY);
    let preview = live.retention_preview(&retention, night).await.unwrap();
    assert_eq!(
        (preview.messages, preview.audit, preview.held),
        (Some(3), Some(1), 1)
    );

    // The night's purge, as the executor logs it.
    let purge = Operation::Expire {
        before: retention.cutoffs(night),
        held: vec![UserId::new(BEN)],
    };
    let mut purge = log::op(10, EXECUTOR_DEVICE, purge);
    purge.at = night;
    relay
        .relay
        .store
        .append(&channel, vec![NewEntry::copy_of(&purge).unwrap()])
        .await
        .unwrap();
    let after = relay.relay.store.read(&channel, Seq(9), 100).await.unwrap();
    live.apply(&after).await.unwrap();

    assert_eq!(texts(&live, ANA).await, ["ana on day sixty"]);
    assert_eq!(texts(&live, BEN).await, ["ben on day one"]);
    // A desk that reads the purged log from the start is the same desk.
    let fresh = open(&dir, "fresh.db").await;
    let whole = relay.relay.store.read(&channel, Seq(0), 100).await.unwrap();
    fresh.apply(&whole).await.unwrap();
    // (But for when each contact and chat was first seen, and so the order of the
    // contacts' rows: the log no longer holds the words that first showed them.)
    assert_eq!(
        first_seen_aside(&live.fingerprint().await.unwrap()),
        first_seen_aside(&fresh.fingerprint().await.unwrap())
    );
}

/// A store's fingerprint without its contacts' rows and the chats' first times.
fn first_seen_aside(print: &str) -> String {
    let mut kept = Vec::new();
    let mut in_contacts = false;
    for line in print.lines() {
        if !line.contains('=') {
            in_contacts = line == "contacts" || line == "contacts_grams";
        } else if in_contacts {
            continue;
        }
        let line: Vec<&str> = (line.split(' '))
            .filter(|column| !column.starts_with("created_at="))
            .collect();
        kept.push(line.join(" "));
    }
    kept.join("\n")
}
