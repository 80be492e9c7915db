//! How many requests per second linesim answers, so it is never the bottleneck of the
//! benchmarks that use it. Run with `cargo xtask bench` (or
//! `cargo bench -p tsunagi-linesim --bench throughput`).
//!
//! Rate limits are off. Clients and server share this machine's cores, so the numbers are
//! a floor for what linesim alone could do.

// A benchmark's output is its result.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tsunagi_line::client::{AccessToken, Client, RetryKey};
use tsunagi_line::message::Message;
use tsunagi_line::retry::RetryPolicy;
use tsunagi_linesim::{Config, Simulator, population};

const CONNECTIONS: usize = 64;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy)]
enum Call {
    Profile,
    Push,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = Config::new("1656789012", "bench-secret", "bench-token");
    config.rate_scale = None;
    config.users = population::users(1_000, 1);
    let sim = Simulator::new(config);
    let users: Vec<_> = sim
        .users()
        .into_iter()
        .filter(|u| u.follows)
        .map(|u| u.user_id)
        .collect();
    let address = sim.serve("127.0.0.1:0".parse()?).await?;
    let base = format!("http://{address}");
    let client = Client::builder()
        .api_base(&base)
        .access_token(AccessToken::new("bench-token"))
        .retry(RetryPolicy::none())
        .build()?;

    println!(
        "linesim throughput: {CONNECTIONS} concurrent clients, {} s each, rate limits off",
        MEASURE.as_secs()
    );
    for (name, call) in [("profile", Call::Profile), ("push", Call::Push)] {
        run(&client, &users, call, WARMUP).await;
        let (count, mut latencies, elapsed) = run(&client, &users, call, MEASURE).await;
        latencies.sort_unstable();
        let rate = count as f64 / elapsed.as_secs_f64();
        let percentile = |p: f64| {
            let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies.get(index).copied().unwrap_or_default() as f64 / 1_000.0
        };
        println!(
            "  {name:<8} {rate:>9.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({count} requests)",
            percentile(0.50),
            percentile(0.99),
        );
    }
    Ok(())
}

/// Calls as fast as `CONNECTIONS` tasks can for `duration`; returns the count, each
/// latency in microseconds, and the time taken.
async fn run(
    client: &Client,
    users: &[tsunagi_line::UserId],
    call: Call,
    duration: Duration,
) -> (usize, Vec<u64>, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|task| {
            let (client, users, stop) = (client.clone(), users.to_vec(), stop.clone());
            tokio::spawn(async move {
                let message = [Message::text("Your appointment is tomorrow at 10:00")];
                let mut latencies = Vec::new();
                let mut i = task;
                while !stop.load(Ordering::Relaxed) {
                    let user = &users[i % users.len()];
                    i += CONNECTIONS;
                    let sent = Instant::now();
                    let ok = match call {
                        Call::Profile => client.profile(user).await.is_ok(),
                        Call::Push => client
                            .push(user.as_str(), &message, false, RetryKey::new())
                            .await
                            .is_ok(),
                    };
                    assert!(ok, "linesim refused a benchmark request");
                    latencies.push(sent.elapsed().as_micros() as u64);
                }
                latencies
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    (all.len(), all, started.elapsed())
}
