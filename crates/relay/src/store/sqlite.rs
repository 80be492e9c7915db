//! The log in SQLite: WAL with `synchronous=FULL`, one writer doing group commit.
//!
//! Appends from concurrent requests queue for a single writer task. It takes everything
//! waiting, writes it in one transaction and commits once (one fsync), then answers each
//! request. A request is answered only after the commit that covers it.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};
use tokio::sync::{mpsc, oneshot, watch};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::{DeviceId, Entry, EntryBody, LoggedOp, OpId, Seq, UnixMillis};

use super::{Appended, Heads, LogStore, NewBody, NewEntry, Result, StoreError};
use crate::secret::Sealed;

/// Most requests one commit covers.
const MAX_GROUP: usize = 512;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/relay-sqlite");

struct Append {
    channel: ChannelId,
    entries: Vec<NewEntry>,
    answer: oneshot::Sender<Result<Vec<Appended>>>,
}

struct AddChannel {
    channel: ChannelId,
    secret: Sealed,
    at: UnixMillis,
    answer: oneshot::Sender<Result<()>>,
}

/// Everything that writes goes through the one writer.
enum Write {
    Append(Append),
    AddChannel(AddChannel),
}

/// The SQLite log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    readers: SqlitePool,
    writer: mpsc::Sender<Write>,
    heads: Arc<Heads>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(StoreError::from)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let mut writer = SqliteConnection::connect_with(&options).await?;
        MIGRATOR
            .run(&mut writer)
            .await
            .map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let heads = Arc::new(Heads::default());
        let (queue, waiting) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(write_loop(writer, waiting, heads.clone()));
        Ok(Self {
            readers,
            writer: queue,
            heads,
        })
    }
}

/// The single writer: groups the appends that are queued into one transaction.
async fn write_loop(mut db: SqliteConnection, mut queue: mpsc::Receiver<Write>, heads: Arc<Heads>) {
    while let Some(first) = queue.recv().await {
        let mut group = Vec::new();
        let mut setup = None;
        match first {
            Write::Append(append) => group.push(append),
            Write::AddChannel(add) => setup = Some(add),
        }
        while setup.is_none() && group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(Write::Append(append)) => group.push(append),
                Ok(Write::AddChannel(add)) => setup = Some(add),
                Err(_) => break,
            }
        }
        if !group.is_empty() {
            commit_group(&mut db, group, &heads).await;
        }
        if let Some(add) = setup {
            let result = add_channel(&mut db, &add).await;
            let _ = add.answer.send(result);
        }
    }
}

async fn commit_group(db: &mut SqliteConnection, group: Vec<Append>, heads: &Heads) {
    match write_group(db, &group).await {
        Ok((answers, new_heads)) => {
            for (channel, head) in &new_heads {
                heads.advance(channel, *head);
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

async fn add_channel(db: &mut SqliteConnection, add: &AddChannel) -> Result<()> {
    let result = sqlx::query(
        "INSERT INTO channels (id, secret_nonce, secret_sealed, created_at) VALUES (?, ?, ?, ?)",
    )
    .bind(add.channel.as_str())
    .bind(&add.secret.nonce)
    .bind(&add.secret.ciphertext)
    .bind(add.at.0)
    .execute(db)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(StoreError::ChannelExists(add.channel.clone()))
        }
        Err(e) => Err(e.into()),
    }
}

type GroupResult = (Vec<Result<Vec<Appended>>>, HashMap<ChannelId, Seq>);

/// Writes a group in one transaction. A request for an unknown channel fails alone; a
/// storage error fails the whole group, which is then rolled back.
async fn write_group(
    db: &mut SqliteConnection,
    group: &[Append],
) -> Result<GroupResult, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut heads: HashMap<ChannelId, Seq> = HashMap::new();
    // Duplicates within the group are found too: earlier inserts are in this transaction.
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
        let mut appended = Vec::with_capacity(request.entries.len());
        for entry in &request.entries {
            if let Some(seq) = existing(&mut tx, &request.channel, &entry.body).await? {
                appended.push(Appended::Existing(seq));
                continue;
            }
            head = head.next();
            insert(&mut tx, &request.channel, head, entry).await?;
            appended.push(Appended::New(head));
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
    Ok((answers, heads))
}

/// The seq of an entry already logged under the same webhook event id or idempotency key.
async fn existing(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    body: &NewBody,
) -> Result<Option<Seq>, sqlx::Error> {
    let (sql, key) = match body {
        NewBody::Line {
            webhook_event_id: Some(id),
            ..
        } => (
            "SELECT seq FROM entries WHERE channel_id = ? AND webhook_event_id = ?",
            id.to_string(),
        ),
        NewBody::Line { .. } => return Ok(None),
        NewBody::Op { op_id, .. } => (
            "SELECT seq FROM entries WHERE channel_id = ? AND op_id = ?",
            op_id.to_string(),
        ),
    };
    let seq = sqlx::query_scalar::<_, i64>(sql)
        .bind(channel.as_str())
        .bind(key)
        .fetch_optional(&mut *db)
        .await?;
    Ok(seq.map(|s| Seq(s as u64)))
}

async fn insert(
    db: &mut SqliteConnection,
    channel: &ChannelId,
    seq: Seq,
    entry: &NewEntry,
) -> Result<(), sqlx::Error> {
    let query = sqlx::query(
        "INSERT INTO entries
            (channel_id, seq, at, kind, destination, event, webhook_event_id, op_id, device, op)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(channel.as_str())
    .bind(seq.0 as i64)
    .bind(entry.at.0);
    let query = match &entry.body {
        NewBody::Line {
            destination,
            webhook_event_id,
            event,
        } => query
            .bind("line")
            .bind(destination.as_str())
            .bind(event.get())
            .bind(webhook_event_id.as_ref().map(|id| id.as_str()))
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>),
        NewBody::Op { op_id, device, op } => query
            .bind("op")
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(None::<String>)
            .bind(op_id.to_string())
            .bind(device.as_str())
            .bind(op.get()),
    };
    query.execute(db).await?;
    Ok(())
}

impl LogStore for SqliteStore {
    async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> Result<()> {
        let (answer, answered) = oneshot::channel();
        self.send(Write::AddChannel(AddChannel {
            channel: channel.clone(),
            secret: secret.clone(),
            at,
            answer,
        }))
        .await?;
        answered.await.map_err(|_| stopped())?
    }

    async fn channel_secret(&self, channel: &ChannelId) -> Result<Option<Sealed>> {
        let row = sqlx::query("SELECT secret_nonce, secret_sealed FROM channels WHERE id = ?")
            .bind(channel.as_str())
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.map(|row| Sealed {
            nonce: row.get(0),
            ciphertext: row.get(1),
        }))
    }

    async fn append(&self, channel: &ChannelId, entries: Vec<NewEntry>) -> Result<Vec<Appended>> {
        let (answer, answered) = oneshot::channel();
        self.send(Write::Append(Append {
            channel: channel.clone(),
            entries,
            answer,
        }))
        .await?;
        answered.await.map_err(|_| stopped())?
    }

    async fn read(&self, channel: &ChannelId, after: Seq, limit: u32) -> Result<Vec<Entry>> {
        let rows = sqlx::query(
            "SELECT seq, at, kind, destination, event, op_id, device, op
             FROM entries WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(channel.as_str())
        .bind(after.0 as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    async fn head(&self, channel: &ChannelId) -> Result<Seq> {
        sqlx::query_scalar::<_, i64>("SELECT head FROM channels WHERE id = ?")
            .bind(channel.as_str())
            .fetch_optional(&self.readers)
            .await?
            .map(|h| Seq(h as u64))
            .ok_or_else(|| StoreError::UnknownChannel(channel.clone()))
    }

    fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq> {
        self.heads.subscribe(channel, Seq::ZERO)
    }
}

impl SqliteStore {
    async fn send(&self, write: Write) -> Result<()> {
        self.writer.send(write).await.map_err(|_| stopped())
    }
}

fn stopped() -> StoreError {
    StoreError::Unavailable("the writer has stopped".into())
}

fn entry_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Entry> {
    let seq = Seq(row.get::<i64, _>(0) as u64);
    let corrupt = |what: &str| StoreError::Corrupt(format!("entry {seq}: {what}"));
    let kind: String = row.get(2);
    let body = match kind.as_str() {
        "line" => {
            let destination: String = row.get(3);
            let event: String = row.get(4);
            EntryBody::Line {
                destination: UserId::new(destination),
                event: RawValue::from_string(event).map_err(|_| corrupt("event is not JSON"))?,
            }
        }
        "op" => {
            let op_id: String = row.get(5);
            let device: String = row.get(6);
            let op: String = row.get(7);
            EntryBody::Op {
                op_id: OpId(op_id.parse().map_err(|_| corrupt("op_id is not a UUID"))?),
                device: DeviceId::new(device),
                op: serde_json::from_str::<LoggedOp>(&op).map_err(|_| corrupt("op is not JSON"))?,
            }
        }
        other => return Err(corrupt(&format!("unknown kind {other}"))),
    };
    Ok(Entry {
        seq,
        at: UnixMillis(row.get(1)),
        body,
    })
}
