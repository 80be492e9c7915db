//! An erased patient, forgotten: the bot keeps nothing of them, sends them nothing that
//! was waiting, and fetches none of their media. Should they write again, they start
//! afresh.

use tsunagi_line::UserId;
use tsunagi_proto::{Audience, ConversationId};

use super::Bot;
use super::telegram::About;

impl Bot {
    pub(super) fn forget(&mut self, contact: &UserId) {
        let chat = ConversationId::from(contact.as_str());
        self.chats.remove(&chat);
        self.contacts.remove(contact);
        self.reminded.remove(contact);
        let sends: Vec<_> = self
            .pending
            .values()
            .filter(|pending| pending.send.conversation == chat)
            .map(|pending| pending.op_id)
            .collect();
        for send in sends {
            self.pending.remove(&send);
        }
        let theirs: Vec<_> = self
            .media
            .values()
            .filter(|media| media.chat.as_ref() == Some(&chat))
            .map(|media| media.message.clone())
            .collect();
        for message in theirs {
            self.media.remove(&message);
        }
        let only_theirs: Vec<_> = self
            .reminders
            .values()
            .filter(|r| matches!(&r.reminder.to, Audience::Contact { user } if user == contact))
            .map(|r| r.op_id)
            .collect();
        for reminder in only_theirs {
            self.reminders.remove(&reminder);
        }
        for reminder in self.reminders.values_mut() {
            if let Some(recipients) = &mut reminder.recipients {
                recipients.retain(|user| user != contact);
            }
        }
        for sync in self.syncs.values_mut() {
            sync.ids.retain(|user| user != contact);
            sync.listed.remove(contact);
            sync.profiled.remove(contact);
        }
        self.telegram.retain(|_, alert| match &alert.about {
            About::Handoff { conversation, .. }
            | About::Escalated { conversation, .. }
            | About::RedFlag { conversation } => *conversation != chat,
            About::ReminderFailed { .. } => true,
        });
    }
}
