//! The writes LINE events and ops share: a message row and its conversation's inbox row,
//! a contact the first time they appear.

use rusqlite::OptionalExtension as _;
use tsunagi_proto::{ChatKind, ConversationId, ConversationMode, Entry, Seq, UnixMillis};

use super::{MESSAGES_PER_ENTRY, REPLY_TOKEN_LIFETIME_MS};
use crate::Result;
use crate::columns::{Direction, Speaker, body, mode_from, mode_text};

const PREVIEW_CHARS: usize = 80;

/// How a message shows in the inbox row of its conversation.
fn preview_of(
    direction: Direction,
    message_type: &str,
    text: Option<&str>,
    unsent: bool,
) -> String {
    match text {
        _ if unsent => "[unsent]".to_owned(),
        text if direction == Direction::System => text.unwrap_or("").to_owned(),
        // What a patient typed on a message sticker is what they said.
        Some(text) if matches!(message_type, "text" | "sticker") => {
            text.chars().take(PREVIEW_CHARS).collect()
        }
        _ => format!("[{message_type}]"),
    }
}

/// Who wrote a message, as an inbox row says it: the patient, the bot (the relay's
/// executor), or a person at a desk. System notes are nobody's.
fn speaker_of(direction: Direction, author: Option<&str>) -> Option<Speaker> {
    match direction {
        Direction::In => Some(Speaker::Patient),
        Direction::Out if author == Some(tsunagi_proto::EXECUTOR_DEVICE) => Some(Speaker::Bot),
        Direction::Out => Some(Speaker::Staff),
        Direction::System => None,
    }
}

/// The inbox preview again, after an edit or unsend may have changed the message it
/// shows: the newest of the patient or of a person, or the bot's while the chat is the
/// bot's.
pub(super) fn refresh_preview(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
) -> Result<()> {
    type Newest = (String, Option<String>, String, Option<String>, bool);
    let newest: Option<Newest> = db
        .prepare_cached(
            "SELECT m.direction, m.author, m.type, m.text, m.unsent FROM messages m
             JOIN conversations c ON c.id = m.conversation_id
             WHERE m.conversation_id = ?1 AND m.direction <> 'system'
               AND (m.direction = 'in' OR m.author IS NOT ?2 OR c.mode = 'bot')
             ORDER BY m.id DESC LIMIT 1",
        )?
        .query_row(
            rusqlite::params![conversation.as_str(), tsunagi_proto::EXECUTOR_DEVICE],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            },
        )
        .optional()?;
    if let Some((direction, author, message_type, text, unsent)) = newest {
        let direction = Direction::parse(&direction)?;
        let preview = preview_of(direction, &message_type, text.as_deref(), unsent);
        let speaker = speaker_of(direction, author.as_deref());
        let author = author.filter(|_| speaker == Some(Speaker::Staff));
        db.prepare_cached(
            "UPDATE conversations SET last_preview = ?, last_speaker = ?, last_author = ?
             WHERE id = ?",
        )?
        .execute(rusqlite::params![
            preview,
            speaker.map(Speaker::as_str),
            author,
            conversation.as_str()
        ])?;
    }
    Ok(())
}

/// Notes a contact the first time they appear, and when they last wrote.
pub(super) fn touch_contact(
    db: &rusqlite::Connection,
    user: &str,
    at: i64,
    wrote: Option<i64>,
) -> Result<()> {
    // Most entries are about a contact already known: one update, and an insert only for
    // someone new (an upsert would try the insert first, every time).
    let known = match wrote {
        Some(wrote) => {
            db.prepare_cached("UPDATE contacts SET last_message_at = ? WHERE user_id = ?")?
                .execute(rusqlite::params![wrote, user])?
                > 0
        }
        None => contact_exists(db, user)?,
    };
    if !known {
        db.prepare_cached(
            "INSERT INTO contacts (user_id, first_seen_at, last_message_at) VALUES (?, ?, ?)",
        )?
        .execute(rusqlite::params![user, at, wrote])?;
    }
    Ok(())
}

pub(super) fn contact_exists(db: &rusqlite::Connection, user: &str) -> Result<bool> {
    Ok(db
        .prepare_cached("SELECT 1 FROM contacts WHERE user_id = ?")?
        .exists([user])?)
}

pub(super) fn conversation_exists(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
) -> Result<bool> {
    Ok(db
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?")?
        .exists([conversation.as_str()])?)
}

/// A message row to insert.
pub(super) struct NewMessage<'a> {
    pub(super) seq: Seq,
    pub(super) at: UnixMillis,
    pub(super) part: i64,
    pub(super) conversation: &'a ConversationId,
    pub(super) direction: Direction,
    pub(super) author: Option<&'a str>,
    pub(super) line_message_id: Option<&'a str>,
    pub(super) message_type: &'a str,
    pub(super) supported: bool,
    pub(super) text: Option<&'a str>,
    pub(super) body: &'a str,
    pub(super) quote_token: Option<&'a str>,
    pub(super) mark_as_read_token: Option<&'a str>,
    pub(super) reply_token: Option<&'a str>,
    pub(super) send_status: Option<&'static str>,
    pub(super) send_op: Option<&'a str>,
    pub(super) unsent: bool,
    pub(super) line_timestamp: Option<i64>,
    /// The patient's message waits for an answer (and is what the inbox row previews).
    pub(super) awaits: bool,
}

impl<'a> NewMessage<'a> {
    pub(super) fn new(entry: &Entry, conversation: &'a ConversationId) -> Self {
        Self {
            seq: entry.seq,
            at: entry.at,
            part: 0,
            conversation,
            direction: Direction::System,
            author: None,
            line_message_id: None,
            message_type: "system",
            supported: true,
            text: None,
            body: "{}",
            quote_token: None,
            mark_as_read_token: None,
            reply_token: None,
            send_status: None,
            send_op: None,
            unsent: false,
            line_timestamp: None,
            awaits: true,
        }
    }
}

pub(super) fn system_message(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    author: Option<&str>,
    note: &str,
) -> Result<()> {
    let message = NewMessage {
        author,
        text: Some(note),
        ..NewMessage::new(entry, conversation)
    };
    insert_message(db, &message)?;
    Ok(())
}

/// What inserting a message found of its conversation.
pub(super) struct Inserted {
    /// The message's id.
    pub(super) id: i64,
    pub(super) mode: ConversationMode,
    /// The open session, if any.
    pub(super) session: Option<i64>,
}

/// The kind of chat a conversation id names, as stored (an id LINE would not give is
/// taken for a user's, as LINE's own are).
fn kind_of(conversation: &ConversationId) -> &'static str {
    conversation.kind().unwrap_or(ChatKind::User).as_str()
}

/// A message's row, its body stored without what its columns hold ([`body`]).
static INSERT_MESSAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO messages
            (id, seq, part, conversation_id, direction, author, line_message_id, type, supported,
             text, body, body_omits, quote_token, mark_as_read_token, reply_token,
             reply_token_expires_at, send_status, send_op, unsent, line_timestamp, at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, {}, omits, ?12, ?13, ?14, ?15, ?16,
             ?17, ?18, ?19, ?20
         FROM (SELECT {} AS omits)",
        body::stored("?11", "omits"),
        body::omits("?11", ["?8", "?7", "?10", "?12", "?13"]),
    )
});

/// Inserts a message and makes it its conversation's newest (creating the conversation
/// if need be). Its text is indexed for search later, in bulk ([`crate::Store::index_search`]).
pub(super) fn insert_message(db: &rusqlite::Connection, m: &NewMessage<'_>) -> Result<Inserted> {
    let expires = m.reply_token.map(|_| m.at.0 + REPLY_TOKEN_LIFETIME_MS);
    let id = m.seq.0 as i64 * MESSAGES_PER_ENTRY + m.part;
    db.prepare_cached(&INSERT_MESSAGE)?
        .execute(rusqlite::params![
            id,
            m.seq.0 as i64,
            m.part,
            m.conversation.as_str(),
            m.direction.as_str(),
            m.author,
            m.line_message_id,
            m.message_type,
            m.supported,
            m.text,
            m.body,
            m.quote_token,
            m.mark_as_read_token,
            m.reply_token,
            expires,
            m.send_status,
            m.send_op,
            m.unsent,
            m.line_timestamp,
            m.at.0
        ])?;
    let preview = preview_of(m.direction, m.message_type, m.text, m.unsent);
    let speaker = speaker_of(m.direction, m.author).filter(|_| m.awaits);
    let staff_author = m.author.filter(|_| speaker == Some(Speaker::Staff));
    // Unread counts the patient's messages since the team last answered (the bot's queue
    // message and greetings are no answer).
    let (unread, answered) = match m.direction {
        Direction::In => (1, false),
        Direction::Out => (0, m.author != Some(tsunagi_proto::EXECUTOR_DEVICE)),
        Direction::System => (0, false),
    };
    // A lookup and a plain write: an upsert with RETURNING would build a temporary table
    // for every message.
    let found: Option<(String, Option<i64>)> = db
        .prepare_cached("SELECT mode, session_id FROM conversations WHERE id = ?")?
        .query_row([m.conversation.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    let (mode, session) = match found {
        Some(found) => {
            // The row previews who spoke last: the patient, a person, or the bot while the
            // chat is the bot's. In people's hands the bot's queue line and notices are
            // no answer: the patient's question stays the preview, and their wait goes on.
            // System notes preview nothing.
            db.prepare_cached(
                "UPDATE conversations SET
                     last_seq = ?2,
                     last_message_at = ?3,
                     last_preview = CASE WHEN ?7 IS NULL OR (?7 = 'bot' AND mode = 'human')
                         THEN last_preview ELSE ?4 END,
                     last_author = CASE WHEN ?7 IS NULL OR (?7 = 'bot' AND mode = 'human')
                         THEN last_author ELSE ?8 END,
                     last_speaker = CASE WHEN ?7 IS NULL OR (?7 = 'bot' AND mode = 'human')
                         THEN last_speaker ELSE ?7 END,
                     awaiting_since = CASE WHEN ?7 = 'patient' THEN COALESCE(awaiting_since, ?3)
                         WHEN ?7 = 'staff' OR (?7 = 'bot' AND mode = 'bot') THEN NULL
                         ELSE awaiting_since END,
                     unread = CASE WHEN ?6 THEN 0 ELSE unread + ?5 END
                 WHERE id = ?1",
            )?
            .execute(rusqlite::params![
                m.conversation.as_str(),
                m.seq.0 as i64,
                m.at.0,
                preview,
                unread,
                answered,
                speaker.map(Speaker::as_str),
                staff_author
            ])?;
            found
        }
        None => {
            db.prepare_cached(
                "INSERT INTO conversations
                     (id, kind, last_seq, last_message_at, last_preview, unread, created_at,
                      last_speaker, last_author, awaiting_since)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4, ?7, ?8,
                         CASE WHEN ?7 = 'patient' THEN ?4 END)",
            )?
            .execute(rusqlite::params![
                m.conversation.as_str(),
                kind_of(m.conversation),
                m.seq.0 as i64,
                m.at.0,
                preview,
                unread,
                speaker.map(Speaker::as_str),
                staff_author
            ])?;
            (mode_text(ConversationMode::Bot).to_owned(), None)
        }
    };
    if let (Some(session), false) = (session, m.direction == Direction::System) {
        db.prepare_cached("UPDATE sessions SET message_count = message_count + 1 WHERE id = ?")?
            .execute([session])?;
    }
    Ok(Inserted {
        id,
        mode: mode_from(&mode)?,
        session,
    })
}
