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
