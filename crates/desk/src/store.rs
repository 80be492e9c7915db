//! The desk's SQLite store: WAL, foreign keys, one writer (the projection and the outbox),
//! any number of readers (the queries).
//!
//! Opening it (migrating, setting aside a file it cannot use, the pools) is `store/opening.rs`;
//! its fingerprint, for comparing two stores, `store/fingerprint.rs`.

use std::path::Path;
use std::time::Duration;

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use sqlx::sqlite::SqlitePool;
use tsunagi_proto::Seq;

use crate::Result;

mod fingerprint;
mod opening;

pub use opening::{SetAside, Unusable};

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
    /// Held through each checkpoint, the checkpointer's and the writer's: SQLite lets one
    /// run at a time and turns the other away, so the writer waits its turn instead.
    checkpointing: Arc<Mutex<()>>,
    /// The write-ahead log's file.
    wal: std::path::PathBuf,
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

/// The most the write-ahead log holds (64 MiB) before the writer checkpoints it itself;
/// and what the log's file is cut back to once it starts over.
///
/// The checkpointer alone cannot keep the log small while the writer never pauses, as in
/// a catch-up: SQLite starts the log over only when a write begins after a checkpoint has
/// copied all of it, and a checkpoint beside a busy writer always finds new writes behind
/// it. The log then only grew: 7.3 GB beside a 1.5 GB database after 2M messages. Past
/// this bound the writer, right after its write, copies what the checkpointer has not yet
/// copied (about a second of writes), so its next write starts the log over and cuts the
/// file back to this size.
const WAL_BOUND_BYTES: u64 = 64 << 20;

impl Writer {
    /// The writer leaves checkpoints to [`checkpoints`], beside it, until the log passes
    /// [`WAL_BOUND_BYTES`]: SQLite's default, a checkpoint inside every commit that takes
    /// the log past 1,000 pages, would make that commit (an apply a desk waits on) pay for
    /// copying and syncing the whole log.
    fn open(path: &Path) -> rusqlite::Result<Self> {
        let db = rusqlite::Connection::open(path)?;
        db.busy_timeout(Duration::from_secs(5))?;
        // The writer's page cache stays small because every commit walks all of it (a
        // 64 MiB cache cost a tenth of the apply rate); the pages it reads come from the
        // system's file cache. No memory map: a mapped page counts in the app's memory for
        // as long as the connection lives, and a catch-up reads the whole store (with a
        // 4 GiB map the apply was slower, 27,670 against 37,416 entries/s without).
        db.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;
             PRAGMA cache_size = -2000;
             PRAGMA mmap_size = 0;
             PRAGMA wal_autocheckpoint = 0;
             PRAGMA journal_size_limit = {WAL_BOUND_BYTES};"
        ))?;
        db.set_prepared_statement_cache_capacity(128);
        Ok(Self(Arc::new(WriterInner {
            db: Mutex::new(db),
            written: Arc::new(Notify::new()),
            checkpointing: Arc::new(Mutex::new(())),
            wal: wal_of(path),
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
            let done = work(&mut db);
            writer.bound_the_log(&db);
            done
        })
        .await
        .map_err(|_| crate::StoreError::Stopped)?;
        self.0.written.notify_one();
        done
    }
}

impl Writer {
    /// Copies the write-ahead log into the database and empties it, after an erase: the
    /// log still holds pages as they were before. (Freed space in the database is zeroed
    /// as it is freed: `secure_delete`.) A reader on an old snapshot holds the log; it is
    /// asked again a few times, then the next checkpoint that finds no reader does it.
    pub(crate) async fn empty_the_log(&self) -> Result<()> {
        let writer = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let db = writer
                .db
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let _turn = writer
                .checkpointing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for wait in [0, 10, 50, 200, 1_000] {
                std::thread::sleep(Duration::from_millis(wait));
                let busy: i64 =
                    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
                if busy == 0 {
                    return Ok(());
                }
            }
            tracing::warn!("the write-ahead log stays until the next checkpoint: a reader held it");
            Ok(())
        })
        .await
        .map_err(|_| crate::StoreError::Stopped)?
    }
}

impl WriterInner {
    /// Checkpoints the write-ahead log once it is past [`WAL_BOUND_BYTES`] (after waiting
    /// for the checkpointer's checkpoint, if one is under way), so the next write starts it
    /// over.
    fn bound_the_log(&self, db: &rusqlite::Connection) {
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size <= WAL_BOUND_BYTES {
            return;
        }
        let _turn = self
            .checkpointing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(error) = db.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(%error, "checkpointing the store's write-ahead log past its bound");
        }
    }
}

/// The write-ahead log of the database at `path`.
fn wal_of(path: &Path) -> std::path::PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Copies the write-ahead log into the database on a connection of its own, a moment after
/// writes (`PASSIVE`: the writer and the readers go on meanwhile), until the writer goes.
async fn checkpoints(
    path: std::path::PathBuf,
    writer: std::sync::Weak<WriterInner>,
    written: Arc<Notify>,
    checkpointing: Arc<Mutex<()>>,
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
        let checkpointing = checkpointing.clone();
        let checkpoint = tokio::task::spawn_blocking(move || {
            let db = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let _turn = checkpointing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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

impl Store {
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

#[cfg(test)]
// The tests write a store of an older schema through the projection itself.
use crate::projection;

#[cfg(test)]
mod tests;
