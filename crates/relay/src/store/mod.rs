//! The log's storage, behind one trait so a Postgres backend can follow the SQLite one
//! without touching the handlers.

mod sqlite;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use serde_json::value::RawValue;
use tokio::sync::watch;
use tsunagi_line::{ChannelId, UserId, WebhookEventId};
use tsunagi_proto::{DeviceId, Entry, OpId, Seq, UnixMillis};

pub use self::sqlite::SqliteStore;
use crate::secret::Sealed;

/// Something to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub at: UnixMillis,
    pub body: NewBody,
}

#[derive(Debug, Clone)]
pub enum NewBody {
    /// A LINE webhook event, exactly as received. Without an id it cannot be deduplicated,
    /// but it is still kept.
    Line {
        destination: UserId,
        webhook_event_id: Option<WebhookEventId>,
        event: Box<RawValue>,
    },
    /// An operation, already checked against the operation types.
    Op {
        op_id: OpId,
        device: DeviceId,
        op: Box<RawValue>,
    },
}

/// Where an appended entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Written now, at this seq.
    New(Seq),
    /// Already in the log (same webhook event id or idempotency key), at this seq.
    Existing(Seq),
}

impl Appended {
    pub fn seq(self) -> Seq {
        match self {
            Appended::New(seq) | Appended::Existing(seq) => seq,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("there is no channel {0}")]
    UnknownChannel(ChannelId),
    #[error("channel {0} exists already")]
    ChannelExists(ChannelId),
    /// The storage failed; nothing of the request was written.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored log is damaged: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The log of every channel.
///
/// `append` returns only once its entries are durable (committed and synced); a failed
/// append wrote nothing. Seqs are 1, 2, 3… per channel with no gaps, in commit order.
pub trait LogStore: Send + Sync + 'static {
    fn add_channel(
        &self,
        channel: &ChannelId,
        secret: &Sealed,
        at: UnixMillis,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The channel's sealed secret, if the channel exists.
    fn channel_secret(
        &self,
        channel: &ChannelId,
    ) -> impl Future<Output = Result<Option<Sealed>>> + Send;

    /// Appends in order. Entries already logged are not appended again: their place in
    /// the log is returned instead.
    fn append(
        &self,
        channel: &ChannelId,
        entries: Vec<NewEntry>,
    ) -> impl Future<Output = Result<Vec<Appended>>> + Send;

    /// Up to `limit` entries after `after`, in order.
    fn read(
        &self,
        channel: &ChannelId,
        after: Seq,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Entry>>> + Send;

    /// The newest seq of a channel's log.
    fn head(&self, channel: &ChannelId) -> impl Future<Output = Result<Seq>> + Send;

    /// Follows a channel's head as entries are committed.
    fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq>;
}

/// The newest committed seq of each channel, for readers that wait for more.
#[derive(Debug, Default)]
pub(crate) struct Heads(Mutex<HashMap<ChannelId, watch::Sender<Seq>>>);

impl Heads {
    pub(crate) fn subscribe(&self, channel: &ChannelId, current: Seq) -> watch::Receiver<Seq> {
        let mut heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads
            .entry(channel.clone())
            .or_insert_with(|| watch::channel(current).0)
            .subscribe()
    }

    /// Called after a commit: readers waiting on this channel wake.
    pub(crate) fn advance(&self, channel: &ChannelId, head: Seq) {
        let heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(sender) = heads.get(channel) {
            sender.send_if_modified(|current| {
                let newer = head > *current;
                if newer {
                    *current = head;
                }
                newer
            });
        }
    }
}
