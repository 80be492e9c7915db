//! The executor: one more consumer of each channel's log, running in the relay so that what
//! must happen with every desk closed happens. It carries out the `send`s in the log and
//! what the bot decides ([`tsunagi_domain::automation`]), through LINE, and logs what it did.
//!
//! Each channel has one executor at a time, across relay processes: the one holding the
//! channel's lease in the store. It renews the lease while it runs; a lease not renewed
//! lapses, and another process takes over. On taking a channel, an executor starts from the
//! newest snapshot of its state and folds the log from there up to the channel's executor
//! cursor without acting (that was done), then acts on what follows, moving the cursor as it
//! goes and saving a snapshot every so often. Acting twice is harmless by construction: the
//! bot's ops have ids that follow from their causes, which the log keeps once; pushes carry
//! retry keys, which LINE honours once; and a reply is preceded by a `sending` op, so that a
//! restart never answers the same send twice.
//!
//! Fencing: a LINE call never outlasts a third of the lease, and starts only while at least
//! two thirds of it remain (a media download, which may take longer, renews the lease as
//! its chunks arrive); every append carries the lease, and the store refuses a stale
//! holder's. A process that lost its lease (paused, cut off from the store) makes no call
//! that ends outside its lease and logs nothing.
//!
//! Calls to other services go beside the sends: the model, which may think for a minute,
//! and Telegram, which may ask for a minute's wait. They change nothing in LINE or the log
//! until they are back, when what they came back with is logged like any other decision,
//! so the channel's sends never wait for them. A lost lease drops them unfinished; the
//! next holder asks the model again, and reports a Telegram alert noted as sending instead
//! of sending it again.

mod account;
mod held;
mod outside;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::{FutureExt as _, StreamExt as _};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tsunagi_domain::automation::{
    AiQuestion, Bot, Call, Decision, IfSpent, Logged, Pending, PendingMedia, ReminderPart,
    ReminderSend, Route, SEND_EXPIRES_MS, SyncStep, TelegramAlert,
};
use tsunagi_line::client::{
    AccessToken, Class, Client, ContentBody, ContentStream, Done, Profile, SendOutcome, Transcoding,
};
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::webhook::Chat;
use tsunagi_line::{ChannelId, Error as LineError, MessageId, UserId};
use tsunagi_proto::{
    ContactProfile, ConversationId, Credential, Delivery, DeviceId, EXECUTOR_DEVICE, MediaOutcome,
    OpId, Operation, RecipientOutcome, RecipientResult, Seq, SyncOutcome, TelegramOutcome,
    TelegramTrouble, UnixMillis,
};

use self::held::{Held, Item};
use crate::assistant::{self, Reply};
use crate::line_setup::LineSetup;
use crate::media::{MediaStore, Part};
use crate::relay::Relay;
use crate::store::{Fence, LogStore, NewBody, NewEntry, StoreError};
use crate::telegram::{Telegram, TelegramError};

/// How the executors of this process behave.
#[derive(Debug, Clone)]
pub struct Options {
    /// This process, as the holder of leases: unique among the relay's processes.
    pub holder: String,
    /// How long a lease lasts unless renewed; renewed at a third of it. A LINE call, its
    /// retries included, is given at most a third.
    pub lease: Duration,
    /// How often to look for channels added since.
    pub scan: Duration,
    /// LINE calls: retried within one attempt, for 5xx, 429 and timeouts (a reply only
    /// when LINE certainly did not act).
    pub retry: RetryPolicy,
    /// After a failed attempt (LINE or the store unavailable), the first wait; it doubles
    /// up to `max_backoff`.
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Profile calls per second during a follower sync: LINE allows 2,000.
    pub profile_rate: NonZeroU32,
    /// Profile calls in flight at once during a follower sync.
    pub profile_concurrency: usize,
    /// Entries folded between snapshots of the executor's state: a restart folds at most
    /// about this many.
    pub snapshot_every: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            holder: format!("relay-{}", uuid::Uuid::new_v4()),
            lease: Duration::from_secs(15),
            scan: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            profile_rate: NonZeroU32::new(2_000).unwrap_or(NonZeroU32::MIN),
            profile_concurrency: 32,
            snapshot_every: 10_000,
        }
    }
}

/// How often LINE is asked for media it is still preparing, the first wait, and the most
/// it grows to (about an hour in all).
const MEDIA_ATTEMPTS: u32 = 20;
const MEDIA_FIRST_WAIT: Duration = Duration::from_secs(1);
const MEDIA_MAX_WAIT: Duration = Duration::from_secs(5 * 60);
/// Why media is not kept when LINE failed to prepare it.
const TRANSCODING_FAILED: &str =
    "LINE could not prepare this video or audio for download (its transcoding failed)";
/// Profiles fetched and logged together during a follower sync.
const SYNC_BATCH: usize = 1_000;
/// Follower ids per page (LINE's most).
const IDS_PER_PAGE: u32 = 1_000;
/// Entries folded per read.
const PAGE: u32 = 500;
/// Questions the model is asked at once per channel: a few patients writing in the same
/// minute need not wait for each other's answers.
const MODEL_CALLS_AT_ONCE: usize = 4;
/// A Telegram alert older than this is not sent: it would only confuse.
const TELEGRAM_WITHIN_MS: i64 = 60 * 60 * 1000;
/// Tries per Telegram chat when Telegram is busy or down, and the longest wait it may ask.
const TELEGRAM_TRIES: u32 = 5;
const TELEGRAM_LONGEST_WAIT: Duration = Duration::from_secs(60);
/// Why a send is not confirmed when LINE's answer to a reply was a 5xx or lost (or its
/// token lapsed before it could be asked again), and its token was spent when asked again.
const UNCONFIRMED: &str = "LINE did not confirm the reply, and its token cannot be used \
     again: the patient may or may not have it, so it was not sent again";

/// Runs the executors of every channel until the relay closes. Dropping the future stops
/// them all at once, as a crash would.
pub async fn run<S: LogStore>(relay: Arc<Relay<S>>, line: LineSetup, options: Options) {
    let leases = Leases::start(relay.clone(), options.holder.clone(), options.lease);
    let mut executors = tokio::task::JoinSet::new();
    let mut running: HashMap<ChannelId, tokio::task::AbortHandle> = HashMap::new();
    loop {
        match relay.store.channels().await {
            Ok(channels) => {
                for channel in channels {
                    if running.get(&channel.id).is_none_or(|h| h.is_finished()) {
                        let executor =
                            Executor::new(&relay, &line, &options, &leases, channel.id.clone());
                        running.insert(channel.id, executors.spawn(executor.run()));
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "listing channels for their executors"),
        }
        tokio::select! {
            () = tokio::time::sleep(options.scan) => {}
            () = relay.closed() => break,
        }
    }
    while executors.join_next().await.is_some() {}
}

/// Takes and renews the leases of this process's executors together: the executors that
/// ask within a moment of each other (those started together renew together) share one
/// write, so an idle relay with a thousand channels writes a few times per lease, not a
/// thousand.
#[derive(Clone)]
struct Leases {
    asks: mpsc::Sender<(ChannelId, oneshot::Sender<Result<bool, StoreError>>)>,
}

/// How long the first ask waits for others to join it.
const LEASES_GATHER: Duration = Duration::from_millis(10);

impl Leases {
    fn start<S: LogStore>(relay: Arc<Relay<S>>, holder: String, lease: Duration) -> Leases {
        let (asks, mut waiting) = mpsc::channel::<(ChannelId, oneshot::Sender<_>)>(1024);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut batch = vec![first];
                let gathering = tokio::time::sleep(LEASES_GATHER);
                tokio::pin!(gathering);
                loop {
                    tokio::select! {
                        () = &mut gathering => break,
                        next = waiting.recv() => match next {
                            Some(ask) => batch.push(ask),
                            None => break,
                        },
                    }
                }
                let mut channels: Vec<ChannelId> = batch.iter().map(|(c, _)| c.clone()).collect();
                channels.sort_unstable();
                channels.dedup();
                let now = relay.now();
                let until = UnixMillis(now.0 + lease.as_millis() as i64);
                let held = relay
                    .store
                    .lease_executors(&channels, &holder, now, until)
                    .await;
                for (channel, answer) in batch {
                    let _ = answer.send(match &held {
                        Ok(held) => Ok(held.contains(&channel)),
                        Err(error) => Err(error.clone()),
                    });
                }
            }
        });
        Leases { asks }
    }

    /// Takes or renews `channel`'s lease; whether this process has it now.
    async fn lease(&self, channel: &ChannelId) -> Result<bool, StoreError> {
        let (answer, answered) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the lease keeper has stopped".into());
        self.asks
            .send((channel.clone(), answer))
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

/// Why an executor stopped acting on its channel.
enum Stop {
    /// Another process has the lease now.
    Lost,
    /// The relay is shutting down.
    Closed,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Store(StoreError),
    /// The lease lapsed or passed to another process: stop acting.
    #[error("the executor's lease is lost")]
    Lost,
    /// LINE could not be reached or was overloaded, even after retrying.
    #[error("LINE is unavailable: {0}")]
    Line(LineError),
    /// No access token: LINE refused the channel's credentials, or could not be reached.
    #[error("no access token for the channel: {0}")]
    Token(LineError),
}

/// What became of a download.
enum Kept {
    /// In the store, durable, this many bytes.
    Whole(u64),
    /// More than LINE allows for it: nothing kept.
    TooLarge,
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LeaseLost(_) => Failure::Lost,
            error => Failure::Store(error),
        }
    }
}

/// Calls out beside the channel's sends.
#[derive(Default)]
struct Beside {
    /// The model, about one question per chat, in so many chats at once.
    asking: Vec<(ConversationId, Out)>,
    /// Telegram, with one alert.
    alerting: Option<Out>,
}

/// What a call beside the sends came back with.
enum Returned {
    Ai {
        question: AiQuestion,
        model: String,
        reply: Reply,
    },
    Telegram {
        cause: Seq,
        outcome: TelegramOutcome,
    },
}

impl Beside {
    /// Whether the model is being asked about a question in `conversation`.
    fn asks_in(&self, conversation: &ConversationId) -> bool {
        self.asking.iter().any(|(c, _)| c == conversation)
    }

    /// The next call to come back; pending for ever while none is out.
    fn returned(&mut self) -> impl Future<Output = Returned> + '_ {
        std::future::poll_fn(|cx| {
            if let Some((at, returned)) = self
                .asking
                .iter_mut()
                .enumerate()
                .find_map(|(at, (_, call))| Some((at, call.poll(cx)?)))
            {
                self.asking.swap_remove(at);
                return Poll::Ready(returned);
            }
            if let Some(call) = &mut self.alerting
                && let Some(returned) = call.poll(cx)
            {
                self.alerting = None;
                return Poll::Ready(returned);
            }
            Poll::Pending
        })
    }
}

/// A call beside the sends, running on its own; stopped when dropped.
struct Out(tokio::task::JoinHandle<Returned>);

impl Out {
    fn start(call: impl Future<Output = Returned> + Send + 'static) -> Self {
        Self(tokio::spawn(call))
    }

    /// What it came back with, once it has. Only dropping it stops it; a call that
    /// panicked panics here, as it would have in the executor's own task.
    fn poll(&mut self, cx: &mut std::task::Context<'_>) -> Option<Returned> {
        match self.0.poll_unpin(cx) {
            Poll::Ready(joined) => {
                Some(joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())))
            }
            Poll::Pending => None,
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the executor does next, and what with.
enum Work {
    Send(Pending),
    Ask(AiQuestion),
    Alert(TelegramAlert),
    Remind(ReminderPart),
    Keep(PendingMedia, MediaStore),
    Sync(SyncStep),
}

/// What woke the executor from its rest.
enum Woken {
    /// A commit, a timer, media to ask for again, or the lease's renewal.
    Due,
    Returned(Returned),
    Stop(Stop),
}

/// What became of a call to LINE.
enum Answer {
    Sent(Vec<MessageId>),
    /// LINE refused it for good.
    Refused(LineError),
    /// LINE refused the reply token: used or too old.
    Spent(LineError),
    /// Not now: try again later. Whether LINE carried it out all the same.
    Unavailable(LineError, Done),
}

struct Executor<S> {
    relay: Arc<Relay<S>>,
    line: LineSetup,
    options: Options,
    leases: Leases,
    channel: ChannelId,
    bot: Bot,
    /// A client with a stateless access token, and when (by the relay's clock) to issue
    /// the next one.
    client: Option<(Client, UnixMillis)>,
    renew_at: Instant,
    /// The seq of the newest snapshot saved (or read).
    snapshot_at: Seq,
    /// The account's Chat and mark-as-read modes as last logged, and when (by the relay's
    /// clock) to ask LINE for them again.
    account: Option<tsunagi_proto::LineAccount>,
    account_due: UnixMillis,
    /// Media LINE is still preparing, and what could not be finished: set aside a while.
    held: Held,
    /// Paces profile calls to LINE's rate limit.
    profiles: Arc<DefaultDirectRateLimiter>,
    beside: Beside,
}

impl<S: LogStore> Executor<S> {
    fn new(
        relay: &Arc<Relay<S>>,
        line: &LineSetup,
        options: &Options,
        leases: &Leases,
        channel: ChannelId,
    ) -> Self {
        Self {
            relay: relay.clone(),
            line: line.clone(),
            options: options.clone(),
            leases: leases.clone(),
            channel,
            bot: Bot::new(),
            client: None,
            renew_at: Instant::now(),
            snapshot_at: Seq::ZERO,
            account: None,
            account_due: UnixMillis(0),
            held: Held::default(),
            profiles: Arc::new(RateLimiter::direct(Quota::per_second(options.profile_rate))),
            beside: Beside::default(),
        }
    }

    async fn run(mut self) {
        let mut backoff = self.options.backoff;
        loop {
            match self.lease().await {
                Ok(true) => match self.holding().await {
                    Ok(Stop::Lost) | Err(Failure::Lost) => {
                        tracing::info!(channel = %self.channel, "another relay runs this channel's executor now");
                        backoff = self.options.backoff;
                    }
                    Ok(Stop::Closed) => {
                        let holder = self.options.holder.clone();
                        let _ = self
                            .relay
                            .store
                            .release_executor(&self.channel, &holder)
                            .await;
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(channel = %self.channel, %error, ?backoff, "the executor failed; trying again");
                        backoff = (backoff * 2).min(self.options.max_backoff);
                    }
                },
                Ok(false) => backoff = self.options.lease / 3,
                Err(error) => {
                    tracing::warn!(channel = %self.channel, %error, "taking the executor's lease");
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = self.relay.closed() => return,
            }
        }
    }

    fn now(&self) -> UnixMillis {
        self.relay.now()
    }

    /// Takes or renews this channel's lease.
    async fn lease(&mut self) -> Result<bool, StoreError> {
        // Renewal is due a third of the lease after it was asked for: the write may come
        // a moment later, which only lengthens what remains.
        let asked = Instant::now();
        let held = self.leases.lease(&self.channel).await?;
        self.renew_at = asked + self.options.lease / 3;
        Ok(held)
    }

    /// The newest snapshot at or before `cursor`, if it can be read, with the account's
    /// modes it kept; else a bot that has folded nothing.
    async fn resumed_bot(
        &self,
        cursor: Seq,
    ) -> Result<(Bot, Option<tsunagi_proto::LineAccount>), Failure> {
        let Some((seq, state)) = self.relay.store.executor_snapshot(&self.channel).await? else {
            return Ok((Bot::new(), None));
        };
        let (bot, account) = account::resumed(&state);
        match Bot::from_snapshot(&bot) {
            Ok(bot) if bot.seq() == seq && seq <= cursor => Ok((bot, account)),
            Ok(_) => {
                tracing::warn!(channel = %self.channel, %seq, %cursor, "an executor snapshot past the cursor; folding the log from its start");
                Ok((Bot::new(), None))
            }
            Err(error) => {
                tracing::warn!(channel = %self.channel, %error, "folding the log from its start");
                Ok((Bot::new(), None))
            }
        }
    }

    /// Saves the folded state once enough entries have been folded since the last one.
    async fn snapshot_if_due(&mut self) -> Result<(), Failure> {
        let seq = self.bot.seq();
        if seq.0.saturating_sub(self.snapshot_at.0) < self.options.snapshot_every {
            return Ok(());
        }
        let state = account::snapshot(&self.bot, self.account);
        // Written under the lease: a fold that took long may be due to renew it.
        self.keep_lease().await?;
        self.relay
            .store
            .save_executor_snapshot(&self.channel, self.fence(), seq, state)
            .await?;
        self.snapshot_at = seq;
        Ok(())
    }

    /// Before a call to LINE: renews the lease once a third of it has passed, so that at
    /// least two thirds remain for a call given one third.
    async fn keep_lease(&mut self) -> Result<(), Failure> {
        if Instant::now() >= self.renew_at && !self.lease().await? {
            return Err(Failure::Lost);
        }
        Ok(())
    }

    /// What an append must carry: this process's lease, now.
    fn fence(&self) -> Fence {
        Fence {
            holder: self.options.holder.clone(),
            now: self.now(),
        }
    }

    /// Acts on the channel while this process holds its lease; what is out beside the
    /// sends is dropped with the lease.
    async fn holding(&mut self) -> Result<Stop, Failure> {
        let held = self.hold().await;
        self.beside = Beside::default();
        held
    }

    async fn hold(&mut self) -> Result<Stop, Failure> {
        let relay = self.relay.clone();
        let store = &relay.store;
        let cursor = store
            .executor_cursor(&self.channel)
            .await?
            .ok_or_else(|| StoreError::UnknownChannel(self.channel.clone()))?;
        // What was acted on is only folded, from the newest snapshot on.
        (self.bot, self.account) = self.resumed_bot(cursor).await?;
        self.snapshot_at = self.bot.seq();
        while self.bot.seq() < cursor {
            // A long fold keeps the lease it folds under.
            self.keep_lease().await?;
            let entries = store.read(&self.channel, self.bot.seq(), PAGE).await?;
            if entries.is_empty() {
                break;
            }
            for entry in entries.iter().take_while(|e| e.seq <= cursor) {
                self.bot.apply(entry);
                self.saw(entry);
            }
        }
        // LINE is asked for the account's modes as the executor starts, before it acts.
        self.read_account().await?;
        tracing::info!(channel = %self.channel, %cursor, from = %self.snapshot_at, "the executor runs this channel");
        self.snapshot_if_due().await?;
        let mut head = store.subscribe(&self.channel);
        let mut line_backoff = self.options.backoff;
        // Woken only to renew the lease, with no commit since the last read: nothing new
        // to read, so a thousand idle channels do not read a thousand times.
        let mut renewal_only = false;
        loop {
            if Instant::now() >= self.renew_at && !self.lease().await? {
                return Ok(Stop::Lost);
            }
            // Only a shared store's heads hear every process's commits (PostgreSQL's
            // NOTIFY); another process on a SQLite file commits unheard, so there the
            // renewal reads as well.
            let unchanged =
                renewal_only && store.is_shared() && !head.has_changed().unwrap_or(true);
            renewal_only = false;
            // New entries: fold them, and log what they call for.
            let entries = if unchanged {
                Vec::new()
            } else {
                head.borrow_and_update();
                store.read(&self.channel, self.bot.seq(), PAGE).await?
            };
            if !entries.is_empty() {
                let mut decisions = Vec::new();
                for entry in &entries {
                    decisions.extend(self.bot.apply(entry));
                    self.saw(entry);
                }
                self.decide(decisions).await?;
                self.show(&entries).await;
                let moved = store
                    .move_executor_cursor(
                        &self.channel,
                        &self.options.holder,
                        self.bot.seq(),
                        self.now(),
                    )
                    .await?;
                if !moved {
                    return Ok(Stop::Lost);
                }
                self.snapshot_if_due().await?;
                continue;
            }
            // A call beside the sends came back: log what it calls for.
            if let Some(returned) = self.beside.returned().now_or_never() {
                self.settle(returned).await?;
                continue;
            }
            // One thing at a time; its outcome is folded (read back from the log) before the
            // next is planned.
            if let Some(acted) = self.act().await {
                match acted {
                    Ok(()) => line_backoff = self.options.backoff,
                    // LINE is out of reach: wait, keeping what is folded, and let new
                    // entries (to log what they call for) cut the wait short.
                    Err(Failure::Line(error) | Failure::Token(error)) => {
                        tracing::warn!(channel = %self.channel, %error, wait = ?line_backoff, "LINE is unavailable; trying again");
                        // The token lapsed or was revoked: a new one next time.
                        self.refused(&error);
                        let until = (Instant::now() + line_backoff).min(self.renew_at);
                        let returned = tokio::select! {
                            () = tokio::time::sleep_until(until) => None,
                            _ = head.changed() => None,
                            returned = self.beside.returned() => Some(returned),
                            () = self.relay.closed() => return Ok(Stop::Closed),
                        };
                        if let Some(returned) = returned {
                            self.settle(returned).await?;
                        }
                        line_backoff = (line_backoff * 2).min(self.options.max_backoff);
                    }
                    Err(error) => return Err(error),
                }
                continue;
            }
            let now = self.now();
            if self.account_due(now) {
                self.read_account().await?;
                continue;
            }
            let due = self.bot.due(now);
            if !due.is_empty() && self.decide(due).await? > 0 {
                continue;
            }
            match self.rest(&mut head, &mut renewal_only).await {
                Woken::Due => {}
                Woken::Returned(returned) => self.settle(returned).await?,
                Woken::Stop(stop) => return Ok(stop),
            }
        }
    }

    /// Waits for a commit, the next timer, media to ask for again, the lease's renewal, or
    /// a call beside the sends to come back; `renewal_only` says whether only the time
    /// woke it.
    async fn rest(
        &mut self,
        head: &mut tokio::sync::watch::Receiver<Seq>,
        renewal_only: &mut bool,
    ) -> Woken {
        let now = self.now();
        let media_wait = self.held.next();
        let wake = (self.bot.next_due(now).into_iter())
            .chain([self.account_due])
            .min()
            .map(|at| Duration::from_millis(u64::try_from(at.0 - now.0).unwrap_or(0)))
            .map_or(self.renew_at, |d| (Instant::now() + d).min(self.renew_at));
        let timer_only = media_wait.is_none_or(|at| at > wake);
        let wake = media_wait.map_or(wake, |at| at.min(wake));
        tokio::select! {
            changed = head.changed() => {
                if changed.is_err() {
                    return Woken::Stop(Stop::Closed);
                }
            }
            () = tokio::time::sleep_until(wake.max(Instant::now() + Duration::from_millis(10))) => {
                *renewal_only = timer_only;
            }
            returned = self.beside.returned() => return Woken::Returned(returned),
            () = self.relay.closed() => return Woken::Stop(Stop::Closed),
        }
        Woken::Due
    }

    /// Does the next thing that waits, if any: a send (oldest first), a question for the
    /// model or an alert for Telegram (sent out beside the sends: the model about a few
    /// chats at once, Telegram one alert at a time), a part of a reminder, media to keep, a
    /// step of a follower sync. What was set aside is passed over until its time; what
    /// comes back after its outcome was logged, or whose outcome cannot be logged, is set
    /// aside, so that nothing holds up what is behind it.
    async fn act(&mut self) -> Option<Result<(), Failure>> {
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
        if self.beside.asking.len() < MODEL_CALLS_AT_ONCE
            && let Some(question) = self
                .bot
                .ai_questions()
                .into_iter()
                .find(|q| !self.beside.asks_in(&q.conversation) && ready(&Item::question(q)))
        {
            return Some((Item::question(&question), Work::Ask(question)));
        }
        if self.beside.alerting.is_none()
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

    /// Logs the bot's ops in one append, then fetches the profiles it asked for. Returns
    /// how many ops were new to the log.
    async fn decide(&mut self, decisions: Vec<Decision>) -> Result<usize, Failure> {
        let mut ops = Vec::new();
        let mut profiles = Vec::new();
        for decision in decisions {
            match decision {
                Decision::Log(logged) => ops.push(logged),
                Decision::FetchProfile { user, chat, op_id } => {
                    profiles.push(((user, chat), op_id));
                }
            }
        }
        let mut new = self.log(ops).await?;
        if profiles.is_empty() {
            return Ok(new);
        }
        let (users, ids): (Vec<(UserId, Chat)>, Vec<OpId>) = profiles.into_iter().unzip();
        let fetched = self.fetch_profiles(users).await?;
        let ops = ids
            .into_iter()
            .zip(fetched)
            .filter_map(|(op_id, (user, profile))| match profile {
                Ok(profile) => Some(Logged {
                    op_id,
                    op: Operation::Profiles {
                        profiles: vec![profile],
                    },
                }),
                // Not a friend (404), no longer a member, or LINE is busy: the profile
                // comes with the next follower sync instead, if they follow.
                Err(error) => {
                    tracing::debug!(%user, %error, "no profile");
                    None
                }
            })
            .collect();
        new += self.log(ops).await?;
        Ok(new)
    }

    /// Fetches profiles, several at a time, paced to LINE's rate limit; in the order asked.
    /// A user seen in a group or room is asked of that group or room (LINE answers for its
    /// members, friends or not); anyone else of LINE's profiles of the account's friends.
    async fn fetch_profiles(
        &mut self,
        users: Vec<(UserId, Chat)>,
    ) -> Result<Vec<(UserId, tsunagi_line::Result<ContactProfile>)>, Failure> {
        let client = self.client().await?.clone();
        let limiter = self.profiles.clone();
        let mut fetched = Vec::with_capacity(users.len());
        let mut fetching = futures_util::stream::iter(users)
            .map(|(user, chat)| {
                let (client, limiter) = (client.clone(), limiter.clone());
                async move {
                    limiter.until_ready().await;
                    let profile = match &chat {
                        Chat::Group(group) => {
                            (client.group_member_profile(group, &user).await).map(of_member)
                        }
                        Chat::Room(room) => {
                            (client.room_member_profile(room, &user).await).map(of_member)
                        }
                        Chat::User(_) => client.profile(&user).await.map(of_follower),
                    };
                    (user, profile)
                }
            })
            .buffered(self.options.profile_concurrency);
        while let Some(profile) = fetching.next().await {
            if let Err(error) = &profile.1 {
                self.refused(error);
            }
            fetched.push(profile);
            // A thousand calls can outlast the lease they are made under.
            self.keep_lease().await?;
        }
        Ok(fetched)
    }

    /// Appends ops under the executor's device, in one durable write.
    async fn log(&self, ops: Vec<Logged>) -> Result<usize, Failure> {
        if ops.is_empty() {
            return Ok(0);
        }
        let at = self.relay.now();
        let entries = ops
            .into_iter()
            .map(|Logged { op_id, op }| {
                let op = serde_json::to_string(&op)
                    .ok()
                    .and_then(|json| RawValue::from_string(json).ok())
                    .ok_or_else(|| StoreError::Corrupt("an op that is not JSON".into()))?;
                Ok(NewEntry {
                    at,
                    body: NewBody::Op {
                        op_id,
                        device: DeviceId::from(EXECUTOR_DEVICE),
                        role: None,
                        op,
                    },
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let appended = self
            .relay
            .store
            .append_fenced(&self.channel, self.fence(), entries)
            .await?;
        Ok(appended
            .iter()
            .filter(|a| matches!(a, crate::store::Appended::New(_)))
            .count())
    }

    async fn log_one(&self, cause: String, op: Operation) -> Result<(), Failure> {
        self.log(vec![Logged {
            op_id: OpId::derived(&cause),
            op,
        }])
        .await
        .map(drop)
    }

    /// Asks the model about a patient's question, beside the sends, showing LINE's loading
    /// animation meanwhile. Without its settings or key, the chat goes to people now.
    async fn ask(&mut self, question: AiQuestion) -> Result<(), Failure> {
        let settings = self.bot.ai().cloned();
        let key = self
            .relay
            .credential(&self.channel, Credential::AiKey)
            .await?;
        let (Some(settings), Some(key)) = (settings, key) else {
            let reply =
                Reply::HandOver("the AI responder is off, or the relay has no API key".into());
            return self
                .settle(Returned::Ai {
                    question,
                    model: String::new(),
                    reply,
                })
                .await;
        };
        self.show_thinking(&question.conversation, settings.timeout_seconds)
            .await;
        let egress = self.relay.egress().clone();
        let conversation = question.conversation.clone();
        let call = Out::start(async move {
            let reply = assistant::ask(&egress, &settings, &key, &question).await;
            let model = settings.model.trim().to_owned();
            Returned::Ai {
                question,
                model,
                reply,
            }
        });
        self.beside.asking.push((conversation, call));
        Ok(())
    }

    /// Logs what a call beside the sends came back with. The model's answer is sent like
    /// any other, by reply while the token lasts; its ops have ids that follow from the
    /// question, so it is logged once, and a restart before it is logged asks again.
    async fn settle(&mut self, returned: Returned) -> Result<(), Failure> {
        match returned {
            Returned::Ai {
                question,
                model,
                reply,
            } => {
                let decisions = match reply {
                    Reply::Answer(text) => self.bot.ai_answered(&question, &model, &text),
                    Reply::HandOver(reason) => {
                        tracing::info!(channel = %self.channel, conversation = %question.conversation, %reason, "the AI responder hands the chat to people");
                        self.bot
                            .ai_handed_over(&question, &model, &reason, self.now())
                    }
                };
                self.decide(decisions).await?;
                self.held.ended(Item::question(&question));
                Ok(())
            }
            Returned::Telegram { cause, outcome } => {
                self.log_one(
                    format!("telegram/{}", cause.0),
                    Operation::TelegramSent { cause, outcome },
                )
                .await?;
                self.held.ended(Item::Alert(cause));
                Ok(())
            }
        }
    }

    /// LINE's loading animation in a 1:1 chat, for about `seconds`: best effort.
    async fn show_thinking(&mut self, conversation: &ConversationId, seconds: u32) {
        if !conversation.is_one_to_one() {
            return;
        }
        // LINE shows it for 5 to 60 seconds, in fives; a message sent ends it.
        let seconds = seconds.div_ceil(5).clamp(1, 12) * 5;
        if let Ok(client) = self.client().await
            && let Err(error) = client
                .loading_start(&UserId::new(conversation.as_str()), seconds)
                .await
        {
            tracing::debug!(channel = %self.channel, %error, "LINE did not show the loading animation");
        }
    }

    /// Sends a Telegram alert to the owners' chats, beside the sends; what became of it is
    /// logged when it is back. The sending is noted first: the Bot API has no retry key, so
    /// an alert noted and not logged as sent (the relay stopped between) is not sent again,
    /// only reported.
    async fn alert_on_telegram(&mut self, alert: TelegramAlert) -> Result<(), Failure> {
        let cause = alert.cause;
        let failed = |trouble, reason: &str| Returned::Telegram {
            cause,
            outcome: TelegramOutcome::Failed {
                reason: reason.to_owned(),
                trouble,
            },
        };
        if alert.noted {
            let outcome = TelegramOutcome::Unconfirmed;
            return self.settle(Returned::Telegram { cause, outcome }).await;
        }
        let settings = self.bot.telegram().cloned();
        let token = self
            .relay
            .credential(&self.channel, Credential::TelegramToken)
            .await?;
        let (Some(settings), Some(token)) = (settings, token) else {
            let off = failed(
                TelegramTrouble::Off,
                "Telegram alerts are off, or the relay has no bot token",
            );
            return self.settle(off).await;
        };
        if self.now().0 - alert.at.0 > TELEGRAM_WITHIN_MS {
            let late = failed(
                TelegramTrouble::Late,
                "not sent within an hour: the relay was stopped or Telegram was down",
            );
            return self.settle(late).await;
        }
        self.log_one(
            format!("telegram/{}/sending", cause.0),
            Operation::TelegramSending { cause },
        )
        .await?;
        let text = self.bot.telegram_message(&alert, self.channel.as_str());
        let sending = Alerting {
            telegram: self.relay.telegram().clone(),
            token,
            text,
            backoff: self.options.backoff,
            channel: self.channel.clone(),
        };
        self.beside.alerting = Some(Out::start(async move {
            let outcome = sending.to(settings.chats).await;
            Returned::Telegram { cause, outcome }
        }));
        Ok(())
    }

    /// Delivers one send and logs its outcome. Returns an error only when it must be
    /// tried again later.
    async fn deliver(&mut self, pending: &Pending) -> Result<(), Failure> {
        let send = pending.op_id;
        let now = self.now();
        if now.0 - pending.at.0 > SEND_EXPIRES_MS {
            let reason = "not delivered within 24 hours of being written".to_owned();
            return self.failed(send, reason, Vec::new(), None).await;
        }
        if pending.lost_reply() {
            return self.unconfirmed(send).await;
        }
        let calls = self.bot.plan(pending, now);
        let mut ids = Vec::new();
        let mut via = Delivery::Push;
        for (n, call) in calls.into_iter().enumerate() {
            let answer = match &call.route {
                Route::Reply { of, if_spent, .. } => {
                    via = Delivery::Reply;
                    let new_attempt = *if_spent == IfSpent::Push;
                    if new_attempt {
                        self.note_attempt(pending, Delivery::Reply, Some(*of))
                            .await?;
                    }
                    match (self.call(&call).await?, if_spent) {
                        // Refused now, so nothing went out: push instead, noted first.
                        (Answer::Spent(_), IfSpent::Push) => {
                            via = Delivery::Push;
                            self.note_attempt(pending, Delivery::Push, None).await?;
                            let push = Call {
                                messages: call.messages.clone(),
                                route: Route::Push {
                                    to: pending.send.conversation.clone(),
                                    key: pending.send.retry_key,
                                },
                            };
                            self.call(&push).await?
                        }
                        // Only the attempt noted before can have spent it: it went out.
                        (Answer::Spent(_), IfSpent::WentOut) => Answer::Sent(Vec::new()),
                        (Answer::Spent(_), IfSpent::Unconfirmed) => {
                            return self.unconfirmed(send).await;
                        }
                        // LINE did nothing with this attempt: the next one may push, or
                        // reply while the token lasts.
                        (Answer::Unavailable(error, Done::No), _) if new_attempt => {
                            self.log_one(
                                pending.not_sent_cause(),
                                Operation::NotSent {
                                    send,
                                    reason: describe(&error).0,
                                },
                            )
                            .await?;
                            return Err(Failure::Line(error));
                        }
                        // LINE may have carried it out: noted, so that a spent token
                        // then is not taken for proof that it went out.
                        (Answer::Unavailable(error, Done::Maybe), _) => {
                            self.log_one(
                                pending.unanswered_cause(),
                                Operation::Unanswered {
                                    send,
                                    reason: describe(&error).0,
                                },
                            )
                            .await?;
                            return Err(Failure::Line(error));
                        }
                        (answer, _) => answer,
                    }
                }
                Route::Push { .. } => {
                    if n == 0 {
                        via = Delivery::Push;
                    }
                    self.call(&call).await?
                }
            };
            // Refused now, but an earlier attempt with the same token may have gone out.
            let retried = matches!(
                call.route,
                Route::Reply {
                    if_spent: IfSpent::WentOut | IfSpent::Unconfirmed,
                    ..
                }
            );
            match answer {
                Answer::Sent(sent) => ids.extend(sent),
                Answer::Refused(_) if retried => return self.unconfirmed(send).await,
                Answer::Refused(error) | Answer::Spent(error) => {
                    let (mut reason, details) = describe(&error);
                    if !ids.is_empty() {
                        reason = format!("{reason} (the first {} messages were sent)", ids.len());
                    }
                    return self.failed(send, reason, details, request_id(&error)).await;
                }
                Answer::Unavailable(error, _) => return Err(Failure::Line(error)),
            }
        }
        self.log_one(
            format!("sent/{send}"),
            Operation::Sent {
                send,
                via,
                message_ids: ids,
            },
        )
        .await
    }

    /// Sends one part of a reminder and logs what became of each recipient. A refusal
    /// (the month's quota) fails the part's remaining recipients at once; an outage is
    /// tried again later, and the retry keys make the repeat harmless.
    async fn remind(&mut self, part: ReminderPart) -> Result<(), Failure> {
        let mut results: Vec<RecipientResult> = part
            .blocked
            .iter()
            .map(|user| RecipientResult {
                user: user.clone(),
                outcome: RecipientOutcome::Blocked,
            })
            .collect();
        let failed = |user: &UserId, error: &LineError| RecipientResult {
            user: user.clone(),
            outcome: RecipientOutcome::Failed {
                reason: describe(error).0,
            },
        };
        match &part.send {
            ReminderSend::Multicast { to, message, key } if !to.is_empty() => {
                let sent = self
                    .client()
                    .await?
                    .multicast(to, std::slice::from_ref(message), false, *key)
                    .await;
                match sent {
                    Ok(_) => results.extend(to.iter().map(|user| RecipientResult {
                        user: user.clone(),
                        outcome: RecipientOutcome::Sent,
                    })),
                    Err(error) if is_final(&error) => {
                        results.extend(to.iter().map(|user| failed(user, &error)));
                    }
                    Err(error) => return Err(Failure::Line(error)),
                }
            }
            ReminderSend::Multicast { .. } => {}
            ReminderSend::Push(each) => {
                let mut refusal: Option<LineError> = None;
                for (user, message, key) in each {
                    if let Some(error) = refusal.as_ref().filter(|e| is_quota(e)) {
                        results.push(failed(user, error));
                        continue;
                    }
                    let sent = self
                        .client()
                        .await?
                        .push(user.as_str(), std::slice::from_ref(message), false, *key)
                        .await;
                    match sent {
                        Ok(_) => results.push(RecipientResult {
                            user: user.clone(),
                            outcome: RecipientOutcome::Sent,
                        }),
                        Err(error) if is_final(&error) => {
                            results.push(failed(user, &error));
                            refusal = Some(error);
                        }
                        Err(error) => return Err(Failure::Line(error)),
                    }
                }
            }
        }
        self.log_one(
            format!("reminder/{}/part/{}", part.reminder, part.part),
            Operation::ReminderDelivered {
                reminder: part.reminder,
                part: part.part,
                results,
            },
        )
        .await
    }

    /// Fetches a message's media (and thumbnail) from LINE into the media store, a chunk at
    /// a time and within LINE's limit for its kind, and logs what became of it once it is
    /// durable. LINE still preparing a large file is asked again later, waiting longer each
    /// time; an outage is tried again too.
    async fn download(&mut self, store: &MediaStore, media: &PendingMedia) -> Result<(), Failure> {
        if let Some(outside) = &media.outside {
            return self.download_outside(store, media, outside).await;
        }
        let message = &media.message;
        let started = self.client().await?.content_stream(message, false).await;
        let outcome = match started {
            Ok(ContentStream::Ready {
                content_type,
                length,
                body,
            }) => match self
                .keep_original(store, media, &content_type, (length, body))
                .await?
            {
                Ok(size) => {
                    let preview = media.preview && self.download_preview(store, message).await?;
                    MediaOutcome::Stored {
                        content_type,
                        size,
                        preview,
                    }
                }
                Err(too_large) => too_large,
            },
            // LINE says at once when it could not transcode a video or audio: reported
            // now, not asked for again for an hour.
            Ok(ContentStream::Preparing)
                if self.client().await?.transcoding(message).await.ok()
                    == Some(Transcoding::Failed) =>
            {
                MediaOutcome::Failed {
                    reason: TRANSCODING_FAILED.into(),
                }
            }
            Ok(ContentStream::Preparing) => {
                if self.held.times(&Item::media(media)) < MEDIA_ATTEMPTS {
                    self.held
                        .set_aside(Item::media(media), MEDIA_FIRST_WAIT, MEDIA_MAX_WAIT);
                    return Ok(());
                }
                MediaOutcome::Failed {
                    reason: "LINE was still preparing it after an hour".into(),
                }
            }
            Ok(ContentStream::Gone) => {
                store
                    .mark_gone(&self.channel, message)
                    .await
                    .map_err(keeping_media)?;
                MediaOutcome::Gone
            }
            Err(error) if is_final(&error) => MediaOutcome::Failed {
                reason: describe(&error).0,
            },
            Err(error) => return Err(Failure::Line(error)),
        };
        self.log_one(
            format!("media/{message}"),
            Operation::Media {
                message: message.clone(),
                outcome,
            },
        )
        .await
    }

    /// Keeps a medium's original within the limit of its kind: its size once whole, or
    /// else the failure to log.
    async fn keep_original(
        &mut self,
        store: &MediaStore,
        media: &PendingMedia,
        content_type: &str,
        download: (Option<u64>, ContentBody),
    ) -> Result<Result<u64, MediaOutcome>, Failure> {
        let kept = self
            .keep(
                store,
                &media.message,
                Part::Content,
                content_type,
                download,
                media.limit,
            )
            .await?;
        Ok(match kept {
            Kept::Whole(size) => Ok(size),
            Kept::TooLarge => Err(MediaOutcome::Failed {
                reason: format!(
                    "larger than LINE allows for it ({} MB)",
                    media.limit / (1024 * 1024)
                ),
            }),
        })
    }

    /// Writes a download into the store, renewing the lease as it goes; what LINE cut off
    /// midway is tried again later (nothing of it is kept).
    async fn keep(
        &mut self,
        store: &MediaStore,
        message: &MessageId,
        part: Part,
        content_type: &str,
        (length, mut body): (Option<u64>, ContentBody),
        limit: u64,
    ) -> Result<Kept, Failure> {
        if length.is_some_and(|length| length > limit) {
            return Ok(Kept::TooLarge);
        }
        let mut writing = store
            .begin(&self.channel, message, part)
            .await
            .map_err(keeping_media)?;
        while let Some(chunk) = body.chunk().await.map_err(Failure::Line)? {
            if writing.written() + chunk.len() as u64 > limit {
                return Ok(Kept::TooLarge);
            }
            writing.write(&chunk).await.map_err(keeping_media)?;
            self.keep_lease().await?;
        }
        let size = writing.finish(content_type).await.map_err(keeping_media)?;
        Ok(Kept::Whole(size))
    }

    /// The thumbnail, if LINE has one ready; its absence does not hold up the file.
    async fn download_preview(
        &mut self,
        store: &MediaStore,
        message: &MessageId,
    ) -> Result<bool, Failure> {
        match self.client().await?.content_stream(message, true).await {
            Ok(ContentStream::Ready {
                content_type,
                length,
                body,
            }) => {
                let kept = self
                    .keep(
                        store,
                        message,
                        Part::Preview,
                        &content_type,
                        (length, body),
                        tsunagi_line::webhook::MAX_IMAGE_BYTES,
                    )
                    .await?;
                Ok(matches!(kept, Kept::Whole(_)))
            }
            Ok(_) => Ok(false),
            Err(error) if is_final(&error) => Ok(false),
            Err(error) => Err(Failure::Line(error)),
        }
    }

    /// One step of a follower sync: a page of ids, a batch of profiles, or the end.
    async fn sync_followers(&mut self, step: SyncStep) -> Result<(), Failure> {
        match step {
            SyncStep::Page { sync, page, start } => {
                let listed = self
                    .client()
                    .await?
                    .followers_ids(Some(IDS_PER_PAGE), start.as_deref())
                    .await;
                let op = match listed {
                    Ok(ids) => Operation::FollowerIds {
                        sync,
                        page,
                        user_ids: ids.user_ids,
                        next: ids.next,
                    },
                    Err(error) if error.status() == Some(403) => Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Unavailable {
                            reason: format!(
                                "LINE lists followers only for verified and premium accounts ({})",
                                describe(&error).0
                            ),
                        },
                    },
                    Err(error) if is_final(&error) => Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Failed {
                            reason: describe(&error).0,
                        },
                    },
                    Err(error) => return Err(Failure::Line(error)),
                };
                self.log_one(format!("followers/{sync}/page/{page}"), op)
                    .await
            }
            SyncStep::Profiles {
                sync,
                users,
                done,
                total,
            } => {
                let users = (users.into_iter())
                    .map(|user| (user.clone(), Chat::User(user)))
                    .collect();
                let fetched = self.fetch_profiles(users).await?;
                let mut profiles = Vec::with_capacity(fetched.len());
                let mut skipped = Vec::new();
                for (user, profile) in fetched {
                    match profile {
                        Ok(profile) => profiles.push(profile),
                        // 404: they left since LINE listed them.
                        Err(error) if is_final(&error) => skipped.push(user),
                        Err(error) => return Err(Failure::Line(error)),
                    }
                }
                let batch = (profiles.len() + skipped.len()) as u64;
                let cause = format!("followers/{sync}/profiles/{done}");
                self.log(vec![
                    Logged {
                        op_id: OpId::derived(&cause),
                        op: Operation::Profiles { profiles },
                    },
                    Logged {
                        op_id: OpId::derived(&format!("{cause}/progress")),
                        op: Operation::FollowerSyncProgress {
                            sync,
                            done: done + batch,
                            total,
                            skipped,
                        },
                    },
                ])
                .await
                .map(drop)
            }
            SyncStep::Finish { sync, total } => {
                self.log_one(
                    format!("followers/{sync}/done"),
                    Operation::FollowerSyncDone {
                        sync,
                        outcome: SyncOutcome::Done { total },
                    },
                )
                .await
            }
        }
    }

    async fn note_attempt(
        &self,
        pending: &Pending,
        via: Delivery,
        token_of: Option<Seq>,
    ) -> Result<(), Failure> {
        self.log_one(
            pending.attempt_cause(via),
            Operation::Sending {
                send: pending.op_id,
                via,
                token_of,
            },
        )
        .await
    }

    async fn failed(
        &self,
        send: OpId,
        reason: String,
        details: Vec<String>,
        request_id: Option<String>,
    ) -> Result<(), Failure> {
        self.log_one(
            format!("send-failed/{send}"),
            Operation::SendFailed {
                send,
                reason,
                details,
                unconfirmed: false,
                request_id,
            },
        )
        .await
    }

    /// Ends a send whose reply LINE may have carried out: not pushed, which could answer
    /// the patient twice.
    async fn unconfirmed(&self, send: OpId) -> Result<(), Failure> {
        self.log_one(
            format!("send-failed/{send}"),
            Operation::SendFailed {
                send,
                reason: UNCONFIRMED.into(),
                details: Vec::new(),
                unconfirmed: true,
                request_id: None,
            },
        )
        .await
    }

    async fn call(&mut self, call: &Call) -> Result<Answer, Failure> {
        let client = self.client().await?;
        let result = match &call.route {
            Route::Reply { token, .. } => client.reply(token, &call.messages, false).await,
            Route::Push { to, key } => client.push(to.as_str(), &call.messages, false, *key).await,
        };
        let error = match result {
            Ok(outcome) => return Ok(Answer::Sent(sent_ids(&outcome))),
            Err(error) => error,
        };
        Ok(match (error.done(), error.class()) {
            // It went out; only LINE's account of it was lost.
            (Done::Yes, _) => Answer::Sent(Vec::new()),
            (_, Class::SpentReplyToken) => Answer::Spent(error),
            (done, Class::Retriable | Class::AccessToken) => Answer::Unavailable(error, done),
            (_, Class::Permanent) => Answer::Refused(error),
        })
    }

    /// Carries out what is only for LINE's screens, the patient's "Read" and the loading
    /// animation while an operator writes: when the entry is still fresh, best effort, never
    /// retried beyond one call and never logged (a repeat after a restart is harmless).
    async fn show(&mut self, entries: &[tsunagi_proto::Entry]) {
        let now = self.now();
        for entry in entries {
            let tsunagi_proto::EntryBody::Op {
                op: tsunagi_proto::LoggedOp::Known(op),
                ..
            } = &entry.body
            else {
                continue;
            };
            let age = now.0 - entry.at.0;
            let shown = match op {
                // LINE marks every message read itself: telling it changes nothing.
                Operation::MarkRead { .. } if self.account.is_some_and(|a| a.marks_read_itself) => {
                    continue;
                }
                Operation::MarkRead { token, .. } if age < MARK_READ_WITHIN_MS => {
                    match self.client().await {
                        Ok(client) => client.mark_as_read(token).await,
                        Err(_) => continue,
                    }
                }
                Operation::Typing {
                    conversation,
                    seconds,
                } if age < TYPING_WITHIN_MS => match self.client().await {
                    Ok(client) => {
                        client
                            .loading_start(&UserId::new(conversation.as_str()), *seconds)
                            .await
                    }
                    Err(_) => continue,
                },
                _ => continue,
            };
            if let Err(error) = shown {
                tracing::debug!(channel = %self.channel, %error, "LINE did not show a read mark or the loading animation");
                self.refused(&error);
            }
        }
    }

    /// A client with a fresh access token, issued from the channel's credentials, for a
    /// call about to be made: only while the lease outlasts the call.
    ///
    /// The token is a stateless one (fifteen minutes, any number of them): a short-lived
    /// one, at most thirty live per channel, would revoke the oldest on the thirty-first
    /// start, perhaps one still in use by another relay process or by the owner's own tools.
    /// It is renewed a minute before it lapses, so that no call carries a token LINE has
    /// let go; a token LINE refuses all the same (the clocks disagree) is renewed then.
    async fn client(&mut self) -> Result<&Client, Failure> {
        self.keep_lease().await?;
        if self
            .client
            .as_ref()
            .is_some_and(|(_, renew)| self.now() >= *renew)
        {
            self.client = None;
        }
        if self.client.is_none() {
            let secret = self
                .relay
                .secret(&self.channel)
                .await?
                .ok_or_else(|| StoreError::UnknownChannel(self.channel.clone()))?;
            let call = self.options.lease / 3;
            let client = Client::builder()
                .api_base(self.line.api_base.clone())
                .data_base(self.line.data_base.clone())
                .retry(self.options.retry)
                .timeout(call)
                .deadline(call)
                .build()
                .map_err(Failure::Token)?;
            // Counted from before it was asked for: LINE's fifteen minutes start a little
            // after.
            let asked = self.now();
            let issued = client
                .issue_stateless_token(&self.channel, secret.expose())
                .await
                .map_err(Failure::Token)?;
            let lasts = i64::try_from(issued.expires_in.saturating_mul(1000)).unwrap_or(i64::MAX);
            let renew = UnixMillis(
                asked
                    .0
                    .saturating_add(lasts - TOKEN_RENEWED_BEFORE_MS.min(lasts / 2)),
            );
            let client = client.with_access_token(AccessToken::new(issued.access_token));
            self.client = Some((client, renew));
        }
        self.client
            .as_ref()
            .map(|(client, _)| client)
            .ok_or_else(|| Failure::Store(StoreError::Unavailable("no LINE client".into())))
    }

    /// After LINE refused a call: a refused token is dropped, so that the next call has a
    /// new one.
    fn refused(&mut self, error: &LineError) {
        if error.class() == Class::AccessToken {
            self.client = None;
        }
    }
}

/// How long before its end an access token is renewed: a call made just before carries
/// it to LINE in time.
const TOKEN_RENEWED_BEFORE_MS: i64 = 60_000;

/// A read mark older than this is not worth telling LINE about any more.
const MARK_READ_WITHIN_MS: i64 = 24 * 60 * 60 * 1000;
/// An operator who was typing this long ago has sent or stopped since.
const TYPING_WITHIN_MS: i64 = 20_000;

/// One Telegram alert on its way to the owners' chats.
struct Alerting {
    telegram: Telegram,
    token: String,
    text: String,
    backoff: Duration,
    channel: ChannelId,
}

impl Alerting {
    /// Sends the alert to each chat, waiting as Telegram asks and trying each a few times.
    /// A token Telegram refuses ends it at once.
    async fn to(self, chats: Vec<i64>) -> TelegramOutcome {
        let (mut sent, mut failed, mut trouble) = (0u32, Vec::new(), None);
        for chat in chats {
            let mut tries = 0;
            loop {
                tries += 1;
                match self.telegram.send(&self.token, chat, &self.text).await {
                    Ok(()) => sent += 1,
                    Err(error @ TelegramError::Token(_)) => {
                        let reason = error.to_string();
                        tracing::warn!(channel = %self.channel, %reason, "a Telegram alert was refused");
                        let trouble = error.trouble();
                        return TelegramOutcome::Failed { reason, trouble };
                    }
                    Err(error) if error.is_temporary() && tries < TELEGRAM_TRIES => {
                        let wait = match error {
                            TelegramError::Busy(wait) => wait.min(TELEGRAM_LONGEST_WAIT),
                            _ => self.backoff * 2u32.pow(tries - 1),
                        };
                        tracing::info!(channel = %self.channel, %error, ?wait, "Telegram: trying again");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    Err(error) => {
                        trouble.get_or_insert(error.trouble());
                        failed.push(error.to_string());
                    }
                }
                break;
            }
        }
        match trouble {
            Some(trouble) if sent == 0 => TelegramOutcome::Failed {
                reason: failed.join("; "),
                trouble,
            },
            _ => TelegramOutcome::Sent {
                chats: sent,
                failed,
                trouble,
            },
        }
    }
}

/// A profile LINE gave for a follower of the account (it answers only for those).
fn of_follower(profile: Profile) -> ContactProfile {
    ContactProfile {
        user_id: profile.user_id,
        display_name: profile.display_name,
        picture_url: profile.picture_url,
        status_message: profile.status_message,
        language: profile.language,
        follower: true,
    }
}

/// A profile LINE gave for a member of a group or room, who may not be a friend of the
/// account: a name and a picture only.
fn of_member(profile: Profile) -> ContactProfile {
    ContactProfile {
        follower: false,
        ..of_follower(profile)
    }
}

fn keeping_media(error: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("keeping media: {error}"))
}

fn sent_ids(outcome: &SendOutcome) -> Vec<MessageId> {
    outcome
        .sent_messages()
        .iter()
        .map(|m| m.id.clone())
        .collect()
}

/// Whether LINE refused for good, so that trying again would not help.
fn is_final(error: &LineError) -> bool {
    !matches!(error.class(), Class::Retriable | Class::AccessToken)
}

/// The month's quota is used up: nothing more goes out this month.
fn is_quota(error: &LineError) -> bool {
    matches!(error, LineError::Api(api) if api.is_monthly_limit())
}

/// LINE's reason and details, for people.
/// LINE's id of the request it refused, to quote to LINE's support.
fn request_id(error: &LineError) -> Option<String> {
    match error {
        LineError::Api(api) => api.request_id.as_ref().map(|id| id.as_str().to_owned()),
        _ => None,
    }
}

fn describe(error: &LineError) -> (String, Vec<String>) {
    match error {
        LineError::Api(api) => (
            api.message.clone(),
            api.details.iter().map(ToString::to_string).collect(),
        ),
        other => (other.to_string(), Vec::new()),
    }
}
