//! Durable ingest and webhook → reader latency, on this machine's disk: on SQLite, on
//! PostgreSQL with one relay, and with three relays on the one database (webhooks and
//! readers spread over them, so a reader mostly hears of a commit made by another relay).
//! Run with `cargo xtask bench` (or `cargo bench -p tsunagi-relay --bench ingest`).
//!
//! Clients, relays and the PostgreSQL server share this machine's cores, so the numbers
//! are a floor. The three relays are three stores (each its own connections, log writer and
//! listener) serving on three ports of this process. Every acknowledged webhook was
//! committed durably first (`synchronous=FULL`; PostgreSQL with fsync and synchronous
//! commit on, its defaults).

// A benchmark's output is its result.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::api::Role;
use tsunagi_relay::Relay;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::{AnyStore, PgStore, SqliteStore};
use tsunagi_relay::testing::TestPostgres;

const CHANNEL: &str = "1656789012";
const SECRET: &str = "bench-secret";

struct Target {
    /// The relays, taken in turn.
    bases: Vec<String>,
    http: reqwest::Client,
    token: String,
    started: Instant,
    next_id: AtomicUsize,
}

impl Target {
    /// Posts a signed webhook with `events` events whose text carries the send time.
    async fn post(&self, events: usize) -> Duration {
        let sent = Instant::now();
        let at = sent.duration_since(self.started).as_micros();
        let list: Vec<String> = (0..events)
            .map(|_| {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                format!(
                    r#"{{"type":"message","message":{{"type":"text","id":"{id}","text":"sent={at}"}},"webhookEventId":"01BENCH{id:019}","deliveryContext":{{"isRedelivery":false}},"timestamp":1767225600000,"source":{{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"}},"replyToken":"r","mode":"active"}}"#
                )
            })
            .collect();
        let body = format!(
            r#"{{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[{}]}}"#,
            list.join(",")
        );
        let base = &self.bases[self.next_id.load(Ordering::Relaxed) % self.bases.len()];
        let response = self
            .http
            .post(format!("{base}/webhook/line/{CHANNEL}"))
            .header("x-line-signature", sign(SECRET.as_bytes(), body.as_bytes()))
            .body(body)
            .send()
            .await
            .expect("the relay answers");
        assert_eq!(
            response.status().as_u16(),
            200,
            "the relay refused a webhook"
        );
        sent.elapsed()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
}

/// What the relays run on.
#[derive(Clone, Copy)]
enum Setup {
    Sqlite,
    Postgres { relays: usize },
}

impl std::fmt::Display for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Setup::Sqlite => write!(f, "SQLite (WAL, synchronous=FULL), 1 relay"),
            Setup::Postgres { relays: 1 } => write!(f, "PostgreSQL, 1 relay"),
            Setup::Postgres { relays } => write!(f, "PostgreSQL, {relays} relays on one database"),
        }
    }
}

/// The relays of a setup, serving, with the channel and an owner's device; and what must
/// live as long as they do.
async fn start(setup: Setup) -> anyhow::Result<(Arc<Target>, Vec<Arc<Relay<AnyStore>>>, Keep)> {
    let dir = tempfile::tempdir()?;
    let key = RelayKey::generate();
    let (stores, server) = match setup {
        Setup::Sqlite => (
            vec![AnyStore::Sqlite(
                SqliteStore::open(&dir.path().join("relay.db")).await?,
            )],
            None,
        ),
        Setup::Postgres { relays } => {
            let server = TestPostgres::start().await;
            let url = server.new_database().await;
            let mut stores = Vec::new();
            for _ in 0..relays {
                stores.push(AnyStore::Postgres(PgStore::connect(&url).await?));
            }
            (stores, Some(server))
        }
    };
    let channel = ChannelId::from(CHANNEL);
    let mut relays = Vec::new();
    let mut bases = Vec::new();
    for store in stores {
        let relay = Arc::new(Relay::new(store, key.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        bases.push(format!("http://{}", listener.local_addr()?));
        // All readers here use the one device.
        let options = tsunagi_relay::http::Options {
            streams_per_device: 64,
            ..tsunagi_relay::http::Options::default()
        };
        let router = tsunagi_relay::http::router_with(relay.clone(), options);
        tokio::spawn(async move { axum::serve(listener, router).await });
        relays.push(relay);
    }
    relays[0]
        .add_channel(&channel, ChannelSecret::new(SECRET))
        .await?;
    let invited = relays[0].invite(&channel, Role::Owner, None).await?;
    let http = reqwest::Client::new();
    let enrolled: tsunagi_proto::api::Enrolled = http
        .post(format!("{}/v1/enroll", bases[0]))
        .json(&serde_json::json!({"code": invited.code, "device_name": "bench", "operator_name": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let target = Arc::new(Target {
        bases,
        http,
        token: enrolled.token,
        started: Instant::now(),
        next_id: AtomicUsize::new(0),
    });
    Ok((
        target,
        relays,
        Keep {
            _dir: dir,
            _server: server,
        },
    ))
}

/// The setup's files and database server.
struct Keep {
    _dir: tempfile::TempDir,
    _server: Option<TestPostgres>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("relay ingest on this machine: every 200 follows a durable commit, group commit");
    for setup in [
        Setup::Sqlite,
        Setup::Postgres { relays: 1 },
        Setup::Postgres { relays: 3 },
    ] {
        let (target, relays, keep) = start(setup).await?;
        println!("{setup}");
        measure(&target).await;
        for relay in relays {
            relay.close();
        }
        drop(keep);
    }
    Ok(())
}

async fn measure(target: &Arc<Target>) {
    for (events_per_post, clients) in [(1, 64), (10, 64)] {
        let (events, elapsed) =
            saturate(target, clients, events_per_post, Duration::from_secs(5)).await;
        println!(
            "  saturated, {clients} clients, {events_per_post:>2} event(s)/webhook: {:>8.0} durable events/s",
            events as f64 / elapsed.as_secs_f64()
        );
    }
    for rate in [100, 1_000] {
        let mut latencies = fixed_rate(target, rate, Duration::from_secs(5)).await;
        latencies.sort_unstable();
        println!(
            "  {rate:>5} webhooks/s: p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests)",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            latencies.len()
        );
    }
    let mut delays = to_readers(target, 20, 200, Duration::from_secs(5)).await;
    delays.sort_unstable();
    println!(
        "  webhook → SSE, 20 readers, 200 webhooks/s: p50 {:.2} ms  p99 {:.2} ms  ({} deliveries)",
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays.len()
    );
}

/// As many webhooks as `clients` can post for `duration`; returns events and time taken.
async fn saturate(
    target: &Arc<Target>,
    clients: usize,
    events_per_post: usize,
    duration: Duration,
) -> (usize, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (target, stop) = (target.clone(), stop.clone());
            tokio::spawn(async move {
                let mut events = 0;
                while !stop.load(Ordering::Relaxed) {
                    target.post(events_per_post).await;
                    events += events_per_post;
                }
                events
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut events = 0;
    for task in tasks {
        events += task.await.unwrap_or(0);
    }
    (events, started.elapsed())
}

/// Webhooks at a fixed rate (open loop); each one's time to a durable 200.
async fn fixed_rate(target: &Arc<Target>, rate: u32, duration: Duration) -> Vec<Duration> {
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let count = (rate as u64 * duration.as_secs()) as usize;
    let mut tasks = Vec::with_capacity(count);
    for _ in 0..count {
        ticker.tick().await;
        let target = target.clone();
        tasks.push(tokio::spawn(async move { target.post(1).await }));
    }
    let mut latencies = Vec::with_capacity(count);
    for task in tasks {
        if let Ok(latency) = task.await {
            latencies.push(latency);
        }
    }
    latencies
}

/// `readers` SSE streams; webhooks at `rate`; the delay from sending each webhook to each
/// reader receiving its entry.
async fn to_readers(
    target: &Arc<Target>,
    readers: usize,
    rate: u32,
    duration: Duration,
) -> Vec<Duration> {
    let page: tsunagi_proto::api::LogPage = target
        .http
        .get(format!(
            "{}/v1/channels/{CHANNEL}/log?after=0&limit=1",
            target.bases[0]
        ))
        .bearer_auth(&target.token)
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("page");
    let from = page.head.0;
    let expected = (rate as u64 * duration.as_secs()) as usize;
    let tasks: Vec<_> = (0..readers)
        .map(|reader| {
            let target = target.clone();
            tokio::spawn(async move {
                let base = &target.bases[reader % target.bases.len()];
                let mut response = target
                    .http
                    .get(format!("{base}/v1/channels/{CHANNEL}/log?after={from}"))
                    .bearer_auth(&target.token)
                    .header("accept", "text/event-stream")
                    .send()
                    .await
                    .expect("stream");
                let mut delays = Vec::with_capacity(expected);
                let mut buffer = String::new();
                while delays.len() < expected {
                    let Ok(Some(chunk)) = response.chunk().await else {
                        break;
                    };
                    let now = target.started.elapsed().as_micros();
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if let Some(start) = block.find("sent=") {
                            let digits: String = block[start + 5..]
                                .chars()
                                .take_while(char::is_ascii_digit)
                                .collect();
                            if let Ok(sent) = digits.parse::<u128>() {
                                let micros = now.saturating_sub(sent);
                                delays.push(Duration::from_micros(micros as u64));
                            }
                        }
                    }
                }
                delays
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fixed_rate(target, rate, duration).await;
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}
