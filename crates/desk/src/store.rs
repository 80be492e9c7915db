//! The desk's SQLite store: WAL, foreign keys, one writer (the projection and the outbox),
//! any number of readers (the queries).

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tsunagi_proto::Seq;

use crate::{Error, Result};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/desk");

/// A desk's local store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// One connection: every write goes through it, in order.
    pub(crate) writer: SqlitePool,
    pub(crate) readers: SqlitePool,
}

impl Store {
    /// Opens (creating and upgrading if needed) the store at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
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
            .pragma("cache_size", "-65536");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| Error::Store(format!("upgrading the store: {e}")))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, readers })
    }

    /// The seq of the last log entry applied.
    pub async fn cursor(&self) -> Result<Seq> {
        let seq: i64 = sqlx::query_scalar("SELECT seq FROM cursor")
            .fetch_one(&self.readers)
            .await?;
        Ok(Seq(seq as u64))
    }
}

/// The tables the projection writes, each with the order that makes its dump canonical.
const PROJECTED: &[(&str, &str)] = &[
    ("cursor", "id"),
    ("contacts", "id"),
    ("contact_tags", "user_id, tag"),
    ("contact_notes", "seq"),
    ("friend_history", "seq"),
    ("conversations", "id"),
    ("sessions", "id"),
    ("messages", "id"),
    ("settings", "name"),
    ("audit", "seq"),
    ("messages_trigram", "rowid"),
    ("messages_bigram", "rowid"),
    ("contacts_trigram", "rowid"),
    ("contacts_bigram", "rowid"),
];

impl Store {
    /// Everything the projection wrote, as text: two stores that applied the same log
    /// have the same fingerprint. (The search indexes contribute which rows they hold.)
    pub async fn fingerprint(&self) -> Result<String> {
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
