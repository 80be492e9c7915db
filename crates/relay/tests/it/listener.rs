//! The public listener against clients that hold connections without finishing requests.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tsunagi_relay::http::Options;
use tsunagi_relay::http::listen::Limits;

use crate::Harness;

fn address(h: &Harness) -> String {
    h.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server closes the connection; what it sent meanwhile.
async fn until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buffer = [0; 1024];
    loop {
        match tcp.read(&mut buffer).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Slowloris: headers dripped a byte at a time, or a connection that never says a word,
/// hold a server's connections for ever unless the server counts the time. Both are cut
/// off, and a desk's request is served meanwhile.
#[tokio::test]
async fn a_client_that_drips_its_headers_or_says_nothing_is_cut_off() {
    let h = Harness::start_with(Options {
        limits: Limits {
            headers: Duration::from_millis(600),
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let mut silent = TcpStream::connect(address(&h)).await.unwrap();
    let mut dripping = TcpStream::connect(address(&h)).await.unwrap();
    dripping
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        .await
        .unwrap();
    let drip = tokio::spawn(async move {
        // A header byte every 100 ms: never a whole request.
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
            .iter()
            .cycle()
        {
            if dripping.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        dripping
    });
    let healthy = h
        .http
        .get(format!("{}/healthz", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status().as_u16(), 200);
    // Bounded by the test's own timeout, far above the header limit.
    let said = tokio::time::timeout(Duration::from_secs(10), until_closed(&mut silent))
        .await
        .expect("the silent connection was never closed");
    assert!(
        said.is_empty() || String::from_utf8_lossy(&said).starts_with("HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&said)
    );
    let mut dripping = tokio::time::timeout(Duration::from_secs(10), drip)
        .await
        .expect("the dripping connection was never cut off")
        .unwrap();
    let mut rest = Vec::new();
    let _ = dripping.read_to_end(&mut rest).await;
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "a request never finished was answered"
    );
}

/// More connections than allowed wait for a slot rather than each costing a task and
/// memory; when one closes, the next is served.
#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_for_a_free_slot() {
    // A relay no client has called yet: the two slots are the test's alone.
    let relay = tsunagi_relay::testing::TestRelay::builder()
        .options(Options {
            limits: Limits {
                headers: Duration::from_secs(60),
                connections: 2,
            },
            ..Options::default()
        })
        .start()
        .await;
    let base = relay.url.trim_start_matches("http://").to_owned();
    let first = TcpStream::connect(&base).await.unwrap();
    let second = TcpStream::connect(&base).await.unwrap();
    let request = |base: String| async move {
        let mut tcp = TcpStream::connect(base).await.unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        until_closed(&mut tcp).await
    };
    let mut third = tokio::spawn(request(base.clone()));
    // Two slots, both held: the third is not answered while they are.
    assert!(
        tokio::time::timeout(Duration::from_millis(400), &mut third)
            .await
            .is_err(),
        "a third connection was served past the cap of two"
    );
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("the third connection was never served")
        .unwrap();
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    drop(second);
}
