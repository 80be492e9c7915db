//! The relay over HTTP, on SQLite or PostgreSQL (`TSUNAGI_TEST_STORE`), against signed
//! webhooks (some from linesim).

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod auth;
mod automations;
mod channels;
mod conformance;
mod disk_full;
mod egress;
mod erase;
mod executor;
mod ingest;
mod line_setup;
mod listener;
mod log;
mod metrics;
mod postgres_tls;
mod process;
mod processes;
mod retention;
mod stream;
mod unsend;
mod uploads;

use std::sync::Arc;
use std::time::Duration;

use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::api::{Enrolled, Invited, LogPage, Role};
use tsunagi_relay::Relay;
use tsunagi_relay::secret::RelayKey;
use tsunagi_relay::store::AnyStore;
use tsunagi_relay::testing::{TestRelay, TestRelayBuilder};

pub(crate) const CHANNEL: &str = "1656789012";
pub(crate) const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";

/// The test relay (`tsunagi_relay::testing::TestRelay`, on the store `TSUNAGI_TEST_STORE`
/// names), with an owner's device enrolled over HTTP.
pub(crate) struct Harness {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) relay: Arc<Relay<AnyStore>>,
    /// The token of an owner's device, enrolled at start.
    pub(crate) owner: String,
    pub(crate) key: RelayKey,
    pub(crate) test: TestRelay,
}

impl Harness {
    pub(crate) async fn start() -> Harness {
        Self::start_from(TestRelay::builder()).await
    }

    pub(crate) async fn start_with(options: tsunagi_relay::http::Options) -> Harness {
        Self::start_from(TestRelay::builder().options(options)).await
    }

    /// A relay that connects channels with LINE at `line_api` (linesim), which reaches the
    /// relay at its own address.
    pub(crate) async fn start_with_line(line_api: String) -> Harness {
        Self::start_from(TestRelay::builder().line(line_api)).await
    }

    pub(crate) async fn start_from(builder: TestRelayBuilder) -> Harness {
        let test = builder.start().await;
        let http = reqwest::Client::new();
        let owner = enroll(&http, &test.url, &test.relay, CHANNEL, Role::Owner).await;
        Harness {
            base: test.url.clone(),
            http,
            relay: test.relay.clone(),
            owner,
            key: test.key.clone(),
            test,
        }
    }

    /// A new handle on the relay's store, as another relay process (or a restart) opens it.
    pub(crate) async fn reopen(&self) -> AnyStore {
        self.test.storage.open().await
    }

    pub(crate) fn webhook_url(&self) -> String {
        format!("{}/webhook/line/{CHANNEL}", self.base)
    }

    /// Posts `body` signed with `signature` (or unsigned).
    pub(crate) async fn post(&self, body: impl Into<Vec<u8>>, signature: Option<&str>) -> u16 {
        let mut request = self.http.post(self.webhook_url()).body(body.into());
        if let Some(signature) = signature {
            request = request.header("x-line-signature", signature);
        }
        request.send().await.unwrap().status().as_u16()
    }

    /// Posts `body` signed with the channel's secret.
    pub(crate) async fn post_signed(&self, body: &str) -> u16 {
        self.post(body, Some(&sign(SECRET.as_bytes(), body.as_bytes())))
            .await
    }

    pub(crate) async fn log(&self, query: &str) -> LogPage {
        read_page(&self.http, &self.base, &self.owner, query).await
    }
}

impl Harness {
    /// `GET path` as `token`, read as JSON.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
    ) -> T {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// One value from `/metrics`, by the start of its line (name and labels).
    pub(crate) async fn metric(&self, name: &str) -> f64 {
        self.metric_at(&self.base, name).await
    }

    /// Returns once `waiting` long-polls wait for a newer entry at the relay process at
    /// `base` (a test that posts while a long-poll waits must know that it does).
    pub(crate) async fn until_long_polls_wait(&self, base: &str, waiting: f64) {
        let name = "tsunagi_relay_long_polls_waiting";
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.metric_at(base, name).await != waiting {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{waiting} long-polls never waited at {base}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// One value from the `/metrics` of the relay process at `base`.
    pub(crate) async fn metric_at(&self, base: &str, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    }

    /// A one-time code for a staff device of the test channel.
    pub(crate) async fn staff_invite(&self) -> Invited {
        self.relay
            .invite(&ChannelId::from(CHANNEL), Role::Staff, None)
            .await
            .unwrap()
    }
}

/// One page of the channel's log, read as `token`.
pub(crate) async fn read_page(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
) -> LogPage {
    let response = http
        .get(format!("{base}/v1/channels/{CHANNEL}/log?{query}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.unwrap()
}

/// Uses an enrollment code over HTTP.
pub(crate) async fn redeem(http: &reqwest::Client, base: &str, code: &str) -> Enrolled {
    http.post(format!("{base}/v1/enroll"))
        .json(&serde_json::json!({
            "code": code,
            "device_name": "Front desk PC",
            "operator_name": "Yuki",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Invites a device into `channel` and enrolls it over HTTP; returns its token.
pub(crate) async fn enroll<S: tsunagi_relay::store::LogStore>(
    http: &reqwest::Client,
    base: &str,
    relay: &Relay<S>,
    channel: &str,
    role: Role,
) -> String {
    let invited = relay
        .invite(&ChannelId::from(channel), role, None)
        .await
        .unwrap();
    let enrolled = redeem(http, base, &invited.code).await;
    assert_eq!(enrolled.role, role);
    enrolled.token
}

/// A callback body with one event per id, each a text message.
pub(crate) fn callback(ids: &[&str]) -> String {
    let events: Vec<String> = ids
        .iter()
        .map(|id| {
            format!(
                r#"{{"type":"message","message":{{"type":"text","id":"m{id}","text":"สวัสดี {id}"}},"webhookEventId":"{id}","deliveryContext":{{"isRedelivery":false}},"timestamp":1767225600000,"source":{{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"}},"replyToken":"r{id}","mode":"active"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[{}]}}"#,
        events.join(",")
    )
}
