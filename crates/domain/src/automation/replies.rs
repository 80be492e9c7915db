//! What the bot says on its own: keyword replies, the away reply, greetings, and the
//! variables they fill.

use tsunagi_line::UserId;
use tsunagi_line::message::Message;
use tsunagi_proto::{ConversationId, Entry, Seq, UnixMillis};

use super::{Bot, Decision, log};
use crate::template;

impl Bot {
    /// The reply of the first keyword rule `text` matches, in the patient's language.
    pub(super) fn keyword_reply(
        &self,
        conversation: &ConversationId,
        text: &str,
    ) -> Option<Vec<Message>> {
        let rule = (self.settings.keywords).first_match(text, self.language(conversation))?;
        Some(self.settings.rules[rule].reply.clone())
    }

    /// The away reply, once a day per conversation, if there is one.
    pub(super) fn away(
        &mut self,
        conversation: &ConversationId,
        entry: &Entry,
        decisions: &mut Vec<Decision>,
    ) {
        let Some((send, today)) = self.away_reply(conversation, entry.seq, entry.at) else {
            return;
        };
        if let Some(chat) = self.chats.get_mut(conversation) {
            chat.away_sent = Some(today);
        }
        decisions.push(send);
    }

    /// The away reply to the entry `seq` at `at`, unless it went out that day already,
    /// and the clinic's day.
    pub(super) fn away_reply(
        &self,
        conversation: &ConversationId,
        seq: Seq,
        at: UnixMillis,
    ) -> Option<(Decision, jiff::civil::Date)> {
        let (Some(hours), Some(text)) = (&self.settings.hours, self.settings.away.as_ref()) else {
            return None;
        };
        let today = hours.day(at);
        if self.chats.get(conversation)?.away_sent == Some(today) {
            return None;
        }
        let text = self.fill(text, conversation, at, &[]);
        let send = log(
            &format!("away/{}", seq.0),
            self.send(conversation, vec![Message::text(text)]),
        );
        Some((send, today))
    }

    /// A greeting's send, its variables filled.
    pub(super) fn greet(
        &self,
        conversation: &ConversationId,
        cause: &str,
        text: &str,
        at: UnixMillis,
    ) -> Decision {
        let text = self.fill(text, conversation, at, &[]);
        log(cause, self.send(conversation, vec![Message::text(text)]))
    }

    /// `text` with the variables the validator lets greetings and the away reply use: the
    /// patient's `{{name}}` (empty while unknown), the clinic's `{{date}}` and `{{time}}`
    /// at `at` in its time zone, `{{clinic}}`, and `extra`. None is ever left as written.
    pub(super) fn fill(
        &self,
        text: &str,
        conversation: &ConversationId,
        at: UnixMillis,
        extra: &[(&str, &str)],
    ) -> String {
        let name = self
            .contacts
            .get(&UserId::new(conversation.as_str()))
            .and_then(|c| c.name.clone())
            .unwrap_or_default();
        let local = match &self.settings.hours {
            Some(hours) => hours.local(at),
            None => jiff::Timestamp::from_millisecond(at.0)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_zoned(jiff::tz::TimeZone::UTC),
        };
        let date = local.strftime("%Y-%m-%d").to_string();
        let time = local.strftime("%H:%M").to_string();
        let clinic = self.settings.greetings.clinic.clone().unwrap_or_default();
        let mut values = vec![
            ("name", name.as_str()),
            ("date", date.as_str()),
            ("time", time.as_str()),
            ("clinic", clinic.as_str()),
        ];
        values.extend_from_slice(extra);
        let filled = template::fill(text, &values);
        // A variable left empty leaves no doubled or dangling space behind.
        filled
            .split(' ')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}
