//! The log in SQLite: WAL with `synchronous=FULL`, one writer doing group commit.
//!
//! Appends from concurrent requests queue for a single writer task. It takes everything
//! waiting, writes it in one transaction and commits once (one fsync), then answers each
//! request. A request is answered only after the commit that covers it. The rare writes
//! outside the log (channels, invites, devices) use their own connection; SQLite
//! serializes them with the writer.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};
use tokio::sync::{mpsc, watch};
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::{DeviceId, Entry, Seq, UnixMillis};

use super::columns::{
    CARRYING, DEVICE_SELECT, DeviceRow, ENTRY_SELECT, REDACT, REMEMBER_UNSENT, enrolled,
    entries_from, insert_device, insert_entry, logged_as, role_text, usable_invite,
};
use super::erase::{erase, purges};
use super::shared::shared_queries;
use super::writer::{Append, Heads, queue_append, take_group};
use super::{
    Appended, Channel, Device, Fence, Invite, InviteProblem, LogStore, MessageLink, NewBody,
    NewDevice, NewEntry, OutstandingInvite, Result, StoreError, tombstone,
};
use crate::metrics::Metrics;
use crate::secret::Sealed;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/relay-sqlite");

/// The SQLite log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    readers: SqlitePool,
    writer: mpsc::Sender<Append>,
    admin: SqlitePool,
    /// The executors' leases and cursors, on a connection of their own: however busy
    /// enrollments and admin keep theirs, a lease is renewed in time.
    leases: SqlitePool,
    heads: Arc<Heads>,
    metrics: Arc<Metrics>,
    /// False while the log writer cannot reach the database (reopening it after a failed
    /// write, in vain so far).
    writer_up: Arc<AtomicBool>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // What is deleted or rewritten (an erased patient's words) is overwritten, not
            // left in free space.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(5));
        let mut writer = SqliteConnection::connect_with(&options).await?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
        let unsent = load_unsent(&mut writer).await?;
        let admin = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let leases = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone().read_only(true))
            .await?;
        let heads = Arc::new(Heads::default());
        let metrics = Arc::new(Metrics::default());
        let (queue, waiting) = mpsc::channel(4 * super::writer::MAX_GROUP);
        let writer_up = Arc::new(AtomicBool::new(true));
        tokio::spawn(write_loop(
            writer,
            options.clone(),
            waiting,
            Shared {
                heads: heads.clone(),
                metrics: metrics.clone(),
                writer_up: writer_up.clone(),
            },
            unsent,
        ));
        Ok(Self {
            readers,
            writer: queue,
            admin,
            leases,
            heads,
            metrics,
            writer_up,
        })
    }
}

/// The single log writer: groups the appends that are queued into one transaction.
///
/// After a failed group the connection is thrown away and a new one opened: SQLite rolls
/// some failed transactions back by itself (a full disk does), and a connection whose
/// transaction state is in doubt must not answer anyone again.
/// What the log writer shares with the store's readers.
struct Shared {
    heads: Arc<Heads>,
    metrics: Arc<Metrics>,
    writer_up: Arc<AtomicBool>,
}

async fn write_loop(
    mut db: SqliteConnection,
    options: SqliteConnectOptions,
    mut queue: mpsc::Receiver<Append>,
    shared: Shared,
    mut unsent: Unsent,
) {
    let Shared {
        heads,
        metrics,
        writer_up,
    } = shared;
    while let Some(first) = queue.recv().await {
        let group = take_group(first, &mut queue);
        match write_group(&mut db, &group, &unsent).await {
            Ok((answers, new_heads, newly_unsent)) => {
                unsent.extend(newly_unsent);
                metrics.committed(group.len());
                for (channel, head) in &new_heads {
                    heads.advance(channel, *head);
                    metrics.head(channel, *head);
                }
                for (request, answer) in group.into_iter().zip(answers) {
                    let _ = request.answer.send(answer);
                }
            }
            Err(error) => {
                tracing::error!(%error, requests = group.len(), "a group commit failed; nothing of it was written");
                for request in group {
                    let _ = request
                        .answer
                        .send(Err(StoreError::Unavailable(error.to_string())));
                }
                db = reconnect(db, &options, &writer_up).await;
            }
        }
    }
}

/// A fresh writer connection, retried until the database opens again; `up` says whether
/// it has one meanwhile.
async fn reconnect(
    old: SqliteConnection,
    options: &SqliteConnectOptions,
    up: &AtomicBool,
) -> SqliteConnection {
    if let Err(error) = old.close().await {
        tracing::warn!(%error, "closing the failed writer connection");
    }
    let mut wait = Duration::from_millis(10);
    loop {
        match SqliteConnection::connect_with(options).await {
            Ok(db) => {
                up.store(true, Ordering::SeqCst);
                return db;
            }
            Err(error) => {
                up.store(false, Ordering::SeqCst);
                tracing::error!(%error, "reopening the log writer; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(1));
            }
        }
    }
}

type Unsent = HashSet<(ChannelId, MessageId)>;

/// Each request's answer, the new heads, and the messages this group unsent.
type GroupResult = (Vec<Result<Vec<Appended>>>, HashMap<ChannelId, Seq>, Unsent);

/// Writes a group in one transaction. A request for an unknown channel fails alone; a
/// storage error fails the whole group, which is then rolled back.
///
/// Most entries cost one statement: the insert itself finds a duplicate (it changes no
/// row), and whether a message was unsent is answered from memory.
async fn write_group(
    db: &mut SqliteConnection,
    group: &[Append],
    unsent: &Unsent,
) -> Result<GroupResult, sqlx::Error> {
    // The write lock up front: a transaction that read first could not take it once the
    // executor's lease or cursor was written meanwhile (SQLITE_BUSY_SNAPSHOT, no waiting).
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let mut heads: HashMap<ChannelId, Seq> = HashMap::new();
    let mut newly_unsent = Unsent::new();
    let mut erased = false;
    let mut answers = Vec::with_capacity(group.len());
    for request in group {
        let head = match heads.get(&request.channel) {
            Some(head) => Some(*head),
            None => sqlx::query_scalar::<_, i64>("SELECT head FROM channels WHERE id = ?")
                .bind(request.channel.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .map(|h| Seq(h as u64)),
        };
        let Some(mut head) = head else {
            answers.push(Err(StoreError::UnknownChannel(request.channel.clone())));
            continue;
        };
        if let Some(fence) = &request.fence
            && !holds_lease(&mut tx, &request.channel, fence).await?
        {
            answers.push(Err(StoreError::LeaseLost(request.channel.clone())));
            continue;
        }
        let mut appended = Vec::with_capacity(request.entries.len());
        for entry in &request.entries {
            let was_unsent = |id: &MessageId| {
                let key = (request.channel.clone(), id.clone());
                unsent.contains(&key) || newly_unsent.contains(&key)
            };
            if insert(&mut tx, &request.channel, head.next(), entry, was_unsent).await? {
                head = head.next();
                appended.push(Appended::New(head));
                if let NewBody::Line {
                    link: MessageLink::Unsends(id),
                    ..
                } = &entry.body
                {
                    redact(&mut tx, &request.channel, id.as_str()).await?;
                    newly_unsent.insert((request.channel.clone(), id.clone()));
                }
                if let Some(purge) = purges(&entry.body) {
                    erase::<Sqlite>(&mut tx, &request.channel, purge, head).await?;
                    erased = true;
                }
            } else {
                // Logged before, maybe earlier in this very transaction.
                let seq = existing(&mut tx, &request.channel, &entry.body)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?;
                appended.push(Appended::Existing(seq));
            }
        }
        heads.insert(request.channel.clone(), head);
        answers.push(Ok(appended));
    }
    for (channel, head) in &heads {
        sqlx::query("UPDATE channels SET head = ? WHERE id = ?")
            .bind(head.0 as i64)
            .bind(channel.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    if erased {
        forget_old_pages(db).await;
    }
    Ok((answers, heads, newly_unsent))
}

/// After an erase: the write-ahead log, which still holds the pages as they were before,
/// is copied into the database and emptied. (Freed space in the database itself is
/// zeroed as it is freed: `secure_delete`.) A reader that holds an old snapshot keeps the
/// log from being emptied; it is asked again a few times, then the next erase or the next
/// automatic checkpoint does it.
async fn forget_old_pages(db: &mut SqliteConnection) {
    for wait in [0, 10, 50, 200, 1_000] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *db)
            .await
        {
            Ok((0, _, _)) => return,
            Ok(_) => continue,
            Err(error) => {
                tracing::warn!(%error, "emptying the write-ahead log after an erase");
                return;
            }
        }
    }
    tracing::warn!("the write-ahead log stays until the next checkpoint: a reader held it");
}

/// Whether `fence` holds the channel's executor lease, inside the writing transaction.
async fn holds_lease(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    fence: &Fence,
) -> Result<bool, sqlx::Error> {
    let held = sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM executors WHERE channel_id = ? AND holder = ? AND lease_expires_at > ?",
    )
    .bind(channel.as_str())
    .bind(&fence.holder)
    .bind(fence.now.0)
    .fetch_optional(&mut *db)
    .await?;
    Ok(held.is_some())
}

/// The seq of an entry already logged under the same webhook event id or idempotency key.
async fn existing(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    body: &NewBody,
) -> Result<Option<Seq>, sqlx::Error> {
    let Some((sql, key)) = logged_as(body) else {
        return Ok(None);
    };
    let seq = sqlx::query_scalar::<_, i64>(sql)
        .bind(channel.as_str())
        .bind(key)
        .fetch_optional(&mut *db)
        .await?;
    Ok(seq.map(|s| Seq(s as u64)))
}

/// Inserts the entry at `seq`; false if it is a duplicate (same webhook event id or
/// idempotency key), which leaves the log as it was.
async fn insert(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    entry: &NewEntry,
    was_unsent: impl Fn(&MessageId) -> bool,
) -> Result<bool, sqlx::Error> {
    let inserted = insert_entry::<Sqlite>(channel, seq, entry, was_unsent)
        .execute(db)
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Remembers that a message was unsent and replaces the content of every entry carrying
/// it (the message, its edits) with a tombstone. Their seqs stay.
async fn redact(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    message_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(REMEMBER_UNSENT)
        .bind(channel.as_str())
        .bind(message_id)
        .execute(&mut *db)
        .await?;
    let carrying: Vec<(i64, String)> = sqlx::query_as(CARRYING)
        .bind(channel.as_str())
        .bind(message_id)
        .fetch_all(&mut *db)
        .await?;
    for (seq, event) in carrying {
        sqlx::query(REDACT)
            .bind(tombstone(&event))
            .bind(channel.as_str())
            .bind(seq)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

/// Every message a user unsent, as committed: the writer keeps them in memory, so a
/// message arriving after its unsend is recognized without a query per message.
async fn load_unsent(db: &mut SqliteConnection) -> Result<Unsent, sqlx::Error> {
    let rows = sqlx::query("SELECT channel_id, message_id FROM unsent")
        .fetch_all(&mut *db)
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            (
                ChannelId::new(row.get::<String, _>(0)),
                MessageId::new(row.get::<String, _>(1)),
            )
        })
        .collect())
}

impl LogStore for SqliteStore {
    shared_queries!(read: readers, write: admin, leases: leases);

    async fn ready(&self) -> Result<()> {
        if self.writer.is_closed() {
            return Err(StoreError::Unavailable("the log writer has stopped".into()));
        }
        if !self.writer_up.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "the log writer cannot open the database".into(),
            ));
        }
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    /// One process holds a SQLite log.
    fn is_shared(&self) -> bool {
        false
    }

    async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> Result<()> {
        // IMMEDIATE: a deferred transaction that reads and then writes while the log's
        // writer commits fails at once with SQLITE_BUSY (the busy timeout cannot wait out
        // a read that must become a write); taking the write lock first makes it wait.
        let mut tx = self.admin.begin_with("BEGIN IMMEDIATE").await?;
        let result = sqlx::query(
            "INSERT INTO channels (id, secret_nonce, secret_sealed, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(channel.as_str())
        .bind(&secret.nonce)
        .bind(&secret.ciphertext)
        .bind(at.0)
        .execute(&mut *tx)
        .await;
        match result {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::ChannelExists(channel.clone()));
            }
            Err(e) => return Err(e.into()),
        }
        // The executor's row comes with the channel, its cursor at 0: it acts on the log
        // from the first entry, whenever it first runs.
        sqlx::query(
            "INSERT INTO executors (channel_id, holder, lease_expires_at) VALUES (?, '', 0)",
        )
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enroll(&self, code_hash: &[u8], device: NewDevice, now: UnixMillis) -> Result<Device> {
        // IMMEDIATE: a deferred transaction that reads and then writes while the log's
        // writer commits fails at once with SQLITE_BUSY (the busy timeout cannot wait out
        // a read that must become a write); taking the write lock first makes it wait.
        let mut tx = self.admin.begin_with("BEGIN IMMEDIATE").await?;
        let invite = sqlx::query(
            "SELECT channel_id, role, expires_at, used_at, withdrawn_at FROM invites
             WHERE code_hash = ?",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Invite(InviteProblem::Unknown))?;
        usable_invite(invite.get(3), invite.get(4), invite.get(2), now)?;
        let device = enrolled(device, invite.get(0), invite.get(1), now)?;
        insert_device::<Sqlite>(&device).execute(&mut *tx).await?;
        let used = sqlx::query(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE code_hash = ? AND used_at IS NULL",
        )
        .bind(now.0)
        .bind(device.id.as_str())
        .bind(code_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::Invite(InviteProblem::Used));
        }
        tx.commit().await?;
        Ok(device)
    }

    async fn lease_executors(
        &self,
        channels: &[ChannelId],
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> Result<Vec<ChannelId>> {
        let ids: Vec<&str> = channels.iter().map(ChannelId::as_str).collect();
        let held: Vec<String> = sqlx::query_scalar(
            "UPDATE executors SET holder = $2, lease_expires_at = $4
             WHERE channel_id IN (SELECT value FROM json_each($1)) AND (holder = $2 OR lease_expires_at <= $3)
             RETURNING channel_id",
        )
        .bind(serde_json::to_string(&ids).map_err(|e| StoreError::Unavailable(e.to_string()))?)
        .bind(holder)
        .bind(now.0)
        .bind(until.0)
        .fetch_all(&self.leases)
        .await?;
        Ok(held.into_iter().map(ChannelId::new).collect())
    }
}

#[cfg(test)]
mod tests {
    use sqlx::migrate::Migrator;

    use super::*;

    /// The migration that lets devices own the whole relay.
    const RELAY_OWNERS: i64 = 20261122100000;

    #[tokio::test]
    async fn a_database_from_before_relay_owners_upgrades_with_its_devices_and_invites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.db");
        let options = SqliteConnectOptions::from_str("sqlite:")
            .unwrap()
            .filename(&path)
            .create_if_missing(true)
            .foreign_keys(true);
        let mut old = SqliteConnection::connect_with(&options).await.unwrap();
        let before = Migrator {
            migrations: MIGRATOR
                .migrations
                .iter()
                .filter(|m| m.version < RELAY_OWNERS)
                .cloned()
                .collect(),
            ..Migrator::DEFAULT
        };
        before.run(&mut old).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO channels (id, secret_nonce, secret_sealed, created_at) VALUES ('1', x'00', x'00', 1);
             INSERT INTO devices VALUES ('d1', '1', 'staff', 'PC', 'Yuki', x'aa', 2, NULL);
             INSERT INTO invites VALUES (x'bb', '1', 'staff', 1, 9, 2, 'd1');",
        )
        .execute(&mut old)
        .await
        .unwrap();
        old.close().await.unwrap();

        let store = SqliteStore::open(&path).await.unwrap();
        let device = store.device(&DeviceId::from("d1")).await.unwrap().unwrap();
        assert_eq!(device.channel, Some(ChannelId::from("1")));
        assert_eq!(device.operator_name, "Yuki");
        assert!(!store.has_relay_owner().await.unwrap());
        let problems: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&store.readers)
            .await
            .unwrap();
        assert!(problems.is_empty());
        // The used invite still names its device, in the new devices table.
        let used_by: String = sqlx::query_scalar("SELECT used_by FROM invites")
            .fetch_one(&store.readers)
            .await
            .unwrap();
        assert_eq!(used_by, "d1");
        let schema: String =
            sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = 'invites'")
                .fetch_one(&store.readers)
                .await
                .unwrap();
        assert!(schema.contains("REFERENCES \"devices\""), "{schema}");
    }
}
