//! The ops devices and the relay's executor log: each is applied by its family's room and
//! kept in the audit with what became of it.

use tsunagi_domain::session::{self, Action};
use tsunagi_proto::{
    AlertReason, ConversationId, Delivery, DeviceId, Entry, LoggedOp, OpId, Operation,
};

use super::sends::{self, Failure};
use super::{Changes, consents, contacts, erase, expire, media, outreach, sessions, settings};
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
    // What the relay keeps of an erased op: nothing to apply, nothing for the audit.
    if let LoggedOp::Known(Operation::Erased) = logged {
        return Ok(());
    }
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
    // The audit's word for the op: its kind, and a red flag apart from other alerts.
    let kind = match op {
        Operation::Alert {
            reason: AlertReason::RedFlag,
            ..
        } => "red_flag",
        op => op.kind(),
    };
    // The chat an op about a contact is filed under, so the audit names the patient.
    let contacts_chat: ConversationId;
    let (conversation, outcome) = match op {
        Operation::Claim { conversation } => (
            Some(conversation),
            sessions::handoff(db, entry, conversation, &Action::Claim, by, changes)?,
        ),
        Operation::Release { conversation } => (
            Some(conversation),
            sessions::handoff(db, entry, conversation, &Action::Release, by, changes)?,
        ),
        Operation::Transfer { conversation, to } => (
            Some(conversation),
            sessions::transfer(db, entry, conversation, to, by, changes)?,
        ),
        Operation::Close { conversation } => (
            Some(conversation),
            sessions::handoff(db, entry, conversation, &Action::Close, by, changes)?,
        ),
        Operation::SetMode { conversation, mode } => (
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
        Operation::MarkRead { conversation, .. } => (Some(conversation), Outcome::Applied),
        Operation::Typing { conversation, .. } => (Some(conversation), Outcome::Applied),
        // What the relay keeps and does for the AI responder and Telegram alerts; the
        // audit keeps that they happened.
        Operation::CredentialSet { credential, set } => (
            None,
            settings::credential_set(db, entry, device, *credential, *set, changes)?,
        ),
        Operation::AiAnswered {
            conversation,
            model,
            outcome,
            ..
        } => (
            Some(conversation),
            sends::ai_answered(db, conversation, model, outcome, changes)?,
        ),
        Operation::TelegramSending { .. } => (None, Outcome::Applied),
        Operation::TelegramSent { outcome, .. } => {
            (None, settings::telegram_sent(db, entry, outcome, changes)?)
        }
        Operation::Send(send) => (
            Some(&send.conversation),
            sends::outgoing(db, entry, op_id, device, send, changes)?,
        ),
        Operation::Note { contact, text } => (
            None,
            contacts::note(db, entry, device, contact, text, changes)?,
        ),
        Operation::ContactFields { contact, fields } => (
            None,
            contacts::contact_fields(db, contact, fields, changes)?,
        ),
        Operation::Tag {
            contact,
            tag,
            added,
        } => (None, contacts::tag(db, contact, tag, *added, changes)?),
        Operation::Consent {
            contact,
            consent,
            given,
            wording,
        } => {
            contacts_chat = ConversationId::new(contact.as_str());
            let answer = (*consent, *given, wording.as_str());
            let outcome = consents::recorded(db, entry, device, contact, answer, changes)?;
            (Some(&contacts_chat), outcome)
        }
        // A copy of a patient's data: the audit keeps who took it, and when.
        Operation::Export { contact } => {
            contacts_chat = ConversationId::new(contact.as_str());
            (Some(&contacts_chat), Outcome::Applied)
        }
        // Everything about the patient goes; the audit keeps who erased which LINE user id.
        Operation::Erase { contact } => {
            contacts_chat = ConversationId::new(contact.as_str());
            (Some(&contacts_chat), erase::erase(db, contact, changes)?)
        }
        Operation::Erased => (None, Outcome::Applied),
        Operation::Hold {
            contact,
            held,
            reason,
        } => {
            contacts_chat = ConversationId::new(contact.as_str());
            let outcome = expire::hold(db, entry, contact, *held, reason, changes)?;
            (Some(&contacts_chat), outcome)
        }
        Operation::Expire { before, held } => (None, expire::expire(db, before, held, changes)?),
        Operation::Settings(setting) => (None, settings::setting(db, entry, setting, changes)?),
        Operation::LineAccount(account) => {
            (None, settings::line_account(db, entry, account, changes)?)
        }
        Operation::Profiles { profiles } => {
            (None, contacts::profiles(db, entry, profiles, changes)?)
        }
        Operation::Sent {
            send,
            message_ids,
            via,
        } => (
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
            (None, outcome)
        }
        // The send stays pending until its outcome; the audit shows the attempt.
        Operation::Sending {
            via: Delivery::Reply,
            token_of: Some(of),
            ..
        } => (None, sends::reply_token_spent(db, *of)?),
        Operation::Sending { .. } => (None, Outcome::Applied),
        Operation::NotSent { .. } => (None, Outcome::Applied),
        Operation::Unanswered { .. } => (None, Outcome::Applied),
        Operation::Alert {
            conversation,
            reason,
        } => {
            let outcome = sessions::alert(db, entry, conversation, *reason, changes)?;
            (Some(conversation), outcome)
        }
        Operation::ScheduleReminder(reminder) => (
            None,
            outreach::schedule_reminder(db, entry, op_id, device, reminder, changes)?,
        ),
        Operation::CancelReminder { reminder } => (
            None,
            outreach::cancel_reminder(db, entry, *reminder, device, by, changes)?,
        ),
        Operation::ReminderRecipients {
            reminder,
            recipients,
        } => (
            None,
            outreach::reminder_recipients(db, entry, *reminder, recipients, changes)?,
        ),
        Operation::ReminderDelivered {
            reminder, results, ..
        } => (
            None,
            outreach::reminder_delivered(db, entry, *reminder, results, changes)?,
        ),
        // Which messages' media the relay keeps: the audit has it until the app fetches media.
        Operation::Media { message, outcome } => (None, media::media(db, entry, message, outcome)?),
        Operation::SyncFollowers => (
            None,
            outreach::sync_followers(db, entry, op_id, device, changes)?,
        ),
        Operation::FollowerIds { .. } => (None, Outcome::Applied),
        Operation::FollowerSyncProgress {
            sync, done, total, ..
        } => (
            None,
            outreach::follower_sync_progress(db, entry, *sync, *done, *total, changes)?,
        ),
        Operation::FollowerSyncDone { sync, outcome } => (
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
