//! What the bot knows of the LINE users it meets: their language, name, following, and
//! tags, as their profiles and the desks say.

use std::collections::{BTreeMap, BTreeSet};

use tsunagi_line::UserId;
use tsunagi_line::webhook::{Event, EventKind};
use tsunagi_proto::{ConsentKind, ContactProfile, ConversationId, Entry, OpId, OptOut};

use crate::consent;

use super::{Bot, Decision};

/// What the bot knows of a LINE user.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct Contact {
    /// Their LINE app's language and their name, once their profile is known.
    pub(super) language: Option<String>,
    pub(super) name: Option<String>,
    pub(super) following: bool,
    pub(super) blocked: bool,
    pub(super) tags: BTreeSet<String>,
    /// The stop word they wrote: no reminder goes to them until they agree again.
    #[serde(default)]
    pub(super) stopped: Option<String>,
    /// Their newest answer to each consent.
    #[serde(default)]
    pub(super) consents: BTreeMap<ConsentKind, bool>,
    /// An owner keeps their data whatever the retention.
    #[serde(default)]
    pub(super) held: bool,
}

impl Contact {
    /// A consent given or withdrawn; agreeing to reminders again undoes a stop word.
    fn consent(&mut self, kind: ConsentKind, given: bool) {
        self.consents.insert(kind, given);
        if kind == ConsentKind::Reminders && given {
            self.stopped = None;
        }
    }
}

impl Bot {
    /// A user seen for the first time gets a contact, and their profile is fetched; a
    /// follow or unfollow says whether they follow.
    pub(super) fn note_contact(
        &mut self,
        entry: &Entry,
        event: &Event,
        user: Option<&UserId>,
        decisions: &mut Vec<Decision>,
    ) {
        if let Some(user) = user
            && !self.contacts.contains_key(user)
        {
            self.contacts.insert(user.clone(), Contact::default());
            decisions.push(Decision::FetchProfile {
                user: user.clone(),
                chat: (event.source.as_ref().and_then(|s| s.chat()))
                    .unwrap_or_else(|| tsunagi_line::webhook::Chat::User(user.clone())),
                op_id: OpId::derived(&format!("profile/{}", entry.seq.0)),
            });
        }
        if let Some(contact) = user.and_then(|u| self.contacts.get_mut(u)) {
            match event.kind {
                EventKind::Follow { .. } => {
                    contact.following = true;
                    contact.blocked = false;
                }
                EventKind::Unfollow => {
                    contact.following = false;
                    contact.blocked = true;
                }
                _ => {}
            }
        }
    }

    /// Profiles logged: the contacts' languages and names, and the greetings that waited
    /// for a name.
    pub(super) fn fold_profiles(
        &mut self,
        profiles: &[ContactProfile],
        decisions: &mut Vec<Decision>,
    ) {
        self.note_profiled(profiles);
        for profile in profiles {
            let contact = self.contacts.entry(profile.user_id.clone()).or_default();
            contact.language.clone_from(&profile.language);
            contact.name = Some(profile.display_name.clone());
            if profile.follower {
                contact.following = true;
                contact.blocked = false;
            }
            // The name a greeting waited for.
            let conversation = ConversationId::from(profile.user_id.as_str());
            let owed = self
                .chats
                .get_mut(&conversation)
                .and_then(|c| c.owed_greeting.take());
            if let Some(owed) = owed {
                decisions.push(self.greet(&conversation, &owed.cause, &owed.text, owed.at));
            }
        }
    }

    /// A patient in a 1:1 chat wrote a stop word, or tapped a consent button.
    pub(super) fn note_opt_out(&mut self, user: &UserId, event: &Event) {
        let contact = self.contacts.entry(user.clone()).or_default();
        match &event.kind {
            EventKind::Message(message) => {
                if let Some(word) = (message.content.words())
                    .and_then(|text| self.settings.patient_data.stop_word(text))
                {
                    contact.stopped = Some(word.to_owned());
                }
            }
            EventKind::Postback(postback) => {
                if let Some(answer) = consent::answer(&postback.data) {
                    contact.consent(answer.kind, answer.given);
                }
            }
            _ => {}
        }
    }

    /// An operator recorded a patient's consent, given or withdrawn.
    pub(super) fn fold_consent(&mut self, user: &UserId, kind: ConsentKind, given: bool) {
        self.contacts
            .entry(user.clone())
            .or_default()
            .consent(kind, given);
    }

    /// Why `user` may not be sent a reminder, if they may not.
    pub(super) fn reminder_opt_out(&self, user: &UserId) -> Option<OptOut> {
        let contact = self.contacts.get(user);
        consent::reminder_opt_out(
            contact.and_then(|c| c.stopped.as_deref()),
            contact.and_then(|c| c.consents.get(&ConsentKind::Reminders).copied()),
            self.settings.patient_data.reminders_need_consent,
        )
    }

    /// A desk tagged a contact, or took a tag away.
    pub(super) fn fold_tag(&mut self, contact: &UserId, tag: &str, added: bool) {
        let tags = &mut self.contacts.entry(contact.clone()).or_default().tags;
        if added {
            tags.insert(tag.trim().to_owned());
        } else {
            tags.remove(tag.trim());
        }
    }
}
