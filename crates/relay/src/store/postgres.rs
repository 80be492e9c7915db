//! The log on PostgreSQL, for a relay that runs as several processes on one database.
//!
//! Each process groups its appends into one transaction, as the SQLite store does, and
//! answers them after the commit. Processes agree through the database alone:
//! - seqs: an append locks its channels' rows (`FOR UPDATE`, in id order, so two groups
//!   never wait on each other in a circle) and takes seqs from the head it reads there;
//! - duplicates: unique indexes on the webhook event id and the op id, so an event logged
//!   by any process is logged once;
//! - unsent messages: the `unsent` table, read under the same lock, not a set in memory;
//! - fencing: a fenced append locks the executor's row (`FOR SHARE`), so the lease cannot
//!   pass to another process before the append commits;
//! - wake-ups: each commit notifies `tsunagi_heads`, and every process listens and moves
//!   its [`Heads`], so a stream on one process sees a commit made on another.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{Connection as _, Postgres};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/relay-postgres");

/// Where commits are announced: the payload is `<channel id> <head>`.
const HEADS_CHANNEL: &str = "tsunagi_heads";

/// The PostgreSQL log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    writer: mpsc::Sender<Append>,
    heads: Arc<Heads>,
    metrics: Arc<Metrics>,
    /// The listener for other processes' commits, stopped with the last clone.
    _listening: Arc<AbortOnDrop>,
}

#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…`) and migrates it. The database
    /// must exist; its tables are created on first use.
    ///
    /// The address's `sslmode` and `sslrootcert` are honoured, as libpq's: without
    /// `sslmode` the connection is encrypted when the server offers TLS (`prefer`), and a
    /// database on another machine is reached with `sslmode=verify-full` and the root of
    /// its certificate in `sslrootcert` (else the public web's roots, webpki's), so a
    /// certificate from another authority or for another host is refused before anything
    /// is sent.
    pub async fn connect(url: &str) -> Result<Self> {
        let options: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("the database address: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(format!("connecting to the database: {e}")))?;
        // Two processes starting at once must not both create the tables: sqlx takes an
        // advisory lock around the migrations.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
        let heads = Arc::new(Heads::default());
        let metrics = Arc::new(Metrics::default());
        let (writer, waiting) = mpsc::channel(4 * super::writer::MAX_GROUP);
        tokio::spawn(write_loop(
            pool.clone(),
            waiting,
            heads.clone(),
            metrics.clone(),
        ));
        let listening = tokio::spawn(listen(pool.clone(), heads.clone(), metrics.clone()));
        Ok(Self {
            pool,
            writer,
            heads,
            metrics,
            _listening: Arc::new(AbortOnDrop(listening)),
        })
    }
}

/// The process's log writer: one transaction per group of queued appends.
async fn write_loop(
    pool: PgPool,
    mut queue: mpsc::Receiver<Append>,
    heads: Arc<Heads>,
    metrics: Arc<Metrics>,
) {
    let mut held: Option<PoolConnection<Postgres>> = None;
    while let Some(first) = queue.recv().await {
        let group = take_group(first, &mut queue);
        let connection = match held.take() {
            Some(connection) => Ok(connection),
            None => pool.acquire().await,
        };
        let written = match connection {
            Ok(mut connection) => {
                let written = write_group(&mut connection, &group).await;
                if written.is_ok() {
                    held = Some(connection);
                } else {
                    // Its transaction's fate may be unknown (the server went away during the
                    // commit): the connection is not used again.
                    connection.close_on_drop();
                }
                written
            }
            Err(error) => Err(error),
        };
        match written {
            Ok((answers, new_heads)) => {
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
            }
        }
    }
}

/// Each request's answer, and the new heads.
type GroupResult = (Vec<Result<Vec<Appended>>>, HashMap<ChannelId, Seq>);

/// Writes a group in one transaction. A request for an unknown channel, or fenced by a
/// lease it no longer holds, fails alone; a database error fails the whole group.
async fn write_group(
    db: &mut sqlx::PgConnection,
    group: &[Append],
) -> Result<GroupResult, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut channels: Vec<&str> = group.iter().map(|a| a.channel.as_str()).collect();
    channels.sort_unstable();
    channels.dedup();
    let locked: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, head FROM channels WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(&channels)
            .fetch_all(&mut *tx)
            .await?;
    let mut heads: HashMap<ChannelId, Seq> = locked
        .into_iter()
        .map(|(id, head)| (ChannelId::new(id), Seq(head as u64)))
        .collect();
    let mut moved: HashSet<ChannelId> = HashSet::new();
    let mut answers = Vec::with_capacity(group.len());
    for request in group {
        let Some(&head) = heads.get(&request.channel) else {
            answers.push(Err(StoreError::UnknownChannel(request.channel.clone())));
            continue;
        };
        if let Some(fence) = &request.fence
            && !holds_lease(&mut tx, &request.channel, fence).await?
        {
            answers.push(Err(StoreError::LeaseLost(request.channel.clone())));
            continue;
        }
        let (appended, head) = append_request(&mut tx, request, head).await?;
        if heads.insert(request.channel.clone(), head) != Some(head) {
            moved.insert(request.channel.clone());
        }
        answers.push(Ok(appended));
    }
    let mut new_heads = HashMap::new();
    for channel in moved {
        let head = heads[&channel];
        sqlx::query("UPDATE channels SET head = $1 WHERE id = $2")
            .bind(head.0 as i64)
            .bind(channel.as_str())
            .execute(&mut *tx)
            .await?;
        // Delivered to every listening process when, and only if, this commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(HEADS_CHANNEL)
            .bind(format!("{channel} {head}"))
            .execute(&mut *tx)
            .await?;
        new_heads.insert(channel, head);
    }
    tx.commit().await?;
    Ok((answers, new_heads))
}

/// Appends one request's entries after `head`, with the channel's row locked. Returns
/// where each entry is, and the new head.
async fn append_request(
    tx: &mut sqlx::PgConnection,
    request: &Append,
    mut head: Seq,
) -> Result<(Vec<Appended>, Seq), sqlx::Error> {
    let channel = &request.channel;
    let carried: Vec<&str> = request
        .entries
        .iter()
        .filter_map(|entry| match &entry.body {
            NewBody::Line {
                link: MessageLink::Carries(id),
                ..
            } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    let mut unsent: HashSet<String> = if carried.is_empty() {
        HashSet::new()
    } else {
        sqlx::query_scalar(
            "SELECT message_id FROM unsent WHERE channel_id = $1 AND message_id = ANY($2)",
        )
        .bind(channel.as_str())
        .bind(&carried)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect()
    };
    let mut appended = Vec::with_capacity(request.entries.len());
    for entry in &request.entries {
        if insert(&mut *tx, channel, head.next(), entry, &unsent).await? {
            head = head.next();
            appended.push(Appended::New(head));
            if let NewBody::Line {
                link: MessageLink::Unsends(id),
                ..
            } = &entry.body
            {
                redact(&mut *tx, channel, id).await?;
                unsent.insert(id.as_str().to_owned());
            }
            if let Some(purge) = purges(&entry.body) {
                erase::<Postgres>(&mut *tx, channel, purge, head).await?;
            }
        } else {
            // Logged before, by this process or another, maybe in this very transaction.
            let seq = existing(&mut *tx, channel, &entry.body)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?;
            appended.push(Appended::Existing(seq));
        }
    }
    Ok((appended, head))
}

/// Whether `fence` holds the channel's executor lease; if so, the lease's row stays locked
/// until the transaction ends, so it cannot be taken over before this append commits.
async fn holds_lease(
    db: &mut sqlx::PgConnection,
    channel: &ChannelId,
    fence: &Fence,
) -> Result<bool, sqlx::Error> {
    let held: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM executors
         WHERE channel_id = $1 AND holder = $2 AND lease_expires_at > $3 FOR SHARE",
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
    db: &mut sqlx::PgConnection,
    channel: &ChannelId,
    body: &NewBody,
) -> Result<Option<Seq>, sqlx::Error> {
    let Some((sql, key)) = logged_as(body) else {
        return Ok(None);
    };
    let seq: Option<i64> = sqlx::query_scalar(sql)
        .bind(channel.as_str())
        .bind(key)
        .fetch_optional(&mut *db)
        .await?;
    Ok(seq.map(|s| Seq(s as u64)))
}

/// Inserts the entry at `seq`; false if it is a duplicate (same webhook event id or
/// idempotency key), which leaves the log as it was.
async fn insert(
    db: &mut sqlx::PgConnection,
    channel: &ChannelId,
    seq: Seq,
    entry: &NewEntry,
    unsent: &HashSet<String>,
) -> Result<bool, sqlx::Error> {
    let was_unsent = |id: &MessageId| unsent.contains(id.as_str());
    let inserted = insert_entry::<Postgres>(channel, seq, entry, was_unsent)
        .execute(db)
        .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Remembers that a message was unsent and replaces the content of every entry carrying
/// it (the message, its edits) with a tombstone. Their seqs stay.
async fn redact(
    db: &mut sqlx::PgConnection,
    channel: &ChannelId,
    message: &MessageId,
) -> Result<(), sqlx::Error> {
    sqlx::query(REMEMBER_UNSENT)
        .bind(channel.as_str())
        .bind(message.as_str())
        .execute(&mut *db)
        .await?;
    let carrying: Vec<(i64, String)> = sqlx::query_as(CARRYING)
        .bind(channel.as_str())
        .bind(message.as_str())
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

/// Hears every process's commits and moves [`Heads`]. After the connection drops (the
/// database restarted), notifications sent meanwhile are lost: once listening again, the
/// followed channels' heads are read afresh.
async fn listen(pool: PgPool, heads: Arc<Heads>, metrics: Arc<Metrics>) {
    let mut wait = Duration::from_millis(50);
    loop {
        match listen_once(&pool, &heads, &metrics).await {
            Ok(()) => wait = Duration::from_millis(50),
            Err(error) => {
                tracing::warn!(%error, "listening for commits; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// Listens until the connection drops.
async fn listen_once(pool: &PgPool, heads: &Heads, metrics: &Metrics) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(HEADS_CHANNEL).await?;
    catch_up(pool, heads, metrics).await?;
    // `None`: the connection dropped. A new listener follows, and a catch-up with it.
    while let Some(notification) = listener.try_recv().await? {
        let Some((channel, head)) = notification.payload().split_once(' ') else {
            continue;
        };
        if let Ok(head) = head.parse::<u64>() {
            let channel = ChannelId::from(channel);
            heads.advance(&channel, Seq(head));
            metrics.head(&channel, Seq(head));
        }
    }
    Ok(())
}

/// Reads the heads of the channels somebody follows.
async fn catch_up(pool: &PgPool, heads: &Heads, metrics: &Metrics) -> Result<(), sqlx::Error> {
    let followed: Vec<String> = heads
        .followed()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    if followed.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT id, head FROM channels WHERE id = ANY($1)")
            .bind(&followed)
            .fetch_all(pool)
            .await?;
    for (channel, head) in rows {
        let channel = ChannelId::new(channel);
        heads.advance(&channel, Seq(head as u64));
        metrics.head(&channel, Seq(head as u64));
    }
    Ok(())
}

impl LogStore for PgStore {
    shared_queries!(read: pool, write: pool, leases: pool);

    async fn ready(&self) -> Result<()> {
        if self.writer.is_closed() {
            return Err(StoreError::Unavailable("the log writer has stopped".into()));
        }
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Several relay processes share a PostgreSQL log.
    fn is_shared(&self) -> bool {
        true
    }

    async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(
            "INSERT INTO channels (id, secret_nonce, secret_sealed, created_at)
             VALUES ($1, $2, $3, $4)",
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
        // The executor's row comes with the channel, its cursor at 0.
        sqlx::query(
            "INSERT INTO executors (channel_id, holder, lease_expires_at) VALUES ($1, '', 0)",
        )
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enroll(&self, code_hash: &[u8], device: NewDevice, now: UnixMillis) -> Result<Device> {
        let mut tx = self.pool.begin().await?;
        // Locked: of two devices enrolling with one code at once, the second waits here
        // and then finds it used.
        type Row = (Option<String>, String, i64, Option<i64>, Option<i64>);
        let invite: Option<Row> = sqlx::query_as(
            "SELECT channel_id, role, expires_at, used_at, withdrawn_at FROM invites
             WHERE code_hash = $1 FOR UPDATE",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let (channel, role, expires_at, used_at, withdrawn_at) =
            invite.ok_or(StoreError::Invite(InviteProblem::Unknown))?;
        usable_invite(used_at, withdrawn_at, expires_at, now)?;
        let device = enrolled(device, channel, &role, now)?;
        insert_device::<Postgres>(&device).execute(&mut *tx).await?;
        sqlx::query("UPDATE invites SET used_at = $1, used_by = $2 WHERE code_hash = $3")
            .bind(now.0)
            .bind(device.id.as_str())
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
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
             WHERE channel_id = ANY($1) AND (holder = $2 OR lease_expires_at <= $3)
             RETURNING channel_id",
        )
        .bind(&ids)
        .bind(holder)
        .bind(now.0)
        .bind(until.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(held.into_iter().map(ChannelId::new).collect())
    }
}
