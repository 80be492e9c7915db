//! The log as Server-Sent Events: catch-up from the store, then live.
//!
//! Each entry is one event with `id: <seq>`, so a client that reconnects with
//! `Last-Event-ID` continues where it stopped. The stream is pulled: the next entry is read
//! only when the client has taken the last one, so a stalled reader costs no memory. While
//! waiting for new entries it holds no database connection, only a watch on the head.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use tokio::sync::watch;
use tsunagi_line::ChannelId;
use tsunagi_proto::{DeviceId, Entry, Seq};

use crate::relay::Relay;
use crate::store::LogStore;

const PAGE: u32 = 500;

/// The log streams each device has open, in this process, within a cap.
#[derive(Debug, Clone)]
pub(crate) struct StreamSlots {
    open: Arc<std::sync::Mutex<std::collections::HashMap<DeviceId, usize>>>,
    per_device: usize,
}

/// One open stream of a device; the slot frees when the stream ends.
#[derive(Debug)]
pub(crate) struct Slot {
    open: Arc<std::sync::Mutex<std::collections::HashMap<DeviceId, usize>>>,
    device: DeviceId,
}

impl StreamSlots {
    pub(crate) fn new(per_device: usize) -> Self {
        Self {
            open: Arc::default(),
            per_device,
        }
    }

    /// A slot for one more stream of `device`, unless it has all it may.
    pub(crate) fn take(&self, device: &DeviceId) -> Option<Slot> {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(device.clone()).or_default();
        if *count >= self.per_device {
            return None;
        }
        *count += 1;
        Some(Slot {
            open: self.open.clone(),
            device: device.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.device) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.device);
            }
        }
    }
}

struct Cursor<S> {
    /// Counts this stream as connected while it lives.
    _open: crate::metrics::Counted,
    /// Holds one of the device's stream slots while it lives.
    _slot: Slot,
    relay: Arc<Relay<S>>,
    channel: ChannelId,
    /// The reader: its stream ends when it is revoked.
    device: DeviceId,
    after: Seq,
    head: watch::Receiver<Seq>,
    ready: VecDeque<Entry>,
}

/// The SSE response for a channel's log after `after` as `device` reads it, with a
/// comment every `heartbeat`. It ends when the device is revoked.
pub(crate) fn response<S: LogStore>(
    relay: Arc<Relay<S>>,
    channel: ChannelId,
    (device, slot): (DeviceId, Slot),
    after: Seq,
    heartbeat: Duration,
) -> Response {
    let head = relay.store.subscribe(&channel);
    let cursor = Cursor {
        _open: relay.store.metrics().stream_opened(),
        _slot: slot,
        relay,
        channel,
        device,
        after,
        head,
        ready: VecDeque::new(),
    };
    let sse =
        Sse::new(events(cursor)).keep_alive(KeepAlive::new().interval(heartbeat).text("heartbeat"));
    let mut response = sse.into_response();
    let headers = response.headers_mut();
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

fn events<S: LogStore>(cursor: Cursor<S>) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(entry) = cursor.ready.pop_front() {
                cursor.after = entry.seq;
                let data = match serde_json::to_string(&entry) {
                    Ok(data) => data,
                    Err(error) => {
                        tracing::error!(%error, seq = %entry.seq, "an entry would not serialize");
                        return None;
                    }
                };
                let event = Event::default().id(entry.seq.to_string()).data(data);
                return Some((Ok(event), cursor));
            }
            match cursor
                .relay
                .store
                .read(&cursor.channel, cursor.after, PAGE)
                .await
            {
                Ok(entries) if !entries.is_empty() => {
                    // Checked after reading: what was read was logged before any revoke
                    // not seen here.
                    if cursor
                        .relay
                        .is_revoked(&cursor.device)
                        .await
                        .unwrap_or(true)
                    {
                        return None;
                    }
                    cursor.ready.extend(entries);
                }
                Ok(_) => {
                    let after = cursor.after;
                    let relay = cursor.relay.clone();
                    let newer = tokio::select! {
                        newer = cursor.head.wait_for(|head| *head > after) => newer.is_ok(),
                        () = relay.closed() => false,
                        () = relay.until_revoked(&cursor.device) => false,
                    };
                    if !newer {
                        return None;
                    }
                }
                Err(error) => {
                    // The client reconnects and resumes from its last id.
                    tracing::warn!(%error, "ending a log stream");
                    return None;
                }
            }
        }
    })
}
