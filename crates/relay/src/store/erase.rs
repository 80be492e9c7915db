//! Erasing a patient from a channel's log, in the transaction that logs the erase: each
//! entry before it is judged ([`Erasure`]), the erased ones become tombstones and those
//! about many patients are rewritten without them, and the executor's snapshot (which may
//! hold their words) is dropped: the executor folds the log again, now without them.
//!
//! The files the relay keeps of them (their messages' media, the photos sent to them) are
//! noted in `erased_files` in the same transaction, and deleted after it
//! ([`crate::erased`]).

use futures_util::TryStreamExt as _;
use tsunagi_domain::erasure::{ERASED, Erasure, Verdict};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::{OpId, Operation, Seq};

use super::NewBody;

/// Every entry of a channel before a seq, oldest first, as the erasure reads them.
pub(super) const SCAN: &str = "SELECT seq, kind, event, op_id, op FROM entries
    WHERE channel_id = $1 AND seq < $2 ORDER BY seq";
pub(super) const ERASE_EVENT: &str =
    "UPDATE entries SET event = $1, message_id = NULL WHERE channel_id = $2 AND seq = $3";
pub(super) const REWRITE_OP: &str = "UPDATE entries SET op = $1 WHERE channel_id = $2 AND seq = $3";
pub(super) const DROP_SNAPSHOT: &str = "DELETE FROM executor_snapshots WHERE channel_id = $1";
const LEAVE_FILE: &str = "INSERT INTO erased_files (channel_id, kind, name) VALUES ($1, $2, $3)
    ON CONFLICT DO NOTHING";

/// An entry as [`SCAN`] reads it.
#[derive(sqlx::FromRow)]
pub(super) struct ScannedRow {
    seq: i64,
    kind: String,
    event: Option<String>,
    op_id: Option<String>,
    op: Option<String>,
}

/// A change to one entry: the statement ([`ERASE_EVENT`] or [`REWRITE_OP`]), its new
/// content, and its seq.
pub(super) struct Change {
    pub(super) sql: &'static str,
    pub(super) content: String,
    pub(super) seq: i64,
}

/// The patient an appended entry erases, if it is an erase.
pub(super) fn erases(body: &NewBody) -> Option<UserId> {
    let NewBody::Op { op, .. } = body else {
        return None;
    };
    // Most ops are not: only one whose JSON says so is read.
    if !op.get().contains("\"erase\"") {
        return None;
    }
    match serde_json::from_str::<Operation>(op.get()) {
        Ok(Operation::Erase { contact }) => Some(contact),
        _ => None,
    }
}

/// What becomes of `row`, if anything.
pub(super) fn judge(erasure: &mut Erasure, row: ScannedRow) -> Option<Change> {
    let seq = Seq(row.seq as u64);
    match (row.kind.as_str(), row.event, row.op_id, row.op) {
        ("line", Some(event), _, _) => match erasure.event(seq, &event) {
            Verdict::Keep => None,
            Verdict::Erase | Verdict::Rewrite(_) => Some(Change {
                sql: ERASE_EVENT,
                content: ERASED.to_owned(),
                seq: row.seq,
            }),
        },
        ("op", _, Some(op_id), Some(op)) => {
            let op_id = op_id.parse().map(OpId).ok()?;
            let content = match erasure.op(seq, op_id, &op) {
                Verdict::Keep => return None,
                Verdict::Erase => ERASED.to_owned(),
                Verdict::Rewrite(kept) => serde_json::to_string(&kept).ok()?,
            };
            Some(Change {
                sql: REWRITE_OP,
                content,
                seq: row.seq,
            })
        }
        _ => None,
    }
}

/// Erases `contact` from `channel`'s entries before `before` (the erase's own seq), in
/// the writer's transaction `db`.
pub(super) async fn erase<DB>(
    db: &mut DB::Connection,
    channel: &ChannelId,
    contact: UserId,
    before: Seq,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'r> ScannedRow: sqlx::FromRow<'r, DB::Row>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let mut erasure = Erasure::new(contact);
    let mut changes = Vec::new();
    {
        let mut rows = sqlx::query_as::<DB, ScannedRow>(SCAN)
            .bind(channel.as_str())
            .bind(before.0 as i64)
            .fetch(&mut *db);
        while let Some(row) = rows.try_next().await? {
            changes.extend(judge(&mut erasure, row));
        }
    }
    for change in changes {
        sqlx::query::<DB>(change.sql)
            .bind(change.content)
            .bind(channel.as_str())
            .bind(change.seq)
            .execute(&mut *db)
            .await?;
    }
    sqlx::query::<DB>(DROP_SNAPSHOT)
        .bind(channel.as_str())
        .execute(&mut *db)
        .await?;
    let media = erasure.messages().iter().map(|m| ("media", m.as_str()));
    let uploads = erasure.uploads().iter().map(|u| ("upload", u.as_str()));
    for (kind, name) in media.chain(uploads) {
        sqlx::query::<DB>(LEAVE_FILE)
            .bind(channel.as_str())
            .bind(kind)
            .bind(name)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}
