//! How soon a restarted executor acts on a channel whose log has 1,000,000 entries: from its
//! newest snapshot (what it does), and folding the whole log from the first entry (what it
//! did before snapshots), for comparison. Run with `cargo xtask bench` (or
//! `cargo bench -p tsunagi-relay --bench restart`); `TSUNAGI_BENCH_ENTRIES` and
//! `TSUNAGI_BENCH_CONTACTS` scale it.

// A benchmark's output is its result.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tsunagi_domain::automation::Bot;
use tsunagi_line::ChannelId;
use tsunagi_linesim::{Config, Simulator};
use tsunagi_proto::testing::{ClinicLog, env_number};
use tsunagi_proto::{EXECUTOR_DEVICE, Entry, EntryBody, UnixMillis};
use tsunagi_relay::Relay;
use tsunagi_relay::executor::{self, Options};
use tsunagi_relay::line_setup::LineSetup;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::{Fence, LogStore as _, NewEntry, SqliteStore};

const CHANNEL: &str = "1656789012";
const SECRET: &str = "bench-secret";
const BATCH: usize = 1_000;

/// The time from starting an executor to its first op in the log.
async fn until_it_acts(
    relay: &Arc<Relay<SqliteStore>>,
    line: &LineSetup,
    holder: &str,
) -> Duration {
    let channel = ChannelId::from(CHANNEL);
    let head = relay.store.head(&channel).await.unwrap();
    let started = Instant::now();
    let running = tokio::spawn(executor::run(
        relay.clone(),
        line.clone(),
        Options {
            holder: holder.into(),
            lease: Duration::from_secs(5),
            ..Options::default()
        },
    ));
    let mut heads = relay.store.subscribe(&channel);
    loop {
        let entries = relay.store.read(&channel, head, 10).await.unwrap();
        if entries
            .iter()
            .any(|e| matches!(&e.body, EntryBody::Op { device, .. } if device.as_str() == EXECUTOR_DEVICE))
        {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(100), heads.changed()).await;
    }
    let took = started.elapsed();
    running.abort();
    let _ = running.await;
    took
}

#[tokio::main]
async fn main() {
    let total = env_number("TSUNAGI_BENCH_ENTRIES", 1_000_000);
    let contacts = env_number("TSUNAGI_BENCH_CONTACTS", 100_000).min(total / 2);
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
    println!("executor restart: a log of {total} entries, {contacts} contacts (SQLite)");

    // The log, and the bot that folded it (as a running executor would have).
    let mut log = ClinicLog::new(contacts);
    let mut bot = Bot::new();
    let mut written = 0;
    let setup = Instant::now();
    for from in (0..contacts).step_by(BATCH) {
        let entries = log.follows(from, (from + BATCH).min(contacts));
        written += entries.len();
        for entry in &entries {
            bot.apply(entry);
        }
        let batch = entries
            .iter()
            .map(|e| NewEntry::copy_of(e).unwrap())
            .collect();
        relay.store.append(&channel, batch).await.unwrap();
    }
    let mut n = 0;
    while written < total {
        let entries: Vec<Entry> = (0..BATCH.min(total - written))
            .map(|_| {
                n += 1;
                log.message(n)
            })
            .collect();
        written += entries.len();
        for entry in &entries {
            bot.apply(entry);
        }
        let batch = entries
            .iter()
            .map(|e| NewEntry::copy_of(e).unwrap())
            .collect();
        relay.store.append(&channel, batch).await.unwrap();
    }
    let head = relay.store.head(&channel).await.unwrap();
    println!(
        "  set up in {:.1} s (head {head})",
        setup.elapsed().as_secs_f64()
    );

    // The executor had acted up to the head and kept a snapshot there.
    let now = UnixMillis(log.now().0);
    let until = UnixMillis(now.0 + 1);
    assert!(
        relay
            .store
            .lease_executor(&channel, "before", UnixMillis(0), until)
            .await
            .unwrap()
    );
    relay
        .store
        .move_executor_cursor(&channel, "before", head, UnixMillis(0))
        .await
        .unwrap();
    let saving = Instant::now();
    let state = bot.snapshot();
    let size = state.len();
    relay
        .store
        .save_executor_snapshot(
            &channel,
            Fence {
                holder: "before".into(),
                now: UnixMillis(0),
            },
            head,
            state,
        )
        .await
        .unwrap();
    println!(
        "  a snapshot of {:.1} MB, made and saved in {} ms",
        size as f64 / 1e6,
        saving.elapsed().as_millis()
    );
    relay
        .store
        .release_executor(&channel, "before")
        .await
        .unwrap();

    let sim = Simulator::new(Config::new(CHANNEL, SECRET, "long-lived"));
    let address = sim
        .clone()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let line = LineSetup {
        api_base: format!("http://{address}"),
        data_base: format!("http://{address}"),
        public_url: "http://127.0.0.1:9".into(),
    };
    let from_snapshot = until_it_acts(&relay, &line, "restarted").await;
    relay
        .store
        .release_executor(&channel, "restarted")
        .await
        .unwrap();
    println!(
        "  restart to its first act, from the snapshot: {} ms (target ≤ 2000 ms)",
        from_snapshot.as_millis()
    );

    // The same restart without the snapshot: the whole log folded first.
    {
        use sqlx::Connection as _;
        let url = format!("sqlite://{}", dir.path().join("relay.db").display());
        let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM executor_snapshots")
            .execute(&mut db)
            .await
            .unwrap();
    }
    let from_log = until_it_acts(&relay, &line, "folding").await;
    println!(
        "  restart to its first act, folding the whole log: {} ms",
        from_log.as_millis()
    );
}
