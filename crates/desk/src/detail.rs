//! What an open conversation shows beside its messages: this desk's read marks, the
//! contact with their tags, notes and friend history, who did what to the chat (claims,
//! transfers, closes, from the audit trail), and the team to transfer to.

use rusqlite::OptionalExtension as _;
use serde::Serialize;
use sqlx::Row as _;
use tsunagi_line::MarkAsReadToken;
use tsunagi_proto::{ConversationId, OperatorId};

use crate::query::FriendStatus;
use crate::store::Store;
use crate::{Error, Result};

/// A contact, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactDetail {
    pub user_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    /// The language of the contact's LINE app (`th`, `ja`, `zh-TW` …).
    pub language: Option<String>,
    pub friend_status: FriendStatus,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub first_seen_at: i64,
    pub tags: Vec<String>,
    /// The clinic's own facts, by field (`chart_number`, `phone`, an owner's own …).
    pub fields: std::collections::BTreeMap<String, String>,
    /// Newest first.
    pub notes: Vec<Note>,
    /// Oldest first.
    pub friend_history: Vec<FriendChange>,
    /// The stop word they wrote: they are sent no reminders until they agree again.
    pub stopped: Option<Stopped>,
    /// Every answer to a consent they gave, newest first.
    pub consents: Vec<ConsentRecord>,
    /// An owner keeps their data whatever the retention.
    pub held: Option<Held>,
}

/// Why a contact's data is kept whatever the retention, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Held {
    pub reason: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

/// A stop word a patient wrote, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stopped {
    pub word: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

/// A consent a patient gave or withdrew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConsentRecord {
    #[cfg_attr(feature = "ts", ts(type = "\"reminders\" | \"health_on_line\""))]
    pub kind: String,
    pub given: bool,
    /// The version of the wording they answered.
    pub wording: String,
    /// An operator recorded it, or the patient tapped a consent button.
    #[cfg_attr(feature = "ts", ts(type = "\"operator\" | \"button\""))]
    pub how: String,
    /// The operator who recorded it.
    pub by_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Note {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub text: String,
    pub author_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

/// A step in a contact's friendship with the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FriendEvent {
    Followed,
    Blocked,
    /// Followed again after blocking.
    Refollowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FriendChange {
    pub event: FriendEvent,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

/// Something people did to a conversation, as the log settled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HandoffEvent {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: i64,
    pub action: HandoffAction,
    /// Who did it (the operator's name when the desk knows it).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub by: OperatorId,
    pub by_name: Option<String>,
    /// A transfer's new holder.
    pub to_name: Option<String>,
    /// False when the log refused it (someone else was first); `reason` says why.
    pub applied: bool,
    pub reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HandoffAction {
    Claimed,
    Released,
    Transferred,
    Closed,
    ToBot,
    ToPeople,
}

/// An operator of the channel, for the transfer picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Operator {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: OperatorId,
    pub name: String,
    pub active: bool,
}

impl Store {
    /// This desk has seen every message of `conversation` so far. Returns the read token
    /// of the newest message from the patient it had not seen yet, for telling LINE
    /// ([`Operation::MarkRead`](tsunagi_proto::Operation::MarkRead)).
    pub async fn mark_read(
        &self,
        conversation: &ConversationId,
    ) -> Result<Option<MarkAsReadToken>> {
        let conversation = conversation.clone();
        self.writer
            .run(move |db| {
                let tx = db.transaction()?;
                let token: Option<String> = tx
                    .prepare_cached(
                        "SELECT m.mark_as_read_token FROM messages m
                         WHERE m.conversation_id = ?1 AND m.direction = 'in'
                           AND m.mark_as_read_token IS NOT NULL
                           AND m.id > COALESCE(
                               (SELECT message_id FROM read_marks WHERE conversation_id = ?1), 0)
                         ORDER BY m.id DESC LIMIT 1",
                    )?
                    .query_row([conversation.as_str()], |row| row.get(0))
                    .optional()?;
                tx.prepare_cached(
                    "INSERT INTO read_marks (conversation_id, message_id)
                     SELECT ?1, COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = ?1
                     ON CONFLICT (conversation_id) DO UPDATE SET message_id = excluded.message_id",
                )?
                .execute([conversation.as_str()])?;
                tx.commit()?;
                Ok(token.map(MarkAsReadToken::new))
            })
            .await
    }

    /// The read token of the patient's newest message in `conversation`, read or not.
    pub async fn newest_read_token(
        &self,
        conversation: &ConversationId,
    ) -> Result<Option<MarkAsReadToken>> {
        let token: Option<String> = sqlx::query_scalar(
            "SELECT mark_as_read_token FROM messages
             WHERE conversation_id = ? AND direction = 'in' AND mark_as_read_token IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .bind(conversation.as_str())
        .fetch_optional(&self.readers)
        .await?;
        Ok(token.map(MarkAsReadToken::new))
    }

    /// A contact with their tags, notes and friend history.
    pub async fn contact(&self, user_id: &str) -> Result<Option<ContactDetail>> {
        let Some(row) = sqlx::query(
            "SELECT user_id, display_name, picture_url, status_message, language,
                 friend_status, first_seen_at, stopped_word, stopped_at, held_reason, held_at
             FROM contacts WHERE user_id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.readers)
        .await?
        else {
            return Ok(None);
        };
        let tags =
            sqlx::query_scalar("SELECT tag FROM contact_tags WHERE user_id = ? ORDER BY tag")
                .bind(user_id)
                .fetch_all(&self.readers)
                .await?;
        let fields = sqlx::query_as::<_, (String, String)>(
            "SELECT field, value FROM contact_fields WHERE user_id = ?",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await?
        .into_iter()
        .collect();
        let notes = sqlx::query(
            "SELECT n.seq, n.text, o.name, n.at FROM contact_notes n
             LEFT JOIN operators o ON o.id = n.author
             WHERE n.user_id = ? ORDER BY n.seq DESC",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await?
        .iter()
        .map(|row| Note {
            seq: row.get(0),
            text: row.get(1),
            author_name: row.get(2),
            at: row.get(3),
        })
        .collect();
        let mut following = false;
        let friend_history = sqlx::query(
            "SELECT event, is_unblocked, at FROM friend_history WHERE user_id = ? ORDER BY seq",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await?
        .iter()
        .map(|row| {
            let follow = row.get::<&str, _>(0) == "follow";
            let event = match (follow, row.get::<bool, _>(1) || following) {
                (true, false) => FriendEvent::Followed,
                (true, true) => FriendEvent::Refollowed,
                (false, _) => FriendEvent::Blocked,
            };
            following = following || follow;
            FriendChange {
                event,
                at: row.get(2),
            }
        })
        .collect();
        let consents = sqlx::query(
            "SELECT c.kind, c.given, c.wording, c.how, o.name, c.at FROM consents c
             LEFT JOIN operators o ON o.id = c.device
             WHERE c.user_id = ? ORDER BY c.seq DESC",
        )
        .bind(user_id)
        .fetch_all(&self.readers)
        .await?
        .iter()
        .map(|row| ConsentRecord {
            kind: row.get(0),
            given: row.get(1),
            wording: row.get(2),
            how: row.get(3),
            by_name: row.get(4),
            at: row.get(5),
        })
        .collect();
        let stopped = (row.get::<Option<String>, _>(7))
            .zip(row.get::<Option<i64>, _>(8))
            .map(|(word, at)| Stopped { word, at });
        let held = (row.get::<Option<String>, _>(9))
            .zip(row.get::<Option<i64>, _>(10))
            .map(|(reason, at)| Held { reason, at });
        let friend_status = match row.get::<&str, _>(5) {
            "following" => FriendStatus::Following,
            "blocked" => FriendStatus::Blocked,
            _ => FriendStatus::Unknown,
        };
        Ok(Some(ContactDetail {
            user_id: row.get(0),
            display_name: row.get(1),
            picture_url: row.get(2),
            status_message: row.get(3),
            language: row.get(4),
            friend_status,
            first_seen_at: row.get(6),
            tags,
            fields,
            notes,
            friend_history,
            stopped,
            consents,
            held,
        }))
    }

    /// Claims, releases, transfers, closes and mode switches of `conversation`, oldest
    /// first; those the log refused too (a claim someone else won).
    pub async fn handoffs(&self, conversation: &ConversationId) -> Result<Vec<HandoffEvent>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.type, a.device, o.name, a.outcome, a.reason, a.at,
                 json_extract(a.op, '$.to'), t.name, json_extract(a.op, '$.mode')
             FROM audit a
             LEFT JOIN operators o ON o.id = a.device
             LEFT JOIN operators t ON t.id = json_extract(a.op, '$.to')
             WHERE a.conversation = ?
               AND a.type IN ('claim', 'release', 'transfer', 'close', 'set_mode')
             ORDER BY a.seq",
        )
        .bind(conversation.as_str())
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                let action = match (row.get::<&str, _>(1), row.get::<Option<&str>, _>(9)) {
                    ("claim", _) => HandoffAction::Claimed,
                    ("release", _) => HandoffAction::Released,
                    ("transfer", _) => HandoffAction::Transferred,
                    ("close", _) => HandoffAction::Closed,
                    ("set_mode", Some("bot")) => HandoffAction::ToBot,
                    ("set_mode", _) => HandoffAction::ToPeople,
                    (other, _) => {
                        return Err(Error::unreadable(format!("unexpected audit type {other}")));
                    }
                };
                let to: Option<String> = row.get(7);
                Ok(HandoffEvent {
                    seq: row.get(0),
                    action,
                    by: OperatorId::new(row.get::<String, _>(2)),
                    by_name: row.get(3),
                    to_name: row.get::<Option<String>, _>(8).or(to),
                    applied: row.get::<&str, _>(4) == "applied",
                    reason: row.get(5),
                    at: row.get(6),
                })
            })
            .collect()
    }

    /// The channel's operators by name, active ones first.
    pub async fn operators(&self) -> Result<Vec<Operator>> {
        let rows = sqlx::query("SELECT id, name, active FROM operators ORDER BY active DESC, name")
            .fetch_all(&self.readers)
            .await?;
        Ok(rows
            .iter()
            .map(|row| Operator {
                id: OperatorId::new(row.get::<String, _>(0)),
                name: row.get(1),
                active: row.get(2),
            })
            .collect())
    }
}
