//! Three relay processes on one PostgreSQL database, behind a round-robin front as a
//! load balancer would put them; linesim's patients writing, desks streaming and answering
//! through the front; then one relay is killed with SIGKILL and PostgreSQL crashes and
//! restarts, all under load.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tsunagi_desk::Store;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_desk::sync::{Sync, SyncOptions};
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, UserId};
use tsunagi_linesim::{Config, Simulator, UserAction};
use tsunagi_proto::api::{Enrolled, LogPage};
use tsunagi_proto::{ConversationId, EntryBody, Operation, SendOp, Seq, UnixMillis};
use tsunagi_relay::testing::{Stop, TestPostgres, free_port};
use url::Url;

const CHANNEL: &str = "1656789012";
const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
const RELAYS: usize = 3;
const DESKS: usize = 20;
const PATIENTS: usize = 12;
/// Fewer webhook events acknowledged than this, and the load was too light to tell.
const LOAD: usize = 200;

/// The relay binary this workspace built next to the tests.
fn relay_binary() -> PathBuf {
    let binary = tsunagi_e2e::app::target_dir()
        .join("debug")
        .join("tsunagi-relay");
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p tsunagi-relay)",
        binary.display()
    );
    binary
}

/// One relay process's command, on the shared data folder and database.
fn relay(data: &Path, database: &str, args: &[&str]) -> Command {
    let mut command = Command::new(relay_binary());
    command
        .args(args)
        .arg("--data")
        .arg(data)
        .env("TSUNAGI_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .env_remove("TSUNAGI_RELAY_KEY");
    command
}

/// The relays, by their ports; a killed one can be started again on its port.
struct Relays {
    data: PathBuf,
    database: String,
    front: String,
    sim: String,
    ports: Vec<u16>,
    children: Vec<Option<Child>>,
}

impl Relays {
    async fn start(&mut self, index: usize) {
        let port = self.ports[index];
        let log = std::fs::File::create(self.data.join(format!("relay-{index}.log"))).unwrap();
        let child = relay(&self.data, &self.database, &["serve"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &self.front])
            .args(["--line-api-base", &self.sim, "--line-data-base", &self.sim])
            // Another process takes a dead one's channels over within this.
            .args(["--executor-lease", "3s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children[index] = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
                && response.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "relay {index} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.children[index].take() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
    }
}

impl Drop for Relays {
    fn drop(&mut self) {
        for index in 0..self.children.len() {
            self.kill(index);
        }
    }
}

/// A load balancer in front of the relays: each connection goes to the next relay in
/// turn, or the one after when that one does not answer.
async fn round_robin(ports: Vec<u16>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let next = AtomicUsize::new(0);
        while let Ok((mut client, _)) = listener.accept().await {
            let first = next.fetch_add(1, Ordering::Relaxed);
            let ports = ports.clone();
            tokio::spawn(async move {
                for turn in 0..ports.len() {
                    let port = ports[(first + turn) % ports.len()];
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", port)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                        return;
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

struct Desk {
    sync: Sync,
    running: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Desk {
    /// Enrolls at `relay` (each relay takes 10 enrollments a minute from one address),
    /// and syncs through the front.
    async fn enroll(relay: &str, front: &str, code: &str, operator: &str) -> Desk {
        let enrolled = enroll(relay, code, operator).await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("desk.db")).await.unwrap();
        let client =
            RelayClient::new(Url::parse(front).unwrap(), DeviceToken::new(enrolled.token)).unwrap();
        let options = SyncOptions {
            dead_after: Duration::from_secs(3),
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_millis(500),
            ..SyncOptions::default()
        };
        let sync = Sync::new(store, client, ChannelId::from(CHANNEL), options);
        let running = {
            let sync = sync.clone();
            tokio::spawn(async move {
                let _ = sync.run(std::future::pending()).await;
            })
        };
        Desk {
            sync,
            running,
            _dir: dir,
        }
    }
}

pub(crate) async fn enroll(relay: &str, code: &str, operator: &str) -> Enrolled {
    let response = reqwest::Client::new()
        .post(format!("{relay}/v1/enroll"))
        .json(&serde_json::json!({
            "code": code, "device_name": format!("{operator}'s PC"), "operator_name": operator,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().await.unwrap()
    );
    response.json().await.unwrap()
}

/// The whole log, through the front.
async fn whole_log(front: &str, token: &str) -> LogPage {
    let http = reqwest::Client::new();
    let mut all = LogPage {
        entries: Vec::new(),
        head: Seq(0),
    };
    loop {
        let after = all.entries.last().map_or(0, |e| e.seq.0);
        let response = http
            .get(format!(
                "{front}/v1/channels/{CHANNEL}/log?after={after}&limit=1000"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let page: LogPage = response.json().await.unwrap();
        all.head = page.head;
        if page.entries.is_empty() {
            return all;
        }
        all.entries.extend(page.entries);
    }
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_relays_lose_and_repeat_nothing_through_a_kill_9_and_a_database_crash() {
    let mut postgres = TestPostgres::start().await;
    let database = postgres.new_database().await;
    let data = tempfile::tempdir().unwrap();
    let secret_file = data.path().join("secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    let added = relay(data.path(), &database, &["channel", "add", "--id", CHANNEL])
        .arg("--secret-file")
        .arg(&secret_file)
        .status()
        .unwrap();
    assert!(added.success());
    let codes: Vec<String> = (0..=DESKS)
        .map(|_| {
            let out = relay(
                data.path(),
                &database,
                &["invite", "--channel", CHANNEL, "--role", "owner"],
            )
            .stderr(Stdio::null())
            .output()
            .unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        })
        .collect();

    let ports: Vec<u16> = (0..RELAYS).map(|_| free_port()).collect();
    let front = round_robin(ports.clone()).await;
    let mut config = Config::new(CHANNEL, SECRET, "long-lived");
    config.webhook_url = Some(format!("{front}/webhook/line/{CHANNEL}"));
    // Every patient follows the account: a send to one who blocked it fails, rightly.
    config.users = tsunagi_linesim::population::followers(PATIENTS, 5);
    config.groups = Vec::new();
    // LINE redelivers what got no 2xx; the event keeps its webhook event id.
    config.redelivery = true;
    config.redelivery_attempts = 30;
    config.redelivery_interval_ms = 300;
    let sim = Simulator::new(config);
    let sim_url = format!(
        "http://{}",
        sim.clone()
            .serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    );
    let mut relays = Relays {
        data: data.path().to_owned(),
        database,
        front: front.clone(),
        sim: sim_url,
        ports,
        children: (0..RELAYS).map(|_| None).collect(),
    };
    for index in 0..RELAYS {
        relays.start(index).await;
    }
    let direct = |i: usize| format!("http://127.0.0.1:{}", relays.ports[i % RELAYS]);
    let mut desks = Vec::new();
    for (i, code) in codes[..DESKS].iter().enumerate() {
        desks.push(Desk::enroll(&direct(i), &front, code, &format!("desk {i}")).await);
    }
    // The auditor reads the log through the front, as one more device.
    let auditor_token = enroll(&direct(DESKS), &codes[DESKS], "auditor").await.token;

    // The load: patients write, desks answer, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let patients: Vec<UserId> = sim.users().into_iter().map(|u| u.user_id).collect();
    let writers: Vec<_> = patients
        .iter()
        .enumerate()
        .map(|(p, patient)| {
            let (sim, patient, stop) = (sim.clone(), patient.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let text = format!("patient {p} line {n}");
                    let _ = sim.say(&patient, UserAction::Text { text }).await;
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
            })
        })
        .collect();
    let sent_texts = Arc::new(std::sync::Mutex::new(Vec::<(UserId, String)>::new()));
    let answerers: Vec<_> = desks
        .iter()
        .enumerate()
        .map(|(d, desk)| {
            let (sync, stop, patients, sent) = (
                desk.sync.clone(),
                stop.clone(),
                patients.clone(),
                sent_texts.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let patient = &patients[(d + n) % patients.len()];
                    let text = format!("desk {d} answer {n}");
                    let op = Operation::Send(SendOp {
                        conversation: ConversationId::from(patient.as_str()),
                        messages: vec![Message::text(text.clone())],
                        retry_key: RetryKey::new(),
                        prefer_reply_token: true,
                    });
                    // Kept in the desk's outbox while no relay answers, and sent later.
                    sync.submit(&op, UnixMillis::now()).await.unwrap();
                    sent.lock().unwrap().push((patient.clone(), text));
                    n += 1;
                    tokio::time::sleep(Duration::from_millis(700)).await;
                }
            })
        })
        .collect();

    // Each fault comes once the load has met the one before: webhooks acknowledged, and
    // messages delivered (the channel's executor runs), through whichever relays are up.
    // Events acknowledged, redeliveries counted again.
    let acknowledged = || {
        sim.webhook_attempts()
            .iter()
            .filter(|a| a.succeeded())
            .map(|a| a.webhook_event_ids.len())
            .sum::<usize>()
    };
    let failed = || {
        sim.webhook_attempts()
            .iter()
            .filter(|a| !a.succeeded())
            .count()
    };
    let delivered = || {
        patients
            .iter()
            .map(|patient| sim.inbox(patient.as_str()).len())
            .sum::<usize>()
    };
    // Most messages one call to LINE delivers. More than that since a relay was killed:
    // a call made by another, whatever the dead one's last call still delivers.
    const ONE_CALL: usize = 5;
    let within = Duration::from_secs(60);
    until("the load to be under way", within, async || {
        acknowledged() >= 20 && delivered() > 0
    })
    .await;

    relays.kill(1);
    let (acked, sent) = (acknowledged(), delivered());
    until(
        "the relays left to take webhooks and run the executor",
        within,
        async || acknowledged() >= acked + 20 && delivered() > sent + ONE_CALL,
    )
    .await;

    postgres.stop(Stop::Immediate);
    let before = failed();
    until("a webhook to meet the outage", within, async || {
        failed() > before
    })
    .await;

    postgres.start_again().await;
    let before = acknowledged();
    until(
        "a webhook logged on the restarted database",
        within,
        async || acknowledged() > before,
    )
    .await;

    relays.start(1).await;
    let (acked, sent) = (acknowledged(), delivered());
    // Until the load was heavy enough in all (checked below, by event ids).
    until(
        "the load to go on through three relays",
        within,
        async || acknowledged() >= (acked + 20).max(LOAD + 1) && delivered() > sent + ONE_CALL,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for task in writers.into_iter().chain(answerers) {
        task.await.unwrap();
    }

    // Every webhook LINE saw acknowledged is in the log once; nothing is there twice.
    let attempts = sim.webhook_attempts();
    let acknowledged: Vec<String> = attempts
        .iter()
        .filter(|a| a.succeeded())
        .flat_map(|a| a.webhook_event_ids.clone())
        .collect();
    let failed = attempts.iter().filter(|a| !a.succeeded()).count();
    assert!(
        acknowledged.len() > LOAD,
        "the load was too light: {} events",
        acknowledged.len()
    );
    assert!(
        failed > 0,
        "no webhook met a fault: the faults missed the load"
    );
    let sent_texts = sent_texts.lock().unwrap().clone();
    let undelivered = || -> Vec<&(UserId, String)> {
        sent_texts
            .iter()
            .filter(|(patient, text)| {
                !sim.inbox(patient.as_str())
                    .iter()
                    .any(|d| d.message["text"] == text.as_str())
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while !undelivered().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let missing = undelivered();
    if !missing.is_empty() {
        let log = whole_log(&front, &auditor_token).await;
        let logged = missing
            .iter()
            .filter(|(_, text)| format!("{:?}", log.entries).contains(text.as_str()))
            .count();
        let pending: usize = futures_util::future::join_all(
            desks
                .iter()
                .map(|d| async { d.sync.store().pending().await.unwrap().len() }),
        )
        .await
        .iter()
        .sum();
        let logs: String = (0..RELAYS)
            .map(|i| {
                let text = std::fs::read_to_string(data.path().join(format!("relay-{i}.log")))
                    .unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "relay {i}:\n{}\n",
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect();
        panic!(
            "{} of {} answers never reached their patient ({logged} of them logged; {pending} ops pending in desks), e.g. {:?}\n{logs}",
            missing.len(),
            sent_texts.len(),
            &missing[..missing.len().min(3)]
        );
    }
    let log = whole_log(&front, &auditor_token).await;
    assert_eq!(
        log.entries.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        (1..=log.head.0).collect::<Vec<_>>(),
        "the log has gaps"
    );
    let mut logged: HashMap<String, usize> = HashMap::new();
    for entry in &log.entries {
        if let EntryBody::Line { event, .. } = &entry.body {
            let event: serde_json::Value = serde_json::from_str(event.get()).unwrap();
            *logged
                .entry(event["webhookEventId"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !logged.contains_key(*id))
        .collect();
    assert!(lost.is_empty(), "acknowledged, then lost: {lost:?}");
    let twice: Vec<(&String, &usize)> = logged.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "logged twice: {twice:?}");

    // Every answer went out exactly once, however many relays tried. Once each send has
    // its outcome logged, none is tried again; and a call made by a relay that lost the
    // channel's lease ended before the next holder's first.
    until("every send's outcome to be logged", within, async || {
        let log = whole_log(&front, &auditor_token).await;
        let mut sends = Vec::new();
        let mut ended = std::collections::HashSet::new();
        for entry in &log.entries {
            let EntryBody::Op { op_id, op, .. } = &entry.body else {
                continue;
            };
            match op.known() {
                Some(Operation::Send(_)) => sends.push(*op_id),
                Some(Operation::Sent { send, .. } | Operation::SendFailed { send, .. }) => {
                    ended.insert(*send);
                }
                _ => {}
            }
        }
        sends.iter().all(|send| ended.contains(send))
    })
    .await;
    let mut deliveries: BTreeMap<&str, usize> = BTreeMap::new();
    for (patient, text) in &sent_texts {
        let count = sim
            .inbox(patient.as_str())
            .iter()
            .filter(|d| d.message["text"] == text.as_str())
            .count();
        deliveries.insert(text, count);
    }
    let not_once: Vec<_> = deliveries.iter().filter(|(_, n)| **n != 1).collect();
    assert!(not_once.is_empty(), "sent other than once: {not_once:?}");
    eprintln!(
        "{} events acknowledged ({failed} webhook attempts failed and were redelivered), \
         {} answers sent once each, log head {}",
        acknowledged.len(),
        sent_texts.len(),
        log.head
    );

    // Every desk ends with the same store, caught up with the log.
    let head = log.head;
    for (i, desk) in desks.iter().enumerate() {
        let store = desk.sync.store();
        until(
            &format!("desk {i} to catch up"),
            Duration::from_secs(60),
            async || {
                store.pending().await.unwrap().is_empty() && store.cursor().await.unwrap() >= head
            },
        )
        .await;
    }
    let final_log = whole_log(&front, &auditor_token).await;
    for desk in &desks {
        let store = desk.sync.store();
        until("the last entries", Duration::from_secs(30), async || {
            store.cursor().await.unwrap() == final_log.head
        })
        .await;
    }
    let fingerprints: Vec<String> = futures_util::future::join_all(
        desks
            .iter()
            .map(|d| async { d.sync.store().fingerprint().await.unwrap() }),
    )
    .await;
    assert!(
        fingerprints.iter().all(|f| *f == fingerprints[0]),
        "the desks' stores differ"
    );
    for desk in &desks {
        desk.running.abort();
    }
    drop(relays);
}
