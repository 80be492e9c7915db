//! The desk against a real relay, in process, on a fresh database.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod log;
mod projection;
mod stream;
mod sync;

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

    /// Enrolls a device of the test channel; its id and token.
    pub(crate) async fn enroll_device(&self, operator: &str) -> (String, DeviceToken) {
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
        (
            enrolled.device_id.into_string(),
            DeviceToken::new(enrolled.token),
        )
    }

    /// Posts a patient's text message as LINE would, signed.
    pub(crate) async fn patient_says(&self, user: &str, message_id: &str, text: &str) {
        let event = serde_json::json!({
            "type": "message", "mode": "active", "timestamp": 1_767_225_600_000_i64,
            "webhookEventId": format!("01W{message_id}"),
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": user}, "replyToken": format!("r{message_id}"),
            "message": {"type": "text", "id": message_id, "quoteToken": "q", "text": text}
        });
        let body =
            serde_json::json!({"destination": crate::log::BOT, "events": [event]}).to_string();
        let status = reqwest::Client::new()
            .post(self.url.join(&format!("/webhook/line/{CHANNEL}")).unwrap())
            .header(
                "x-line-signature",
                tsunagi_line::signature::sign(SECRET.as_bytes(), body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
    }

    pub(crate) async fn head(&self) -> Seq {
        use tsunagi_relay::store::LogStore as _;
        self.relay
            .store
            .head(&ChannelId::from(CHANNEL))
            .await
            .unwrap()
    }

    pub(crate) async fn read(&self, after: Seq, limit: u32) -> Vec<tsunagi_proto::Entry> {
        use tsunagi_relay::store::LogStore as _;
        self.relay
            .store
            .read(&ChannelId::from(CHANNEL), after, limit)
            .await
            .unwrap()
    }

    /// A client of this relay, reached at `url` (the relay itself, or a proxy in front).
    pub(crate) async fn client_at(&self, url: &Url) -> RelayClient {
        RelayClient::new(url.clone(), self.enroll_device("Yuki").await.1).unwrap()
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
