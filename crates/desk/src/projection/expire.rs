//! A contact on hold, and the night's purge of what the retention keeps no longer, as this
//! desk applies it: the messages past their time (both ways, and their search words and
//! cached media), the media past its time (the message stays, its file gone), and from the
//! audit what the relay purged from its log (judged as the relay judged it), all but a held
//! contact's. The store is then checkpointed with the freed pages zeroed, as after an erase.

use std::collections::BTreeSet;

use rusqlite::OptionalExtension as _;
use tsunagi_domain::erasure::{Judge, Verdict};
use tsunagi_domain::expiry::Expiry;
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{ConversationId, Cutoffs, Entry, OpId, Operation, Seq, UnixMillis};

use super::Changes;
use super::ops::Outcome;
use super::rows::refresh_preview;
use crate::{Error, Result};

pub(super) fn hold(
    db: &rusqlite::Connection,
    entry: &Entry,
    contact: &UserId,
    held: bool,
    reason: &str,
    changes: &mut Changes,
) -> Result<Outcome> {
    let (reason, at) = match held {
        true => (Some(reason.trim()), Some(entry.at.0)),
        false => (None, None),
    };
    let updated = db
        .prepare_cached("UPDATE contacts SET held_reason = ?, held_at = ? WHERE user_id = ?")?
        .execute(rusqlite::params![reason, at, contact.as_str()])?;
    if updated == 0 {
        return Ok(Outcome::Rejected("this desk has no such contact".into()));
    }
    changes.contacts.insert(contact.clone());
    Ok(Outcome::Applied)
}

/// Whether a message row is not the held contacts' (`?1`, a JSON array of their ids).
const NOT_HELD: &str = "NOT (conversation_id IN (SELECT value FROM json_each(?1))
    OR (direction = 'in' AND author IN (SELECT value FROM json_each(?1))))";

pub(super) fn expire(
    db: &rusqlite::Connection,
    before: &Cutoffs,
    held: &[UserId],
    changes: &mut Changes,
) -> Result<Outcome> {
    let held_json = serde_json::to_string(held).map_err(|e| Error::encoding("held contacts", e))?;
    let mut expiry = Expiry::new(*before, held);
    let mut chats = BTreeSet::new();
    if let Some(before) = before.messages {
        // A patient's messages (not their taps) and the team's, past their time.
        let gone = db
            .prepare_cached(&format!(
                "SELECT id, seq, line_message_id, conversation_id FROM messages
                 WHERE at < ?2 AND (direction = 'out' OR (direction = 'in' AND type <> 'postback'))
                   AND {NOT_HELD}"
            ))?
            .query_map(rusqlite::params![held_json, before.0], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, seq, line_id, chat) in gone {
            expiry.message(Seq(seq as u64), line_id.as_deref().map(MessageId::new));
            if let Some(line_id) = &line_id {
                forget_media(db, line_id, true)?;
            }
            db.prepare_cached("DELETE FROM messages WHERE id = ?")?
                .execute([id])?;
            db.prepare_cached("DELETE FROM messages_grams WHERE rowid = ?")?
                .execute([seq])?;
            chats.insert(chat);
        }
    }
    if let Some(before) = before.media {
        // Their files alone: the messages stay, saying the file is no longer kept.
        let gone = db
            .prepare_cached(&format!(
                "SELECT m.line_message_id FROM messages m JOIN media f
                   ON f.message_id = m.line_message_id
                 WHERE m.at < ?2 AND m.direction = 'in' AND f.state <> 'gone' AND {NOT_HELD}"
            ))?
            .query_map(rusqlite::params![held_json, before.0], |row| {
                row.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for line_id in gone {
            forget_media(db, &line_id, false)?;
            expiry.media(MessageId::new(line_id));
        }
    }
    // What the night before left to judge: older records were judged then.
    let previous: Option<String> = db
        .prepare_cached("SELECT op FROM audit WHERE type = 'expire' ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| row.get(0))
        .optional()?;
    let since = match previous.map(|op| serde_json::from_str::<Operation>(&op)) {
        Some(Ok(Operation::Expire { before: then, .. })) => before.since(&then),
        _ => None,
    };
    audit_without(db, &mut expiry, since)?;
    for chat in &chats {
        preview_again(db, &ConversationId::new(chat.as_str()))?;
    }
    changes
        .conversations
        .extend(chats.into_iter().map(ConversationId::new));
    changes.erased = true;
    Ok(Outcome::Applied)
}

/// A chat's inbox preview, from what is left of it (nothing, if nothing is).
pub(super) fn preview_again(db: &rusqlite::Connection, chat: &ConversationId) -> Result<()> {
    db.prepare_cached(
        "UPDATE conversations SET last_preview = NULL, last_speaker = NULL, last_author = NULL
         WHERE id = ?",
    )?
    .execute([chat.as_str()])?;
    refresh_preview(db, chat)
}

/// Notes a message's cached media for deleting; its row goes with the message (`whole`),
/// or says it is gone.
pub(super) fn forget_media(db: &rusqlite::Connection, line_id: &str, whole: bool) -> Result<()> {
    db.prepare_cached("INSERT OR IGNORE INTO erased_media (message_id) VALUES (?)")?
        .execute([line_id])?;
    let sql = match whole {
        true => "DELETE FROM media WHERE message_id = ?",
        false => {
            "UPDATE media SET state = 'gone', content_type = NULL, size = NULL, preview = 0
                  WHERE message_id = ?"
        }
    };
    db.prepare_cached(sql)?.execute([line_id])?;
    Ok(())
}

/// The audit trail judged op by op in log order (from `since`, when given), as the relay
/// judged its log.
pub(super) fn audit_without(
    db: &rusqlite::Connection,
    judge: &mut dyn Judge,
    since: Option<UnixMillis>,
) -> Result<()> {
    // Judged as they are read (the audit is every op in the log), changed after.
    let mut changed = Vec::new();
    let mut statement =
        db.prepare_cached("SELECT seq, at, op_id, op FROM audit WHERE at >= ? ORDER BY seq")?;
    let mut rows = statement.query([since.map_or(i64::MIN, |at| at.0)])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let at: i64 = row.get(1)?;
        let op_id: String = row.get(2)?;
        let op_id = op_id
            .parse()
            .map(OpId)
            .map_err(|e| Error::encoding("an op id in the audit", e))?;
        let op: String = row.get(3)?;
        match judge.op(Seq(seq as u64), UnixMillis(at), op_id, &op) {
            Verdict::Keep => {}
            Verdict::Erase => changed.push((seq, None)),
            Verdict::Rewrite(kept) => {
                let kept = serde_json::to_string(&kept).map_err(|e| Error::encoding("an op", e))?;
                changed.push((seq, Some(kept)));
            }
        }
    }
    drop(rows);
    drop(statement);
    for (seq, kept) in changed {
        match kept {
            None => db
                .prepare_cached("DELETE FROM audit WHERE seq = ?")?
                .execute([seq])?,
            Some(kept) => db
                .prepare_cached("UPDATE audit SET op = ? WHERE seq = ?")?
                .execute(rusqlite::params![kept, seq])?,
        };
    }
    Ok(())
}
