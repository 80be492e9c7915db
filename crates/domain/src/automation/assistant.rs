//! The AI responder's part of the bot: which questions wait for the model, what it is
//! shown of the chat, and what its answer, or its failure to give one, calls for.

use tsunagi_line::message::{MAX_TEXT_UTF16, Message};
use tsunagi_proto::{AiOutcome, AiSettings, ConversationId, Credential, Entry, Operation, Seq};
use tsunagi_proto::{OpId, UnixMillis};

use super::{Bot, Chat, Decision, log};

/// Texts kept per chat for the model: the most history it may be given, and the question.
const SAID_KEPT: usize = crate::validate::AI_HISTORY_MAX as usize + 1;

/// A text of a chat, as the model is shown it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Said {
    pub seq: Seq,
    /// Written by the patient; else sent to them (by the bot or people).
    pub patient: bool,
    pub text: String,
}

/// A patient's question for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiQuestion {
    pub conversation: ConversationId,
    /// The entry of the question.
    pub question: Seq,
    pub text: String,
    /// The texts before it, oldest first, as many as the settings allow.
    pub history: Vec<Said>,
    /// The patient's language, if known: their LINE app's, else their script's.
    pub language: Option<String>,
}

impl Chat {
    pub(super) fn note_said(&mut self, seq: Seq, patient: bool, text: &str) {
        if self.said.len() == SAID_KEPT {
            self.said.pop_front();
        }
        self.said.push_back(Said {
            seq,
            patient,
            text: text.to_owned(),
        });
    }
}

impl Bot {
    /// Whether the model answers what the keyword rules do not, at `at`.
    pub(super) fn ai_answers(&self, at: UnixMillis) -> bool {
        let Some(ai) = self.ai() else {
            return false;
        };
        if self.is_open(at) {
            ai.when_open
        } else {
            ai.when_closed
        }
    }

    /// The AI responder's settings, when it has them and its key.
    pub fn ai(&self) -> Option<&AiSettings> {
        self.settings
            .ai
            .as_ref()
            .filter(|_| self.credentials.contains(&Credential::AiKey))
    }

    /// The questions waiting for the model, oldest first: one per chat in BOT mode, its
    /// newest.
    pub fn ai_questions(&self) -> Vec<AiQuestion> {
        let history = self
            .settings
            .ai
            .as_ref()
            .map_or(0, |ai| ai.history as usize);
        let mut questions: Vec<AiQuestion> = self
            .chats
            .iter()
            .filter(|(_, chat)| chat.in_bot_mode())
            .filter_map(|(conversation, chat)| {
                let question = chat.question?;
                let asked = chat.said.iter().position(|s| s.seq == question)?;
                let earlier: Vec<Said> = chat.said.iter().take(asked).cloned().collect();
                let skip = earlier.len().saturating_sub(history);
                Some(AiQuestion {
                    conversation: conversation.clone(),
                    question,
                    text: chat.said[asked].text.clone(),
                    history: earlier.into_iter().skip(skip).collect(),
                    language: self.language(conversation).map(str::to_owned),
                })
            })
            .collect();
        questions.sort_by_key(|q| q.question);
        questions
    }

    /// The model answered `question` with `text`: the answer goes to the patient, as the
    /// bot's, by reply while its token lasts.
    pub fn ai_answered(&self, question: &AiQuestion, model: &str, text: &str) -> Vec<Decision> {
        if !self.with_bot(question) {
            return vec![taken_meanwhile(question, model)];
        }
        let answer = format!("{}/answer", ai_cause(question));
        // The answer first: the desks mark its message as the model's when the decision
        // follows.
        vec![
            log(
                &answer,
                self.send(
                    &question.conversation,
                    vec![Message::text(clip_utf16(text.trim(), MAX_TEXT_UTF16))],
                ),
            ),
            ai_outcome(
                question,
                model,
                AiOutcome::Answered {
                    send: OpId::derived(&answer),
                },
            ),
        ]
    }

    /// The model could not help with `question` (`reason` says why, for people): the chat
    /// goes to people now, with the queue message, or at opening, with the away reply.
    pub fn ai_handed_over(
        &self,
        question: &AiQuestion,
        model: &str,
        reason: &str,
        now: UnixMillis,
    ) -> Vec<Decision> {
        if !self.with_bot(question) {
            return vec![taken_meanwhile(question, model)];
        }
        let reason = reason.to_owned();
        let mut decisions = vec![ai_outcome(
            question,
            model,
            AiOutcome::HandedOver { reason },
        )];
        if self.is_open(now) {
            self.hand_off(
                &question.conversation,
                question.question,
                now,
                &mut decisions,
            );
        } else if let Some(away) = self.away_reply(&question.conversation, question.question, now) {
            decisions.push(away.0);
        }
        decisions
    }

    /// Whether the bot still answers the chat `question` was asked in. The model is asked
    /// beside the channel's other work, so people may take the chat while it thinks.
    fn with_bot(&self, question: &AiQuestion) -> bool {
        self.chats
            .get(&question.conversation)
            .is_some_and(Chat::in_bot_mode)
    }

    /// Folds the model's answer to `question`: asked no more, and a handoff while closed
    /// waits for opening, with the away reply sent for the day.
    pub(super) fn fold_ai_answer(
        &mut self,
        entry: &Entry,
        conversation: &ConversationId,
        question: Seq,
        outcome: &AiOutcome,
    ) {
        let open = self.is_open(entry.at);
        let today = self.settings.hours.as_ref().map(|h| h.day(entry.at));
        let Some(chat) = self.chats.get_mut(conversation) else {
            return;
        };
        if chat.question == Some(question) {
            chat.question = None;
        }
        if matches!(outcome, AiOutcome::HandedOver { .. }) && !open {
            chat.deferred.get_or_insert(question);
            if today.is_some() {
                chat.away_sent = today;
            }
        }
    }
}

/// What a decision on `question` is logged under: it is decided once.
fn ai_cause(question: &AiQuestion) -> String {
    format!("ai/{}", question.question.0)
}

fn ai_outcome(question: &AiQuestion, model: &str, outcome: AiOutcome) -> Decision {
    log(
        &ai_cause(question),
        Operation::AiAnswered {
            conversation: question.conversation.clone(),
            question: question.question,
            model: model.to_owned(),
            outcome,
        },
    )
}

/// The model's word came after the chat left the bot (people took it, or the patient asked
/// for them): only noted, so that nothing reaches the patient behind the people now
/// answering, and the chat is not handed over twice.
fn taken_meanwhile(question: &AiQuestion, model: &str) -> Decision {
    let reason = "people took the chat while the model was thinking".to_owned();
    ai_outcome(question, model, AiOutcome::HandedOver { reason })
}

/// At most `max` UTF-16 units of `text` (LINE's measure), cut at a character.
fn clip_utf16(text: &str, max: usize) -> String {
    let mut units = 0;
    text.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= max
        })
        .collect()
}
