//! An idle relay process with 1,000 channels and 3 desks streaming from each (3,000 open
//! log streams): its memory and CPU, read from /proc (Linux). Run with `cargo xtask bench`
//! (or `cargo bench -p tsunagi-relay --bench idle`).
//!
//! The relay is the real binary on SQLite; the streams come from this process.

// A benchmark's output is its result.
#![allow(clippy::print_stdout)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tsunagi_line::ChannelId;
use tsunagi_proto::api::{Enroll, Role};
use tsunagi_relay::Relay;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::SqliteStore;

const CHANNELS: usize = 1_000;
const DESKS_PER_CHANNEL: usize = 3;
/// How long the relay is watched while idle.
const IDLE: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    let mut streams = Vec::new();
    {
        let key = RelayKey::load(dir.path())?;
        let relay = Relay::new(SqliteStore::open(&dir.path().join("relay.db")).await?, key);
        for c in 0..CHANNELS {
            let channel = ChannelId::new(format!("{}", 2_000_000_000 + c));
            relay
                .add_channel(&channel, ChannelSecret::new(format!("secret-{c}")))
                .await?;
            for d in 0..DESKS_PER_CHANNEL {
                let code = relay.invite(&channel, Role::Staff, None).await?.code;
                let enrolled = relay
                    .enroll(&Enroll {
                        code,
                        device_name: format!("desk {d}"),
                        operator_name: format!("operator {d}"),
                    })
                    .await?;
                streams.push((channel.clone(), enrolled.token));
            }
        }
        relay.close();
    }
    println!(
        "idle relay: {CHANNELS} channels × {DESKS_PER_CHANNEL} desks set up in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tsunagi-relay"))
        .args(["serve", "--data"])
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", &base])
        .env("RUST_LOG", "warn")
        .env_remove("TSUNAGI_RELAY_KEY")
        .stdout(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        anyhow::ensure!(Instant::now() < deadline, "the relay did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after_start = memory(pid);

    let open = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for (channel, token) in streams {
        let (http, base, open) = (http.clone(), base.clone(), open.clone());
        readers.push(tokio::spawn(async move {
            let response = http
                .get(format!("{base}/v1/channels/{channel}/log?after=0"))
                .bearer_auth(token)
                .header("accept", "text/event-stream")
                .send()
                .await;
            let Ok(mut response) = response else { return };
            if !response.status().is_success() {
                return;
            }
            open.fetch_add(1, Ordering::Relaxed);
            // Heartbeats, read and dropped, until the bench ends.
            while let Ok(Some(_)) = response.chunk().await {}
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while open.load(Ordering::Relaxed) < CHANNELS * DESKS_PER_CHANNEL {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} streams opened",
            open.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Settled: the opening's allocations freed or reused.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu_before = cpu_ticks(pid);
    tokio::time::sleep(IDLE).await;
    let cpu_after = cpu_ticks(pid);
    let streaming = memory(pid);
    let ticks_per_second = clock_ticks();
    let cpu = (cpu_after - cpu_before) as f64 / ticks_per_second / IDLE.as_secs_f64() * 100.0;
    println!(
        "  {} streams open: memory {:.1} MiB PSS ({:.1} MiB RSS); right after start {:.1} MiB PSS",
        open.load(Ordering::Relaxed),
        streaming.0,
        streaming.1,
        after_start.0
    );
    println!(
        "  CPU while idle for {} s: {cpu:.2} % of one core (heartbeats every 15 s on every stream)",
        IDLE.as_secs()
    );
    child.kill()?;
    child.wait()?;
    for reader in readers {
        reader.abort();
    }
    Ok(())
}

/// PSS and RSS of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("Pss:"), field("Rss:"))
}

/// User and system CPU time of a process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after it are plain.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let at = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    at(11) + at(12)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(100.0)
}
