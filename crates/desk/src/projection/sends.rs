//! Sends: a device's messages to a chat, pending until the relay's executor logs how they
//! ended (taken by LINE by reply or push, or failed), and which AI model wrote the bot's.

use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::{
    AiOutcome, ConversationId, Delivery, DeviceId, Entry, OpId, OperatorId, SendOp, Seq,
};

use super::ops::Outcome;
use super::rows::{NewMessage, conversation_exists, insert_message};
use super::{Changes, MESSAGES_PER_ENTRY};
use crate::alerts::Happened;
use crate::columns::Direction;
use crate::{Error, Result};

pub(super) fn outgoing(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    send: &SendOp,
    changes: &mut Changes,
) -> Result<Outcome> {
    let conversation = &send.conversation;
    if !conversation_exists(db, conversation)? {
        return Ok(Outcome::Rejected("there is no such conversation".into()));
    }
    if send.messages.is_empty() || send.messages.len() as i64 > MESSAGES_PER_ENTRY {
        return Ok(Outcome::Rejected(format!(
            "a send carries 1 to {MESSAGES_PER_ENTRY} messages, not {}",
            send.messages.len()
        )));
    }
    let op_id = op_id.to_string();
    for (part, message) in send.messages.iter().enumerate() {
        let (message_type, text) = describe_outgoing(message);
        let body = serde_json::to_string(message).map_err(|e| Error::encoding("a message", e))?;
        let new = NewMessage {
            part: part as i64,
            direction: Direction::Out,
            author: Some(device.as_str()),
            message_type: &message_type,
            supported: true,
            text: text.as_deref(),
            body: &body,
            send_status: Some("pending"),
            send_op: Some(&op_id),
            ..NewMessage::new(entry, conversation)
        };
        insert_message(db, &new)?;
    }
    // The session's first response is the first of a person's sends that LINE takes
    // (`send_outcome`), not this.
    changes.conversations.insert(conversation.clone());
    Ok(Outcome::Applied)
}

fn describe_outgoing(message: &Message) -> (String, Option<String>) {
    let text = match &message.body {
        MessageBody::Text { text, .. } | MessageBody::TextV2 { text, .. } => Some(text.clone()),
        _ => None,
    };
    let message_type = serde_json::to_value(message)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    (message_type, text)
}

/// A reply takes its token: the composer no longer counts on it being free.
pub(super) fn reply_token_spent(db: &rusqlite::Connection, of: Seq) -> Result<Outcome> {
    let first = of.0 as i64 * MESSAGES_PER_ENTRY;
    db.prepare_cached(
        "UPDATE messages SET reply_token_spent = 1
         WHERE id BETWEEN ?1 AND ?1 + ?2 - 1 AND reply_token IS NOT NULL",
    )?
    .execute([first, MESSAGES_PER_ENTRY])?;
    Ok(Outcome::Applied)
}

/// Why a send ended without LINE taking it.
pub(super) struct Failure<'a> {
    pub(super) reason: &'a str,
    /// LINE may have carried it out all the same.
    pub(super) unconfirmed: bool,
    /// LINE's id of the refusal, for its support.
    pub(super) request_id: Option<&'a str>,
}

/// Records how a send ended: delivered `via` reply or push, or failed.
pub(super) fn send_outcome(
    db: &rusqlite::Connection,
    entry: &Entry,
    send: OpId,
    outcome: std::result::Result<Delivery, Failure<'_>>,
    message_ids: &[tsunagi_line::MessageId],
    changes: &mut Changes,
) -> Result<Outcome> {
    let send = send.to_string();
    let (status, via, failure) = match outcome {
        Ok(Delivery::Reply) => ("sent", Some("reply"), None),
        Ok(Delivery::Push) => ("sent", Some("push"), None),
        Err(failure) => ("failed", None, Some(failure)),
    };
    let updated = db
        .prepare_cached(
            "UPDATE messages SET send_status = ?, sent_via = ?, failure = ?, unconfirmed = ?,
                 line_request_id = ?
             WHERE send_op = ?
             RETURNING conversation_id, author, seq, at",
        )?
        .query_map(
            rusqlite::params![
                status,
                via,
                failure.as_ref().map(|f| f.reason),
                failure.as_ref().is_some_and(|f| f.unconfirmed),
                failure.as_ref().and_then(|f| f.request_id),
                &send
            ],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let Some((conversation, author, seq, written_at)) = updated.into_iter().next() else {
        return Ok(Outcome::Rejected("there is no such send".into()));
    };
    // A person's answer, once LINE took it, is the first response of the session it was
    // written in, even if that has closed since (the bot's queue message and greetings are
    // not).
    let by_people = author.as_deref() != Some(tsunagi_proto::EXECUTOR_DEVICE);
    if status == "sent" && by_people {
        db.prepare_cached(
            "UPDATE sessions SET first_response_at = COALESCE(first_response_at, ?1)
             WHERE id = (SELECT max(id) FROM sessions WHERE conversation_id = ?2 AND id <= ?3)
               AND (closed_at IS NULL OR closed_at >= ?4)",
        )?
        .execute(rusqlite::params![
            entry.at.0,
            &conversation,
            seq,
            written_at
        ])?;
    }
    let conversation = ConversationId::new(conversation);
    if status == "failed" {
        changes.happened.push(Happened::SendFailed {
            conversation: conversation.clone(),
            author: author.map(OperatorId::new),
        });
    }
    changes.conversations.insert(conversation);
    for (part, id) in message_ids.iter().enumerate() {
        db.prepare_cached(
            "UPDATE messages SET line_message_id = ? WHERE send_op = ? AND part = ?",
        )?
        .execute(rusqlite::params![id.as_str(), &send, part as i64])?;
    }
    Ok(Outcome::Applied)
}

/// The AI responder answered: its send's messages keep the model that wrote them.
pub(super) fn ai_answered(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
    model: &str,
    outcome: &AiOutcome,
    changes: &mut Changes,
) -> Result<Outcome> {
    if let AiOutcome::Answered { send } = outcome {
        db.prepare_cached("UPDATE messages SET ai_model = ?1 WHERE send_op = ?2")?
            .execute(rusqlite::params![model, send.to_string()])?;
        changes.conversations.insert(conversation.clone());
    }
    Ok(Outcome::Applied)
}
