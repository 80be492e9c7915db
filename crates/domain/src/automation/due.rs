//! What the passing of time calls for: reminders come due, idle sessions close, handoffs
//! asked for while closed happen at opening, long waits are escalated, and greetings that
//! waited for a name go without it.

use tsunagi_proto::{AlertReason, ConversationMode, Operation, UnixMillis};

use super::chat::NAME_WAIT_MS;
use super::{Bot, Decision, log};

impl Bot {
    /// What time calls for at `now`: sessions idle past the auto-close time are closed, and
    /// handoffs asked for while closed happen once the clinic opens.
    pub fn due(&self, now: UnixMillis) -> Vec<Decision> {
        let mut decisions = Vec::new();
        self.due_reminders(now, &mut decisions);
        self.due_expiry(now, &mut decisions);
        let mut chats: Vec<_> = self.chats.iter().collect();
        chats.sort_by_key(|(id, _)| id.as_str());
        for (id, chat) in chats {
            if let (Some(minutes), Some((session, _))) =
                (self.settings.handoff.auto_close_minutes, chat.session)
                && now.0 - chat.active_at.0 >= i64::from(minutes) * 60_000
            {
                decisions.push(log(
                    &format!("auto-close/{}/{}", session.0, chat.active_seq.0),
                    Operation::Close {
                        conversation: id.clone(),
                    },
                ));
            }
            if let Some(asked) = chat.deferred
                && self.is_open(now)
                && chat.state.mode == ConversationMode::Bot
            {
                self.hand_off(id, asked, now, &mut decisions);
            }
            if let Some(waiting) = &chat.waiting
                && let Some(after) = self.escalate_after()
                && !waiting.escalated
                && now.0 - waiting.at.0 >= after
            {
                decisions.push(log(
                    &format!("escalate/{}", waiting.seq.0),
                    Operation::Alert {
                        conversation: id.clone(),
                        reason: AlertReason::Escalated,
                    },
                ));
            }
            // No profile came (LINE did not give it): greeted without the name.
            if let Some(owed) = &chat.owed_greeting
                && now.0 - owed.at.0 >= NAME_WAIT_MS
            {
                decisions.push(self.greet(id, &owed.cause, &owed.text, owed.at));
            }
        }
        decisions
    }

    /// When [`Bot::due`] may next have something to do, if ever.
    pub fn next_due(&self, now: UnixMillis) -> Option<UnixMillis> {
        let close = self
            .settings
            .handoff
            .auto_close_minutes
            .and_then(|minutes| {
                self.chats
                    .values()
                    .filter(|c| c.session.is_some())
                    .map(|c| UnixMillis(c.active_at.0 + i64::from(minutes) * 60_000))
                    .min()
            });
        let opening = self
            .chats
            .values()
            .any(|c| c.deferred.is_some())
            .then(|| self.settings.hours.as_ref()?.next_opening(now))
            .flatten();
        let reminder = self.next_reminder();
        let greeting = self
            .chats
            .values()
            .filter_map(|c| c.owed_greeting.as_ref())
            .map(|owed| UnixMillis(owed.at.0 + NAME_WAIT_MS))
            .min();
        let escalation = self.escalate_after().and_then(|after| {
            self.chats
                .values()
                .filter_map(|c| c.waiting.as_ref())
                .filter(|w| !w.escalated)
                .map(|w| UnixMillis(w.at.0 + after))
                .min()
        });
        let expiry = self.next_expiry(now);
        [close, opening, reminder, greeting, escalation, expiry]
            .into_iter()
            .flatten()
            .min()
    }
}
