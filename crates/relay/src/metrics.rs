//! What `/metrics` reports, in Prometheus' text format.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tsunagi_line::ChannelId;
use tsunagi_proto::Seq;

type ChannelLabel = Vec<(&'static str, String)>;

/// The relay's counters, shared by the store and the handlers.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    ingested: Counter,
    ingest_seconds: Histogram,
    commit_group: Histogram,
    streams: Gauge,
    long_polls: Gauge,
    heads: Family<ChannelLabel, Gauge>,
    set_aside: Family<ChannelLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let ingested = Counter::default();
        let ingest_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 14));
        let commit_group = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        let streams = Gauge::default();
        let long_polls = Gauge::default();
        let heads = Family::<ChannelLabel, Gauge>::default();
        let set_aside = Family::<ChannelLabel, Counter>::default();
        let mut registry = Registry::with_prefix("tsunagi_relay");
        registry.register(
            "ingested_events",
            "LINE events newly stored (duplicates not counted)",
            ingested.clone(),
        );
        registry.register(
            "ingest_seconds",
            "Time from a webhook's arrival to its durable 200",
            ingest_seconds.clone(),
        );
        registry.register(
            "commit_group_requests",
            "Requests covered by one commit",
            commit_group.clone(),
        );
        registry.register(
            "streams_connected",
            "Open log streams (SSE)",
            streams.clone(),
        );
        registry.register(
            "long_polls_waiting",
            "Log reads (long-polls) waiting for a newer entry",
            long_polls.clone(),
        );
        registry.register(
            "channel_head",
            "The newest seq of each channel's log",
            heads.clone(),
        );
        registry.register(
            "executor_set_aside",
            "Times the executor set aside something it could not finish (a send, a reminder \
             part, an alert…), to try again later while the rest goes on",
            set_aside.clone(),
        );
        Self {
            registry,
            ingested,
            ingest_seconds,
            commit_group,
            streams,
            long_polls,
            heads,
            set_aside,
        }
    }
}

impl Metrics {
    pub(crate) fn ingested(&self, new_events: usize, took: Duration) {
        self.ingested.inc_by(new_events as u64);
        self.ingest_seconds.observe(took.as_secs_f64());
    }

    pub(crate) fn committed(&self, requests: usize) {
        self.commit_group.observe(requests as f64);
    }

    pub(crate) fn head(&self, channel: &ChannelId, head: Seq) {
        let label = vec![("channel", channel.to_string())];
        self.heads
            .get_or_create(&label)
            .set(i64::try_from(head.0).unwrap_or(i64::MAX));
    }

    pub(crate) fn set_aside(&self, channel: &ChannelId) {
        let label = vec![("channel", channel.to_string())];
        self.set_aside.get_or_create(&label).inc();
    }

    /// Counts an open stream until the guard is dropped.
    pub(crate) fn stream_opened(&self) -> Counted {
        Counted::new(&self.streams)
    }

    /// Counts a long-poll waiting for a newer entry until the guard is dropped.
    pub(crate) fn long_poll_waiting(&self) -> Counted {
        Counted::new(&self.long_polls)
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// One of what a gauge counts (an open stream, a waiting long-poll); the gauge goes down
/// when it ends.
#[derive(Debug)]
pub(crate) struct Counted(Gauge);

impl Counted {
    fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}
