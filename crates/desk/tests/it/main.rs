//! The desk against a real relay, in process, on a fresh database.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod log;
mod projection;
mod stream;

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::api::{Enroll, Role};
use tsunagi_proto::{OpId, Operation, Seq};
use tsunagi_relay::Relay;
use tsunagi_relay::http::Options;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::SqliteStore;
use url::Url;

pub(crate) const CHANNEL: &str = "1656789012";
const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";

/// A relay on a fresh database, serving on a free port.
pub(crate) struct TestRelay {
    pub(crate) url: Url,
    pub(crate) relay: Arc<Relay<SqliteStore>>,
    _dir: tempfile::TempDir,
}

impl TestRelay {
    pub(crate) async fn start(options: Options) -> TestRelay {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("relay.db"))
            .await
            .unwrap();
        let relay = Arc::new(Relay::new(store, RelayKey::generate()));
        relay
            .add_channel(&ChannelId::from(CHANNEL), ChannelSecret::new(SECRET))
            .await
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(tsunagi_relay::http::serve(
            listener,
            relay.clone(),
            options,
            std::future::pending(),
        ));
        TestRelay {
            url,
            relay,
            _dir: dir,
        }
    }

    /// Enrolls a device of the test channel; its token.
    pub(crate) async fn enroll(&self, operator: &str) -> DeviceToken {
        let invited = self
            .relay
            .invite(&ChannelId::from(CHANNEL), Role::Owner)
            .await
            .unwrap();
        let enrolled = RelayClient::enroll(
            &self.url,
            &Enroll {
                code: invited.code,
                device_name: format!("{operator}'s PC"),
                operator_name: operator.into(),
            },
        )
        .await
        .unwrap();
        DeviceToken::new(enrolled.token)
    }

    /// A client of this relay, reached at `url` (the relay itself, or a proxy in front).
    pub(crate) async fn client_at(&self, url: &Url) -> RelayClient {
        RelayClient::new(url.clone(), self.enroll("Yuki").await).unwrap()
    }
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

/// A TCP proxy that can freeze: while frozen it forwards nothing either way but keeps
/// every connection open, as a dead NAT mapping or a sleeping laptop's Wi-Fi does.
pub(crate) struct Proxy {
    pub(crate) url: Url,
    frozen: watch::Sender<bool>,
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
        let (frozen, _) = watch::channel(false);
        let watch = frozen.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pipe(client_read, server_write, watch.subscribe()));
                tokio::spawn(pipe(server_read, client_write, watch.subscribe()));
            }
        });
        Proxy { url, frozen }
    }

    pub(crate) fn freeze(&self, frozen: bool) {
        self.frozen.send_replace(frozen);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut frozen: watch::Receiver<bool>,
) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        if frozen.wait_for(|frozen| !frozen).await.is_err() {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = frozen.wait_for(|frozen| *frozen) => continue,
        };
        let Ok(n @ 1..) = read else {
            return;
        };
        // Frozen while this chunk was in flight: it is held, not lost, until thawed.
        if frozen.wait_for(|frozen| !frozen).await.is_err()
            || to.write_all(&buffer[..n]).await.is_err()
        {
            return;
        }
    }
}
