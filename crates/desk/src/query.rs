//! The queries behind the conversation pane, the contact list and the audit, all answered
//! from the local store (the inbox's lists are in [`crate::inbox`]).

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tsunagi_proto::ConversationId;

use crate::sheet::Sheet;
use crate::store::Store;
use crate::{Error, Result};

pub use crate::columns::{
    ChatKind, Direction, MAX_PAGE, MediaState, SendStatus, SentVia, SessionStatus, Speaker,
};
use crate::columns::{MESSAGES_PER_ENTRY, body, check_limit};
pub use crate::inbox::{InboxCounts, InboxItem, InboxList, PageCursor, SessionSummary, UNREAD_CAP};

impl Store {
    /// What the log says of a message's media: `None` until the relay reports on it.
    pub async fn media_state(
        &self,
        message: &tsunagi_line::MessageId,
    ) -> Result<Option<MediaState>> {
        let state: Option<String> =
            sqlx::query_scalar("SELECT state FROM media WHERE message_id = ?")
                .bind(message.as_str())
                .fetch_optional(&self.readers)
                .await?;
        state.as_deref().map(MediaState::parse).transpose()
    }
}

/// A message's media, as the relay keeps it (the file itself comes from the media cache).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MediaView {
    pub state: MediaState,
    pub content_type: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub size: Option<i64>,
    /// A thumbnail is kept too.
    pub preview: bool,
    /// Why it could not be kept.
    pub reason: Option<String>,
}

/// A message as a conversation shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MessageView {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: u64,
    pub part: u32,
    pub direction: Direction,
    pub author: Option<String>,
    /// The operator's name (out), or the contact's (in).
    pub author_name: Option<String>,
    pub line_message_id: Option<String>,
    #[serde(rename = "type")]
    pub message_type: String,
    pub supported: bool,
    pub text: Option<String>,
    /// The message object as JSON (images, stickers, locations …).
    pub body: String,
    pub quote_token: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub reply_token_expires_at: Option<i64>,
    pub send_status: Option<SendStatus>,
    pub sent_via: Option<SentVia>,
    /// Images, video, audio and files users sent: what the relay keeps.
    pub media: Option<MediaView>,
    pub failure: Option<String>,
    /// LINE's id of a refusal, to quote to LINE's support.
    pub line_request_id: Option<String>,
    pub unsent: bool,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub edited_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
    /// The model that wrote it, when the AI responder sent it.
    pub ai_model: Option<String>,
    /// The message this one quotes (LINE's `quotedMessageId`), when the desk has it.
    pub quoted: Option<QuotedView>,
}

/// What a quote bar shows of the message quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QuotedView {
    pub direction: Direction,
    /// The operator's or the contact's name; none for the bot.
    pub author_name: Option<String>,
    #[serde(rename = "type")]
    pub message_type: String,
    pub text: Option<String>,
    pub unsent: bool,
}

/// Which messages of a conversation: the newest, or those before or after a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagesPage {
    Newest,
    Before { seq: u64, part: u32 },
    After { seq: u64, part: u32 },
}

/// A contact and what the desk knows of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactView {
    pub user_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "FriendStatus | \"unknown\""))]
    pub friend_status: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub first_seen_at: i64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub followed_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub blocked_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_message_at: Option<i64>,
    pub tags: Vec<String>,
    pub cursor: PageCursor,
}

/// Which contacts a list shows: all of them when every field is empty.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactFilter {
    pub friend_status: Option<FriendStatus>,
    /// Only those who never wrote to the clinic.
    pub never_messaged: bool,
    pub tag: Option<String>,
    /// Part of their LINE name, in any case.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FriendStatus {
    Following,
    Blocked,
    Unknown,
}

impl FriendStatus {
    fn as_str(self) -> &'static str {
        match self {
            FriendStatus::Following => "following",
            FriendStatus::Blocked => "blocked",
            FriendStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ContactCounts {
    pub all: u32,
    pub following: u32,
    pub blocked: u32,
    pub never_messaged: u32,
}

/// An op in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditRecord {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub seq: u64,
    pub op_id: String,
    pub device: String,
    pub operator_name: Option<String>,
    #[serde(rename = "type")]
    pub op_type: String,
    pub conversation: Option<String>,
    /// The patient's name, for a 1:1 chat the desk knows.
    pub conversation_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
    #[cfg_attr(
        feature = "ts",
        ts(type = "\"applied\" | \"rejected\" | \"unsupported\"")
    )]
    pub outcome: String,
    pub reason: Option<String>,
}

/// Which operator actions the audit screen shows: all of them when every field is empty.
/// What the relay's executor logs (LINE's answers, profiles, progress) is not among them,
/// but for red flags: each patient who wrote words of an emergency is on the record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditFilter {
    /// One device's (operator's) actions.
    pub device: Option<String>,
    /// One kind of action (`claim`, `send`, `settings` …).
    #[serde(rename = "type")]
    pub op_type: Option<String>,
    /// Only those the log refused.
    pub rejected_only: bool,
    /// From and until (exclusive), in ms.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub from: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub to: Option<i64>,
}

impl Store {
    /// A page of a conversation's messages, always oldest first within the page.
    pub async fn messages(
        &self,
        conversation: &ConversationId,
        page: MessagesPage,
        limit: u32,
    ) -> Result<Vec<MessageView>> {
        let limit = check_limit(limit)?;
        let columns = "m.seq, m.part, m.direction, m.author, COALESCE(o.name, ct.display_name),
            m.line_message_id, m.type, m.supported, m.text, m.body, m.quote_token,
            m.reply_token_expires_at,
            IIF(m.unconfirmed, 'unconfirmed', m.send_status), m.failure, m.unsent, m.edited_at, m.at,
            m.sent_via, md.state, md.content_type, md.size, md.preview, md.reason, m.ai_model,
            m.line_request_id, q.direction, COALESCE(qo.name, qct.display_name), q.type, q.text,
            q.unsent, m.body_omits, m.mark_as_read_token";
        let joins = "LEFT JOIN operators o ON o.id = m.author
            LEFT JOIN contacts ct ON ct.user_id = m.author
            LEFT JOIN media md ON md.message_id = m.line_message_id
            LEFT JOIN messages q ON q.id = (SELECT id FROM messages
                WHERE conversation_id = m.conversation_id
                  AND line_message_id = json_extract(m.body, '$.quotedMessageId')
                LIMIT 1)
            LEFT JOIN operators qo ON qo.id = q.author
            LEFT JOIN contacts qct ON qct.user_id = q.author";
        let id = |seq: u64, part: u32| seq as i64 * MESSAGES_PER_ENTRY + i64::from(part);
        let (condition, order, position) = match page {
            MessagesPage::Newest => ("m.id < ?2", "DESC", i64::MAX),
            MessagesPage::Before { seq, part } => ("m.id < ?2", "DESC", id(seq, part)),
            MessagesPage::After { seq, part } => ("m.id > ?2", "ASC", id(seq, part)),
        };
        let sql = format!(
            "SELECT {columns} FROM messages m {joins}
             WHERE m.conversation_id = ?1 AND {condition}
             ORDER BY m.id {order} LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(conversation.as_str())
            .bind(position)
            .bind(limit)
            .fetch_all(&self.readers)
            .await?;
        let mut messages: Vec<MessageView> = rows
            .iter()
            .map(|row| {
                Ok(MessageView {
                    seq: row.get::<i64, _>(0) as u64,
                    part: row.get::<i64, _>(1) as u32,
                    direction: Direction::parse(row.get(2))?,
                    author: row.get(3),
                    author_name: row.get(4),
                    line_message_id: row.get(5),
                    message_type: row.get(6),
                    supported: row.get(7),
                    text: row.get(8),
                    body: body::whole(
                        row.get(9),
                        row.get(30),
                        [row.get(6), row.get(5), row.get(8), row.get(10), row.get(31)],
                    ),
                    quote_token: row.get(10),
                    reply_token_expires_at: row.get(11),
                    send_status: row
                        .get::<Option<&str>, _>(12)
                        .map(SendStatus::parse)
                        .transpose()?,
                    failure: row.get(13),
                    unsent: row.get(14),
                    edited_at: row.get(15),
                    at: row.get(16),
                    sent_via: row
                        .get::<Option<&str>, _>(17)
                        .map(SentVia::parse)
                        .transpose()?,
                    media: row
                        .get::<Option<&str>, _>(18)
                        .map(|state| -> Result<MediaView> {
                            Ok(MediaView {
                                state: MediaState::parse(state)?,
                                content_type: row.get(19),
                                size: row.get(20),
                                preview: row.get::<Option<bool>, _>(21).unwrap_or(false),
                                reason: row.get(22),
                            })
                        })
                        .transpose()?,
                    ai_model: row.get(23),
                    line_request_id: row.get(24),
                    quoted: row
                        .get::<Option<&str>, _>(25)
                        .map(|direction| -> Result<QuotedView> {
                            Ok(QuotedView {
                                direction: Direction::parse(direction)?,
                                author_name: row.get(26),
                                message_type: row.get(27),
                                text: row.get(28),
                                unsent: row.get(29),
                            })
                        })
                        .transpose()?,
                })
            })
            .collect::<Result<_>>()?;
        if order == "DESC" {
            messages.reverse();
        }
        Ok(messages)
    }

    /// A page of contacts, newest first.
    pub async fn contacts(
        &self,
        filter: &ContactFilter,
        before: Option<PageCursor>,
        limit: u32,
    ) -> Result<Vec<ContactView>> {
        let limit = check_limit(limit)?;
        let rows = sqlx::query(
            "SELECT c.id, c.user_id, c.display_name, c.picture_url, c.status_message, c.language,
                 c.friend_status, c.first_seen_at, c.followed_at, c.blocked_at, c.last_message_at,
                 (SELECT group_concat(tag, char(31)) FROM
                     (SELECT tag FROM contact_tags t WHERE t.user_id = c.user_id ORDER BY tag))
             FROM contacts c
             WHERE c.id < ?1
               AND (?2 IS NULL OR c.friend_status = ?2)
               AND (NOT ?3 OR c.last_message_at IS NULL)
               AND (?4 IS NULL OR EXISTS
                   (SELECT 1 FROM contact_tags t WHERE t.user_id = c.user_id AND t.tag = ?4))
               AND (?6 IS NULL OR c.display_name LIKE ?6 ESCAPE '\\')
             ORDER BY c.id DESC LIMIT ?5",
        )
        .bind(before.map_or(i64::MAX, |c| c.0))
        .bind(filter.friend_status.map(FriendStatus::as_str))
        .bind(filter.never_messaged)
        .bind(filter.tag.as_deref())
        .bind(limit)
        .bind(
            filter
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(like),
        )
        .fetch_all(&self.readers)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ContactView {
                cursor: PageCursor(row.get(0)),
                user_id: row.get(1),
                display_name: row.get(2),
                picture_url: row.get(3),
                status_message: row.get(4),
                language: row.get(5),
                friend_status: row.get(6),
                first_seen_at: row.get(7),
                followed_at: row.get(8),
                blocked_at: row.get(9),
                last_message_at: row.get(10),
                tags: row
                    .get::<Option<String>, _>(11)
                    .map(|tags| tags.split('\u{1f}').map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
            .collect())
    }

    pub async fn contact_counts(&self) -> Result<ContactCounts> {
        let row = sqlx::query(
            "SELECT COUNT(*),
                 COUNT(*) FILTER (WHERE friend_status = 'following'),
                 COUNT(*) FILTER (WHERE friend_status = 'blocked'),
                 COUNT(*) FILTER (WHERE last_message_at IS NULL)
             FROM contacts",
        )
        .fetch_one(&self.readers)
        .await?;
        let count = |i: usize| row.get::<i64, _>(i) as u32;
        Ok(ContactCounts {
            all: count(0),
            following: count(1),
            blocked: count(2),
            never_messaged: count(3),
        })
    }

    /// Every contact `filter` lets through, newest first, as CSV for a spreadsheet (a
    /// header row, then one row per contact; tags joined by `; `).
    pub async fn contacts_csv(
        &self,
        filter: &ContactFilter,
        out: impl std::io::Write,
    ) -> Result<u32> {
        const PAGE: u32 = 500;
        let mut csv = Sheet::new(
            out,
            [
                "user_id",
                "name",
                "status",
                "language",
                "tags",
                "first_seen",
                "followed",
                "blocked",
                "last_message",
            ],
        )?;
        let time = |at: Option<i64>| {
            at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
                .map(|t| t.to_string())
                .unwrap_or_default()
        };
        let (mut before, mut written) = (None, 0);
        loop {
            let page = self.contacts(filter, before, PAGE).await?;
            for contact in &page {
                csv.row([
                    contact.user_id.as_str(),
                    contact.display_name.as_deref().unwrap_or(""),
                    contact.friend_status.as_str(),
                    contact.language.as_deref().unwrap_or(""),
                    &contact.tags.join("; "),
                    &time(Some(contact.first_seen_at)),
                    &time(contact.followed_at),
                    &time(contact.blocked_at),
                    &time(contact.last_message_at),
                ])?;
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() == PAGE as usize => before = Some(last.cursor),
                _ => break,
            }
        }
        csv.finish()?;
        Ok(written)
    }

    /// The audit trail of a conversation (or of everything), newest first.
    pub async fn audit(
        &self,
        conversation: Option<&ConversationId>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let limit = check_limit(limit)?;
        let rows = sqlx::query(&format!(
            "{AUDIT} WHERE ?1 IS NULL OR a.conversation = ?1 ORDER BY a.seq DESC LIMIT ?2"
        ))
        .bind(conversation.map(ConversationId::as_str))
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.iter().map(audit_from).collect())
    }

    /// Operators' actions (and red flags) `filter` lets through, newest first, before
    /// `before` (a seq).
    pub async fn audit_page(
        &self,
        filter: &AuditFilter,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<AuditRecord>> {
        let limit = check_limit(limit)?;
        let rows = sqlx::query(&format!(
            "{AUDIT} WHERE a.seq < ?1 AND (a.device <> ?2 OR a.type = 'red_flag')
               AND (?3 IS NULL OR a.device = ?3) AND (?4 IS NULL OR a.type = ?4)
               AND (NOT ?5 OR a.outcome = 'rejected')
               AND (?6 IS NULL OR a.at >= ?6) AND (?7 IS NULL OR a.at < ?7)
             ORDER BY a.seq DESC LIMIT ?8"
        ))
        .bind(before.map_or(i64::MAX, |seq| seq as i64))
        .bind(tsunagi_proto::EXECUTOR_DEVICE)
        .bind(filter.device.as_deref())
        .bind(filter.op_type.as_deref())
        .bind(filter.rejected_only)
        .bind(filter.from)
        .bind(filter.to)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        Ok(rows.iter().map(audit_from).collect())
    }

    /// The actions `filter` lets through, newest first, as CSV; how many.
    pub async fn audit_csv(&self, filter: &AuditFilter, out: impl std::io::Write) -> Result<u32> {
        const PAGE: u32 = 500;
        let mut csv = Sheet::new(
            out,
            [
                "at",
                "operator",
                "device",
                "action",
                "conversation",
                "outcome",
                "reason",
                "seq",
            ],
        )?;
        let (mut before, mut written) = (None, 0);
        loop {
            let page = self.audit_page(filter, before, PAGE).await?;
            for record in &page {
                let at = jiff::Timestamp::from_millisecond(record.at)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                csv.row([
                    at.as_str(),
                    record.operator_name.as_deref().unwrap_or(""),
                    &record.device,
                    &record.op_type,
                    record.conversation.as_deref().unwrap_or(""),
                    &record.outcome,
                    record.reason.as_deref().unwrap_or(""),
                    &record.seq.to_string(),
                ])?;
                written += 1;
            }
            match page.last() {
                Some(last) if page.len() == PAGE as usize => before = Some(last.seq),
                _ => break,
            }
        }
        csv.finish()?;
        Ok(written)
    }

    /// What became of an op, once it is in the log and applied here.
    pub async fn op_outcome(&self, op_id: tsunagi_proto::OpId) -> Result<Option<AuditRecord>> {
        let row = sqlx::query(&format!("{AUDIT} WHERE a.op_id = ?"))
            .bind(op_id.to_string())
            .fetch_optional(&self.readers)
            .await?;
        Ok(row.as_ref().map(audit_from))
    }

    /// The current value of a team setting, as JSON.
    pub async fn setting(&self, name: &str) -> Result<Option<tsunagi_proto::Setting>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.readers)
            .await?;
        value
            .map(|v| {
                serde_json::from_str(&v)
                    .map_err(|e| Error::unreadable(format!("setting {name}: {e}")))
            })
            .transpose()
    }
}

/// A `LIKE` pattern for text containing `part` (its `%`, `_` and `\\` taken literally).
fn like(part: &str) -> String {
    let mut pattern = String::from("%");
    for c in part.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The audit trail with operators' names; `audit_from` reads its rows.
const AUDIT: &str = "SELECT a.seq, a.op_id, a.device, o.name, a.type, a.conversation, a.at,
        a.outcome, a.reason, c.display_name
    FROM audit a LEFT JOIN operators o ON o.id = a.device
        LEFT JOIN contacts c ON c.user_id = a.conversation";

fn audit_from(row: &SqliteRow) -> AuditRecord {
    AuditRecord {
        seq: row.get::<i64, _>(0) as u64,
        op_id: row.get(1),
        device: row.get(2),
        operator_name: row.get(3),
        op_type: row.get(4),
        conversation: row.get(5),
        at: row.get(6),
        outcome: row.get(7),
        reason: row.get(8),
        conversation_name: row.get(9),
    }
}
