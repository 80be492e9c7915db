//! The app at clinic scale, in its real window: with 100,000 contacts and 2,000,000
//! messages in the desk's store, how long from starting the app to an inbox an operator can
//! use, how long switching conversations takes, and how much memory the app (all its
//! processes) holds after an hour of a clinic day's traffic.
//!
//! Run by `cargo xtask bench` under a virtual display and a D-Bus session, after the app is
//! built with `--features custom-protocol`. `TSUNAGI_BENCH_MESSAGES` and
//! `TSUNAGI_BENCH_CONTACTS` scale the store down for a quick look; `TSUNAGI_BENCH_HOUR_SPEED`
//! says how many times faster than real time the hour of traffic is replayed (default 20).
//! `TSUNAGI_BENCH_STORE_CACHE=DIR` keeps the store built in DIR and copies it for each run
//! after; `TSUNAGI_BENCH_SMAPS=1` lists where each process's memory goes.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use fantoccini::Locator;
use tsunagi_desk::Store;
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::profile::{self, JoinRequest};
use tsunagi_e2e::app::{self, App, shared_keyring};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_linesim::scenario::ClinicDay;
use tsunagi_proto::api::Role;
use tsunagi_proto::testing::{ClinicLog, env_number};

const BATCH: usize = 500;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> Result<()> {
    if !app::enabled() {
        println!("app bench skipped: set E2E=1 and run under xvfb-run and dbus-run-session");
        return Ok(());
    }
    let contacts = env_number("TSUNAGI_BENCH_CONTACTS", 100_000);
    let messages = env_number("TSUNAGI_BENCH_MESSAGES", 2_000_000);
    let speed = env_number("TSUNAGI_BENCH_HOUR_SPEED", 20) as f64;
    println!("app: {contacts} contacts, {messages} messages in the desk's store");

    // A desk that joined a clinic whose store already holds a big clinic's history.
    let _keyring = shared_keyring()?;
    let clinic = Clinic::start(24).await?;
    let home = tempfile::Builder::new()
        .prefix("tsunagi-bench-")
        .tempdir()?;
    let data = home.path().join("desk");
    let vault = Vault::new("app.tsunagi.desk", &data).keyring_only();
    let request = JoinRequest {
        relay: clinic.url.clone(),
        code: clinic.invite(Role::Staff).await?,
        operator_name: "Bench".into(),
        device_name: "bench".into(),
        channel: None,
    };
    profile::join(&data, &vault, &request).await?;
    let built = Instant::now();
    match std::env::var_os("TSUNAGI_BENCH_STORE_CACHE") {
        // Built once and copied for each run after (for trying changes to the app, not
        // to the store: a change to the projection needs the cache removed).
        Some(cache) => {
            let cached =
                std::path::PathBuf::from(cache).join(format!("app-{contacts}-{messages}.db"));
            if !cached.exists() {
                let building = tempfile::tempdir()?;
                build_store(building.path(), contacts, messages).await?;
                std::fs::create_dir_all(cached.parent().context("a cache folder")?)?;
                // The store closed, so it is whole in its one file (no write-ahead log).
                ensure!(
                    !building.path().join("desk.db-wal").exists(),
                    "the store left a WAL"
                );
                std::fs::copy(building.path().join("desk.db"), &cached)?;
            }
            std::fs::copy(&cached, data.join("desk.db"))?;
            println!(
                "  (store copied from {} in {:.0} s)",
                cached.display(),
                built.elapsed().as_secs_f64()
            );
        }
        None => {
            build_store(&data, contacts, messages).await?;
            println!("  (store built in {:.0} s)", built.elapsed().as_secs_f64());
        }
    }

    // Start to a usable inbox: the tabs with their counts, and the first list drawn (its
    // rows, or its word that nobody waits).
    let started = Instant::now();
    let window = App::launch_with(true, Some(&data)).await?;
    let ready = Locator::XPath(
        "//*[@role='tab' and @aria-selected='true']//span[contains(@class, 'count') and normalize-space(.) != '0'] \
         | //*[@role='tabpanel']//*[@role='option' or self::p]",
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = window.client.find_all(ready).await?;
        let bot_counted = window
            .client
            .find_all(Locator::XPath(
                "//*[@role='tab'][starts-with(normalize-space(.), 'Bot')]//span[contains(@class, 'count') and normalize-space(.) != '0']",
            ))
            .await?;
        if !found.is_empty() && !bot_counted.is_empty() {
            break;
        }
        ensure!(Instant::now() < deadline, "the inbox never became usable");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let usable = started.elapsed();
    // The window marks the moment itself; the process's start is the kernel's, in time
    // since boot, as is /proc/uptime, read at once when the window says how long ago it
    // marked it.
    let since_ready_ms = window
        .client
        .execute(
            "const [mark] = performance.getEntriesByName('tsunagi:inbox-ready'); \
             const [page] = performance.getEntriesByType('navigation'); \
             return mark ? [performance.now() - mark.startTime, mark.startTime, \
               page ? page.domContentLoadedEventEnd : null] : null;",
            vec![],
        )
        .await?;
    let marks = since_ready_ms
        .as_array()
        .context("the window never marked its inbox ready")?;
    let at = |i: usize| marks.get(i).and_then(serde_json::Value::as_f64);
    let (since_ready_ms, in_page_ms) = (at(0).unwrap_or(f64::NAN), at(1).unwrap_or(f64::NAN));
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .and_then(|u| u.parse().ok())
        .context("reading /proc/uptime")?;
    let from_start = (uptime - app_started_after_boot()?) * 1000.0 - since_ready_ms;
    println!(
        "  app start to a usable inbox: {from_start:.0} ms (from the app's process starting to the counts and first list drawn, as the window marks it): the page began loading after {:.0} ms, its script had run by {:.0} ms",
        from_start - in_page_ms,
        from_start - in_page_ms + at(2).unwrap_or(f64::NAN),
    );
    println!(
        "  the same through WebDriver: {} (from asking tauri-driver for the app, its own start included)",
        ms(usable)
    );

    let at_start = app_memory()?;
    println!(
        "  memory at start: {:.0} MiB PSS, {:.0} MiB private ({})",
        at_start.total_kib as f64 / 1024.0,
        at_start.private_kib as f64 / 1024.0,
        at_start.processes.join(", ")
    );
    // What the desk answers, without drawing: the IPC round trip of the inbox's two reads.
    let ipc = window
        .client
        .execute_async(
            r#"const done = arguments[0];
               const invoke = window.__TAURI_INTERNALS__.invoke;
               const times = {};
               const time = async (name, command, args) => {
                 const started = performance.now();
                 for (let i = 0; i < 5; i++) await invoke(command, args);
                 times[name] = (performance.now() - started) / 5;
               };
               (async () => {
                 await time('list', 'inbox_list', { request: { list: 'bot', before: null, limit: 100 } });
                 await time('counts', 'inbox_counts', {});
                 done(times);
               })().catch((e) => done({ error: String(e) }));"#,
            vec![],
        )
        .await?;
    println!(
        "  the desk's answers through IPC: a page of 100 chats {:.1} ms, the tab counts {:.1} ms",
        ipc["list"].as_f64().unwrap_or(f64::NAN),
        ipc["counts"].as_f64().unwrap_or(f64::NAN)
    );

    // The biggest list: every chat with the bot, newest first.
    let opened = window
        .client
        .execute_async(
            r#"const done = arguments[0];
               const started = performance.now();
               const row = () => document.querySelector('[role="tabpanel"] [role="option"]');
               // When the rows enter the page, apart from when they are painted.
               let inPage = null;
               const watching = new MutationObserver(() => {
                 if (inPage === null && row()) inPage = performance.now() - started;
               });
               watching.observe(document.body, { childList: true, subtree: true });
               const tab = [...document.querySelectorAll('[role="tab"]')]
                 .find((t) => t.textContent.trim().startsWith('Bot'));
               tab.click();
               const check = () => {
                 if (!row()) return requestAnimationFrame(check);
                 watching.disconnect();
                 done([performance.now() - started, inPage ?? performance.now() - started]);
               };
               requestAnimationFrame(check);"#,
            vec![],
        )
        .await?;
    let at = |i: usize| opened.get(i).and_then(serde_json::Value::as_f64);
    println!(
        "  opening the Bot list ({contacts} chats): {:.0} ms to its rows on screen ({:.0} ms to their entering the page)",
        at(0).unwrap_or(f64::NAN),
        at(1).unwrap_or(f64::NAN)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let switches = switch_conversations(&window, 30).await?;
    let mut sorted = switches.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |p: f64| sorted[((sorted.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "  switching conversations ({} switches, click to messages drawn): p50 {:.0} ms  p95 {:.0} ms  max {:.0} ms",
        sorted.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );

    // An hour of a clinic day's traffic arrives while the operator keeps switching chats.
    let day = ClinicDay {
        patients: 12,
        span: Duration::from_secs(60 * 60),
        seed: 3,
    }
    .scenario(&clinic.patients());
    let sim_url = clinic.sim_url.clone();
    let traffic = tokio::spawn(async move { day.run(&sim_url, speed).await });
    while !traffic.is_finished() {
        switch_conversations(&window, 3).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let report = traffic.await??;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory = app_memory()?;
    println!(
        "  memory after an hour of clinic traffic ({} patient actions, replayed at {speed:.0}×): {:.0} MiB PSS, {:.0} MiB private, in {} processes ({})",
        report.delivered,
        memory.total_kib as f64 / 1024.0,
        memory.private_kib as f64 / 1024.0,
        memory.processes.len(),
        memory.processes.join(", ")
    );
    window.close().await?;
    Ok(())
}

/// Applies a clinic's log of `contacts` and `messages` to the desk's store in `dir`.
async fn build_store(dir: &std::path::Path, contacts: usize, messages: usize) -> Result<()> {
    let store = Store::open(&dir.join("desk.db")).await?;
    let mut log = ClinicLog::new(contacts);
    for from in (0..contacts).step_by(BATCH) {
        store
            .apply(&log.follows(from, (from + BATCH).min(contacts)))
            .await?;
    }
    let mut n = 0;
    while n < messages {
        let batch: Vec<_> = (n..(n + BATCH).min(messages))
            .map(|i| log.message(i))
            .collect();
        n += batch.len();
        store.apply(&batch).await?;
    }
    store.index_search().await?;
    store.close().await;
    Ok(())
}

/// Clicks `count` inbox rows in turn; the milliseconds from each click to its messages drawn.
async fn switch_conversations(window: &App, count: usize) -> Result<Vec<f64>> {
    let script = r#"
        const [count, done] = arguments;
        const rows = () => [...document.querySelectorAll('[role="option"]')];
        const times = [];
        const next = (i) => {
          if (i >= count) return done(times);
          const list = rows();
          if (list.length < 2) return done(times);
          const row = list[(i * 3 + 1) % list.length];
          const name = row.querySelector('.name')?.textContent?.trim() ?? '';
          const started = performance.now();
          row.click();
          const check = () => {
            const heading = document.querySelector('section.conversation h2');
            const drawn = document.querySelectorAll('[role="log"] article, [role="log"] p.system').length;
            if (heading && heading.textContent.trim() === name && drawn > 0) {
              times.push(performance.now() - started);
              setTimeout(() => next(i + 1), 30);
            } else if (performance.now() - started > 10000) {
              done({ error: `conversation ${name} never opened` });
            } else {
              requestAnimationFrame(check);
            }
          };
          requestAnimationFrame(check);
        };
        next(0);
    "#;
    let answer = window
        .client
        .execute_async(script, vec![count.into()])
        .await
        .context("switching conversations")?;
    if let Some(error) = answer.get("error") {
        anyhow::bail!("{error}");
    }
    Ok(answer
        .as_array()
        .context("the page's timings")?
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect())
}

#[derive(Debug)]
struct Memory {
    /// Proportional set size: private pages, and each shared page divided among the
    /// processes mapping it.
    total_kib: u64,
    /// Pages no other process maps: what quitting the app would free.
    private_kib: u64,
    processes: Vec<String>,
}

/// The proportional set size of the app's process and every process under it (WebKit's web
/// and network processes), from /proc.
fn app_memory() -> Result<Memory> {
    let binary = app::app_binary()?;
    let mut parents = std::collections::BTreeMap::<u32, u32>::new();
    let mut names = std::collections::BTreeMap::<u32, String>::new();
    let mut roots = BTreeSet::new();
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((name, rest)) = stat.split_once(") ") else {
            continue;
        };
        let name = name.split_once(" (").map_or("", |(_, n)| n).to_owned();
        let ppid = rest
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        parents.insert(pid, ppid);
        names.insert(pid, name);
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .as_deref()
            == Some(binary.as_path())
        {
            roots.insert(pid);
        }
    }
    ensure!(!roots.is_empty(), "the app's process was not found");
    let under = |mut pid: u32| loop {
        if roots.contains(&pid) {
            return true;
        }
        match parents.get(&pid) {
            Some(&parent) if parent > 1 && parent != pid => pid = parent,
            _ => return false,
        }
    };
    let mut total_kib = 0;
    let mut private_kib = 0;
    let mut processes = Vec::new();
    for (&pid, name) in &names {
        if !under(pid) {
            continue;
        }
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        let pss = field("Pss:");
        total_kib += pss;
        private_kib += field("Private_Clean:") + field("Private_Dirty:");
        processes.push(format!("{name} {:.0} MiB", pss as f64 / 1024.0));
        if std::env::var_os("TSUNAGI_BENCH_SMAPS").is_some() {
            println!(
                "    {name} ({pid}), the mappings holding most: {}",
                largest_mappings(pid)
            );
        }
    }
    Ok(Memory {
        total_kib,
        private_kib,
        processes,
    })
}

/// The ten mappings of `pid` holding the most memory (PSS, summed by what they map), for
/// finding where it goes (`TSUNAGI_BENCH_SMAPS=1`).
fn largest_mappings(pid: u32) -> String {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_name = std::collections::BTreeMap::<String, u64>::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            current = fields.get(5).map_or("[anonymous]", |n| n).to_owned();
        } else if fields.first() == Some(&"Pss:") {
            let kib: u64 = fields.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            *by_name.entry(current.clone()).or_default() += kib;
        }
    }
    let mut largest: Vec<_> = by_name.into_iter().collect();
    largest.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    largest
        .iter()
        .take(10)
        .map(|(name, kib)| {
            let short = name.rsplit('/').next().unwrap_or(name);
            format!("{short} {:.1}", *kib as f64 / 1024.0)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// When the app's process started, in seconds since boot (to the kernel's clock tick).
fn app_started_after_boot() -> Result<f64> {
    let binary = app::app_binary()?;
    let ticks_per_second: f64 = String::from_utf8(
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()?
            .stdout,
    )?
    .trim()
    .parse()?;
    for entry in std::fs::read_dir("/proc")? {
        let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .as_deref()
            != Some(binary.as_path())
        {
            continue;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let (_, rest) = stat.rsplit_once(") ").context("a process's stat")?;
        // Field 22 of stat, the 20th after the name: when it started, in ticks since boot.
        let ticks: f64 = rest
            .split(' ')
            .nth(19)
            .and_then(|t| t.parse().ok())
            .context("a process's start time")?;
        return Ok(ticks / ticks_per_second);
    }
    anyhow::bail!("the app's process was not found")
}
