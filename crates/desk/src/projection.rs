//! Applying the log to the store: entry by entry, in order, in the transaction that also
//! moves the cursor, so a crash anywhere leaves the store at an entry boundary. Time is the
//! entry's `at`, never the local clock. Applying an entry the store already has changes
//! nothing.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rusqlite::OptionalExtension as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use tsunagi_domain::session::{self, Action, Change, Rejection, Status};
use tsunagi_line::UserId;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_line::webhook::{Event, EventKind, IncomingMessage, MessageContent, Source};
use tsunagi_proto::{
    AiOutcome, AlertReason, ContactProfile, ConversationId, ConversationMode, Credential, Delivery,
    DeviceId, Entry, EntryBody, LoggedOp, MediaOutcome, OpId, Operation, OperatorId,
    RecipientOutcome, SendOp, Seq, TelegramOutcome, TelegramTrouble, UnixMillis,
};

use crate::alerts::Happened;
use crate::store::Store;
use crate::{Error, Result};
use crate::{outreach, search};

/// How long LINE accepts a reply token after the webhook arrived (with a margin): as long
/// as the relay's executor uses one.
pub const REPLY_TOKEN_LIFETIME_MS: i64 = tsunagi_domain::automation::REPLY_TOKEN_MS;
const PREVIEW_CHARS: usize = 80;
/// Most messages one entry can carry (a message's id is its seq × this + its place).
pub const MESSAGES_PER_ENTRY: i64 = 1024;

/// What an applied batch changed, for the app to refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub conversations: BTreeSet<ConversationId>,
    pub contacts: BTreeSet<UserId>,
    pub settings: bool,
    /// A follower sync began, moved on or ended.
    pub followers: bool,
    /// A reminder was scheduled, cancelled, or LINE answered for some of its recipients.
    pub reminders: bool,
    /// The devices whose ops were applied (to learn the names of new operators).
    pub devices: BTreeSet<DeviceId>,
    /// Alerts the executor raised, in log order.
    pub alerts: Vec<(ConversationId, AlertReason)>,
    /// What may call for an alert on this desk, in log order ([`crate::alerts::decide`]).
    pub happened: Vec<Happened>,
    /// The seq the store is at now.
    pub cursor: Seq,
    /// Applied as it happened, not while catching up on what the desk missed (set by
    /// sync: alerts for old entries are not news).
    pub live: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.contacts.is_empty()
            && !self.settings
            && !self.followers
            && !self.reminders
            && self.happened.is_empty()
    }
}

impl Store {
    /// Applies `entries` (consecutive, in order) in one transaction. Entries at or before
    /// the cursor are skipped; a gap is an error and applies nothing.
    pub async fn apply(&self, entries: &[Entry]) -> Result<Changes> {
        let entries = entries.to_vec();
        self.writer.run(move |db| apply(db, &entries)).await
    }
}

pub(crate) fn apply(db: &mut rusqlite::Connection, entries: &[Entry]) -> Result<Changes> {
    let tx = db.transaction()?;
    let cursor: i64 = tx.query_row("SELECT seq FROM cursor", [], |row| row.get(0))?;
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
        apply_entry(&tx, entry, &mut changes)?;
        at = entry.seq;
    }
    if at.0 as i64 != cursor {
        tx.prepare_cached("UPDATE cursor SET seq = ?")?
            .execute([at.0 as i64])?;
    }
    tx.commit()?;
    changes.cursor = at;
    Ok(changes)
}

fn apply_entry(db: &rusqlite::Connection, entry: &Entry, changes: &mut Changes) -> Result<()> {
    match &entry.body {
        EntryBody::Line { event, .. } => line_event(db, entry, event, changes),
        EntryBody::Op {
            op_id,
            device,
            role,
            op,
        } => {
            let actor = session::Actor::new(device, *role);
            operation(db, entry, *op_id, device, &actor, op, changes)
        }
    }
}

// ─── LINE events ────────────────────────────────────────────────────────────────────────

fn line_event(
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
        EventKind::Postback(postback) => {
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
                direction: "in",
                author: user.as_deref(),
                message_type: "postback",
                supported: true,
                text: Some(&text),
                body: &body.to_string(),
                reply_token: event.reply_token.as_ref().map(|t| t.as_str()),
                line_timestamp: Some(event.timestamp),
                // A rating of a closed chat asks nobody for an answer.
                awaits: tsunagi_domain::conversation::patient_acts(&event),
                ..NewMessage::new(entry, &conversation)
            };
            let inserted = insert_message(db, &message)?;
            // A tap is the patient acting, as a message is: it opens the chat to people.
            if message.awaits
                && let Some(change) =
                    session::on_patient_message(inserted.mode, inserted.session.is_some())
            {
                apply_changes(db, entry, &conversation, inserted.session, &[change], None)?;
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
            changes.conversations.insert(conversation);
        }
        EventKind::Unknown if conversation_exists(db, &conversation)? => {
            let body = serde_json::json!({ "type": event.event_type });
            let message = NewMessage {
                direction: "system",
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
                direction: "system",
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

/// The name under which the account's LINE settings are kept among the team's.
pub(crate) const LINE_ACCOUNT: &str = "line_account";

/// Keeps `value` as the setting `name`: the last one in the log holds.
fn keep_setting(
    db: &rusqlite::Connection,
    entry: &Entry,
    name: &str,
    value: &impl serde::Serialize,
) -> Result<()> {
    let value = serde_json::to_string(value).map_err(|e| Error::Store(e.to_string()))?;
    db.prepare_cached(
        "INSERT INTO settings (name, value, seq, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, seq = excluded.seq,
             at = excluded.at",
    )?
    .execute(rusqlite::params![
        name,
        value,
        entry.seq.0 as i64,
        entry.at.0
    ])?;
    Ok(())
}

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

/// How a message shows in the inbox row of its conversation.
fn preview_of(direction: &str, message_type: &str, text: Option<&str>, unsent: bool) -> String {
    match text {
        _ if unsent => "[unsent]".to_owned(),
        text if direction == "system" => text.unwrap_or("").to_owned(),
        // What a patient typed on a message sticker is what they said.
        Some(text) if matches!(message_type, "text" | "sticker") => {
            text.chars().take(PREVIEW_CHARS).collect()
        }
        _ => format!("[{message_type}]"),
    }
}

/// Who wrote a message, as an inbox row says it: the patient, the bot (the relay's
/// executor), or a person at a desk. System notes are nobody's.
fn speaker_of(direction: &str, author: Option<&str>) -> Option<&'static str> {
    match direction {
        "in" => Some("patient"),
        "out" if author == Some(tsunagi_proto::EXECUTOR_DEVICE) => Some("bot"),
        "out" => Some("staff"),
        _ => None,
    }
}

/// The inbox preview again, after an edit or unsend may have changed the message it
/// shows: the newest of the patient or of a person, or the bot's while the chat is the
/// bot's.
fn refresh_preview(db: &rusqlite::Connection, conversation: &ConversationId) -> Result<()> {
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
        let preview = preview_of(&direction, &message_type, text.as_deref(), unsent);
        let speaker = speaker_of(&direction, author.as_deref());
        let author = author.filter(|_| speaker == Some("staff"));
        db.prepare_cached(
            "UPDATE conversations SET last_preview = ?, last_speaker = ?, last_author = ?
             WHERE id = ?",
        )?
        .execute(rusqlite::params![
            preview,
            speaker,
            author,
            conversation.as_str()
        ])?;
    }
    Ok(())
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
        direction: "in",
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
    db.prepare_cached(
        "UPDATE messages SET type = ?, supported = ?, text = ?, body = ?, edited_at = ?
         WHERE id = ?",
    )?
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
        search::unindex_message(db, id)?;
        if let Some(text) = &text {
            search::index_message(db, id, text)?;
        }
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
        db.prepare_cached("UPDATE messages SET unsent = 1, text = NULL, body = '{}' WHERE id = ?")?
            .execute(rusqlite::params![id])?;
        if id <= indexed {
            search::unindex_message(db, id)?;
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

// ─── Operations ─────────────────────────────────────────────────────────────────────────

/// What became of an op.
enum Outcome {
    Applied,
    Rejected(String),
}

fn operation(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    by: &session::Actor,
    logged: &LoggedOp,
    changes: &mut Changes,
) -> Result<()> {
    let op_json = serde_json::to_string(logged).map_err(|e| Error::Store(e.to_string()))?;
    changes.devices.insert(device.clone());
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
        )?;
        return Ok(());
    };
    let (kind, conversation, outcome) = match op {
        Operation::Claim { conversation } => (
            "claim",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Claim, by, changes)?,
        ),
        Operation::Release { conversation } => (
            "release",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Release, by, changes)?,
        ),
        Operation::Transfer { conversation, to } => {
            let outcome = handoff(
                db,
                entry,
                conversation,
                &Action::Transfer { to: to.clone() },
                by,
                changes,
            )?;
            if matches!(outcome, Outcome::Applied) {
                changes.happened.push(Happened::Transferred {
                    conversation: conversation.clone(),
                    to: to.clone(),
                    by: by.operator.clone(),
                });
            }
            ("transfer", Some(conversation), outcome)
        }
        Operation::Close { conversation } => (
            "close",
            Some(conversation),
            handoff(db, entry, conversation, &Action::Close, by, changes)?,
        ),
        Operation::SetMode { conversation, mode } => (
            "set_mode",
            Some(conversation),
            handoff(
                db,
                entry,
                conversation,
                &Action::SetMode(*mode),
                by,
                changes,
            )?,
        ),
        // For LINE only (the executor carries them out); the audit keeps that they happened.
        Operation::MarkRead { conversation, .. } => {
            ("mark_read", Some(conversation), Outcome::Applied)
        }
        Operation::Typing { conversation, .. } => ("typing", Some(conversation), Outcome::Applied),
        // What the relay keeps and does for the AI responder and Telegram alerts; the
        // audit keeps that they happened.
        Operation::CredentialSet { credential, set } => {
            db.prepare_cached(
                "INSERT INTO credentials (name, kept, set_at, set_by) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET kept = ?2, set_at = ?3, set_by = ?4,
                     problem = NULL, problem_at = NULL, trouble = NULL",
            )?
            .execute(rusqlite::params![
                credential.name(),
                set,
                entry.at.0,
                device.as_str()
            ])?;
            changes.settings = true;
            ("credential_set", None, Outcome::Applied)
        }
        Operation::AiAnswered {
            conversation,
            model,
            outcome,
            ..
        } => {
            if let AiOutcome::Answered { send } = outcome {
                db.prepare_cached("UPDATE messages SET ai_model = ?1 WHERE send_op = ?2")?
                    .execute(rusqlite::params![model, send.to_string()])?;
                changes.conversations.insert(conversation.clone());
            }
            ("ai_answered", Some(conversation), Outcome::Applied)
        }
        Operation::TelegramSending { .. } => ("telegram_sending", None, Outcome::Applied),
        Operation::TelegramSent { outcome, .. } => {
            // The newest trouble with alerts, for the owner's settings; a success clears it.
            let (problem, trouble) = match outcome {
                TelegramOutcome::Failed { reason, trouble } => {
                    (Some(reason.clone()), Some(*trouble))
                }
                TelegramOutcome::Sent {
                    failed, trouble, ..
                } if !failed.is_empty() => {
                    (Some(failed.join("; ")), Some(trouble.unwrap_or_default()))
                }
                _ => (None, None),
            };
            db.prepare_cached(
                "UPDATE credentials SET problem = ?1, problem_at = ?2, trouble = ?3
                 WHERE name = ?4",
            )?
            .execute(rusqlite::params![
                problem,
                entry.at.0,
                trouble.map(TelegramTrouble::name),
                Credential::TelegramToken.name()
            ])?;
            changes.settings = true;
            ("telegram_sent", None, Outcome::Applied)
        }
        Operation::Send(send) => (
            "send",
            Some(&send.conversation),
            outgoing(db, entry, op_id, device, send, changes)?,
        ),
        Operation::Note { contact, text } => {
            let outcome = if contact_exists(db, contact.as_str())? {
                db.prepare_cached("INSERT INTO contact_notes (seq, user_id, text, author, at) VALUES (?, ?, ?, ?, ?)")?
        .execute(rusqlite::params![entry.seq.0 as i64, contact.as_str(), text, device.as_str(), entry.at.0])?;
                changes.contacts.insert(contact.clone());
                Outcome::Applied
            } else {
                Outcome::Rejected("there is no such contact".into())
            };
            ("note", None, outcome)
        }
        Operation::ContactFields { contact, fields } => {
            let unknown = unknown_contact_field(db, fields.keys())?;
            let outcome =
                if let Some(field) = unknown {
                    Outcome::Rejected(format!("the clinic keeps no contact field {field:?}"))
                } else if contact_exists(db, contact.as_str())? {
                    for (field, value) in fields {
                        let value = value.trim();
                        if value.is_empty() {
                            db.prepare_cached(
                                "DELETE FROM contact_fields WHERE user_id = ? AND field = ?",
                            )?
                            .execute(rusqlite::params![contact.as_str(), field])?;
                        } else {
                            db.prepare_cached(
                            "INSERT INTO contact_fields (user_id, field, value) VALUES (?, ?, ?)
                             ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value",
                        )?
                        .execute(rusqlite::params![contact.as_str(), field, value])?;
                        }
                    }
                    what_the_clinic_wrote_changed(db, contact, changes)?;
                    Outcome::Applied
                } else {
                    Outcome::Rejected("there is no such contact".into())
                };
            ("contact_fields", None, outcome)
        }
        Operation::Tag {
            contact,
            tag,
            added,
        } => {
            let tag = tag.trim();
            let outcome = if tag.is_empty() {
                Outcome::Rejected("a tag needs a name".into())
            } else if !contact_exists(db, contact.as_str())? {
                Outcome::Rejected("there is no such contact".into())
            } else {
                let sql = if *added {
                    "INSERT OR IGNORE INTO contact_tags (user_id, tag) VALUES (?, ?)"
                } else {
                    "DELETE FROM contact_tags WHERE user_id = ? AND tag = ?"
                };
                db.prepare_cached(sql)?
                    .execute(rusqlite::params![contact.as_str(), tag])?;
                what_the_clinic_wrote_changed(db, contact, changes)?;
                Outcome::Applied
            };
            ("tag", None, outcome)
        }
        Operation::Settings(setting) => {
            keep_setting(db, entry, setting.name(), setting)?;
            changes.settings = true;
            ("settings", None, Outcome::Applied)
        }
        // Kept beside the team's settings: the read-receipt editor reads it.
        Operation::LineAccount(account) => {
            keep_setting(db, entry, LINE_ACCOUNT, account)?;
            changes.settings = true;
            ("line_account", None, Outcome::Applied)
        }
        Operation::Profiles { profiles } => {
            for profile in profiles {
                store_profile(db, entry, profile)?;
                changes.contacts.insert(profile.user_id.clone());
            }
            ("profiles", None, Outcome::Applied)
        }
        Operation::Sent {
            send,
            message_ids,
            via,
        } => {
            let outcome = send_outcome(db, entry, *send, Ok(*via), message_ids, changes)?;
            ("sent", None, outcome)
        }
        Operation::SendFailed {
            send,
            reason,
            unconfirmed,
            request_id,
            ..
        } => {
            let failure = Failure {
                reason,
                unconfirmed: *unconfirmed,
                request_id: request_id.as_deref(),
            };
            let outcome = send_outcome(db, entry, *send, Err(failure), &[], changes)?;
            ("send_failed", None, outcome)
        }
        // The send stays pending until its outcome; the audit shows the attempt. A reply
        // takes its token: the composer no longer counts on it being free.
        Operation::Sending {
            via: Delivery::Reply,
            token_of: Some(of),
            ..
        } => {
            let first = of.0 as i64 * MESSAGES_PER_ENTRY;
            db.prepare_cached(
                "UPDATE messages SET reply_token_spent = 1
                 WHERE id BETWEEN ?1 AND ?1 + ?2 - 1 AND reply_token IS NOT NULL",
            )?
            .execute([first, MESSAGES_PER_ENTRY])?;
            ("sending", None, Outcome::Applied)
        }
        Operation::Sending { .. } => ("sending", None, Outcome::Applied),
        Operation::NotSent { .. } => ("not_sent", None, Outcome::Applied),
        Operation::Unanswered { .. } => ("unanswered", None, Outcome::Applied),
        Operation::Alert {
            conversation,
            reason,
        } => {
            changes.conversations.insert(conversation.clone());
            changes.alerts.push((conversation.clone(), *reason));
            changes.happened.push(match reason {
                AlertReason::Handoff => Happened::Handoff {
                    conversation: conversation.clone(),
                },
                AlertReason::Escalated => Happened::Escalated {
                    conversation: conversation.clone(),
                },
                AlertReason::RedFlag => Happened::RedFlag {
                    conversation: conversation.clone(),
                },
            });
            if *reason == AlertReason::RedFlag {
                // The open session leads the queue from now on; the audit keeps each case.
                db.prepare_cached(
                    "UPDATE sessions SET urgent_at = COALESCE(urgent_at, ?2)
                     WHERE id = (SELECT session_id FROM conversations WHERE id = ?1)
                       AND status <> 'closed'",
                )?
                .execute(rusqlite::params![conversation.as_str(), entry.at.0])?;
                ("red_flag", Some(conversation), Outcome::Applied)
            } else {
                ("alert", Some(conversation), Outcome::Applied)
            }
        }
        Operation::ScheduleReminder(reminder) => {
            outreach::reminder_scheduled(db, entry, op_id, device, reminder)?;
            changes.reminders = true;
            ("schedule_reminder", None, Outcome::Applied)
        }
        Operation::CancelReminder { reminder } => {
            changes.reminders = true;
            let outcome = match outreach::reminder_cancelled(db, entry, *reminder, device, by)? {
                outreach::Cancelled::Yes => Outcome::Applied,
                outreach::Cancelled::TooLate => {
                    Outcome::Rejected("the reminder was sent or cancelled already".into())
                }
                outreach::Cancelled::NotYours => Outcome::Rejected(
                    "only an owner cancels a reminder to more than one patient".into(),
                ),
            };
            ("cancel_reminder", None, outcome)
        }
        Operation::ReminderRecipients {
            reminder,
            recipients,
        } => {
            outreach::reminder_fixed(db, entry, *reminder, recipients)?;
            changes.reminders = true;
            ("reminder_recipients", None, Outcome::Applied)
        }
        Operation::ReminderDelivered {
            reminder, results, ..
        } => {
            outreach::reminder_delivered(db, entry, *reminder, results)?;
            changes.reminders = true;
            let failed = results
                .iter()
                .filter(|r| matches!(r.outcome, RecipientOutcome::Failed { .. }))
                .count();
            if failed > 0
                && let Some(by) = db
                    .prepare_cached("SELECT device FROM audit WHERE op_id = ?")?
                    .query_row([reminder.to_string()], |row| row.get::<_, String>(0))
                    .optional()?
            {
                changes.happened.push(Happened::ReminderFailed {
                    reminder: *reminder,
                    by: OperatorId::new(by),
                    failed,
                });
            }
            ("reminder_delivered", None, Outcome::Applied)
        }
        // Which messages' media the relay keeps: the audit has it until the app fetches media.
        Operation::Media { message, outcome } => {
            media(db, entry, message, outcome)?;
            ("media", None, Outcome::Applied)
        }
        // The profiles a follower sync logs are applied as they come; its progress is kept.
        Operation::SyncFollowers => {
            outreach::sync_started(db, entry, op_id, device)?;
            changes.followers = true;
            ("sync_followers", None, Outcome::Applied)
        }
        Operation::FollowerIds { .. } => ("follower_ids", None, Outcome::Applied),
        Operation::FollowerSyncProgress {
            sync, done, total, ..
        } => {
            outreach::sync_progress(db, entry, *sync, *done, *total)?;
            changes.followers = true;
            ("follower_sync_progress", None, Outcome::Applied)
        }
        Operation::FollowerSyncDone { sync, outcome } => {
            outreach::sync_done(db, entry, *sync, outcome)?;
            changes.followers = true;
            ("follower_sync_done", None, Outcome::Applied)
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
}

#[allow(clippy::too_many_arguments)]
fn record(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    kind: &str,
    conversation: Option<&ConversationId>,
    outcome: &str,
    reason: Option<&str>,
    op: &str,
) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO audit (seq, op_id, device, type, conversation, at, outcome, reason, op)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        entry.seq.0 as i64,
        op_id.to_string(),
        device.as_str(),
        kind,
        conversation.map(ConversationId::as_str),
        entry.at.0,
        outcome,
        reason,
        op
    ])?;
    Ok(())
}

/// A conversation as the handoff decisions see it, and its open session's id.
struct State {
    decision: session::Conversation,
    session: Option<i64>,
}

fn conversation_state(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
) -> Result<Option<State>> {
    let row = db
        .prepare_cached(
            "SELECT c.mode, c.session_id, s.status, s.operator
             FROM conversations c LEFT JOIN sessions s ON s.id = c.session_id
             WHERE c.id = ?",
        )?
        .query_row([conversation.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    let Some((mode, session, status, operator)) = row else {
        return Ok(None);
    };
    let mode = mode_from(&mode)?;
    let open = match (session, status.as_deref()) {
        (Some(_), Some("waiting")) => Some(session::Open {
            status: Status::Waiting,
            operator: None,
        }),
        (Some(_), Some("active")) => Some(session::Open {
            status: Status::Active,
            operator: operator.map(OperatorId::new),
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

fn handoff(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    action: &Action,
    by: &session::Actor,
    changes: &mut Changes,
) -> Result<Outcome> {
    let state = conversation_state(db, conversation)?;
    let decided = session::decide(state.as_ref().map(|s| &s.decision), action, by);
    match decided {
        Ok(decided) => {
            let session = state.and_then(|s| s.session);
            apply_changes(
                db,
                entry,
                conversation,
                session,
                &decided,
                Some(&by.operator),
            )?;
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

fn apply_changes(
    db: &rusqlite::Connection,
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
                db.prepare_cached("UPDATE conversations SET mode = ? WHERE id = ?")?
                    .execute(rusqlite::params![mode_text(*mode), conversation.as_str()])?;
            }
            Change::Open { status, operator } => {
                let id = entry.seq.0 as i64;
                let active = *status == Status::Active;
                db.prepare_cached(
                    "INSERT INTO sessions
                         (id, conversation_id, status, operator, started_at, claimed_at,
                          queued_seq, queued_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?1, ?5)",
                )?
                .execute(rusqlite::params![
                    id,
                    conversation.as_str(),
                    if active { "active" } else { "waiting" },
                    operator.as_ref().map(OperatorId::as_str),
                    at,
                    active.then_some(at)
                ])?;
                db.prepare_cached(
                    "UPDATE conversations SET session_id = ?, state = ?, operator = ? WHERE id = ?",
                )?
                .execute(rusqlite::params![
                    id,
                    if active { "active" } else { "waiting" },
                    operator.as_ref().map(OperatorId::as_str),
                    conversation.as_str()
                ])?;
                session = Some(id);
            }
            Change::Assign { operator, transfer } => {
                db.prepare_cached(
                    "UPDATE sessions SET status = 'active', operator = ?,
                         claimed_at = COALESCE(claimed_at, ?), transfers = transfers + ?
                     WHERE id = ?",
                )?
                .execute(rusqlite::params![
                    operator.as_str(),
                    at,
                    i64::from(*transfer),
                    session
                ])?;
                set_state(db, conversation, "active", Some(operator))?;
            }
            Change::Unassign => {
                // Back to the end of the queue, waiting from now.
                db.prepare_cached(
                    "UPDATE sessions SET status = 'waiting', operator = NULL,
                         queued_seq = ?, queued_at = ?
                     WHERE id = ?",
                )?
                .execute(rusqlite::params![entry.seq.0 as i64, at, session])?;
                set_state(db, conversation, "waiting", None)?;
            }
            Change::Close => {
                db.prepare_cached("UPDATE sessions SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?")?
        .execute(rusqlite::params![at, by.map(OperatorId::as_str), session])?;
                db.prepare_cached("UPDATE conversations SET session_id = NULL WHERE id = ?")?
                    .execute(rusqlite::params![conversation.as_str()])?;
                set_state(db, conversation, "closed", None)?;
                session = None;
            }
        }
    }
    Ok(())
}

/// The conversation's copy of its newest session's state and operator.
fn set_state(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
    state: &str,
    operator: Option<&OperatorId>,
) -> Result<()> {
    // A closed chat waits for nobody: the patient's next message starts a new wait.
    db.prepare_cached(
        "UPDATE conversations SET state = ?1, operator = ?2,
             awaiting_since = CASE WHEN ?1 = 'closed' THEN NULL ELSE awaiting_since END
         WHERE id = ?3",
    )?
    .execute(rusqlite::params![
        state,
        operator.map(OperatorId::as_str),
        conversation.as_str()
    ])?;
    Ok(())
}

fn outgoing(
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

/// What the relay keeps of a message's media; the newest word on it holds.
fn media(
    db: &rusqlite::Connection,
    entry: &Entry,
    message: &tsunagi_line::MessageId,
    outcome: &MediaOutcome,
) -> Result<()> {
    let (state, content_type, size, preview, reason) = match outcome {
        MediaOutcome::Stored {
            content_type,
            size,
            preview,
        } => (
            "stored",
            Some(content_type.as_str()),
            Some(*size as i64),
            *preview,
            None,
        ),
        MediaOutcome::Gone => ("gone", None, None, false, None),
        MediaOutcome::Failed { reason } => ("failed", None, None, false, Some(reason.as_str())),
    };
    db.prepare_cached(
        "INSERT OR REPLACE INTO media (message_id, state, content_type, size, preview, reason, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        message.as_str(),
        state,
        content_type,
        size,
        preview,
        reason,
        entry.seq.0 as i64
    ])?;
    Ok(())
}

/// Why a send ended without LINE taking it.
struct Failure<'a> {
    reason: &'a str,
    /// LINE may have carried it out all the same.
    unconfirmed: bool,
    /// LINE's id of the refusal, for its support.
    request_id: Option<&'a str>,
}

/// Records how a send ended: delivered `via` reply or push, or failed.
fn send_outcome(
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

fn store_profile(db: &rusqlite::Connection, entry: &Entry, profile: &ContactProfile) -> Result<()> {
    let user = profile.user_id.as_str();
    touch_contact(db, user, entry.at.0, None)?;
    let (id, old_name): (i64, Option<String>) = db
        .prepare_cached("SELECT id, display_name FROM contacts WHERE user_id = ?")?
        .query_row([user], |row| Ok((row.get(0)?, row.get(1)?)))?;
    db.prepare_cached(
        "UPDATE contacts SET display_name = ?, picture_url = ?, status_message = ?,
             language = ?,
             friend_status = CASE WHEN ? AND friend_status = 'unknown' THEN 'following'
                                  ELSE friend_status END
         WHERE id = ?",
    )?
    .execute(rusqlite::params![
        profile.display_name,
        profile.picture_url,
        profile.status_message,
        profile.language,
        profile.follower,
        id
    ])?;
    if old_name.as_deref() != Some(profile.display_name.as_str()) {
        search::index_contact(db, user)?;
    }
    Ok(())
}

// ─── Shared writes ──────────────────────────────────────────────────────────────────────

/// Notes a contact the first time they appear, and when they last wrote.
fn touch_contact(db: &rusqlite::Connection, user: &str, at: i64, wrote: Option<i64>) -> Result<()> {
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

fn contact_exists(db: &rusqlite::Connection, user: &str) -> Result<bool> {
    Ok(db
        .prepare_cached("SELECT 1 FROM contacts WHERE user_id = ?")?
        .exists([user])?)
}

fn conversation_exists(db: &rusqlite::Connection, conversation: &ConversationId) -> Result<bool> {
    Ok(db
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?")?
        .exists([conversation.as_str()])?)
}

/// The clinic's words on a contact changed (a tag, a field): search finds them, and the
/// contact and their chat's row are read again.
fn what_the_clinic_wrote_changed(
    db: &rusqlite::Connection,
    contact: &UserId,
    changes: &mut Changes,
) -> Result<()> {
    search::index_contact(db, contact.as_str())?;
    changes.contacts.insert(contact.clone());
    changes
        .conversations
        .insert(ConversationId::new(contact.as_str()));
    Ok(())
}

/// The first of `keys` that is neither a built-in contact field nor one the owners added
/// (as the log has it so far).
fn unknown_contact_field<'k>(
    db: &rusqlite::Connection,
    mut keys: impl Iterator<Item = &'k String>,
) -> Result<Option<String>> {
    let added: Option<String> = db
        .prepare_cached("SELECT value FROM settings WHERE name = 'contact_fields'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    let added: Vec<tsunagi_proto::ContactField> = match added
        .map(|json| serde_json::from_str::<tsunagi_proto::Setting>(&json))
        .transpose()
        .map_err(|e| Error::Store(e.to_string()))?
    {
        Some(tsunagi_proto::Setting::ContactFields { fields }) => fields,
        _ => Vec::new(),
    };
    Ok(keys
        .find(|key| {
            !tsunagi_proto::BUILT_IN_CONTACT_FIELDS.contains(&key.as_str())
                && !added.iter().any(|f| &f.key == *key)
        })
        .cloned())
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
    /// The patient's message waits for an answer (and is what the inbox row previews).
    awaits: bool,
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
            awaits: true,
        }
    }
}

fn system_message(
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
struct Inserted {
    /// The message's id.
    id: i64,
    mode: ConversationMode,
    /// The open session, if any.
    session: Option<i64>,
}

/// The kind of chat a conversation id names (LINE's ids start with U, C or R).
fn kind_of(conversation: &ConversationId) -> &'static str {
    match conversation.as_str().as_bytes().first() {
        Some(b'C') => "group",
        Some(b'R') => "room",
        _ => "user",
    }
}

/// Inserts a message and makes it its conversation's newest (creating the conversation
/// if need be). Its text is indexed for search later, in bulk ([`Store::index_search`]).
fn insert_message(db: &rusqlite::Connection, m: &NewMessage<'_>) -> Result<Inserted> {
    let expires = m.reply_token.map(|_| m.at.0 + REPLY_TOKEN_LIFETIME_MS);
    let id = m.seq.0 as i64 * MESSAGES_PER_ENTRY + m.part;
    db.prepare_cached(
        "INSERT INTO messages
            (id, seq, part, conversation_id, direction, author, line_message_id, type, supported,
             text, body, quote_token, mark_as_read_token, reply_token, reply_token_expires_at,
             send_status, send_op, unsent, line_timestamp, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        id,
        m.seq.0 as i64,
        m.part,
        m.conversation.as_str(),
        m.direction,
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
    let staff_author = m.author.filter(|_| speaker == Some("staff"));
    // Unread counts the patient's messages since the team last answered (the bot's queue
    // message and greetings are no answer).
    let (unread, answered) = match m.direction {
        "in" => (1, false),
        "out" => (0, m.author != Some(tsunagi_proto::EXECUTOR_DEVICE)),
        _ => (0, false),
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
                speaker,
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
                speaker,
                staff_author
            ])?;
            (mode_text(ConversationMode::Bot).to_owned(), None)
        }
    };
    if let (Some(session), false) = (session, m.direction == "system") {
        db.prepare_cached("UPDATE sessions SET message_count = message_count + 1 WHERE id = ?")?
            .execute([session])?;
    }
    Ok(Inserted {
        id,
        mode: mode_from(&mode)?,
        session,
    })
}
