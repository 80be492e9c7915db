//! Desks syncing with a real relay: they converge, survive being killed mid-batch, and
//! keep what was made offline.

use std::future::Future;
use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_desk::Store;
use tsunagi_desk::relay::RelayClient;
use tsunagi_desk::sync::{Sync, SyncOptions};
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::{
    ConversationId, EntryBody, Greetings, Operation, OperatorId, SendOp, Seq, Setting, UnixMillis,
};
use tsunagi_relay::http::Options;
use url::Url;

use tsunagi_proto::api::Role;

use crate::{CHANNEL, Network, Proxy, TestRelay, client_at, url_of};

const PATIENTS: [&str; 2] = [
    "U4af4980629a1b2c3d4e5f60718293a4b",
    "U5bf5a91730b2c3d4e5f60718293a4b5c",
];

/// A desk: its own store, syncing through `url`.
struct Desk {
    sync: Sync,
    operator: OperatorId,
    _dir: tempfile::TempDir,
}

impl Desk {
    async fn new(relay: &TestRelay, url: &Url, operator: &str, options: SyncOptions) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("desk.db")).await.unwrap();
        // Owners: the settings race below is theirs to run.
        let enrolled = relay.enroll(operator, Role::Owner).await;
        let client = RelayClient::new(
            url.clone(),
            tsunagi_desk::relay::DeviceToken::new(enrolled.token),
        )
        .unwrap();
        Desk {
            sync: Sync::new(store, client, ChannelId::from(CHANNEL), options),
            operator: OperatorId::from(enrolled.device_id.as_str()),
            _dir: dir,
        }
    }

    fn store(&self) -> &Store {
        self.sync.store()
    }

    /// Syncs in the background until the handle is aborted.
    fn run(&self) -> tokio::task::JoinHandle<()> {
        let sync = self.sync.clone();
        tokio::spawn(async move {
            let _ = sync.run(std::future::pending()).await;
        })
    }

    async fn submit(&self, op: Operation) {
        self.sync.submit(&op, UnixMillis(0)).await.unwrap();
    }
}

fn quick() -> SyncOptions {
    SyncOptions {
        dead_after: Duration::from_secs(2),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..SyncOptions::default()
    }
}

fn send(to: &str, text: &str) -> Operation {
    Operation::Send(SendOp {
        conversation: ConversationId::from(to),
        messages: vec![Message::text(text)],
        retry_key: RetryKey::new(),
        prefer_reply_token: true,
    })
}

async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn caught_up(relay: &TestRelay, store: &Store) -> bool {
    store.pending().await.unwrap().is_empty() && store.cursor().await.unwrap() == relay.head().await
}

#[tokio::test]
async fn two_desks_end_in_identical_stores_and_both_see_the_losing_claim_rejected() {
    let relay = TestRelay::start(Options::default()).await;
    for (i, patient) in PATIENTS.iter().enumerate() {
        relay
            .patient_says(patient, &format!("M{i}"), "ขอเลื่อนนัดค่ะ")
            .await;
    }
    let yuki = Desk::new(&relay, &url_of(&relay), "Yuki", quick()).await;
    let somchai = Desk::new(&relay, &url_of(&relay), "Somchai", quick()).await;
    let running = [yuki.run(), somchai.run()];

    // Both reach for the same waiting patient at once, and both answer the other one.
    let chat = ConversationId::from(PATIENTS[0]);
    tokio::join!(
        yuki.submit(Operation::Claim {
            conversation: chat.clone()
        }),
        somchai.submit(Operation::Claim {
            conversation: chat.clone()
        }),
        yuki.submit(send(PATIENTS[1], "明日10時でいかがですか")),
        somchai.submit(send(PATIENTS[1], "พรุ่งนี้ 10 โมงได้ไหมคะ")),
        yuki.submit(Operation::Settings(Setting::Greetings(Greetings {
            follow: Some("ようこそ".into()),
            ..Greetings::default()
        }))),
        somchai.submit(Operation::Settings(Setting::Greetings(Greetings {
            follow: Some("ยินดีต้อนรับค่ะ".into()),
            ..Greetings::default()
        }))),
    );
    relay.patient_says(PATIENTS[0], "M9", "ありがとう").await;
    until("both desks to catch up", || async {
        caught_up(&relay, yuki.store()).await && caught_up(&relay, somchai.store()).await
    })
    .await;
    for task in running {
        task.abort();
    }

    assert_eq!(
        yuki.store().fingerprint().await.unwrap(),
        somchai.store().fingerprint().await.unwrap()
    );
    for desk in [&yuki, &somchai] {
        let audit = desk.store().audit(Some(&chat), 50).await.unwrap();
        let mut claims: Vec<&str> = audit
            .iter()
            .filter(|a| a.op_type == "claim")
            .map(|a| a.outcome.as_str())
            .collect();
        claims.sort_unstable();
        assert_eq!(claims, ["applied", "rejected"]);
        let rejected = audit.iter().find(|a| a.outcome == "rejected").unwrap();
        assert!(
            rejected
                .reason
                .as_deref()
                .unwrap()
                .ends_with("already has this conversation")
        );
        // Names come from the relay's operator list.
        assert!(audit.iter().all(|a| a.operator_name.is_some()), "{audit:?}");
    }
    let holder = yuki
        .store()
        .conversation(&chat)
        .await
        .unwrap()
        .unwrap()
        .session
        .unwrap()
        .operator
        .unwrap();
    assert!(holder == yuki.operator || holder == somchai.operator);
}

#[tokio::test]
async fn killing_the_sync_mid_batch_again_and_again_loses_and_duplicates_nothing() {
    let relay = TestRelay::start(Options::default()).await;
    let options = SyncOptions {
        batch: 7,
        ..quick()
    };
    let desk = Desk::new(&relay, &url_of(&relay), "Yuki", options).await;
    let writer = client_at(&relay, &url_of(&relay)).await;
    let load = tokio::spawn(async move {
        for i in 0..150 {
            crate::note(&writer, &format!("note {i}")).await;
        }
    });
    for (i, patient) in PATIENTS.iter().cycle().take(150).enumerate() {
        relay
            .patient_says(patient, &format!("K{i}"), &format!("ข้อความ {i}"))
            .await;
        if i % 15 == 0 {
            // Killed wherever it is: between batches, inside one, in a reconnect.
            let task = desk.run();
            tokio::time::sleep(Duration::from_millis(3 + (i as u64 % 7))).await;
            task.abort();
            let _ = task.await;
        }
    }
    load.await.unwrap();
    let task = desk.run();
    until("the desk to catch up", || caught_up(&relay, desk.store())).await;
    task.abort();

    // A store replaying the whole log from scratch is the same store.
    let replay_dir = tempfile::tempdir().unwrap();
    let replay = Store::open(&replay_dir.path().join("desk.db"))
        .await
        .unwrap();
    let mut after = Seq(0);
    loop {
        let entries = relay.read(after, 1000).await;
        if entries.is_empty() {
            break;
        }
        after = entries.last().unwrap().seq;
        replay.apply(&entries).await.unwrap();
    }
    assert_eq!(after, relay.head().await);
    assert!(after.0 >= 300, "{after}");
    // The operator directory is this desk's own, not the log's: only the projection counts.
    assert_eq!(
        desk.store().fingerprint().await.unwrap(),
        replay.fingerprint().await.unwrap()
    );
}

#[tokio::test]
async fn ops_made_while_the_relay_is_out_of_reach_reach_it_in_order_once_when_it_returns() {
    let relay = TestRelay::start(Options::default()).await;
    relay
        .patient_says(PATIENTS[0], "M1", "予約できますか")
        .await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let desk = Desk::new(&relay, &proxy.url, "Yuki", quick()).await;
    let task = desk.run();
    until("the first message", || caught_up(&relay, desk.store())).await;

    proxy.set(Network::Down);
    let chat = ConversationId::from(PATIENTS[0]);
    let texts = [
        "はい、できます",
        "何時がよろしいですか",
        "10時はいかがですか",
    ];
    desk.submit(Operation::Claim {
        conversation: chat.clone(),
    })
    .await;
    for text in texts {
        desk.submit(send(PATIENTS[0], text)).await;
    }
    desk.submit(Operation::Tag {
        contact: UserId::from(PATIENTS[0]),
        tag: "new patient".into(),
        added: true,
    })
    .await;
    until("the outbox to try and say why it waits", || async {
        let waiting = desk.store().pending().await.unwrap();
        waiting.first().is_some_and(|op| op.last_error.is_some())
    })
    .await;
    let waiting = desk.store().pending().await.unwrap();
    assert_eq!(waiting.len(), 5, "{waiting:?}");
    assert!(
        waiting[0].last_error.is_some(),
        "the outbox tried and says why it waits"
    );
    assert_eq!(relay.head().await, Seq(1));

    proxy.set(Network::Up);
    until("the outbox to empty", || caught_up(&relay, desk.store())).await;
    task.abort();

    let entries = relay.read(Seq(0), 100).await;
    let ops: Vec<Operation> = entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Op { op, .. } => op.known().cloned(),
            EntryBody::Line { .. } => None,
        })
        .collect();
    assert_eq!(ops.len(), 5, "each op once");
    assert_eq!(
        ops[0],
        Operation::Claim {
            conversation: chat.clone()
        }
    );
    let sent: Vec<String> = ops[1..4]
        .iter()
        .map(|op| match op {
            Operation::Send(send) => serde_json::to_value(&send.messages[0]).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sent, texts, "in the order they were made");
    let audit = desk.store().audit(Some(&chat), 10).await.unwrap();
    assert!(audit.iter().all(|a| a.outcome == "applied"), "{audit:?}");
}

#[tokio::test]
async fn an_op_whose_answer_was_lost_is_logged_once_when_the_desk_sends_it_again() {
    let relay = TestRelay::start(Options::default()).await;
    let desk = Desk::new(&relay, &url_of(&relay), "Yuki", quick()).await;
    let op = Operation::Note {
        contact: UserId::from(PATIENTS[0]),
        text: "allergic to penicillin".into(),
    };
    let op_id = desk.store().enqueue(&op, UnixMillis(0)).await.unwrap();
    // The relay got it from this desk, but its answer never came back.
    let first = desk
        .sync
        .client()
        .append(&ChannelId::from(CHANNEL), op_id, &op)
        .await
        .unwrap();

    assert_eq!(desk.sync.push().await.unwrap(), 1);
    assert!(desk.store().pending().await.unwrap().is_empty());
    assert_eq!(relay.head().await, first, "logged once");
}

#[tokio::test]
async fn an_operator_who_enrolls_later_is_named_once_their_op_arrives() {
    let relay = TestRelay::start(Options::default()).await;
    relay
        .patient_says(PATIENTS[0], "M1", "予約できますか")
        .await;
    let yuki = Desk::new(&relay, &url_of(&relay), "Yuki", quick()).await;
    let task = yuki.run();
    until("the first message", || caught_up(&relay, yuki.store())).await;

    let mali = Desk::new(&relay, &url_of(&relay), "Mali", quick()).await;
    mali.sync.pull().await.unwrap();
    mali.sync
        .submit_and_wait(
            &Operation::Claim {
                conversation: ConversationId::from(PATIENTS[0]),
            },
            UnixMillis(0),
        )
        .await
        .unwrap();
    until("Yuki's desk to catch up", || {
        caught_up(&relay, yuki.store())
    })
    .await;
    task.abort();
    let audit = yuki.store().audit(None, 10).await.unwrap();
    assert_eq!(audit[0].operator_name.as_deref(), Some("Mali"), "{audit:?}");
}

#[tokio::test]
async fn what_a_desk_queued_while_away_about_a_patient_erased_meanwhile_never_reaches_the_log() {
    let relay = TestRelay::start(Options::default()).await;
    relay
        .patient_says(PATIENTS[0], "M1", "my results came back")
        .await;
    relay.patient_says(PATIENTS[1], "M2", "hello").await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let desk = Desk::new(&relay, &proxy.url, "Yuki", quick()).await;
    let task = desk.run();
    until("the first messages", || caught_up(&relay, desk.store())).await;

    // Away: a note about each patient waits in the outbox.
    proxy.set(Network::Down);
    for (patient, text) in [
        (PATIENTS[0], "penguin-note-2291"),
        (PATIENTS[1], "kept note"),
    ] {
        desk.submit(Operation::Note {
            contact: UserId::from(patient),
            text: text.into(),
        })
        .await;
    }
    until("the outbox to try and say why it waits", || async {
        let waiting = desk.store().pending().await.unwrap();
        waiting.first().is_some_and(|op| op.last_error.is_some())
    })
    .await;
    // Meanwhile another owner erases the first patient.
    let owner = client_at(&relay, &url_of(&relay)).await;
    let erase = Operation::Erase {
        contact: UserId::from(PATIENTS[0]),
    };
    owner
        .append(
            &ChannelId::from(CHANNEL),
            tsunagi_proto::OpId::new(),
            &erase,
        )
        .await
        .unwrap();

    proxy.set(Network::Up);
    until("the outbox to empty", || caught_up(&relay, desk.store())).await;
    task.abort();
    let log = serde_json::to_string(&relay.read(Seq(0), 100).await).unwrap();
    assert!(!log.contains("penguin-note-2291"), "{log}");
    assert!(
        log.contains("kept note"),
        "the other patient's note went: {log}"
    );
}
