//! A full disk: ingest answers 503, never 200, and recovers once space is freed.
//!
//! Needs root to mount a small tmpfs (as CI runs); skipped with a message otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr as _;
use std::sync::Arc;

use pretty_assertions::assert_eq;
use sqlx::Connection as _;
use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::EntryBody;
use tsunagi_proto::api::Role;
use tsunagi_relay::Relay;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::SqliteStore;

use crate::{CHANNEL, SECRET};

/// A tmpfs of a given size, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .ok()?
            .success();
        mounted.then(|| Tmpfs(at.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        self.remount(&format!("size={size}"));
    }

    fn remount(&self, options: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A relay whose database is on a 1 MB tmpfs under `dir`, with the channel: the
/// filesystem, the database's path, the relay.
async fn relay_on_a_small_disk(dir: &Path) -> (Tmpfs, PathBuf, Arc<Relay<SqliteStore>>) {
    let Some(fs) = Tmpfs::mount(&dir.join("fs"), "1m") else {
        panic!("running as root but could not mount a tmpfs");
    };
    let db = fs.0.join("relay.db");
    let relay = Arc::new(Relay::new(
        SqliteStore::open(&db).await.unwrap(),
        RelayKey::generate(),
    ));
    relay
        .add_channel(&ChannelId::from(CHANNEL), ChannelSecret::new(SECRET))
        .await
        .unwrap();
    (fs, db, relay)
}

/// Serves `relay` on a free port; its address.
async fn serve(relay: &Arc<Relay<SqliteStore>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = tsunagi_relay::http::router(relay.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Posts a signed [`heavy`] webhook with event id `id`; the status.
async fn post_heavy(http: &reqwest::Client, base: &str, id: String) -> u16 {
    let body = heavy(&id);
    http.post(format!("{base}/webhook/line/{CHANNEL}"))
        .header("x-line-signature", sign(SECRET.as_bytes(), body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A webhook with one event carrying about 8 KB of text.
fn heavy(id: &str) -> String {
    crate::callback(&[id]).replace("สวัสดี", &"ก".repeat(2_700))
}

#[tokio::test]
async fn a_full_disk_gets_503_never_200_and_recovers_when_space_is_freed() {
    if !is_root() {
        eprintln!("skipped: mounting a small filesystem needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (fs, db, relay) = relay_on_a_small_disk(dir.path()).await;
    let invited = relay
        .invite(&ChannelId::from(CHANNEL), Role::Owner, None)
        .await
        .unwrap();
    let base = serve(&relay).await;
    let http = reqwest::Client::new();
    let post = |id: String| post_heavy(&http, &base, id);

    // Fill the disk.
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..1_000 {
        let id = format!("01F{i:05}");
        match post(id.clone()).await {
            200 => acknowledged.push(id),
            503 => {
                refused += 1;
                if refused == 5 {
                    break;
                }
            }
            other => panic!("a full disk answered {other}"),
        }
    }
    assert_eq!(refused, 5, "the disk never filled");
    assert!(!acknowledged.is_empty());

    // Space is freed: the same process recovers.
    fs.resize("16m");
    let after = format!("01G{:05}", 0);
    assert_eq!(post(after.clone()).await, 200);
    acknowledged.push(after);

    // Everything acknowledged is there once, with no gap, and the database is sound.
    let enrolled = crate::redeem(&http, &base, &invited.code).await;
    let page = crate::read_page(&http, &base, &enrolled.token, "limit=1000").await;
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, (1..=page.head.0).collect::<Vec<_>>(), "no gaps");
    let logged: Vec<String> = page
        .entries
        .iter()
        .map(|e| {
            let EntryBody::Line { event, .. } = &e.body else {
                panic!()
            };
            let event: serde_json::Value = serde_json::from_str(event.get()).unwrap();
            event["webhookEventId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        logged, acknowledged,
        "everything acknowledged, once, in order"
    );

    let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(&db)
        .read_only(true);
    let mut check = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM entries")
        .fetch_one(&mut check)
        .await
        .unwrap();
    assert_eq!(
        count as usize,
        acknowledged.len(),
        "a fresh connection sees the same"
    );
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut check)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    relay.close();
}

/// The log writer cut off from its database: a write fails (the disk is full) and the
/// database cannot be opened again (its path no longer leads to it). The relay says it is
/// not ready until the writer has its database back.
#[tokio::test]
async fn readyz_fails_while_the_log_writer_cannot_reach_its_database() {
    if !is_root() {
        eprintln!("skipped: mounting a small filesystem needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (fs, db, relay) = relay_on_a_small_disk(dir.path()).await;
    let base = serve(&relay).await;
    let http = reqwest::Client::new();
    let ready = || {
        let (http, base) = (http.clone(), base.clone());
        async move {
            http.get(format!("{base}/readyz"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let until = |want: u16| async move {
        for _ in 0..200 {
            if ready().await == want {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("/readyz never answered {want}");
    };
    assert_eq!(ready().await, 200);

    // The path leads elsewhere (the file kept under another name), then a write fails.
    let kept = fs.0.join("kept.db");
    std::fs::hard_link(&db, &kept).unwrap();
    std::fs::remove_file(&db).unwrap();
    std::fs::create_dir(&db).unwrap();
    for i in 0..1_000 {
        if post_heavy(&http, &base, format!("01F{i:05}")).await == 503 {
            break;
        }
    }
    until(503).await;

    // The database is back where it belongs, with room: ready again, on its own.
    std::fs::remove_dir(&db).unwrap();
    std::fs::rename(&kept, &db).unwrap();
    fs.resize("16m");
    until(200).await;
    relay.close();
}
