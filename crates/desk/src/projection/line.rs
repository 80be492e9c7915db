//! What LINE sent, as the relay logged it: a patient's messages and their edits and unsends,
//! follows and blocks, members coming and going, taps on buttons and pickers.

use std::borrow::Cow;

use rusqlite::OptionalExtension as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use tsunagi_domain::session;
use tsunagi_line::UserId;
use tsunagi_line::webhook::{Event, EventKind, IncomingMessage, MessageContent, Postback, Source};
use tsunagi_proto::{ConversationId, Entry};

use super::rows::{
    NewMessage, conversation_exists, insert_message, refresh_preview, system_message, touch_contact,
};
use super::sessions::apply_changes;
use super::{Changes, MESSAGES_PER_ENTRY};
use crate::Result;
use crate::alerts::Happened;
use crate::columns::{Direction, body};
use crate::search;

pub(super) fn line_event(
    db: &rusqlite::Connection,
    entry: &Entry,
    raw: &RawValue,
    changes: &mut Changes,
) -> Result<()> {
    let event = match Event::read(raw.to_owned()) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(seq = %entry.seq, %error, "an event that is not a JSON object is skipped");
            return Ok(());
        }
    };
    let Some(source) = &event.source else {
        return Ok(());
    };
    let Some(chat) = source.chat() else {
        return Ok(());
    };
    let conversation = ConversationId::from(&chat);
    let at = entry.at.0;
    let user = source.user_id().map(|u| u.as_str().to_owned());
    if let Some(user) = &user {
        let wrote = matches!(event.kind, EventKind::Message(_)).then_some(at);
        touch_contact(db, user, at, wrote)?;
        if conversation.is_one_to_one() {
            super::consents::patient_event(db, entry, user, &event)?;
        }
        changes.contacts.insert(UserId::new(user.as_str()));
    }
    match &event.kind {
        EventKind::Message(message) => {
            let found = crate::alerts::Chat::read(db, &conversation)?;
            let stored = incoming(
                db,
                entry,
                &event,
                raw,
                message,
                &conversation,
                user.as_deref(),
            )?;
            if let Some(message) = stored {
                changes.happened.push(Happened::PatientWrote {
                    conversation: conversation.clone(),
                    message,
                    chat: found,
                });
            }
            changes.conversations.insert(conversation);
        }
        EventKind::MessageEdited(message) => {
            edited(db, &conversation, &event, raw, message)?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unsend { message_id } => {
            unsend(db, &conversation, message_id.as_str())?;
            changes.conversations.insert(conversation);
        }
        EventKind::Follow { is_unblocked } => {
            let user = user.unwrap_or_default();
            friend_event(db, entry, &user, true, *is_unblocked)?;
            let note = if *is_unblocked {
                "unblocked the account"
            } else {
                "followed the account"
            };
            system_message(db, entry, &conversation, Some(&user), note)?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unfollow => {
            let user = user.unwrap_or_default();
            friend_event(db, entry, &user, false, false)?;
            if conversation_exists(db, &conversation)? {
                system_message(db, entry, &conversation, Some(&user), "blocked the account")?;
                changes.conversations.insert(conversation);
            }
        }
        EventKind::Join | EventKind::Leave => {
            let note = if matches!(event.kind, EventKind::Join) {
                "the account joined"
            } else {
                "the account left"
            };
            system_message(db, entry, &conversation, None, note)?;
            changes.conversations.insert(conversation);
        }
        // Each member who came or went is a row, under their name.
        EventKind::MemberJoined { members } | EventKind::MemberLeft { members } => {
            let note = if matches!(event.kind, EventKind::MemberJoined { .. }) {
                "joined the chat"
            } else {
                "left the chat"
            };
            let members = members.iter().filter_map(Source::user_id);
            for (part, member) in (0..MESSAGES_PER_ENTRY).zip(members) {
                touch_contact(db, member.as_str(), at, None)?;
                changes.contacts.insert(member.clone());
                insert_message(
                    db,
                    &NewMessage {
                        part,
                        author: Some(member.as_str()),
                        text: Some(note),
                        ..NewMessage::new(entry, &conversation)
                    },
                )?;
            }
            changes.conversations.insert(conversation);
        }
        EventKind::Postback(tapped) => {
            postback(db, entry, &event, tapped, &conversation, user.as_deref())?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unknown if conversation_exists(db, &conversation)? => {
            let body = serde_json::json!({ "type": event.event_type });
            let message = NewMessage {
                direction: Direction::System,
                message_type: &event.event_type,
                supported: false,
                body: &body.to_string(),
                ..NewMessage::new(entry, &conversation)
            };
            insert_message(db, &message)?;
            changes.conversations.insert(conversation);
        }
        // Whatever this version cannot read of a known event is still seen, as a note that
        // names the event (a message that cannot be read comes as a message, above).
        EventKind::Unreadable { reason } => {
            tracing::warn!(seq = %entry.seq, event = %event.event_type, %reason, "a LINE event this desk cannot read");
            let body = serde_json::json!({ "type": event.event_type });
            let message = NewMessage {
                direction: Direction::System,
                message_type: UNREADABLE,
                supported: false,
                text: Some(&event.event_type),
                body: &body.to_string(),
                ..NewMessage::new(entry, &conversation)
            };
            insert_message(db, &message)?;
            changes.conversations.insert(conversation);
        }
        // Nothing a desk shows yet; the log keeps them.
        _ => {}
    }
    Ok(())
}

/// The type of a message or note standing for what this version cannot read.
const UNREADABLE: &str = "unreadable";

/// The `message` object of a message event, as LINE sent it.
fn message_json(raw: &RawValue) -> &str {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        message: &'a RawValue,
    }
    serde_json::from_str::<Envelope<'_>>(raw.get()).map_or("{}", |e| e.message.get())
}

/// A message's type, its searchable text, and whether this version can show it.
fn describe(content: &MessageContent) -> (&str, Option<Cow<'_, str>>, bool) {
    match content {
        MessageContent::Text { text, .. } => ("text", Some(Cow::Borrowed(text)), true),
        MessageContent::Image { .. } => ("image", None, true),
        MessageContent::Video { .. } => ("video", None, true),
        MessageContent::Audio { .. } => ("audio", None, true),
        MessageContent::File { file_name, .. } => ("file", Some(Cow::Borrowed(file_name)), true),
        MessageContent::Location { title, address, .. } => {
            let text = [title.as_deref(), address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (
                "location",
                (!text.is_empty()).then_some(Cow::Owned(text)),
                true,
            )
        }
        MessageContent::Sticker { .. } => ("sticker", content.words().map(Cow::Borrowed), true),
        MessageContent::Unknown { message_type, .. } => (message_type, None, false),
        MessageContent::Unreadable { .. } => (UNREADABLE, None, false),
    }
}

fn incoming(
    db: &rusqlite::Connection,
    entry: &Entry,
    event: &Event,
    raw: &RawValue,
    message: &IncomingMessage,
    conversation: &ConversationId,
    user: Option<&str>,
) -> Result<Option<i64>> {
    let (message_type, text, supported) = describe(&message.content);
    // The relay keeps only a tombstone of a message unsent before it arrived.
    let unsent = message_type == "unsent";
    let body = if unsent { "{}" } else { message_json(raw) };
    let new = NewMessage {
        direction: Direction::In,
        author: user,
        line_message_id: Some(message.id.as_str()),
        message_type,
        supported: supported || unsent,
        text: text.as_deref(),
        body,
        quote_token: message.quote_token.as_ref().map(|t| t.as_str()),
        mark_as_read_token: message.mark_as_read_token.as_ref().map(|t| t.as_str()),
        reply_token: event.reply_token.as_ref().map(|t| t.as_str()),
        unsent,
        line_timestamp: Some(event.timestamp),
        ..NewMessage::new(entry, conversation)
    };
    let inserted = insert_message(db, &new)?;
    if let Some(change) = session::on_patient_message(inserted.mode, inserted.session.is_some()) {
        apply_changes(db, entry, conversation, inserted.session, &[change], None)?;
    }
    // (What a patient unsent before it arrived is nothing to look at.)
    Ok((!unsent).then_some(inserted.id))
}

/// An edit's row: its type, text and body, the body stored without what the columns hold
/// ([`body`]).
static EDIT_MESSAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let omits = body::omits(
        "?4",
        [
            "?1",
            "line_message_id",
            "?3",
            "quote_token",
            "mark_as_read_token",
        ],
    );
    format!(
        "UPDATE messages SET type = ?1, supported = ?2, text = ?3, body = {}, body_omits = {omits},
             edited_at = ?5
         WHERE id = ?6",
        body::stored("?4", &format!("({omits})")),
    )
});

/// A group message was edited: the newest edit (by LINE's timestamp) wins.
fn edited(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
    event: &Event,
    raw: &RawValue,
    message: &IncomingMessage,
) -> Result<()> {
    let (message_type, text, supported) = describe(&message.content);
    let id: Option<i64> = db
        .prepare_cached(
            "SELECT id FROM messages
             WHERE conversation_id = ? AND line_message_id = ? AND unsent = 0
               AND COALESCE(edited_at, line_timestamp, 0) < ?",
        )?
        .query_row(
            rusqlite::params![conversation.as_str(), message.id.as_str(), event.timestamp],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(());
    };
    db.prepare_cached(&EDIT_MESSAGE)?
        .execute(rusqlite::params![
            &message_type,
            supported,
            text.as_deref(),
            message_json(raw),
            event.timestamp,
            id
        ])?;
    // Not yet indexed: the indexer will read the edited text.
    if id <= search::indexed_up_to(db)? {
        search::reindex_entry(db, id / MESSAGES_PER_ENTRY)?;
    }
    refresh_preview(db, conversation)
}

fn unsend(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
    line_message_id: &str,
) -> Result<()> {
    let ids = db
        .prepare_cached(
            "SELECT id FROM messages
             WHERE conversation_id = ? AND line_message_id = ? AND unsent = 0",
        )?
        .query_map([conversation.as_str(), line_message_id], |row| {
            row.get::<_, i64>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let indexed = search::indexed_up_to(db)?;
    for id in ids {
        db.prepare_cached(
            "UPDATE messages SET unsent = 1, text = NULL, body = '{}', body_omits = 0 WHERE id = ?",
        )?
        .execute(rusqlite::params![id])?;
        if id <= indexed {
            search::reindex_entry(db, id / MESSAGES_PER_ENTRY)?;
        }
    }
    refresh_preview(db, conversation)
}

fn friend_event(
    db: &rusqlite::Connection,
    entry: &Entry,
    user: &str,
    follow: bool,
    is_unblocked: bool,
) -> Result<()> {
    let at = entry.at.0;
    let sql = if follow {
        "UPDATE contacts SET friend_status = 'following', followed_at = ?, blocked_at = NULL
         WHERE user_id = ?"
    } else {
        "UPDATE contacts SET friend_status = 'blocked', blocked_at = ? WHERE user_id = ?"
    };
    db.prepare_cached(sql)?
        .execute(rusqlite::params![at, user])?;
    db.prepare_cached(
        "INSERT INTO friend_history (seq, user_id, event, is_unblocked, at) VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        entry.seq.0 as i64,
        user,
        if follow { "follow" } else { "unfollow" },
        is_unblocked,
        at
    ])?;
    Ok(())
}

/// A tap on a button or a picker: a row of its own, an answer to the satisfaction question
/// when it is one.
fn postback(
    db: &rusqlite::Connection,
    entry: &Entry,
    event: &Event,
    postback: &Postback,
    conversation: &ConversationId,
    user: Option<&str>,
) -> Result<()> {
    let text = postback.data.clone();
    // What the patient picked from a date or time picker comes with the data.
    let body = match &postback.params {
        Some(params) => serde_json::json!({
            "type": "postback",
            "data": postback.data,
            "params": {
                "date": params.date,
                "time": params.time,
                "datetime": params.datetime,
            },
        }),
        None => serde_json::json!({ "type": "postback", "data": postback.data }),
    };
    let message = NewMessage {
        direction: Direction::In,
        author: user,
        message_type: "postback",
        supported: true,
        text: Some(&text),
        body: &body.to_string(),
        reply_token: event.reply_token.as_ref().map(|t| t.as_str()),
        line_timestamp: Some(event.timestamp),
        // A rating of a closed chat asks nobody for an answer.
        awaits: tsunagi_domain::conversation::patient_acts(event),
        ..NewMessage::new(entry, conversation)
    };
    let inserted = insert_message(db, &message)?;
    // A tap is the patient acting, as a message is: it opens the chat to people.
    if message.awaits
        && let Some(change) = session::on_patient_message(inserted.mode, inserted.session.is_some())
    {
        apply_changes(db, entry, conversation, inserted.session, &[change], None)?;
    }
    // An answer to the satisfaction question rates the last closed session: once,
    // and within a day of its close (when the question went out).
    if let Some(rating) = tsunagi_domain::csat::rating(&postback.data) {
        db.prepare_cached(
            "UPDATE sessions SET csat = ?1 WHERE id = (SELECT MAX(id) FROM sessions
                 WHERE conversation_id = ?2 AND status = 'closed')
               AND csat IS NULL AND closed_at >= ?3",
        )?
        .execute(rusqlite::params![
            rating,
            conversation.as_str(),
            entry.at.0 - tsunagi_domain::csat::ANSWERED_WITHIN_MS
        ])?;
    }
    Ok(())
}
