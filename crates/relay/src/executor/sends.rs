//! Sends: a reply while its token lasts, else a push, each attempt noted before it is made,
//! so that a restart never answers the same send twice; and what became of it, logged.

use tsunagi_domain::automation::{Call, IfSpent, Pending, Route, SEND_EXPIRES_MS};
use tsunagi_line::client::{Class, Done, SendOutcome};
use tsunagi_line::{Error as LineError, MessageId};
use tsunagi_proto::{Delivery, OpId, Operation, Seq};

use super::client::{describe, request_id};
use super::{Executor, Failure};
use crate::store::LogStore;

/// Why a send is not confirmed when LINE's answer to a reply was a 5xx or lost (or its
/// token lapsed before it could be asked again), and its token was spent when asked again.
const UNCONFIRMED: &str = "LINE did not confirm the reply, and its token cannot be used \
     again: the patient may or may not have it, so it was not sent again";

/// What became of a call to LINE.
enum Answer {
    Sent(Vec<MessageId>),
    /// LINE refused it for good.
    Refused(LineError),
    /// LINE refused the reply token: used or too old.
    Spent(LineError),
    /// Not now: try again later. Whether LINE carried it out all the same.
    Unavailable(LineError, Done),
}

impl<S: LogStore> Executor<S> {
    /// Delivers one send and logs its outcome. Returns an error only when it must be
    /// tried again later.
    pub(super) async fn deliver(&mut self, pending: &Pending) -> Result<(), Failure> {
        let send = pending.op_id;
        let now = self.now();
        if now.0 - pending.at.0 > SEND_EXPIRES_MS {
            let reason = "not delivered within 24 hours of being written".to_owned();
            return self.failed(send, reason, Vec::new(), None).await;
        }
        if pending.lost_reply() {
            return self.unconfirmed(send).await;
        }
        let calls = self.bot.plan(pending, now);
        let mut ids = Vec::new();
        let mut via = Delivery::Push;
        for (n, call) in calls.into_iter().enumerate() {
            let answer = match &call.route {
                Route::Reply { of, if_spent, .. } => {
                    via = Delivery::Reply;
                    let new_attempt = *if_spent == IfSpent::Push;
                    if new_attempt {
                        self.note_attempt(pending, Delivery::Reply, Some(*of))
                            .await?;
                    }
                    match (self.call(&call).await?, if_spent) {
                        // Refused now, so nothing went out: push instead, noted first.
                        (Answer::Spent(_), IfSpent::Push) => {
                            via = Delivery::Push;
                            self.note_attempt(pending, Delivery::Push, None).await?;
                            let push = Call {
                                messages: call.messages.clone(),
                                route: Route::Push {
                                    to: pending.send.conversation.clone(),
                                    key: pending.send.retry_key,
                                },
                            };
                            self.call(&push).await?
                        }
                        // Only the attempt noted before can have spent it: it went out.
                        (Answer::Spent(_), IfSpent::WentOut) => Answer::Sent(Vec::new()),
                        (Answer::Spent(_), IfSpent::Unconfirmed) => {
                            return self.unconfirmed(send).await;
                        }
                        // LINE did nothing with this attempt: the next one may push, or
                        // reply while the token lasts.
                        (Answer::Unavailable(error, Done::No), _) if new_attempt => {
                            self.log_one(
                                pending.not_sent_cause(),
                                Operation::NotSent {
                                    send,
                                    reason: describe(&error).0,
                                },
                            )
                            .await?;
                            return Err(Failure::Line(error));
                        }
                        // LINE may have carried it out: noted, so that a spent token
                        // then is not taken for proof that it went out.
                        (Answer::Unavailable(error, Done::Maybe), _) => {
                            self.log_one(
                                pending.unanswered_cause(),
                                Operation::Unanswered {
                                    send,
                                    reason: describe(&error).0,
                                },
                            )
                            .await?;
                            return Err(Failure::Line(error));
                        }
                        (answer, _) => answer,
                    }
                }
                Route::Push { .. } => {
                    if n == 0 {
                        via = Delivery::Push;
                    }
                    self.call(&call).await?
                }
            };
            // Refused now, but an earlier attempt with the same token may have gone out.
            let retried = matches!(
                call.route,
                Route::Reply {
                    if_spent: IfSpent::WentOut | IfSpent::Unconfirmed,
                    ..
                }
            );
            match answer {
                Answer::Sent(sent) => ids.extend(sent),
                Answer::Refused(_) if retried => return self.unconfirmed(send).await,
                Answer::Refused(error) | Answer::Spent(error) => {
                    let (mut reason, details) = describe(&error);
                    if !ids.is_empty() {
                        reason = format!("{reason} (the first {} messages were sent)", ids.len());
                    }
                    return self.failed(send, reason, details, request_id(&error)).await;
                }
                Answer::Unavailable(error, _) => return Err(Failure::Line(error)),
            }
        }
        self.log_one(
            format!("sent/{send}"),
            Operation::Sent {
                send,
                via,
                message_ids: ids,
            },
        )
        .await
    }

    async fn note_attempt(
        &self,
        pending: &Pending,
        via: Delivery,
        token_of: Option<Seq>,
    ) -> Result<(), Failure> {
        self.log_one(
            pending.attempt_cause(via),
            Operation::Sending {
                send: pending.op_id,
                via,
                token_of,
            },
        )
        .await
    }

    async fn failed(
        &self,
        send: OpId,
        reason: String,
        details: Vec<String>,
        request_id: Option<String>,
    ) -> Result<(), Failure> {
        self.log_one(
            format!("send-failed/{send}"),
            Operation::SendFailed {
                send,
                reason,
                details,
                unconfirmed: false,
                request_id,
            },
        )
        .await
    }

    /// Ends a send whose reply LINE may have carried out: not pushed, which could answer
    /// the patient twice.
    async fn unconfirmed(&self, send: OpId) -> Result<(), Failure> {
        self.log_one(
            format!("send-failed/{send}"),
            Operation::SendFailed {
                send,
                reason: UNCONFIRMED.into(),
                details: Vec::new(),
                unconfirmed: true,
                request_id: None,
            },
        )
        .await
    }

    async fn call(&mut self, call: &Call) -> Result<Answer, Failure> {
        let client = self.client().await?;
        let result = match &call.route {
            Route::Reply { token, .. } => client.reply(token, &call.messages, false).await,
            Route::Push { to, key } => client.push(to.as_str(), &call.messages, false, *key).await,
        };
        let error = match result {
            Ok(outcome) => return Ok(Answer::Sent(sent_ids(&outcome))),
            Err(error) => error,
        };
        Ok(match (error.done(), error.class()) {
            // It went out; only LINE's account of it was lost.
            (Done::Yes, _) => Answer::Sent(Vec::new()),
            (_, Class::SpentReplyToken) => Answer::Spent(error),
            (done, Class::Retriable | Class::AccessToken) => Answer::Unavailable(error, done),
            (_, Class::Permanent) => Answer::Refused(error),
        })
    }
}

fn sent_ids(outcome: &SendOutcome) -> Vec<MessageId> {
    outcome
        .sent_messages()
        .iter()
        .map(|m| m.id.clone())
        .collect()
}
