//! The log's storage, behind one trait with two backends: SQLite in the relay's data
//! folder (one process), and PostgreSQL (several relay processes on one database).

mod any;
mod postgres;
mod shared;
mod sqlite;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot, watch};
use tsunagi_line::{ChannelId, MessageId, UserId, WebhookEventId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{DeviceId, Entry, EntryBody, LoggedOp, OpId, Seq, UnixMillis};

pub use self::any::AnyStore;
pub use self::postgres::PgStore;
pub use self::sqlite::SqliteStore;
use crate::secret::Sealed;

/// Most append requests one commit covers.
const MAX_GROUP: usize = 512;

/// Something to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: UnixMillis,
    pub body: NewBody,
}

impl NewEntry {
    /// An entry of another log, to append as it was (a benchmark's or a test's log). A LINE
    /// event goes without its webhook event id and message link: copies are not deduplicated
    /// or redacted as LINE's own deliveries are.
    pub fn copy_of(entry: &Entry) -> Result<NewEntry> {
        let body = match &entry.body {
            EntryBody::Line { destination, event } => NewBody::Line {
                destination: destination.clone(),
                webhook_event_id: None,
                event: event.clone(),
                link: MessageLink::None,
            },
            EntryBody::Op {
                op_id,
                device,
                role,
                op,
            } => NewBody::Op {
                op_id: *op_id,
                device: device.clone(),
                role: *role,
                op: serde_json::to_string(op)
                    .ok()
                    .and_then(|json| RawValue::from_string(json).ok())
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("entry {}: an op that is not JSON", entry.seq))
                    })?,
            },
        };
        Ok(NewEntry { at: entry.at, body })
    }
}

#[derive(Debug, Clone)]
pub enum NewBody {
    /// A LINE webhook event, exactly as received. Without an id it cannot be deduplicated,
    /// but it is still kept.
    Line {
        destination: UserId,
        webhook_event_id: Option<WebhookEventId>,
        event: Box<RawValue>,
        /// The message it carries or unsends, for redacting unsent messages.
        link: MessageLink,
    },
    /// An operation, already checked against the operation types.
    Op {
        op_id: OpId,
        device: DeviceId,
        /// The device's role as it appends; `None` for the executor.
        role: Option<Role>,
        op: Box<RawValue>,
    },
}

/// How a LINE event relates to a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MessageLink {
    #[default]
    None,
    /// A message (or an edit of one) with this id.
    Carries(MessageId),
    /// The user unsent the message with this id: its content must go.
    Unsends(MessageId),
}

/// What is kept of a message event once the user unsent it: the envelope (who, when,
/// which message) without the content. `message.type` becomes `unsent`.
pub fn tombstone(event: &str) -> String {
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str(event) else {
        return r#"{"type":"message","message":{"type":"unsent"}}"#.to_owned();
    };
    let id = fields
        .get("message")
        .and_then(|m| m.get("id"))
        .cloned()
        .unwrap_or_default();
    fields.insert(
        "message".to_owned(),
        serde_json::json!({ "id": id, "type": "unsent" }),
    );
    serde_json::Value::Object(fields).to_string()
}

/// Where an appended entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Written now, at this seq.
    New(Seq),
    /// Already in the log (same webhook event id or idempotency key), at this seq.
    Existing(Seq),
}

impl Appended {
    pub fn seq(self) -> Seq {
        match self {
            Appended::New(seq) | Appended::Existing(seq) => seq,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("there is no channel {0}")]
    UnknownChannel(ChannelId),
    #[error("channel {0} exists already")]
    ChannelExists(ChannelId),
    /// The storage failed; nothing of the request was written.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored log is damaged: {0}")]
    Corrupt(String),
    #[error("this enrollment code {0}")]
    Invite(InviteProblem),
    /// A fenced append by an executor whose lease has lapsed or passed to another process:
    /// nothing of it was written.
    #[error("the executor's lease on channel {0} is no longer held")]
    LeaseLost(ChannelId),
}

/// Who may append: the holder of a channel's executor lease, checked as the append is
/// written, so that a process that lost its lease (paused, cut off) appends nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub holder: String,
    /// The holder's time: the lease must last past it.
    pub now: UnixMillis,
}

/// Why an enrollment code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteProblem {
    #[error("does not exist")]
    Unknown,
    #[error("was used already")]
    Used,
    #[error("has expired")]
    Expired,
    #[error("was withdrawn")]
    Withdrawn,
}

/// A desk allowed to read and append to one channel's log, or to every channel's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    /// `None`: an owner of the whole relay.
    pub channel: Option<ChannelId>,
    pub role: Role,
    pub device_name: String,
    pub operator_name: String,
    /// SHA-256 of its token.
    pub token_hash: Vec<u8>,
    pub created_at: UnixMillis,
    pub revoked_at: Option<UnixMillis>,
    /// When it last called the relay, to the minute.
    pub last_seen_at: Option<UnixMillis>,
}

/// What a device brings to enrollment; its channel and role come from the invite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub id: DeviceId,
    pub device_name: String,
    pub operator_name: String,
    /// SHA-256 of its token.
    pub token_hash: Vec<u8>,
}

/// A one-time enrollment code, by the hash of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    /// What owners list and withdraw it by (the code is kept only as a hash).
    pub id: String,
    pub code_hash: Vec<u8>,
    /// `None`: the device will own the whole relay (the role is then always owner), and
    /// the code is the relay's setup code.
    pub channel: Option<ChannelId>,
    pub role: Role,
    /// The device that asked for it; `None` for the relay's setup code. Its codes die
    /// with its access.
    pub created_by: Option<DeviceId>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// A code not used, withdrawn or expired yet, as owners see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutstandingInvite {
    pub id: String,
    pub role: Role,
    pub created_by: Option<DeviceId>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

/// A channel the relay holds a log for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub head: Seq,
    pub created_at: UnixMillis,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The log of every channel.
///
/// `append` returns only once its entries are durable (committed and synced); a failed
/// append wrote nothing. Seqs are 1, 2, 3… per channel with no gaps, in commit order.
pub trait LogStore: Send + Sync + 'static {
    /// Whether the store answers at all.
    fn ready(&self) -> impl Future<Output = Result<()>> + Send;

    /// Whether other relay processes write to this store too: then nothing read from it
    /// may be kept in memory as settled (a channel's secret, say).
    fn is_shared(&self) -> bool;

    fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every channel, by id.
    fn channels(&self) -> impl Future<Output = Result<Vec<Channel>>> + Send;

    /// Replaces a channel's secret (LINE issued a new one).
    fn replace_channel_secret(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The channel's sealed secret, if the channel exists.
    fn channel_secret(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<Sealed>>> + Send;

    /// Keeps `sealed` as the channel's credential `name`, replacing the one before; with
    /// `None`, the channel has none any more.
    fn set_credential(
        &self,
        channel: &ChannelId,
        name: &str,
        sealed: Option<&Sealed>,
        at: UnixMillis,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The channel's sealed credential `name`, if it has one.
    fn credential(
        &self,
        channel: &ChannelId,
        name: &str,
    ) -> impl Future<Output = Result<Option<Sealed>>> + Send;

    /// Appends in order. Entries already logged are not appended again: their place in
    /// the log is returned instead.
    fn append(
        &self,
        channel: &ChannelId,
        entries: Vec<NewEntry>,
    ) -> impl Future<Output = Result<Vec<Appended>>> + Send;

    /// [`append`](LogStore::append), only while `fence` holds the channel's executor lease:
    /// [`StoreError::LeaseLost`] otherwise, with nothing written.
    fn append_fenced(
        &self,
        channel: &ChannelId,
        fence: Fence,
        entries: Vec<NewEntry>,
    ) -> impl Future<Output = Result<Vec<Appended>>> + Send;

    /// Up to `limit` entries after `after`, in order.
    fn read(
        &self,
        channel: &ChannelId,
        after: Seq,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Entry>>> + Send;

    /// The newest seq of a channel's log.
    fn head(&self, channel: &ChannelId) -> impl Future<Output = Result<Seq>> + Send;

    /// Follows a channel's head as entries are committed.
    fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq>;

    /// The relay's metrics, which the store also feeds (commit groups, heads).
    fn metrics(&self) -> &crate::metrics::Metrics;

    /// Keeps a new code. A new setup code (no channel) withdraws every earlier one still
    /// unused, in the same write.
    fn create_invite(&self, invite: &Invite) -> impl Future<Output = Result<()>> + Send;

    /// The channel's codes that still work at `now`, oldest first.
    fn invites(
        &self,
        channel: &ChannelId,
        now: UnixMillis,
    ) -> impl Future<Output = Result<Vec<OutstandingInvite>>> + Send;

    /// Withdraws the channel's unused code `id`; false if it has none such.
    fn withdraw_invite(
        &self,
        channel: &ChannelId,
        id: &str,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Uses the code with this hash, once, to add `device` to the invite's channel with
    /// the invite's role. Returns the device as stored.
    fn enroll(
        &self,
        code_hash: &[u8],
        device: NewDevice,
        now: UnixMillis,
    ) -> impl Future<Output = Result<Device>> + Send;

    fn device(&self, id: &DeviceId) -> impl Future<Output = Result<Option<Device>>> + Send;

    /// The device called the relay at `at`.
    fn seen(&self, id: &DeviceId, at: UnixMillis) -> impl Future<Output = Result<()>> + Send;

    /// The devices that reach `channel`: its own, and the owners of the whole relay.
    fn devices(&self, channel: &ChannelId) -> impl Future<Output = Result<Vec<Device>>> + Send;

    /// Whether some device, not revoked, owns the whole relay. Until one does, the relay
    /// offers a setup code on start.
    fn has_relay_owner(&self) -> impl Future<Output = Result<bool>> + Send;
    /// Takes or renews the leases on these channels' executors for `holder` until `until`,
    /// in one write. Returns the channels `holder` has now: their lease was free, had
    /// lapsed by `now`, or was `holder`'s.
    fn lease_executors(
        &self,
        channels: &[ChannelId],
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> impl Future<Output = Result<Vec<ChannelId>>> + Send;
    /// [`lease_executors`](LogStore::lease_executors) for one channel: whether `holder`
    /// has its lease now.
    fn lease_executor(
        &self,
        channel: &ChannelId,
        holder: &str,
        now: UnixMillis,
        until: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send {
        async move {
            let held = self
                .lease_executors(std::slice::from_ref(channel), holder, now, until)
                .await?;
            Ok(!held.is_empty())
        }
    }
    /// Gives the lease up at once, if `holder` has it.
    fn release_executor(
        &self,
        channel: &ChannelId,
        holder: &str,
    ) -> impl Future<Output = Result<()>> + Send;
    /// How far the channel's executor has acted; `None` for no such channel.
    fn executor_cursor(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<Seq>>> + Send;
    /// Moves the executor's cursor, if `holder` still has the lease at `now`. False when
    /// it has lost it: another executor took over, and this one must stop.
    fn move_executor_cursor(
        &self,
        channel: &ChannelId,
        holder: &str,
        seq: Seq,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Keeps the executor's folded state as of `seq` (at or before its cursor), while
    /// `fence` holds the lease: [`StoreError::LeaseLost`] otherwise.
    fn save_executor_snapshot(
        &self,
        channel: &ChannelId,
        fence: Fence,
        seq: Seq,
        state: Vec<u8>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The newest snapshot of the executor's state, with its seq.
    fn executor_snapshot(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<(Seq, Vec<u8>)>>> + Send;

    /// The devices revoked at or after `since`.
    fn revoked_since(
        &self,
        since: UnixMillis,
    ) -> impl Future<Output = Result<Vec<DeviceId>>> + Send;

    /// Revokes a device, and withdraws the codes it asked for that are still unused, in one
    /// write; false if there is no such device.
    fn revoke_device(
        &self,
        id: &DeviceId,
        now: UnixMillis,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// An append request waiting for the log writer, which answers it after the commit that
/// covers it.
struct Append {
    channel: ChannelId,
    fence: Option<Fence>,
    entries: Vec<NewEntry>,
    answer: oneshot::Sender<Result<Vec<Appended>>>,
}

/// Hands an append to a log writer and waits for its answer.
async fn queue_append(
    writer: &mpsc::Sender<Append>,
    channel: &ChannelId,
    fence: Option<Fence>,
    entries: Vec<NewEntry>,
) -> Result<Vec<Appended>> {
    let (answer, answered) = oneshot::channel();
    let append = Append {
        channel: channel.clone(),
        fence,
        entries,
        answer,
    };
    writer.send(append).await.map_err(|_| writer_stopped())?;
    answered.await.map_err(|_| writer_stopped())?
}

/// The next group for one commit: `first`, and whatever else is already waiting.
fn take_group(first: Append, queue: &mut mpsc::Receiver<Append>) -> Vec<Append> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(next) => group.push(next),
            Err(_) => break,
        }
    }
    group
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the log writer has stopped".into())
}

fn role_text(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Staff => "staff",
    }
}

fn role_from(text: &str) -> Result<Role> {
    match text {
        "owner" => Ok(Role::Owner),
        "staff" => Ok(Role::Staff),
        other => Err(StoreError::Corrupt(format!("unknown role {other}"))),
    }
}

/// An entry's columns as either database returns them; [`ENTRY_SELECT`] names them.
#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at: i64,
    kind: String,
    destination: Option<String>,
    event: Option<String>,
    op_id: Option<String>,
    device: Option<String>,
    op: Option<String>,
    role: Option<String>,
}

const ENTRY_SELECT: &str = "seq, at, kind, destination, event, op_id, device, op, role";

impl TryFrom<EntryRow> for Entry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<Entry> {
        let seq = Seq(row.seq as u64);
        let corrupt = |what: &str| StoreError::Corrupt(format!("entry {seq}: {what}"));
        let body = match row.kind.as_str() {
            "line" => EntryBody::Line {
                destination: UserId::new(row.destination.ok_or_else(|| corrupt("no destination"))?),
                event: RawValue::from_string(row.event.ok_or_else(|| corrupt("no event"))?)
                    .map_err(|_| corrupt("event is not JSON"))?,
            },
            "op" => EntryBody::Op {
                op_id: OpId(
                    row.op_id
                        .ok_or_else(|| corrupt("no op_id"))?
                        .parse()
                        .map_err(|_| corrupt("op_id is not a UUID"))?,
                ),
                device: DeviceId::new(row.device.ok_or_else(|| corrupt("no device"))?),
                role: row.role.as_deref().map(role_from).transpose()?,
                op: serde_json::from_str::<LoggedOp>(&row.op.ok_or_else(|| corrupt("no op"))?)
                    .map_err(|_| corrupt("op is not JSON"))?,
            },
            other => return Err(corrupt(&format!("unknown kind {other}"))),
        };
        Ok(Entry {
            seq,
            at: UnixMillis(row.at),
            body,
        })
    }
}

/// A device's columns as either database returns them; [`DEVICE_SELECT`] names them.
#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: String,
    channel_id: Option<String>,
    role: String,
    device_name: String,
    operator_name: String,
    token_hash: Vec<u8>,
    created_at: i64,
    revoked_at: Option<i64>,
    last_seen_at: Option<i64>,
}

const DEVICE_SELECT: &str = "id, channel_id, role, device_name, operator_name, token_hash, \
    created_at, revoked_at, last_seen_at";

impl TryFrom<DeviceRow> for Device {
    type Error = StoreError;

    fn try_from(row: DeviceRow) -> Result<Device> {
        Ok(Device {
            id: DeviceId::new(row.id),
            channel: row.channel_id.map(ChannelId::new),
            role: role_from(&row.role)?,
            device_name: row.device_name,
            operator_name: row.operator_name,
            token_hash: row.token_hash,
            created_at: UnixMillis(row.created_at),
            revoked_at: row.revoked_at.map(UnixMillis),
            last_seen_at: row.last_seen_at.map(UnixMillis),
        })
    }
}

/// Inserting an entry, in either database (SQLite takes `$n` too); a duplicate webhook
/// event id or idempotency key inserts nothing.
const INSERT_ENTRY: &str = "INSERT INTO entries
    (channel_id, seq, at, kind, destination, event, webhook_event_id, message_id,
     op_id, device, op, role)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    ON CONFLICT DO NOTHING";

/// The columns [`INSERT_ENTRY`] writes after the channel, the seq and the time.
struct EntryColumns<'a> {
    kind: &'static str,
    destination: Option<&'a str>,
    event: Option<String>,
    webhook_event_id: Option<&'a str>,
    message_id: Option<&'a str>,
    op_id: Option<String>,
    device: Option<&'a str>,
    op: Option<&'a str>,
    role: Option<&'static str>,
}

impl<'a> EntryColumns<'a> {
    /// A message already unsent (`was_unsent`) is stored as its tombstone.
    fn of(body: &'a NewBody, was_unsent: impl Fn(&MessageId) -> bool) -> Self {
        match body {
            NewBody::Line {
                destination,
                webhook_event_id,
                event,
                link,
            } => {
                let (event, message_id) = match link {
                    MessageLink::Carries(id) if was_unsent(id) => {
                        (tombstone(event.get()), Some(id.as_str()))
                    }
                    MessageLink::Carries(id) => (event.get().to_owned(), Some(id.as_str())),
                    MessageLink::Unsends(_) | MessageLink::None => (event.get().to_owned(), None),
                };
                EntryColumns {
                    kind: "line",
                    destination: Some(destination.as_str()),
                    event: Some(event),
                    webhook_event_id: webhook_event_id.as_ref().map(WebhookEventId::as_str),
                    message_id,
                    op_id: None,
                    device: None,
                    op: None,
                    role: None,
                }
            }
            NewBody::Op {
                op_id,
                device,
                role,
                op,
            } => EntryColumns {
                kind: "op",
                destination: None,
                event: None,
                webhook_event_id: None,
                message_id: None,
                op_id: Some(op_id.to_string()),
                device: Some(device.as_str()),
                op: Some(op.get()),
                role: role.map(role_text),
            },
        }
    }
}

/// [`INSERT_ENTRY`] for `entry` at `seq`, bound, for either database.
fn insert_entry<'q, DB>(
    channel: &'q ChannelId,
    seq: Seq,
    entry: &'q NewEntry,
    was_unsent: impl Fn(&MessageId) -> bool,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let columns = EntryColumns::of(&entry.body, was_unsent);
    sqlx::query(INSERT_ENTRY)
        .bind(channel.as_str())
        .bind(seq.0 as i64)
        .bind(entry.at.0)
        .bind(columns.kind)
        .bind(columns.destination)
        .bind(columns.event)
        .bind(columns.webhook_event_id)
        .bind(columns.message_id)
        .bind(columns.op_id)
        .bind(columns.device)
        .bind(columns.op)
        .bind(columns.role)
}

/// [`INSERT_DEVICE`] for `device`, bound, for either database.
fn insert_device<'q, DB>(
    device: &'q Device,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(INSERT_DEVICE)
        .bind(device.id.as_str())
        .bind(device.channel.as_ref().map(ChannelId::as_str))
        .bind(role_text(device.role))
        .bind(device.device_name.as_str())
        .bind(device.operator_name.as_str())
        .bind(device.token_hash.as_slice())
        .bind(device.created_at.0)
}

/// Where an entry already logged under the same key would be: the query, and the key.
/// `None` for a LINE event without a webhook event id, which has no key.
fn logged_as(body: &NewBody) -> Option<(&'static str, String)> {
    match body {
        NewBody::Line {
            webhook_event_id: Some(id),
            ..
        } => Some((
            "SELECT seq FROM entries WHERE channel_id = $1 AND webhook_event_id = $2",
            id.to_string(),
        )),
        NewBody::Line { .. } => None,
        NewBody::Op { op_id, .. } => Some((
            "SELECT seq FROM entries WHERE channel_id = $1 AND op_id = $2",
            op_id.to_string(),
        )),
    }
}

/// Whether an enrollment code may be used now: not used or withdrawn yet, not expired.
fn usable_invite(
    used_at: Option<i64>,
    withdrawn_at: Option<i64>,
    expires_at: i64,
    now: UnixMillis,
) -> Result<()> {
    if used_at.is_some() {
        return Err(StoreError::Invite(InviteProblem::Used));
    }
    if withdrawn_at.is_some() {
        return Err(StoreError::Invite(InviteProblem::Withdrawn));
    }
    if expires_at <= now.0 {
        return Err(StoreError::Invite(InviteProblem::Expired));
    }
    Ok(())
}

/// The device an invite enrolls: the invite's channel and role, enrolled `now`.
fn enrolled(
    device: NewDevice,
    channel: Option<String>,
    role: &str,
    now: UnixMillis,
) -> Result<Device> {
    Ok(Device {
        id: device.id,
        channel: channel.map(ChannelId::new),
        role: role_from(role)?,
        device_name: device.device_name,
        operator_name: device.operator_name,
        token_hash: device.token_hash,
        created_at: now,
        revoked_at: None,
        last_seen_at: None,
    })
}

/// The entries of a channel that carry a message (it, and its edits), for redacting.
const CARRYING: &str =
    "SELECT seq, event FROM entries WHERE channel_id = $1 AND message_id = $2 AND kind = 'line'";
const REDACT: &str = "UPDATE entries SET event = $1 WHERE channel_id = $2 AND seq = $3";
const REMEMBER_UNSENT: &str =
    "INSERT INTO unsent (channel_id, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
/// Inserting an enrolled device.
const INSERT_DEVICE: &str = "INSERT INTO devices
    (id, channel_id, role, device_name, operator_name, token_hash, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Entries' columns into entries, the first damaged one failing them all.
fn entries_from(rows: Vec<EntryRow>) -> Result<Vec<Entry>> {
    rows.into_iter().map(Entry::try_from).collect()
}

/// The newest committed seq of each channel, for readers that wait for more.
#[derive(Debug, Default)]
pub(crate) struct Heads(Mutex<HashMap<ChannelId, watch::Sender<Seq>>>);

impl Heads {
    /// A watch on the channel's head. It starts at zero until the first commit after it
    /// is created; readers compare it with their own cursor, so that is enough.
    pub(crate) fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq> {
        let mut heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads
            .entry(channel.clone())
            .or_insert_with(|| watch::channel(Seq::ZERO).0)
            .subscribe()
    }

    /// The channels somebody follows.
    pub(crate) fn followed(&self) -> Vec<ChannelId> {
        let heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads.keys().cloned().collect()
    }

    /// Called after a commit: readers waiting on this channel wake.
    pub(crate) fn advance(&self, channel: &ChannelId, head: Seq) {
        let heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = heads.get(channel) {
            sender.send_if_modified(|current| {
                let newer = head > *current;
                if newer {
                    *current = head;
                }
                newer
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tombstone_keeps_the_envelope_and_drops_the_content() {
        let event = r#"{"type":"message","message":{"type":"image","id":"M1","contentProvider":{"type":"line"}},"webhookEventId":"01E","timestamp":5}"#;
        let tomb: serde_json::Value = serde_json::from_str(&tombstone(event)).unwrap();
        assert_eq!(
            tomb,
            serde_json::json!({
                "type": "message", "message": {"id": "M1", "type": "unsent"},
                "webhookEventId": "01E", "timestamp": 5
            })
        );
    }

    #[test]
    fn a_tombstone_of_something_that_is_not_an_event_keeps_nothing() {
        assert!(!tombstone(r#""a secret""#).contains("secret"));
        assert!(!tombstone("[1,2]").contains('1'));
    }
}
