//! The clinic's retention: every night, once it is past 3:00 at the clinic, the bot logs
//! what the retention keeps no longer ([`Operation::Expire`]), naming the contacts on hold;
//! folded, it forgets the texts it keeps for the AI of chats idle since before their time.

use jiff::civil::{Date, Time};
use tsunagi_line::UserId;
use tsunagi_proto::{Cutoffs, Entry, Operation, UnixMillis};

use super::{Bot, Decision, log};

/// The clinic's hour at which the night's purge runs.
const PURGE_AT: Time = Time::constant(3, 0, 0, 0);

impl Bot {
    pub(super) fn fold_hold(&mut self, contact: &UserId, held: bool) {
        self.contacts.entry(contact.clone()).or_default().held = held;
    }

    pub(super) fn fold_expire(&mut self, entry: &Entry, before: &Cutoffs, held: &[UserId]) {
        self.expired_on = Some(self.clinic_day(entry.at));
        // The texts kept for the model go with the messages and the AI's records: a chat
        // idle since before the later of their times keeps none.
        let Some(ai) = [before.ai, before.messages].into_iter().flatten().max() else {
            return;
        };
        for (id, chat) in &mut self.chats {
            let kept = held.iter().any(|user| user.as_str() == id.as_str());
            if !kept && chat.active_at < ai {
                chat.said.clear();
            }
        }
    }

    /// The night's purge, if it is due at `now` and not done today.
    pub(super) fn due_expiry(&self, now: UnixMillis, decisions: &mut Vec<Decision>) {
        let retention = &self.settings.patient_data.retention;
        if !retention.purges() {
            return;
        }
        let local = self.clinic_time(now);
        let today = local.date();
        if local.time() < PURGE_AT || self.expired_on == Some(today) {
            return;
        }
        let mut held: Vec<UserId> = (self.contacts.iter())
            .filter(|(_, contact)| contact.held)
            .map(|(user, _)| user.clone())
            .collect();
        held.sort();
        decisions.push(log(
            &format!("expire/{today}"),
            Operation::Expire {
                before: retention.cutoffs(now),
                held,
            },
        ));
    }

    /// When the next night's purge is due, if the retention purges anything.
    pub(super) fn next_expiry(&self, now: UnixMillis) -> Option<UnixMillis> {
        if !self.settings.patient_data.retention.purges() {
            return None;
        }
        let local = self.clinic_time(now);
        let day = if self.expired_on == Some(local.date()) || local.time() >= PURGE_AT {
            local.date().tomorrow().ok()?
        } else {
            local.date()
        };
        let at = day
            .to_datetime(PURGE_AT)
            .to_zoned(local.time_zone().clone())
            .ok()?;
        Some(UnixMillis(at.timestamp().as_millisecond()).max(now))
    }

    fn clinic_time(&self, at: UnixMillis) -> jiff::Zoned {
        match &self.settings.hours {
            Some(hours) => hours.local(at),
            None => jiff::Timestamp::from_millisecond(at.0)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
                .to_zoned(jiff::tz::TimeZone::UTC),
        }
    }

    fn clinic_day(&self, at: UnixMillis) -> Date {
        self.clinic_time(at).date()
    }
}
