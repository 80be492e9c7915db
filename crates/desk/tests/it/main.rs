//! The desk against a real relay, in process, on a fresh database.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod analytics;
mod app;
use tsunagi_proto::testing as log;
mod media;
mod projection;
mod stream;
mod sync;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{OpId, Operation, Seq};
use url::Url;

pub(crate) use tsunagi_relay::testing::{CHANNEL, TestRelay};

/// The relay's address, parsed.
pub(crate) fn url_of(relay: &TestRelay) -> Url {
    Url::parse(&relay.url).unwrap()
}

/// A new device's client of the relay, reached at `url` (the relay, or a proxy in front).
pub(crate) async fn client_at(relay: &TestRelay, url: &Url) -> RelayClient {
    let enrolled = relay.enroll("Yuki", Role::Owner).await;
    RelayClient::new(url.clone(), DeviceToken::new(enrolled.token)).unwrap()
}

/// Appends a note op; its seq.
pub(crate) async fn note(client: &RelayClient, text: &str) -> Seq {
    let op = Operation::Note {
        contact: UserId::from("U4af4980629a1b2c3d4e5f60718293a4b"),
        text: text.into(),
    };
    client
        .append(&ChannelId::from(CHANNEL), OpId::new(), &op)
        .await
        .unwrap()
}

/// What a [`Proxy`] does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    Up,
    /// Forwards nothing either way but keeps every connection open, as a dead NAT mapping
    /// or a sleeping laptop's Wi-Fi does.
    Frozen,
    /// Drops every connection and refuses new ones: the relay is out of reach.
    Down,
}

/// A TCP proxy in front of the relay whose network can fail.
pub(crate) struct Proxy {
    pub(crate) url: Url,
    network: watch::Sender<Network>,
}

impl Proxy {
    pub(crate) async fn start(upstream: &Url) -> Proxy {
        let upstream = format!(
            "{}:{}",
            upstream.host_str().unwrap(),
            upstream.port().unwrap()
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let (network, _) = watch::channel(Network::Up);
        let watch = network.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if *watch.borrow() == Network::Down {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(client_read, server_write, watch.subscribe()));
                tokio::spawn(pipe(server_read, client_write, watch.subscribe()));
            }
        });
        Proxy { url, network }
    }

    pub(crate) fn freeze(&self, frozen: bool) {
        self.set(if frozen { Network::Frozen } else { Network::Up });
    }

    pub(crate) fn set(&self, network: Network) {
        self.network.send_replace(network);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut network: watch::Receiver<Network>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        match network
            .wait_for(|n| *n != Network::Frozen)
            .await
            .map(|n| *n)
        {
            Ok(Network::Up) => {}
            _ => return,
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = network.changed() => continue,
        };
        let Ok(n @ 1..) = read else {
            return;
        };
        // Frozen while this chunk was in flight: it is held, not lost, until thawed.
        match network
            .wait_for(|n| *n != Network::Frozen)
            .await
            .map(|n| *n)
        {
            Ok(Network::Up) => {}
            _ => return,
        }
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
