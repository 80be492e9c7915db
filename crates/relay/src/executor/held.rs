//! What the executor sets aside for a while: media LINE is still preparing, and anything it
//! acted on that did not end, because its outcome could not be logged or, logged, did not
//! end it (the log holds something else under the outcome's id). Set aside, an item waits
//! longer each time, and the items behind it go on meanwhile.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use tokio::time::Instant;
use tsunagi_domain::automation::AiQuestion;
use tsunagi_domain::automation::{Pending, PendingMedia, ReminderPart, SyncStep, TelegramAlert};
use tsunagi_line::MessageId;
use tsunagi_proto::{OpId, Seq};

/// Something the executor acts on, known again after its outcome is folded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Item {
    Send(OpId),
    Question(Seq),
    Alert(Seq),
    Reminder(OpId, u32),
    Media(MessageId),
    SyncPage(OpId, u32),
    SyncProfiles(OpId, u64),
    SyncFinish(OpId),
}

impl Item {
    pub(super) fn send(pending: &Pending) -> Self {
        Item::Send(pending.op_id)
    }

    pub(super) fn question(question: &AiQuestion) -> Self {
        Item::Question(question.question)
    }

    pub(super) fn alert(alert: &TelegramAlert) -> Self {
        Item::Alert(alert.cause)
    }

    pub(super) fn reminder(part: &ReminderPart) -> Self {
        Item::Reminder(part.reminder, part.part)
    }

    pub(super) fn media(media: &PendingMedia) -> Self {
        Item::Media(media.message.clone())
    }

    pub(super) fn sync(step: &SyncStep) -> Self {
        match step {
            SyncStep::Page { sync, page, .. } => Item::SyncPage(*sync, *page),
            SyncStep::Profiles { sync, done, .. } => Item::SyncProfiles(*sync, *done),
            SyncStep::Finish { sync, .. } => Item::SyncFinish(*sync),
        }
    }
}

/// Items whose outcome was logged (to know one that comes back), and items set aside.
#[derive(Debug, Default)]
pub(super) struct Held {
    /// Until when each waits, and how often it was set aside.
    until: HashMap<Item, (Instant, u32)>,
    /// The newest items whose outcome was logged, which no fold should offer again.
    ended: VecDeque<Item>,
}

/// How many ended items are remembered: more than can be acted on between an outcome and
/// its fold.
const ENDED_KEPT: usize = 64;
/// How many items set aside are remembered before those whose wait is over are forgotten.
const SET_ASIDE_KEPT: usize = 1_024;

impl Held {
    /// Whether `item` may be acted on now.
    pub(super) fn ready(&self, item: &Item) -> bool {
        self.until
            .get(item)
            .is_none_or(|(at, _)| *at <= Instant::now())
    }

    /// When the first item set aside may be acted on again.
    pub(super) fn next(&self) -> Option<Instant> {
        self.until.values().map(|(at, _)| *at).min()
    }

    /// How often `item` was set aside.
    pub(super) fn times(&self, item: &Item) -> u32 {
        self.until.get(item).map_or(0, |(_, n)| *n)
    }

    /// Sets `item` aside, `first` the first time and twice as long each time after, at
    /// most `most`. Returns how long, and how often it was set aside so far.
    pub(super) fn set_aside(
        &mut self,
        item: Item,
        first: Duration,
        most: Duration,
    ) -> (Duration, u32) {
        let times = self.times(&item) + 1;
        let wait = first
            .saturating_mul(2u32.saturating_pow(times - 1))
            .min(most);
        self.ended.retain(|ended| *ended != item);
        self.until.insert(item, (Instant::now() + wait, times));
        (wait, times)
    }

    /// `item`'s outcome is logged: it is done with, and must not be offered again. (How
    /// often it was set aside is kept: should it come back, it waits longer still.)
    pub(super) fn ended(&mut self, item: Item) {
        if self.until.len() > SET_ASIDE_KEPT {
            let now = Instant::now();
            self.until.retain(|_, (at, _)| *at > now);
        }
        if self.ended.len() == ENDED_KEPT {
            self.ended.pop_front();
        }
        self.ended.push_back(item);
    }

    /// Whether `item`, offered now, had its outcome logged: then that outcome did not end it.
    pub(super) fn came_back(&self, item: &Item) -> bool {
        self.ended.contains(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_set_aside_waits_twice_as_long_each_time_up_to_the_most() {
        let mut held = Held::default();
        let item = Item::Send(OpId::derived("a send"));
        let (first, most) = (Duration::from_secs(1), Duration::from_secs(5));
        let waits: Vec<_> = (0..4)
            .map(|_| held.set_aside(item.clone(), first, most))
            .collect();
        assert_eq!(
            waits,
            [
                (Duration::from_secs(1), 1),
                (Duration::from_secs(2), 2),
                (Duration::from_secs(4), 3),
                (Duration::from_secs(5), 4),
            ]
        );
        assert!(!held.ready(&item));
        assert!(held.ready(&Item::Send(OpId::derived("another"))));
        assert!(
            held.next()
                .is_some_and(|at| at > Instant::now() + Duration::from_secs(4))
        );
    }

    #[test]
    fn an_ended_item_offered_again_is_known_until_it_is_set_aside() {
        let mut held = Held::default();
        let item = Item::Reminder(OpId::derived("a reminder"), 2);
        held.ended(item.clone());
        assert!(held.came_back(&item));
        assert!(!held.came_back(&Item::Reminder(OpId::derived("a reminder"), 3)));
        held.set_aside(item.clone(), Duration::from_secs(1), Duration::from_secs(1));
        assert!(!held.came_back(&item));
    }
}
