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
mod beside;
mod client;
mod decisions;
mod followers;
mod held;
mod leases;
mod media;
mod outside;
mod reminders;
mod sends;
mod work;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;
use tsunagi_domain::automation::Bot;
use tsunagi_line::client::Client;
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::{ChannelId, Error as LineError};
use tsunagi_proto::{Entry, Seq, UnixMillis};

use self::beside::{Beside, Returned};
use self::held::{Held, Item};
use self::leases::Leases;
use crate::line_setup::LineSetup;
use crate::relay::Relay;
use crate::store::{LogStore, StoreError};

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
    /// Told, each time a channel's executor has nothing left to do now (and no call out to
    /// the AI or Telegram), how far it has folded that channel's log: what a test waits on
    /// to know that nothing more happens, rather than sleeping.
    pub idle: Option<Arc<tokio::sync::watch::Sender<Seq>>>,
}

/// LINE's rate limit for profile calls (2,000 a second), unless the operator says less.
const PROFILE_RATE: NonZeroU32 = match NonZeroU32::new(2_000) {
    Some(n) => n,
    None => panic!("at least one"),
};

impl Default for Options {
    fn default() -> Self {
        Self {
            holder: format!("relay-{}", uuid::Uuid::new_v4()),
            lease: Duration::from_secs(15),
            scan: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            profile_rate: PROFILE_RATE,
            profile_concurrency: 32,
            snapshot_every: 10_000,
            idle: None,
        }
    }
}

/// Entries folded per read.
const PAGE: u32 = 500;

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

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LeaseLost(_) => Failure::Lost,
            error => Failure::Store(error),
        }
    }
}

/// What woke the executor from its rest.
enum Woken {
    /// A commit, a timer, media to ask for again, or the lease's renewal.
    Due,
    Returned(Returned),
    Stop(Stop),
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
    /// An erase was folded: the next fold saves a snapshot, due or not.
    snapshot_now: bool,
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
            snapshot_now: false,
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

    /// Saves the folded state once enough entries have been folded since the last one (or
    /// at once, after an erase).
    async fn snapshot_if_due(&mut self) -> Result<(), Failure> {
        let seq = self.bot.seq();
        if !self.snapshot_now
            && seq.0.saturating_sub(self.snapshot_at.0) < self.options.snapshot_every
        {
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
        self.snapshot_now = false;
        Ok(())
    }

    /// Acts on the channel while this process holds its lease; what is out beside the
    /// sends is dropped with the lease.
    async fn holding(&mut self) -> Result<Stop, Failure> {
        let held = self.hold().await;
        self.beside = Beside::default();
        held
    }

    /// Acts on the channel: takes it up where it was left, then, until it stops, folds what
    /// is new and logs what it calls for, settles what came back from beside the sends,
    /// does the next thing that waits or what the time calls for, and rests when nothing
    /// does.
    async fn hold(&mut self) -> Result<Stop, Failure> {
        self.catch_up().await?;
        let mut head = self.relay.store.subscribe(&self.channel);
        let mut line_backoff = self.options.backoff;
        // Woken only to renew the lease, with no commit since the last read: nothing new
        // to read, so a thousand idle channels do not read a thousand times.
        let mut renewal_only = false;
        loop {
            if Instant::now() >= self.renew_at && !self.lease().await? {
                return Ok(Stop::Lost);
            }
            // New entries: fold them, and log what they call for.
            let woken_by_renewal = std::mem::take(&mut renewal_only);
            let entries = self.new_entries(&mut head, woken_by_renewal).await?;
            if !entries.is_empty() {
                if let Some(stop) = self.fold_and_decide(&entries).await? {
                    return Ok(stop);
                }
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
                        if let Some(stop) =
                            self.wait_for_line(error, &mut head, line_backoff).await?
                        {
                            return Ok(stop);
                        }
                        line_backoff = (line_backoff * 2).min(self.options.max_backoff);
                    }
                    Err(error) => return Err(error),
                }
                continue;
            }
            if self.act_on_time().await? {
                continue;
            }
            if let Some(idle) = &self.options.idle
                && self.beside.is_quiet()
            {
                idle.send_replace(self.bot.seq());
            }
            match self.rest(&mut head, &mut renewal_only).await {
                Woken::Due => {}
                Woken::Returned(returned) => self.settle(returned).await?,
                Woken::Stop(stop) => return Ok(stop),
            }
        }
    }

    /// Takes the channel up where it was left: folds what was acted on, from the newest
    /// snapshot up to the executor cursor, without acting, then asks LINE for the account's
    /// modes.
    async fn catch_up(&mut self) -> Result<(), Failure> {
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
        self.snapshot_if_due().await
    }

    /// The entries committed since the last fold; none read when only the lease's renewal
    /// woke the executor and the store would have heard a commit.
    async fn new_entries(
        &self,
        head: &mut tokio::sync::watch::Receiver<Seq>,
        renewal_only: bool,
    ) -> Result<Vec<Entry>, Failure> {
        let store = &self.relay.store;
        // Only a shared store's heads hear every process's commits (PostgreSQL's
        // NOTIFY); another process on a SQLite file commits unheard, so there the
        // renewal reads as well.
        let unchanged = renewal_only && store.is_shared() && !head.has_changed().unwrap_or(true);
        if unchanged {
            return Ok(Vec::new());
        }
        head.borrow_and_update();
        Ok(store.read(&self.channel, self.bot.seq(), PAGE).await?)
    }

    /// Folds new entries, logs what they call for, shows what is only for LINE's screens,
    /// and moves the executor cursor past them; a cursor that did not move says the lease
    /// is lost.
    async fn fold_and_decide(&mut self, entries: &[Entry]) -> Result<Option<Stop>, Failure> {
        let mut decisions = Vec::new();
        for entry in entries {
            decisions.extend(self.bot.apply(entry));
            self.saw(entry);
        }
        self.decide(decisions).await?;
        self.show(entries).await;
        let moved = self
            .relay
            .store
            .move_executor_cursor(
                &self.channel,
                &self.options.holder,
                self.bot.seq(),
                self.now(),
            )
            .await?;
        if !moved {
            return Ok(Some(Stop::Lost));
        }
        // The erase (or purge) dropped the snapshot; one saved meanwhile may still hold what
        // went.
        // The state without them is saved over it now, not in 10,000 entries.
        if entries.iter().any(erases) {
            self.snapshot_now = true;
        }
        self.snapshot_if_due().await?;
        Ok(None)
    }

    /// Waits out LINE being out of reach for `line_backoff` (never past the lease's
    /// renewal): a commit cuts the wait short, and a call beside the sends that comes back
    /// meanwhile is settled.
    async fn wait_for_line(
        &mut self,
        error: LineError,
        head: &mut tokio::sync::watch::Receiver<Seq>,
        line_backoff: Duration,
    ) -> Result<Option<Stop>, Failure> {
        tracing::warn!(channel = %self.channel, %error, wait = ?line_backoff, "LINE is unavailable; trying again");
        // The token lapsed or was revoked: a new one next time.
        self.refused(&error);
        let until = (Instant::now() + line_backoff).min(self.renew_at);
        let returned = tokio::select! {
            () = tokio::time::sleep_until(until) => None,
            _ = head.changed() => None,
            returned = self.beside.returned() => Some(returned),
            () = self.relay.closed() => return Ok(Some(Stop::Closed)),
        };
        if let Some(returned) = returned {
            self.settle(returned).await?;
        }
        Ok(None)
    }

    /// Does what the time calls for, if anything: asks LINE for the account's modes again,
    /// or logs what the bot's timers that are due call for. Whether it did.
    async fn act_on_time(&mut self) -> Result<bool, Failure> {
        let now = self.now();
        if self.account_due(now) {
            self.read_account().await?;
            return Ok(true);
        }
        let due = self.bot.due(now);
        Ok(!due.is_empty() && self.decide(due).await? > 0)
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
}

/// Whether `entry` erases a patient, or purges what the retention keeps no longer: the
/// store dropped the snapshot.
fn erases(entry: &Entry) -> bool {
    matches!(
        &entry.body,
        tsunagi_proto::EntryBody::Op { op, .. } if matches!(
            op.known(),
            Some(tsunagi_proto::Operation::Erase { .. } | tsunagi_proto::Operation::Expire { .. })
        )
    )
}
