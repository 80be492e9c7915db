//! Where the relay's calls to owner-named addresses may go (issue 29, hole 3): an owner
//! points the AI endpoint at what only the relay can reach, and nothing gets there. The
//! tests' servers are all on loopback, the only network tests may use; a relay that is to
//! refuse them is told to allow another network (a clinic's LAN), never loopback.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tsunagi_domain::automation::AiQuestion;
use tsunagi_proto::api::Role;
use tsunagi_proto::{AiSettings, ConversationId, EntryBody, LoggedOp, Operation, Seq, Setting};
use tsunagi_relay::assistant::{self, FAILED, Reply, UNREACHABLE};
use tsunagi_relay::egress::{Egress, parse_network};
use tsunagi_relay::telegram::{Telegram, TelegramError};
use tsunagi_relay::testing::{TestRelay, loopback};

use crate::CHANNEL;

/// A clinic's LAN the operator allowed: not loopback, where the tests' servers are.
fn clinic_lan() -> Vec<ipnet::IpNet> {
    vec![parse_network("10.20.0.0/16").unwrap()]
}

fn settings(base_url: &str) -> AiSettings {
    AiSettings {
        base_url: base_url.into(),
        model: "clinic-1".into(),
        prompt: "Sakura Clinic.".into(),
        history: 10,
        timeout_seconds: 5,
        when_open: true,
        when_closed: true,
    }
}

fn question() -> AiQuestion {
    AiQuestion {
        conversation: ConversationId::from("U1"),
        question: Seq(3),
        text: "What time do you open?".into(),
        history: vec![],
        language: Some("en".into()),
    }
}

/// A listener that never answers: whatever connects to it waits in its backlog.
struct Untouched {
    listener: std::net::TcpListener,
    port: u16,
}

impl Untouched {
    fn bind() -> Untouched {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        Untouched { listener, port }
    }

    /// Whether a connection ever reached it. A connect completes in the kernel, before the
    /// caller hears back; so once a call has returned, any connection it made is here.
    fn was_reached(&self) -> bool {
        match self.listener.accept() {
            Ok(_) => true,
            Err(error) if error.kind() == ErrorKind::WouldBlock => false,
            Err(error) => panic!("{error}"),
        }
    }
}

/// What a test server does with each request.
#[derive(Clone)]
enum Answer {
    /// The same bytes, status line and all.
    Raw(Vec<u8>),
    /// 200 and a body that goes on (up to 256 MiB, so the test ends): the bytes it wrote.
    Endless(Arc<AtomicU64>),
}

/// A server on loopback answering every request with `answer`.
async fn server(answer: Answer) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let serving = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let answer = answer.clone();
            tokio::spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                match answer {
                    Answer::Raw(bytes) => {
                        let _ = stream.write_all(&bytes).await;
                        let _ = stream.shutdown().await;
                    }
                    Answer::Endless(written) => endless(stream, &written).await,
                }
            });
        }
    });
    (address, serving)
}

/// Reads one request, head and body, so that the answer is not cut short by a reset.
async fn read_request(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buffer = [0; 8192];
    loop {
        let Ok(n @ 1..) = stream.read(&mut buffer).await else {
            return false;
        };
        seen.extend_from_slice(&buffer[..n]);
        let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while seen.len() < end + 4 + length {
            let Ok(n @ 1..) = stream.read(&mut buffer).await else {
                return false;
            };
            seen.extend_from_slice(&buffer[..n]);
        }
        return true;
    }
}

async fn endless(mut stream: TcpStream, written: &AtomicU64) {
    const LIMIT: u64 = 256 * 1024 * 1024;
    let head =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if stream.write_all(head).await.is_err() {
        return;
    }
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b' ', 0x10000));
    chunk.extend_from_slice(b"\r\n");
    while written.load(Ordering::SeqCst) < LIMIT {
        if stream.write_all(&chunk).await.is_err() {
            return;
        }
        written.fetch_add(0x10000, Ordering::SeqCst);
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
}

fn raw(status: &str, headers: &str, body: &str) -> Answer {
    Answer::Raw(
        format!(
            "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn completion(text: &str) -> Answer {
    let body = json!({ "choices": [{ "message": { "content": text }, "finish_reason": "stop" }] });
    raw(
        "200 OK",
        "content-type: application/json\r\n",
        &body.to_string(),
    )
}

#[tokio::test]
async fn an_ai_endpoint_on_loopback_by_address_or_by_name_is_refused_and_never_reached() {
    let target = Untouched::bind();
    let port = target.port;
    let egress = Egress::new(clinic_lan());
    for base_url in [
        format!("https://127.0.0.1:{port}/v1"),
        format!("http://127.0.0.1:{port}/v1"),
        format!("https://[::ffff:127.0.0.1]:{port}/v1"),
        // A name the relay resolves to 127.0.0.1, as a rebinding name would at call time.
        format!("https://localhost:{port}/v1"),
        format!("http://localhost:{port}/v1"),
    ] {
        let reply = assistant::ask(&egress, &settings(&base_url), "sk-clinic", &question()).await;
        assert_eq!(reply, Reply::HandOver(UNREACHABLE.into()), "{base_url}");
        assert!(!target.was_reached(), "{base_url} was called");
    }
}

#[tokio::test]
async fn an_operator_allowed_network_lets_the_clinics_lan_model_answer_and_only_it() {
    // Loopback stands in for the clinic's LAN: the only network a test may call.
    let (model, _serving) = server(completion("We open at 9:00.")).await;
    let base_url = format!("http://{model}/v1");
    let allowed = Egress::new(loopback());
    assert_eq!(
        assistant::ask(&allowed, &settings(&base_url), "sk-clinic", &question()).await,
        Reply::Answer("We open at 9:00.".into())
    );

    // The same model, on a relay whose operator allowed another network: not called.
    let target = Untouched::bind();
    let base_url = format!("http://127.0.0.1:{}/v1", target.port);
    for egress in [Egress::default(), Egress::new(clinic_lan())] {
        assert_eq!(
            assistant::ask(&egress, &settings(&base_url), "sk-clinic", &question()).await,
            Reply::HandOver(UNREACHABLE.into())
        );
    }
    assert!(!target.was_reached());
}

#[tokio::test]
async fn a_redirect_from_an_allowed_ai_endpoint_is_not_followed() {
    let elsewhere = Untouched::bind();
    let location = format!(
        "location: http://127.0.0.1:{}/v1/chat/completions\r\n",
        elsewhere.port
    );
    for status in [
        "307 Temporary Redirect",
        "308 Permanent Redirect",
        "302 Found",
    ] {
        let (model, _serving) = server(raw(status, &location, "")).await;
        let reply = assistant::ask(
            &Egress::new(loopback()),
            &settings(&format!("http://{model}/v1")),
            "sk-clinic",
            &question(),
        )
        .await;
        assert_eq!(reply, Reply::HandOver(FAILED.into()), "{status}");
        assert!(!elsewhere.was_reached(), "{status} was followed");
    }
}

#[tokio::test]
async fn an_endless_answer_is_given_up_at_the_cap_not_buffered() {
    let written = Arc::new(AtomicU64::new(0));
    let (model, _serving) = server(Answer::Endless(written.clone())).await;
    let reply = assistant::ask(
        &Egress::new(loopback()),
        &settings(&format!("http://{model}/v1")),
        "sk-clinic",
        &question(),
    )
    .await;
    assert_eq!(reply, Reply::HandOver(FAILED.into()));
    // What the relay read (at most the cap), and what the sockets' buffers held.
    let written = written.load(Ordering::SeqCst);
    assert!(
        written < 32 * 1024 * 1024,
        "{written} bytes were taken from an endless answer"
    );

    // A length announced beyond the cap is refused before a byte of it is read.
    let long = format!("content-length: {}\r\n", assistant::ANSWER_MAX_BYTES + 1);
    let (model, _serving) = server(Answer::Raw(
        format!("HTTP/1.1 200 OK\r\n{long}\r\n{{").into_bytes(),
    ))
    .await;
    let reply = assistant::ask(
        &Egress::new(loopback()),
        &settings(&format!("http://{model}/v1")),
        "sk-clinic",
        &question(),
    )
    .await;
    assert_eq!(reply, Reply::HandOver(FAILED.into()));
}

#[tokio::test]
async fn telegrams_api_is_called_only_where_allowed_never_redirected_and_answers_are_capped() {
    let token = "123456:abcdefghijklmnop";
    let target = Untouched::bind();
    for egress in [Egress::default(), Egress::new(clinic_lan())] {
        let telegram = Telegram::new(egress, format!("http://127.0.0.1:{}", target.port));
        let refused = telegram.bot_name(token).await.unwrap_err();
        assert!(
            matches!(&refused, TelegramError::Unavailable(why) if !why.contains(token)),
            "{refused:?}"
        );
    }
    assert!(!target.was_reached());

    let location = format!("location: http://127.0.0.1:{}/\r\n", target.port);
    let (redirecting, _serving) = server(raw("307 Temporary Redirect", &location, "")).await;
    let telegram = Telegram::new(Egress::new(loopback()), format!("http://{redirecting}"));
    assert!(matches!(
        telegram.bot_name(token).await,
        Err(TelegramError::Unavailable(_))
    ));
    assert!(!target.was_reached());

    let written = Arc::new(AtomicU64::new(0));
    let (endless, _serving) = server(Answer::Endless(written.clone())).await;
    let telegram = Telegram::new(Egress::new(loopback()), format!("http://{endless}"));
    assert!(matches!(
        telegram.bot_name(token).await,
        Err(TelegramError::Unavailable(_))
    ));
    assert!(written.load(Ordering::SeqCst) < 32 * 1024 * 1024);
}

/// Saves the AI settings as an owner's desk does; the relay's answer.
async fn save_ai_settings(test: &TestRelay, base_url: &str) -> (u16, Value) {
    let owner = test.enroll("Aiko", Role::Owner).await.token.to_string();
    let op = serde_json::to_value(Operation::Settings(Setting::Ai(settings(base_url)))).unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/channels/{CHANNEL}/ops", test.url))
        .bearer_auth(owner)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({ "op": op }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_owner_saving_an_ai_address_the_relay_will_not_call_is_told_why_and_nothing_is_kept() {
    let test = TestRelay::builder()
        .allow_networks(clinic_lan())
        .start()
        .await;
    for (base_url, why) in [
        (
            "http://169.254.169.254/latest/meta-data",
            "private, loopback",
        ),
        ("https://169.254.169.254/v1", "169.254.169.254 is a private"),
        ("https://127.0.0.1:8443/v1", "127.0.0.1 is a private"),
        ("https://[::1]/v1", "::1 is a private"),
        ("https://localhost:8443/v1", "localhost resolves only to"),
        ("https://10.0.0.5/v1", "10.0.0.5 is a private"),
        ("http://8.8.8.8/v1", "https://"),
    ] {
        let (status, body) = save_ai_settings(&test, base_url).await;
        assert_eq!(status, 400, "{base_url}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{base_url}: {message}");
    }
    // The clinic's own model, in the network the operator allowed: kept.
    let (status, body) = save_ai_settings(&test, "http://10.20.0.7:11434/v1").await;
    assert_eq!(status, 200, "{body}");
    let settings = test
        .read(Seq(0), 1_000)
        .await
        .into_iter()
        .filter(|e| {
            matches!(
                &e.body,
                EntryBody::Op {
                    op: LoggedOp::Known(Operation::Settings(Setting::Ai(_))),
                    ..
                }
            )
        })
        .count();
    assert_eq!(settings, 1, "only the allowed address was logged");
}
