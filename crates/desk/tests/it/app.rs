//! What the app asks of the desk: joining and leaving, the connection bar, read marks,
//! who did what to a chat, the contact panel, and ops it can retry or take back.

use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_desk::credentials::{Kept, Vault};
use tsunagi_desk::detail::{FriendEvent, HandoffAction};
use tsunagi_desk::profile::{self, JoinError, JoinRequest, Profile};
use tsunagi_desk::query::InboxList;
use tsunagi_desk::relay_url::Problem;
use tsunagi_desk::sync::{Connection, SyncOptions, SyncStatus};
use tsunagi_proto::api::Role;
use tsunagi_proto::{ConversationId, Operation, OperatorId, UnixMillis};
use tsunagi_relay::http::Options;

use crate::{Network, Proxy, TestRelay, url_of};

const PATIENT: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

fn quick() -> SyncOptions {
    SyncOptions {
        dead_after: Duration::from_secs(2),
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        ..SyncOptions::default()
    }
}

fn vault(dir: &std::path::Path) -> Vault {
    Vault::new("app.tsunagi.test", dir).without_keyring()
}

fn request(relay: &str, code: &str) -> JoinRequest {
    JoinRequest {
        relay: relay.into(),
        code: code.into(),
        operator_name: "Aiko".into(),
        device_name: "Front desk".into(),
        channel: None,
    }
}

/// A desk joined to `relay` (reached at `url`) as Aiko, staff, and opened: its data
/// directory, its profile and the opened desk.
async fn joined_desk(
    relay: &TestRelay,
    url: &str,
    options: SyncOptions,
) -> (tempfile::TempDir, Profile, profile::Joined) {
    joined_as(relay, url, Role::Staff, options).await
}

async fn joined_as(
    relay: &TestRelay,
    url: &str,
    role: Role,
    options: SyncOptions,
) -> (tempfile::TempDir, Profile, profile::Joined) {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(dir.path());
    let code = relay.invite(role).await;
    let (me, _) = profile::join(dir.path(), &vault, &request(url, &code))
        .await
        .unwrap();
    let joined = profile::open(dir.path(), &vault, options)
        .await
        .unwrap()
        .unwrap();
    (dir, me, joined)
}

async fn status_until(
    status: &mut tokio::sync::watch::Receiver<SyncStatus>,
    what: &str,
    wanted: impl Fn(&SyncStatus) -> bool,
) -> SyncStatus {
    let waited = tokio::time::timeout(Duration::from_secs(30), status.wait_for(|s| wanted(s)))
        .await
        .map(|found| found.map(|s| s.clone()));
    match waited {
        Ok(found) => found.unwrap(),
        Err(_) => panic!("timed out waiting for {what}: {:?}", *status.borrow()),
    }
}

#[tokio::test]
async fn joining_says_which_code_problem_it_was_and_keeps_nothing_behind_a_failure() {
    let relay = TestRelay::start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = vault(dir.path());

    let refused = |request: JoinRequest| {
        let vault = vault.clone();
        let dir = dir.path().to_owned();
        async move { profile::join(&dir, &vault, &request).await.unwrap_err() }
    };
    assert_eq!(
        refused(request("relay.example.com", "K7QM-3XPD-9WTA")).await,
        JoinError::Address(Problem::NotAnAddress {
            input: "relay.example.com".into()
        })
    );
    assert_eq!(
        refused(request(&relay.url, "K7QM-3XPD-9WTA")).await,
        JoinError::UnknownCode
    );
    let expired = relay.expired_invite(Role::Staff).await;
    assert_eq!(
        refused(request(&relay.url, &expired)).await,
        JoinError::ExpiredCode
    );
    let withdrawn = relay.invite_as(Role::Staff).await;
    tsunagi_relay::store::LogStore::withdraw_invite(
        &relay.relay.store,
        &tsunagi_line::ChannelId::from(tsunagi_relay::testing::CHANNEL),
        &withdrawn.id,
        UnixMillis::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        refused(request(&relay.url, &withdrawn.code)).await,
        JoinError::WithdrawnCode
    );
    let dead = format!(
        "http://127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let code = relay.invite(Role::Staff).await;
    assert!(matches!(
        refused(request(&dead, &code)).await,
        JoinError::Unreachable(_)
    ));
    assert_eq!(Profile::load(dir.path()).unwrap(), None, "nothing was kept");

    let (profile, kept) = profile::join(dir.path(), &vault, &request(&relay.url, &code))
        .await
        .unwrap();
    assert!(matches!(kept, Kept::File(_)));
    assert_eq!(profile.operator, "Aiko");
    assert_eq!(profile.role, Role::Staff);
    assert_eq!(Profile::load(dir.path()).unwrap(), Some(profile.clone()));
    let on_disk = std::fs::read_to_string(dir.path().join("profile.json")).unwrap();
    assert!(
        !on_disk.contains("tsd_"),
        "no token in the profile: {on_disk}"
    );

    let other = tempfile::tempdir().unwrap();
    assert_eq!(
        profile::join(other.path(), &vault, &request(&relay.url, &code))
            .await
            .unwrap_err(),
        JoinError::UsedCode
    );

    // A keyring that is required and absent is a clear refusal, and leaves no profile.
    let keyring_only = Vault::new("app.tsunagi.test", other.path()).keyring_only();
    let fresh = relay.invite(Role::Staff).await;
    match profile::join(other.path(), &keyring_only, &request(&relay.url, &fresh)).await {
        Err(JoinError::NoKeyring(_)) => {
            assert_eq!(Profile::load(other.path()).unwrap(), None);
        }
        // A machine with a working keyring takes it; then the profile is whole, and
        // leaving takes the token out of the keyring again.
        Ok((_, kept)) => {
            assert_eq!(kept, Kept::Keyring);
            profile::leave(other.path(), &keyring_only).unwrap();
        }
        Err(other) => panic!("{other:?}"),
    }

    // Leaving forgets the token, the profile and the local store.
    let joined = profile::open(dir.path(), &vault, quick())
        .await
        .unwrap()
        .unwrap();
    joined.sync.pull().await.unwrap();
    drop(joined);
    profile::leave(dir.path(), &vault).unwrap();
    assert_eq!(Profile::load(dir.path()).unwrap(), None);
    assert_eq!(vault.load(&profile.account()).unwrap(), None);
    assert!(!dir.path().join("desk.db").exists());
    assert!(
        profile::open(dir.path(), &vault, quick())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_connection_bar_sees_catching_up_online_offline_with_waiting_actions_and_back() {
    let relay = TestRelay::start(Options::default()).await;
    for i in 0..30 {
        relay
            .patient_says(PATIENT, &format!("M{i}"), &format!("ข้อความ {i}"))
            .await;
    }
    let proxy = Proxy::start(&url_of(&relay)).await;
    let options = SyncOptions {
        batch: 5,
        ..quick()
    };
    let (_dir, _, joined) = joined_desk(&relay, proxy.url.as_str(), options).await;
    let sync = joined.sync.clone();
    let mut notices = sync.subscribe();
    let mut status = sync.status();
    assert_eq!(status.borrow().connection, Connection::Connecting);
    let mut seen = Vec::new();
    let mut watcher = sync.status();
    let watching = tokio::spawn(async move {
        while watcher.changed().await.is_ok() {
            let connection = watcher.borrow().connection.clone();
            seen.push(connection);
            if seen.last() == Some(&Connection::Online) {
                return seen;
            }
        }
        seen
    });
    let running = {
        let sync = sync.clone();
        tokio::spawn(async move { sync.run(std::future::pending()).await })
    };
    let seen = watching.await.unwrap();
    assert!(
        seen.iter().any(|c| matches!(
            c,
            Connection::CatchingUp { applied, head: 30 } if *applied < 30
        )),
        "catching up was shown with progress: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&Connection::Online));
    status_until(&mut status, "the whole log", |_| true).await;
    assert_eq!(sync.store().cursor().await.unwrap().0, 30);
    // What was caught up on is old news; what arrives now is live.
    while let Ok(caught_up) = notices.try_recv() {
        assert!(
            !caught_up.live,
            "entry {} came while catching up",
            caught_up.cursor
        );
    }
    relay.patient_says(PATIENT, "M30", "ยังอยู่ไหมคะ").await;
    let now = tokio::time::timeout(Duration::from_secs(10), notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(now.live);

    // The relay goes out of reach; a claim waits, and the bar says so.
    proxy.set(Network::Down);
    let offline = status_until(&mut status, "offline", |s| {
        s.connection == Connection::Offline
    })
    .await;
    assert_eq!(offline.waiting, 0);
    sync.submit(
        &Operation::Claim {
            conversation: ConversationId::from(PATIENT),
        },
        UnixMillis(0),
    )
    .await
    .unwrap();
    status_until(&mut status, "one action waiting", |s| s.waiting == 1).await;

    proxy.set(Network::Up);
    status_until(&mut status, "online with nothing waiting", |s| {
        s.connection == Connection::Online && s.waiting == 0
    })
    .await;
    running.abort();
}

#[tokio::test]
async fn read_marks_handoffs_and_the_contact_panel_come_from_the_store() {
    let relay = TestRelay::start(Options::default()).await;
    relay.patient_says(PATIENT, "M1", "予約したいです").await;
    relay
        .patient_says(PATIENT, "M2", "明日は空いていますか")
        .await;
    let yuki = relay.enroll("Yuki", Role::Staff).await;
    let (_dir, me, joined) = joined_desk(&relay, &relay.url, quick()).await;
    let sync = &joined.sync;
    let chat = ConversationId::from(PATIENT);
    let yuki_client = tsunagi_desk::relay::RelayClient::new(
        url_of(&relay),
        tsunagi_desk::relay::DeviceToken::new(yuki.token),
    )
    .unwrap();
    let channel = tsunagi_line::ChannelId::from(crate::CHANNEL);
    let yuki_does = |op: Operation| {
        let client = yuki_client.clone();
        let channel = channel.clone();
        async move {
            client
                .append(&channel, tsunagi_proto::OpId::new(), &op)
                .await
                .unwrap();
        }
    };
    yuki_does(Operation::SetMode {
        conversation: chat.clone(),
        mode: tsunagi_proto::ConversationMode::Human,
    })
    .await;
    yuki_does(Operation::Claim {
        conversation: chat.clone(),
    })
    .await;
    sync.refresh_operators().await.unwrap();
    sync.pull().await.unwrap();
    let store = sync.store();

    // Before this desk opens the chat, its unread count is the team's.
    let row = |list| {
        let me = me.me();
        async move {
            store
                .inbox(list, Some(&me), UnixMillis(0), None, 50)
                .await
                .unwrap()
        }
    };
    let team = row(InboxList::Team).await;
    assert_eq!(team.len(), 1, "Yuki holds it: it is in Team");
    assert_eq!(
        team[0].session.as_ref().unwrap().operator_name.as_deref(),
        Some("Yuki")
    );
    assert_eq!(team[0].unread, 2);
    assert!(row(InboxList::Mine).await.is_empty());
    store.mark_read(&chat).await.unwrap();
    assert_eq!(row(InboxList::Team).await[0].unread, 0);
    relay
        .patient_says(PATIENT, "M3", "よろしくお願いします")
        .await;
    sync.pull().await.unwrap();
    assert_eq!(
        row(InboxList::Team).await[0].unread,
        1,
        "only what came after"
    );
    let counts = store.inbox_counts(Some(&me.me())).await.unwrap();
    assert_eq!((counts.team, counts.mine), (1, 0));

    // This desk's claim loses: the chat says who has it.
    sync.submit_and_wait(
        &Operation::Claim {
            conversation: chat.clone(),
        },
        UnixMillis(0),
    )
    .await
    .unwrap();
    yuki_does(Operation::Transfer {
        conversation: chat.clone(),
        to: me.me(),
    })
    .await;
    sync.pull().await.unwrap();
    let handoffs = store.handoffs(&chat).await.unwrap();
    let summary: Vec<_> = handoffs
        .iter()
        .map(|h| {
            (
                h.action,
                h.by_name.as_deref(),
                h.to_name.as_deref(),
                h.applied,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (HandoffAction::ToPeople, Some("Yuki"), None, true),
            (HandoffAction::Claimed, Some("Yuki"), None, true),
            (HandoffAction::Claimed, Some("Aiko"), None, false),
            (HandoffAction::Transferred, Some("Yuki"), Some("Aiko"), true),
        ]
    );
    assert_eq!(row(InboxList::Mine).await.len(), 1);
    let operators = store.operators().await.unwrap();
    let names: Vec<_> = operators.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["Aiko", "Yuki"]);
    assert!(
        operators
            .iter()
            .any(|o| o.id == OperatorId::from(&me.device_id))
    );

    // The contact panel: tags, notes with their author, the friend history.
    let user = tsunagi_line::UserId::from(PATIENT);
    for op in [
        Operation::Tag {
            contact: user.clone(),
            tag: "予約".into(),
            added: true,
        },
        Operation::Note {
            contact: user.clone(),
            text: "Prefers mornings".into(),
        },
    ] {
        sync.submit_and_wait(&op, UnixMillis(0)).await.unwrap();
    }
    let contact = store.contact(PATIENT).await.unwrap().unwrap();
    assert_eq!(contact.tags, vec!["予約".to_owned()]);
    assert_eq!(contact.notes.len(), 1);
    assert_eq!(contact.notes[0].author_name.as_deref(), Some("Aiko"));
    assert!(
        contact
            .friend_history
            .iter()
            .all(|f| f.event != FriendEvent::Blocked)
    );
    assert_eq!(
        store
            .contact("Uffffffffffffffffffffffffffffffff")
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn an_action_waiting_offline_is_listed_with_its_chat_and_can_be_taken_back() {
    let relay = TestRelay::start(Options::default()).await;
    relay.patient_says(PATIENT, "M1", "สวัสดีค่ะ").await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let (_dir, _, joined) = joined_desk(&relay, proxy.url.as_str(), quick()).await;
    let sync = &joined.sync;
    sync.pull().await.unwrap();
    let chat = ConversationId::from(PATIENT);
    proxy.set(Network::Down);
    let op_id = sync
        .submit(
            &Operation::Claim {
                conversation: chat.clone(),
            },
            UnixMillis(0),
        )
        .await
        .unwrap();
    assert!(sync.push().await.is_err());
    let waiting = sync.store().pending_in(&chat).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].last_error.is_some());
    assert!(
        sync.store()
            .pending_in(&ConversationId::from("Uffffffffffffffffffffffffffffffff"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(sync.status().borrow().waiting, 1);
    sync.discard(op_id).await.unwrap();
    assert_eq!(sync.status().borrow().waiting, 0);
    assert!(sync.discard(op_id).await.is_err(), "it is gone");
    proxy.set(Network::Up);
    assert_eq!(sync.push().await.unwrap(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_staff_desk_is_refused_a_settings_change_and_an_owners_is_read_back_at_once() {
    use tsunagi_desk::settings::SettingProblem;
    use tsunagi_proto::{BusinessHours, HandoffSettings, OpeningHours, Setting};

    let relay = TestRelay::start(Options::default()).await;
    let hours = BusinessHours {
        time_zone: "Asia/Bangkok".into(),
        open: vec![OpeningHours {
            weekday: 1,
            from: "09:00".into(),
            to: "17:00".into(),
        }],
        holidays: vec!["2026-12-31".into()],
        away_message: Some("เปิด 9 โมงค่ะ".into()),
    };

    let (_staff_dir, _, staff) = joined_as(&relay, &relay.url, Role::Staff, quick()).await;
    let refused = (staff.sync)
        .save_setting(Setting::BusinessHours(hours.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &refused,
            tsunagi_desk::Error::Relay(tsunagi_desk::relay::Error::Refused { status: 403, .. })
        ),
        "{refused:?}"
    );
    assert_eq!(
        staff.sync.store().outbox_counts().await.unwrap(),
        (0, 0),
        "a refused setting waits nowhere to go out again"
    );
    assert_eq!(
        staff
            .sync
            .store()
            .team_settings()
            .await
            .unwrap()
            .business_hours,
        None
    );

    let (_owner_dir, _, owner) = joined_as(&relay, &relay.url, Role::Owner, quick()).await;
    let never_closes = Setting::Handoff(HandoffSettings {
        auto_close_minutes: Some(0),
        ..HandoffSettings::default()
    });
    assert_eq!(
        tsunagi_desk::settings::problems(&never_closes),
        [SettingProblem::AutoCloseZero]
    );
    let endless_button = Setting::Handoff(HandoffSettings {
        postbacks: vec!["action=talk".into(), "x".repeat(301), " ".into()],
        ..HandoffSettings::default()
    });
    assert_eq!(
        tsunagi_desk::settings::problems(&endless_button),
        [SettingProblem::HandoffPostbackInvalid { max: 300 }]
    );
    let cursor = owner.sync.store().cursor().await.unwrap();
    assert!(matches!(
        owner.sync.save_setting(never_closes).await,
        Err(tsunagi_desk::Error::Invalid(_))
    ));
    assert_eq!(
        owner.sync.pull().await.unwrap(),
        cursor,
        "nothing reached the log"
    );

    (owner.sync)
        .save_setting(Setting::BusinessHours(hours.clone()))
        .await
        .unwrap();
    let read = owner.sync.store().team_settings().await.unwrap();
    assert_eq!(read.business_hours, Some(hours));
}

/// The clinic chooses when patients see "Read": on opening the chat (what came in since),
/// once staff answer (the newest message), or never.
#[tokio::test]
async fn read_receipts_go_to_line_when_the_clinic_chose() {
    use tsunagi_desk::settings::Seen;
    use tsunagi_proto::testing as log;
    use tsunagi_proto::{ReadMode, ReadReceipts, Setting};

    let dir = tempfile::tempdir().unwrap();
    let store = tsunagi_desk::Store::open(&dir.path().join("desk.db"))
        .await
        .unwrap();
    let chat = ConversationId::from(PATIENT);
    let mode = |seq: u64, mode: ReadMode| {
        log::op(
            seq,
            "d-yuki",
            Operation::Settings(Setting::ReadReceipts(ReadReceipts { mode })),
        )
    };
    let token = |seen| {
        let (store, chat) = (store.clone(), chat.clone());
        async move {
            let token = store.read_token(&chat, seen).await.unwrap();
            token.map(|t| t.as_str().to_owned())
        }
    };

    // By default, on opening; answering then tells LINE nothing more.
    store
        .apply(&[log::text_to_mark(1, PATIENT, "M1", "予約できますか")])
        .await
        .unwrap();
    assert_eq!(token(Seen::Opened).await.as_deref(), Some("m1"));
    assert_eq!(token(Seen::Opened).await, None, "nothing new since");
    assert_eq!(token(Seen::Answered).await, None);

    // Once staff answer: opening only clears this desk's unread.
    store
        .apply(&[
            mode(2, ReadMode::Answered),
            log::text_to_mark(3, PATIENT, "M3", "10時はどうですか"),
        ])
        .await
        .unwrap();
    assert_eq!(token(Seen::Opened).await, None);
    assert_eq!(token(Seen::Answered).await.as_deref(), Some("m3"));

    // Never.
    store
        .apply(&[
            mode(4, ReadMode::Never),
            log::text_to_mark(5, PATIENT, "M5", "よろしくお願いします"),
        ])
        .await
        .unwrap();
    assert_eq!(token(Seen::Opened).await, None);
    assert_eq!(token(Seen::Answered).await, None);
}
