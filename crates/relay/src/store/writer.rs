//! The log writer's side of an append: requests queued, grouped into commits and
//! answered, and the heads that readers waiting for more follow.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot, watch};
use tsunagi_line::ChannelId;
use tsunagi_proto::Seq;

use super::{Appended, Fence, NewEntry, Result, StoreError};

/// Most append requests one commit covers.
pub(super) const MAX_GROUP: usize = 512;

/// An append request waiting for the log writer, which answers it after the commit that
/// covers it.
pub(super) struct Append {
    pub(super) channel: ChannelId,
    pub(super) fence: Option<Fence>,
    pub(super) entries: Vec<NewEntry>,
    pub(super) answer: oneshot::Sender<Result<Vec<Appended>>>,
}

/// Hands an append to a log writer and waits for its answer.
pub(super) async fn queue_append(
    writer: &mpsc::Sender<Append>,
    channel: &ChannelId,
    fence: Option<Fence>,
    entries: Vec<NewEntry>,
) -> Result<Vec<Appended>> {
    let (answer, answered) = oneshot::channel();
    let append = Append {
        channel: channel.clone(),
        fence,
        entries,
        answer,
    };
    writer.send(append).await.map_err(|_| writer_stopped())?;
    answered.await.map_err(|_| writer_stopped())?
}

/// The next group for one commit: `first`, and whatever else is already waiting.
pub(super) fn take_group(first: Append, queue: &mut mpsc::Receiver<Append>) -> Vec<Append> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match queue.try_recv() {
            Ok(next) => group.push(next),
            Err(_) => break,
        }
    }
    group
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("the log writer has stopped".into())
}

/// The newest committed seq of each channel, for readers that wait for more.
#[derive(Debug, Default)]
pub(crate) struct Heads(Mutex<HashMap<ChannelId, watch::Sender<Seq>>>);

impl Heads {
    /// A watch on the channel's head. It starts at zero until the first commit after it
    /// is created; readers compare it with their own cursor, so that is enough.
    pub(crate) fn subscribe(&self, channel: &ChannelId) -> watch::Receiver<Seq> {
        let mut heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads
            .entry(channel.clone())
            .or_insert_with(|| watch::channel(Seq::ZERO).0)
            .subscribe()
    }

    /// The channels somebody follows.
    pub(crate) fn followed(&self) -> Vec<ChannelId> {
        let heads = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        heads.keys().cloned().collect()
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
