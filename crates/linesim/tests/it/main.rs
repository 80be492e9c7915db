//! linesim against the real tsunagi-line client, with a webhook receiver standing in for the
//! relay and a manual clock for LINE's time rules.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod api;
mod client;
mod scenario;
mod services;
mod spec;
mod webhook;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tsunagi_line::client::{AccessToken, Client};
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::webhook::Callback;
use tsunagi_linesim::{Config, ManualClock, Simulator};

pub(crate) const CHANNEL_ID: &str = "1656789012";
pub(crate) const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub(crate) const TOKEN: &str = "sim-long-lived-token";
/// 2026-01-01T00:00:00Z.
pub(crate) const T0: i64 = 1_767_225_600_000;

/// One webhook POST as the receiver saw it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Received {
    pub(crate) fn callback(&self) -> Callback {
        Callback::parse(&self.body).expect("linesim sends LINE callbacks")
    }
}

/// A stand-in for the relay: records every POST and answers with the queued statuses
/// (then 200), after an optional delay.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    statuses: Arc<Mutex<VecDeque<StatusCode>>>,
    delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    pub(crate) async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = axum::Router::new()
            .route("/webhook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/webhook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub(crate) fn answer_next(&self, statuses: &[StatusCode]) {
        self.statuses.lock().unwrap().extend(statuses);
    }

    pub(crate) fn delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` POSTs arrived (at most 5 s).
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..500 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "expected {count} webhook POSTs, got {}",
            self.received().len()
        );
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let delay = *receiver.delay.lock().unwrap();
    receiver
        .received
        .lock()
        .unwrap()
        .push(Received { headers, body });
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    receiver
        .statuses
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(StatusCode::OK)
}

/// A running simulator on a manual clock, a receiver for its webhooks, and a client.
pub(crate) struct Harness {
    pub(crate) sim: Simulator,
    pub(crate) clock: ManualClock,
    pub(crate) receiver: Receiver,
    pub(crate) client: Client,
    pub(crate) base: String,
    calls: Calls,
}

/// Counts the calls that reach linesim and those that ended, each carried to its end even
/// when its caller hung up.
#[derive(Clone)]
struct Calls(Arc<tokio::sync::watch::Sender<(u64, u64)>>);

impl Calls {
    fn new() -> Self {
        Self(Arc::new(tokio::sync::watch::Sender::new((0, 0))))
    }

    /// Serves `sim` on a port of its own, counting its calls; its address.
    async fn serve(&self, sim: &Simulator) -> std::net::SocketAddr {
        let router = sim
            .router()
            .layer(axum::middleware::from_fn_with_state(self.clone(), count));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    async fn all_ended(&self) {
        let mut calls = self.0.subscribe();
        tokio::time::timeout(
            Duration::from_secs(10),
            calls.wait_for(|(arrived, ended)| arrived == ended),
        )
        .await
        .expect("a call to linesim never ended")
        .unwrap();
    }
}

async fn count(
    State(calls): State<Calls>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    calls.0.send_modify(|(arrived, _)| *arrived += 1);
    // In a task of its own, so that hanging up does not cut the call short.
    let call = tokio::spawn(async move {
        let answer = next.run(request).await;
        calls.0.send_modify(|(_, ended)| *ended += 1);
        answer
    });
    call.await.unwrap()
}

impl Harness {
    pub(crate) async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    pub(crate) async fn start_with(adjust: impl FnOnce(&mut Config)) -> Harness {
        let (receiver, url) = Receiver::start().await;
        let mut config = Config::new(CHANNEL_ID, SECRET, TOKEN);
        config.webhook_url = Some(url);
        config.redelivery_interval_ms = 20;
        adjust(&mut config);
        let clock = ManualClock::starting_at(T0);
        let sim = Simulator::with_clock(config, Arc::new(clock.clone()));
        let calls = Calls::new();
        let address = calls.serve(&sim).await;
        let base = format!("http://{address}");
        let client = Client::builder()
            .api_base(&base)
            .data_base(&base)
            .access_token(AccessToken::new(TOKEN))
            .retry(RetryPolicy::none())
            .build()
            .expect("client");
        Harness {
            sim,
            clock,
            receiver,
            client,
            base,
            calls,
        }
    }

    /// Waits until every call that reached linesim so far has ended: what it takes late or
    /// answers slowly is done with.
    pub(crate) async fn calls_ended(&self) {
        self.calls.all_ended().await;
    }

    /// The n-th simulated user who follows the account.
    pub(crate) fn friend(&self, n: usize) -> tsunagi_line::UserId {
        self.sim
            .users()
            .into_iter()
            .filter(|u| u.follows)
            .nth(n)
            .expect("enough friends")
            .user_id
    }

    pub(crate) fn blocked_user(&self) -> tsunagi_line::UserId {
        self.sim
            .users()
            .into_iter()
            .find(|u| u.blocked)
            .expect("some user has blocked the account")
            .user_id
    }

    /// A raw POST, for what the typed client would refuse to send.
    pub(crate) async fn raw_post(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, serde_json::Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("linesim answers");
        let status = StatusCode::from_u16(response.status().as_u16()).expect("status");
        let headers = response.headers().clone();
        let json = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, headers, json)
    }
}
