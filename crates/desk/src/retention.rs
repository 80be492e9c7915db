//! What the clinic's retention would purge tonight, counted on this desk's copy: shown in
//! the settings before the owner saves it (the night's purge itself is the relay's, and
//! every desk applies it as it comes through the log).

use serde::Serialize;
use tsunagi_proto::{Retention, UnixMillis};

use crate::{Result, Store};

/// How much tonight's purge would remove, by kind; `None` where the kind is kept forever.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RetentionPreview {
    pub messages: Option<u32>,
    pub media: Option<u32>,
    pub ai: Option<u32>,
    pub audit: Option<u32>,
    /// Contacts on hold, whose data stays.
    pub held: u32,
}

/// Not a held contact's message row (as the night's purge judges it).
const NOT_HELD: &str = "NOT (m.conversation_id IN (SELECT user_id FROM contacts WHERE held_at IS NOT NULL)
    OR (m.direction = 'in' AND m.author IN (SELECT user_id FROM contacts WHERE held_at IS NOT NULL)))";

impl Store {
    /// What `retention` would purge at `now`.
    pub async fn retention_preview(
        &self,
        retention: &Retention,
        now: UnixMillis,
    ) -> Result<RetentionPreview> {
        let before = retention.cutoffs(now);
        let count = |sql: String, before: Option<UnixMillis>| async move {
            let Some(before) = before else {
                return Ok::<_, crate::Error>(None);
            };
            let n: i64 = sqlx::query_scalar(&sql)
                .bind(before.0)
                .fetch_one(&self.readers)
                .await?;
            Ok(Some(u32::try_from(n).unwrap_or(u32::MAX)))
        };
        let messages = count(
            format!(
                "SELECT count(*) FROM messages m WHERE m.at < ?
                   AND (m.direction = 'out' OR (m.direction = 'in' AND m.type <> 'postback'))
                   AND {NOT_HELD}"
            ),
            before.messages,
        )
        .await?;
        let media = count(
            format!(
                "SELECT count(*) FROM messages m JOIN media f ON f.message_id = m.line_message_id
                 WHERE m.at < ? AND m.direction = 'in' AND f.state <> 'gone' AND {NOT_HELD}"
            ),
            before.media,
        )
        .await?;
        let ai = count(
            "SELECT count(*) FROM audit a WHERE a.at < ? AND a.type = 'ai_answered'
               AND (a.conversation IS NULL OR a.conversation NOT IN
                    (SELECT user_id FROM contacts WHERE held_at IS NOT NULL))"
                .into(),
            before.ai,
        )
        .await?;
        let audit = count(
            "SELECT count(*) FROM audit a WHERE a.at < ?
               AND a.type IN ('export', 'erase', 'mark_read', 'typing')
               AND (a.conversation IS NULL OR a.conversation NOT IN
                    (SELECT user_id FROM contacts WHERE held_at IS NOT NULL))"
                .into(),
            before.audit,
        )
        .await?;
        let held: i64 =
            sqlx::query_scalar("SELECT count(*) FROM contacts WHERE held_at IS NOT NULL")
                .fetch_one(&self.readers)
                .await?;
        Ok(RetentionPreview {
            messages,
            media,
            ai,
            audit,
            held: u32::try_from(held).unwrap_or(u32::MAX),
        })
    }
}
