//! Reaching patients beyond a chat: follower syncs and reminders, as the owner's screens
//! show them. The projection keeps one row per sync and per reminder (and one per
//! reminder's recipient) as the executor reports; the queries here read them.

use sqlx::Row as _;
use tsunagi_proto::{
    Audience, DeviceId, Entry, OpId, OptOut, RecipientOutcome, RecipientResult, Reminder,
    SyncOutcome, UnixMillis,
};

use crate::{Result, Store};

// ─── Projection ─────────────────────────────────────────────────────────────────────────

pub(crate) fn sync_started(
    db: &rusqlite::Connection,
    entry: &Entry,
    sync: OpId,
    device: &DeviceId,
) -> Result<()> {
    db.prepare_cached(
        "INSERT OR IGNORE INTO follower_syncs (sync, device, started_at) VALUES (?, ?, ?)",
    )?
    .execute(rusqlite::params![
        sync.to_string(),
        device.as_str(),
        entry.at.0
    ])?;
    Ok(())
}

pub(crate) fn sync_progress(
    db: &rusqlite::Connection,
    entry: &Entry,
    sync: OpId,
    done: u64,
    total: u64,
) -> Result<()> {
    db.prepare_cached(
        "UPDATE follower_syncs SET done = ?, total = ?, progress_at = ? WHERE sync = ?",
    )?
    .execute(rusqlite::params![
        done as i64,
        total as i64,
        entry.at.0,
        sync.to_string()
    ])?;
    Ok(())
}

pub(crate) fn sync_done(
    db: &rusqlite::Connection,
    entry: &Entry,
    sync: OpId,
    outcome: &SyncOutcome,
) -> Result<()> {
    let (name, reason, total) = match outcome {
        SyncOutcome::Done { total } => ("done", None, Some(*total as i64)),
        SyncOutcome::Unavailable { reason } => ("unavailable", Some(reason), None),
        SyncOutcome::Failed { reason } => ("failed", Some(reason), None),
    };
    db.prepare_cached(
        "UPDATE follower_syncs SET outcome = ?, reason = ?, ended_at = ?,
             total = coalesce(?, total), done = coalesce(?, done)
         WHERE sync = ?",
    )?
    .execute(rusqlite::params![
        name,
        reason,
        entry.at.0,
        total,
        total,
        sync.to_string()
    ])?;
    Ok(())
}

pub(crate) fn reminder_scheduled(
    db: &rusqlite::Connection,
    entry: &Entry,
    id: OpId,
    device: &DeviceId,
    reminder: &Reminder,
) -> Result<()> {
    let (audience, target) = match &reminder.to {
        Audience::Contact { user } => ("contact", Some(user.as_str())),
        Audience::Tag { tag } => ("tag", Some(tag.as_str())),
        Audience::Following => ("following", None),
    };
    db.prepare_cached(
        "INSERT OR IGNORE INTO reminders
             (id, device, created_at, text, date, time, clinic, due_at, audience, target)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        id.to_string(),
        device.as_str(),
        entry.at.0,
        reminder.text,
        reminder.date,
        reminder.time,
        reminder.clinic,
        reminder.at.0,
        audience,
        target
    ])?;
    Ok(())
}

/// Calls off a reminder not yet sent; false when there is none such (unknown, already
/// sent or cancelled).
/// What came of a cancel.
pub(crate) enum Cancelled {
    Yes,
    /// Sent (its recipients fixed), cancelled already, or never scheduled.
    TooLate,
    /// A reminder to many patients, which only owners may cancel, cancelled by staff.
    NotYours,
}

pub(crate) fn reminder_cancelled(
    db: &rusqlite::Connection,
    entry: &Entry,
    id: OpId,
    device: &DeviceId,
    by: &tsunagi_domain::session::Actor,
) -> Result<Cancelled> {
    let audience: Option<String> = db
        .prepare_cached("SELECT audience FROM reminders WHERE id = ?")?
        .query_row([id.to_string()], |row| row.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    // The same rule as the relay's executor: only owners cancel what only owners schedule.
    if audience.is_some_and(|a| a != "contact") && !by.oversees {
        return Ok(Cancelled::NotYours);
    }
    let changed = db
        .prepare_cached(
            "UPDATE reminders SET cancelled_at = ?, cancelled_by = ?
             WHERE id = ? AND cancelled_at IS NULL AND fixed_at IS NULL",
        )?
        .execute(rusqlite::params![
            entry.at.0,
            device.as_str(),
            id.to_string()
        ])?;
    Ok(if changed == 1 {
        Cancelled::Yes
    } else {
        Cancelled::TooLate
    })
}

pub(crate) fn reminder_fixed(
    db: &rusqlite::Connection,
    entry: &Entry,
    id: OpId,
    recipients: &[tsunagi_line::UserId],
) -> Result<()> {
    db.prepare_cached("UPDATE reminders SET fixed_at = ? WHERE id = ?")?
        .execute(rusqlite::params![entry.at.0, id.to_string()])?;
    let mut insert = db.prepare_cached(
        "INSERT OR IGNORE INTO reminder_recipients (reminder, user_id) VALUES (?, ?)",
    )?;
    for user in recipients {
        insert.execute(rusqlite::params![id.to_string(), user.as_str()])?;
    }
    Ok(())
}

pub(crate) fn reminder_delivered(
    db: &rusqlite::Connection,
    entry: &Entry,
    id: OpId,
    results: &[RecipientResult],
) -> Result<()> {
    let mut upsert = db.prepare_cached(
        "INSERT INTO reminder_recipients (reminder, user_id, outcome, reason, why, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (reminder, user_id)
         DO UPDATE SET outcome = ?3, reason = ?4, why = ?5, at = ?6",
    )?;
    for result in results {
        let (outcome, reason, why) = match &result.outcome {
            RecipientOutcome::Sent => ("sent", None, None),
            RecipientOutcome::Failed { reason } => ("failed", Some(reason.as_str()), None),
            RecipientOutcome::Blocked => ("blocked", None, None),
            RecipientOutcome::OptedOut { why } => match why {
                OptOut::StopWord { word } => ("opted_out", Some(word.as_str()), Some("stop_word")),
                OptOut::Withdrew => ("opted_out", None, Some("withdrew")),
                OptOut::NoConsent => ("opted_out", None, Some("no_consent")),
            },
        };
        upsert.execute(rusqlite::params![
            id.to_string(),
            result.user.as_str(),
            outcome,
            reason,
            why,
            entry.at.0
        ])?;
    }
    Ok(())
}

// ─── Queries ────────────────────────────────────────────────────────────────────────────

/// A follower sync, as its progress bar shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FollowerSync {
    pub sync: String,
    /// Who asked for it.
    pub device: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub started_at: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub done: u64,
    /// How many followers LINE listed; null until the first page came.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub total: Option<u64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub progress_at: Option<i64>,
    /// Null while it runs.
    pub outcome: Option<SyncEnd>,
    /// LINE's words, when it was unavailable or failed.
    pub reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub ended_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SyncEnd {
    Done,
    /// LINE lists followers only for verified and premium accounts.
    Unavailable,
    Failed,
}

impl FollowerSync {
    /// When it should end, from how fast it went so far; None until that can be told.
    pub fn eta(&self) -> Option<UnixMillis> {
        let (total, at) = (self.total?, self.progress_at?);
        if self.outcome.is_some() || self.done == 0 || at <= self.started_at {
            return None;
        }
        let per_profile = (at - self.started_at) as f64 / self.done as f64;
        let left = total.saturating_sub(self.done) as f64 * per_profile;
        Some(UnixMillis(at + left as i64))
    }
}

/// A reminder, as the list of scheduled and sent ones shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReminderView {
    pub id: String,
    /// Who scheduled it: their operator name, or their device id if unknown.
    pub by: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: i64,
    pub text: String,
    pub date: Option<String>,
    pub time: Option<String>,
    pub clinic: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub due_at: i64,
    pub audience: AudienceKind,
    /// The patient's user id, or the tag.
    pub target: Option<String>,
    /// The patient's name, for a reminder to one.
    pub target_name: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub cancelled_at: Option<i64>,
    /// When the relay fixed who it goes to (it came due).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub fixed_at: Option<i64>,
    pub recipients: u32,
    pub sent: u32,
    pub failed: u32,
    pub blocked: u32,
    /// Recipients who asked for no reminders (or never agreed, where the clinic asks).
    pub opted_out: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    Contact,
    Tag,
    Following,
}

/// What became of a reminder for one patient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecipientView {
    pub user_id: String,
    pub display_name: Option<String>,
    /// Null: LINE has not answered for them yet.
    pub outcome: Option<RecipientState>,
    /// LINE's words when it failed; the stop word the patient wrote when they opted out
    /// by one.
    pub reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub at: Option<i64>,
    /// Why nothing was sent to a patient who opted out.
    pub why: Option<OptedOutBy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    Sent,
    Failed,
    Blocked,
    OptedOut,
}

/// Why a patient who opted out was sent nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OptedOutBy {
    /// They wrote a stop word (`reason`).
    StopWord,
    /// They withdrew their consent to reminders.
    Withdrew,
    /// The clinic asks first, and they never agreed.
    NoConsent,
}

/// Whom a reminder goes to: every follower, one patient, or everyone with a tag who was a
/// follower (`?1` the audience's kind, `?2` the patient or the tag).
const AUDIENCE: &str = "CASE ?1
        WHEN 'following' THEN c.friend_status = 'following'
        WHEN 'contact' THEN c.user_id = ?2
        ELSE c.friend_status <> 'unknown' AND EXISTS (SELECT 1 FROM contact_tags t
            WHERE t.user_id = c.user_id AND t.tag = ?2)
    END";

fn audience_query(audience: &Audience) -> (&'static str, Option<&str>) {
    match audience {
        Audience::Contact { user } => ("contact", Some(user.as_str())),
        Audience::Tag { tag } => ("tag", Some(tag.trim())),
        Audience::Following => ("following", None),
    }
}

/// How many patients a reminder reaches, and how many of them blocked the clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudienceSize {
    pub reachable: u32,
    pub blocked: u32,
}

fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| crate::Error::unreadable(format!("{text:?}: {e}")))
}

impl Store {
    /// The newest follower sync, if one was ever asked for.
    pub async fn follower_sync(&self) -> Result<Option<FollowerSync>> {
        let row = sqlx::query(
            "SELECT sync, device, started_at, done, total, progress_at, outcome, reason, ended_at
             FROM follower_syncs ORDER BY started_at DESC, rowid DESC LIMIT 1",
        )
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| {
            Ok(FollowerSync {
                sync: row.get(0),
                device: row.get(1),
                started_at: row.get(2),
                done: row.get::<i64, _>(3) as u64,
                total: row.get::<Option<i64>, _>(4).map(|t| t as u64),
                progress_at: row.get(5),
                outcome: row
                    .get::<Option<String>, _>(6)
                    .as_deref()
                    .map(parse)
                    .transpose()?,
                reason: row.get(7),
                ended_at: row.get(8),
            })
        })
        .transpose()
    }

    /// Reminders, the next due first among those not yet sent, then the sent newest first.
    pub async fn reminders(&self, limit: u32) -> Result<Vec<ReminderView>> {
        let rows = sqlx::query(
            "SELECT r.id, coalesce(o.name, r.device), r.created_at, r.text, r.date, r.time,
                 r.clinic, r.due_at, r.audience, r.target, c.display_name, r.cancelled_at,
                 r.fixed_at,
                 (SELECT COUNT(*) FROM reminder_recipients x WHERE x.reminder = r.id),
                 (SELECT COUNT(*) FROM reminder_recipients x
                     WHERE x.reminder = r.id AND x.outcome = 'sent'),
                 (SELECT COUNT(*) FROM reminder_recipients x
                     WHERE x.reminder = r.id AND x.outcome = 'failed'),
                 (SELECT COUNT(*) FROM reminder_recipients x
                     WHERE x.reminder = r.id AND x.outcome = 'blocked'),
                 (SELECT COUNT(*) FROM reminder_recipients x
                     WHERE x.reminder = r.id AND x.outcome = 'opted_out')
             FROM reminders r
             LEFT JOIN operators o ON o.id = r.device
             LEFT JOIN contacts c ON r.audience = 'contact' AND c.user_id = r.target
             ORDER BY (r.fixed_at IS NULL AND r.cancelled_at IS NULL) DESC,
                 CASE WHEN r.fixed_at IS NULL AND r.cancelled_at IS NULL
                     THEN r.due_at ELSE -r.due_at END
             LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                let count = |i: usize| row.get::<i64, _>(i) as u32;
                Ok(ReminderView {
                    id: row.get(0),
                    by: row.get(1),
                    created_at: row.get(2),
                    text: row.get(3),
                    date: row.get(4),
                    time: row.get(5),
                    clinic: row.get(6),
                    due_at: row.get(7),
                    audience: parse(&row.get::<String, _>(8))?,
                    target: row.get(9),
                    target_name: row.get(10),
                    cancelled_at: row.get(11),
                    fixed_at: row.get(12),
                    recipients: count(13),
                    sent: count(14),
                    failed: count(15),
                    blocked: count(16),
                    opted_out: count(17),
                })
            })
            .collect()
    }

    /// Each patient a reminder went to, the ones LINE refused first.
    pub async fn reminder_recipients(&self, reminder: &str) -> Result<Vec<RecipientView>> {
        let rows = sqlx::query(
            "SELECT x.user_id, c.display_name, x.outcome, x.reason, x.at, x.why
             FROM reminder_recipients x LEFT JOIN contacts c ON c.user_id = x.user_id
             WHERE x.reminder = ?
             ORDER BY CASE x.outcome WHEN 'failed' THEN 0 WHEN 'blocked' THEN 1
                 WHEN 'opted_out' THEN 2 WHEN 'sent' THEN 4 ELSE 3 END,
                 c.display_name, x.user_id",
        )
        .bind(reminder)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RecipientView {
                    user_id: row.get(0),
                    display_name: row.get(1),
                    outcome: row
                        .get::<Option<String>, _>(2)
                        .as_deref()
                        .map(parse)
                        .transpose()?,
                    reason: row.get(3),
                    at: row.get(4),
                    why: row
                        .get::<Option<String>, _>(5)
                        .as_deref()
                        .map(parse)
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Whom a reminder to `audience` goes to now, as the relay will choose them: the
    /// followers it reaches, and the tagged (or named) patients who blocked the clinic and
    /// will be reported blocked.
    pub async fn audience_size(&self, audience: &Audience) -> Result<AudienceSize> {
        let (kind, target) = audience_query(audience);
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) FILTER (WHERE c.friend_status = 'following'),
                 COUNT(*) FILTER (WHERE c.friend_status = 'blocked')
             FROM contacts c WHERE {AUDIENCE}"
        ))
        .bind(kind)
        .bind(target)
        .fetch_one(&self.readers)
        .await?;
        Ok(AudienceSize {
            reachable: row.get::<i64, _>(0) as u32,
            blocked: row.get::<i64, _>(1) as u32,
        })
    }

    /// Someone `audience` reaches, for the preview: the first by name.
    pub async fn audience_sample(&self, audience: &Audience) -> Result<Option<(String, String)>> {
        let (kind, target) = audience_query(audience);
        let row = sqlx::query(&format!(
            "SELECT c.user_id, coalesce(c.display_name, '') FROM contacts c
             WHERE c.friend_status = 'following' AND {AUDIENCE}
             ORDER BY c.display_name LIMIT 1"
        ))
        .bind(kind)
        .bind(target)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.map(|row| (row.get(0), row.get(1))))
    }
}

impl Store {
    /// Every tag on a contact, by name.
    pub async fn tags(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT tag FROM contact_tags ORDER BY tag")
                .fetch_all(&self.readers)
                .await?,
        )
    }
}

/// When a reminder set for `date` (`YYYY-MM-DD`) at `time` (`HH:MM`) on the clinic's
/// clock goes out; refused if that is not a date and time, or not after `now`.
pub fn send_time(
    zone: &jiff::tz::TimeZone,
    date: &str,
    time: &str,
    now: UnixMillis,
) -> Result<UnixMillis> {
    let invalid = |what: String| crate::Error::Invalid(what);
    let day: jiff::civil::Date = date
        .parse()
        .map_err(|_| invalid(format!("{date:?} is not a date as YYYY-MM-DD")))?;
    let clock: jiff::civil::Time = time
        .parse()
        .map_err(|_| invalid(format!("{time:?} is not a time as HH:MM")))?;
    let at = day
        .to_datetime(clock)
        .to_zoned(zone.clone())
        .map_err(|e| invalid(format!("{date} {time}: {e}")))?;
    let at = UnixMillis(at.timestamp().as_millisecond());
    if at <= now {
        return Err(invalid(format!("{date} {time} has passed")));
    }
    Ok(at)
}

/// A reminder's text as one patient reads it, as the executor will send it.
pub use tsunagi_domain::template::reminder_text as preview;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reminder_is_set_on_the_clinics_clock_and_never_in_the_past() {
        let tokyo = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
        let now = UnixMillis(1_796_000_000_000); // 2026-11-30 (UTC)
        let at = send_time(&tokyo, "2026-12-10", "09:00", now).unwrap();
        // 09:00 in Tokyo is midnight UTC.
        assert_eq!(
            jiff::Timestamp::from_millisecond(at.0).unwrap().to_string(),
            "2026-12-10T00:00:00Z"
        );
        for (date, time) in [
            ("2026-13-01", "09:00"),
            ("2026-12-10", "9am"),
            ("2020-01-01", "09:00"),
        ] {
            assert!(
                matches!(
                    send_time(&tokyo, date, time, now),
                    Err(crate::Error::Invalid(_))
                ),
                "{date} {time}"
            );
        }
    }
}
