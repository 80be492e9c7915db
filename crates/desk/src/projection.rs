//! Applying the log to the store: entry by entry, in order, in the transaction that also
//! moves the cursor, so a crash anywhere leaves the store at an entry boundary. Time is the
//! entry's `at`, never the local clock. Applying an entry the store already has changes
//! nothing.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::value::RawValue;
use sqlx::{Row as _, SqliteConnection};
use tsunagi_domain::session::{self, Action, Change, Rejection, Status};
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_line::webhook::{Event, EventKind, IncomingMessage, MessageContent, Source};
use tsunagi_proto::{
    ContactProfile, ConversationId, ConversationMode, DeviceId, Entry, EntryBody, LoggedOp, OpId,
    Operation, OperatorId, SendOp, Seq, UnixMillis,
};

use crate::search;
use crate::store::Store;
use crate::{Error, Result};

/// How long LINE accepts a reply token after the webhook arrived (with a margin).
pub const REPLY_TOKEN_LIFETIME_MS: i64 = 50_000;
const PREVIEW_CHARS: usize = 80;

/// What an applied batch changed, for the app to refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub conversations: BTreeSet<ConversationId>,
    pub contacts: BTreeSet<String>,
    pub settings: bool,
    /// The seq the store is at now.
    pub cursor: Seq,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.contacts.is_empty() && !self.settings
    }
}

impl Store {
    /// Applies `entries` (consecutive, in order) in one transaction. Entries at or before
    /// the cursor are skipped; a gap is an error and applies nothing.
    pub async fn apply(&self, entries: &[Entry]) -> Result<Changes> {
        let mut tx = self.writer.begin().await?;
        let cursor: i64 = sqlx::query_scalar("SELECT seq FROM cursor")
            .fetch_one(&mut *tx)
            .await?;
        let mut at = Seq(cursor as u64);
        let mut changes = Changes::default();
        for entry in entries {
            if entry.seq <= at {
                continue;
            }
            if entry.seq != at.next() {
                return Err(Error::Gap {
                    expected: at.next(),
                    got: entry.seq,
                });
            }
            apply_entry(&mut tx, entry, &mut changes).await?;
            at = entry.seq;
        }
        if at.0 as i64 != cursor {
            sqlx::query("UPDATE cursor SET seq = ?")
                .bind(at.0 as i64)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        changes.cursor = at;
        Ok(changes)
    }
}

async fn apply_entry(
    db: &mut SqliteConnection,
    entry: &Entry,
    changes: &mut Changes,
) -> Result<()> {
    match &entry.body {
        EntryBody::Line { event, .. } => line_event(db, entry, event, changes).await,
        EntryBody::Op { op_id, device, op } => {
            operation(db, entry, *op_id, device, op, changes).await
        }
    }
}

// ─── LINE events ────────────────────────────────────────────────────────────────────────

async fn line_event(
    db: &mut SqliteConnection,
    entry: &Entry,
    raw: &RawValue,
    changes: &mut Changes,
) -> Result<()> {
    let event = match Event::from_raw(raw.to_owned()) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(seq = %entry.seq, %error, "an event this desk cannot read is skipped");
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
    let kind = match source {
        Source::User { .. } => "user",
        Source::Group { .. } => "group",
        Source::Room { .. } => "room",
        Source::Unknown => return Ok(()),
    };
    let at = entry.at.0;
    let user = source.user_id().map(|u| u.as_str().to_owned());
    if let Some(user) = &user {
        touch_contact(db, user, at).await?;
        changes.contacts.insert(user.clone());
    }
    match &event.kind {
        EventKind::Message(message) => {
            touch_conversation(db, &conversation, kind, at).await?;
            incoming(
                db,
                entry,
                &event,
                raw,
                message,
                &conversation,
                user.as_deref(),
            )
            .await?;
            changes.conversations.insert(conversation);
        }
        EventKind::MessageEdited(message) => {
            edited(db, &event, raw, message).await?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unsend { message_id } => {
            unsend(db, message_id.as_str()).await?;
            changes.conversations.insert(conversation);
        }
        EventKind::Follow { is_unblocked } => {
            let user = user.unwrap_or_default();
            friend_event(db, entry, &user, true, *is_unblocked).await?;
            touch_conversation(db, &conversation, kind, at).await?;
            let note = if *is_unblocked {
                "unblocked the account"
            } else {
                "followed the account"
            };
            system_message(db, entry, &conversation, Some(&user), note).await?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unfollow => {
            let user = user.unwrap_or_default();
            friend_event(db, entry, &user, false, false).await?;
            if conversation_exists(db, &conversation).await? {
                system_message(db, entry, &conversation, Some(&user), "blocked the account")
                    .await?;
                changes.conversations.insert(conversation);
            }
        }
        EventKind::Join | EventKind::Leave => {
            touch_conversation(db, &conversation, kind, at).await?;
            let note = if matches!(event.kind, EventKind::Join) {
                "the account joined"
            } else {
                "the account left"
            };
            system_message(db, entry, &conversation, None, note).await?;
            changes.conversations.insert(conversation);
        }
        EventKind::Postback(postback) => {
            touch_conversation(db, &conversation, kind, at).await?;
            let text = postback.data.clone();
            let body = serde_json::json!({ "type": "postback", "data": postback.data });
            let message = NewMessage {
                direction: "in",
                author: user.as_deref(),
                message_type: "postback",
                supported: true,
                text: Some(&text),
                body: &body.to_string(),
                reply_token: event.reply_token.as_ref().map(|t| t.as_str()),
                line_timestamp: Some(event.timestamp),
                ..NewMessage::new(entry, &conversation)
            };
            insert_message(db, &message).await?;
            changes.conversations.insert(conversation);
        }
        EventKind::Unknown if conversation_exists(db, &conversation).await? => {
            let body = serde_json::json!({ "type": event.event_type });
            let message = NewMessage {
                direction: "system",
                message_type: &event.event_type,
                supported: false,
                body: &body.to_string(),
                ..NewMessage::new(entry, &conversation)
            };
            insert_message(db, &message).await?;
            changes.conversations.insert(conversation);
        }
        // Nothing a desk shows yet; the log keeps them.
        _ => {}
    }
    Ok(())
}

/// The `message` object of a message event, as LINE sent it.
fn message_json(raw: &RawValue) -> String {
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        message: &'a RawValue,
    }
    serde_json::from_str::<Envelope<'_>>(raw.get())
        .map(|e| e.message.get().to_owned())
        .unwrap_or_else(|_| "{}".to_owned())
}

/// A message's type, its searchable text, and whether this version can show it.
fn describe(content: &MessageContent) -> (String, Option<String>, bool) {
    match content {
        MessageContent::Text { text, .. } => ("text".into(), Some(text.clone()), true),
        MessageContent::Image { .. } => ("image".into(), None, true),
        MessageContent::Video { .. } => ("video".into(), None, true),
        MessageContent::Audio { .. } => ("audio".into(), None, true),
        MessageContent::File { file_name, .. } => ("file".into(), Some(file_name.clone()), true),
        MessageContent::Location { title, address, .. } => {
            let text = [title.as_deref(), address.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            ("location".into(), (!text.is_empty()).then_some(text), true)
        }
        MessageContent::Sticker { .. } => ("sticker".into(), None, true),
        MessageContent::Unknown { message_type, .. } => (message_type.clone(), None, false),
    }
}

fn preview(message_type: &str, text: Option<&str>) -> String {
    match text {
        Some(text) if message_type == "text" => text.chars().take(PREVIEW_CHARS).collect(),
        _ => format!("[{message_type}]"),
    }
}

async fn incoming(
    db: &mut SqliteConnection,
    entry: &Entry,
    event: &Event,
    raw: &RawValue,
    message: &IncomingMessage,
    conversation: &ConversationId,
    user: Option<&str>,
) -> Result<()> {
    let (message_type, text, supported) = describe(&message.content);
    // The relay keeps only a tombstone of a message unsent before it arrived.
    let unsent = message_type == "unsent";
    let body = if unsent {
        "{}".to_owned()
    } else {
        message_json(raw)
    };
    let new = NewMessage {
        direction: "in",
        author: user,
        line_message_id: Some(message.id.as_str()),
        message_type: &message_type,
        supported: supported || unsent,
        text: text.as_deref(),
        body: &body,
        quote_token: message.quote_token.as_ref().map(|t| t.as_str()),
        mark_as_read_token: message.mark_as_read_token.as_ref().map(|t| t.as_str()),
        reply_token: event.reply_token.as_ref().map(|t| t.as_str()),
        unsent,
        line_timestamp: Some(event.timestamp),
        ..NewMessage::new(entry, conversation)
    };
    insert_message(db, &new).await?;
    if let Some(user) = user {
        sqlx::query("UPDATE contacts SET last_message_at = ? WHERE user_id = ?")
            .bind(entry.at.0)
            .bind(user)
            .execute(&mut *db)
            .await?;
    }
    sqlx::query("UPDATE conversations SET unread = unread + 1 WHERE id = ?")
        .bind(conversation.as_str())
        .execute(&mut *db)
        .await?;
    if let Some(state) = conversation_state(db, conversation).await?
        && let Some(change) = session::on_patient_message(&state.decision)
    {
        apply_changes(db, entry, conversation, state.session, &[change], None).await?;
    }
    Ok(())
}

/// A group message was edited: the newest edit (by LINE's timestamp) wins.
async fn edited(
    db: &mut SqliteConnection,
    event: &Event,
    raw: &RawValue,
    message: &IncomingMessage,
) -> Result<()> {
    let (message_type, text, supported) = describe(&message.content);
    let row = sqlx::query(
        "SELECT id FROM messages WHERE line_message_id = ? AND unsent = 0
           AND COALESCE(edited_at, line_timestamp, 0) < ?",
    )
    .bind(message.id.as_str())
    .bind(event.timestamp)
    .fetch_optional(&mut *db)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let id: i64 = row.get(0);
    sqlx::query(
        "UPDATE messages SET type = ?, supported = ?, text = ?, body = ?, edited_at = ?
         WHERE id = ?",
    )
    .bind(&message_type)
    .bind(supported)
    .bind(text.as_deref())
    .bind(message_json(raw))
    .bind(event.timestamp)
    .bind(id)
    .execute(&mut *db)
    .await?;
    search::unindex_message(db, id).await?;
    if let Some(text) = &text {
        search::index_message(db, id, text).await?;
    }
    Ok(())
}

async fn unsend(db: &mut SqliteConnection, line_message_id: &str) -> Result<()> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM messages WHERE line_message_id = ? AND unsent = 0")
            .bind(line_message_id)
            .fetch_all(&mut *db)
            .await?;
    for id in ids {
        sqlx::query("UPDATE messages SET unsent = 1, text = NULL, body = '{}' WHERE id = ?")
            .bind(id)
            .execute(&mut *db)
            .await?;
        search::unindex_message(db, id).await?;
    }
    Ok(())
}

async fn friend_event(
    db: &mut SqliteConnection,
    entry: &Entry,
    user: &str,
    follow: bool,
    is_unblocked: bool,
) -> Result<()> {
    let at = entry.at.0;
    if follow {
        sqlx::query(
            "UPDATE contacts SET friend_status = 'following', followed_at = ?, blocked_at = NULL
             WHERE user_id = ?",
        )
    } else {
        sqlx::query(
            "UPDATE contacts SET friend_status = 'blocked', blocked_at = ? WHERE user_id = ?",
        )
    }
    .bind(at)
    .bind(user)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "INSERT INTO friend_history (seq, user_id, event, is_unblocked, at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(entry.seq.0 as i64)
    .bind(user)
    .bind(if follow { "follow" } else { "unfollow" })
    .bind(is_unblocked)
    .bind(at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

// ─── Operations ─────────────────────────────────────────────────────────────────────────

/// What became of an op.
enum Outcome {
    Applied,
    Rejected(String),
}

async fn operation(
    db: &mut SqliteConnection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    logged: &LoggedOp,
    changes: &mut Changes,
) -> Result<()> {
    let op_json = serde_json::to_string(logged).map_err(|e| Error::Store(e.to_string()))?;
    let LoggedOp::Known(op) = logged else {
        record(
            db,
            entry,
            op_id,
            device,
            "unsupported",
            None,
            "unsupported",
            None,
            &op_json,
        )
        .await?;
        return Ok(());
    };
    let by = OperatorId::from(device);
    let (kind, conversation, outcome) = match op {
        Operation::Claim { conversation } => (
            "claim",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Claim, &by, changes).await?,
        ),
        Operation::Release { conversation } => (
            "release",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Release, &by, changes).await?,
        ),
        Operation::Transfer { conversation, to } => (
            "transfer",
            Some(conversation),
            handoff(
                db,
                entry,
                conversation,
                &Action::Transfer { to: to.clone() },
                &by,
                changes,
            )
            .await?,
        ),
        Operation::Close { conversation } => (
            "close",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Close, &by, changes).await?,
        ),
        Operation::SetMode { conversation, mode } => (
            "set_mode",
            Some(conversation),
            handoff(
                db,
                entry,
                conversation,
                &Action::SetMode(*mode),
                &by,
                changes,
            )
            .await?,
        ),
        Operation::Send(send) => (
            "send",
            Some(&send.conversation),
            outgoing(db, entry, op_id, device, send, changes).await?,
        ),
        Operation::Note { contact, text } => {
            let outcome = if contact_exists(db, contact.as_str()).await? {
                sqlx::query(
                    "INSERT INTO contact_notes (seq, user_id, text, author, at) VALUES (?, ?, ?, ?, ?)",
                )
                .bind(entry.seq.0 as i64)
                .bind(contact.as_str())
                .bind(text)
                .bind(device.as_str())
                .bind(entry.at.0)
                .execute(&mut *db)
                .await?;
                changes.contacts.insert(contact.to_string());
                Outcome::Applied
            } else {
                Outcome::Rejected("there is no such contact".into())
            };
            ("note", None, outcome)
        }
        Operation::Tag {
            contact,
            tag,
            added,
        } => {
            let tag = tag.trim();
            let outcome = if tag.is_empty() {
                Outcome::Rejected("a tag needs a name".into())
            } else if !contact_exists(db, contact.as_str()).await? {
                Outcome::Rejected("there is no such contact".into())
            } else {
                if *added {
                    sqlx::query("INSERT OR IGNORE INTO contact_tags (user_id, tag) VALUES (?, ?)")
                } else {
                    sqlx::query("DELETE FROM contact_tags WHERE user_id = ? AND tag = ?")
                }
                .bind(contact.as_str())
                .bind(tag)
                .execute(&mut *db)
                .await?;
                changes.contacts.insert(contact.to_string());
                Outcome::Applied
            };
            ("tag", None, outcome)
        }
        Operation::Settings(setting) => {
            let value = serde_json::to_string(setting).map_err(|e| Error::Store(e.to_string()))?;
            sqlx::query(
                "INSERT INTO settings (name, value, seq, at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, seq = excluded.seq,
                     at = excluded.at",
            )
            .bind(setting.name())
            .bind(value)
            .bind(entry.seq.0 as i64)
            .bind(entry.at.0)
            .execute(&mut *db)
            .await?;
            changes.settings = true;
            ("settings", None, Outcome::Applied)
        }
        Operation::Profiles { profiles } => {
            for profile in profiles {
                store_profile(db, entry, profile).await?;
                changes.contacts.insert(profile.user_id.to_string());
            }
            ("profiles", None, Outcome::Applied)
        }
        Operation::Sent {
            send, message_ids, ..
        } => {
            let outcome = send_outcome(db, *send, None, message_ids, changes).await?;
            ("sent", None, outcome)
        }
        Operation::SendFailed { send, reason, .. } => {
            let outcome = send_outcome(db, *send, Some(reason), &[], changes).await?;
            ("send_failed", None, outcome)
        }
    };
    let (outcome, reason) = match outcome {
        Outcome::Applied => ("applied", None),
        Outcome::Rejected(reason) => ("rejected", Some(reason)),
    };
    record(
        db,
        entry,
        op_id,
        device,
        kind,
        conversation,
        outcome,
        reason.as_deref(),
        &op_json,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn record(
    db: &mut SqliteConnection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    kind: &str,
    conversation: Option<&ConversationId>,
    outcome: &str,
    reason: Option<&str>,
    op: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (seq, op_id, device, type, conversation, at, outcome, reason, op)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(entry.seq.0 as i64)
    .bind(op_id.to_string())
    .bind(device.as_str())
    .bind(kind)
    .bind(conversation.map(ConversationId::as_str))
    .bind(entry.at.0)
    .bind(outcome)
    .bind(reason)
    .bind(op)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A conversation as the handoff decisions see it, and its open session's id.
struct State {
    decision: session::Conversation,
    session: Option<i64>,
}

async fn conversation_state(
    db: &mut SqliteConnection,
    conversation: &ConversationId,
) -> Result<Option<State>> {
    let row = sqlx::query(
        "SELECT c.mode, c.session_id, s.status, s.operator
         FROM conversations c LEFT JOIN sessions s ON s.id = c.session_id
         WHERE c.id = ?",
    )
    .bind(conversation.as_str())
    .fetch_optional(&mut *db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mode = mode_from(row.get(0))?;
    let session: Option<i64> = row.get(1);
    let open = match (session, row.get::<Option<String>, _>(2).as_deref()) {
        (Some(_), Some("waiting")) => Some(session::Open {
            status: Status::Waiting,
            operator: None,
        }),
        (Some(_), Some("active")) => Some(session::Open {
            status: Status::Active,
            operator: row.get::<Option<String>, _>(3).map(OperatorId::new),
        }),
        _ => None,
    };
    Ok(Some(State {
        decision: session::Conversation { mode, open },
        session,
    }))
}

pub(crate) fn mode_from(text: &str) -> Result<ConversationMode> {
    match text {
        "bot" => Ok(ConversationMode::Bot),
        "human" => Ok(ConversationMode::Human),
        other => Err(Error::Store(format!("unknown mode {other}"))),
    }
}

pub(crate) fn mode_text(mode: ConversationMode) -> &'static str {
    match mode {
        ConversationMode::Bot => "bot",
        ConversationMode::Human => "human",
    }
}

async fn handoff(
    db: &mut SqliteConnection,
    entry: &Entry,
    conversation: &ConversationId,
    action: &Action,
    by: &OperatorId,
    changes: &mut Changes,
) -> Result<Outcome> {
    let state = conversation_state(db, conversation).await?;
    let decided = session::decide(state.as_ref().map(|s| &s.decision), action, by);
    match decided {
        Ok(decided) => {
            let session = state.and_then(|s| s.session);
            apply_changes(db, entry, conversation, session, &decided, Some(by)).await?;
            changes.conversations.insert(conversation.clone());
            Ok(Outcome::Applied)
        }
        Err(rejection) => {
            if !matches!(rejection, Rejection::UnknownConversation) {
                changes.conversations.insert(conversation.clone());
            }
            Ok(Outcome::Rejected(rejection.to_string()))
        }
    }
}

async fn apply_changes(
    db: &mut SqliteConnection,
    entry: &Entry,
    conversation: &ConversationId,
    mut session: Option<i64>,
    decided: &[Change],
    by: Option<&OperatorId>,
) -> Result<()> {
    let at = entry.at.0;
    for change in decided {
        match change {
            Change::Mode(mode) => {
                sqlx::query("UPDATE conversations SET mode = ? WHERE id = ?")
                    .bind(mode_text(*mode))
                    .bind(conversation.as_str())
                    .execute(&mut *db)
                    .await?;
            }
            Change::Open { status, operator } => {
                let id = entry.seq.0 as i64;
                let active = *status == Status::Active;
                sqlx::query(
                    "INSERT INTO sessions (id, conversation_id, status, operator, started_at, claimed_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(conversation.as_str())
                .bind(if active { "active" } else { "waiting" })
                .bind(operator.as_ref().map(OperatorId::as_str))
                .bind(at)
                .bind(active.then_some(at))
                .execute(&mut *db)
                .await?;
                sqlx::query("UPDATE conversations SET session_id = ? WHERE id = ?")
                    .bind(id)
                    .bind(conversation.as_str())
                    .execute(&mut *db)
                    .await?;
                session = Some(id);
            }
            Change::Assign { operator, transfer } => {
                sqlx::query(
                    "UPDATE sessions SET status = 'active', operator = ?,
                         claimed_at = COALESCE(claimed_at, ?), transfers = transfers + ?
                     WHERE id = ?",
                )
                .bind(operator.as_str())
                .bind(at)
                .bind(i64::from(*transfer))
                .bind(session)
                .execute(&mut *db)
                .await?;
            }
            Change::Unassign => {
                sqlx::query("UPDATE sessions SET status = 'waiting', operator = NULL WHERE id = ?")
                    .bind(session)
                    .execute(&mut *db)
                    .await?;
            }
            Change::Close => {
                sqlx::query(
                    "UPDATE sessions SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?",
                )
                .bind(at)
                .bind(by.map(OperatorId::as_str))
                .bind(session)
                .execute(&mut *db)
                .await?;
                sqlx::query("UPDATE conversations SET session_id = NULL WHERE id = ?")
                    .bind(conversation.as_str())
                    .execute(&mut *db)
                    .await?;
                session = None;
            }
        }
    }
    Ok(())
}

async fn outgoing(
    db: &mut SqliteConnection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    send: &SendOp,
    changes: &mut Changes,
) -> Result<Outcome> {
    let conversation = &send.conversation;
    if !conversation_exists(db, conversation).await? {
        return Ok(Outcome::Rejected("there is no such conversation".into()));
    }
    let op_id = op_id.to_string();
    for (part, message) in send.messages.iter().enumerate() {
        let (message_type, text) = describe_outgoing(message);
        let body = serde_json::to_string(message).map_err(|e| Error::Store(e.to_string()))?;
        let new = NewMessage {
            part: part as i64,
            direction: "out",
            author: Some(device.as_str()),
            message_type: &message_type,
            supported: true,
            text: text.as_deref(),
            body: &body,
            send_status: Some("pending"),
            send_op: Some(&op_id),
            ..NewMessage::new(entry, conversation)
        };
        insert_message(db, &new).await?;
    }
    sqlx::query("UPDATE conversations SET unread = 0 WHERE id = ?")
        .bind(conversation.as_str())
        .execute(&mut *db)
        .await?;
    // The first answer of an open session.
    sqlx::query(
        "UPDATE sessions SET first_response_at = COALESCE(first_response_at, ?)
         WHERE id = (SELECT session_id FROM conversations WHERE id = ?)",
    )
    .bind(entry.at.0)
    .bind(conversation.as_str())
    .execute(&mut *db)
    .await?;
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

async fn send_outcome(
    db: &mut SqliteConnection,
    send: OpId,
    failure: Option<&str>,
    message_ids: &[tsunagi_line::MessageId],
    changes: &mut Changes,
) -> Result<Outcome> {
    let send = send.to_string();
    let updated = sqlx::query(
        "UPDATE messages SET send_status = ?, failure = ? WHERE send_op = ? RETURNING conversation_id",
    )
    .bind(if failure.is_some() { "failed" } else { "sent" })
    .bind(failure)
    .bind(&send)
    .fetch_all(&mut *db)
    .await?;
    let Some(first) = updated.first() else {
        return Ok(Outcome::Rejected("there is no such send".into()));
    };
    changes
        .conversations
        .insert(ConversationId::new(first.get::<String, _>(0)));
    for (part, id) in message_ids.iter().enumerate() {
        sqlx::query("UPDATE messages SET line_message_id = ? WHERE send_op = ? AND part = ?")
            .bind(id.as_str())
            .bind(&send)
            .bind(part as i64)
            .execute(&mut *db)
            .await?;
    }
    Ok(Outcome::Applied)
}

async fn store_profile(
    db: &mut SqliteConnection,
    entry: &Entry,
    profile: &ContactProfile,
) -> Result<()> {
    let user = profile.user_id.as_str();
    touch_contact(db, user, entry.at.0).await?;
    let row = sqlx::query(
        "UPDATE contacts SET display_name = ?, picture_url = ?, status_message = ?, language = ?,
             friend_status = CASE WHEN ? AND friend_status = 'unknown' THEN 'following'
                                  ELSE friend_status END
         WHERE user_id = ? RETURNING id",
    )
    .bind(&profile.display_name)
    .bind(&profile.picture_url)
    .bind(&profile.status_message)
    .bind(&profile.language)
    .bind(profile.follower)
    .bind(user)
    .fetch_one(&mut *db)
    .await?;
    let id: i64 = row.get(0);
    search::index_contact(db, id, &profile.display_name).await
}

// ─── Shared writes ──────────────────────────────────────────────────────────────────────

async fn touch_contact(db: &mut SqliteConnection, user: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO contacts (user_id, first_seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(user)
    .bind(at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn contact_exists(db: &mut SqliteConnection, user: &str) -> Result<bool> {
    let found = sqlx::query("SELECT 1 FROM contacts WHERE user_id = ?")
        .bind(user)
        .fetch_optional(&mut *db)
        .await?;
    Ok(found.is_some())
}

async fn touch_conversation(
    db: &mut SqliteConnection,
    conversation: &ConversationId,
    kind: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO conversations (id, kind, last_seq, created_at) VALUES (?, ?, 0, ?)
         ON CONFLICT DO NOTHING",
    )
    .bind(conversation.as_str())
    .bind(kind)
    .bind(at)
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn conversation_exists(
    db: &mut SqliteConnection,
    conversation: &ConversationId,
) -> Result<bool> {
    let found = sqlx::query("SELECT 1 FROM conversations WHERE id = ?")
        .bind(conversation.as_str())
        .fetch_optional(&mut *db)
        .await?;
    Ok(found.is_some())
}

/// A message row to insert.
struct NewMessage<'a> {
    seq: Seq,
    at: UnixMillis,
    part: i64,
    conversation: &'a ConversationId,
    direction: &'static str,
    author: Option<&'a str>,
    line_message_id: Option<&'a str>,
    message_type: &'a str,
    supported: bool,
    text: Option<&'a str>,
    body: &'a str,
    quote_token: Option<&'a str>,
    mark_as_read_token: Option<&'a str>,
    reply_token: Option<&'a str>,
    send_status: Option<&'static str>,
    send_op: Option<&'a str>,
    unsent: bool,
    line_timestamp: Option<i64>,
}

impl<'a> NewMessage<'a> {
    fn new(entry: &Entry, conversation: &'a ConversationId) -> Self {
        Self {
            seq: entry.seq,
            at: entry.at,
            part: 0,
            conversation,
            direction: "system",
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
        }
    }
}

async fn system_message(
    db: &mut SqliteConnection,
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
    insert_message(db, &message).await
}

/// Inserts a message, indexes its text, and makes it the conversation's newest.
async fn insert_message(db: &mut SqliteConnection, m: &NewMessage<'_>) -> Result<()> {
    let expires = m.reply_token.map(|_| m.at.0 + REPLY_TOKEN_LIFETIME_MS);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages
            (seq, part, conversation_id, direction, author, line_message_id, type, supported,
             text, body, quote_token, mark_as_read_token, reply_token, reply_token_expires_at,
             send_status, send_op, unsent, line_timestamp, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         RETURNING id",
    )
    .bind(m.seq.0 as i64)
    .bind(m.part)
    .bind(m.conversation.as_str())
    .bind(m.direction)
    .bind(m.author)
    .bind(m.line_message_id)
    .bind(m.message_type)
    .bind(m.supported)
    .bind(m.text)
    .bind(m.body)
    .bind(m.quote_token)
    .bind(m.mark_as_read_token)
    .bind(m.reply_token)
    .bind(expires)
    .bind(m.send_status)
    .bind(m.send_op)
    .bind(m.unsent)
    .bind(m.line_timestamp)
    .bind(m.at.0)
    .fetch_one(&mut *db)
    .await?;
    if let (Some(text), false) = (m.text, m.unsent || m.direction == "system") {
        search::index_message(db, id, text).await?;
    }
    let preview = if m.unsent {
        "[unsent]".to_owned()
    } else if m.direction == "system" {
        m.text.unwrap_or("").to_owned()
    } else {
        preview(m.message_type, m.text)
    };
    sqlx::query(
        "UPDATE conversations SET last_seq = ?, last_message_at = ?, last_preview = ? WHERE id = ?",
    )
    .bind(m.seq.0 as i64)
    .bind(m.at.0)
    .bind(preview)
    .bind(m.conversation.as_str())
    .execute(&mut *db)
    .await?;
    if m.direction != "system" {
        sqlx::query(
            "UPDATE sessions SET message_count = message_count + 1
             WHERE id = (SELECT session_id FROM conversations WHERE id = ?)",
        )
        .bind(m.conversation.as_str())
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}
