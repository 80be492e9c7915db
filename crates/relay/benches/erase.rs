//! How long the relay's log writer is held by an erase (every entry of the channel read and
//! judged in the transaction that logs it) and by a night's purge (the first night reads the
//! log up to its cutoffs; a night after reads from the night before's on), on a log of
//! 1,000,000 entries. Run with `cargo xtask bench` (or
//! `cargo bench -p tsunagi-relay --bench erase`); `TSUNAGI_BENCH_ENTRIES` and
//! `TSUNAGI_BENCH_CONTACTS` scale it.

// A benchmark's output is its result.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::testing::{ClinicLog, env_number, user};
use tsunagi_proto::{Cutoffs, DeviceId, EXECUTOR_DEVICE, Entry, OpId, Operation, UnixMillis};
use tsunagi_relay::secret::Sealed;
use tsunagi_relay::store::{LogStore as _, NewBody, NewEntry, SqliteStore};

const CHANNEL: &str = "1656789012";
const BATCH: usize = 1_000;

/// Appends `op` as `device`; how long the append took.
async fn logging(store: &SqliteStore, device: &str, op: &Operation, at: UnixMillis) -> Duration {
    let op = RawValue::from_string(serde_json::to_string(op).unwrap()).unwrap();
    let entry = NewEntry {
        at,
        body: NewBody::Op {
            op_id: OpId::new(),
            device: DeviceId::from(device),
            role: None,
            op,
        },
    };
    let started = Instant::now();
    store
        .append(&ChannelId::from(CHANNEL), vec![entry])
        .await
        .unwrap();
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let total = env_number("TSUNAGI_BENCH_ENTRIES", 1_000_000);
    let contacts = env_number("TSUNAGI_BENCH_CONTACTS", 100_000).min(total / 2);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("relay.db"))
        .await
        .unwrap();
    let channel = ChannelId::from(CHANNEL);
    let secret = Sealed {
        nonce: vec![0; 24],
        ciphertext: vec![0; 48],
    };
    store
        .add_channel(&channel, &secret, UnixMillis(0))
        .await
        .unwrap();
    println!("erase and the night's purge: a log of {total} entries, {contacts} contacts (SQLite)");

    let mut log = ClinicLog::new(contacts);
    let mut written = 0;
    let setup = Instant::now();
    let append = async |entries: Vec<Entry>| {
        let batch = entries
            .iter()
            .map(|e| NewEntry::copy_of(e).unwrap())
            .collect();
        store.append(&channel, batch).await.unwrap();
    };
    for from in (0..contacts).step_by(BATCH) {
        let entries = log.follows(from, (from + BATCH).min(contacts));
        written += entries.len();
        append(entries).await;
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
        append(entries).await;
    }
    println!("  set up in {:.1} s", setup.elapsed().as_secs_f64());
    let (first, last) = (1_767_225_600_000_i64, log.now().0);
    let at_part = |part: f64| UnixMillis(first + ((last - first) as f64 * part) as i64);

    let erase = Operation::Erase {
        contact: UserId::new(user(7)),
    };
    let took = logging(&store, "d-owner", &erase, log.now()).await;
    println!(
        "  an erase: the writer held {:.0} ms",
        took.as_secs_f64() * 1000.0
    );
    for (night, part) in [
        ("a first night's purge (half the log)", 0.5),
        ("the next night's", 0.6),
    ] {
        let expire = Operation::Expire {
            before: Cutoffs {
                messages: Some(at_part(part)),
                audit: Some(at_part(part)),
                ..Cutoffs::default()
            },
            held: vec![UserId::new(user(8))],
        };
        let took = logging(&store, EXECUTOR_DEVICE, &expire, log.now()).await;
        println!(
            "  {night}: the writer held {:.0} ms",
            took.as_secs_f64() * 1000.0
        );
    }
}
