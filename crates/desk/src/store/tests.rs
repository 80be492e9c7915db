#![allow(clippy::unwrap_used)]

use serde_json::value::RawValue;
use sqlx::migrate::Migrator;
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::{
    ContactProfile, ConversationId, DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation, SendOp,
    UnixMillis,
};

use super::*;
use sqlx::Connection as _;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::sqlite::SqliteConnection;
use std::str::FromStr as _;

/// The migration that rebuilt the tables whose checks listed values with IN.
const CHECKS_WITHOUT_IN_LISTS: i64 = 20261122130000;
/// Columns added after it that the projection writes whatever the log.
/// Tables later migrations add, as they make them.
const LATER_TABLES: [(&str, &str); 2] = [
    (
        "contact_fields",
        "CREATE TABLE contact_fields (user_id TEXT NOT NULL, field TEXT NOT NULL, \
         value TEXT NOT NULL, PRIMARY KEY (user_id, field))",
    ),
    (
        "contacts_grams",
        "CREATE VIRTUAL TABLE contacts_grams USING fts5 (grams, content = '', \
         contentless_delete = 1, tokenize = 'ascii', detail = none)",
    ),
];

/// Columns later migrations add, with their types.
const LATER_COLUMNS: [(&str, &str, &str); 8] = [
    ("sessions", "queued_seq", "INTEGER"),
    ("sessions", "queued_at", "INTEGER"),
    ("sessions", "urgent_at", "INTEGER"),
    ("conversations", "last_speaker", "TEXT"),
    ("conversations", "last_author", "TEXT"),
    ("conversations", "awaiting_since", "INTEGER"),
    (
        "messages",
        "reply_token_spent",
        "INTEGER NOT NULL DEFAULT 0",
    ),
    ("messages", "body_omits", "INTEGER NOT NULL DEFAULT 0"),
];

const PATIENT: &str = "U0123456789abcdef0123456789abcdef";

fn log() -> Vec<Entry> {
    let line = |event: String| EntryBody::Line {
        destination: UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f"),
        event: RawValue::from_string(event).unwrap(),
    };
    let op = |n: u128, op: Operation| EntryBody::Op {
        op_id: OpId(uuid::Uuid::from_u128(n)),
        device: DeviceId::from("d-yuki"),
        role: None,
        op: LoggedOp::Known(op),
    };
    let chat = ConversationId::new(PATIENT);
    let bodies = vec![
        line(format!(
            r#"{{"type":"follow","mode":"active","timestamp":1,"webhookEventId":"01A","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{PATIENT}"}},"replyToken":"r1","follow":{{"isUnblocked":false}}}}"#
        )),
        op(
            1,
            Operation::Profiles {
                profiles: vec![ContactProfile {
                    user_id: UserId::new(PATIENT),
                    display_name: "美玲".into(),
                    picture_url: None,
                    status_message: None,
                    language: Some("zh-TW".into()),
                    follower: true,
                }],
            },
        ),
        line(format!(
            r#"{{"type":"message","mode":"active","timestamp":2,"webhookEventId":"01B","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{PATIENT}"}},"replyToken":"r2","message":{{"type":"text","id":"7","quoteToken":"q7","text":"請問今天還可以掛號嗎"}}}}"#
        )),
        op(
            2,
            Operation::Claim {
                conversation: chat.clone(),
            },
        ),
        op(
            3,
            Operation::Send(SendOp {
                conversation: chat.clone(),
                messages: vec![Message::text("可以的")],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }),
        ),
        op(
            4,
            Operation::Close {
                conversation: chat.clone(),
            },
        ),
        // The patient writes again, and the bot, whose chat it is again, answers.
        line(format!(
            r#"{{"type":"message","mode":"active","timestamp":3,"webhookEventId":"01C","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{PATIENT}"}},"replyToken":"r3","message":{{"type":"text","id":"8","quoteToken":"q8","text":"謝謝"}}}}"#
        )),
        EntryBody::Op {
            op_id: OpId(uuid::Uuid::from_u128(5)),
            device: DeviceId::from(tsunagi_proto::EXECUTOR_DEVICE),
            role: None,
            op: LoggedOp::Known(Operation::Send(SendOp {
                conversation: chat,
                messages: vec![Message::text("不客氣")],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            })),
        },
    ];
    bodies
        .into_iter()
        .zip(1..)
        .map(|(body, seq)| Entry {
            seq: Seq(seq),
            at: UnixMillis(1_767_225_600_000 + seq as i64 * 1000),
            body,
        })
        .collect()
}

#[tokio::test]
async fn a_damaged_store_is_set_aside_and_a_fresh_one_made_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let garbage = b"not a database, though it sits where one should".repeat(200);
    std::fs::write(&path, &garbage).unwrap();

    let refused = Store::open(&path).await.unwrap_err();
    assert!(refused.to_string().contains("damaged"), "{refused}");

    let (store, set_aside) = Store::open_or_rebuild(&path).await.unwrap();
    let set_aside = set_aside.expect("the damaged store was set aside");
    assert!(
        matches!(set_aside.why, Unusable::Damaged(_)),
        "{set_aside:?}"
    );
    // Kept as it was, beside the new one.
    assert_eq!(std::fs::read(&set_aside.kept_as).unwrap(), garbage);
    assert_eq!(set_aside.kept_as.parent(), Some(dir.path()));
    // The new store starts from the log's beginning, and works.
    assert_eq!(store.cursor().await.unwrap(), Seq(0));
    store.apply(&log()).await.unwrap();
    assert_eq!(store.cursor().await.unwrap(), Seq(log().len() as u64));
    store.close().await;
    drop(store);

    // Opened again, it is used as it is.
    let (again, set_aside) = Store::open_or_rebuild(&path).await.unwrap();
    assert_eq!(set_aside, None);
    assert_eq!(again.cursor().await.unwrap(), Seq(log().len() as u64));
}

#[tokio::test]
async fn a_store_a_newer_version_upgraded_is_set_aside_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let store = Store::open(&path).await.unwrap();
    store.apply(&log()).await.unwrap();
    store.close().await;
    drop(store);
    // A later version's migration, recorded as sqlx records them.
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (20991231235959, 'from the future', 1, x'00', 0)",
        [],
    )
    .unwrap();
    db.execute("CREATE TABLE from_the_future (x)", []).unwrap();
    drop(db);

    let refused = Store::open(&path).await.unwrap_err();
    assert!(refused.to_string().contains("newer"), "{refused}");

    let (store, set_aside) = Store::open_or_rebuild(&path).await.unwrap();
    let set_aside = set_aside.expect("the newer store was set aside");
    assert_eq!(
        set_aside.why,
        Unusable::Newer {
            version: 20991231235959
        }
    );
    assert_eq!(store.cursor().await.unwrap(), Seq(0));
    // The newer version's store is whole where it was kept: going back to that
    // version finds everything.
    let kept = rusqlite::Connection::open(&set_aside.kept_as).unwrap();
    let cursor: i64 = kept
        .query_row("SELECT seq FROM cursor", [], |row| row.get(0))
        .unwrap();
    assert_eq!(cursor, log().len() as i64);
}

#[tokio::test]
async fn a_store_from_before_the_rebuilt_checks_upgrades_with_everything_it_had() {
    let log = log();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(&path)
        .create_if_missing(true);
    let mut old = SqliteConnection::connect_with(&options).await.unwrap();
    let before = Migrator {
        migrations: MIGRATOR
            .migrations
            .iter()
            .filter(|m| m.version < CHECKS_WITHOUT_IN_LISTS)
            .cloned()
            .collect(),
        ..Migrator::DEFAULT
    };
    before.run(&mut old).await.unwrap();
    old.close().await.unwrap();
    // The projection's writes are the same for both schemas, but for columns later
    // migrations add: there while it writes, then gone, as in a store of that time.
    let mut db = rusqlite::Connection::open(&path).unwrap();
    for (table, column, kind) in LATER_COLUMNS {
        db.execute(
            &format!("ALTER TABLE {table} ADD COLUMN {column} {kind}"),
            [],
        )
        .unwrap();
    }
    for (_, create) in LATER_TABLES {
        db.execute(create, []).unwrap();
    }
    projection::apply(&mut db, &log).unwrap();
    // A body of that time was whole: what `body_omits` names goes back into it.
    whole_bodies(&db);
    for (table, _) in LATER_TABLES {
        db.execute(&format!("DROP TABLE {table}"), []).unwrap();
    }
    for (table, column, _) in LATER_COLUMNS {
        db.execute(&format!("ALTER TABLE {table} DROP COLUMN {column}"), [])
            .unwrap();
    }
    drop(db);

    let upgraded = Store::open(&path).await.unwrap();
    let fresh = Store::open(&dir.path().join("fresh.db")).await.unwrap();
    fresh.apply(&log).await.unwrap();
    pretty_assertions::assert_eq!(
        upgraded.fingerprint().await.unwrap(),
        fresh.fingerprint().await.unwrap()
    );
    // The search indexes still point at the right rows.
    for query in ["掛號", "美玲"] {
        assert_eq!(
            upgraded.search(query, 10).await.unwrap().len(),
            1,
            "{query}"
        );
    }
    // And the rebuilt checks still refuse what they refused.
    let refused = upgraded
        .writer
        .run(|db| {
            Ok(db.execute(
                "UPDATE messages SET direction = 'sideways' WHERE seq = 3",
                [],
            ))
        })
        .await
        .unwrap();
    assert!(refused.is_err(), "{refused:?}");
}

/// Puts back into each message's body the members its columns hold, as stores kept them
/// before `body_omits`.
fn whole_bodies(db: &rusqlite::Connection) {
    type Row = (i64, String, i64, [Option<String>; 5]);
    let rows: Vec<Row> = db
        .prepare(
            "SELECT id, body, body_omits, type, line_message_id, text, quote_token,
                 mark_as_read_token
             FROM messages",
        )
        .unwrap()
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                [
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                    row.get(7)?,
                ],
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (id, body, omits, columns) in rows {
        let whole =
            crate::columns::body::whole(&body, omits, columns.each_ref().map(Option::as_deref));
        db.execute(
            "UPDATE messages SET body = ?, body_omits = 0 WHERE id = ?",
            rusqlite::params![whole, id],
        )
        .unwrap();
    }
}

/// The log, then how the executor carried out its send and kept a photo's media.
fn log_with_outcomes() -> Vec<Entry> {
    let mut log = log();
    let executor = |n: u128, op: Operation| EntryBody::Op {
        op_id: OpId(uuid::Uuid::from_u128(n)),
        device: DeviceId::from(tsunagi_proto::EXECUTOR_DEVICE),
        role: None,
        op: LoggedOp::Known(op),
    };
    let photo = format!(
        r#"{{"type":"message","mode":"active","timestamp":9,"webhookEventId":"01C","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{PATIENT}"}},"replyToken":"r9","message":{{"type":"image","id":"8","quoteToken":"q8","contentProvider":{{"type":"line"}}}}}}"#
    );
    let bodies = [
        executor(
            5,
            Operation::Sent {
                send: OpId(uuid::Uuid::from_u128(3)),
                via: tsunagi_proto::Delivery::Reply,
                message_ids: vec![tsunagi_line::MessageId::from("9001")],
            },
        ),
        EntryBody::Line {
            destination: UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f"),
            event: RawValue::from_string(photo).unwrap(),
        },
        executor(
            6,
            Operation::Media {
                message: tsunagi_line::MessageId::from("8"),
                outcome: tsunagi_proto::MediaOutcome::Stored {
                    content_type: "image/jpeg".into(),
                    size: 48_213,
                    preview: true,
                },
            },
        ),
    ];
    for body in bodies {
        let seq = log.len() as u64 + 1;
        log.push(Entry {
            seq: Seq(seq),
            at: UnixMillis(1_767_225_700_000 + seq as i64),
            body,
        });
    }
    log
}

/// Runs the data statements of the migration named `name` on a store whose projection
/// has had `forget` done to it (as a store from before that migration would be), and
/// checks the store ends as the projection left it.
async fn backfill_restores(name: &str, forget: &'static str, wanted: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("desk.db")).await.unwrap();
    store.apply(&log_with_outcomes()).await.unwrap();
    let projected = store.fingerprint().await.unwrap();
    assert!(projected.contains(wanted), "{projected}");
    let migration = MIGRATOR
        .migrations
        .iter()
        .find(|m| m.description == name)
        .unwrap_or_else(|| panic!("no migration {name}"))
        .sql
        .to_string();
    let backfill = migration[migration.rfind(";\n\n").unwrap() + 3..].to_owned();
    store
        .writer
        .run(move |db| {
            db.execute_batch(forget)?;
            db.execute_batch(&backfill)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(store.fingerprint().await.unwrap(), projected);
}

#[tokio::test]
async fn a_store_from_before_sent_via_learns_how_each_message_went_from_the_audit() {
    backfill_restores(
        "sent via",
        "UPDATE messages SET sent_via = NULL",
        "sent_via=\"reply\"",
    )
    .await;
}

#[tokio::test]
async fn a_store_from_before_media_learns_what_the_relay_kept_from_the_audit() {
    backfill_restores("media", "DELETE FROM media", "content_type=\"image/jpeg\"").await;
}

#[tokio::test]
async fn the_write_ahead_log_is_copied_into_the_database_beside_the_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let store = Store::open(&path).await.unwrap();
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    store
        .writer
        .run(|db| {
            db.execute_batch(
                "CREATE TABLE ballast (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
                 INSERT INTO ballast SELECT randomblob(1000) FROM n;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    // The commit wrote the log only: no checkpoint inside it.
    assert!(size() < before + 1_000_000, "{} → {}", before, size());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while size() < before + 3_000_000 {
        assert!(
            std::time::Instant::now() < deadline,
            "the log was not checkpointed into the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_catch_up_that_never_pauses_keeps_the_write_ahead_log_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let wal = dir.path().join("desk.db-wal");
    let store = Store::open(&path).await.unwrap();
    store
        .writer
        .run(|db| Ok(db.execute_batch("CREATE TABLE ballast (x BLOB)")?))
        .await
        .unwrap();
    // Batches back to back, as a catch-up writes them, three times the bound in all.
    let batch: i64 = 4 << 20;
    let mut largest = 0;
    for _ in 0..(3 * WAL_BOUND_BYTES as i64 / batch) {
        store
            .writer
            .run(move |db| {
                db.execute(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                     INSERT INTO ballast SELECT randomblob(1000) FROM n",
                    [batch / 1000],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        largest = largest.max(std::fs::metadata(&wal).unwrap().len() as i64);
    }
    // The bound, and the batch that went past it (with the pages its b-tree changed).
    assert!(
        largest <= WAL_BOUND_BYTES as i64 + 2 * batch,
        "the write-ahead log reached {largest} bytes"
    );
}

#[tokio::test]
async fn a_store_with_a_quarter_of_its_pages_free_gives_them_back_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let store = Store::open(&path).await.unwrap();
    store.apply(&log()).await.unwrap();
    // A table an upgrade rebuilt leaves its old pages free, as this one does.
    store
        .writer
        .run(|db| {
            db.execute_batch(
                "CREATE TABLE rebuilt (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO rebuilt SELECT randomblob(1000) FROM n;
                 DROP TABLE rebuilt;",
            )?;
            Ok(())
        })
        .await
        .unwrap();
    store.close().await;
    drop(store);
    let pages = |path: &std::path::Path| -> (i64, i64) {
        rusqlite::Connection::open(path)
            .unwrap()
            .query_row(
                "SELECT page_count, freelist_count FROM pragma_page_count, pragma_freelist_count",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap()
    };
    let (before, free) = pages(&path);
    assert!(free * 4 >= before, "{free} of {before} pages free");

    let store = Store::open(&path).await.unwrap();
    let (after, free) = pages(&path);
    assert_eq!(free, 0);
    assert!(after < before - 400, "{before} pages, then {after}");
    assert_eq!(store.cursor().await.unwrap(), Seq(log().len() as u64));
}

mod released;
