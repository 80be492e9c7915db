//! The app at clinic scale, in its real window, read against a blank window of the same
//! Tauri: with 100,000 contacts and 2,000,000 messages in the desk's store, how long from
//! starting the app to an inbox an operator can use, how long switching conversations
//! takes, and how much memory the app (all its processes) holds after an hour of a clinic
//! day's traffic; then where the app's own process holds it.
//!
//! The blank window (`src-tauri/examples/blank.rs`: the app's Tauri, features and plugins,
//! one empty page) runs first and alone, measured the same way: the start to its page, and
//! each process's memory. The app's figures are printed beside it, with the differences
//! and the targets (the app's total within 60 MiB of the blank's, its main process within
//! 40 MiB of the blank's).
//!
//! Run by `cargo xtask bench` under a virtual display and a D-Bus session, after the app and
//! the blank window are built with `--features custom-protocol`. `TSUNAGI_BENCH_MESSAGES` and
//! `TSUNAGI_BENCH_CONTACTS` scale the store down for a quick look; `TSUNAGI_BENCH_HOUR_SPEED`
//! says how many times faster than real time the hour of traffic is replayed (default 20).
//! `TSUNAGI_BENCH_STORE_CACHE=DIR` keeps the store built in DIR (named by its schema's
//! newest migration) and copies it for each run after; `TSUNAGI_BENCH_SMAPS=1` lists where
//! each process's memory goes, mapping by mapping; `TSUNAGI_BENCH_STARTS` says how many
//! times each window is started to time its start (default 3, the median counts).
//!
//! Memory is PSS, as the kernel counts it, and PSS counting each window's processes alone
//! (from the page frames in /proc/PID/pagemap, which only root can read): another program
//! with WebKit on the machine (a test run beside the bench) takes a part of every library
//! page from the PSS of both, which the second figure leaves out. Targets are judged on it
//! where it can be read.
//!
//! `TSUNAGI_APP` names the app's binary and `TSUNAGI_BLANK` the blank window's (default:
//! `examples/blank` beside the app's).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, ensure};
use tsunagi_desk::Store;
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::profile::{self, JoinRequest};
use tsunagi_e2e::app::{self, App, shared_keyring};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_linesim::scenario::ClinicDay;
use tsunagi_proto::api::Role;
use tsunagi_proto::testing::{ClinicLog, env_number};

const BATCH: usize = 500;

/// How far the app may stand above the blank window: all its processes, and its own.
const TOTAL_ABOVE_BLANK_MIB: f64 = 60.0;
const MAIN_ABOVE_BLANK_MIB: f64 = 40.0;
/// The targets for starting and switching.
const USABLE_WITHIN_MS: f64 = 1000.0;
const SWITCH_P95_WITHIN_MS: f64 = 50.0;

const MIB: f64 = 1024.0;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / MIB
}

/// "met" or "missed", for a figure against its target.
fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
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
    let starts = env_number("TSUNAGI_BENCH_STARTS", 3).max(1);
    let app_binary = app::app_binary()?;
    let blank_binary = blank_binary(&app_binary)?;
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
            let cached = PathBuf::from(cache).join(format!(
                "app-{contacts}-{messages}-{}.db",
                newest_migration()?
            ));
            if !cached.exists() {
                let building = tempfile::tempdir()?;
                build_store(building.path(), contacts, messages).await?;
                std::fs::create_dir_all(cached.parent().context("a cache folder")?)?;
                // Once the store's last connection (its checkpointer's, which ends on its
                // own a moment after the writer) has closed, it is whole in its one file.
                let wal = building.path().join("desk.db-wal");
                let deadline = Instant::now() + Duration::from_secs(60);
                while wal.exists() {
                    ensure!(Instant::now() < deadline, "the store left a WAL");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                std::fs::copy(building.path().join("desk.db"), &cached)?;
            }
            std::fs::copy(&cached, data.join("desk.db"))?;
            // On disk before anything is timed: writing a copy of a gigabyte back while the
            // windows start would slow them.
            std::fs::File::open(data.join("desk.db"))?.sync_all()?;
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

    // What the app stands on, alone on the machine (a process of the blank window still
    // running would share its libraries' pages with the app's, and lower both). The first
    // window in a fresh session starts what every later one finds running (the
    // accessibility bus, the keyring's and fonts' caches), as a desktop has: it is shown,
    // and the second start is the one the app is read against.
    println!("blank window ({}):", blank_binary.display());
    let cold = measure_blank(&blank_binary).await?;
    println!(
        "  first in the session: the page began loading {:.0} ms after its process started, and had loaded by {:.0} ms",
        cold.start.page_began_ms, cold.start.page_loaded_ms
    );
    let mut blank_starts = Vec::new();
    let mut blank = cold;
    for _ in 0..starts {
        blank = measure_blank(&blank_binary).await?;
        blank_starts.push(blank.start.page_began_ms);
    }
    println!(
        "  started again {starts} times: the page began loading {} ms after its process started (median {:.0} ms), and had loaded by {:.0} ms the last time",
        list(&blank_starts),
        median(&blank_starts),
        blank.start.page_loaded_ms
    );
    blank
        .memory
        .print("  blank window's memory, its page loaded");

    // Start to a usable inbox: the tabs with their counts, and the first list drawn (its
    // rows, or its word that nobody waits). Started `starts` times, each on the store the
    // last left, the last start going on to the rest.
    println!("app ({}):", app_binary.display());
    let mut app_starts = Vec::new();
    let mut page_began = Vec::new();
    let (window, start, usable) = loop {
        let started = Instant::now();
        let window = App::launch_with(true, Some(&data)).await?;
        wait_for_usable_inbox(&window).await?;
        let usable = started.elapsed();
        let start = page_start(&window, &app_binary, Some("tsunagi:inbox-ready")).await?;
        app_starts.push(start.mark_ms);
        page_began.push(start.page_began_ms);
        if app_starts.len() >= starts {
            break (window, start, usable);
        }
        close_and_wait(window, &app_binary).await?;
    };
    println!(
        "  app start to a usable inbox: {} ms (median {:.0} ms; from the app's process starting to the counts and first list drawn, as the window marks it): the page began loading after {} ms (median {:.0}); the last time its script had run by {:.0} ms",
        list(&app_starts),
        median(&app_starts),
        list(&page_began),
        median(&page_began),
        start.page_loaded_ms,
    );
    println!(
        "  the same through WebDriver, the last time: {} (from asking tauri-driver for the app, its own start included)",
        ms(usable)
    );
    // What the page did between loading and its inbox, from its own records.
    let timeline = window
        .client
        .execute(
            r"return performance.getEntries()
                .filter((e) => e.entryType === 'resource' || e.entryType === 'mark' || e.entryType === 'paint')
                .map((e) => [e.startTime, e.duration, e.name.replace(new RegExp('^[a-z]+://[^/]*/'), '')]);",
            vec![],
        )
        .await?;
    let began = start.page_began_ms;
    println!(
        "  the page's timeline (ms from the process's start, and how long): {}",
        timeline
            .as_array()
            .map(|entries| entries
                .iter()
                .filter_map(|e| Some(format!(
                    "{} at {:.0} ({:.0})",
                    e.get(2)?.as_str()?.chars().take(40).collect::<String>(),
                    began + e.get(0)?.as_f64()?,
                    e.get(1)?.as_f64()?
                )))
                .collect::<Vec<_>>()
                .join(", "))
            .unwrap_or_default()
    );

    let at_start = processes_memory(&app_binary, Some(&data.join("desk.db")))?;
    at_start.print("  memory at start");
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
                 // A chat's first page, as a switch asks for it: ten chats of the list,
                 // each once (the first asking of each is what a switch meets).
                 const page = await invoke('inbox_list', { request: { list: 'bot', before: null, limit: 100 } });
                 const opens = [];
                 for (const item of page.slice(0, 10)) {
                   const started = performance.now();
                   await invoke('conversation_show', { request: { conversation: item.conversation } });
                   opens.push(performance.now() - started);
                 }
                 times.shows = opens;
                 done(times);
               })().catch((e) => done({ error: String(e) }));"#,
            vec![],
        )
        .await?;
    println!(
        "  the desk's answers through IPC: a page of 100 chats {:.1} ms, the tab counts {:.1} ms, a chat's first page {} ms (ten chats, each asked once)",
        ipc["list"].as_f64().unwrap_or(f64::NAN),
        ipc["counts"].as_f64().unwrap_or(f64::NAN),
        ipc["shows"]
            .as_array()
            .map(|shows| shows
                .iter()
                .filter_map(|t| Some(format!("{:.0}", t.as_f64()?)))
                .collect::<Vec<_>>()
                .join(" "))
            .unwrap_or_default()
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
    let (p50, p95, max) = (at(0.5), at(0.95), at(1.0));
    println!(
        "  switching conversations ({} switches, click to messages drawn): p50 {p50:.0} ms  p95 {p95:.0} ms  max {max:.0} ms",
        sorted.len(),
    );
    processes_memory(&app_binary, Some(&data.join("desk.db")))?
        .print("  memory after the Bot list and the switches");

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
    let memory = processes_memory(&app_binary, Some(&data.join("desk.db")))?;
    memory.print(&format!(
        "  memory after an hour of clinic traffic ({} patient actions, replayed at {speed:.0}×)",
        report.delivered
    ));

    // Where the app's own process holds its memory, beside the blank window's.
    let store = data.join("desk.db");
    let app_main = memory.main().context("the app's process")?;
    for (kind, label) in [
        ("main", "the main process"),
        ("WebKitWebProces", "WebKit's web process"),
    ] {
        println!();
        println!("where {label}'s memory goes (the app after the hour, the blank window loaded):");
        let split = |m: &Memory| {
            m.of(kind)
                .next()
                .map(|p| p.split.clone())
                .unwrap_or_default()
        };
        Split::print_beside(&split(&memory), &split(&blank.memory), label);
    }
    let connections = store_connections(app_main.pid, &store);
    println!(
        "  SQLite connections open on the store: {connections} (the writer, the checkpointer and \
         the readers); each one's page cache (its cache_size: crates/desk/src/store.rs, \
         store/opening.rs) is in the threads' arenas above"
    );
    match resident_store_pages(app_main.pid, &store).await {
        Ok(tables) => {
            let total: u64 = tables.iter().map(|(_, kib)| kib).sum();
            let search: u64 = tables
                .iter()
                .filter(|(name, _)| is_search_index(name))
                .map(|(_, kib)| kib)
                .sum();
            println!(
                "  the store's pages in the app's memory map: {:.1} MiB, of which the search index {:.1} MiB; by table or index: {}",
                total as f64 / MIB,
                search as f64 / MIB,
                tables
                    .iter()
                    .take(10)
                    .map(|(name, kib)| format!("{name} {:.1}", *kib as f64 / MIB))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Err(error) => {
            println!("  the store's pages in the memory map could not be read: {error:#}")
        }
    }
    println!(
        "  threads: the app {}, the blank window {}",
        threads(app_main.pid),
        blank.main_threads
    );

    // The figures and their targets, together.
    let (total_above, main_above, counted) = Memory::above(&memory, &blank.memory);
    println!();
    println!("the app after the hour against the blank window:");
    Memory::print_beside(&memory, &blank.memory);
    println!(
        "  all processes: the app {total_above:.1} MiB above the blank window (target ≤ {TOTAL_ABOVE_BLANK_MIB:.0}; {counted}): {}",
        verdict(total_above <= TOTAL_ABOVE_BLANK_MIB)
    );
    println!(
        "  the main process: the app {main_above:.1} MiB above the blank window (target ≤ {MAIN_ABOVE_BLANK_MIB:.0}; {counted}): {}",
        verdict(main_above <= MAIN_ABOVE_BLANK_MIB)
    );
    let usable_ms = median(&app_starts);
    println!(
        "  start to a usable inbox, median of {starts}: {usable_ms:.0} ms (target ≤ {USABLE_WITHIN_MS:.0}): {}; the page began loading after {:.0} ms (the blank window's after {:.0} ms)",
        verdict(usable_ms <= USABLE_WITHIN_MS),
        median(&page_began),
        median(&blank_starts),
    );
    println!(
        "  switching conversations p95 {p95:.0} ms, max {max:.0} ms (target p95 ≤ {SWITCH_P95_WITHIN_MS:.0}): {}",
        verdict(p95 <= SWITCH_P95_WITHIN_MS)
    );
    window.close().await?;
    Ok(())
}

/// The name of the desk store's newest migration, which names a cached store: one of an
/// older schema is built again rather than set aside by the app.
fn newest_migration() -> Result<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/desk");
    std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            Some(name.split_once('_')?.0.to_owned())
        })
        .max()
        .context("the desk's migrations")
}

/// Milliseconds, listed.
fn list(times: &[f64]) -> String {
    times
        .iter()
        .map(|t| format!("{t:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Ends the window's session and waits until every process of the window running `binary`
/// has gone: one still running would share its libraries' pages with the next window's,
/// and take their CPU. What the session's end leaves running (WebKit's processes under
/// the window it closed) is asked to stop.
async fn close_and_wait(window: App, binary: &Path) -> Result<()> {
    let pids: Vec<u32> = processes_memory(binary, None)?
        .processes
        .iter()
        .map(|p| p.pid)
        .collect();
    window.close().await?;
    let running = || -> Vec<String> {
        pids.iter()
            .filter_map(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
                Some(format!("{pid} {}", stat.split(") ").next()?))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = running();
    if !left.is_empty() {
        println!("  (the window's session ended, leaving {left:?}; stopping them)");
        for pid in &pids {
            if let Ok(pid) = i32::try_from(*pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !running().is_empty() {
        ensure!(
            Instant::now() < deadline,
            "the window's processes outlived it: {:?}",
            running()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The blank window's binary: `TSUNAGI_BLANK`, else `examples/blank` beside the app's.
fn blank_binary(app_binary: &Path) -> Result<PathBuf> {
    let path = match std::env::var_os("TSUNAGI_BLANK") {
        Some(path) => PathBuf::from(path),
        None => app_binary
            .parent()
            .context("the app's folder")?
            .join("examples")
            .join("blank"),
    };
    ensure!(
        path.is_file(),
        "no blank window at {}: build it with `cargo build --release --features custom-protocol --example blank`",
        path.display()
    );
    Ok(std::fs::canonicalize(&path)?)
}

/// What the blank window was measured at.
struct Blank {
    start: PageStart,
    memory: Memory,
    main_threads: u64,
}

/// Starts the blank window, measures it once its page has loaded and settled, and closes
/// it, waiting until every process of it has gone.
async fn measure_blank(binary: &Path) -> Result<Blank> {
    let window = App::launch_installed(binary, &[]).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = window
            .client
            .execute("return document.readyState", vec![])
            .await?;
        if state == "complete" {
            break;
        }
        ensure!(Instant::now() < deadline, "the blank page never loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let start = page_start(&window, binary, None).await?;
    // As the app is measured: some seconds after what it did last.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory = processes_memory(binary, None)?;
    let main = memory.main().context("the blank window's process")?;
    let main_threads = threads(main.pid);
    close_and_wait(window, binary).await?;
    Ok(Blank {
        start,
        memory,
        main_threads,
    })
}

/// Waits until the inbox can be used: its tabs counted and its first list drawn. The page
/// watches for it itself, so that the bench asks nothing of the app while it starts (a
/// WebDriver round trip every few milliseconds would take the CPU the app starts with).
async fn wait_for_usable_inbox(window: &App) -> Result<()> {
    // The session may open before the app's page has loaded: a script given to the page
    // before it would be lost with it.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = window
            .client
            .execute(
                "return location.protocol !== 'about:' && document.readyState !== 'loading'",
                vec![],
            )
            .await?;
        if state == true {
            break;
        }
        ensure!(Instant::now() < deadline, "the app's page never loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let usable = window
        .client
        .execute_async(
            r#"const done = arguments[0];
               const found = (xpath) => document
                 .evaluate(xpath, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null)
                 .snapshotLength > 0;
               const usable = () =>
                 found("//*[@role='tab' and @aria-selected='true']//span[contains(@class, 'count') and normalize-space(.) != '0'] | //*[@role='tabpanel']//*[@role='option' or self::p]")
                 && found("//*[@role='tab'][starts-with(normalize-space(.), 'Bot')]//span[contains(@class, 'count') and normalize-space(.) != '0']");
               const until = performance.now() + 25000;
               const check = () => {
                 if (usable()) return done(true);
                 if (performance.now() > until) return done(false);
                 setTimeout(check, 4);
               };
               check();"#,
            vec![],
        )
        .await
        .context("waiting for the inbox")?;
    ensure!(usable == true, "the inbox never became usable");
    Ok(())
}

/// When a window's page began loading, had run its script, and (for the app) marked
/// `mark`: in milliseconds from its process's start.
struct PageStart {
    page_began_ms: f64,
    /// The end of DOMContentLoaded: the page's script has run.
    page_loaded_ms: f64,
    mark_ms: f64,
}

/// The page's own times (from its navigation's start) placed after its process's start:
/// the process's start is the kernel's, in time since boot, as is /proc/uptime, read
/// around the moment the page says what its clock reads.
async fn page_start(window: &App, binary: &Path, mark: Option<&str>) -> Result<PageStart> {
    let before = uptime()?;
    let times = window
        .client
        .execute(
            "const [mark] = arguments[0] ? performance.getEntriesByName(arguments[0]) : []; \
             const [page] = performance.getEntriesByType('navigation'); \
             return [performance.now(), page ? page.domContentLoadedEventEnd : null, \
               mark ? mark.startTime : null];",
            vec![mark.into()],
        )
        .await?;
    let after = uptime()?;
    let at = |i: usize| times.get(i).and_then(serde_json::Value::as_f64);
    let now = at(0).context("the page's clock")?;
    let since_start_ms = ((before + after) / 2.0 - started_after_boot(binary)?) * 1000.0;
    let page_began_ms = since_start_ms - now;
    let mark_ms = match mark {
        Some(name) => {
            page_began_ms + at(2).with_context(|| format!("the window never marked {name}"))?
        }
        None => f64::NAN,
    };
    Ok(PageStart {
        page_began_ms,
        page_loaded_ms: page_began_ms + at(1).unwrap_or(f64::NAN),
        mark_ms,
    })
}

/// Seconds since boot.
fn uptime() -> Result<f64> {
    std::fs::read_to_string("/proc/uptime")?
        .split_whitespace()
        .next()
        .and_then(|u| u.parse().ok())
        .context("reading /proc/uptime")
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

/// One process of a window's, and what it holds.
#[derive(Debug)]
struct Process {
    pid: u32,
    name: String,
    /// The window's own process (not one of WebKit's under it).
    main: bool,
    /// Proportional set size: private pages, and each shared page divided among the
    /// processes mapping it.
    pss_kib: u64,
    /// The same with only this window's processes counted as sharing a page: what it holds
    /// whatever else runs on the machine (another program with WebKit takes a part of
    /// every library page from the PSS of both).
    alone_kib: Option<f64>,
    /// Pages no other process maps: what quitting it would free.
    private_kib: u64,
    /// Where it holds them.
    split: Split,
}

/// Every process of a window, and where each holds its memory.
#[derive(Debug)]
struct Memory {
    processes: Vec<Process>,
}

impl Memory {
    fn total_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.pss_kib).sum()
    }

    fn total_alone_kib(&self) -> Option<f64> {
        self.processes.iter().map(|p| p.alone_kib).sum()
    }

    fn private_kib(&self) -> u64 {
        self.processes.iter().map(|p| p.private_kib).sum()
    }

    fn main(&self) -> Option<&Process> {
        self.processes.iter().find(|p| p.main)
    }

    /// The processes of a kind: the main one ("main"), or WebKit's of that name.
    fn of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Process> {
        self.processes.iter().filter(move |p| {
            if kind == "main" {
                p.main
            } else {
                !p.main && p.name == kind
            }
        })
    }

    fn print(&self, what: &str) {
        let alone = self
            .total_alone_kib()
            .map(|kib| {
                format!(
                    " ({:.0} MiB counting this window's processes alone)",
                    kib / MIB
                )
            })
            .unwrap_or_default();
        println!(
            "{what}: {:.0} MiB PSS{alone}, {:.0} MiB private, in {} processes ({})",
            mib(self.total_kib()),
            mib(self.private_kib()),
            self.processes.len(),
            self.processes
                .iter()
                .map(|p| format!(
                    "{} {:.0} MiB ({:.0} private)",
                    p.name,
                    mib(p.pss_kib),
                    mib(p.private_kib)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }

    /// The app's processes beside the blank window's, kind by kind: PSS, and PSS counting
    /// each window's processes alone.
    fn print_beside(app: &Memory, blank: &Memory) {
        let mut kinds = vec!["main".to_owned()];
        for p in app.processes.iter().chain(&blank.processes) {
            if !p.main && !kinds.contains(&p.name) {
                kinds.push(p.name.clone());
            }
        }
        println!(
            "  {:<20} {:>8} {:>8} {:>9}   {:>8} {:>8} {:>9}",
            "PSS, MiB", "app", "blank", "app−blank", "alone:app", "blank", "app−blank"
        );
        let row = |label: &str, a: f64, b: f64, a_alone: Option<f64>, b_alone: Option<f64>| {
            let alone = match (a_alone, b_alone) {
                (Some(a), Some(b)) => {
                    format!("{:>8.1} {:>8.1} {:>+9.1}", a / MIB, b / MIB, (a - b) / MIB)
                }
                _ => String::new(),
            };
            println!("  {label:<20} {a:>8.1} {b:>8.1} {:>+9.1}   {alone}", a - b);
        };
        for kind in &kinds {
            let pss = |m: &Memory| mib(m.of(kind).map(|p| p.pss_kib).sum());
            let alone = |m: &Memory| m.of(kind).map(|p| p.alone_kib).sum::<Option<f64>>();
            let label = if kind == "main" {
                "main (Rust, GTK)"
            } else {
                kind
            };
            row(label, pss(app), pss(blank), alone(app), alone(blank));
        }
        row(
            "all",
            mib(app.total_kib()),
            mib(blank.total_kib()),
            app.total_alone_kib(),
            blank.total_alone_kib(),
        );
    }

    /// How far the app stands above the blank window, all its processes and its main one
    /// (MiB): counting each window's processes alone where the page frames can be read,
    /// else PSS.
    fn above(app: &Memory, blank: &Memory) -> (f64, f64, &'static str) {
        let main = |m: &Memory| m.main().map(|p| (p.pss_kib, p.alone_kib));
        match (
            app.total_alone_kib(),
            blank.total_alone_kib(),
            main(app),
            main(blank),
        ) {
            (Some(a), Some(b), Some((_, Some(am))), Some((_, Some(bm)))) => (
                (a - b) / MIB,
                (am - bm) / MIB,
                "PSS counting each window's processes alone",
            ),
            (_, _, Some((am, _)), Some((bm, _))) => (
                mib(app.total_kib()) - mib(blank.total_kib()),
                mib(am) - mib(bm),
                "PSS",
            ),
            _ => (f64::NAN, f64::NAN, "PSS"),
        }
    }
}

/// The memory of the process running `binary` and every process under it (WebKit's web
/// and network processes), from /proc; and where the main one holds its memory, with the
/// store at `store`.
fn processes_memory(binary: &Path, store: Option<&Path>) -> Result<Memory> {
    let mut parents = BTreeMap::<u32, u32>::new();
    let mut names = BTreeMap::<u32, String>::new();
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
            == Some(binary)
        {
            roots.insert(pid);
        }
    }
    ensure!(!roots.is_empty(), "{} is not running", binary.display());
    let under = |mut pid: u32| loop {
        if roots.contains(&pid) {
            return true;
        }
        match parents.get(&pid) {
            Some(&parent) if parent > 1 && parent != pid => pid = parent,
            _ => return false,
        }
    };
    let mut processes = Vec::new();
    let mut maps = Vec::new();
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
        processes.push(Process {
            pid,
            name: name.clone(),
            main: roots.contains(&pid),
            pss_kib: field("Pss:"),
            alone_kib: None,
            private_kib: field("Private_Clean:") + field("Private_Dirty:"),
            split: Split::default(),
        });
        maps.push(mappings(pid)?);
        if std::env::var_os("TSUNAGI_BENCH_SMAPS").is_some() {
            println!(
                "    {name} ({pid}), the mappings holding most: {}",
                largest_mappings(pid)
            );
        }
    }
    // Each page in memory, by its frame, counted once for every mapping of it in these
    // processes: a page's part of each mapping is one over that count.
    let frames: Option<Vec<Vec<Vec<u64>>>> = processes
        .iter()
        .zip(&maps)
        .map(|(p, maps)| frames(p.pid, maps))
        .collect();
    if let Some(frames) = frames {
        let mut mapped = std::collections::HashMap::<u64, u32>::new();
        for frame in frames.iter().flatten().flatten() {
            *mapped.entry(*frame).or_default() += 1;
        }
        let alone = |frames: &[u64]| -> f64 {
            frames
                .iter()
                .map(|f| PAGE_KIB / f64::from(mapped.get(f).copied().unwrap_or(1)))
                .sum()
        };
        for ((process, maps), frames) in processes.iter_mut().zip(&maps).zip(&frames) {
            let alone: Vec<f64> = frames.iter().map(|f| alone(f)).collect();
            process.alone_kib = Some(alone.iter().sum());
            process.split = Split::of(maps, Some(&alone), binary, store);
        }
    } else {
        for (process, maps) in processes.iter_mut().zip(&maps) {
            process.split = Split::of(maps, None, binary, store);
        }
    }
    Ok(Memory { processes })
}

const PAGE: u64 = 4096;
const PAGE_KIB: f64 = 4.0;

/// The page frames of the pages each of `maps` (mappings of `pid`) holds in memory, from
/// the kernel's page map; `None` where the frames are hidden (to all but root).
fn frames(pid: u32, maps: &[Mapping]) -> Option<Vec<Vec<u64>>> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut pagemap = std::fs::File::open(format!("/proc/{pid}/pagemap")).ok()?;
    let mut all = Vec::with_capacity(maps.len());
    let mut entries = vec![0u8; 8 << 16];
    for m in maps {
        let mut frames = Vec::new();
        // (Mappings reserved but untouched, JavaScriptCore's gigabytes among them, are
        // not read through.)
        let mut page = if m.rss_kib > 0 {
            m.start / PAGE
        } else {
            m.end / PAGE
        };
        while page < m.end / PAGE {
            let count = (m.end / PAGE - page).min(1 << 16) as usize;
            let chunk = &mut entries[..count * 8];
            pagemap.seek(SeekFrom::Start(page * 8)).ok()?;
            pagemap.read_exact(chunk).ok()?;
            for entry in chunk.chunks_exact(8) {
                let entry = u64::from_le_bytes(entry.try_into().ok()?);
                if entry >> 63 == 1 {
                    let frame = entry & ((1 << 55) - 1);
                    if frame == 0 {
                        return None;
                    }
                    frames.push(frame);
                }
            }
            page += count as u64;
        }
        all.push(frames);
    }
    Some(all)
}

/// One mapping of a process, from /proc/PID/smaps.
#[derive(Debug)]
struct Mapping {
    start: u64,
    end: u64,
    perms: String,
    path: String,
    pss_kib: u64,
    rss_kib: u64,
}

fn mappings(pid: u32) -> Result<Vec<Mapping>> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps"))
        .with_context(|| format!("reading the mappings of {pid}"))?;
    let mut all: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = fields.first() else {
            continue;
        };
        if let Some((start, end)) = first.split_once('-')
            && !first.ends_with(':')
            && let (Ok(start), Ok(end)) =
                (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        {
            all.push(Mapping {
                start,
                end,
                perms: fields.get(1).map_or("", |p| p).to_owned(),
                path: fields.get(5..).map(|p| p.join(" ")).unwrap_or_default(),
                pss_kib: 0,
                rss_kib: 0,
            });
        } else if let Some(current) = all.last_mut() {
            let kib = || fields.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            match *first {
                "Pss:" => current.pss_kib += kib(),
                "Rss:" => current.rss_kib += kib(),
                _ => {}
            }
        }
    }
    Ok(all)
}

/// What a main process's memory is made of, by what maps it: PSS, and PSS counting the
/// window's processes alone (KiB).
#[derive(Debug, Default, Clone)]
struct Split(BTreeMap<&'static str, (f64, Option<f64>)>);

/// The kinds a process's memory is split into, in the order they are printed.
const KINDS: [&str; 12] = [
    "SQLite memory map of the store",
    "SQLite WAL index (desk.db-shm)",
    "malloc: main heap",
    "malloc: threads' arenas",
    "thread stacks",
    "other anonymous (big allocations, buffers)",
    "anonymous, executable (JIT code)",
    "the program's own code (its binary)",
    "WebKit, JavaScriptCore (libraries)",
    "GTK, GLib, Mesa and other libraries",
    "shared memory (memfd, shm, GPU)",
    "other files (fonts, icons, locales)",
];

/// glibc's arenas beside the main heap are reserved in aligned blocks of this size.
const ARENA_BLOCK: u64 = 64 << 20;

impl Split {
    /// Splits the memory of a process with the mappings `all` (and what each holds
    /// counting its window alone, `alone`), which runs `binary` and may map `store`.
    fn of(all: &[Mapping], alone: Option<&[f64]>, binary: &Path, store: Option<&Path>) -> Self {
        let binary = binary.to_string_lossy();
        let store = store.map(|s| s.to_string_lossy().into_owned());
        let mut split = Split::default();
        for (i, m) in all.iter().enumerate() {
            let anonymous = m.path.is_empty();
            let next = all.get(i + 1).filter(|n| n.start == m.end);
            let previous = i
                .checked_sub(1)
                .and_then(|p| all.get(p))
                .filter(|p| p.end == m.start);
            let kind = if store.as_deref().is_some_and(|s| m.path == s) {
                KINDS[0]
            } else if store
                .as_deref()
                .is_some_and(|s| m.path == format!("{s}-shm"))
            {
                KINDS[1]
            } else if m.path == "[heap]" {
                KINDS[2]
            } else if anonymous
                && m.start % ARENA_BLOCK == 0
                && (m.end - m.start == ARENA_BLOCK
                    || next.is_some_and(|n| {
                        n.path.is_empty() && n.perms == "---p" && n.end == m.start + ARENA_BLOCK
                    }))
            {
                KINDS[3]
            } else if m.path == "[stack]"
                || (anonymous
                    && previous.is_some_and(|p| {
                        p.path.is_empty() && p.perms == "---p" && p.end - p.start <= 64 << 10
                    }))
            {
                KINDS[4]
            } else if anonymous && m.perms.contains('x') {
                KINDS[6]
            } else if anonymous {
                KINDS[5]
            } else if m.path == binary {
                KINDS[7]
            } else if m.path.contains("libwebkit2gtk") || m.path.contains("libjavascriptcore") {
                KINDS[8]
            } else if m.path.contains(".so") {
                KINDS[9]
            } else if m.path.starts_with("/memfd:")
                || m.path.starts_with("/dev/")
                || m.path.starts_with("/SYSV")
            {
                KINDS[10]
            } else {
                KINDS[11]
            };
            let entry = split.0.entry(kind).or_insert((0.0, alone.map(|_| 0.0)));
            entry.0 += m.pss_kib as f64;
            if let (Some(sum), Some(alone)) = (entry.1.as_mut(), alone) {
                *sum += alone.get(i).copied().unwrap_or(0.0);
            }
        }
        split
    }

    fn print_beside(app: &Split, blank: &Split, whole: &str) {
        println!(
            "  {:<44} {:>8} {:>8} {:>9}   {:>9} {:>8} {:>9}",
            "PSS, MiB", "app", "blank", "app−blank", "alone:app", "blank", "app−blank"
        );
        let (mut a_all, mut b_all) = ((0.0, Some(0.0)), (0.0, Some(0.0)));
        let add = |all: &mut (f64, Option<f64>), (pss, alone): (f64, Option<f64>)| {
            all.0 += pss;
            all.1 = all.1.zip(alone).map(|(a, b)| a + b);
        };
        let row = |kind: &str, a: (f64, Option<f64>), b: (f64, Option<f64>)| {
            let alone = match (a.1, b.1) {
                (Some(a), Some(b)) => {
                    format!("{:>9.1} {:>8.1} {:>+9.1}", a / MIB, b / MIB, (a - b) / MIB)
                }
                _ => String::new(),
            };
            println!(
                "  {kind:<44} {:>8.1} {:>8.1} {:>+9.1}   {alone}",
                a.0 / MIB,
                b.0 / MIB,
                (a.0 - b.0) / MIB
            );
        };
        for kind in KINDS {
            let a = app.0.get(kind).copied().unwrap_or((0.0, Some(0.0)));
            let b = blank.0.get(kind).copied().unwrap_or((0.0, Some(0.0)));
            add(&mut a_all, a);
            add(&mut b_all, b);
            row(kind, a, b);
        }
        row(whole, a_all, b_all);
    }
}

/// How many SQLite connections the process `pid` holds on the store: its open files of it.
fn store_connections(pid: u32, store: &Path) -> usize {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.flatten()
        .filter(|fd| std::fs::read_link(fd.path()).ok().as_deref() == Some(store))
        .count()
}

/// Whether `name` (a table or index of the store) is part of the search index.
fn is_search_index(name: &str) -> bool {
    name.contains("_grams") || name == "search_progress"
}

/// Which of the store's pages the app's memory map holds, by the table or index they
/// belong to (KiB, most first): the kernel's page map says which pages of each mapping of
/// the store are present, and SQLite's `dbstat` which table each page is in.
async fn resident_store_pages(pid: u32, store: &Path) -> Result<Vec<(String, u64)>> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let store_name = store.to_string_lossy();
    let mut pagemap = std::fs::File::open(format!("/proc/{pid}/pagemap"))?;
    let mut present = BTreeSet::<u64>::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(5..).map(|p| p.join(" ")).as_deref() != Some(store_name.as_ref()) {
            continue;
        }
        let (start, end) = fields[0].split_once('-').context("a mapping's range")?;
        let start = u64::from_str_radix(start, 16)?;
        let end = u64::from_str_radix(end, 16)?;
        let offset = u64::from_str_radix(fields[2], 16)?;
        let pages = (end - start) / PAGE;
        let mut entries = vec![0u8; (pages * 8) as usize];
        pagemap.seek(SeekFrom::Start(start / PAGE * 8))?;
        pagemap.read_exact(&mut entries)?;
        for (i, entry) in entries.chunks_exact(8).enumerate() {
            let entry = u64::from_le_bytes(entry.try_into()?);
            if entry >> 63 == 1 {
                present.insert(offset / PAGE + i as u64);
            }
        }
    }
    // The page's table, read from the store as it is now, through a connection of our own.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(store)
        .read_only(true);
    let mut db = sqlx::ConnectOptions::connect(&options).await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut db)
        .await?;
    let pages: Vec<(String, i64)> = sqlx::query_as("SELECT name, pageno FROM dbstat")
        .fetch_all(&mut db)
        .await?;
    let per_page = (page_size as u64).div_ceil(PAGE).max(1);
    let mut by_name = BTreeMap::<String, u64>::new();
    for (name, pageno) in pages {
        let first = (pageno as u64 - 1) * per_page;
        let held = (first..first + per_page)
            .filter(|p| present.contains(p))
            .count() as u64;
        if held > 0 {
            *by_name.entry(name).or_default() += held * PAGE / 1024;
        }
    }
    let mut tables: Vec<_> = by_name.into_iter().collect();
    tables.sort_by_key(|(_, kib)| std::cmp::Reverse(*kib));
    Ok(tables)
}

/// How many threads the process `pid` runs.
fn threads(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
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

/// When the process running `binary` started, in seconds since boot (to the kernel's
/// clock tick).
fn started_after_boot(binary: &Path) -> Result<f64> {
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
            != Some(binary)
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
    anyhow::bail!("{} is not running", binary.display())
}
