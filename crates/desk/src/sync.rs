//! Keeping a desk's store in step with its channel's log, and its outbox flowing into it.
//!
//! The log arrives over SSE, applied in batches from the stored cursor. A stream that goes
//! quiet for the dead time is dropped; one that dies without ever being heard from (a
//! proxy that buffers event streams) makes the desk long-poll for a while instead.
//! Reconnects back off with jitter. The outbox goes out in order whenever the relay
//! answers; each op keeps the idempotency key it was made with.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use rand::Rng as _;
use serde::Serialize;
use tokio::sync::{Notify, broadcast, watch};
use tsunagi_line::ChannelId;
use tsunagi_proto::{DeviceId, Entry, OpId, Operation, Seq, UnixMillis};

use crate::media::MediaCache;
use crate::projection::Changes;
use crate::query::AuditRecord;
use crate::relay::{self, DEAD_AFTER, LONG_POLL, RelayClient};
use crate::store::Store;
use crate::{Error, Result};

/// How sync behaves; tests shorten the times.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// A stream silent this long is dead.
    pub dead_after: Duration,
    /// The first wait before reconnecting; it doubles up to `backoff_max`, with jitter.
    pub backoff_min: Duration,
    pub backoff_max: Duration,
    /// Entries per page when catching up, and most entries per applied batch.
    pub batch: u32,
    /// How long to long-poll after a stream that was never heard from.
    pub poll_for: Duration,
    /// How long one long-poll waits on the relay.
    pub poll_wait: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            dead_after: DEAD_AFTER,
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            batch: 500,
            poll_for: Duration::from_secs(300),
            poll_wait: LONG_POLL,
        }
    }
}

/// How this desk stands with its relay, for the connection bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Connection {
    /// Not heard from the relay yet since the desk opened.
    Connecting,
    /// Following the log live.
    Online,
    /// Reading the entries this desk missed: `applied` of `head` so far.
    CatchingUp {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        applied: u64,
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        head: u64,
    },
    /// The relay was lost a moment ago; trying again.
    Reconnecting,
    /// The relay has not answered several tries in a row.
    Offline,
    /// The relay will not serve this desk (its device was removed); joining again helps.
    Stopped { reason: String },
}

/// Tries in a row that failed before the desk says it is offline.
const OFFLINE_AFTER: u32 = 3;

/// The connection and this desk's ops not yet in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SyncStatus {
    pub connection: Connection,
    /// Ops waiting for the relay.
    pub waiting: u32,
    /// Ops the relay refused, kept for people to retry or discard.
    pub refused: u32,
}

/// One desk's sync with its relay.
#[derive(Debug, Clone)]
pub struct Sync {
    store: Store,
    client: RelayClient,
    channel: ChannelId,
    options: SyncOptions,
    outbox: Arc<Notify>,
    notices: broadcast::Sender<Changes>,
    status: watch::Sender<SyncStatus>,
    /// Devices whose names were asked of the relay.
    asked_about: Arc<std::sync::Mutex<std::collections::BTreeSet<DeviceId>>>,
    /// This desk's media cache: an erased patient's files are deleted from it.
    media: Option<MediaCache>,
}

/// Exponential backoff with full jitter.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    fn new(options: &SyncOptions) -> Self {
        Self {
            next: options.backoff_min,
            min: options.backoff_min,
            max: options.backoff_max,
        }
    }

    fn reset(&mut self) {
        self.next = self.min;
    }

    async fn wait(&mut self) {
        let ceiling = self.next.as_millis().max(1) as u64;
        let wait = Duration::from_millis(rand::rng().random_range(ceiling / 2..=ceiling));
        self.next = (self.next * 2).min(self.max);
        tokio::time::sleep(wait).await;
    }
}

impl Sync {
    pub fn new(
        store: Store,
        client: RelayClient,
        channel: ChannelId,
        options: SyncOptions,
    ) -> Self {
        Self {
            store,
            client,
            channel,
            options,
            outbox: Arc::new(Notify::new()),
            notices: broadcast::channel(256).0,
            status: watch::Sender::new(SyncStatus {
                connection: Connection::Connecting,
                waiting: 0,
                refused: 0,
            }),
            asked_about: Arc::default(),
            media: None,
        }
    }

    /// Deletes an erased patient's files from `cache` as the erase is applied (and now,
    /// those an erase left when the desk stopped before it could).
    #[must_use]
    pub fn with_media(mut self, cache: MediaCache) -> Self {
        self.media = Some(cache);
        self
    }

    /// Deletes the cached media an erase left to delete; a failure is logged, and tried
    /// again at the next erase or start.
    pub async fn delete_erased_media(&self) {
        let Some(cache) = &self.media else {
            return;
        };
        if let Err(error) = cache.delete_erased(&self.store, &self.channel).await {
            tracing::warn!(%error, "deleting an erased patient's media from the cache");
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The relay, as this desk reaches it.
    pub fn client(&self) -> &RelayClient {
        &self.client
    }

    pub fn channel(&self) -> &ChannelId {
        &self.channel
    }

    /// What each applied batch changed, for the app to refresh its views.
    pub fn subscribe(&self) -> broadcast::Receiver<Changes> {
        self.notices.subscribe()
    }

    /// The connection and the outbox, as they change.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// Sets the connection (when given) and recounts the outbox.
    async fn publish(&self, connection: Option<Connection>) {
        let counts = self.store.outbox_counts().await;
        self.status.send_if_modified(|status| {
            let before = status.clone();
            if let Some(connection) = connection {
                status.connection = connection;
            }
            if let Ok((waiting, refused)) = counts {
                status.waiting = waiting;
                status.refused = refused;
            }
            *status != before
        });
    }

    fn connection(&self) -> Connection {
        self.status.borrow().connection.clone()
    }

    /// Queues an op and wakes the outbox; it reaches the relay as soon as it can.
    pub async fn submit(&self, op: &Operation, now: UnixMillis) -> Result<OpId> {
        let op_id = self.store.enqueue(op, now).await?;
        self.publish(None).await;
        self.outbox.notify_one();
        Ok(op_id)
    }

    /// Appends an op that is worth something only now (the typing animation): straight to
    /// the relay, never queued to go out later. False when the relay could not be reached.
    pub async fn append_now(&self, op: &Operation) -> Result<bool> {
        tsunagi_domain::validate::operation(op)?;
        match self.client.append(&self.channel, OpId::new(), op).await {
            Ok(_) => Ok(true),
            Err(error) if error.is_transient() => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Appends an op straight to the relay and pulls it into the store, for changes that
    /// must be answered now (a setting, a follower sync, a reminder): a refusal, such as a
    /// staff desk's, is heard here, and nothing waits in the outbox to go out again. The
    /// op's id and its place in the log.
    pub async fn append_and_pull(&self, op: &Operation) -> Result<(OpId, Seq)> {
        tsunagi_domain::validate::operation(op)?;
        let op_id = OpId::new();
        let seq = self.client.append(&self.channel, op_id, op).await?;
        self.pull().await?;
        Ok((op_id, seq))
    }

    /// Sends a refused op again (after whatever made the relay refuse it has changed).
    pub async fn retry(&self, op_id: OpId) -> Result<()> {
        self.store.unrefuse(op_id).await?;
        self.publish(None).await;
        self.outbox.notify_one();
        Ok(())
    }

    /// Drops an op that has not reached the log (one the relay refused, or one waiting
    /// offline that its author takes back).
    pub async fn discard(&self, op_id: OpId) -> Result<()> {
        self.store.discard(op_id).await?;
        self.publish(None).await;
        Ok(())
    }

    /// Applies a batch and tells subscribers what changed.
    async fn apply(&self, entries: &[Entry]) -> Result<Seq> {
        // Live only if the desk was already in step before this batch: the batch that
        // finishes a catch-up is still old news.
        let live = self.connection() == Connection::Online;
        let changes = self.store.apply(entries).await?;
        self.store.index_search().await?;
        if changes.erased {
            self.delete_erased_media().await;
        }
        // Someone enrolled since the directory was read: learn their name (asking the relay
        // once per unknown device, in case it does not list them).
        let unknown = self.store.unknown_operators(&changes.devices).await?;
        let new: Vec<DeviceId> = {
            let mut asked = self
                .asked_about
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            unknown
                .into_iter()
                .filter(|d| asked.insert(d.clone()))
                .collect()
        };
        if !new.is_empty()
            && let Err(error) = self.refresh_operators().await
        {
            tracing::debug!(%error, "the operator list could not be read; names come later");
        }
        let cursor = changes.cursor;
        if let Connection::CatchingUp { head, .. } = self.connection() {
            let caught_up = cursor.0 >= head;
            self.publish(Some(if caught_up {
                Connection::Online
            } else {
                Connection::CatchingUp {
                    applied: cursor.0,
                    head,
                }
            }))
            .await;
        }
        if !changes.is_empty() {
            let mut changes = changes;
            changes.live = live;
            let _ = self.notices.send(changes);
        }
        Ok(cursor)
    }

    /// Reads pages until the store is at the log's head; the head reached.
    pub async fn pull(&self) -> Result<Seq> {
        loop {
            let cursor = self.store.cursor().await?;
            let page = self
                .client
                .log_page(&self.channel, cursor, self.options.batch, None)
                .await?;
            if page.entries.is_empty() {
                return Ok(cursor);
            }
            self.apply(&page.entries).await?;
        }
    }

    /// Sends every op in the outbox, oldest first; the number sent. Stops at the first
    /// that fails for a reason that may pass (the relay is out of reach); one the relay
    /// refuses is marked and skipped.
    pub async fn push(&self) -> Result<usize> {
        let result = self.push_all().await;
        self.publish(None).await;
        result
    }

    async fn push_all(&self) -> Result<usize> {
        let mut sent = 0;
        while let Some((op_id, op)) = self.store.next_pending().await? {
            match self.client.append(&self.channel, op_id, &op).await {
                Ok(_) => {
                    self.store.delivered(op_id).await?;
                    sent += 1;
                }
                Err(error) if error.is_transient() => {
                    self.store
                        .not_delivered(op_id, &error.to_string(), false)
                        .await?;
                    return Err(error.into());
                }
                Err(error) => {
                    tracing::warn!(%op_id, %error, "the relay refused an op");
                    self.store
                        .not_delivered(op_id, &error.to_string(), true)
                        .await?;
                }
            }
        }
        Ok(sent)
    }

    /// Updates the operator directory from the relay.
    pub async fn refresh_operators(&self) -> Result<()> {
        let operators = self.client.operators(&self.channel).await?;
        self.store.set_operators(&operators).await
    }

    /// Pushes the outbox and follows the log until `shutdown` resolves.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tokio::select! {
            () = shutdown => Ok(()),
            result = self.follow_log() => result,
            () = self.flow_outbox() => Ok(()),
        }
    }

    async fn flow_outbox(&self) {
        let mut backoff = Backoff::new(&self.options);
        loop {
            // A desk not in step with the log reads it first: what it queued while away may
            // be about a patient erased meanwhile, and the erase, applied, takes it back.
            // (Out of reach, the push says so for each op waiting.)
            if self.connection() != Connection::Online
                && let Err(error) = self.pull().await
            {
                tracing::debug!(%error, "reading the log before sending the outbox");
            }
            match self.push().await {
                Ok(_) => {
                    backoff.reset();
                    // Woken by a new op, or retried now and then in case one was missed.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(30), self.outbox.notified()).await;
                }
                Err(error) => {
                    tracing::debug!(%error, "the outbox waits for the relay");
                    backoff.wait().await;
                }
            }
        }
    }

    /// Follows the log for as long as it is called; returns only on an error no retry
    /// can fix (a revoked device, a store that fails).
    async fn follow_log(&self) -> Result<()> {
        let mut backoff = Backoff::new(&self.options);
        let mut poll_until: Option<tokio::time::Instant> = None;
        let mut failures = 0;
        let _ = self.refresh_operators().await;
        loop {
            let polling = poll_until.is_some_and(|until| tokio::time::Instant::now() < until);
            let result = if polling {
                self.poll_once().await.map(|_| true)
            } else {
                self.stream_once(&mut poll_until).await
            };
            match result {
                Ok(true) => {
                    failures = 0;
                    backoff.reset();
                }
                Ok(false) => backoff.wait().await,
                Err(Error::Relay(error)) if error.is_transient() => {
                    tracing::debug!(%error, "the log is out of reach; retrying");
                    failures += 1;
                    let connection = if failures >= OFFLINE_AFTER {
                        Connection::Offline
                    } else {
                        Connection::Reconnecting
                    };
                    self.publish(Some(connection)).await;
                    backoff.wait().await;
                }
                Err(error) => {
                    self.publish(Some(Connection::Stopped {
                        reason: error.to_string(),
                    }))
                    .await;
                    return Err(error);
                }
            }
        }
    }

    /// One long-poll, applied.
    async fn poll_once(&self) -> Result<()> {
        let cursor = self.store.cursor().await?;
        let page = self
            .client
            .log_page(
                &self.channel,
                cursor,
                self.options.batch,
                Some(self.options.poll_wait),
            )
            .await?;
        let reached = page.entries.last().map_or(cursor.0, |e| e.seq.0);
        self.publish(Some(if reached >= page.head.0 {
            Connection::Online
        } else {
            Connection::CatchingUp {
                applied: cursor.0,
                head: page.head.0,
            }
        }))
        .await;
        self.apply(&page.entries).await?;
        Ok(())
    }

    /// One stream, read until it ends. True if it delivered anything (so a reconnect need
    /// not wait).
    async fn stream_once(&self, poll_until: &mut Option<tokio::time::Instant>) -> Result<bool> {
        let cursor = self.store.cursor().await?;
        let mut stream = self
            .client
            .stream(&self.channel, cursor, self.options.dead_after)
            .await?;
        // Connected: how far behind is this desk?
        let head = self.client.channels().await.ok().and_then(|channels| {
            channels
                .into_iter()
                .find(|c| c.channel_id == self.channel)
                .map(|c| c.head)
        });
        let connection = match head {
            Some(head) if head.0 > cursor.0 => Connection::CatchingUp {
                applied: cursor.0,
                head: head.0,
            },
            _ => Connection::Online,
        };
        self.publish(Some(connection)).await;
        let mut delivered = false;
        loop {
            let first = match stream.next().await {
                Ok(Some(entry)) => entry,
                Ok(None) => return Ok(delivered),
                Err(relay::Error::DeadStream(silent)) => {
                    if !stream.heard_from() {
                        tracing::info!(
                            ?silent,
                            "the log stream never came through; long-polling for a while"
                        );
                        *poll_until = Some(tokio::time::Instant::now() + self.options.poll_for);
                    }
                    return Ok(delivered);
                }
                Err(error) => return Err(error.into()),
            };
            // Whatever else has already arrived joins the batch.
            let mut batch = vec![first];
            while batch.len() < self.options.batch as usize {
                match stream.next().now_or_never() {
                    Some(Ok(Some(entry))) => batch.push(entry),
                    _ => break,
                }
            }
            self.apply(&batch).await?;
            delivered = true;
        }
    }

    /// Appends one op now and waits until this desk has applied it; its place in the log.
    /// For commands that must not return before their op is in the log. If the relay is
    /// out of reach, the op stays in the outbox and goes out later.
    pub async fn submit_and_wait(&self, op: &Operation, now: UnixMillis) -> Result<(OpId, Seq)> {
        let op_id = self.store.enqueue(op, now).await?;
        Ok((op_id, Seq(self.settle(op_id).await?.seq)))
    }

    /// Pushes what waits in the outbox and waits until the op `op_id` (queued earlier) is
    /// in the log and applied here; its record in the audit. Refused by the relay is an
    /// error with the relay's reason; out of reach, the op stays queued.
    pub async fn settle(&self, op_id: OpId) -> Result<AuditRecord> {
        self.push().await?;
        if let Some(refused) = self
            .store
            .pending()
            .await?
            .into_iter()
            .find(|p| p.op_id == op_id)
        {
            return Err(Error::Invalid(
                refused
                    .last_error
                    .unwrap_or_else(|| "the relay refused the op".into()),
            ));
        }
        self.pull().await?;
        self.store
            .op_outcome(op_id)
            .await?
            .ok_or_else(|| Error::missing(format!("op {op_id} is not in the log after a pull")))
    }
}
