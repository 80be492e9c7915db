//! The inbox: its lists (Needs reply, the queue, mine, the team's, the bot's, closed),
//! what a row says of a chat, the counts on each tab, and a chat's sessions. All answered
//! from the local store.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tsunagi_proto::{ChatKind, ConversationId, ConversationMode, OperatorId, UnixMillis};

use crate::columns::{SessionStatus, Speaker, check_limit, mode_from};
use crate::store::Store;
use crate::{Error, Result};

/// The inbox's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum InboxList {
    /// What waits for an answer: the queue, and my chats whose patient spoke last; the
    /// longest wait first (words of an emergency before all). One page: the list is short.
    NeedsReply,
    /// In the queue, oldest first: the next to claim is at the top.
    Waiting,
    /// Active and mine.
    Mine,
    /// Active, anyone's.
    Active,
    /// Active and held by another operator.
    Team,
    /// With the bot.
    Bot,
    /// Whose last session was closed.
    Closed,
}

impl std::str::FromStr for InboxList {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "needs_reply" => Ok(InboxList::NeedsReply),
            "waiting" => Ok(InboxList::Waiting),
            "mine" => Ok(InboxList::Mine),
            "active" => Ok(InboxList::Active),
            "team" => Ok(InboxList::Team),
            "bot" => Ok(InboxList::Bot),
            "closed" => Ok(InboxList::Closed),
            other => Err(Error::Invalid(format!(
                "no inbox list {other:?}: needs_reply, waiting, mine, active, team, bot or closed"
            ))),
        }
    }
}

/// A conversation as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxItem {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub conversation: ConversationId,
    pub kind: ChatKind,
    #[cfg_attr(feature = "ts", ts(type = "\"bot\" | \"human\""))]
    pub mode: ConversationMode,
    /// The contact's name (user chats) as LINE reported it.
    pub name: Option<String>,
    /// The name the team uses for the patient, if it gave one: shown in place of `name`.
    pub team_name: Option<String>,
    pub picture_url: Option<String>,
    /// The newest message of the patient or of a person (the bot's only while nobody is
    /// awaited): its text, or `[image]` and the like.
    pub preview: Option<String>,
    /// Who wrote it.
    pub speaker: Option<Speaker>,
    /// The operator who wrote it, when staff did.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub speaker_id: Option<OperatorId>,
    pub speaker_name: Option<String>,
    /// Since when the patient waits for a person: their oldest message since the team
    /// last answered (the bot's messages are no answer).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub awaiting_since: Option<i64>,
    /// The contact's tags.
    pub tags: Vec<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_message_at: Option<i64>,
    /// Messages from the patient this desk has not seen (up to [`UNREAD_CAP`]); before
    /// this desk first opens the chat, those the team has not answered.
    pub unread: u32,
    pub session: Option<SessionSummary>,
    /// In the waiting list: 1 is next.
    pub queue_position: Option<u32>,
    /// In the waiting list: how long it has waited, in milliseconds, as of `now`.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub waiting_ms: Option<i64>,
    /// Where the next page starts (pass it as `before`).
    pub cursor: PageCursor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSummary {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub status: SessionStatus,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub operator: Option<OperatorId>,
    pub operator_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub started_at: i64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub claimed_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub first_response_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub message_count: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub transfers: i64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub csat: Option<i64>,
    /// When the patient first wrote words of an emergency in this session: it leads the
    /// queue and is marked in every list.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub urgent_at: Option<i64>,
}

/// A position in a list, for keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PageCursor(#[cfg_attr(feature = "ts", ts(type = "number"))] pub i64);

/// Counts per inbox list, for the badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct InboxCounts {
    pub waiting: u32,
    pub mine: u32,
    pub active: u32,
    /// Active and held by another operator.
    pub team: u32,
    pub bot: u32,
    pub closed: u32,
    /// Conversations with messages the team has not answered.
    pub unread_conversations: u32,
    /// The queue, and my chats whose patient spoke last.
    pub needs_reply: u32,
    /// How many chats of each list hold messages this desk has not seen.
    pub unread_needs_reply: u32,
    pub unread_waiting: u32,
    pub unread_mine: u32,
    pub unread_team: u32,
}

/// The counts of the short lists people work from, with how many of each hold messages
/// this desk has not seen (`?1` is this desk's operator).
const WORKLIST_COUNTS: &str = "
    (SELECT COUNT(*) FROM conversations
        WHERE state = 'waiting' OR (state = 'active' AND operator = ?1 AND awaiting_since IS NOT NULL)),
    (SELECT COUNT(*) FROM conversations c LEFT JOIN read_marks r ON r.conversation_id = c.id
        WHERE (c.state = 'waiting' OR (c.state = 'active' AND c.operator = ?1 AND c.awaiting_since IS NOT NULL))
          AND CASE WHEN r.message_id IS NULL THEN c.unread > 0 ELSE EXISTS (SELECT 1 FROM messages m
              WHERE m.conversation_id = c.id AND m.id > r.message_id AND m.direction = 'in') END),
    (SELECT COUNT(*) FROM conversations c LEFT JOIN read_marks r ON r.conversation_id = c.id
        WHERE c.state = 'waiting'
          AND CASE WHEN r.message_id IS NULL THEN c.unread > 0 ELSE EXISTS (SELECT 1 FROM messages m
              WHERE m.conversation_id = c.id AND m.id > r.message_id AND m.direction = 'in') END),
    (SELECT COUNT(*) FROM conversations c LEFT JOIN read_marks r ON r.conversation_id = c.id
        WHERE c.state = 'active' AND c.operator = ?1
          AND CASE WHEN r.message_id IS NULL THEN c.unread > 0 ELSE EXISTS (SELECT 1 FROM messages m
              WHERE m.conversation_id = c.id AND m.id > r.message_id AND m.direction = 'in') END),
    (SELECT COUNT(*) FROM conversations c LEFT JOIN read_marks r ON r.conversation_id = c.id
        WHERE c.state = 'active' AND c.operator <> ?1
          AND CASE WHEN r.message_id IS NULL THEN c.unread > 0 ELSE EXISTS (SELECT 1 FROM messages m
              WHERE m.conversation_id = c.id AND m.id > r.message_id AND m.direction = 'in') END)";

/// A session's columns, as [`session_from`] reads them (`s` its alias, `o` its operator's).
macro_rules! session_columns {
    () => {
        "s.id, s.status, s.operator, o.name, s.started_at, s.claimed_at, s.first_response_at,
         s.closed_at, s.closed_by, s.message_count, s.transfers, s.csat, s.urgent_at"
    };
}

const ITEM_COLUMNS: &str = concat!(
    "c.id, c.kind, c.mode, ct.display_name, ct.picture_url, c.last_preview,
    c.last_message_at,
    CASE WHEN r.message_id IS NULL THEN c.unread ELSE
        (SELECT COUNT(*) FROM (SELECT 1 FROM messages m
            WHERE m.conversation_id = c.id AND m.id > r.message_id AND m.direction = 'in'
            LIMIT 100)) END,
    c.last_seq, ",
    session_columns!(),
    ", c.last_speaker, c.last_author, la.name, c.awaiting_since,
    (SELECT group_concat(t.tag, char(31)) FROM contact_tags t WHERE t.user_id = c.id),
    (SELECT f.value FROM contact_fields f WHERE f.user_id = c.id AND f.field = 'team_name')"
);

/// Where the item columns put `c.last_speaker` (then its author, their name, the wait, the
/// tags, the team's name for the patient).
const SPEAKER: usize = 22;

/// Where the waiting list's query puts its queue key (then `s.queued_at` and the place in
/// the queue), after the item columns; the Needs reply list, the place (then
/// `s.queued_at`).
const QUEUED_SEQ: usize = 28;

/// Only the chats of contacts tagged `?3` (any, when it is null).
const TAGGED: &str =
    "(?3 IS NULL OR EXISTS (SELECT 1 FROM contact_tags t WHERE t.user_id = c.id AND t.tag = ?3))";

/// A waiting session's place in the queue, as the waiting list orders and pages it: when
/// it joined the queue, and those whose patient wrote words of an emergency before all.
const QUEUE_KEY: &str =
    "(CASE WHEN w.urgent_at IS NULL THEN w.queued_seq ELSE w.queued_seq - 4503599627370496 END)";

/// Unread counts stop here ("99+").
pub const UNREAD_CAP: u32 = 100;

/// The joins every conversation row needs (contact, open session, operator, read mark).
const ITEM_JOINS: &str = "LEFT JOIN contacts ct ON ct.user_id = c.id
    LEFT JOIN sessions s ON s.id = c.session_id
    LEFT JOIN operators o ON o.id = s.operator
    LEFT JOIN operators la ON la.id = c.last_author
    LEFT JOIN read_marks r ON r.conversation_id = c.id";

fn session_from(row: &SqliteRow, at: usize) -> Result<Option<SessionSummary>> {
    let Some(id) = row.get::<Option<i64>, _>(at) else {
        return Ok(None);
    };
    Ok(Some(SessionSummary {
        id,
        status: SessionStatus::parse(row.get(at + 1))?,
        operator: row.get::<Option<String>, _>(at + 2).map(OperatorId::new),
        operator_name: row.get(at + 3),
        started_at: row.get(at + 4),
        claimed_at: row.get(at + 5),
        first_response_at: row.get(at + 6),
        closed_at: row.get(at + 7),
        closed_by: row.get(at + 8),
        message_count: row.get(at + 9),
        transfers: row.get(at + 10),
        csat: row.get(at + 11),
        urgent_at: row.get(at + 12),
    }))
}

fn item_from(row: &SqliteRow) -> Result<InboxItem> {
    Ok(InboxItem {
        conversation: ConversationId::new(row.get::<String, _>(0)),
        kind: row.get::<String, _>(1).parse().map_err(Error::unreadable)?,
        mode: mode_from(row.get(2))?,
        name: row.get(3),
        picture_url: row.get(4),
        preview: row.get(5),
        speaker: row
            .get::<Option<String>, _>(SPEAKER)
            .as_deref()
            .map(Speaker::parse)
            .transpose()?,
        speaker_id: row
            .get::<Option<String>, _>(SPEAKER + 1)
            .map(OperatorId::new),
        speaker_name: row.get(SPEAKER + 2),
        awaiting_since: row.get(SPEAKER + 3),
        tags: row
            .get::<Option<String>, _>(SPEAKER + 4)
            .map(|tags| tags.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        team_name: row.get(SPEAKER + 5),
        last_message_at: row.get(6),
        unread: row.get::<i64, _>(7) as u32,
        session: session_from(row, 9)?,
        queue_position: None,
        waiting_ms: None,
        cursor: PageCursor(row.get(8)),
    })
}

impl Store {
    /// One page of an inbox list. `me` is needed for [`InboxList::Mine`]; `now` for the
    /// waiting times.
    pub async fn inbox(
        &self,
        list: InboxList,
        me: Option<&OperatorId>,
        now: UnixMillis,
        before: Option<PageCursor>,
        limit: u32,
    ) -> Result<Vec<InboxItem>> {
        self.inbox_tagged(list, None, me, now, before, limit).await
    }

    /// One page of an inbox list, only the chats of contacts tagged `tag` if one is given.
    /// A waiting chat keeps its place in the whole queue.
    pub async fn inbox_tagged(
        &self,
        list: InboxList,
        tag: Option<&str>,
        me: Option<&OperatorId>,
        now: UnixMillis,
        before: Option<PageCursor>,
        limit: u32,
    ) -> Result<Vec<InboxItem>> {
        let limit = check_limit(limit)?;
        let tag = tag.map(str::trim).filter(|t| !t.is_empty());
        // A waiting chat's place in the queue: those ahead of it, and itself.
        let place = QUEUE_KEY.replace("w.", "q.");
        let own = QUEUE_KEY.replace("w.", "s.");
        let position = format!(
            "(SELECT COUNT(*) FROM sessions q WHERE q.status = 'waiting' AND {place} <= {own})"
        );
        if list == InboxList::Waiting {
            // Queue order: when each joined the queue (opened, or released back), the
            // page cursor being that place. The queue leads (`sessions_queue`): led by the
            // conversations, an empty queue read every chat the clinic ever had (120 ms
            // and 108 MiB of the store at 100,000 chats).
            let sql = format!(
                "SELECT {ITEM_COLUMNS}, {QUEUE_KEY}, s.queued_at, {position}
                 FROM sessions w CROSS JOIN conversations c ON c.id = w.conversation_id
                 {ITEM_JOINS}
                 WHERE w.status = 'waiting' AND {QUEUE_KEY} > ?1 AND s.id = w.id
                   AND {TAGGED}
                 ORDER BY {QUEUE_KEY} LIMIT ?2"
            );
            let rows = sqlx::query(&sql)
                .bind(before.map_or(i64::MIN, |c| c.0))
                .bind(limit)
                .bind(tag)
                .fetch_all(&self.readers)
                .await?;
            return rows
                .iter()
                .map(|row| {
                    let mut item = item_from(row)?;
                    let queued_at: i64 = row.get(QUEUED_SEQ + 1);
                    item.queue_position = Some(row.get::<i64, _>(QUEUED_SEQ + 2) as u32);
                    item.waiting_ms = Some((now.0 - queued_at).max(0));
                    item.cursor = PageCursor(row.get(QUEUED_SEQ));
                    Ok(item)
                })
                .collect();
        }
        if list == InboxList::NeedsReply {
            if before.is_some() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {ITEM_COLUMNS}, {position}, s.queued_at
                 FROM conversations c {ITEM_JOINS}
                 WHERE (c.state = 'waiting'
                        OR (c.state = 'active' AND c.operator = ?1 AND c.awaiting_since IS NOT NULL))
                   AND {TAGGED}
                 ORDER BY (s.urgent_at IS NULL), COALESCE(c.awaiting_since, s.queued_at), c.id
                 LIMIT ?2"
            );
            let rows = sqlx::query(&sql)
                .bind(me.map(OperatorId::as_str))
                .bind(limit)
                .bind(tag)
                .fetch_all(&self.readers)
                .await?;
            return rows
                .iter()
                .map(|row| {
                    let mut item = item_from(row)?;
                    item.cursor = PageCursor(0);
                    if item.session.as_ref().map(|s| s.status) == Some(SessionStatus::Waiting) {
                        let queued_at: i64 = row.get(QUEUED_SEQ + 1);
                        item.queue_position = Some(row.get::<i64, _>(QUEUED_SEQ) as u32);
                        item.waiting_ms = Some((now.0 - queued_at).max(0));
                    }
                    Ok(item)
                })
                .collect();
        }
        // Each an index range (conversations_state, or conversations_recent for the bot).
        let filter = match list {
            InboxList::Mine => "c.state = 'active' AND c.operator = ?2",
            InboxList::Active => "c.state = 'active'",
            InboxList::Team => "c.state = 'active' AND c.operator <> ?2",
            InboxList::Bot => "c.mode = 'bot'",
            InboxList::Closed => "c.state = 'closed' AND c.operator IS NULL",
            InboxList::Waiting | InboxList::NeedsReply => unreachable!("answered above"),
        };
        if matches!(list, InboxList::Mine | InboxList::Team) && me.is_none() {
            return Err(Error::Invalid(
                "whose conversations? this desk has no operator".into(),
            ));
        }
        let tagged = TAGGED.replace("?3", "?4");
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM conversations c {ITEM_JOINS}
             WHERE c.last_seq < ?1 AND {filter} AND {tagged}
             ORDER BY c.last_seq DESC LIMIT ?3"
        );
        let rows = sqlx::query(&sql)
            .bind(before.map_or(i64::MAX, |c| c.0))
            .bind(me.map(OperatorId::as_str))
            .bind(limit)
            .bind(tag)
            .fetch_all(&self.readers)
            .await?;
        rows.iter().map(item_from).collect()
    }

    /// Badge counts for every list. The short lists (waiting, active) are counted; the
    /// long ones (the bot's, closed, unread) are the tallies the projection keeps.
    pub async fn inbox_counts(&self, me: Option<&OperatorId>) -> Result<InboxCounts> {
        self.counts(
            "SELECT
                (SELECT COUNT(*) FROM sessions WHERE status = 'waiting'),
                (SELECT COUNT(*) FROM conversations WHERE state = 'active' AND operator = ?),
                (SELECT COUNT(*) FROM sessions WHERE status = 'active'),
                (SELECT n FROM inbox_tallies WHERE list = 'bot'),
                (SELECT n FROM inbox_tallies WHERE list = 'unread'),
                (SELECT COUNT(*) FROM conversations WHERE state = 'active' AND operator <> ?1),
                (SELECT n FROM inbox_tallies WHERE list = 'closed'),",
            me,
        )
        .await
    }

    /// The same counts, every one counted row by row (slow): for tests that the projection's
    /// tallies hold.
    #[doc(hidden)]
    pub async fn inbox_counts_counted(&self, me: Option<&OperatorId>) -> Result<InboxCounts> {
        self.counts(
            "SELECT
                (SELECT COUNT(*) FROM sessions WHERE status = 'waiting'),
                (SELECT COUNT(*) FROM conversations WHERE state = 'active' AND operator = ?),
                (SELECT COUNT(*) FROM sessions WHERE status = 'active'),
                (SELECT COUNT(*) FROM conversations WHERE mode = 'bot'),
                (SELECT COUNT(*) FROM conversations WHERE unread > 0),
                (SELECT COUNT(*) FROM conversations WHERE state = 'active' AND operator <> ?1),
                (SELECT COUNT(*) FROM conversations WHERE state = 'closed' AND operator IS NULL),",
            me,
        )
        .await
    }

    /// `sql` names the long lists' counts and ends with a comma: the work lists' follow.
    async fn counts(&self, sql: &str, me: Option<&OperatorId>) -> Result<InboxCounts> {
        let sql = format!("{sql}{WORKLIST_COUNTS}");
        let row = sqlx::query(&sql)
            .bind(me.map(OperatorId::as_str))
            .fetch_one(&self.readers)
            .await?;
        let count = |i: usize| row.get::<i64, _>(i) as u32;
        Ok(InboxCounts {
            waiting: count(0),
            mine: count(1),
            active: count(2),
            bot: count(3),
            unread_conversations: count(4),
            team: count(5),
            closed: count(6),
            needs_reply: count(7),
            unread_needs_reply: count(8),
            unread_waiting: count(9),
            unread_mine: count(10),
            unread_team: count(11),
        })
    }

    /// Until when an answer to `conversation` goes free, by a reply token the patient gave
    /// that no send has taken and that is still alive at `now`; `None`: it would be pushed
    /// (counted against the month's messages). The executor keeps a chat's newest eight
    /// tokens; so does this.
    pub async fn free_reply_until(
        &self,
        conversation: &ConversationId,
        now: UnixMillis,
    ) -> Result<Option<i64>> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(expires) FROM (
                 SELECT reply_token_expires_at AS expires, reply_token_spent AS spent
                 FROM messages
                 WHERE conversation_id = ?1 AND reply_token IS NOT NULL
                 ORDER BY id DESC LIMIT 8)
             WHERE NOT spent AND expires > ?2",
        )
        .bind(conversation.as_str())
        .bind(now.0)
        .fetch_one(&self.readers)
        .await?;
        Ok(until)
    }

    /// A conversation as the inbox shows it, or `None` if the desk has never seen it.
    pub async fn conversation(&self, id: &ConversationId) -> Result<Option<InboxItem>> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM conversations c {ITEM_JOINS} WHERE c.id = ?");
        sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.readers)
            .await?
            .map(|row| item_from(&row))
            .transpose()
    }
    /// Every session of a conversation, newest first.
    pub async fn sessions(&self, conversation: &ConversationId) -> Result<Vec<SessionSummary>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions s LEFT JOIN operators o ON o.id = s.operator
             WHERE s.conversation_id = ? ORDER BY s.id DESC"
        ))
        .bind(conversation.as_str())
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .filter_map(|row| session_from(row, 0).transpose())
            .collect()
    }
}
