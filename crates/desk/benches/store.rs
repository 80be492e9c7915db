//! The desk's store at clinic scale: 100,000 contacts and 2,000,000 messages.
//!
//! `cargo xtask bench` (or `cargo bench -p tsunagi-desk --bench store`) reports the apply
//! rate, inbox and conversation page times, search p95, and the store's size: the
//! write-ahead log left after the catch-up, and where the database file's pages go, by
//! table and index (SQLite's `dbstat`).
//! `TSUNAGI_BENCH_MESSAGES` and `TSUNAGI_BENCH_CONTACTS` scale it down for a quick look.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use tsunagi_desk::Store;
use tsunagi_desk::query::{InboxList, MessagesPage};
use tsunagi_proto::testing::{ClinicLog, env_number, user};
use tsunagi_proto::{ConversationId, Entry, OperatorId};

const BATCH: usize = 500;

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort_unstable();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let contacts = env_number("TSUNAGI_BENCH_CONTACTS", 100_000);
    let messages = env_number("TSUNAGI_BENCH_MESSAGES", 2_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.db");
    let store = Store::open(&path).await.unwrap();
    let mut log = ClinicLog::new(contacts);
    println!("desk store: {contacts} contacts, {messages} messages (SQLite, WAL)");

    let started = Instant::now();
    let mut applied = 0usize;
    let mut busy = Duration::ZERO;
    let mut indexing = Duration::ZERO;
    let mut indexed = 0usize;
    for from in (0..contacts).step_by(BATCH) {
        let batch = log.follows(from, (from + BATCH).min(contacts));
        let t = Instant::now();
        store.apply(&batch).await.unwrap();
        busy += t.elapsed();
        applied += batch.len();
    }
    println!(
        "  (follows and profiles: {applied} entries in {:.1} s)",
        busy.as_secs_f64()
    );
    let mut n = 0;
    while n < messages {
        let batch: Vec<Entry> = (n..(n + BATCH).min(messages))
            .map(|i| log.message(i))
            .collect();
        n += batch.len();
        let t = Instant::now();
        store.apply(&batch).await.unwrap();
        busy += t.elapsed();
        applied += batch.len();
        let t = Instant::now();
        indexed += store.index_search().await.unwrap();
        indexing += t.elapsed();
    }
    println!(
        "  search indexing (after each batch): {indexed} messages in {:.1} s: {:.0} messages/s",
        indexing.as_secs_f64(),
        indexed as f64 / indexing.as_secs_f64()
    );
    println!(
        "  apply: {applied} entries in {:.1} s of applying ({:.1} s in all): {:.0} entries/s",
        busy.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        applied as f64 / busy.as_secs_f64()
    );
    println!(
        "  write-ahead log after the catch-up: {}",
        mib(file_size(&wal_of(&path)))
    );

    let me = OperatorId::from("d-yuki");
    let now = log.now();
    for (name, list) in [
        ("inbox page (bot, 50)", InboxList::Bot),
        ("inbox page (mine, 50)", InboxList::Mine),
        ("inbox page (closed, 50)", InboxList::Closed),
        ("inbox page (waiting, 50)", InboxList::Waiting),
        ("inbox page (needs reply, 50)", InboxList::NeedsReply),
    ] {
        let mut samples = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let page = store.inbox(list, Some(&me), now, None, 50).await.unwrap();
            samples.push(t.elapsed());
            std::hint::black_box(page);
        }
        println!(
            "  {name}: p50 {}  p95 {}",
            ms(percentile(&mut samples, 0.5)),
            ms(percentile(&mut samples, 0.95))
        );
    }

    let mut samples = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let counts = store.inbox_counts(Some(&me)).await.unwrap();
        samples.push(t.elapsed());
        std::hint::black_box(counts);
    }
    println!(
        "  inbox counts (every list, and which hold unseen messages): p50 {}  p95 {}",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95))
    );

    let mut samples = Vec::new();
    for i in 0..200 {
        let chat = ConversationId::new(user((i * 7919) % contacts));
        let t = Instant::now();
        let page = store
            .messages(&chat, MessagesPage::Newest, 50)
            .await
            .unwrap();
        samples.push(t.elapsed());
        std::hint::black_box(page);
    }
    println!(
        "  conversation page (newest 50): p50 {}  p95 {}",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95))
    );

    let queries = [
        "นัด",
        "予約",
        "掛號",
        "check-up",
        "診察券",
        "報告",
        "Tuesday",
        "สมชาย",
        "ゆき",
        "約",
    ];
    let mut samples = Vec::new();
    for round in 0..20 {
        for query in queries {
            let t = Instant::now();
            let hits = store.search(query, 50).await.unwrap();
            samples.push(t.elapsed());
            if round == 0 {
                assert!(!hits.is_empty(), "{query} finds nothing");
            }
        }
    }
    println!(
        "  search (50 hits; Thai, Japanese, Chinese, English; 1 to 8 characters): p50 {}  p95 {}",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95))
    );

    // The size while the store is open, as an app holds it: the database, its write-ahead
    // log and the log's index.
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let wal = file_size(&wal_of(&path));
    println!(
        "  store size: {} (of which the write-ahead log {})",
        mib(size),
        mib(wal)
    );
    store.close().await;
    drop(store);
    print_split(&path);
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / 1024.0 / 1024.0)
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn wal_of(path: &std::path::Path) -> std::path::PathBuf {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    wal.into()
}

/// Where the database file's pages go: each table and index with its own pages (an FTS5
/// index's shadow tables counted under the index), largest first, and the free pages.
fn print_split(path: &std::path::Path) {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let page_size: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    let pages: i64 = db.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    let free: i64 = db
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    // One row per b-tree; FTS5's shadow tables (`<index>_data`, `_idx`, `_docsize`,
    // `_config`) are named after the virtual table that owns them.
    let mut statement = db
        .prepare(
            "SELECT COALESCE(v.name, s.name), COALESCE(v.name, t.tbl_name, s.name),
                    SUM(s.pgsize), SUM(s.payload), SUM(s.ncell)
             FROM dbstat AS s
             LEFT JOIN sqlite_schema t ON t.name = s.name
             LEFT JOIN sqlite_schema v ON v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
                 AND s.name GLOB v.name || '_*'
             WHERE s.aggregate = 1
             GROUP BY 1 ORDER BY 3 DESC",
        )
        .unwrap();
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap();
    println!(
        "  database file: {} ({pages} pages of {page_size} bytes), by table and index:",
        mib((pages * page_size) as u64)
    );
    for (name, table, bytes, payload) in rows {
        if bytes < 1024 * 1024 {
            continue;
        }
        let of = if name == table {
            String::new()
        } else {
            format!(" (on {table})")
        };
        println!(
            "    {:<28} {:>8}  payload {:>8}{of}",
            name,
            mib(bytes as u64),
            mib(payload as u64)
        );
    }
    println!(
        "    {:<28} {:>8}",
        "free pages",
        mib((free * page_size) as u64)
    );
}
