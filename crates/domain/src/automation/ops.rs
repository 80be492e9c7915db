//! What an op in the log does to the bot: each family of ops is folded by the room that
//! keeps what it changes.

use tsunagi_proto::{AlertReason, Entry, Operation};

use super::{Bot, Decision};
use crate::session::{self, Action};

impl Bot {
    pub(super) fn operation(
        &mut self,
        entry: &Entry,
        actor: &session::Actor,
        op: &Operation,
        decisions: &mut Vec<Decision>,
    ) {
        let action = match op {
            Operation::Claim { conversation } => Some((conversation, Action::Claim)),
            Operation::Release { conversation } => Some((conversation, Action::Release)),
            Operation::Transfer { conversation, to } => {
                Some((conversation, Action::Transfer { to: to.clone() }))
            }
            Operation::Close { conversation } => Some((conversation, Action::Close)),
            Operation::SetMode { conversation, mode } => {
                Some((conversation, Action::SetMode(*mode)))
            }
            _ => None,
        };
        if let Some((conversation, action)) = action {
            self.session_action(entry, conversation, &action, actor, decisions);
            return;
        }
        match op {
            // Alerts, credentials, the AI responder, Telegram.
            Operation::Alert {
                conversation,
                reason,
            } => {
                if *reason == AlertReason::Escalated
                    && let Some(waiting) = self
                        .chats
                        .get_mut(conversation)
                        .and_then(|c| c.waiting.as_mut())
                {
                    waiting.escalated = true;
                }
                self.alert_on_telegram(entry, conversation, *reason);
            }
            Operation::CredentialSet { credential, set } => {
                if *set {
                    self.credentials.insert(*credential);
                } else {
                    self.credentials.remove(credential);
                }
            }
            Operation::AiAnswered {
                conversation,
                question,
                outcome,
                ..
            } => self.fold_ai_answer(entry, conversation, *question, outcome),
            Operation::TelegramSending { cause } => {
                if let Some(alert) = self.telegram.get_mut(cause) {
                    alert.noted = true;
                }
            }
            Operation::TelegramSent { cause, .. } => {
                self.telegram.remove(cause);
            }
            // Sends.
            Operation::Send(send) => self.fold_send(entry, send),
            Operation::Sending {
                send,
                via,
                token_of,
            } => self.fold_sending(send, via, token_of),
            Operation::NotSent { send, .. } => self.fold_not_sent(send),
            Operation::Unanswered { send, .. } => self.fold_unanswered(send),
            Operation::Sent { send, .. } | Operation::SendFailed { send, .. } => {
                self.fold_settled(send)
            }
            // Follower syncs.
            Operation::SyncFollowers => self.fold_sync_followers(entry),
            Operation::FollowerIds {
                sync,
                page,
                user_ids,
                next,
            } => self.fold_follower_ids(sync, *page, user_ids, next),
            Operation::FollowerSyncProgress { sync, skipped, .. } => {
                self.fold_sync_progress(sync, skipped)
            }
            Operation::FollowerSyncDone { sync, .. } => self.fold_sync_done(sync),
            // Media, settings, contacts.
            Operation::Media { message, .. } => self.fold_media(message),
            Operation::Settings(setting) => self.settings.set(setting),
            Operation::Profiles { profiles } => self.fold_profiles(profiles, decisions),
            Operation::Tag {
                contact,
                tag,
                added,
            } => self.fold_tag(contact, tag, *added),
            Operation::Consent {
                contact,
                consent,
                given,
                ..
            } => self.fold_consent(contact, *consent, *given),
            Operation::Erase { contact } => self.forget(contact),
            Operation::Hold { contact, held, .. } => self.fold_hold(contact, *held),
            Operation::Expire { before, held } => self.fold_expire(entry, before, held),
            // Reminders.
            Operation::ScheduleReminder(reminder) => {
                self.fold_schedule_reminder(entry, &actor.operator, reminder)
            }
            Operation::CancelReminder { reminder } => self.fold_cancel_reminder(actor, reminder),
            Operation::ReminderRecipients {
                reminder,
                recipients,
            } => self.fold_reminder_recipients(reminder, recipients),
            Operation::ReminderDelivered {
                reminder,
                part,
                results,
            } => self.fold_reminder_delivered(entry, reminder, *part, results),
            _ => {}
        }
    }
}
