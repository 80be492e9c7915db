//! The desk's SQLite store: WAL, foreign keys, one writer (the projection and the outbox),
//! any number of readers (the queries).

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tsunagi_proto::Seq;

use crate::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/desk");

/// A desk's local store. Cheap to clone.
///
/// Reads go through an sqlx pool. Writes go through one rusqlite connection on a blocking
/// thread, a batch per call: sqlx hands each statement to its connection's worker thread,
/// which costs about 70 µs per statement on a two-core machine against 0.3 µs in place,
/// and the projection runs several statements per log entry.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) writer: Writer,
    pub(crate) readers: SqlitePool,
}

/// The one connection every write goes through, in order.
#[derive(Clone)]
pub(crate) struct Writer(Arc<WriterInner>);

struct WriterInner {
    db: Mutex<rusqlite::Connection>,
    /// Told after each write, and when the store goes: the checkpointer's cue.
    written: Arc<Notify>,
}

impl Drop for WriterInner {
    fn drop(&mut self) {
        // The checkpointer wakes, finds the writer gone, and ends.
        self.written.notify_one();
    }
}

/// How long the checkpointer lets writes gather before it copies the write-ahead log into
/// the database: about this much of the log waits in the WAL at most.
const CHECKPOINT_AFTER: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// The writer never checkpoints the write-ahead log itself: SQLite would do it inside
    /// a commit every 1,000 pages, and that commit (an apply a desk waits on) would then
    /// pay for copying and syncing the whole log. [`checkpoints`] does it beside the writer.
    fn open(path: &Path) -> rusqlite::Result<Self> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(Duration::from_secs(5))?;
        // The writer reads through the memory map; its own page cache only holds the pages
        // a batch changes, and stays small because every commit walks all of it (a 64 MiB
        // cache cost a tenth of the apply rate).
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA cache_size = -2000;
             PRAGMA mmap_size = 4294967296;
             PRAGMA wal_autocheckpoint = 0;
             PRAGMA journal_size_limit = 67108864;",
        )?;
        db.set_prepared_statement_cache_capacity(128);
        Ok(Self(Arc::new(WriterInner {
            db: Mutex::new(db),
            written: Arc::new(Notify::new()),
        })))
    }

    /// Runs `work` on the writer, off the async threads.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        let writer = self.0.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut db = writer
                .db
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut db)
        })
        .await
        .map_err(|e| Error::Store(format!("the writer stopped: {e}")))?;
        self.0.written.notify_one();
        done
    }
}

/// Copies the write-ahead log into the database on a connection of its own, a moment after
/// writes (`PASSIVE`: the writer and the readers go on meanwhile), until the writer goes.
async fn checkpoints(
    path: std::path::PathBuf,
    writer: std::sync::Weak<WriterInner>,
    written: Arc<Notify>,
) {
    let opened = tokio::task::spawn_blocking(move || {
        let db = rusqlite::Connection::open(&path)?;
        db.busy_timeout(Duration::from_secs(5))?;
        db.execute_batch("PRAGMA cache_size = -256;")?;
        Ok::<_, rusqlite::Error>(db)
    })
    .await;
    let db = match opened {
        Ok(Ok(db)) => Arc::new(Mutex::new(db)),
        Ok(Err(error)) => {
            tracing::warn!(%error, "opening the checkpointer; SQLite checkpoints on close only");
            return;
        }
        Err(_) => return,
    };
    loop {
        written.notified().await;
        if writer.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(CHECKPOINT_AFTER).await;
        let db = db.clone();
        let checkpoint = tokio::task::spawn_blocking(move || {
            let db = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            db.execute_batch("PRAGMA wal_checkpoint(PASSIVE);")
        })
        .await;
        if let Ok(Err(error)) = checkpoint {
            tracing::warn!(%error, "checkpointing the store's write-ahead log");
        }
        if writer.strong_count() == 0 {
            return;
        }
    }
}

/// Why a store file on disk could not be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// SQLite cannot read it: not a database, or a damaged one.
    Damaged(String),
    /// A newer Tsunagi (or another build) upgraded it to a schema this one does not know.
    Newer { version: i64 },
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Damaged(why) => write!(f, "the store is damaged: {why}"),
            Unusable::Newer { version } => {
                write!(f, "the store is from a newer version (schema {version})")
            }
        }
    }
}

/// A store file that was moved aside for a fresh one: why, and where it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAside {
    pub why: Unusable,
    pub kept_as: std::path::PathBuf,
}

/// Opening a store failed: because of the file itself, or of something else (the disk,
/// permissions), which a fresh file would not cure.
enum Opening {
    Unusable(Unusable),
    Failed(Error),
}

impl From<Error> for Opening {
    fn from(error: Error) -> Self {
        Opening::Failed(error)
    }
}

/// SQLite's primary result codes for a file that is not a database, or a damaged one.
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_NOTADB: i32 = 26;

fn damaged_code(code: i32) -> bool {
    matches!(code & 0xff, SQLITE_CORRUPT | SQLITE_NOTADB)
}

impl From<sqlx::Error> for Opening {
    fn from(error: sqlx::Error) -> Self {
        let code = match &error {
            sqlx::Error::Database(db) => db.code().and_then(|code| code.parse().ok()),
            _ => None,
        };
        match code {
            Some(code) if damaged_code(code) => {
                Opening::Unusable(Unusable::Damaged(error.to_string()))
            }
            _ => Opening::Failed(error.into()),
        }
    }
}

impl From<rusqlite::Error> for Opening {
    fn from(error: rusqlite::Error) -> Self {
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) if damaged_code(failure.extended_code) => {
                Opening::Unusable(Unusable::Damaged(error.to_string()))
            }
            _ => Opening::Failed(error.into()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for Opening {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        use sqlx::migrate::MigrateError;
        match error {
            // Applied here, unknown to this build: a newer one upgraded the store.
            MigrateError::VersionMissing(version) | MigrateError::VersionMismatch(version) => {
                Opening::Unusable(Unusable::Newer { version })
            }
            // A migration that stopped half-way.
            MigrateError::Dirty(version) => Opening::Unusable(Unusable::Damaged(format!(
                "an upgrade (schema {version}) did not finish"
            ))),
            MigrateError::Execute(error) => Opening::from(error),
            other => Opening::Failed(Error::Store(format!("upgrading the store: {other}"))),
        }
    }
}

impl Store {
    /// Opens (creating and upgrading if needed) the store at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        match Self::try_open(path).await {
            Ok(store) => Ok(store),
            Err(Opening::Unusable(why)) => Err(Error::Store(why.to_string())),
            Err(Opening::Failed(error)) => Err(error),
        }
    }

    /// Opens the store at `path` like [`Store::open`]; but a file that is damaged, or that a
    /// newer version upgraded, is moved aside (kept beside it, renamed, with its
    /// write-ahead log) and a fresh store made in its place, which the sync then fills
    /// from the relay's log. Nothing is deleted.
    pub async fn open_or_rebuild(path: &Path) -> Result<(Self, Option<SetAside>)> {
        let why = match Self::try_open(path).await {
            Ok(store) => return Ok((store, None)),
            Err(Opening::Failed(error)) => return Err(error),
            Err(Opening::Unusable(why)) => why,
        };
        let kept_as = set_aside(path)?;
        tracing::warn!(%why, kept_as = %kept_as.display(), "the local store was set aside; rebuilding it from the relay");
        let store = Self::open(path).await?;
        Ok((store, Some(SetAside { why, kept_as })))
    }

    async fn try_open(path: &Path) -> Result<Self, Opening> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A crash may lose the newest transactions but never corrupts the store, and
            // whatever it lost is re-read from the relay: the cursor is in the same
            // transaction as what it covers.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Per reader, and small: an app holds these all day. A 256 MiB map and an 8 MiB
            // cache (not 4 GiB and 64 MiB) took the app's process from 238 to 202 MiB at
            // 2M messages, with inbox pages as fast and search p95 8 ms (`cargo xtask bench`).
            .pragma("cache_size", "-8192")
            .pragma("mmap_size", "268435456");
        // Through a one-connection pool, not a bare connection: the migrator's future over
        // `&mut SqliteConnection` is `Send` for one lifetime only, which a spawned task (the
        // app's commands) cannot use.
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let migrated = MIGRATOR.run(&migrating).await;
        migrating.close().await;
        migrated?;
        let path = path.to_owned();
        let opening = path.clone();
        let writer = tokio::task::spawn_blocking(move || Writer::open(&opening))
            .await
            .map_err(|e| Error::Store(e.to_string()))??;
        tokio::spawn(checkpoints(
            path,
            Arc::downgrade(&writer.0),
            writer.0.written.clone(),
        ));
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, readers })
    }

    /// Closes the readers (the writer closes when the last clone of the store is dropped).
    pub async fn close(&self) {
        self.readers.close().await;
    }

    /// The seq of the last log entry applied.
    pub async fn cursor(&self) -> Result<Seq> {
        let seq: i64 = sqlx::query_scalar("SELECT seq FROM cursor")
            .fetch_one(&self.readers)
            .await?;
        Ok(Seq(seq as u64))
    }
}

/// Renames the store at `path` (and its write-ahead log and index) to a name that says
/// when it was set aside, beside it. Returns the store's new name.
fn set_aside(path: &Path) -> Result<std::path::PathBuf> {
    let stamp = jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string();
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "desk.db".to_owned());
    let mut kept_as = path.with_file_name(format!("{name}.set-aside-{stamp}"));
    let mut n = 1;
    while kept_as.exists() {
        n += 1;
        kept_as = path.with_file_name(format!("{name}.set-aside-{stamp}-{n}"));
    }
    // The log and index first: a store renamed without its log would lose what the log
    // held; one whose log went first is still whole under the old name.
    for suffix in ["-wal", "-shm"] {
        let from = path.with_file_name(format!("{name}{suffix}"));
        let to = std::path::PathBuf::from(format!("{}{suffix}", kept_as.display()));
        match std::fs::rename(&from, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::Store(format!(
                    "setting aside {}: {e}",
                    from.display()
                )));
            }
        }
    }
    std::fs::rename(path, &kept_as)
        .map_err(|e| Error::Store(format!("setting aside {}: {e}", path.display())))?;
    Ok(kept_as)
}

/// The tables the projection writes, each with the order that makes its dump canonical.
const PROJECTED: &[(&str, &str)] = &[
    ("cursor", "id"),
    ("contacts", "id"),
    ("contact_tags", "user_id, tag"),
    ("contact_notes", "seq"),
    ("contact_fields", "user_id, field"),
    ("friend_history", "seq"),
    ("conversations", "id"),
    ("inbox_tallies", "list"),
    ("sessions", "id"),
    ("messages", "id"),
    ("media", "message_id"),
    ("settings", "name"),
    ("search_progress", "id"),
    ("audit", "seq"),
    ("messages_trigram", "rowid"),
    ("messages_bigram", "rowid"),
    ("contacts_trigram", "rowid"),
    ("contacts_bigram", "rowid"),
];

impl Store {
    /// Everything the projection wrote, as text: two stores that applied the same log
    /// have the same fingerprint. (The search indexes, brought up to date first,
    /// contribute which rows they hold.)
    pub async fn fingerprint(&self) -> Result<String> {
        self.index_search().await?;
        use sqlx::{Column as _, Row as _, ValueRef as _};
        let mut out = String::new();
        for (table, order) in PROJECTED {
            out.push_str(table);
            out.push('\n');
            let columns = if table.contains("_trigram") || table.contains("_bigram") {
                "rowid"
            } else {
                "*"
            };
            let rows = sqlx::query(&format!("SELECT {columns} FROM {table} ORDER BY {order}"))
                .fetch_all(&self.readers)
                .await?;
            for row in rows {
                for (i, column) in row.columns().iter().enumerate() {
                    let raw = row.try_get_raw(i)?;
                    let value = if raw.is_null() {
                        "NULL".to_owned()
                    } else if let Ok(n) = row.try_get::<i64, _>(i) {
                        n.to_string()
                    } else {
                        format!("{:?}", row.try_get::<String, _>(i)?)
                    };
                    out.push_str(&format!("{}={value} ", column.name()));
                }
                out.push('\n');
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::value::RawValue;
    use sqlx::migrate::Migrator;
    use tsunagi_line::UserId;
    use tsunagi_line::client::RetryKey;
    use tsunagi_line::message::Message;
    use tsunagi_proto::{
        ContactProfile, ConversationId, DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation,
        SendOp, UnixMillis,
    };

    use super::*;
    use sqlx::Connection as _;
    use sqlx::sqlite::SqliteConnection;

    /// The migration that rebuilt the tables whose checks listed values with IN.
    const CHECKS_WITHOUT_IN_LISTS: i64 = 20261122130000;
    /// Columns added after it that the projection writes whatever the log.
    /// Tables later migrations add, with their columns.
    const LATER_TABLES: [(&str, &str); 1] = [(
        "contact_fields",
        "user_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, \
         PRIMARY KEY (user_id, field)",
    )];

    /// Columns later migrations add, with their types.
    const LATER_COLUMNS: [(&str, &str, &str); 7] = [
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
        for (table, columns) in LATER_TABLES {
            db.execute(&format!("CREATE TABLE {table} ({columns})"), [])
                .unwrap();
        }
        crate::projection::apply(&mut db, &log).unwrap();
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
}
