//! The calls beside the sends: the model, asked about a patient's question, and Telegram,
//! sent an alert for the owners; they run on their own, and what they come back with is
//! logged when it is back. Also what is only for LINE's screens: the loading animation
//! and the patient's "Read".

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt as _;
use tsunagi_domain::automation::{AiQuestion, TelegramAlert};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::{ConversationId, Credential, Operation, Seq, TelegramOutcome, TelegramTrouble};

use super::{Executor, Failure, Item};
use crate::assistant::{self, Reply};
use crate::store::LogStore;
use crate::telegram::{Telegram, TelegramError};

/// Questions the model is asked at once per channel: a few patients writing in the same
/// minute need not wait for each other's answers.
const MODEL_CALLS_AT_ONCE: usize = 4;

/// A Telegram alert older than this is not sent: it would only confuse.
const TELEGRAM_WITHIN_MS: i64 = 60 * 60 * 1000;

/// Tries per Telegram chat when Telegram is busy or down, and the longest wait it may ask.
const TELEGRAM_TRIES: u32 = 5;
const TELEGRAM_LONGEST_WAIT: Duration = Duration::from_secs(60);

/// A read mark older than this is not worth telling LINE about any more.
const MARK_READ_WITHIN_MS: i64 = 24 * 60 * 60 * 1000;

/// An operator who was typing this long ago has sent or stopped since.
const TYPING_WITHIN_MS: i64 = 20_000;

/// Calls out beside the channel's sends.
#[derive(Default)]
pub(super) struct Beside {
    /// The model, about one question per chat, in so many chats at once.
    asking: Vec<(ConversationId, Out)>,
    /// Telegram, with one alert.
    alerting: Option<Out>,
}

/// What a call beside the sends came back with.
pub(super) enum Returned {
    Ai {
        question: AiQuestion,
        model: String,
        reply: Reply,
    },
    Telegram {
        cause: Seq,
        outcome: TelegramOutcome,
    },
}

impl Beside {
    /// Whether the model may be asked about one more chat.
    pub(super) fn may_ask(&self) -> bool {
        self.asking.len() < MODEL_CALLS_AT_ONCE
    }

    /// Whether an alert is on its way to Telegram.
    pub(super) fn is_alerting(&self) -> bool {
        self.alerting.is_some()
    }

    /// No call is out: nothing will come back to settle.
    pub(super) fn is_quiet(&self) -> bool {
        self.asking.is_empty() && self.alerting.is_none()
    }

    /// Whether the model is being asked about a question in `conversation`.
    pub(super) fn asks_in(&self, conversation: &ConversationId) -> bool {
        self.asking.iter().any(|(c, _)| c == conversation)
    }

    /// The next call to come back; pending for ever while none is out.
    pub(super) fn returned(&mut self) -> impl Future<Output = Returned> + '_ {
        std::future::poll_fn(|cx| {
            if let Some((at, returned)) = self
                .asking
                .iter_mut()
                .enumerate()
                .find_map(|(at, (_, call))| Some((at, call.poll(cx)?)))
            {
                self.asking.swap_remove(at);
                return Poll::Ready(returned);
            }
            if let Some(call) = &mut self.alerting
                && let Some(returned) = call.poll(cx)
            {
                self.alerting = None;
                return Poll::Ready(returned);
            }
            Poll::Pending
        })
    }
}

/// A call beside the sends, running on its own; stopped when dropped.
struct Out(tokio::task::JoinHandle<Returned>);

impl Out {
    fn start(call: impl Future<Output = Returned> + Send + 'static) -> Self {
        Self(tokio::spawn(call))
    }

    /// What it came back with, once it has. Only dropping it stops it; a call that
    /// panicked panics here, as it would have in the executor's own task.
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Option<Returned> {
        match self.0.poll_unpin(cx) {
            Poll::Ready(joined) => {
                Some(joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
            }
            Poll::Pending => None,
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<S: LogStore> Executor<S> {
    /// Asks the model about a patient's question, beside the sends, showing LINE's loading
    /// animation meanwhile. Without its settings or key, the chat goes to people now.
    pub(super) async fn ask(&mut self, question: AiQuestion) -> Result<(), Failure> {
        let settings = self.bot.ai().cloned();
        let key = self
            .relay
            .credential(&self.channel, Credential::AiKey)
            .await?;
        let (Some(settings), Some(key)) = (settings, key) else {
            let reply =
                Reply::HandOver("the AI responder is off, or the relay has no API key".into());
            return self
                .settle(Returned::Ai {
                    question,
                    model: String::new(),
                    reply,
                })
                .await;
        };
        self.show_thinking(&question.conversation, settings.timeout_seconds)
            .await;
        let egress = self.relay.egress().clone();
        let conversation = question.conversation.clone();
        let call = Out::start(async move {
            let reply = assistant::ask(&egress, &settings, &key, &question).await;
            let model = settings.model.trim().to_owned();
            Returned::Ai {
                question,
                model,
                reply,
            }
        });
        self.beside.asking.push((conversation, call));
        Ok(())
    }

    /// Logs what a call beside the sends came back with. The model's answer is sent like
    /// any other, by reply while the token lasts; its ops have ids that follow from the
    /// question, so it is logged once, and a restart before it is logged asks again.
    pub(super) async fn settle(&mut self, returned: Returned) -> Result<(), Failure> {
        match returned {
            Returned::Ai {
                question,
                model,
                reply,
            } => {
                let decisions = match reply {
                    Reply::Answer(text) => self.bot.ai_answered(&question, &model, &text),
                    Reply::HandOver(reason) => {
                        tracing::info!(channel = %self.channel, conversation = %question.conversation, %reason, "the AI responder hands the chat to people");
                        self.bot
                            .ai_handed_over(&question, &model, &reason, self.now())
                    }
                };
                self.decide(decisions).await?;
                self.held.ended(Item::question(&question));
                Ok(())
            }
            Returned::Telegram { cause, outcome } => {
                self.log_one(
                    format!("telegram/{}", cause.0),
                    Operation::TelegramSent { cause, outcome },
                )
                .await?;
                self.held.ended(Item::Alert(cause));
                Ok(())
            }
        }
    }

    /// LINE's loading animation in a 1:1 chat, for about `seconds`: best effort.
    async fn show_thinking(&mut self, conversation: &ConversationId, seconds: u32) {
        if !conversation.is_one_to_one() {
            return;
        }
        // LINE shows it for 5 to 60 seconds, in fives; a message sent ends it.
        let seconds = seconds.div_ceil(5).clamp(1, 12) * 5;
        if let Ok(client) = self.client().await
            && let Err(error) = client
                .loading_start(&UserId::new(conversation.as_str()), seconds)
                .await
        {
            tracing::debug!(channel = %self.channel, %error, "LINE did not show the loading animation");
        }
    }

    /// Sends a Telegram alert to the owners' chats, beside the sends; what became of it is
    /// logged when it is back. The sending is noted first: the Bot API has no retry key, so
    /// an alert noted and not logged as sent (the relay stopped between) is not sent again,
    /// only reported.
    pub(super) async fn alert_on_telegram(&mut self, alert: TelegramAlert) -> Result<(), Failure> {
        let cause = alert.cause;
        let failed = |trouble, reason: &str| Returned::Telegram {
            cause,
            outcome: TelegramOutcome::Failed {
                reason: reason.to_owned(),
                trouble,
            },
        };
        if alert.noted {
            let outcome = TelegramOutcome::Unconfirmed;
            return self.settle(Returned::Telegram { cause, outcome }).await;
        }
        let settings = self.bot.telegram().cloned();
        let token = self
            .relay
            .credential(&self.channel, Credential::TelegramToken)
            .await?;
        let (Some(settings), Some(token)) = (settings, token) else {
            let off = failed(
                TelegramTrouble::Off,
                "Telegram alerts are off, or the relay has no bot token",
            );
            return self.settle(off).await;
        };
        if self.now().0 - alert.at.0 > TELEGRAM_WITHIN_MS {
            let late = failed(
                TelegramTrouble::Late,
                "not sent within an hour: the relay was stopped or Telegram was down",
            );
            return self.settle(late).await;
        }
        self.log_one(
            format!("telegram/{}/sending", cause.0),
            Operation::TelegramSending { cause },
        )
        .await?;
        let text = self.bot.telegram_message(&alert, self.channel.as_str());
        let sending = Alerting {
            telegram: self.relay.telegram().clone(),
            token,
            text,
            backoff: self.options.backoff,
            channel: self.channel.clone(),
        };
        self.beside.alerting = Some(Out::start(async move {
            let outcome = sending.to(settings.chats).await;
            Returned::Telegram { cause, outcome }
        }));
        Ok(())
    }

    /// Carries out what is only for LINE's screens, the patient's "Read" and the loading
    /// animation while an operator writes: when the entry is still fresh, best effort, never
    /// retried beyond one call and never logged (a repeat after a restart is harmless).
    pub(super) async fn show(&mut self, entries: &[tsunagi_proto::Entry]) {
        let now = self.now();
        for entry in entries {
            let tsunagi_proto::EntryBody::Op {
                op: tsunagi_proto::LoggedOp::Known(op),
                ..
            } = &entry.body
            else {
                continue;
            };
            let age = now.0 - entry.at.0;
            let shown = match op {
                // LINE marks every message read itself: telling it changes nothing.
                Operation::MarkRead { .. } if self.account.is_some_and(|a| a.marks_read_itself) => {
                    continue;
                }
                Operation::MarkRead { token, .. } if age < MARK_READ_WITHIN_MS => {
                    match self.client().await {
                        Ok(client) => client.mark_as_read(token).await,
                        Err(_) => continue,
                    }
                }
                Operation::Typing {
                    conversation,
                    seconds,
                } if age < TYPING_WITHIN_MS => match self.client().await {
                    Ok(client) => {
                        client
                            .loading_start(&UserId::new(conversation.as_str()), *seconds)
                            .await
                    }
                    Err(_) => continue,
                },
                _ => continue,
            };
            if let Err(error) = shown {
                tracing::debug!(channel = %self.channel, %error, "LINE did not show a read mark or the loading animation");
                self.refused(&error);
            }
        }
    }
}

/// One Telegram alert on its way to the owners' chats.
struct Alerting {
    telegram: Telegram,
    token: String,
    text: String,
    backoff: Duration,
    channel: ChannelId,
}

impl Alerting {
    /// Sends the alert to each chat, waiting as Telegram asks and trying each a few times.
    /// A token Telegram refuses ends it at once.
    async fn to(self, chats: Vec<i64>) -> TelegramOutcome {
        let (mut sent, mut failed, mut trouble) = (0u32, Vec::new(), None);
        for chat in chats {
            let mut tries = 0;
            loop {
                tries += 1;
                match self.telegram.send(&self.token, chat, &self.text).await {
                    Ok(()) => sent += 1,
                    Err(error @ TelegramError::Token(_)) => {
                        let reason = error.to_string();
                        tracing::warn!(channel = %self.channel, %reason, "a Telegram alert was refused");
                        let trouble = error.trouble();
                        return TelegramOutcome::Failed { reason, trouble };
                    }
                    Err(error) if error.is_temporary() && tries < TELEGRAM_TRIES => {
                        let wait = match error {
                            TelegramError::Busy(wait) => wait.min(TELEGRAM_LONGEST_WAIT),
                            _ => self.backoff * 2u32.pow(tries - 1),
                        };
                        tracing::info!(channel = %self.channel, %error, ?wait, "Telegram: trying again");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(error) => {
                        trouble.get_or_insert(error.trouble());
                        failed.push(error.to_string());
                    }
                }
                break;
            }
        }
        match trouble {
            Some(trouble) if sent == 0 => TelegramOutcome::Failed {
                reason: failed.join("; "),
                trouble,
            },
            _ => TelegramOutcome::Sent {
                chats: sent,
                failed,
                trouble,
            },
        }
    }
}
