//! The work that waits, done one thing at a time and in order: sends first, then calls
//! beside them, reminders, media, follower syncs. What comes back, or cannot be ended, is
//! set aside, so that nothing holds up what is behind it.

use tsunagi_domain::automation::{
    AiQuestion, Pending, PendingMedia, ReminderPart, SyncStep, TelegramAlert,
};

use super::followers::SYNC_BATCH;
use super::{Executor, Failure, Item};
use crate::media::MediaStore;
use crate::store::{LogStore, StoreError};

/// What the executor does next, and what with.
enum Work {
    Send(Pending),
    Ask(AiQuestion),
    Alert(TelegramAlert),
    Remind(ReminderPart),
    Keep(PendingMedia, MediaStore),
    Sync(SyncStep),
}

impl<S: LogStore> Executor<S> {
    /// Does the next thing that waits, if any: a send (oldest first), a question for the
    /// model or an alert for Telegram (sent out beside the sends: the model about a few
    /// chats at once, Telegram one alert at a time), a part of a reminder, media to keep, a
    /// step of a follower sync. What was set aside is passed over until its time; what
    /// comes back after its outcome was logged, or whose outcome cannot be logged, is set
    /// aside, so that nothing holds up what is behind it.
    pub(super) async fn act(&mut self) -> Option<Result<(), Failure>> {
        loop {
            let (item, work) = self.next_work()?;
            if self.held.came_back(&item) {
                self.set_aside(item, "what was logged for it did not end it");
                continue;
            }
            let acted = match work {
                Work::Send(pending) => self.deliver(&pending).await.map(|()| true),
                // Ended once what comes back is settled.
                Work::Ask(question) => self.ask(question).await.map(|()| false),
                Work::Alert(alert) => self.alert_on_telegram(alert).await.map(|()| false),
                Work::Remind(part) => self.remind(part).await.map(|()| true),
                // Not ended while LINE is still preparing it.
                Work::Keep(media, store) => self
                    .download(&store, &media)
                    .await
                    .map(|()| self.held.ready(&item)),
                Work::Sync(step) => self.sync_followers(step).await.map(|()| true),
            };
            return Some(match acted {
                Ok(ended) => {
                    if ended {
                        self.held.ended(item);
                    }
                    Ok(())
                }
                Err(Failure::Store(StoreError::Corrupt(why))) => {
                    self.set_aside(item, &why);
                    Ok(())
                }
                Err(error) => Err(error),
            });
        }
    }

    /// The next thing to do, in the order `act` says, passing over what is set aside.
    fn next_work(&self) -> Option<(Item, Work)> {
        let ready = |item: &Item| self.held.ready(item);
        if let Some(pending) = self.bot.pending().find(|p| ready(&Item::send(p))) {
            return Some((Item::send(pending), Work::Send(pending.clone())));
        }
        if self.beside.may_ask()
            && let Some(question) = self
                .bot
                .ai_questions()
                .into_iter()
                .find(|q| !self.beside.asks_in(&q.conversation) && ready(&Item::question(q)))
        {
            return Some((Item::question(&question), Work::Ask(question)));
        }
        if !self.beside.is_alerting()
            && let Some(alert) = self.bot.telegram_alerts().find(|a| ready(&Item::alert(a)))
        {
            return Some((Item::alert(alert), Work::Alert(alert.clone())));
        }
        if let Some(part) = self
            .bot
            .reminder_parts()
            .into_iter()
            .find(|p| ready(&Item::reminder(p)))
        {
            return Some((Item::reminder(&part), Work::Remind(part)));
        }
        if let Some(store) = self.relay.media()
            && let Some(media) = self.bot.pending_media().find(|m| ready(&Item::media(m)))
        {
            return Some((Item::media(media), Work::Keep(media.clone(), store.clone())));
        }
        // A batch at a time, so that sends and automations are never long behind.
        let step = self.bot.follower_sync(SYNC_BATCH)?;
        let item = Item::sync(&step);
        ready(&item).then_some((item, Work::Sync(step)))
    }

    /// Sets `item` aside for a while, longer each time, and says so.
    fn set_aside(&mut self, item: Item, why: &str) {
        let (wait, times) =
            self.held
                .set_aside(item.clone(), self.options.backoff, self.options.max_backoff);
        self.relay.store.metrics().set_aside(&self.channel);
        tracing::error!(channel = %self.channel, ?item, times, ?wait, why, "the executor could not finish this; it goes on with the rest and tries again later");
    }
}
