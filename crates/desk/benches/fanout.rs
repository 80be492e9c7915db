//! Webhook → applied in a desk's store, with 20 desks streaming: how long a patient's
//! message takes to reach every front desk. On SQLite with one relay, and on PostgreSQL
//! with three relays on one database, the desks and the webhooks spread over them.
//! Run with `cargo xtask bench` (or `cargo bench -p tsunagi-desk --bench fanout`).
//!
//! Relays, desks and PostgreSQL share this machine's cores; the numbers are a floor.

// A benchmark's output is its result.
#![allow(clippy::print_stdout)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tsunagi_desk::Store;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_desk::sync::{Sync, SyncOptions};
use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::api::Role;
use tsunagi_relay::testing::{Backend, CHANNEL, SECRET, TestRelay};
use url::Url;

const DESKS: usize = 20;
const WEBHOOKS: usize = 200;
const RATE: u32 = 10;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1_000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("webhook → applied in each desk's store, {DESKS} desks streaming, {RATE} webhooks/s");
    for (backend, relays) in [(Backend::Sqlite, 1), (Backend::Postgres, 3)] {
        let (after_ack, after_send) = run(backend, relays).await?;
        let name = match backend {
            Backend::Sqlite => "SQLite, 1 relay".to_owned(),
            Backend::Postgres => format!("PostgreSQL, {relays} relays on one database"),
        };
        println!(
            "  {name}: from the 200, p50 {:.1} ms  p99 {:.1} ms; from sending the webhook, p50 {:.1} ms  p99 {:.1} ms  ({} applications)",
            percentile(&after_ack, 0.50),
            percentile(&after_ack, 0.99),
            percentile(&after_send, 0.50),
            percentile(&after_send, 0.99),
            after_ack.len()
        );
    }
    Ok(())
}

/// Each webhook's sending and acknowledgment, by its seq.
#[derive(Default, Clone, Copy)]
struct Posted {
    sent: Option<Instant>,
    acknowledged: Option<Instant>,
}

async fn run(backend: Backend, relays: usize) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let test = TestRelay::builder().backend(backend).start().await;
    let mut urls = vec![test.url.clone()];
    let mut others = Vec::new();
    for _ in 1..relays {
        let (url, relay) = test.serve_another_process().await;
        urls.push(url);
        others.push(relay);
    }
    let mut desks = Vec::new();
    for i in 0..DESKS {
        let dir = tempfile::tempdir()?;
        let store = Store::open(&dir.path().join("desk.db")).await?;
        let enrolled = test.enroll(&format!("desk {i}"), Role::Staff).await;
        let client = RelayClient::new(
            Url::parse(&urls[i % urls.len()])?,
            DeviceToken::new(enrolled.token),
        )?;
        let sync = Sync::new(
            store,
            client,
            ChannelId::from(CHANNEL),
            SyncOptions::default(),
        );
        let running = {
            let sync = sync.clone();
            tokio::spawn(async move {
                let _ = sync.run(std::future::pending()).await;
            })
        };
        desks.push((sync, running, dir));
    }
    // Streams open before the first webhook.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let posted = Arc::new(Mutex::new(vec![Posted::default(); WEBHOOKS + 1]));
    let applied: Vec<_> = desks
        .iter()
        .map(|(sync, _, _)| {
            let mut changes = sync.subscribe();
            tokio::spawn(async move {
                let mut at = vec![None; WEBHOOKS + 1];
                let mut seen = 0;
                while seen < WEBHOOKS {
                    let cursor = match changes.recv().await {
                        Ok(changes) => changes.cursor.0 as usize,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    let now = Instant::now();
                    let newest = cursor.min(WEBHOOKS);
                    if newest > seen {
                        at[seen + 1..=newest].fill(Some(now));
                    }
                    seen = seen.max(cursor);
                }
                at
            })
        })
        .collect();

    // One poster, each webhook after the last one's 200: the nth is seq n.
    let http = reqwest::Client::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / RATE);
    for seq in 1..=WEBHOOKS {
        ticker.tick().await;
        let body = format!(
            r#"{{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[{{"type":"message","message":{{"type":"text","id":"{seq}","text":"こんにちは {seq}"}},"webhookEventId":"01FAN{seq:020}","deliveryContext":{{"isRedelivery":false}},"timestamp":1767225600000,"source":{{"type":"user","userId":"U4af4980629a1b2c3d4e5f6071829{:04}"}},"replyToken":"r{seq}","mode":"active"}}]}}"#,
            seq % 50
        );
        let url = format!("{}/webhook/line/{CHANNEL}", urls[seq % urls.len()]);
        posted.lock().expect("not poisoned")[seq].sent = Some(Instant::now());
        let response = http
            .post(url)
            .header("x-line-signature", sign(SECRET.as_bytes(), body.as_bytes()))
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "{}", response.status());
        posted.lock().expect("not poisoned")[seq].acknowledged = Some(Instant::now());
    }

    let posted = posted.lock().expect("not poisoned").clone();
    let (mut after_ack, mut after_send) = (Vec::new(), Vec::new());
    for task in applied {
        let at = tokio::time::timeout(Duration::from_secs(30), task).await??;
        for (seq, applied) in at.iter().enumerate().skip(1) {
            let (Some(applied), Some(sent), Some(acknowledged)) =
                (applied, posted[seq].sent, posted[seq].acknowledged)
            else {
                anyhow::bail!("seq {seq} never reached a desk");
            };
            after_send.push(applied.duration_since(sent));
            if std::env::var_os("FANOUT_DEBUG").is_some()
                && applied.duration_since(sent) > Duration::from_millis(50)
            {
                println!("slow: seq {seq} {:?}", applied.duration_since(sent));
            }
            // A desk may apply an entry before its webhook's 200 is back: that is zero.
            after_ack.push(applied.saturating_duration_since(acknowledged));
        }
    }
    for (_, running, _) in &desks {
        running.abort();
    }
    for relay in others {
        relay.close();
    }
    test.relay.close();
    after_ack.sort_unstable();
    after_send.sort_unstable();
    Ok((after_ack, after_send))
}
