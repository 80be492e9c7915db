//! Reminders: scheduled by operators, sent at their time in parts, and a patient's answer
//! routed back to whoever scheduled it.

use std::collections::BTreeSet;

use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::{MAX_MULTICAST_RECIPIENTS, Message};
use tsunagi_proto::{
    Audience, ConversationId, Entry, EntryBody, OpId, Operation, OperatorId, OptOut,
    RecipientOutcome, RecipientResult, Reminder, UnixMillis,
};
use uuid::Uuid;

use super::{Bot, Decision, log, to_people};
use crate::session;
use crate::template;

/// How long after a reminder a patient's message counts as answering it.
pub const REMINDER_REPLY_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A reminder in the log, and how far it went.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct Scheduled {
    pub(super) op_id: OpId,
    pub(super) reminder: Reminder,
    pub(super) by: OperatorId,
    /// Fixed when it came due.
    pub(super) recipients: Option<Vec<UserId>>,
    /// Parts whose results are logged.
    pub(super) done: BTreeSet<u32>,
    pub(super) cancelled: bool,
}

/// One part of a reminder's recipients, to send in one go.
#[derive(Debug, Clone, PartialEq)]
pub struct ReminderPart {
    pub reminder: OpId,
    pub part: u32,
    /// Recipients who blocked the account: nothing goes to them.
    pub blocked: Vec<UserId>,
    /// Recipients who asked for no reminders, or never agreed to them where the clinic
    /// asks first: nothing goes to them either.
    pub opted_out: Vec<(UserId, OptOut)>,
    pub send: ReminderSend,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReminderSend {
    /// The same message to all of them, in one call.
    Multicast {
        to: Vec<UserId>,
        message: Message,
        key: RetryKey,
    },
    /// A message of their own to each (the text names them).
    Push(Vec<(UserId, Message, RetryKey)>),
}

impl Bot {
    /// Reminders come due at `now`: their recipients are fixed, as the log stands.
    pub(super) fn due_reminders(&self, now: UnixMillis, decisions: &mut Vec<Decision>) {
        for scheduled in self.reminders.values() {
            if !scheduled.cancelled
                && scheduled.recipients.is_none()
                && scheduled.reminder.at <= now
            {
                decisions.push(log(
                    &format!("reminder/{}/recipients", scheduled.op_id),
                    Operation::ReminderRecipients {
                        reminder: scheduled.op_id,
                        recipients: self.audience(&scheduled.reminder.to),
                    },
                ));
            }
        }
    }

    /// When the next reminder comes due, if one will.
    pub(super) fn next_reminder(&self) -> Option<UnixMillis> {
        self.reminders
            .values()
            .filter(|s| !s.cancelled && s.recipients.is_none())
            .map(|s| s.reminder.at)
            .min()
    }

    /// A patient answering a reminder within a week goes to the operator who scheduled it.
    pub(super) fn route_reply_to_reminder(
        &mut self,
        conversation: &ConversationId,
        user: &UserId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        if conversation.as_str() != user.as_str() {
            return;
        }
        let Some((by, at)) = self.reminded.get(user).cloned() else {
            return;
        };
        if entry.at.0 - at.0 > REMINDER_REPLY_MS {
            return;
        }
        self.reminded.remove(user);
        let cause = format!("reminder-reply/{}", entry.seq.0);
        decisions.push(to_people(&cause, conversation));
        decisions.push(log(
            &format!("{cause}/assign"),
            Operation::Transfer {
                conversation: conversation.clone(),
                to: by,
            },
        ));
        if let Some(chat) = self.chats.get_mut(conversation) {
            chat.handing_off = true;
        }
    }

    /// Who a reminder goes to, as the log stands.
    pub(super) fn audience(&self, to: &Audience) -> Vec<UserId> {
        let mut users: Vec<UserId> = match to {
            Audience::Contact { user } => vec![user.clone()],
            // A tagged patient who blocked the account stays on the list, to be reported
            // blocked: the clinic learns whom the reminder could not reach.
            Audience::Tag { tag } => self
                .contacts
                .iter()
                .filter(|(_, c)| (c.following || c.blocked) && c.tags.contains(tag.trim()))
                .map(|(u, _)| u.clone())
                .collect(),
            Audience::Following => self
                .contacts
                .iter()
                .filter(|(_, c)| c.following)
                .map(|(u, _)| u.clone())
                .collect(),
        };
        users.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        users
    }

    /// Reminders whose recipients are fixed, in parts still to send, oldest first.
    pub fn reminder_parts(&self) -> Vec<ReminderPart> {
        let mut parts = Vec::new();
        for scheduled in self.reminders.values().filter(|s| !s.cancelled) {
            let Some(recipients) = &scheduled.recipients else {
                continue;
            };
            let reminder = &scheduled.reminder;
            let personal = template::pieces(&reminder.text)
                .is_ok_and(|p| p.contains(&template::Piece::Variable("name")));
            for (n, chunk) in recipients.chunks(MAX_MULTICAST_RECIPIENTS).enumerate() {
                let part = n as u32;
                if scheduled.done.contains(&part) {
                    continue;
                }
                let (blocked, rest): (Vec<UserId>, Vec<UserId>) = chunk
                    .iter()
                    .cloned()
                    .partition(|u| self.contacts.get(u).is_some_and(|c| c.blocked));
                let mut opted_out = Vec::new();
                let mut reachable = Vec::new();
                for user in rest {
                    match self.reminder_opt_out(&user) {
                        Some(why) => opted_out.push((user, why)),
                        None => reachable.push(user),
                    }
                }
                let text = |user: Option<&UserId>| {
                    let name = user
                        .and_then(|u| self.contacts.get(u)?.name.clone())
                        .unwrap_or_default();
                    template::reminder_text(reminder, &name)
                };
                let key = |what: &str| {
                    RetryKey(Uuid::new_v5(
                        &scheduled.op_id.0,
                        format!("part/{part}/{what}").as_bytes(),
                    ))
                };
                let send = if personal {
                    ReminderSend::Push(
                        reachable
                            .iter()
                            .map(|u| (u.clone(), Message::text(text(Some(u))), key(u.as_str())))
                            .collect(),
                    )
                } else {
                    ReminderSend::Multicast {
                        to: reachable,
                        message: Message::text(text(None)),
                        key: key("multicast"),
                    }
                };
                parts.push(ReminderPart {
                    reminder: scheduled.op_id,
                    part,
                    blocked,
                    opted_out,
                    send,
                });
            }
        }
        parts
    }

    /// An operator scheduled a reminder.
    pub(super) fn fold_schedule_reminder(
        &mut self,
        entry: &Entry,
        by: &OperatorId,
        reminder: &Reminder,
    ) {
        if let EntryBody::Op { op_id, .. } = &entry.body {
            self.reminders.insert(
                entry.seq,
                *op_id,
                Scheduled {
                    op_id: *op_id,
                    reminder: reminder.clone(),
                    by: by.clone(),
                    recipients: None,
                    done: BTreeSet::new(),
                    cancelled: false,
                },
            );
        }
    }

    /// A reminder cancelled, by someone who may.
    pub(super) fn fold_cancel_reminder(&mut self, actor: &session::Actor, reminder: &OpId) {
        if let Some(scheduled) = self.reminders.get_mut(reminder)
            && crate::validate::may_cancel(&scheduled.reminder, actor.oversees)
        {
            scheduled.cancelled = true;
        }
    }

    /// A reminder's recipients, fixed once.
    pub(super) fn fold_reminder_recipients(&mut self, reminder: &OpId, recipients: &[UserId]) {
        if let Some(scheduled) = self.reminders.get_mut(reminder)
            && scheduled.recipients.is_none()
        {
            scheduled.recipients = Some(recipients.to_vec());
        }
    }

    /// A part of a reminder went out: who got it may answer its operator; failures are
    /// told to the owners.
    pub(super) fn fold_reminder_delivered(
        &mut self,
        entry: &Entry,
        reminder: &OpId,
        part: u32,
        results: &[RecipientResult],
    ) {
        let Some(scheduled) = self.reminders.get_mut(reminder) else {
            return;
        };
        scheduled.done.insert(part);
        let by = scheduled.by.clone();
        for result in results {
            if result.outcome == RecipientOutcome::Sent {
                self.reminded
                    .insert(result.user.clone(), (by.clone(), entry.at));
            }
        }
        let failed = results
            .iter()
            .filter(|r| matches!(r.outcome, RecipientOutcome::Failed { .. }))
            .count();
        if failed > 0 {
            self.alert_reminder_failed(entry, failed);
        }
    }
}
