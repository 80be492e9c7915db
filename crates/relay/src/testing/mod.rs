//! A relay for other crates' tests (feature `testing`): on a fresh database in a temporary
//! directory, serving on a free port, with one channel. Its helpers panic on failure, as
//! test code does.

pub mod conformance;
pub mod line_fixtures;
mod postgres;

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::api::{Enroll, Enrolled, Role};
use tsunagi_proto::{Entry, Seq};

use crate::Relay;
use crate::egress::Egress;
use crate::http::Options;
use crate::line_setup::LineSetup;
use crate::media::MediaStore;
use crate::secret::{ChannelSecret, RelayKey};
use crate::store::{AnyStore, LogStore as _};
use url::Url;

pub use self::postgres::{Stop, TestPostgres};

/// The test relay's channel.
pub const CHANNEL: &str = "1656789012";
pub const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
/// The bot user id webhooks are addressed to.
pub const BOT: &str = "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f";

/// A port nothing listens on, for a server another program starts (a relay process, a
/// WebDriver server). Picked below the range the OS hands out (32768 and up on Linux): a
/// port asked of the OS and let go again may be given to another test's `bind(0)`, or be
/// the local end of a connection, before the other program binds it.
pub fn free_port() -> u16 {
    (0..100)
        .map(|_| rand::random_range(20_000..32_000))
        .find(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .expect("a free port between 20000 and 32000")
}

/// Which store a test relay runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `TSUNAGI_TEST_STORE`: `postgres`, or SQLite when unset. `cargo xtask test` runs the
    /// relay's HTTP suite once with each.
    pub fn from_env() -> Backend {
        match std::env::var("TSUNAGI_TEST_STORE").as_deref() {
            Ok("postgres") => Backend::Postgres,
            Ok("sqlite") | Err(_) => Backend::Sqlite,
            Ok(other) => panic!("TSUNAGI_TEST_STORE={other}: say sqlite or postgres"),
        }
    }
}

/// Where a test relay keeps its log: a SQLite file in a temporary directory, or a
/// database on a PostgreSQL server of the test's own. The directory also holds media.
#[derive(Debug)]
pub struct TestStorage {
    dir: tempfile::TempDir,
    postgres: Option<(TestPostgres, String)>,
}

impl TestStorage {
    pub async fn new(backend: Backend) -> TestStorage {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let server = TestPostgres::start().await;
                let url = server.new_database().await;
                Some((server, url))
            }
        };
        TestStorage { dir, postgres }
    }

    /// A new store on this storage, as another relay process would open it.
    pub async fn open(&self) -> AnyStore {
        AnyStore::open(self.database_url(), &self.dir.path().join("relay.db"))
            .await
            .expect("the relay's store opens")
    }

    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// The PostgreSQL database's address, on that backend.
    pub fn database_url(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, url)| url.as_str())
    }

    /// The PostgreSQL server, on that backend: to stop and start it.
    pub fn postgres(&mut self) -> Option<&mut TestPostgres> {
        self.postgres.as_mut().map(|(server, _)| server)
    }

    /// Runs `sql` on the database itself, with `bytes` bound to `$1` (to damage it, say).
    pub async fn execute(&self, sql: &str, bytes: Vec<u8>) {
        use sqlx::Connection as _;
        match self.database_url() {
            Some(url) => {
                let mut db = sqlx::PgConnection::connect(url)
                    .await
                    .expect("the database");
                sqlx::query(sql)
                    .bind(bytes)
                    .execute(&mut db)
                    .await
                    .map(drop)
            }
            None => {
                let url = format!("sqlite://{}", self.dir.path().join("relay.db").display());
                let mut db = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("the database");
                sqlx::query(sql)
                    .bind(bytes)
                    .execute(&mut db)
                    .await
                    .map(drop)
            }
        }
        .expect("the statement runs");
    }

    /// Who holds the channel's executor lease, read from the database itself.
    pub async fn lease_holder(&self, channel: &str) -> String {
        use sqlx::Connection as _;
        const SQL: &str = "SELECT holder FROM executors WHERE channel_id = $1";
        match self.database_url() {
            Some(url) => {
                let mut db = sqlx::PgConnection::connect(url)
                    .await
                    .expect("the database");
                sqlx::query_scalar(SQL)
                    .bind(channel)
                    .fetch_one(&mut db)
                    .await
            }
            None => {
                let url = format!(
                    "sqlite://{}?mode=ro",
                    self.dir.path().join("relay.db").display()
                );
                let mut db = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("the database");
                sqlx::query_scalar(SQL)
                    .bind(channel)
                    .fetch_one(&mut db)
                    .await
            }
        }
        .expect("the executor's row")
    }
}

/// How to start a [`TestRelay`].
#[derive(Debug)]
pub struct TestRelayBuilder {
    options: Options,
    backend: Backend,
    listener: Option<TcpListener>,
    line_api: Option<String>,
    public_url: Option<String>,
    channel: bool,
    allow_networks: Vec<ipnet::IpNet>,
}

/// Waits until the executor that tells `idle` when it is idle has folded the whole log of
/// `channel` and has nothing left to do now: from then on, nothing more happens until
/// something new is logged or comes due. False if that takes longer than `within`.
pub async fn settled(
    store: &impl crate::store::LogStore,
    idle: &watch::Sender<Seq>,
    channel: &ChannelId,
    within: std::time::Duration,
) -> bool {
    let mut idle = idle.subscribe();
    let settled = async {
        loop {
            let head = store.head(channel).await.expect("the log's head");
            if *idle.borrow_and_update() >= head {
                return;
            }
            if idle.changed().await.is_err() {
                // Nobody reports any more: it will never settle.
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::time::timeout(within, settled).await.is_ok()
}

/// Loopback, where tests run linesim (LINE, the AI endpoint, Telegram) and their own
/// servers: the networks a test relay's operator allows, as `--allow-networks
/// 127.0.0.0/8,::1` does.
pub fn loopback() -> Vec<ipnet::IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .into_iter()
        .map(|n| n.parse().expect("a network"))
        .collect()
}

impl TestRelayBuilder {
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Serves on this listener (bound already, so that its address could be given out).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Connects channels with LINE at `api` (linesim), for content too, which reaches the
    /// relay at its own address.
    pub fn line(mut self, api: impl Into<String>) -> Self {
        self.line_api = Some(api.into());
        self
    }

    /// The relay's public address as LINE reaches it, when not its own (`https://…`).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The networks its operator allows beside the public internet ([`loopback`] unless
    /// said otherwise): none, to see what a relay with the default settings refuses.
    pub fn allow_networks(mut self, networks: Vec<ipnet::IpNet>) -> Self {
        self.allow_networks = networks;
        self
    }

    /// A relay just set up: no channel yet (its owner connects one).
    pub fn without_channel(mut self) -> Self {
        self.channel = false;
        self
    }

    pub async fn start(self) -> TestRelay {
        let storage = TestStorage::new(self.backend).await;
        let key = RelayKey::generate();
        let listener = match self.listener {
            Some(listener) => listener,
            None => TcpListener::bind("127.0.0.1:0").await.expect("a free port"),
        };
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let mut relay = Relay::new(storage.open().await, key.clone())
            .with_media(MediaStore::new(storage.dir().join("media")))
            .with_egress(Egress::new(self.allow_networks));
        if let Some(api) = self.line_api {
            // linesim serves Telegram's Bot API too.
            relay = relay.with_telegram_api(&api);
            relay = relay.with_line(LineSetup {
                api_base: api.clone(),
                data_base: api,
                public_url: self.public_url.unwrap_or_else(|| url.clone()),
            });
        }
        let relay = Arc::new(relay);
        if self.channel {
            relay
                .add_channel(&ChannelId::from(CHANNEL), ChannelSecret::new(SECRET))
                .await
                .expect("the test channel is added");
        }
        tokio::spawn(crate::http::serve(
            listener,
            relay.clone(),
            self.options,
            std::future::pending(),
        ));
        TestRelay {
            url,
            relay,
            key,
            storage,
        }
    }
}

/// A relay serving in this process, on a fresh store, with the test channel.
#[derive(Debug)]
pub struct TestRelay {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    pub relay: Arc<Relay<AnyStore>>,
    /// The key its channel secrets are sealed with.
    pub key: RelayKey,
    pub storage: TestStorage,
}

impl TestRelay {
    /// On the store `TSUNAGI_TEST_STORE` names (SQLite by default), with `options`.
    pub async fn start(options: Options) -> TestRelay {
        TestRelay::builder().options(options).start().await
    }

    pub fn builder() -> TestRelayBuilder {
        TestRelayBuilder {
            options: Options::default(),
            backend: Backend::from_env(),
            listener: None,
            line_api: None,
            public_url: None,
            channel: true,
            allow_networks: loopback(),
        }
    }

    /// Another relay process on the same store and key, serving HTTP: its address.
    pub async fn serve_another_process(&self) -> (String, Arc<Relay<AnyStore>>) {
        let relay = Arc::new(self.another_process().await);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(crate::http::serve(
            listener,
            relay.clone(),
            Options::default(),
            std::future::pending(),
        ));
        (url, relay)
    }

    /// Another relay process on the same store and key (not serving HTTP).
    pub async fn another_process(&self) -> Relay<AnyStore> {
        let mut relay = Relay::new(self.storage.open().await, self.key.clone())
            .with_media(MediaStore::new(self.storage.dir().join("media")))
            .with_egress(self.relay.egress().clone());
        if let Some(line) = self.relay.line() {
            relay = relay.with_line(line.clone());
        }
        relay.with_telegram_api(self.relay.telegram().base())
    }

    /// A one-time code for a device of the test channel.
    pub async fn invite(&self, role: Role) -> String {
        self.invite_as(role).await.code
    }

    /// A one-time code for a device of the test channel, with its id.
    pub async fn invite_as(&self, role: Role) -> tsunagi_proto::api::Invited {
        self.relay
            .invite(&ChannelId::from(CHANNEL), role, None)
            .await
            .expect("an invite")
    }

    /// A one-time code of the test channel that expired a while ago.
    pub async fn expired_invite(&self, role: Role) -> String {
        let code = crate::token::new_code();
        self.relay
            .store
            .create_invite(&crate::store::Invite {
                id: uuid::Uuid::new_v4().to_string(),
                created_by: None,
                code_hash: crate::token::sha256(&crate::token::normalize_code(&code)),
                channel: Some(ChannelId::from(CHANNEL)),
                role,
                created_at: tsunagi_proto::UnixMillis(1_000),
                expires_at: tsunagi_proto::UnixMillis(2_000),
            })
            .await
            .expect("an invite");
        code
    }

    /// Enrolls a device of the test channel for `operator`.
    pub async fn enroll(&self, operator: &str, role: Role) -> Enrolled {
        let code = self.invite(role).await;
        self.relay
            .enroll(&Enroll {
                code,
                device_name: format!("{operator}'s PC"),
                operator_name: operator.into(),
            })
            .await
            .expect("enrollment")
    }

    /// Posts a patient's text message as LINE would, signed.
    pub async fn patient_says(&self, user: &str, message_id: &str, text: &str) {
        let message = serde_json::json!({
            "type": "text", "id": message_id, "quoteToken": "q",
            "markAsReadToken": format!("m{message_id}"), "text": text
        });
        self.patient_sends(user, message).await;
    }

    /// Posts a patient's message (a message object as LINE sends it, with its `id`) as LINE
    /// would, signed.
    pub async fn patient_sends(&self, user: &str, message: serde_json::Value) {
        let id = message["id"]
            .as_str()
            .expect("the message has an id")
            .to_owned();
        let event = serde_json::json!({
            "type": "message", "mode": "active", "timestamp": 1_767_225_600_000_i64,
            "webhookEventId": format!("01W{id}"),
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": user}, "replyToken": format!("r{id}"),
            "message": message
        });
        let body = serde_json::json!({"destination": BOT, "events": [event]}).to_string();
        let status = reqwest::Client::new()
            .post(format!("{}/webhook/line/{CHANNEL}", self.url))
            .header("x-line-signature", sign(SECRET.as_bytes(), body.as_bytes()))
            .body(body)
            .send()
            .await
            .expect("the relay answers")
            .status();
        assert_eq!(status.as_u16(), 200, "the webhook was refused");
    }

    /// The newest seq of the test channel's log.
    pub async fn head(&self) -> Seq {
        self.relay
            .store
            .head(&ChannelId::from(CHANNEL))
            .await
            .expect("the head")
    }

    /// Up to `limit` entries after `after`.
    pub async fn read(&self, after: Seq, limit: u32) -> Vec<Entry> {
        self.relay
            .store
            .read(&ChannelId::from(CHANNEL), after, limit)
            .await
            .expect("the log")
    }
}

/// What a [`Proxy`] does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Up,
    /// Forwards nothing either way but keeps every connection open, as a dead NAT mapping
    /// or a sleeping laptop's Wi-Fi does.
    Frozen,
    /// Drops every connection and refuses new ones: the relay is out of reach.
    Down,
}

/// A TCP proxy in front of the relay whose network can fail.
#[derive(Debug)]
pub struct Proxy {
    pub url: Url,
    network: watch::Sender<Network>,
}

impl Proxy {
    /// A proxy in front of `upstream` (`http://host:port`).
    pub async fn start(upstream: &Url) -> Proxy {
        let upstream = format!(
            "{}:{}",
            upstream.host_str().expect("the upstream has a host"),
            upstream.port().expect("the upstream has a port")
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = listener.local_addr().expect("an address");
        let url = Url::parse(&format!("http://{address}")).expect("a URL");
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

    pub fn freeze(&self, frozen: bool) {
        self.set(if frozen { Network::Frozen } else { Network::Up });
    }

    pub fn set(&self, network: Network) {
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
