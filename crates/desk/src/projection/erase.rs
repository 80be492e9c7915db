//! An erased patient, purged from this desk as it applies the erase: their contact, chat,
//! sessions, messages, notes, tags, fields, consents, reminders and search words; the
//! audit trail without them (judged as the relay judged its log, so this desk ends as one
//! that read the erased log from the start); and their media, noted for the cache to
//! delete (`erased_media`). The store is then checkpointed with the freed pages zeroed
//! (`secure_delete`), so nothing of them stays in the file either.

use rusqlite::OptionalExtension as _;
use tsunagi_domain::erasure::Erasure;
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{ConversationId, Seq};

use super::Changes;
use super::ops::Outcome;
use crate::Result;

pub(super) fn erase(
    db: &rusqlite::Connection,
    contact: &UserId,
    changes: &mut Changes,
) -> Result<Outcome> {
    let chat = ConversationId::from(contact.as_str());
    let user = contact.as_str();
    let mut erasure = Erasure::new(contact.clone());
    // Their messages: what followed from them goes from the audit, their media from the
    // cache, their words from the search index.
    let messages = db
        .prepare_cached(
            "SELECT seq, line_message_id, conversation_id FROM messages
             WHERE conversation_id = ?1 OR author = ?1 ORDER BY id",
        )?
        .query_map([user], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Group chats they wrote in stay, without their words.
    let groups: std::collections::BTreeSet<String> = (messages.iter())
        .map(|(_, _, chat)| chat.clone())
        .filter(|chat| chat != user)
        .collect();
    for (seq, line_id, _) in &messages {
        erasure.message(Seq(*seq as u64), line_id.as_deref().map(MessageId::new));
        db.prepare_cached("DELETE FROM messages_grams WHERE rowid = ?")?
            .execute([seq])?;
    }
    for message in erasure.messages() {
        super::expire::forget_media(db, message.as_str(), true)?;
    }
    let contact_row: Option<i64> = db
        .prepare_cached("SELECT id FROM contacts WHERE user_id = ?")?
        .query_row([user], |row| row.get(0))
        .optional()?;
    if let Some(id) = contact_row {
        db.prepare_cached("DELETE FROM contacts_grams WHERE rowid = ?")?
            .execute([id])?;
    }
    for sql in [
        "DELETE FROM messages WHERE conversation_id = ?1 OR author = ?1",
        "DELETE FROM sessions WHERE conversation_id = ?1",
        "DELETE FROM read_marks WHERE conversation_id = ?1",
        "DELETE FROM conversations WHERE id = ?1",
        "DELETE FROM reminder_recipients WHERE user_id = ?1
            OR reminder IN (SELECT id FROM reminders WHERE audience = 'contact' AND target = ?1)",
        "DELETE FROM reminders WHERE audience = 'contact' AND target = ?1",
        "DELETE FROM contact_tags WHERE user_id = ?1",
        "DELETE FROM contact_notes WHERE user_id = ?1",
        "DELETE FROM contact_fields WHERE user_id = ?1",
        "DELETE FROM consents WHERE user_id = ?1",
        "DELETE FROM friend_history WHERE user_id = ?1",
        "DELETE FROM contacts_to_index WHERE user_id = ?1",
        "DELETE FROM contacts WHERE user_id = ?1",
    ] {
        db.prepare_cached(sql)?.execute([user])?;
    }
    // What this desk had not yet sent about them goes too: nothing more is sent to them
    // from before the erase.
    db.prepare_cached("DELETE FROM outbox WHERE instr(op, ?) > 0")?
        .execute([user])?;
    super::expire::audit_without(db, &mut erasure, None)?;
    for group in groups {
        let group = ConversationId::new(group);
        super::expire::preview_again(db, &group)?;
        changes.conversations.insert(group);
    }
    changes.conversations.insert(chat);
    changes.contacts.insert(contact.clone());
    changes.reminders = true;
    changes.erased = true;
    Ok(Outcome::Applied)
}
