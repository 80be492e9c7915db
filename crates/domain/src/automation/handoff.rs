//! Handing chats to people: a patient asking for a person, words of an emergency, the
//! queue they wait in and how long, escalation of long waits, and what a claim, release,
//! transfer, close or mode change does to a chat's session.

use tsunagi_line::message::Message;
use tsunagi_proto::UnixMillis;
use tsunagi_proto::{AlertReason, ConversationId, ConversationMode, Entry, Operation, Seq};

use super::{Bot, Decision, log, to_people};
use crate::csat;
use crate::red_flag;
use crate::session::{self, Action, Change, Status};

/// How many recent claims the queue's wait estimate averages.
const WAITS_REMEMBERED: usize = 20;
/// The estimated wait per place in the queue before anyone was ever claimed.
const DEFAULT_WAIT_MS: i64 = 5 * 60 * 1000;
/// A patient who writes words of an emergency again this soon after the urgent-care
/// message is not sent it again (the desks are alerted each time).
pub const URGENT_AGAIN_MS: i64 = 30 * 60 * 1000;

impl Bot {
    /// A patient wrote words of an emergency: whatever the hour and whoever holds the
    /// chat, it goes to people (the desks put it first in the queue), every desk and the
    /// owners' Telegram are alerted, and the patient is told to call the emergency number.
    /// The bot, its queue line and the AI responder say nothing.
    pub(super) fn red_flag(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        let cause = format!("red-flag/{}", entry.seq.0);
        let Some(chat) = self.chats.get_mut(conversation) else {
            return;
        };
        if chat.in_bot_mode() {
            decisions.push(to_people(&cause, conversation));
            chat.handing_off = true;
        }
        // An earlier question the model is still thinking about: its answer is only noted.
        chat.question = None;
        let told_lately = chat
            .urgent_at
            .is_some_and(|at| entry.at.0 - at.0 < URGENT_AGAIN_MS);
        if !told_lately {
            chat.urgent_at = Some(entry.at);
        }
        decisions.push(log(
            &format!("{cause}/alert"),
            Operation::Alert {
                conversation: conversation.clone(),
                reason: AlertReason::RedFlag,
            },
        ));
        if told_lately {
            return;
        }
        let language = self.language(conversation);
        if let Some(text) = red_flag::message(&self.settings.red_flags.settings, language) {
            let text = self.fill(&text, conversation, entry.at, &[]);
            decisions.push(log(
                &format!("{cause}/message"),
                self.send(conversation, vec![Message::text(text)]),
            ));
        }
    }

    /// A patient asks for a person: the chat goes to the queue now, or at opening.
    pub(super) fn ask_for_people(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        if self.is_open(entry.at) {
            self.hand_off(conversation, entry.seq, entry.at, decisions);
            if let Some(chat) = self.chats.get_mut(conversation) {
                chat.handing_off = true;
            }
        } else {
            self.away(conversation, entry, decisions);
            if let Some(chat) = self.chats.get_mut(conversation)
                && chat.deferred.is_none()
            {
                chat.deferred = Some(entry.seq);
            }
        }
    }

    /// Hands a chat to people: HUMAN mode (a waiting session), an alert for the desks, and
    /// the queue message telling the patient their place and the expected wait.
    pub(super) fn hand_off(
        &self,
        conversation: &ConversationId,
        asked: Seq,
        at: UnixMillis,
        decisions: &mut Vec<Decision>,
    ) {
        let cause = format!("handoff/{}", asked.0);
        decisions.push(to_people(&cause, conversation));
        decisions.push(log(
            &format!("{cause}/alert"),
            Operation::Alert {
                conversation: conversation.clone(),
                reason: AlertReason::Handoff,
            },
        ));
        let position = self.waiting() + 1;
        let wait_minutes = (self.wait_per_place() * position as i64 + 59_999) / 60_000;
        let text = self
            .settings
            .greetings
            .handoff
            .clone()
            .unwrap_or_else(|| default_queue_message(self.language(conversation)).to_owned());
        let (position, wait_minutes) = (position.to_string(), wait_minutes.to_string());
        let text = self.fill(
            &text,
            conversation,
            at,
            &[("position", &position), ("wait", &wait_minutes)],
        );
        decisions.push(log(
            &format!("{cause}/greeting"),
            self.send(conversation, vec![Message::text(text)]),
        ));
    }

    /// Sessions waiting in the queue.
    pub(super) fn waiting(&self) -> usize {
        self.chats
            .values()
            .filter(|c| {
                c.state
                    .open
                    .as_ref()
                    .is_some_and(|o| o.status == Status::Waiting)
                    || c.handing_off
            })
            .count()
    }

    /// The average wait of recent claims, per place in the queue.
    pub(super) fn wait_per_place(&self) -> i64 {
        if self.waits.is_empty() {
            return DEFAULT_WAIT_MS;
        }
        self.waits.iter().sum::<i64>() / self.waits.len() as i64
    }

    /// How long a chat may wait before the owners are alerted (ms), unless never.
    pub(super) fn escalate_after(&self) -> Option<i64> {
        let seconds = self.settings.handoff.escalate_seconds;
        (seconds > 0).then(|| i64::from(seconds) * 1000)
    }

    /// What a claim, release, transfer, close or mode change does to the chat; a close
    /// may ask the patient how it went.
    pub(super) fn session_action(
        &mut self,
        entry: &Entry,
        conversation: &ConversationId,
        action: &Action,
        actor: &session::Actor,
        decisions: &mut Vec<Decision>,
    ) {
        let Some(chat) = self.chats.get_mut(conversation) else {
            return;
        };
        let Ok(changes) = session::decide(Some(&chat.state), action, actor) else {
            return;
        };
        let mut closed = false;
        for change in changes {
            match change {
                Change::Mode(mode) => {
                    chat.state.mode = mode;
                    chat.handing_off = false;
                    chat.question = None;
                    if mode == ConversationMode::Human {
                        chat.deferred = None;
                    }
                }
                Change::Open { status, operator } => {
                    chat.state.open = Some(session::Open { status, operator });
                    chat.session = Some((entry.seq, entry.at));
                    chat.active_at = entry.at;
                    chat.active_seq = entry.seq;
                }
                Change::Assign { operator, .. } => {
                    if let Some(open) = &mut chat.state.open {
                        if open.status == Status::Waiting
                            && let Some((_, started)) = chat.session
                        {
                            self.waits.push_back(entry.at.0 - started.0);
                            if self.waits.len() > WAITS_REMEMBERED {
                                self.waits.pop_front();
                            }
                        }
                        open.status = Status::Active;
                        open.operator = Some(operator);
                    }
                }
                Change::Unassign => {
                    if let Some(open) = &mut chat.state.open {
                        open.status = Status::Waiting;
                        open.operator = None;
                    }
                }
                Change::Close => {
                    chat.state.open = None;
                    chat.session = None;
                    closed = true;
                }
            }
        }
        chat.note_waiting(entry);
        if closed && self.settings.handoff.csat && conversation.is_one_to_one() {
            let question = csat::question(self.language(conversation));
            decisions.push(log(
                &format!("csat/{}", entry.seq.0),
                self.send(conversation, vec![question]),
            ));
        }
    }
}

/// The queue message when the team wrote none, in the patient's language.
fn default_queue_message(language: Option<&str>) -> &'static str {
    match language.map(|l| l.split('-').next().unwrap_or(l)) {
        Some("th") => "เจ้าหน้าที่จะตอบกลับโดยเร็วค่ะ คุณอยู่คิวที่ {{position}} รอประมาณ {{wait}} นาที",
        Some("ja") => "担当者におつなぎします。{{position}}番目にお待ちです(約{{wait}}分)。",
        Some("zh") => "已為您轉接專人服務,您目前排在第 {{position}} 位,預計等候約 {{wait}} 分鐘。",
        _ => {
            "A member of our team will be with you shortly. You are number {{position}} in the queue (about {{wait}} min)."
        }
    }
}
