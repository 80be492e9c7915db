//! What an event from LINE does: who it is from, what it carries, the chat's reply token,
//! its session, and what the bot answers, if anything.

use tsunagi_line::webhook::{Event, EventKind, IncomingMessage, MessageContent, Mode};
use tsunagi_proto::Entry;

use super::chat::{OwedGreeting, language_of};
use super::{Bot, Decision, log};
use crate::session::{self, Change};
use crate::{conversation, template};

/// The postback data with which a rich menu or button asks for a person.
pub const HANDOFF_POSTBACK: &str = "tsunagi:handoff";

impl Bot {
    pub(super) fn line_event(
        &mut self,
        entry: &Entry,
        event: &Event,
        decisions: &mut Vec<Decision>,
    ) {
        let Some(conversation) = conversation::of_event(event) else {
            return;
        };
        let user = event.source.as_ref().and_then(|s| s.user_id()).cloned();
        self.note_contact(entry, event, user.as_ref(), decisions);
        if let Some(user) = &user
            && conversation.is_one_to_one()
        {
            self.note_opt_out(user, event);
        }
        let is_message = matches!(event.kind, EventKind::Message(_));
        if let EventKind::Message(message) = &event.kind {
            self.note_media(entry, &conversation, message);
        }
        // The chat's texts are kept for the AI responder only, while it is set up.
        let keeps_texts = self.settings.ai.is_some();
        let chat = self.chat(&conversation, entry);
        if let Some(token) = event.reply_token.as_ref().filter(|_| event.is_replyable()) {
            chat.note_token(token, entry);
        }
        if let EventKind::Message(message) = &event.kind
            && let Some(text) = message.content.words()
        {
            if let Some(language) = language_of(text) {
                chat.wrote_in = Some(language.to_owned());
            }
            if keeps_texts {
                chat.note_said(entry.seq, true, text);
            }
        }
        if crate::conversation::patient_acts(event) {
            chat.active_at = entry.at;
            chat.active_seq = entry.seq;
            if let Some(Change::Open { status, operator }) =
                session::on_patient_message(chat.state.mode, chat.state.open.is_some())
            {
                chat.state.open = Some(session::Open { status, operator });
                chat.session = Some((entry.seq, entry.at));
                chat.note_waiting(entry);
            }
        }
        // (A channel in standby belongs to a partner's module: it sends nothing.)
        if let EventKind::Message(message) = &event.kind
            && let Some(text) = message.content.words()
            && event.mode == Mode::Active
            && user.is_some()
            && conversation.is_one_to_one()
            && self.settings.red_flags.words.matches(text)
        {
            self.red_flag(&conversation, entry, decisions);
            return;
        }
        let Some(chat) = self.chats.get(&conversation) else {
            return;
        };
        if !chat.in_bot_mode() {
            return;
        }
        if is_message && let Some(user) = &user {
            self.route_reply_to_reminder(&conversation, user, entry, decisions);
            if self
                .chats
                .get(&conversation)
                .is_none_or(|c| !c.in_bot_mode())
            {
                return;
            }
        }
        if !event.is_replyable() {
            return;
        }
        match &event.kind {
            EventKind::Follow { is_unblocked } => {
                let greeting = if *is_unblocked {
                    &self.settings.greetings.refollow
                } else {
                    &self.settings.greetings.follow
                };
                if let Some(text) = greeting.clone() {
                    let cause = format!("greeting/{}", entry.seq.0);
                    let says_name = template::pieces(&text)
                        .is_ok_and(|p| p.contains(&template::Piece::Variable("name")));
                    let name_known = user
                        .as_ref()
                        .and_then(|u| self.contacts.get(u))
                        .is_some_and(|c| c.name.is_some());
                    if says_name && !name_known {
                        // Its profile is fetched now: the greeting waits for the name.
                        if let Some(chat) = self.chats.get_mut(&conversation) {
                            chat.owed_greeting = Some(OwedGreeting {
                                cause,
                                text,
                                at: entry.at,
                            });
                        }
                    } else {
                        decisions.push(self.greet(&conversation, &cause, &text, entry.at));
                    }
                }
            }
            EventKind::Postback(postback)
                if postback.data == HANDOFF_POSTBACK
                    || self.settings.handoff.postbacks.contains(&postback.data) =>
            {
                self.ask_for_people(&conversation, entry, decisions);
            }
            // The bot cannot read it, so people must.
            EventKind::Message(IncomingMessage {
                content: MessageContent::Unreadable { .. },
                ..
            }) => self.ask_for_people(&conversation, entry, decisions),
            EventKind::Message(message) => {
                let Some(text) = message.content.words() else {
                    return;
                };
                if self.settings.handoff_words.matches(text) {
                    self.ask_for_people(&conversation, entry, decisions);
                } else if let Some(reply) = self.keyword_reply(&conversation, text) {
                    decisions.push(log(
                        &format!("keyword/{}", entry.seq.0),
                        self.send(&conversation, reply),
                    ));
                } else if self.ai_answers(entry.at) {
                    // The executor asks the model; its answer, or the handoff, is logged.
                    if let Some(chat) = self.chats.get_mut(&conversation) {
                        chat.question = Some(entry.seq);
                    }
                } else if !self.is_open(entry.at) {
                    self.away(&conversation, entry, decisions);
                }
            }
            _ => {}
        }
    }
}
