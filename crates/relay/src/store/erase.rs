//! Erasing a patient from a channel's log, or purging what the retention keeps no longer,
//! in the transaction that logs the erase (or the night's expiry): each entry before it is
//! judged ([`Erasure`], [`Expiry`]), those that go become tombstones and those about many
//! patients are rewritten without them, and the executor's snapshot (which may hold their
//! words) is dropped: the executor folds the log again, now without them.
//!
//! The files the relay keeps of them (their messages' media, the photos sent to them) are
//! noted in `erased_files` in the same transaction, and deleted after it
//! (`erased.rs`).

use futures_util::TryStreamExt as _;
use tsunagi_domain::erasure::{ERASED, Erasure, Judge, Verdict};
use tsunagi_domain::expiry::Expiry;
use tsunagi_line::ChannelId;
use tsunagi_proto::{Cutoffs, OpId, Operation, Seq, UnixMillis};

use super::NewBody;

/// Every entry of a channel before a seq, oldest first, as the erasure reads them.
pub(super) const SCAN: &str = "SELECT seq, at, kind, event, op_id, op FROM entries
    WHERE channel_id = $1 AND seq < $2 AND at >= $3 ORDER BY seq";
/// The night's purge before this one, if any: read back from the newest, so it stops a
/// night back.
const PREVIOUS_EXPIRE: &str = "SELECT op FROM entries
    WHERE channel_id = $1 AND seq < $2 AND kind = 'op' AND op LIKE '%\"expire\"%'
    ORDER BY seq DESC LIMIT 1";
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
    at: i64,
    kind: String,
    event: Option<String>,
    op_id: Option<String>,
    op: Option<String>,
}

/// The night's purge before this one, as [`PREVIOUS_EXPIRE`] reads it.
#[derive(sqlx::FromRow)]
pub(super) struct PreviousExpire {
    op: String,
}

/// A change to one entry: the statement ([`ERASE_EVENT`] or [`REWRITE_OP`]), its new
/// content, and its seq.
pub(super) struct Change {
    pub(super) sql: &'static str,
    pub(super) content: String,
    pub(super) seq: i64,
}

/// What an appended entry purges: its judge, and for a night's expiry its cutoffs.
pub(super) struct Purge {
    judge: Box<dyn Judge + Send>,
    expiry: Option<Cutoffs>,
}

/// What an appended entry purges, if it is an erase or a night's expiry.
pub(super) fn purges(body: &NewBody) -> Option<Purge> {
    let NewBody::Op { op, .. } = body else {
        return None;
    };
    // Most ops purge nothing: only one whose JSON may (it names the kind, or spells
    // something with an escape) is read.
    let json = op.get();
    if !(json.contains("\"erase\"") || json.contains("\"expire\"") || json.contains("\\u")) {
        return None;
    }
    match serde_json::from_str::<Operation>(json) {
        Ok(Operation::Erase { contact }) => Some(Purge {
            judge: Box::new(Erasure::new(contact)),
            expiry: None,
        }),
        Ok(Operation::Expire { before, held }) => Some(Purge {
            judge: Box::new(Expiry::new(before, &held)),
            expiry: Some(before),
        }),
        _ => None,
    }
}

/// What becomes of `row`, if anything.
pub(super) fn judge(judge: &mut (dyn Judge + Send), row: ScannedRow) -> Option<Change> {
    let seq = Seq(row.seq as u64);
    let at = UnixMillis(row.at);
    match (row.kind.as_str(), row.event, row.op_id, row.op) {
        ("line", Some(event), _, _) => match judge.event(seq, at, &event) {
            Verdict::Keep => None,
            Verdict::Erase | Verdict::Rewrite(_) => Some(Change {
                sql: ERASE_EVENT,
                content: ERASED.to_owned(),
                seq: row.seq,
            }),
        },
        ("op", _, Some(op_id), Some(op)) => {
            let op_id = op_id.parse().map(OpId).ok()?;
            let content = match judge.op(seq, at, op_id, &op) {
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

/// Purges what `judge` says from `channel`'s entries before `before` (the purging op's
/// own seq), in the writer's transaction `db`.
pub(super) async fn erase<DB>(
    db: &mut DB::Connection,
    channel: &ChannelId,
    purge: Purge,
    before: Seq,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'r> ScannedRow: sqlx::FromRow<'r, DB::Row>,
    for<'r> PreviousExpire: sqlx::FromRow<'r, DB::Row>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let Purge { mut judge, expiry } = purge;
    // A night's purge reads what the night before's left to judge; an erase, everything.
    let mut since = i64::MIN;
    if let Some(now) = expiry {
        let previous = sqlx::query_as::<DB, PreviousExpire>(PREVIOUS_EXPIRE)
            .bind(channel.as_str())
            .bind(before.0 as i64)
            .fetch_optional(&mut *db)
            .await?;
        if let Some(Ok(Operation::Expire { before: then, .. })) =
            previous.map(|row| serde_json::from_str::<Operation>(&row.op))
        {
            since = now.since(&then).map_or(i64::MIN, |at| at.0);
        }
    }
    let mut changes = Vec::new();
    {
        let mut rows = sqlx::query_as::<DB, ScannedRow>(SCAN)
            .bind(channel.as_str())
            .bind(before.0 as i64)
            .bind(since)
            .fetch(&mut *db);
        while let Some(row) = rows.try_next().await? {
            changes.extend(self::judge(judge.as_mut(), row));
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
    let gone = judge.media_gone();
    let media = gone.iter().map(|m| ("media", m.as_str()));
    let uploads = judge.uploads().iter().map(|u| ("upload", u.as_str()));
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
