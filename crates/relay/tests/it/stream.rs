use std::sync::Arc;
use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_proto::Entry;
use tsunagi_relay::http::Options;

use crate::{CHANNEL, Harness, callback, enroll};

/// A reader of the log's SSE stream, parsing events as they arrive.
struct Events {
    response: reqwest::Response,
    buffer: String,
    /// Everything received, comments included.
    raw: String,
}

/// A request for the log as an event stream, as the device of `token`.
fn stream_request(h: &Harness, token: &str) -> reqwest::RequestBuilder {
    h.http
        .get(format!("{}/v1/channels/{CHANNEL}/log", h.base))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
}

impl Events {
    async fn open(h: &Harness, query: &str, last_event_id: Option<&str>) -> Events {
        Self::open_as(h, &h.owner, query, last_event_id).await
    }

    async fn open_as(h: &Harness, token: &str, query: &str, last_event_id: Option<&str>) -> Events {
        let mut request = h
            .http
            .get(format!("{}/v1/channels/{CHANNEL}/log?{query}", h.base))
            .bearer_auth(token)
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        Events {
            response,
            buffer: String::new(),
            raw: String::new(),
        }
    }

    /// Reads until the stream ends (at most `within`); the ids of the events it still sent.
    async fn until_end(&mut self, within: Duration) -> Option<Vec<u64>> {
        tokio::time::timeout(within, async {
            while let Ok(Some(chunk)) = self.response.chunk().await {
                self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            }
            self.buffer
                .lines()
                .filter_map(|l| l.strip_prefix("id:"))
                .map(|id| id.trim().parse().unwrap())
                .collect()
        })
        .await
        .ok()
    }

    /// The next `count` entries (at most 10 s).
    async fn take(&mut self, count: usize) -> Vec<(u64, Entry)> {
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            while out.len() < count {
                while let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    let mut id = None;
                    let mut data = Vec::new();
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("id:") {
                            id = Some(v.trim().parse::<u64>().unwrap());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                        }
                    }
                    if let Some(id) = id {
                        let entry: Entry = serde_json::from_str(&data.join("\n")).unwrap();
                        out.push((id, entry));
                    }
                }
                if out.len() >= count {
                    break;
                }
                let chunk = self
                    .response
                    .chunk()
                    .await
                    .unwrap()
                    .expect("the stream ended");
                let text = String::from_utf8(chunk.to_vec()).unwrap();
                self.raw.push_str(&text);
                self.buffer.push_str(&text);
            }
        })
        .await
        .expect("events arrived in time");
        out
    }
}

#[tokio::test]
async fn the_stream_catches_up_from_the_store_then_follows_live_entries() {
    let h = Harness::start().await;
    assert_eq!(
        h.post_signed(&callback(&["01S1", "01S2", "01S3"])).await,
        200
    );
    let mut events = Events::open(&h, "after=0", None).await;
    let first = events.take(3).await;
    assert_eq!(
        first.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(first.iter().all(|(id, entry)| entry.seq.0 == *id));
    assert_eq!(h.post_signed(&callback(&["01S4", "01S5"])).await, 200);
    let live = events.take(2).await;
    assert_eq!(live.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [4, 5]);
}

#[tokio::test]
async fn the_stream_resumes_after_the_last_event_id() {
    let h = Harness::start().await;
    assert_eq!(
        h.post_signed(&callback(&["01S1", "01S2", "01S3"])).await,
        200
    );
    let mut events = Events::open(&h, "after=0", Some("2")).await;
    assert_eq!(events.take(1).await[0].0, 3);
    let mut events = Events::open(&h, "after=1", None).await;
    assert_eq!(events.take(1).await[0].0, 2);
}

#[tokio::test]
async fn the_stream_is_not_cached_or_buffered_by_proxies() {
    let h = Harness::start().await;
    let events = Events::open(&h, "", None).await;
    let headers = events.response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
}

#[tokio::test]
async fn an_idle_stream_sends_heartbeat_comments() {
    let h = Harness::start_with(Options {
        heartbeat: Duration::from_millis(100),
        ..Options::default()
    })
    .await;
    let mut events = Events::open(&h, "", None).await;
    let beats = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let chunk = events.response.chunk().await.unwrap().unwrap();
            events.raw.push_str(&String::from_utf8_lossy(&chunk));
            if events.raw.matches(": heartbeat\n\n").count() >= 2 {
                break;
            }
        }
    })
    .await;
    assert!(beats.is_ok(), "no heartbeats: {:?}", events.raw);
}

#[tokio::test]
async fn a_bad_last_event_id_is_refused() {
    let h = Harness::start().await;
    let response = stream_request(&h, &h.owner)
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[tokio::test]
async fn ten_readers_see_every_entry_once_in_order_while_fifty_appenders_write() {
    const WRITERS: usize = 50;
    let h = Arc::new(
        Harness::start_with(Options {
            streams_per_device: 10,
            ..Options::default()
        })
        .await,
    );
    let readers: Vec<_> = (0..10)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let mut events = Events::open(&h, "after=0", None).await;
                    events
                        .take(WRITERS)
                        .await
                        .into_iter()
                        .map(|(id, _)| id)
                        .collect::<Vec<_>>()
                } else {
                    let mut seen = Vec::new();
                    while seen.len() < WRITERS {
                        let after = seen.last().copied().unwrap_or(0);
                        let page = h.log(&format!("after={after}&wait=5")).await;
                        seen.extend(page.entries.iter().map(|e| e.seq.0));
                    }
                    seen
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move { h.post_signed(&callback(&[&format!("01C{i:03}")])).await })
        })
        .collect();
    for writer in writers {
        assert_eq!(writer.await.unwrap(), 200);
    }
    let expected: Vec<u64> = (1..=WRITERS as u64).collect();
    for reader in readers {
        assert_eq!(reader.await.unwrap(), expected);
    }
}

#[cfg(target_os = "linux")]
// The raw client blocks on its socket: the relay needs threads of its own meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_disconnected() {
    use std::io::{Read as _, Write as _};

    let h = Harness::start_with(Options {
        heartbeat: Duration::from_secs(60),
        stalled_reader: Duration::from_secs(1),
        ..Options::default()
    })
    .await;
    let streams = "tsunagi_relay_streams_connected";

    // A client with a tiny receive window that reads the response head, then nothing.
    let address: std::net::SocketAddr = h.base.trim_start_matches("http://").parse().unwrap();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&address.into()).unwrap();
    let mut stalled: std::net::TcpStream = socket.into();
    write!(
        stalled,
        "GET /v1/channels/{CHANNEL}/log HTTP/1.1\r\nHost: relay\r\nAccept: text/event-stream\r\nAuthorization: Bearer {}\r\n\r\n",
        h.owner
    )
    .unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = [0u8; 256];
    let read = stalled.read(&mut head).unwrap();
    assert!(String::from_utf8_lossy(&head[..read]).starts_with("HTTP/1.1 200"));
    assert_eq!(h.metric(streams).await, 1.0);

    // Far more than any socket buffer holds.
    for i in 0..12 {
        let big = callback(&[&format!("01BIG{i:02}")]).replace("สวัสดี", &"x".repeat(700_000));
        assert_eq!(h.post_signed(&big).await, 200);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while h.metric(streams).await != 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stalled reader is still connected"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The client never closed its end: the relay let go on its own.
    drop(stalled);
}

/// A staff device reading the log two ways, live: an event stream and a long-poll.
async fn staff_reading(h: &Arc<Harness>) -> (String, Events, tokio::task::JoinHandle<u16>) {
    let staff = enroll(
        &h.http,
        &h.base,
        &h.relay,
        CHANNEL,
        tsunagi_proto::api::Role::Staff,
    )
    .await;
    assert_eq!(h.post_signed(&callback(&["01SEEN"])).await, 200);
    let mut events = Events::open_as(h, &staff, "after=0", None).await;
    assert_eq!(events.take(1).await[0].0, 1);
    let poll = {
        let (h, staff) = (h.clone(), staff.clone());
        tokio::spawn(async move {
            h.http
                .get(format!(
                    "{}/v1/channels/{CHANNEL}/log?after=1&wait=20",
                    h.base
                ))
                .bearer_auth(&staff)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    h.until_long_polls_wait(&h.base, 1.0).await;
    let device = tsunagi_relay::token::token_device(&staff).unwrap();
    (device.to_string(), events, poll)
}

/// The stream and the long-poll end within `within`, having sent nothing more; with
/// `logging`, while entries are logged after the revoke.
async fn revoked_reader_is_cut_off(
    h: &Harness,
    mut events: Events,
    poll: tokio::task::JoinHandle<u16>,
    within: Duration,
    logging: bool,
) {
    if logging {
        assert_eq!(h.post_signed(&callback(&["01AFTER"])).await, 200);
    }
    let sent = events
        .until_end(within)
        .await
        .expect("the stream ended in time");
    assert!(sent.is_empty(), "entries after the revoke: {sent:?}");
    let status = tokio::time::timeout(within, poll)
        .await
        .expect("the long-poll ended in time")
        .unwrap();
    assert_eq!(status, 401);
}

#[tokio::test]
async fn revoking_a_device_ends_its_stream_and_long_poll_at_once_and_sends_it_nothing_more() {
    let h = Arc::new(Harness::start().await);
    let (device, events, poll) = staff_reading(&h).await;
    let revoked = h
        .http
        .post(format!("{}/v1/devices/{device}/revoke", h.base))
        .bearer_auth(&h.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    revoked_reader_is_cut_off(&h, events, poll, Duration::from_secs(1), true).await;
}

#[tokio::test]
async fn a_revoke_by_another_relay_process_ends_the_stream_within_a_second() {
    let h = Arc::new(Harness::start().await);
    let (device, events, poll) = staff_reading(&h).await;
    let other = tsunagi_relay::Relay::new(h.reopen().await, h.key.clone());
    assert!(
        other
            .revoke_device(&device.as_str().into(), tsunagi_proto::UnixMillis::now())
            .await
            .unwrap()
    );
    // Idle: nothing new to read, so only the watch on revocations can end them.
    revoked_reader_is_cut_off(&h, events, poll, Duration::from_secs(1), false).await;
}

#[tokio::test]
async fn a_device_holds_at_most_its_share_of_open_streams() {
    let h = Harness::start_with(Options {
        streams_per_device: 2,
        ..Options::default()
    })
    .await;
    let first = Events::open(&h, "after=0", None).await;
    let _second = Events::open(&h, "after=0", None).await;
    let third = stream_request(&h, &h.owner).send().await.unwrap();
    assert_eq!(third.status().as_u16(), 429);
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["code"], "too_many_streams");
    // A stream that ends frees its place.
    drop(first);
    let mut reopened = None;
    for _ in 0..50 {
        let response = stream_request(&h, &h.owner).send().await.unwrap();
        if response.status().as_u16() == 200 {
            reopened = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reopened.is_some(), "the closed stream's place never freed");
}
