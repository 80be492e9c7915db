//! The log stream: in order, once, and a silent one is noticed as dead.

use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_desk::relay::Error;
use tsunagi_line::ChannelId;
use tsunagi_proto::Seq;
use tsunagi_relay::http::Options;

use crate::{CHANNEL, Proxy, TestRelay, client_at, note, url_of};

fn quick_heartbeats() -> Options {
    Options {
        heartbeat: Duration::from_millis(100),
        ..Options::default()
    }
}

#[tokio::test]
async fn a_stream_that_goes_silent_is_noticed_as_dead_and_a_new_one_resumes_from_the_cursor() {
    let relay = TestRelay::start(quick_heartbeats()).await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let client = client_at(&relay, &proxy.url).await;
    let channel = ChannelId::from(CHANNEL);
    for text in ["one", "two"] {
        note(&client, text).await;
    }
    let mut stream = client
        .stream(&channel, Seq(0), Duration::from_millis(800))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(stream.next().await.unwrap().unwrap().seq.0);
    }

    // The network dies without a word: no FIN, no RST, just nothing.
    proxy.freeze(true);
    let direct = client_at(&relay, &url_of(&relay)).await;
    note(&direct, "three").await;
    let ended = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("the dead stream was never noticed");
    assert!(matches!(ended, Err(Error::DeadStream(_))), "{ended:?}");
    assert!(ended.unwrap_err().is_transient());

    // Back on the network, a new stream from the last seq seen gets the rest, once.
    proxy.freeze(false);
    note(&direct, "four").await;
    let mut stream = client
        .stream(&channel, Seq(2), Duration::from_millis(800))
        .await
        .unwrap();
    for _ in 0..2 {
        seen.push(stream.next().await.unwrap().unwrap().seq.0);
    }
    assert_eq!(seen, [1, 2, 3, 4]);
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_stream_alive() {
    let relay = TestRelay::start(quick_heartbeats()).await;
    let client = client_at(&relay, &url_of(&relay)).await;
    let channel = ChannelId::from(CHANNEL);
    let mut stream = client
        .stream(&channel, Seq(0), Duration::from_millis(500))
        .await
        .unwrap();
    // Four times the dead time without an entry: still waiting, not dead.
    let quiet = tokio::time::timeout(Duration::from_secs(2), stream.next()).await;
    assert!(quiet.is_err(), "the stream ended: {quiet:?}");

    note(&client, "after the quiet").await;
    let entry = stream.next().await.unwrap().unwrap();
    assert_eq!(entry.seq, Seq(1));
}

#[tokio::test]
async fn without_heartbeats_a_quiet_stream_is_dead() {
    // A relay (or a buffering proxy) that sends nothing while idle looks exactly like a
    // dead network: the client must not wait forever.
    let relay = TestRelay::start(Options {
        heartbeat: Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let client = client_at(&relay, &url_of(&relay)).await;
    let mut stream = client
        .stream(
            &ChannelId::from(CHANNEL),
            Seq(0),
            Duration::from_millis(500),
        )
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("the silent stream was never given up");
    assert!(matches!(ended, Err(Error::DeadStream(_))), "{ended:?}");
}
