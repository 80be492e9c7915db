//! A follower sync of 100,000 followers against linesim at LINE's real rate limits, compared
//! with the least time those limits allow. Run with `cargo xtask bench` (or
//! `cargo bench -p tsunagi-relay --bench followers`); `TSUNAGI_BENCH_FOLLOWERS` scales it.
//!
//! The limits: follower ids come 1,000 a page and profiles one a call, each endpoint a
//! token bucket of 2,000 calls a second that starts full (as LINE's and linesim's do). So a
//! sync cannot take less than (calls − 2,000) / 2,000 seconds per endpoint.

// A benchmark's output is its result.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tsunagi_line::ChannelId;
use tsunagi_linesim::{Config, Simulator};
use tsunagi_proto::{DeviceId, EntryBody, LoggedOp, OpId, Operation, Seq, SyncOutcome};
use tsunagi_relay::Relay;
use tsunagi_relay::executor::{self, Options};
use tsunagi_relay::line_setup::LineSetup;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::{LogStore as _, NewBody, NewEntry, SqliteStore};

const CHANNEL: &str = "1656789012";
const SECRET: &str = "bench-secret";
/// LINE's limit on both calls a sync makes, per second.
const CALLS_PER_SECOND: f64 = 2_000.0;

#[tokio::main]
async fn main() {
    let followers: usize = std::env::var("TSUNAGI_BENCH_FOLLOWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut config = Config::new(CHANNEL, SECRET, "long-lived");
    config.users = tsunagi_linesim::population::followers(followers, 3);
    config.rate_scale = Some(1.0);
    let sim = Simulator::new(config);
    let address = sim
        .clone()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let relay = Arc::new(Relay::new(
        SqliteStore::open(&dir.path().join("relay.db"))
            .await
            .unwrap(),
        RelayKey::generate(),
    ));
    let channel = ChannelId::from(CHANNEL);
    relay
        .add_channel(&channel, ChannelSecret::new(SECRET))
        .await
        .unwrap();
    let line = LineSetup {
        api_base: format!("http://{address}"),
        data_base: format!("http://{address}"),
        public_url: "http://127.0.0.1:9".into(),
    };
    tokio::spawn(executor::run(relay.clone(), line, Options::default()));

    println!("follower sync: {followers} followers, LINE's rate limits (linesim)");
    let started = Instant::now();
    let op =
        RawValue::from_string(serde_json::to_string(&Operation::SyncFollowers).unwrap()).unwrap();
    relay
        .store
        .append(
            &channel,
            vec![NewEntry {
                at: tsunagi_proto::UnixMillis::now(),
                body: NewBody::Op {
                    op_id: OpId::new(),
                    device: DeviceId::from("d-owner"),
                    role: None,
                    op,
                },
            }],
        )
        .await
        .unwrap();
    let mut read = Seq(0);
    let mut head = relay.store.subscribe(&channel);
    let total = 'sync: loop {
        for entry in relay.store.read(&channel, read, 1_000).await.unwrap() {
            read = entry.seq;
            if let EntryBody::Op {
                op: LoggedOp::Known(Operation::FollowerSyncDone { outcome, .. }),
                ..
            } = entry.body
            {
                match outcome {
                    SyncOutcome::Done { total } => break 'sync total,
                    other => panic!("the sync did not finish: {other:?}"),
                }
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), head.changed()).await;
    };
    let took = started.elapsed().as_secs_f64();
    assert_eq!(total, followers as u64);
    let pages = followers.div_ceil(1_000);
    let least = |calls: usize| (calls as f64 - CALLS_PER_SECOND).max(0.0) / CALLS_PER_SECOND;
    let allowed = least(pages) + least(followers);
    println!(
        "  synced {total} profiles in {took:.1} s; the limits allow {allowed:.1} s: {:.3}× (target ≤ 1.2×)",
        took / allowed
    );
}
