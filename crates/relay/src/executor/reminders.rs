//! Reminders: a part at a time, multicast or pushed one by one, and what became of each
//! recipient, logged.

use tsunagi_domain::automation::{ReminderPart, ReminderSend};
use tsunagi_line::{Error as LineError, UserId};
use tsunagi_proto::{Operation, RecipientOutcome, RecipientResult};

use super::client::{describe, is_final, is_quota};
use super::{Executor, Failure};
use crate::store::LogStore;

impl<S: LogStore> Executor<S> {
    /// Sends one part of a reminder and logs what became of each recipient. A refusal
    /// (the month's quota) fails the part's remaining recipients at once; an outage is
    /// tried again later, and the retry keys make the repeat harmless.
    pub(super) async fn remind(&mut self, part: ReminderPart) -> Result<(), Failure> {
        let mut results: Vec<RecipientResult> = part
            .blocked
            .iter()
            .map(|user| RecipientResult {
                user: user.clone(),
                outcome: RecipientOutcome::Blocked,
            })
            .chain(part.opted_out.iter().map(|(user, why)| RecipientResult {
                user: user.clone(),
                outcome: RecipientOutcome::OptedOut { why: why.clone() },
            }))
            .collect();
        let failed = |user: &UserId, error: &LineError| RecipientResult {
            user: user.clone(),
            outcome: RecipientOutcome::Failed {
                reason: describe(error).0,
            },
        };
        match &part.send {
            ReminderSend::Multicast { to, message, key } if !to.is_empty() => {
                let sent = self
                    .client()
                    .await?
                    .multicast(to, std::slice::from_ref(message), false, *key)
                    .await;
                match sent {
                    Ok(_) => results.extend(to.iter().map(|user| RecipientResult {
                        user: user.clone(),
                        outcome: RecipientOutcome::Sent,
                    })),
                    Err(error) if is_final(&error) => {
                        results.extend(to.iter().map(|user| failed(user, &error)));
                    }
                    Err(error) => return Err(Failure::Line(error)),
                }
            }
            ReminderSend::Multicast { .. } => {}
            ReminderSend::Push(each) => {
                let mut refusal: Option<LineError> = None;
                for (user, message, key) in each {
                    if let Some(error) = refusal.as_ref().filter(|e| is_quota(e)) {
                        results.push(failed(user, error));
                        continue;
                    }
                    let sent = self
                        .client()
                        .await?
                        .push(user.as_str(), std::slice::from_ref(message), false, *key)
                        .await;
                    match sent {
                        Ok(_) => results.push(RecipientResult {
                            user: user.clone(),
                            outcome: RecipientOutcome::Sent,
                        }),
                        Err(error) if is_final(&error) => {
                            results.push(failed(user, &error));
                            refusal = Some(error);
                        }
                        Err(error) => return Err(Failure::Line(error)),
                    }
                }
            }
        }
        self.log_one(
            format!("reminder/{}/part/{}", part.reminder, part.part),
            Operation::ReminderDelivered {
                reminder: part.reminder,
                part: part.part,
                results,
            },
        )
        .await
    }
}
