//! A relay that is fake or compromised, as a desk meets it: ids with paths in them, and
//! answers that never end. The desk takes the relay's word for the log's content, never for
//! where its files go or how much it reads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tsunagi_desk::credentials::Vault;
use tsunagi_desk::media::MediaCache;
use tsunagi_desk::profile::{self, JoinError, JoinRequest};
use tsunagi_desk::relay::{self, DeviceToken, RelayClient};
use tsunagi_desk::sync::SyncOptions;
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::Seq;
use tsunagi_proto::api::{Enroll, ErrorCode};
use url::Url;

use crate::CHANNEL;

// The desk's bounds take whatever a real relay sends: every upload it keeps, and an entry
// made of the largest webhook it takes, with room for JSON's escapes.
const _: () = assert!(relay::MAX_UPLOAD >= tsunagi_relay::upload::MAX_IMAGE);
const _: () = assert!(relay::MAX_EVENT >= 4 * tsunagi_relay::http::MAX_WEBHOOK_BODY);

/// How the fake relay answers one request.
#[derive(Debug, Clone)]
enum Answer {
    Json(u16, serde_json::Value),
    /// `head`, then `again` for as long as the desk reads (a body without an end).
    Endless {
        status: u16,
        content_type: &'static str,
        head: Vec<u8>,
        again: Vec<u8>,
    },
    /// A file that says it is `length` bytes long (and sends a few).
    Announced {
        length: u64,
    },
    /// A file that sends a few bytes, then nothing more.
    Stalls,
}

impl Answer {
    fn endless(status: u16, content_type: &'static str, head: &str, again: &str) -> Self {
        Answer::Endless {
            status,
            content_type,
            head: head.as_bytes().to_vec(),
            again: again
                .repeat(64 * 1024 / again.len().max(1) + 1)
                .into_bytes(),
        }
    }
}

type Route = dyn Fn(&str, &str) -> Answer + Send + Sync;
type Routing = fn(&str, &str) -> Answer;

/// A relay that answers whatever `route` says to a method and a path: plain HTTP/1.1 over
/// a socket, one request a connection, for answers no real relay gives.
struct FakeRelay {
    url: Url,
    /// `METHOD /path` of each request, in order.
    asked: Arc<Mutex<Vec<String>>>,
}

impl FakeRelay {
    async fn start(route: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> FakeRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let log = asked.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, route.clone(), log.clone()));
            }
        });
        FakeRelay { url, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn serve(mut socket: TcpStream, route: Arc<Route>, asked: Arc<Mutex<Vec<String>>>) {
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    let end = loop {
        if let Some(at) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&read[..end]).into_owned();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("").to_owned();
    // Read the request's body, so closing the socket does not reset the answer.
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while read.len() < end + length {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => read.extend_from_slice(&buffer[..n]),
        }
    }
    asked.lock().unwrap().push(format!("{method} {path}"));
    let answer = route(method, &path);
    let _ = answer_with(&mut socket, answer).await;
}

async fn answer_with(socket: &mut TcpStream, answer: Answer) -> std::io::Result<()> {
    match answer {
        Answer::Json(status, body) => {
            let body = body.to_string();
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(body.as_bytes()).await?;
            socket.shutdown().await
        }
        Answer::Endless {
            status,
            content_type,
            head,
            again,
        } => {
            let start = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n"
            );
            socket.write_all(start.as_bytes()).await?;
            socket.write_all(&head).await?;
            loop {
                // Ends when the desk hangs up.
                socket.write_all(&again).await?;
            }
        }
        Answer::Announced { length } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&[0; 1024]).await?;
            socket.shutdown().await
        }
        Answer::Stalls => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\nconnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&[0; 1024]).await?;
            std::future::pending().await
        }
    }
}

fn client(relay: &FakeRelay) -> RelayClient {
    RelayClient::new(relay.url.clone(), DeviceToken::new("tsd_fake")).unwrap()
}

/// Every file under `root`, however deep.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

const DEVICE: &str = "0123456789abcdef0123456789abcdef";

fn enrolled(device: &str, channel: Option<&str>, role: &str) -> Answer {
    Answer::Json(
        200,
        json!({"device_id": device, "token": "tsd_fake", "channel_id": channel, "role": role}),
    )
}

#[tokio::test]
async fn a_relay_that_names_ids_with_paths_in_them_is_refused_at_joining_and_nothing_is_kept() {
    let attacks: [(&str, Routing); 3] = [
        ("a channel id", |_, _| {
            enrolled(DEVICE, Some("../../evil"), "staff")
        }),
        ("a device id", |_, _| {
            enrolled("../../evil", Some(CHANNEL), "staff")
        }),
        ("a channel among the relay's", |_, path| match path {
            "/v1/enroll" => enrolled(DEVICE, None, "owner"),
            _ => Answer::Json(
                200,
                json!([{"channel_id": "../../evil", "head": 0, "added_at": 0}]),
            ),
        }),
    ];
    for (what, route) in attacks {
        let fake = FakeRelay::start(route).await;
        // The desk's data two folders down, so "../../evil" from its media folder is
        // still inside `root`, where it can be looked for.
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("home").join("data");
        std::fs::create_dir_all(&data).unwrap();
        let vault = Vault::new("app.tsunagi.test", &data).without_keyring();
        let joined = profile::join(
            &data,
            &vault,
            &JoinRequest {
                relay: fake.url.to_string(),
                code: "ABCD-EFGH".into(),
                operator_name: "Aiko".into(),
                device_name: "Front desk".into(),
                channel: None,
            },
        )
        .await;
        match joined {
            Err(JoinError::Suspect(why)) => assert!(why.contains("../../evil"), "{what}: {why}"),
            other => panic!("{what}: {other:?}"),
        }
        assert_eq!(files_under(root.path()), Vec::<PathBuf>::new(), "{what}");
        assert!(profile::Profile::load(&data).unwrap().is_none(), "{what}");
    }
}

#[tokio::test]
async fn a_profile_that_names_a_channel_with_a_path_in_it_is_not_opened() {
    // Kept by a version that took the relay's word for the channel.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profile.json"),
        json!({
            "relay": "https://relay.example.com/",
            "channel_id": "../../.bashrc.d",
            "device_id": DEVICE,
            "role": "staff",
            "operator": "Aiko",
        })
        .to_string(),
    )
    .unwrap();
    let vault = Vault::new("app.tsunagi.test", dir.path()).without_keyring();
    let opened = profile::open(dir.path(), &vault, SyncOptions::default()).await;
    match opened {
        Err(tsunagi_desk::Error::Store(tsunagi_desk::StoreError::Unreadable(why))) => {
            assert!(
                why.contains("\"../../.bashrc.d\" is not a LINE channel id"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn media_named_with_a_path_is_refused_before_the_relay_is_asked_and_nothing_is_written() {
    let fake = FakeRelay::start(|_, _| Answer::Json(200, json!("relay-chosen bytes"))).await;
    let client = client(&fake);
    let (_db_dir, store) = store().await;
    let root = tempfile::tempdir().unwrap();
    let media = root.path().join("home").join("data").join("media");
    let cache = MediaCache::new(&media);
    for (channel, message) in [
        ("../../evil", "1"),
        ("..", "1"),
        (CHANNEL, "../../evil"),
        (CHANNEL, "1/../../../evil"),
        ("1656789012/../..", "1"),
    ] {
        let got = cache
            .get(
                (&client, &store),
                &ChannelId::from(channel),
                &MessageId::from(message),
                false,
            )
            .await;
        assert!(
            matches!(got, Err(tsunagi_desk::Error::Invalid(ref why)) if why.contains("is not a LINE")),
            "{channel}/{message}: {got:?}"
        );
    }
    assert_eq!(fake.asked(), Vec::<String>::new());
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());

    // The same relay, asked for a message that is one, is heard (and kept where it belongs).
    let kept = cache
        .get(
            (&client, &store),
            &ChannelId::from(CHANNEL),
            &MessageId::from("1"),
            false,
        )
        .await
        .unwrap();
    assert_eq!(kept.path, media.join(CHANNEL).join("1"));
}

async fn store() -> (tempfile::TempDir, tsunagi_desk::Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = tsunagi_desk::Store::open(&dir.path().join("desk.db"))
        .await
        .unwrap();
    (dir, store)
}

#[tokio::test]
async fn an_endless_error_answer_is_read_only_as_far_as_its_first_kilobytes() {
    let fake = FakeRelay::start(|_, _| Answer::endless(500, "text/plain", "", "x")).await;
    let refused = tokio::time::timeout(Duration::from_secs(20), client(&fake).channels())
        .await
        .expect("the endless error is read for ever");
    match refused {
        Err(relay::Error::Refused {
            status: 500,
            code: ErrorCode::Unknown,
            message,
        }) => {
            assert!((1..=4096).contains(&message.len()), "{}", message.len());
        }
        other => panic!("{other:?}"),
    }

    let enroll = Enroll {
        code: "ABCD-EFGH".into(),
        device_name: "Front desk".into(),
        operator_name: "Aiko".into(),
    };
    let refused = tokio::time::timeout(
        Duration::from_secs(20),
        RelayClient::enroll(&fake.url, &enroll),
    )
    .await
    .expect("the endless error is read for ever");
    assert!(
        matches!(refused, Err(relay::Error::Refused { status: 500, ref message, .. }) if message.len() <= 4096),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_endless_answer_is_refused_once_it_is_longer_than_any_the_relay_makes() {
    let fake = FakeRelay::start(|_, _| Answer::endless(200, "application/json", "[", "1,")).await;
    let refused = tokio::time::timeout(Duration::from_secs(60), client(&fake).channels())
        .await
        .expect("the endless answer is read for ever");
    assert!(
        matches!(refused, Err(relay::Error::TooLarge { what: "answer", .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_endless_event_on_the_log_stream_is_an_error_not_a_buffer() {
    for (what, endless) in [
        // One line that never ends.
        (
            "a line",
            Answer::endless(200, "text/event-stream", "data: ", "x"),
        ),
        // Lines that never come to the blank line that ends their event, in CRLF.
        (
            "an event",
            Answer::endless(200, "text/event-stream", "", "data: x\r\n"),
        ),
    ] {
        let fake = FakeRelay::start(move |_, _| endless.clone()).await;
        let mut stream = client(&fake)
            .stream(&ChannelId::from(CHANNEL), Seq(0), Duration::from_secs(20))
            .await
            .unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(60), stream.next())
            .await
            .expect("the endless event is read for ever");
        match ended {
            Err(error @ relay::Error::TooLarge { .. }) => {
                assert!(!error.is_transient(), "{what}");
                assert_eq!(
                    error.to_string(),
                    format!(
                        "the relay's log stream's event was over {} bytes and was not read further",
                        relay::MAX_EVENT
                    ),
                    "{what}"
                );
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn media_larger_than_the_limit_is_refused_and_leaves_no_file() {
    let (_db_dir, store) = store().await;
    for (what, answer, limit) in [
        (
            "a body without an end",
            Answer::endless(200, "video/mp4", "", "\0"),
            1024 * 1024,
        ),
        (
            "a length over the limit",
            Answer::Announced {
                length: relay::MAX_MEDIA + 1,
            },
            relay::MAX_MEDIA,
        ),
    ] {
        let fake = FakeRelay::start(move |_, _| answer.clone()).await;
        let root = tempfile::tempdir().unwrap();
        let cache = MediaCache::new(root.path()).limit(limit);
        let got = tokio::time::timeout(
            Duration::from_secs(60),
            cache.get(
                (&client(&fake), &store),
                &ChannelId::from(CHANNEL),
                &MessageId::from("7"),
                false,
            ),
        )
        .await
        .expect("the endless file is read for ever");
        assert!(
            matches!(
                got,
                Err(tsunagi_desk::Error::Relay(relay::Error::TooLarge {
                    what: "file",
                    ..
                }))
            ),
            "{what}: {got:?}"
        );
        assert_eq!(files_under(root.path()), Vec::<PathBuf>::new(), "{what}");
    }
}

#[tokio::test]
async fn a_download_given_up_half_way_leaves_no_file() {
    let fake = FakeRelay::start(|_, _| Answer::Stalls).await;
    let (_db_dir, store) = store().await;
    let root = tempfile::tempdir().unwrap();
    let cache = MediaCache::new(root.path());
    let client = client(&fake);
    let download = tokio::spawn(async move {
        cache
            .get(
                (&client, &store),
                &ChannelId::from(CHANNEL),
                &MessageId::from("7"),
                false,
            )
            .await
    });
    // The first bytes are on disk, beside where the file will be.
    let mut waited = Duration::ZERO;
    while files_under(root.path()).is_empty() {
        assert!(waited < Duration::from_secs(10), "nothing was written");
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    download.abort();
    assert!(download.await.unwrap_err().is_cancelled());
    assert_eq!(files_under(root.path()), Vec::<PathBuf>::new());
}
