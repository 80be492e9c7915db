//! The desk's store at clinic scale: 100,000 contacts and 2,000,000 messages.
//!
//! `cargo xtask bench` (or `cargo bench -p tsunagi-desk --bench store`) reports the apply
//! rate, inbox and conversation page times, search p95 and the store's size.
//! `TSUNAGI_BENCH_MESSAGES` and `TSUNAGI_BENCH_CONTACTS` scale it down for a quick look.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use tsunagi_desk::Store;
use tsunagi_desk::query::{InboxList, MessagesPage};
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::{
    ContactProfile, ConversationId, DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation,
    OperatorId, SendOp, Seq, UnixMillis,
};

const BATCH: usize = 500;
const PHRASES: [&str; 8] = [
    "สวัสดีค่ะ ขอเลื่อนนัดวันพรุ่งนี้ได้ไหมคะ",
    "明日の予約を変更したいです",
    "請問今天還可以掛號嗎",
    "Can I book a check-up for Tuesday morning?",
    "ยาหมดแล้วค่ะ ต้องมารับที่คลินิกไหมคะ",
    "診察券を忘れてしまいました",
    "我的檢查報告出來了嗎",
    "Thank you, see you then",
];
const NAMES: [&str; 6] = ["สมชาย", "ゆき", "美玲", "Mali", "たかし", "Chen"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn user(i: usize) -> String {
    format!("U{i:032x}")
}

/// The synthetic log: every contact follows and is profiled, then messages arrive
/// round-robin, with an operator's claim and send every so often.
struct Log {
    contacts: usize,
    messages: usize,
    seq: u64,
}

impl Log {
    fn entry(&mut self, body: EntryBody) -> Entry {
        self.seq += 1;
        Entry {
            seq: Seq(self.seq),
            at: UnixMillis(1_767_225_600_000 + self.seq as i64 * 50),
            body,
        }
    }

    fn line(&mut self, event: String) -> Entry {
        self.entry(EntryBody::Line {
            destination: UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f"),
            event: RawValue::from_string(event).unwrap(),
        })
    }

    fn op(&mut self, op: Operation) -> Entry {
        let id = OpId(uuid::Uuid::from_u128(u128::from(self.seq + 1)));
        self.entry(EntryBody::Op {
            op_id: id,
            device: DeviceId::from("d-yuki"),
            op: LoggedOp::Known(op),
        })
    }

    fn follows(&mut self, from: usize, to: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> = (from..to)
            .map(|i| {
                let event = format!(
                    r#"{{"type":"follow","mode":"active","timestamp":{},"webhookEventId":"01F{i}","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{}"}},"replyToken":"rf{i}","follow":{{"isUnblocked":false}}}}"#,
                    1_767_225_600_000_i64 + i as i64,
                    user(i)
                );
                self.line(event)
            })
            .collect();
        let profiles = (from..to)
            .map(|i| ContactProfile {
                user_id: UserId::new(user(i)),
                display_name: format!("{} {i}", NAMES[i % NAMES.len()]),
                picture_url: None,
                status_message: None,
                language: Some(["th", "ja", "zh-TW", "en"][i % 4].into()),
                follower: true,
            })
            .collect();
        entries.push(self.op(Operation::Profiles { profiles }));
        entries
    }

    fn message(&mut self, n: usize) -> Entry {
        let i = n % self.contacts;
        // Every 50th message an operator claims the chat and answers.
        if n % 50 == 25 {
            return self.op(Operation::Send(SendOp {
                conversation: ConversationId::new(user(i)),
                messages: vec![Message::text("ได้ค่ะ / 承知しました / 好的")],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }));
        }
        if n % 50 == 10 {
            return self.op(Operation::Claim {
                conversation: ConversationId::new(user(i)),
            });
        }
        let event = format!(
            r#"{{"type":"message","mode":"active","timestamp":{},"webhookEventId":"01M{n}","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{}"}},"replyToken":"r{n}","message":{{"type":"text","id":"{n}","quoteToken":"q{n}","text":"{} #{n}"}}}}"#,
            1_767_225_600_000_i64 + n as i64,
            user(i),
            PHRASES[n % PHRASES.len()]
        );
        self.line(event)
    }
}

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
    let mut log = Log {
        contacts,
        messages,
        seq: 0,
    };
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
    while n < log.messages {
        let batch: Vec<Entry> = (n..(n + BATCH).min(log.messages))
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

    let me = OperatorId::from("d-yuki");
    let now = UnixMillis(1_767_225_600_000 + log.seq as i64 * 50);
    for (name, list) in [
        ("inbox page (bot, 50)", InboxList::Bot),
        ("inbox page (mine, 50)", InboxList::Mine),
        ("inbox page (closed, 50)", InboxList::Closed),
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

    drop(store);
    let size: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!("  store size: {:.0} MiB", size as f64 / 1024.0 / 1024.0);
}
