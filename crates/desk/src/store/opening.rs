//! Opening a store: creating and upgrading it, its writer and readers, and setting aside a
//! file that cannot be used as it is.

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{MIGRATOR, Store, Writer, checkpoints};
use crate::{Error, Result};

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
            other => Opening::Failed(crate::StoreError::Upgrade(other).into()),
        }
    }
}

impl Store {
    /// Opens (creating and upgrading if needed) the store at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        match Self::try_open(path).await {
            Ok(store) => Ok(store),
            Err(Opening::Unusable(why)) => Err(Error::unreadable(why.to_string())),
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
            // Per reader, and small: an app holds these all day. No memory map (a mapped
            // page stays in the app's memory while the connection lives: 91 MiB of the
            // app's process after an hour at 2M messages) and a 2 MiB cache; the system's
            // file cache holds the rest. Inbox pages, chats and search as fast, the counts
            // 13 ms at p95 against 12 (`cargo xtask bench`).
            .pragma("cache_size", "-2048")
            .pragma("mmap_size", "0");
        // Through a one-connection pool, not a bare connection: the migrator's future over
        // `&mut SqliteConnection` is `Send` for one lifetime only, which a spawned task (the
        // app's commands) cannot use.
        // Its cache is big: an upgrade may rebuild the biggest tables, once, and the
        // connection is closed (its cache freed) before the app goes on.
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma("cache_size", "-65536"))
            .await?;
        let migrated = MIGRATOR.run(&migrating).await;
        if migrated.is_ok() {
            give_back_free_pages(&migrating).await;
        }
        migrating.close().await;
        migrated?;
        let path = path.to_owned();
        let opening = path.clone();
        let writer = tokio::task::spawn_blocking(move || Writer::open(&opening))
            .await
            .map_err(|_| Error::from(crate::StoreError::Stopped))??;
        tokio::spawn(checkpoints(
            path,
            Arc::downgrade(&writer.0),
            writer.0.written.clone(),
            writer.0.checkpointing.clone(),
        ));
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, readers })
    }
}

/// Gives the file's free pages back to the disk when they are a quarter of it or more.
///
/// Pages SQLite frees stay in the file, to be reused, and only a VACUUM shrinks it. An
/// upgrade that rebuilds a table frees all of its old pages: a 2M-message store upgraded to
/// the compact messages and search index (`20261208090000`, `20261208100000`) would have
/// kept its 1.5 GB file with half of it free. Upgraded and vacuumed, it is 749 MiB, in
/// 36 s for both on the bench machine (the VACUUM alone about 4 s a 550 MiB store).
/// Otherwise a store frees few pages (none of its tables shrink), so this runs about once.
/// Best effort: a store that cannot be vacuumed now (VACUUM writes a whole copy, which a
/// full disk refuses) is used as it is.
async fn give_back_free_pages(db: &sqlx::SqlitePool) {
    let counted: std::result::Result<(i64, i64), sqlx::Error> = sqlx::query_as(
        "SELECT page_count, freelist_count FROM pragma_page_count, pragma_freelist_count",
    )
    .fetch_one(db)
    .await;
    match counted {
        Ok((pages, free)) if free * 4 >= pages && free > 0 => {}
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(%error, "counting the store's free pages");
            return;
        }
    }
    if let Err(error) = sqlx::query("VACUUM").execute(db).await {
        tracing::warn!(%error, "giving the store's free pages back to the disk");
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
                return Err(Error::file(format!("setting aside {}", from.display()), e));
            }
        }
    }
    std::fs::rename(path, &kept_as)
        .map_err(|e| Error::file(format!("setting aside {}", path.display()), e))?;
    Ok(kept_as)
}
