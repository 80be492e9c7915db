//! Reminders and follower syncs as the log tells of them; their ledgers' writes are
//! [`crate::outreach`]'s.

use rusqlite::OptionalExtension as _;
use tsunagi_domain::session;
use tsunagi_line::UserId;
use tsunagi_proto::{
    DeviceId, Entry, OpId, OperatorId, RecipientOutcome, RecipientResult, Reminder, SyncOutcome,
};

use super::Changes;
use super::ops::Outcome;
use crate::Result;
use crate::alerts::Happened;
use crate::outreach::{self as ledger, Cancelled};

pub(super) fn schedule_reminder(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    reminder: &Reminder,
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::reminder_scheduled(db, entry, op_id, device, reminder)?;
    changes.reminders = true;
    Ok(Outcome::Applied)
}

pub(super) fn cancel_reminder(
    db: &rusqlite::Connection,
    entry: &Entry,
    reminder: OpId,
    device: &DeviceId,
    by: &session::Actor,
    changes: &mut Changes,
) -> Result<Outcome> {
    changes.reminders = true;
    Ok(
        match ledger::reminder_cancelled(db, entry, reminder, device, by)? {
            Cancelled::Yes => Outcome::Applied,
            Cancelled::TooLate => {
                Outcome::Rejected("the reminder was sent or cancelled already".into())
            }
            Cancelled::NotYours => Outcome::Rejected(
                "only an owner cancels a reminder to more than one patient".into(),
            ),
        },
    )
}

pub(super) fn reminder_recipients(
    db: &rusqlite::Connection,
    entry: &Entry,
    reminder: OpId,
    recipients: &[UserId],
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::reminder_fixed(db, entry, reminder, recipients)?;
    changes.reminders = true;
    Ok(Outcome::Applied)
}

/// LINE's answers for some of a reminder's recipients; whoever scheduled it hears of
/// those it failed.
pub(super) fn reminder_delivered(
    db: &rusqlite::Connection,
    entry: &Entry,
    reminder: OpId,
    results: &[RecipientResult],
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::reminder_delivered(db, entry, reminder, results)?;
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
            reminder,
            by: OperatorId::new(by),
            failed,
        });
    }
    Ok(Outcome::Applied)
}

/// The profiles a follower sync logs are applied as they come; its progress is kept.
pub(super) fn sync_followers(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::sync_started(db, entry, op_id, device)?;
    changes.followers = true;
    Ok(Outcome::Applied)
}

pub(super) fn follower_sync_progress(
    db: &rusqlite::Connection,
    entry: &Entry,
    sync: OpId,
    done: u64,
    total: u64,
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::sync_progress(db, entry, sync, done, total)?;
    changes.followers = true;
    Ok(Outcome::Applied)
}

pub(super) fn follower_sync_done(
    db: &rusqlite::Connection,
    entry: &Entry,
    sync: OpId,
    outcome: &SyncOutcome,
    changes: &mut Changes,
) -> Result<Outcome> {
    ledger::sync_done(db, entry, sync, outcome)?;
    changes.followers = true;
    Ok(Outcome::Applied)
}
