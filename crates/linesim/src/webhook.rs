//! Simulated users acting, and the signed webhooks that tell the bot.
//!
//! A delivery task takes queued events in order, batches what is waiting (LINE may put
//! several events in one POST), signs the body with the channel secret and posts it with
//! LINE's 2-second timeout. Without a 2xx answer and with redelivery on, the same events go
//! again with `isRedelivery: true`. On request it also duplicates and reorders deliveries.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tsunagi_line::signature::{SIGNATURE_HEADER, sign};
use tsunagi_line::{GroupId, MessageId, UserId};

use crate::clock::Millis;
use crate::{Config, Inner, Simulator};

mod say;

pub(crate) use self::say::say;

/// LINE gives up on a webhook POST after this long.
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BATCH: usize = 20;
/// How long a held-back delivery waits for a later one to overtake it.
const REORDER_HOLD: Duration = Duration::from_millis(300);

/// Something a simulated user does, as `POST /_sim/users/{id}/say` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UserAction {
    Text {
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    Sticker {
        package_id: String,
        sticker_id: String,
    },
    Image,
    /// A photo, as `Image`, with what LINE adds to some: one of several sent at once
    /// (`imageSet`), or hosted outside LINE (`contentProvider: external`, whose bytes
    /// LINE's content API does not serve).
    #[serde(rename_all = "camelCase")]
    Photo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_set: Option<PhotoSet>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external: Option<ExternalMedia>,
    },
    /// A message sticker: a sticker the user typed words on (`stickerResourceType:
    /// MESSAGE`, with `text`), and LINE's keywords for it.
    #[serde(rename_all = "camelCase")]
    MessageSticker {
        package_id: String,
        sticker_id: String,
        text: String,
        #[serde(default)]
        keywords: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quoted_message_id: Option<MessageId>,
    },
    /// A text that quotes an earlier message of the chat (the user's or the account's):
    /// LINE's "Reply" on a long press.
    #[serde(rename_all = "camelCase")]
    Quote {
        text: String,
        quoted_message_id: MessageId,
    },
    /// A video; a large one is "preparing" (202 on download) for `preparing_ms`, or for
    /// ever when LINE's transcoding of it fails.
    #[serde(rename_all = "camelCase")]
    Video {
        duration_ms: u64,
        #[serde(default)]
        preparing_ms: u64,
        #[serde(default)]
        transcoding_fails: bool,
    },
    #[serde(rename_all = "camelCase")]
    Audio {
        duration_ms: u64,
        #[serde(default)]
        preparing_ms: u64,
    },
    Location {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        latitude: f64,
        longitude: f64,
    },
    #[serde(rename_all = "camelCase")]
    File {
        file_name: String,
        file_size: u64,
        /// What LINE serves for it, when that is not the declared size (at most 64 KiB
        /// either way): a file whose download outgrows what the webhook said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        served_size: Option<u64>,
    },
    Postback {
        data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<Value>,
    },
    Follow,
    Unfollow,
    #[serde(rename_all = "camelCase")]
    Unsend {
        message_id: MessageId,
    },
}

/// Which of the photos sent together one is (LINE's `imageSet`; `index` counts from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoSet {
    pub id: String,
    pub index: u32,
    pub total: u32,
}

/// Where media hosted outside LINE is (`contentProvider: external`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalMedia {
    pub original_content_url: String,
    pub preview_image_url: String,
}

impl ExternalMedia {
    /// A photo the simulator itself hosts "outside LINE", at `base` (its own address):
    /// `<base>/_sim/outside/<name>` and its thumbnail.
    pub fn hosted_by(base: &str, name: &str) -> Self {
        let original = format!("{}/_sim/outside/{name}", base.trim_end_matches('/'));
        ExternalMedia {
            preview_image_url: format!("{original}/preview"),
            original_content_url: original,
        }
    }
}

/// Ways the delivery may misbehave, as LINE's does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Post every delivery twice.
    pub duplicate: bool,
    /// Deliver out of order: events posted together go in reverse, and each POST is held
    /// back so the next one overtakes it.
    pub reorder: bool,
}

/// One webhook POST.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub at: Millis,
    pub endpoint: String,
    pub webhook_event_ids: Vec<String>,
    pub redelivery: bool,
    pub duplicate: bool,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why there was no answer.
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// An event a user action produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaidEvent {
    pub webhook_event_id: String,
    pub reply_token: Option<String>,
    pub message_id: Option<MessageId>,
    /// A message's token for marking the chat read up to it.
    pub mark_as_read_token: Option<String>,
}

/// What came of a user action: its events, and the first POST that carried them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub events: Vec<SaidEvent>,
    pub attempt: Attempt,
}

#[derive(Debug, thiserror::Error)]
pub enum SayError {
    /// Not a LINE user id, or in a group: not a user the simulation has.
    #[error("no simulated user {0}")]
    UnknownUser(UserId),
    #[error("{0} is not a member of {1}")]
    NotAMember(UserId, GroupId),
    #[error("{0} has blocked the account; only a follow gets through")]
    Blocked(UserId),
    #[error("the simulator stopped before delivering")]
    Stopped,
}

/// LINE's webhook test report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestReport {
    success: bool,
    timestamp: String,
    status_code: u16,
    reason: String,
    detail: String,
}

struct Pending {
    events: Vec<Value>,
    done: oneshot::Sender<Attempt>,
}

pub(crate) struct Sender {
    http: reqwest::Client,
    secret: String,
    destination: String,
    redelivery: Option<(u32, Duration)>,
    queue: mpsc::UnboundedSender<Pending>,
    /// Taken by the delivery task when the first event is queued (inside a runtime).
    waiting: Mutex<Option<mpsc::UnboundedReceiver<Pending>>>,
    faults: Mutex<Faults>,
    attempts: Mutex<Vec<Attempt>>,
    /// Redeliveries still to be tried or under way (each failed POST's, until one is
    /// answered with a 2xx or its tries are spent).
    redelivering: tokio::sync::watch::Sender<usize>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sender {
    pub(crate) fn new(config: &Config) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        Self {
            http: reqwest::Client::builder()
                .timeout(WEBHOOK_TIMEOUT)
                .user_agent("LineBotWebhook/2.0")
                .build()
                .unwrap_or_default(),
            secret: config.channel_secret.clone(),
            destination: config.bot_user_id.to_string(),
            redelivery: config.redelivery.then(|| {
                (
                    config.redelivery_attempts,
                    Duration::from_millis(config.redelivery_interval_ms),
                )
            }),
            queue,
            waiting: Mutex::new(Some(waiting)),
            faults: Mutex::new(Faults::default()),
            attempts: Mutex::new(Vec::new()),
            redelivering: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Resolves once no redelivery is waiting or under way.
    pub(crate) async fn redeliveries_done(&self) {
        let mut redelivering = self.redelivering.subscribe();
        // The sender lives as long as this `Sender`, so the wait cannot fail.
        let _ = redelivering.wait_for(|under_way| *under_way == 0).await;
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    pub(crate) fn attempts(&self) -> Vec<Attempt> {
        lock(&self.attempts).clone()
    }

    fn enqueue(&self, sim: &Simulator, events: Vec<Value>) -> oneshot::Receiver<Attempt> {
        if let Some(waiting) = lock(&self.waiting).take() {
            tokio::spawn(deliver(Arc::downgrade(&sim.inner), waiting));
        }
        let (done, answer) = oneshot::channel();
        // The task only ends when the simulator is gone, so this send cannot fail while
        // `sim` is alive.
        let _ = self.queue.send(Pending { events, done });
        answer
    }

    /// Posts `{destination, events}` signed; never fails, the attempt says what happened.
    async fn post(
        &self,
        sim: &Simulator,
        endpoint: &str,
        events: &[Value],
        redelivery: bool,
        duplicate: bool,
    ) -> Attempt {
        let body = json!({ "destination": self.destination, "events": events });
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let signature = sign(self.secret.as_bytes(), &body);
        let result = self
            .http
            .post(endpoint)
            .header("content-type", "application/json; charset=utf-8")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        let (status, error) = match result {
            Ok(response) => (Some(response.status().as_u16()), None),
            Err(e) if e.is_timeout() => (None, Some("REQUEST_TIMEOUT".to_owned())),
            Err(e) if e.is_connect() => (None, Some("COULD_NOT_CONNECT".to_owned())),
            Err(e) => (None, Some(format!("UNCLASSIFIED: {e}"))),
        };
        let attempt = Attempt {
            at: sim.now(),
            endpoint: endpoint.to_owned(),
            webhook_event_ids: events
                .iter()
                .filter_map(|e| e["webhookEventId"].as_str().map(str::to_owned))
                .collect(),
            redelivery,
            duplicate,
            status,
            error,
        };
        lock(&self.attempts).push(attempt.clone());
        attempt
    }

    /// LINE's webhook test: an empty event list, reported as `{success, statusCode, …}`.
    pub(crate) async fn test(&self, sim: &Simulator, endpoint: &str) -> TestReport {
        let attempt = self.post(sim, endpoint, &[], false, false).await;
        let timestamp = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
        match (attempt.status, attempt.error) {
            (Some(code), _) if (200..300).contains(&code) => TestReport {
                success: true,
                timestamp,
                status_code: code,
                reason: "OK".into(),
                detail: code.to_string(),
            },
            (Some(code), _) => TestReport {
                success: false,
                timestamp,
                status_code: code,
                reason: "ERROR_STATUS_CODE".into(),
                detail: format!("The webhook returned an HTTP status code other than 200.({code})"),
            },
            (None, error) => {
                let error = error.unwrap_or_default();
                let reason = error.split(':').next().unwrap_or("UNCLASSIFIED").to_owned();
                TestReport {
                    success: false,
                    timestamp,
                    status_code: 0,
                    reason,
                    detail: error,
                }
            }
        }
    }
}

/// The delivery task: one POST at a time, in queue order (unless reordering is asked for).
/// It ends when the simulator is gone.
async fn deliver(inner: Weak<Inner>, mut queue: mpsc::UnboundedReceiver<Pending>) {
    let mut held: Option<Vec<Pending>> = None;
    loop {
        let next = if held.is_some() {
            // Whatever comes within the hold overtakes the held delivery.
            tokio::time::timeout(REORDER_HOLD, queue.recv())
                .await
                .ok()
                .flatten()
        } else {
            match queue.recv().await {
                Some(pending) => Some(pending),
                None => return,
            }
        };
        let Some(inner) = inner.upgrade() else { return };
        let sim = Simulator { inner };
        let mut batch: Vec<Pending> = next.into_iter().collect();
        while !batch.is_empty() && batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let faults = *lock(&sim.inner.sender.faults);
        if faults.reorder && held.is_none() {
            held = Some(batch);
            continue;
        }
        post_batch(&sim, batch, faults).await;
        if let Some(older) = held.take() {
            post_batch(&sim, older, faults).await;
        }
    }
}

async fn post_batch(sim: &Simulator, batch: Vec<Pending>, faults: Faults) {
    if batch.is_empty() {
        return;
    }
    let sender = &sim.inner.sender;
    let mut events: Vec<Value> = batch.iter().flat_map(|p| p.events.clone()).collect();
    if faults.reorder {
        events.reverse();
    }
    let Some(endpoint) = sim.webhook_endpoint() else {
        let attempt = Attempt {
            at: sim.now(),
            endpoint: String::new(),
            webhook_event_ids: Vec::new(),
            redelivery: false,
            duplicate: false,
            status: None,
            error: Some("no webhook URL is set".into()),
        };
        for pending in batch {
            let _ = pending.done.send(attempt.clone());
        }
        return;
    };
    mark_sent(sim, &events, false);
    let attempt = sender.post(sim, &endpoint, &events, false, false).await;
    // Counted before the sayer hears of the attempt, so that a wait for the redeliveries
    // to end, begun once `say` returns, waits for these.
    let redelivery = sender.redelivery.filter(|_| !attempt.succeeded());
    if redelivery.is_some() {
        sender.redelivering.send_modify(|under_way| *under_way += 1);
    }
    for pending in batch {
        let _ = pending.done.send(attempt.clone());
    }
    if faults.duplicate {
        sender.post(sim, &endpoint, &events, false, true).await;
    }
    if let Some((tries, interval)) = redelivery {
        let under_way = UnderWay(sim.clone());
        tokio::spawn(async move {
            redeliver(&under_way.0, endpoint, events, tries, interval).await;
        });
    }
}

/// A failed POST's redeliveries, counted as under way until they end (or their task is
/// dropped).
struct UnderWay(Simulator);

impl Drop for UnderWay {
    fn drop(&mut self) {
        self.0
            .inner
            .sender
            .redelivering
            .send_modify(|under_way| *under_way -= 1);
    }
}

async fn redeliver(
    sim: &Simulator,
    endpoint: String,
    mut events: Vec<Value>,
    tries: u32,
    interval: Duration,
) {
    for event in &mut events {
        event["deliveryContext"]["isRedelivery"] = true.into();
    }
    for _ in 0..tries {
        tokio::time::sleep(interval).await;
        mark_sent(sim, &events, true);
        let attempt = sim
            .inner
            .sender
            .post(sim, &endpoint, &events, true, false)
            .await;
        if attempt.succeeded() {
            return;
        }
    }
}

/// The reply tokens in these events start (or, redelivered, extend) their lives now.
fn mark_sent(sim: &Simulator, events: &[Value], redelivery: bool) {
    let now = sim.now();
    let mut world = sim.world();
    for token in events.iter().filter_map(|e| e["replyToken"].as_str()) {
        world.reply_token_sent(token, now, redelivery);
    }
}
