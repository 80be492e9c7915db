//! A clinic on one machine, in process: the LINE simulator, the test relay on a fresh database
//! whose webhooks linesim delivers, the relay's executor (which sends through linesim), and a
//! proxy in front of the relay that the tests can take out of reach. The end-to-end tests
//! and `cargo xtask demo` both start one.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_linesim::population::User;
use tsunagi_linesim::{Config, Delivered, Simulator, UserAction};
use tsunagi_proto::Seq;
use tsunagi_proto::api::Role;
use tsunagi_relay::Relay;
use tsunagi_relay::executor;
use tsunagi_relay::line_setup::LineSetup;
use tsunagi_relay::store::AnyStore;
use tsunagi_relay::testing::{Backend, Proxy, TestRelay};

/// The device under which [`Clinic::automations_on`] logs the owner's settings.
const OWNER_DEVICE: &str = "d-owner";

/// The clinic's LINE channel, as the LINE Developers Console would show it.
pub const CHANNEL: &str = "1656789012";
pub const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";

#[derive(Debug)]
pub struct Clinic {
    pub sim: Simulator,
    pub relay: Arc<Relay<AnyStore>>,
    /// The relay as desks reach it: through [`Clinic::proxy`].
    pub url: String,
    pub proxy: Proxy,
    /// linesim's address (its `/_sim/` API makes users act).
    pub sim_url: String,
    /// The relay itself (not through the proxy), over plain HTTP.
    pub relay_address: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    test: TestRelay,
    /// The newest seq the executor had folded each time it had nothing left to do.
    idle: Arc<tokio::sync::watch::Sender<Seq>>,
}

impl Drop for Clinic {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Clinic {
    /// Starts linesim with `users` simulated patients, the relay and its executor, the
    /// relay's LINE channel connected.
    pub async fn start(users: usize) -> Result<Clinic> {
        Self::start_with(tsunagi_linesim::population::users(users, 1), true).await
    }

    /// As [`Clinic::start`], the relay's log on `backend`.
    pub async fn start_on(backend: Backend, users: usize) -> Result<Clinic> {
        Self::start_on_with(backend, tsunagi_linesim::population::users(users, 1), true).await
    }

    /// As [`Clinic::start`], every patient a follower of the account (none blocked).
    pub async fn with_followers(count: usize) -> Result<Clinic> {
        Self::start_with(tsunagi_linesim::population::followers(count, 1), true).await
    }

    /// As [`Clinic::start`], on a relay just set up: no LINE channel yet, and LINE not yet
    /// told where to send webhooks. Its owner connects the channel
    /// ([`Clinic::setup_code`]).
    pub async fn new_relay(users: usize) -> Result<Clinic> {
        Self::start_with(tsunagi_linesim::population::users(users, 1), false).await
    }

    async fn start_with(users: Vec<User>, connected: bool) -> Result<Clinic> {
        Self::start_on_with(Backend::Sqlite, users, connected).await
    }

    async fn start_on_with(backend: Backend, users: Vec<User>, connected: bool) -> Result<Clinic> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let relay_address = format!("http://{}", listener.local_addr()?);
        let mut config = Config::new(CHANNEL, SECRET, "linesim-long-lived-token");
        config.webhook_url = connected.then(|| format!("{relay_address}/webhook/line/{CHANNEL}"));
        config.users = users;
        config.groups = Vec::new();
        let sim = Simulator::new(config);
        let sim_address = sim.clone().serve("127.0.0.1:0".parse()?).await?;
        let sim_url = format!("http://{sim_address}");
        // LINE fetches images operators send from the relay's public HTTPS address; here
        // that address is HTTPS-shaped, and tests fetch the same paths over plain HTTP. A
        // new relay's setup points LINE's webhook at its public address, which LINE must
        // reach: plain HTTP on this machine, as LINE's simulator allows.
        let line = LineSetup {
            api_base: sim_url.clone(),
            data_base: sim_url.clone(),
            public_url: if connected {
                relay_address.replacen("http://", "https://", 1)
            } else {
                relay_address.clone()
            },
        };
        let mut builder = TestRelay::builder()
            .backend(backend)
            .listener(listener)
            .line(sim_url.clone())
            .public_url(line.public_url.clone());
        if !connected {
            builder = builder.without_channel();
        }
        let test = builder.start().await;
        let relay = test.relay.clone();
        let idle = Arc::new(tokio::sync::watch::Sender::new(Seq::ZERO));
        let executing = tokio::spawn(executor::run(
            relay.clone(),
            line,
            executor::Options {
                holder: "clinic".into(),
                idle: Some(idle.clone()),
                ..executor::Options::default()
            },
        ));
        let proxy = Proxy::start(&relay_address.parse()?).await;
        let relay_address = relay_address.clone();
        let url = proxy.url.as_str().trim_end_matches('/').to_owned();
        Ok(Clinic {
            sim,
            relay,
            url,
            proxy,
            sim_url,
            relay_address,
            tasks: vec![executing],
            test,
            idle,
        })
    }

    /// Waits until the relay's executor has folded the whole log and has nothing left to
    /// do now: whatever it was to send has gone to LINE, and nothing more goes until
    /// something new is logged or comes due.
    pub async fn settled(&self) -> Result<()> {
        let channel = ChannelId::from(CHANNEL);
        let within = Duration::from_secs(20);
        ensure!(
            tsunagi_relay::testing::settled(&self.relay.store, &self.idle, &channel, within).await,
            "the relay's executor never settled"
        );
        Ok(())
    }

    /// The relay's SQLite database file.
    pub fn relay_database(&self) -> std::path::PathBuf {
        self.test.storage.dir().join("relay.db")
    }

    /// The relay's data folder: its SQLite log (on that backend) and the media it keeps.
    pub fn relay_dir(&self) -> &std::path::Path {
        self.test.storage.dir()
    }

    /// The relay's PostgreSQL database, on that backend.
    pub fn relay_database_url(&self) -> Option<&str> {
        self.test.storage.database_url()
    }

    /// A one-time code for a desk of the clinic's channel.
    pub async fn invite(&self, role: Role) -> Result<String> {
        Ok(self
            .relay
            .invite(&ChannelId::from(CHANNEL), role, None)
            .await
            .context("creating an invite")?
            .code)
    }

    /// The one-time code a new relay offers its owner's desk.
    pub async fn setup_code(&self) -> Result<String> {
        Ok(self
            .relay
            .setup_code()
            .await
            .context("creating the setup code")?
            .code)
    }

    /// Another desk (`device`) claims `patient`'s chat, as if through its window.
    pub async fn claim_as(&self, device: &str, patient: &UserId) -> Result<()> {
        self.act_as(
            device,
            tsunagi_proto::Operation::Claim {
                conversation: tsunagi_proto::ConversationId::from(patient.as_str()),
            },
        )
        .await
    }

    /// The simulated patients, in linesim's order.
    pub fn patients(&self) -> Vec<User> {
        self.sim.users()
    }

    /// The patient writes `text` to the account, and the relay takes the webhook.
    pub async fn says(&self, user: &UserId, text: &str) -> Result<()> {
        let report = self
            .sim
            .say(user, UserAction::Text { text: text.into() })
            .await
            .with_context(|| format!("{user} writing"))?;
        ensure!(
            report.attempt.status == Some(200),
            "the relay did not take the webhook: {:?}",
            report.attempt
        );
        Ok(())
    }

    /// The patient blocks the account (LINE tells the relay with an unfollow).
    pub async fn blocks(&self, user: &UserId) -> Result<()> {
        self.sim
            .say(user, UserAction::Unfollow)
            .await
            .with_context(|| format!("{user} blocking"))?;
        Ok(())
    }

    /// Logs `op` as another desk (`device`) would have: what a colleague does elsewhere.
    pub async fn act_as(&self, device: &str, op: tsunagi_proto::Operation) -> Result<()> {
        use tsunagi_relay::store::{LogStore as _, NewBody, NewEntry};
        let op = serde_json::value::RawValue::from_string(serde_json::to_string(&op)?)?;
        self.relay
            .store
            .append(
                &tsunagi_line::ChannelId::from(CHANNEL),
                vec![NewEntry {
                    at: tsunagi_proto::UnixMillis::now(),
                    body: NewBody::Op {
                        op_id: tsunagi_proto::OpId::new(),
                        device: tsunagi_proto::DeviceId::from(device),
                        role: None,
                        op,
                    },
                }],
            )
            .await?;
        Ok(())
    }

    /// The AI responder on linesim's model, answering at any hour, and Telegram alerts to
    /// linesim's first chat on every handoff and escalation: as an owner would set them
    /// up, the key and the token kept by the relay.
    pub async fn automations_on(&self) -> Result<()> {
        use tsunagi_proto::{AiSettings, Credential, Operation, Setting, TelegramSettings};
        let channel = ChannelId::from(CHANNEL);
        let config = self.sim.config();
        for (credential, value) in [
            (Credential::AiKey, config.ai_key.as_str()),
            (Credential::TelegramToken, config.telegram_token.as_str()),
        ] {
            self.relay
                .set_credential(&channel, credential, Some(value))
                .await?;
            self.act_as(
                OWNER_DEVICE,
                Operation::CredentialSet {
                    credential,
                    set: true,
                },
            )
            .await?;
        }
        let ai = AiSettings {
            base_url: format!("{}/v1", self.sim_url),
            model: "sim-1".into(),
            prompt: "Sakura Clinic: open Monday to Saturday, 9:00 to 18:00, on the 2nd floor \
                     of the Sakura Building."
                .into(),
            history: 10,
            timeout_seconds: 20,
            when_open: true,
            when_closed: true,
        };
        let telegram = TelegramSettings {
            chats: vec![config.telegram_chats[0]],
            on_handoff: true,
            on_escalation: true,
            on_reminder_failed: true,
            show_names: true,
            language: "en".into(),
        };
        for setting in [Setting::Ai(ai), Setting::Telegram(telegram)] {
            self.act_as(OWNER_DEVICE, Operation::Settings(setting))
                .await?;
        }
        Ok(())
    }

    /// What the account sent the patient, as LINE delivered it.
    pub fn received(&self, user: &UserId) -> Vec<Delivered> {
        self.sim.inbox(user.as_str())
    }

    /// Waits until the patient has received at least `count` messages.
    pub async fn until_received(&self, user: &UserId, count: usize) -> Result<Vec<Delivered>> {
        self.received_within(user, count, Duration::from_secs(30))
            .await
    }

    /// Waits up to `within` until the patient has received at least `count` messages.
    pub async fn received_within(
        &self,
        user: &UserId,
        count: usize,
        within: Duration,
    ) -> Result<Vec<Delivered>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received(user);
            if received.len() >= count {
                return Ok(received);
            }
            ensure!(
                tokio::time::Instant::now() < deadline,
                "{user} received {} of {count} messages within {within:?}: {received:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
