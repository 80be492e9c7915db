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
                ..Limits::default()
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

/// A body dripped a byte at a time holds its connection only as long as a whole body may
/// take; then the request fails and the connection is closed.
#[tokio::test]
async fn a_body_dripped_a_byte_at_a_time_is_cut_off() {
    let h = Harness::start_with(Options {
        limits: Limits {
            request: Duration::from_millis(600),
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let mut tcp = TcpStream::connect(address(&h)).await.unwrap();
    tcp.write_all(
        format!(
            "POST /webhook/line/{} HTTP/1.1\r\nHost: relay\r\nContent-Length: 100000\r\n\r\n",
            crate::CHANNEL
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let drip = tokio::spawn(async move {
        loop {
            if tcp.write_all(b"{").await.is_err() {
                return tcp;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut peek = [0; 1];
            // The server answered (and will close): stop dripping.
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), tcp.peek(&mut peek)).await
                && n > 0
            {
                return tcp;
            }
        }
    });
    let mut tcp = tokio::time::timeout(Duration::from_secs(10), drip)
        .await
        .expect("the dripped body was never cut off")
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), until_closed(&mut tcp))
        .await
        .expect("the connection stayed open");
    assert!(
        !String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// One address cannot take every slot: past its share its new connections are closed at
/// once, and another address is served.
#[tokio::test]
async fn one_address_holds_only_its_share_of_connections() {
    let h = Harness::start_with(Options {
        limits: Limits {
            headers: Duration::from_secs(60),
            per_address: 2,
            // The test's clients are on this machine, which a proxy usually is.
            count_private: true,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let from = |last: u8| {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, last], 0)))
            .unwrap();
        let address: std::net::SocketAddr = address(&h).parse().unwrap();
        async move { socket.connect(address).await.unwrap() }
    };
    let _held = [from(7).await, from(7).await];
    let mut third = from(7).await;
    let said = tokio::time::timeout(Duration::from_secs(10), until_closed(&mut third))
        .await
        .expect("a connection past the address's share was kept open");
    assert!(said.is_empty());
    let mut other = from(8).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), until_closed(&mut other))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}
