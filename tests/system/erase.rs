//! Erasing a patient, through the whole system: linesim, the relay and its executor (on
//! SQLite and on PostgreSQL), and two desks, one of them offline while the erase is
//! logged. Afterwards no file in the relay's data folder or in either desk's (database,
//! write-ahead log, free pages, media), and no row of the relay's PostgreSQL database,
//! holds the patient's words, name or photo.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_desk::actions::Look;
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::media::MediaCache;
use tsunagi_desk::profile::{self, JoinRequest, Joined};
use tsunagi_desk::query::Direction;
use tsunagi_desk::sync::SyncOptions;
use tsunagi_e2e::clinic::Clinic;
use tsunagi_line::MessageId;
use tsunagi_linesim::UserAction;
use tsunagi_proto::api::Role;
use tsunagi_proto::{Audience, ConversationId, Operation, Reminder, UnixMillis};
use tsunagi_relay::testing::Backend;

/// What the erased patient wrote, and what the clinic wrote about them: in ASCII, so a
/// search of raw bytes finds them however each store encodes text.
const THEIR_QUESTION: &str = "zebra-rash-4417 is it contagious";
const THEIR_NOTE: &str = "penguin-note-2291 allergic to latex";
const THEIR_FIELD: &str = "walrus-chart-8833";
const THEIR_REMINDER: &str = "otter-reminder-5521 see you at ten";
/// What the other patient wrote: it stays, and shows that the search finds what is there.
const OTHERS_WORDS: &str = "heron-hello-7310";

struct Desk {
    joined: Joined,
    dir: tempfile::TempDir,
}

impl Desk {
    async fn join(clinic: &Clinic, role: Role, operator: &str) -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new("tsunagi-test", dir.path()).without_keyring();
        let request = JoinRequest {
            relay: clinic.url.clone(),
            code: clinic.invite(role).await.unwrap(),
            operator_name: operator.into(),
            device_name: format!("{operator}'s PC"),
            channel: None,
        };
        profile::join(dir.path(), &vault, &request).await.unwrap();
        let options = SyncOptions {
            dead_after: Duration::from_secs(3),
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
            ..SyncOptions::default()
        };
        let joined = profile::open(dir.path(), &vault, options)
            .await
            .unwrap()
            .unwrap();
        joined.sync.pull().await.unwrap();
        Desk { joined, dir }
    }

    /// The photo's bytes, as this desk's media cache keeps them.
    async fn cache(&self, photo: &MessageId) -> Vec<u8> {
        let sync = &self.joined.sync;
        let cached = MediaCache::new(&self.joined.media)
            .get((sync.client(), sync.store()), sync.channel(), photo, false)
            .await
            .unwrap();
        std::fs::read(cached.path).unwrap()
    }
}

/// Every file under `dir` holding `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

/// Copies the write-ahead log of each SQLite database in `dir` into the database.
async fn checkpoint_every_database(dir: &Path) {
    use sqlx::Connection as _;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "db") {
            let url = format!("sqlite://{}", path.display());
            let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut db)
                .await
                .unwrap();
            assert_eq!(busy, 0, "{} checkpointed", path.display());
            db.close().await.unwrap();
        }
    }
}

/// Every table of the PostgreSQL database at `url` with a row holding `needle`, as text
/// or as a byte string's hex.
async fn tables_holding(url: &str, needle: &[u8]) -> Vec<String> {
    use sqlx::Connection as _;
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let text = String::from_utf8_lossy(needle).into_owned();
    let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
    let mut found = Vec::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
            .fetch_all(&mut db)
            .await
            .unwrap();
        if rows
            .iter()
            .any(|row| row.contains(&text) || row.contains(&hex))
        {
            found.push(table);
        }
    }
    found
}

/// Where `needle` is kept: files of the relay and of each desk, rows of the relay's
/// PostgreSQL database.
async fn kept(clinic: &Clinic, desks: &[&Desk], needle: &[u8]) -> Vec<String> {
    let mut places: Vec<String> = files_holding(clinic.relay_dir(), needle)
        .into_iter()
        .map(|p| format!("relay: {}", p.display()))
        .collect();
    if let Some(url) = clinic.relay_database_url() {
        places.extend(
            tables_holding(url, needle)
                .await
                .into_iter()
                .map(|t| format!("relay's database: {t}")),
        );
    }
    for (n, desk) in desks.iter().enumerate() {
        places.extend(
            files_holding(desk.dir.path(), needle)
                .into_iter()
                .map(|p| format!("desk {n}: {}", p.display())),
        );
    }
    places
}

async fn an_erased_patient_leaves_no_byte_behind(backend: Backend) {
    let clinic = Clinic::start_on(backend, 2).await.unwrap();
    clinic.automations_on().await.unwrap();
    let patients = clinic.patients();
    let (them, other) = (&patients[0], &patients[1]);
    assert_ne!(them.display_name, other.display_name);
    let contact = them.user_id.clone();

    // They ask the AI, send a photo; the other patient says hello.
    clinic.says(&contact, THEIR_QUESTION).await.unwrap();
    clinic.sim.say(&contact, UserAction::Image).await.unwrap();
    clinic.says(&other.user_id, OTHERS_WORDS).await.unwrap();
    clinic.settled().await.unwrap();
    let owner = Desk::join(&clinic, Role::Owner, "Aiko").await;
    let staff = Desk::join(&clinic, Role::Staff, "Ben").await;
    // The team's note and chart number, and a reminder for tomorrow.
    let desk = &owner.joined;
    desk.note(contact.clone(), THEIR_NOTE.into()).await.unwrap();
    desk.set_contact_fields(
        contact.clone(),
        BTreeMap::from([("chart".to_owned(), THEIR_FIELD.to_owned())]),
    )
    .await
    .unwrap();
    desk.sync.push().await.unwrap();
    clinic
        .act_as(
            "d-owner",
            Operation::ScheduleReminder(Reminder {
                text: THEIR_REMINDER.into(),
                date: None,
                time: None,
                clinic: None,
                at: UnixMillis(UnixMillis::now().0 + 86_400_000),
                to: Audience::Contact {
                    user: contact.clone(),
                },
            }),
        )
        .await
        .unwrap();
    clinic.settled().await.unwrap();
    for desk in [&owner, &staff] {
        desk.joined.sync.pull().await.unwrap();
    }
    let chat = ConversationId::from(contact.as_str());
    let photo = owner
        .joined
        .open(&chat, Look::Glance)
        .await
        .unwrap()
        .messages
        .iter()
        .find(|m| m.message_type == "image")
        .and_then(|m| m.line_message_id.clone())
        .map(MessageId::new)
        .expect("their photo is in the chat");
    let photo_bytes = owner.cache(&photo).await;
    assert_eq!(staff.cache(&photo).await, photo_bytes);

    let theirs: Vec<(&str, Vec<u8>)> = vec![
        ("their question", THEIR_QUESTION.as_bytes().to_vec()),
        ("their note", THEIR_NOTE.as_bytes().to_vec()),
        ("their chart number", THEIR_FIELD.as_bytes().to_vec()),
        ("their reminder", THEIR_REMINDER.as_bytes().to_vec()),
        ("their name", them.display_name.as_bytes().to_vec()),
        ("their photo", photo_bytes),
    ];
    // Into the databases themselves, out of their write-ahead logs: the erase must clear
    // pages long written, not only recent ones.
    for dir in [clinic.relay_dir(), owner.dir.path(), staff.dir.path()] {
        checkpoint_every_database(dir).await;
    }
    for (what, needle) in &theirs {
        let places = kept(&clinic, &[&owner, &staff], needle).await;
        assert!(
            !places.is_empty(),
            "{what} is kept somewhere before the erase"
        );
        if backend == Backend::Sqlite && *what != "their photo" {
            assert!(
                places.iter().any(|p| p.ends_with("relay.db")),
                "{what} is in the relay's database file: {places:?}"
            );
        }
    }

    // Staff cannot erase; the owner does while the staff desk is offline.
    assert!(staff.joined.erase_contact(&contact).await.is_err());
    owner.joined.erase_contact(&contact).await.unwrap();
    clinic.settled().await.unwrap();
    staff.joined.sync.pull().await.unwrap();

    for (what, needle) in &theirs {
        let places = kept(&clinic, &[&owner, &staff], needle).await;
        assert_eq!(places, Vec::<String>::new(), "{what} is gone everywhere");
    }
    let others = kept(&clinic, &[&owner, &staff], OTHERS_WORDS.as_bytes()).await;
    assert!(
        others.iter().any(|p| p.starts_with("desk 1"))
            && others.iter().any(|p| !p.starts_with("desk")),
        "the other patient's words stay: {others:?}"
    );
    // The audit keeps who erased which LINE user id.
    let audit = owner.joined.sync.store().audit(None, 50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.op_type == "erase" && a.conversation.as_deref() == Some(contact.as_str())),
        "{audit:?}"
    );

    // Writing again, they start afresh.
    clinic.says(&contact, "hello again").await.unwrap();
    clinic.settled().await.unwrap();
    owner.joined.sync.pull().await.unwrap();
    let detail = (owner.joined.sync.store().contact(contact.as_str()).await)
        .unwrap()
        .expect("they are a contact again");
    assert!(
        detail.notes.is_empty() && detail.fields.is_empty(),
        "{detail:?}"
    );
    let texts: Vec<_> = owner
        .joined
        .open(&chat, Look::Glance)
        .await
        .unwrap()
        .messages
        .into_iter()
        .filter(|m| m.direction == Direction::In)
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts, ["hello again"]);
}

#[tokio::test]
async fn an_erased_patient_leaves_no_byte_behind_on_sqlite() {
    an_erased_patient_leaves_no_byte_behind(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_erased_patient_leaves_no_byte_behind_on_postgresql() {
    an_erased_patient_leaves_no_byte_behind(Backend::Postgres).await;
}
