//! How entries and devices are spelled in either database: the columns read and
//! written, the statements both backends share, and the conversions between rows and
//! the store's types.

use serde_json::value::RawValue;
use tsunagi_line::{ChannelId, MessageId, UserId, WebhookEventId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{DeviceId, Entry, EntryBody, LoggedOp, OpId, Seq, UnixMillis};

use super::{
    Device, InviteProblem, MessageLink, NewBody, NewDevice, NewEntry, Result, StoreError, tombstone,
};

pub(super) fn role_text(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Staff => "staff",
    }
}

pub(super) fn role_from(text: &str) -> Result<Role> {
    match text {
        "owner" => Ok(Role::Owner),
        "staff" => Ok(Role::Staff),
        other => Err(StoreError::Corrupt(format!("unknown role {other}"))),
    }
}

/// An entry's columns as either database returns them; [`ENTRY_SELECT`] names them.
#[derive(sqlx::FromRow)]
pub(super) struct EntryRow {
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

pub(super) const ENTRY_SELECT: &str = "seq, at, kind, destination, event, op_id, device, op, role";

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
pub(super) struct DeviceRow {
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

pub(super) const DEVICE_SELECT: &str = "id, channel_id, role, device_name, operator_name, \
    token_hash, created_at, revoked_at, last_seen_at";

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
pub(super) fn insert_entry<'q, DB>(
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
pub(super) fn insert_device<'q, DB>(
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
pub(super) fn logged_as(body: &NewBody) -> Option<(&'static str, String)> {
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
pub(super) fn usable_invite(
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
pub(super) fn enrolled(
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
pub(super) const CARRYING: &str =
    "SELECT seq, event FROM entries WHERE channel_id = $1 AND message_id = $2 AND kind = 'line'";
pub(super) const REDACT: &str = "UPDATE entries SET event = $1 WHERE channel_id = $2 AND seq = $3";
pub(super) const REMEMBER_UNSENT: &str =
    "INSERT INTO unsent (channel_id, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
/// Inserting an enrolled device.
const INSERT_DEVICE: &str = "INSERT INTO devices
    (id, channel_id, role, device_name, operator_name, token_hash, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Entries' columns into entries, the first damaged one failing them all.
pub(super) fn entries_from(rows: Vec<EntryRow>) -> Result<Vec<Entry>> {
    rows.into_iter().map(Entry::try_from).collect()
}
