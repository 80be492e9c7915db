//! The ops devices and the relay's executor log: each is applied by its family's room and
//! kept in the audit with what became of it.

use tsunagi_domain::session::{self, Action};
use tsunagi_proto::{
    AlertReason, ConversationId, Delivery, DeviceId, Entry, LoggedOp, OpId, Operation,
};

use super::sends::{self, Failure};
use super::{Changes, contacts, media, outreach, sessions, settings};
use crate::{Error, Result};

/// What became of an op.
pub(super) enum Outcome {
    Applied,
    Rejected(String),
}

pub(super) fn operation(
    db: &rusqlite::Connection,
    entry: &Entry,
    op_id: OpId,
    device: &DeviceId,
    by: &session::Actor,
    logged: &LoggedOp,
    changes: &mut Changes,
) -> Result<()> {
    let op_json = serde_json::to_string(logged).map_err(|e| Error::encoding("an op", e))?;
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
            sessions::handoff(db, entry, conversation, &Action::Claim, by, changes)?,
        ),
        Operation::Release { conversation } => (
            "release",
            Some(conversation),
            sessions::handoff(db, entry, conversation, &Action::Release, by, changes)?,
        ),
        Operation::Transfer { conversation, to } => (
            "transfer",
            Some(conversation),
            sessions::transfer(db, entry, conversation, to, by, changes)?,
        ),
        Operation::Close { conversation } => (
            "close",
            Some(conversation),
            sessions::handoff(db, entry, conversation, &Action::Close, by, changes)?,
        ),
        Operation::SetMode { conversation, mode } => (
            "set_mode",
            Some(conversation),
            sessions::handoff(
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
        Operation::CredentialSet { credential, set } => (
            "credential_set",
            None,
            settings::credential_set(db, entry, device, *credential, *set, changes)?,
        ),
        Operation::AiAnswered {
            conversation,
            model,
            outcome,
            ..
        } => (
            "ai_answered",
            Some(conversation),
            sends::ai_answered(db, conversation, model, outcome, changes)?,
        ),
        Operation::TelegramSending { .. } => ("telegram_sending", None, Outcome::Applied),
        Operation::TelegramSent { outcome, .. } => (
            "telegram_sent",
            None,
            settings::telegram_sent(db, entry, outcome, changes)?,
        ),
        Operation::Send(send) => (
            "send",
            Some(&send.conversation),
            sends::outgoing(db, entry, op_id, device, send, changes)?,
        ),
        Operation::Note { contact, text } => (
            "note",
            None,
            contacts::note(db, entry, device, contact, text, changes)?,
        ),
        Operation::ContactFields { contact, fields } => (
            "contact_fields",
            None,
            contacts::contact_fields(db, contact, fields, changes)?,
        ),
        Operation::Tag {
            contact,
            tag,
            added,
        } => (
            "tag",
            None,
            contacts::tag(db, contact, tag, *added, changes)?,
        ),
        Operation::Settings(setting) => (
            "settings",
            None,
            settings::setting(db, entry, setting, changes)?,
        ),
        Operation::LineAccount(account) => (
            "line_account",
            None,
            settings::line_account(db, entry, account, changes)?,
        ),
        Operation::Profiles { profiles } => (
            "profiles",
            None,
            contacts::profiles(db, entry, profiles, changes)?,
        ),
        Operation::Sent {
            send,
            message_ids,
            via,
        } => (
            "sent",
            None,
            sends::send_outcome(db, entry, *send, Ok(*via), message_ids, changes)?,
        ),
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
            let outcome = sends::send_outcome(db, entry, *send, Err(failure), &[], changes)?;
            ("send_failed", None, outcome)
        }
        // The send stays pending until its outcome; the audit shows the attempt.
        Operation::Sending {
            via: Delivery::Reply,
            token_of: Some(of),
            ..
        } => ("sending", None, sends::reply_token_spent(db, *of)?),
        Operation::Sending { .. } => ("sending", None, Outcome::Applied),
        Operation::NotSent { .. } => ("not_sent", None, Outcome::Applied),
        Operation::Unanswered { .. } => ("unanswered", None, Outcome::Applied),
        Operation::Alert {
            conversation,
            reason,
        } => {
            let outcome = sessions::alert(db, entry, conversation, *reason, changes)?;
            let kind = if *reason == AlertReason::RedFlag {
                "red_flag"
            } else {
                "alert"
            };
            (kind, Some(conversation), outcome)
        }
        Operation::ScheduleReminder(reminder) => (
            "schedule_reminder",
            None,
            outreach::schedule_reminder(db, entry, op_id, device, reminder, changes)?,
        ),
        Operation::CancelReminder { reminder } => (
            "cancel_reminder",
            None,
            outreach::cancel_reminder(db, entry, *reminder, device, by, changes)?,
        ),
        Operation::ReminderRecipients {
            reminder,
            recipients,
        } => (
            "reminder_recipients",
            None,
            outreach::reminder_recipients(db, entry, *reminder, recipients, changes)?,
        ),
        Operation::ReminderDelivered {
            reminder, results, ..
        } => (
            "reminder_delivered",
            None,
            outreach::reminder_delivered(db, entry, *reminder, results, changes)?,
        ),
        // Which messages' media the relay keeps: the audit has it until the app fetches media.
        Operation::Media { message, outcome } => {
            ("media", None, media::media(db, entry, message, outcome)?)
        }
        Operation::SyncFollowers => (
            "sync_followers",
            None,
            outreach::sync_followers(db, entry, op_id, device, changes)?,
        ),
        Operation::FollowerIds { .. } => ("follower_ids", None, Outcome::Applied),
        Operation::FollowerSyncProgress {
            sync, done, total, ..
        } => (
            "follower_sync_progress",
            None,
            outreach::follower_sync_progress(db, entry, *sync, *done, *total, changes)?,
        ),
        Operation::FollowerSyncDone { sync, outcome } => (
            "follower_sync_done",
            None,
            outreach::follower_sync_done(db, entry, *sync, outcome, changes)?,
        ),
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
