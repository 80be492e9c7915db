//! What every [`LogStore`] must do, as checks any backend's tests run through
//! [`conformance_suite!`](crate::conformance_suite).
//!
//! Each check gets two handles on one fresh store: `one` and `other`. For a backend that
//! several relay processes share (PostgreSQL), `other` is opened separately, as another
//! process would; for one that a single process holds (SQLite), it is a clone of `one`.
//! So every check that involves two appenders, a writer and a follower, or two executors
//! also checks what holds across processes.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::value::RawValue;
use tsunagi_line::{ChannelId, MessageId, UserId, WebhookEventId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{DeviceId, EntryBody, OpId, Operation, Seq, UnixMillis};

use crate::secret::{ChannelSecret, RelayKey};
use crate::store::{
    Appended, Fence, Invite, InviteProblem, LogStore, MessageLink, NewBody, NewDevice, NewEntry,
    StoreError,
};

/// The channel every check has; [`fresh`] adds it.
pub const CHANNEL: &str = "1000000001";
const OTHER_CHANNEL: &str = "1000000002";
const BOT: &str = "Ubot";

/// Generates one `#[tokio::test]` per check, each on a fresh store from `$open`: an async
/// fn returning `(keep, one, other)`, where `keep` holds whatever must live as long as the
/// store (its directory, its server).
#[macro_export]
macro_rules! conformance_suite {
    ($open:path) => {
        $crate::conformance_suite!(@checks $open;
            seqs_have_no_gaps_under_concurrent_appenders,
            a_webhook_event_is_logged_once_forever,
            an_op_is_logged_once_per_key_in_its_channel,
            an_unsent_message_loses_its_content_whichever_comes_first,
            a_lapsed_lease_fences_the_old_executor_out,
            the_executor_cursor_only_moves_forward_under_the_lease,
            an_enrollment_code_works_once_and_not_after_it_expires,
            codes_die_with_their_maker_and_a_new_setup_code_voids_the_old,
            a_commit_wakes_those_following_the_head,
            an_unknown_channel_fails_alone,
            channels_secrets_and_devices_are_kept,
            credentials_are_kept_sealed_per_channel,
        );
    };
    (@checks $open:path; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $check() {
                let (_keep, one, other) = $open().await;
                $crate::testing::conformance::fresh(&one).await;
                $crate::testing::conformance::$check(&one, &other).await;
            }
        )*
    };
}

/// A channel's credentials: replaced, removed, apart from another channel's, and refused
/// for a channel that does not exist.
pub async fn credentials_are_kept_sealed_per_channel<S: LogStore + Clone>(one: &S, other: &S) {
    let key = RelayKey::generate();
    let first = key.seal_text("sk-first");
    let second = key.seal_text("sk-second");
    let (c, d) = (channel(), ChannelId::from(OTHER_CHANNEL));
    assert_eq!(other.credential(&c, "ai_key").await, Ok(None));
    one.set_credential(&c, "ai_key", Some(&first), UnixMillis(1))
        .await
        .expect("kept");
    one.set_credential(&c, "ai_key", Some(&second), UnixMillis(2))
        .await
        .expect("replaced");
    one.set_credential(&d, "ai_key", Some(&first), UnixMillis(3))
        .await
        .expect("kept");
    let stored = other.credential(&c, "ai_key").await.expect("read");
    assert_eq!(stored.as_ref(), Some(&second));
    assert_eq!(key.open_text(&second).expect("opens"), "sk-second");
    assert_eq!(other.credential(&c, "telegram_token").await, Ok(None));
    one.set_credential(&c, "ai_key", None, UnixMillis(4))
        .await
        .expect("removed");
    assert_eq!(other.credential(&c, "ai_key").await, Ok(None));
    assert_eq!(
        other.credential(&d, "ai_key").await,
        Ok(Some(first.clone()))
    );
    let nope = ChannelId::from("nope");
    assert_eq!(
        one.set_credential(&nope, "ai_key", Some(&first), UnixMillis(5))
            .await,
        Err(StoreError::UnknownChannel(nope))
    );
}

/// Adds the checks' channels to a new store.
pub async fn fresh<S: LogStore>(store: &S) {
    let key = RelayKey::generate();
    for channel in [CHANNEL, OTHER_CHANNEL] {
        store
            .add_channel(
                &ChannelId::from(channel),
                &key.seal(&ChannelSecret::new("s")),
                UnixMillis(1),
            )
            .await
            .expect("a channel is added");
    }
}

fn channel() -> ChannelId {
    ChannelId::from(CHANNEL)
}

/// A LINE event with webhook event id `id`, carrying message `message` if given.
fn event(id: &str, message: Option<&str>) -> NewEntry {
    let json = match message {
        Some(m) => format!(
            r#"{{"type":"message","webhookEventId":"{id}","message":{{"type":"text","id":"{m}","text":"secret {m}"}}}}"#
        ),
        None => format!(r#"{{"type":"follow","webhookEventId":"{id}"}}"#),
    };
    NewEntry {
        at: UnixMillis(10),
        body: NewBody::Line {
            destination: UserId::from(BOT),
            webhook_event_id: Some(WebhookEventId::from(id)),
            event: RawValue::from_string(json).expect("JSON"),
            link: message.map_or(MessageLink::None, |m| {
                MessageLink::Carries(MessageId::from(m))
            }),
        },
    }
}

fn unsend(id: &str, message: &str) -> NewEntry {
    NewEntry {
        at: UnixMillis(11),
        body: NewBody::Line {
            destination: UserId::from(BOT),
            webhook_event_id: Some(WebhookEventId::from(id)),
            event: RawValue::from_string(format!(
                r#"{{"type":"unsend","webhookEventId":"{id}","unsend":{{"messageId":"{message}"}}}}"#
            ))
            .expect("JSON"),
            link: MessageLink::Unsends(MessageId::from(message)),
        },
    }
}

fn op(key: u128) -> NewEntry {
    NewEntry {
        at: UnixMillis(12),
        body: NewBody::Op {
            op_id: OpId(uuid::Uuid::from_u128(key)),
            device: DeviceId::from("desk"),
            role: Some(Role::Staff),
            op: RawValue::from_string(
                serde_json::to_string(&Operation::SyncFollowers).expect("an op"),
            )
            .expect("JSON"),
        },
    }
}

fn seqs(appended: &[Appended]) -> Vec<u64> {
    appended.iter().map(|a| a.seq().0).collect()
}

async fn whole_log<S: LogStore>(store: &S, channel: &ChannelId) -> Vec<tsunagi_proto::Entry> {
    let mut all = Vec::new();
    loop {
        let after = all
            .last()
            .map_or(Seq::ZERO, |e: &tsunagi_proto::Entry| e.seq);
        let page = store.read(channel, after, 500).await.expect("the log");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Appenders on both handles at once: every seq is taken once, in order, none skipped,
/// and each request's entries are consecutive.
pub async fn seqs_have_no_gaps_under_concurrent_appenders<S: LogStore + Clone>(one: &S, other: &S) {
    let appenders = 8;
    let requests = 30;
    let mut tasks = Vec::new();
    for a in 0..appenders {
        let store = if a % 2 == 0 {
            one.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let mut taken = Vec::new();
            for r in 0..requests {
                let entries: Vec<NewEntry> = (0..=(r % 3))
                    .map(|e| event(&format!("a{a}r{r}e{e}"), None))
                    .collect();
                let appended = store.append(&channel(), entries).await.expect("appended");
                let seqs = seqs(&appended);
                assert!(
                    appended.iter().all(|a| matches!(a, Appended::New(_))),
                    "{appended:?}"
                );
                assert!(
                    seqs.windows(2).all(|w| w[1] == w[0] + 1),
                    "a request's entries are not consecutive: {seqs:?}"
                );
                taken.extend(seqs);
            }
            taken
        }));
    }
    let mut taken = BTreeSet::new();
    let mut count = 0;
    for task in tasks {
        for seq in task.await.expect("an appender") {
            count += 1;
            assert!(taken.insert(seq), "seq {seq} was given twice");
        }
    }
    let expected: BTreeSet<u64> = (1..=count).collect();
    assert_eq!(taken, expected, "the seqs have gaps");
    let log = whole_log(other, &channel()).await;
    assert_eq!(
        log.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        (1..=count).collect::<Vec<_>>()
    );
    assert_eq!(one.head(&channel()).await.expect("head"), Seq(count));
    assert_eq!(other.head(&channel()).await.expect("head"), Seq(count));
}

/// However often LINE delivers an event, to whichever process, it is logged once: later,
/// within one request, and by both handles at the same moment.
pub async fn a_webhook_event_is_logged_once_forever<S: LogStore + Clone>(one: &S, other: &S) {
    let first = one
        .append(&channel(), vec![event("W1", Some("M1"))])
        .await
        .expect("appended");
    assert_eq!(first, vec![Appended::New(Seq(1))]);
    let filler: Vec<NewEntry> = (0..300).map(|i| event(&format!("F{i}"), None)).collect();
    one.append(&channel(), filler).await.expect("appended");
    let again = other
        .append(
            &channel(),
            vec![
                event("W1", Some("M1")),
                event("W2", None),
                event("W2", None),
            ],
        )
        .await
        .expect("appended");
    assert_eq!(
        again,
        vec![
            Appended::Existing(Seq(1)),
            Appended::New(Seq(302)),
            Appended::Existing(Seq(302))
        ]
    );
    // The same new event, from ten requests on both handles at once.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = if i % 2 == 0 {
            one.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            store.append(&channel(), vec![event("W3", None)]).await
        }));
    }
    let mut new = 0;
    for task in tasks {
        let appended = task.await.expect("a task").expect("appended");
        assert_eq!(appended[0].seq(), Seq(303));
        new += usize::from(matches!(appended[0], Appended::New(_)));
    }
    assert_eq!(new, 1, "the event was written more than once");
    assert_eq!(one.head(&channel()).await.expect("head"), Seq(303));
    // Another channel is another log: the same id is new there.
    let elsewhere = other
        .append(&ChannelId::from(OTHER_CHANNEL), vec![event("W1", None)])
        .await
        .expect("appended");
    assert_eq!(elsewhere, vec![Appended::New(Seq(1))]);
}

/// An op's idempotency key is used once in its channel, by any handle.
pub async fn an_op_is_logged_once_per_key_in_its_channel<S: LogStore + Clone>(one: &S, other: &S) {
    assert_eq!(
        one.append(&channel(), vec![op(1), op(2)])
            .await
            .expect("appended"),
        vec![Appended::New(Seq(1)), Appended::New(Seq(2))]
    );
    assert_eq!(
        other
            .append(&channel(), vec![op(2), op(3), op(1)])
            .await
            .expect("appended"),
        vec![
            Appended::Existing(Seq(2)),
            Appended::New(Seq(3)),
            Appended::Existing(Seq(1))
        ]
    );
    assert_eq!(
        other
            .append(&ChannelId::from(OTHER_CHANNEL), vec![op(1)])
            .await
            .expect("appended"),
        vec![Appended::New(Seq(1))]
    );
    let log = whole_log(one, &channel()).await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| matches!(e.body, EntryBody::Op { .. })));
}

/// An unsend removes the content of the message it names, whether the message was logged
/// before it or arrives after it (LINE delivers out of order), through either handle.
pub async fn an_unsent_message_loses_its_content_whichever_comes_first<S: LogStore + Clone>(
    one: &S,
    other: &S,
) {
    let text_of = |entry: &tsunagi_proto::Entry| match &entry.body {
        EntryBody::Line { event, .. } => event.get().to_owned(),
        EntryBody::Op { .. } => String::new(),
    };
    // Before: the message, then its unsend through the other handle.
    one.append(
        &channel(),
        vec![event("W1", Some("M1")), event("W2", Some("M2"))],
    )
    .await
    .expect("appended");
    other
        .append(&channel(), vec![unsend("W3", "M1")])
        .await
        .expect("appended");
    // After: the unsend, then the message (and a redelivery of it) through the other.
    other
        .append(&channel(), vec![unsend("W4", "M5")])
        .await
        .expect("appended");
    one.append(&channel(), vec![event("W5", Some("M5"))])
        .await
        .expect("appended");
    // Both in one request: the message after its unsend.
    one.append(
        &channel(),
        vec![unsend("W6", "M6"), event("W7", Some("M6"))],
    )
    .await
    .expect("appended");
    let log = whole_log(one, &channel()).await;
    let texts: Vec<String> = log.iter().map(text_of).collect();
    assert_eq!(log.len(), 7, "every entry keeps its place: {texts:?}");
    for (seq, message) in [(1, "M1"), (5, "M5"), (7, "M6")] {
        let text = &texts[seq - 1];
        assert!(
            !text.contains("secret"),
            "seq {seq} kept its content: {text}"
        );
        assert!(text.contains(r#""type":"unsent""#), "{text}");
        assert!(
            text.contains(message),
            "the tombstone names its message: {text}"
        );
    }
    assert!(
        texts[1].contains("secret M2"),
        "another message lost its content"
    );
}

/// The lease passes to another executor only once it lapses, and from then on the old
/// holder's fenced appends and snapshots write nothing.
pub async fn a_lapsed_lease_fences_the_old_executor_out<S: LogStore + Clone>(one: &S, other: &S) {
    let ch = channel();
    let fence = |holder: &str, now| Fence {
        holder: holder.into(),
        now: UnixMillis(now),
    };
    assert!(
        one.lease_executor(&ch, "a", UnixMillis(100), UnixMillis(200))
            .await
            .expect("lease")
    );
    assert!(
        !other
            .lease_executor(&ch, "b", UnixMillis(150), UnixMillis(250))
            .await
            .expect("lease"),
        "the lease was taken while held"
    );
    assert_eq!(
        one.append_fenced(&ch, fence("a", 150), vec![op(1)])
            .await
            .expect("appended"),
        vec![Appended::New(Seq(1))]
    );
    assert!(
        one.move_executor_cursor(&ch, "a", Seq(1), UnixMillis(150))
            .await
            .expect("cursor")
    );
    one.save_executor_snapshot(&ch, fence("a", 150), Seq(1), b"state a".to_vec())
        .await
        .expect("a snapshot");
    // It lapses; b takes it.
    assert!(
        other
            .lease_executor(&ch, "b", UnixMillis(200), UnixMillis(300))
            .await
            .expect("lease")
    );
    assert_eq!(
        one.append_fenced(&ch, fence("a", 150), vec![op(2)]).await,
        Err(StoreError::LeaseLost(ch.clone())),
        "a lost lease still appended"
    );
    assert_eq!(
        one.save_executor_snapshot(&ch, fence("a", 150), Seq(1), b"late".to_vec())
            .await,
        Err(StoreError::LeaseLost(ch.clone()))
    );
    assert_eq!(
        one.head(&ch).await.expect("head"),
        Seq(1),
        "nothing of it was written"
    );
    assert_eq!(
        other
            .append_fenced(&ch, fence("b", 210), vec![op(2)])
            .await
            .expect("appended"),
        vec![Appended::New(Seq(2))]
    );
    assert_eq!(
        one.executor_snapshot(&ch).await.expect("snapshot"),
        Some((Seq(1), b"state a".to_vec()))
    );
    // Released, it is free at once.
    other.release_executor(&ch, "b").await.expect("released");
    assert!(
        one.lease_executor(&ch, "a", UnixMillis(220), UnixMillis(320))
            .await
            .expect("lease")
    );
    // Several at once, in one write: only those free or already held are taken.
    let elsewhere = ChannelId::from(OTHER_CHANNEL);
    assert!(
        other
            .lease_executor(&ch, "b", UnixMillis(400), UnixMillis(500))
            .await
            .expect("lease")
    );
    let mut held = one
        .lease_executors(
            &[ch.clone(), elsewhere.clone(), ChannelId::from("nope")],
            "a",
            UnixMillis(400),
            UnixMillis(600),
        )
        .await
        .expect("leases");
    held.sort();
    assert_eq!(held, vec![elsewhere.clone()], "b's lease was taken");
    one.release_executor(&elsewhere, "a")
        .await
        .expect("released");
    // The fence binds per channel: the other channel's lease is nobody's now.
    assert_eq!(
        one.append_fenced(&elsewhere, fence("a", 220), vec![op(3)])
            .await,
        Err(StoreError::LeaseLost(elsewhere.clone()))
    );
}

/// The cursor moves only while the lease is held, and never back.
pub async fn the_executor_cursor_only_moves_forward_under_the_lease<S: LogStore + Clone>(
    one: &S,
    other: &S,
) {
    let ch = channel();
    assert_eq!(
        one.executor_cursor(&ch).await.expect("cursor"),
        Some(Seq::ZERO)
    );
    assert_eq!(
        one.executor_cursor(&ChannelId::from("nope"))
            .await
            .expect("cursor"),
        None
    );
    assert!(
        !one.move_executor_cursor(&ch, "a", Seq(5), UnixMillis(10))
            .await
            .expect("cursor"),
        "moved without the lease"
    );
    assert!(
        one.lease_executor(&ch, "a", UnixMillis(10), UnixMillis(100))
            .await
            .expect("lease")
    );
    assert!(
        one.move_executor_cursor(&ch, "a", Seq(5), UnixMillis(20))
            .await
            .expect("cursor")
    );
    assert!(
        one.move_executor_cursor(&ch, "a", Seq(3), UnixMillis(20))
            .await
            .expect("cursor")
    );
    assert_eq!(
        other.executor_cursor(&ch).await.expect("cursor"),
        Some(Seq(5))
    );
    // A snapshot may not run ahead of the cursor.
    assert_eq!(
        one.save_executor_snapshot(
            &ch,
            Fence {
                holder: "a".into(),
                now: UnixMillis(20)
            },
            Seq(6),
            vec![1]
        )
        .await,
        Err(StoreError::LeaseLost(ch.clone()))
    );
    assert!(
        !one.move_executor_cursor(&ch, "a", Seq(9), UnixMillis(100))
            .await
            .expect("cursor"),
        "moved after the lease lapsed"
    );
    assert_eq!(
        other.executor_cursor(&ch).await.expect("cursor"),
        Some(Seq(5))
    );
}

/// A code enrolls one device, once, before it expires; of two devices using it at the
/// same moment, one gets in.
pub async fn an_enrollment_code_works_once_and_not_after_it_expires<S: LogStore + Clone>(
    one: &S,
    other: &S,
) {
    let invite = |code: &[u8], channel: Option<&str>, role, expires_at| Invite {
        id: String::from_utf8_lossy(code).into_owned(),
        created_by: None,
        code_hash: code.to_vec(),
        channel: channel.map(ChannelId::from),
        role,
        created_at: UnixMillis(1),
        expires_at: UnixMillis(expires_at),
    };
    let device = |id: &str| NewDevice {
        id: DeviceId::from(id),
        device_name: format!("{id}'s PC"),
        operator_name: id.into(),
        token_hash: vec![7; 32],
    };
    one.create_invite(&invite(b"c1", Some(CHANNEL), Role::Staff, 1_000))
        .await
        .expect("an invite");
    let enrolled = other
        .enroll(b"c1", device("d1"), UnixMillis(500))
        .await
        .expect("enrolled");
    assert_eq!(enrolled.channel, Some(channel()));
    assert_eq!(enrolled.role, Role::Staff);
    assert_eq!(
        one.enroll(b"c1", device("d2"), UnixMillis(501)).await,
        Err(StoreError::Invite(InviteProblem::Used))
    );
    assert_eq!(
        one.enroll(b"nope", device("d2"), UnixMillis(501)).await,
        Err(StoreError::Invite(InviteProblem::Unknown))
    );
    one.create_invite(&invite(b"c2", Some(CHANNEL), Role::Owner, 1_000))
        .await
        .expect("an invite");
    assert_eq!(
        one.enroll(b"c2", device("d2"), UnixMillis(1_000)).await,
        Err(StoreError::Invite(InviteProblem::Expired))
    );
    assert_eq!(
        one.create_invite(&invite(b"c3", Some("nope"), Role::Staff, 1_000))
            .await,
        Err(StoreError::UnknownChannel(ChannelId::from("nope")))
    );
    // Two at once, through both handles.
    one.create_invite(&invite(b"race", None, Role::Owner, 1_000))
        .await
        .expect("an invite");
    let (a, b) = tokio::join!(
        one.enroll(b"race", device("r1"), UnixMillis(10)),
        other.enroll(b"race", device("r2"), UnixMillis(10))
    );
    let winners = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{a:?} {b:?}");
    assert!(
        [&a, &b]
            .iter()
            .any(|r| **r == Err(StoreError::Invite(InviteProblem::Used))),
        "{a:?} {b:?}"
    );
    assert!(one.has_relay_owner().await.expect("owners"));
    let devices = other.devices(&channel()).await.expect("devices");
    assert_eq!(devices.len(), 2, "{devices:?}");
}

/// An owner's codes stop working when the owner is revoked, or when withdrawn; a new
/// setup code leaves only itself working. What still works is listed, per channel.
pub async fn codes_die_with_their_maker_and_a_new_setup_code_voids_the_old<S: LogStore + Clone>(
    one: &S,
    other: &S,
) {
    let device = |id: &str| NewDevice {
        id: DeviceId::from(id),
        device_name: format!("{id}'s PC"),
        operator_name: id.into(),
        token_hash: vec![7; 32],
    };
    let invite = |id: &str, channel: Option<&str>, by: Option<&str>, at: i64| Invite {
        id: id.into(),
        code_hash: id.as_bytes().to_vec(),
        channel: channel.map(ChannelId::from),
        role: if channel.is_some() {
            Role::Staff
        } else {
            Role::Owner
        },
        created_by: by.map(DeviceId::from),
        created_at: UnixMillis(at),
        expires_at: UnixMillis(at + 1_000),
    };
    // Two setup codes: the newer one is the only one that works.
    one.create_invite(&invite("setup-1", None, None, 1))
        .await
        .expect("a code");
    other
        .create_invite(&invite("setup-2", None, None, 2))
        .await
        .expect("a code");
    assert_eq!(
        one.enroll(b"setup-1", device("o0"), UnixMillis(3)).await,
        Err(StoreError::Invite(InviteProblem::Withdrawn))
    );
    let owner = other
        .enroll(b"setup-2", device("o1"), UnixMillis(3))
        .await
        .expect("enrolled");
    // The owner hands out three codes; one is withdrawn, one used.
    for id in ["a", "b", "c"] {
        one.create_invite(&invite(id, Some(CHANNEL), Some("o1"), 10))
            .await
            .expect("a code");
    }
    assert!(
        other
            .withdraw_invite(&channel(), "b", UnixMillis(11))
            .await
            .expect("withdrawn")
    );
    assert!(
        !one.withdraw_invite(&ChannelId::from(OTHER_CHANNEL), "c", UnixMillis(11))
            .await
            .expect("not another channel's"),
        "a code is withdrawn only through its own channel"
    );
    one.enroll(b"c", device("s1"), UnixMillis(12))
        .await
        .expect("enrolled");
    let listed: Vec<String> = other
        .invites(&channel(), UnixMillis(12))
        .await
        .expect("listed")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, ["a"]);
    assert_eq!(
        one.enroll(b"b", device("s2"), UnixMillis(12)).await,
        Err(StoreError::Invite(InviteProblem::Withdrawn))
    );
    // The owner is shut out: the code it handed out dies with it.
    assert!(
        other
            .revoke_device(&owner.id, UnixMillis(13))
            .await
            .expect("revoked")
    );
    assert_eq!(
        one.enroll(b"a", device("s3"), UnixMillis(14)).await,
        Err(StoreError::Invite(InviteProblem::Withdrawn))
    );
    assert!(
        one.invites(&channel(), UnixMillis(14))
            .await
            .expect("listed")
            .is_empty()
    );
}

/// A follower of a channel's head wakes when entries are committed, by its own handle or
/// the other, and not for another channel.
pub async fn a_commit_wakes_those_following_the_head<S: LogStore + Clone>(one: &S, other: &S) {
    let mut head = one.subscribe(&channel());
    let mut elsewhere = one.subscribe(&ChannelId::from(OTHER_CHANNEL));
    // Followers subscribe before they read, and their watch may start anywhere up to the
    // head; what matters is that it reaches every new head.
    other
        .append(&channel(), vec![event("W1", None), event("W2", None)])
        .await
        .expect("appended");
    let woke = tokio::time::timeout(Duration::from_secs(5), head.wait_for(|h| *h >= Seq(2)))
        .await
        .is_ok();
    assert!(
        woke,
        "a commit by the other handle did not wake the follower"
    );
    one.append(&channel(), vec![event("W3", None)])
        .await
        .expect("appended");
    let woke = tokio::time::timeout(Duration::from_secs(5), head.wait_for(|h| *h >= Seq(3)))
        .await
        .is_ok();
    assert!(woke, "a commit by its own handle did not wake the follower");
    assert_eq!(*elsewhere.borrow_and_update(), Seq::ZERO);
    assert!(!elsewhere.has_changed().expect("a watch"));
}

/// An append to a channel that does not exist fails with nothing written, and does not
/// fail the others committed with it.
pub async fn an_unknown_channel_fails_alone<S: LogStore + Clone>(one: &S, other: &S) {
    let nope = ChannelId::from("nope");
    let ours = channel();
    let (bad, good) = tokio::join!(
        one.append(&nope, vec![event("W1", None)]),
        other.append(&ours, vec![event("W2", None)])
    );
    assert_eq!(bad, Err(StoreError::UnknownChannel(nope.clone())));
    assert_eq!(good, Ok(vec![Appended::New(Seq(1))]));
    assert_eq!(
        one.head(&nope).await,
        Err(StoreError::UnknownChannel(nope.clone()))
    );
    assert!(
        one.read(&nope, Seq::ZERO, 10)
            .await
            .expect("a read")
            .is_empty()
    );
}

/// Channels with their sealed secrets, and devices with their revocation and last call.
pub async fn channels_secrets_and_devices_are_kept<S: LogStore + Clone>(one: &S, other: &S) {
    let key = RelayKey::generate();
    let sealed = key.seal(&ChannelSecret::new("first"));
    assert_eq!(
        one.add_channel(&channel(), &sealed, UnixMillis(5)).await,
        Err(StoreError::ChannelExists(channel()))
    );
    let channels = other.channels().await.expect("channels");
    assert_eq!(
        channels.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [CHANNEL, OTHER_CHANNEL]
    );
    let replaced = key.seal(&ChannelSecret::new("second"));
    one.replace_channel_secret(&channel(), &replaced)
        .await
        .expect("replaced");
    let stored = other.channel_secret(&channel()).await.expect("a secret");
    assert_eq!(stored.as_ref(), Some(&replaced));
    assert_eq!(
        key.open(&stored.expect("a secret"))
            .expect("it opens")
            .expose(),
        "second"
    );
    assert_eq!(
        one.replace_channel_secret(&ChannelId::from("nope"), &replaced)
            .await,
        Err(StoreError::UnknownChannel(ChannelId::from("nope")))
    );
    assert_eq!(one.channel_secret(&ChannelId::from("nope")).await, Ok(None));

    assert!(!one.has_relay_owner().await.expect("owners"));
    one.create_invite(&Invite {
        id: "owner".into(),
        created_by: None,
        code_hash: b"owner".to_vec(),
        channel: None,
        role: Role::Owner,
        created_at: UnixMillis(1),
        expires_at: UnixMillis(100),
    })
    .await
    .expect("an invite");
    let owner = one
        .enroll(
            b"owner",
            NewDevice {
                id: DeviceId::from("o1"),
                device_name: "Mac".into(),
                operator_name: "Aiko".into(),
                token_hash: vec![1; 32],
            },
            UnixMillis(2),
        )
        .await
        .expect("enrolled");
    assert!(other.has_relay_owner().await.expect("owners"));
    one.seen(&owner.id, UnixMillis(60_000)).await.expect("seen");
    let stored = other
        .device(&owner.id)
        .await
        .expect("a device")
        .expect("it exists");
    assert_eq!(stored.last_seen_at, Some(UnixMillis(60_000)));
    assert_eq!(stored.operator_name, "Aiko");
    assert_eq!(stored.token_hash, vec![1; 32]);
    assert!(
        one.revoke_device(&owner.id, UnixMillis(70_000))
            .await
            .expect("revoked")
    );
    assert!(
        one.revoke_device(&owner.id, UnixMillis(80_000))
            .await
            .expect("revoked")
    );
    let stored = other
        .device(&owner.id)
        .await
        .expect("a device")
        .expect("it exists");
    assert_eq!(
        stored.revoked_at,
        Some(UnixMillis(70_000)),
        "a revoke keeps its first time"
    );
    assert!(!other.has_relay_owner().await.expect("owners"));
    assert!(
        !one.revoke_device(&DeviceId::from("nope"), UnixMillis(1))
            .await
            .expect("a revoke")
    );
    assert_eq!(other.device(&DeviceId::from("nope")).await, Ok(None));
}
