//! The executor's lease on its channel: taken and renewed for this process's executors
//! together, renewed before a call to LINE, and carried by every append.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;

use super::{Executor, Failure};
use crate::relay::Relay;
use crate::store::{Fence, LogStore, StoreError};

/// Takes and renews the leases of this process's executors together: the executors that
/// ask within a moment of each other (those started together renew together) share one
/// write, so an idle relay with a thousand channels writes a few times per lease, not a
/// thousand.
#[derive(Clone)]
pub(super) struct Leases {
    asks: mpsc::Sender<(ChannelId, oneshot::Sender<Result<bool, StoreError>>)>,
}

/// How long the first ask waits for others to join it.
const LEASES_GATHER: Duration = Duration::from_millis(10);

impl Leases {
    pub(super) fn start<S: LogStore>(
        relay: Arc<Relay<S>>,
        holder: String,
        lease: Duration,
    ) -> Leases {
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

impl<S: LogStore> Executor<S> {
    /// Takes or renews this channel's lease.
    pub(super) async fn lease(&mut self) -> Result<bool, StoreError> {
        // Renewal is due a third of the lease after it was asked for: the write may come
        // a moment later, which only lengthens what remains.
        let asked = Instant::now();
        let held = self.leases.lease(&self.channel).await?;
        self.renew_at = asked + self.options.lease / 3;
        Ok(held)
    }

    /// Before a call to LINE: renews the lease once a third of it has passed, so that at
    /// least two thirds remain for a call given one third.
    pub(super) async fn keep_lease(&mut self) -> Result<(), Failure> {
        if Instant::now() >= self.renew_at && !self.lease().await? {
            return Err(Failure::Lost);
        }
        Ok(())
    }

    /// What an append must carry: this process's lease, now.
    pub(super) fn fence(&self) -> Fence {
        Fence {
            holder: self.options.holder.clone(),
            now: self.now(),
        }
    }
}
