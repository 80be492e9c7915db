//! linesim: the LINE Platform, simulated, for Tsunagi's tests, benchmarks and demo.
//!
//! It serves the Messaging API as LINE does (bearer tokens, reply-token and retry-key rules,
//! message limits, rate limits, the monthly quota, follower paging, content states) and sends
//! signed webhooks when its simulated users act. Everything it delivers is recorded, and can
//! be read back from Rust or over `/_sim/`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use tsunagi_linesim::{Config, Simulator, UserAction};
//!
//! let sim = Simulator::new(Config::new("1656789012", "secret", "token"));
//! let address = sim.clone().serve("127.0.0.1:0".parse()?).await?;
//! let patient = sim.users()[0].user_id.clone();
//! sim.say(&patient, UserAction::Text { text: "予約したいです".into() }).await?;
//! # Ok(()) }
//! ```

mod assistant;
mod clip;
pub mod clock;
mod error;
mod fetch;
mod inspect;
mod picture;
pub mod population;
pub mod scenario;
mod server;
mod spec;
mod telegram;
mod webhook;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use tsunagi_line::{MessageId, UserId};
use uuid::Uuid;

pub use crate::assistant::{AiCall, AiFaults};
pub use crate::clock::{Clock, ManualClock, Millis, SystemClock};
use crate::error::LineError;
pub use crate::fetch::{BrokenImage, FetchedBy, FetchesMissing, ImageFetch};
use crate::population::{Group, User};
pub use crate::telegram::{TelegramFaults, TelegramMessage};
pub use crate::webhook::{
    Attempt, DeliveryReport, ExternalMedia, Faults, PhotoSet, SaidEvent, UserAction,
};
use crate::world::World;
pub use crate::world::{Delivered, IssuedToken, Refused, TokenKind, Via};

/// How the simulated channel is set up.
#[derive(Clone)]
pub struct Config {
    pub channel_id: String,
    pub channel_secret: String,
    pub access_token: String,
    /// The bot's own user id, sent as the webhook's `destination`.
    pub bot_user_id: UserId,
    pub bot_name: String,
    /// Where webhooks go; also settable through the webhook endpoint API.
    pub webhook_url: Option<String>,
    /// The channel's "Use webhook" switch (LINE Developers console, or Webhooks in LINE
    /// Official Account Manager): off, nothing is delivered, whatever the URL.
    pub use_webhook: bool,
    /// Verified or premium: may list follower ids.
    pub verified: bool,
    /// Redeliver webhooks that got no 2xx.
    pub redelivery: bool,
    /// How many times a webhook is redelivered, and how long apart (ms).
    pub redelivery_attempts: u32,
    pub redelivery_interval_ms: u64,
    /// Multiplies LINE's rate limits; `None` turns them off.
    pub rate_scale: Option<f64>,
    /// Messages per month for push-family sends; `None` is unlimited.
    pub monthly_quota: Option<u64>,
    /// The account's Chat is on (`chatMode: chat`).
    pub chat_mode: bool,
    /// LINE marks every message read as it arrives (`markAsReadMode: auto`): the account
    /// never marks them itself, and `markAsRead` changes nothing.
    pub mark_as_read_auto: bool,
    /// Profiles leave `language` out, as LINE's do for users who have not agreed to LINE's
    /// privacy policy.
    pub profiles_without_language: bool,
    /// Attached to a partner module without chat control: events arrive in `standby` mode,
    /// with no reply token.
    pub standby: bool,
    /// The simulated users.
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// The API key the chat completions endpoint (`/v1/chat/completions`) accepts.
    pub ai_key: String,
    /// The token of the simulated Telegram bot (`/bot{token}/…`).
    pub telegram_token: String,
    /// The Telegram chats the bot is in: others are "chat not found".
    pub telegram_chats: Vec<i64>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("channel_id", &self.channel_id)
            .field("channel_secret", &"…")
            .field("access_token", &"…")
            .field("webhook_url", &self.webhook_url)
            .field("use_webhook", &self.use_webhook)
            .field("verified", &self.verified)
            .field("redelivery", &self.redelivery)
            .field("rate_scale", &self.rate_scale)
            .field("monthly_quota", &self.monthly_quota)
            .field("users", &self.users.len())
            .field("telegram_chats", &self.telegram_chats)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Adds a user who has not added the account as a friend to the first group (the
    /// waiting room), and returns their id: LINE answers their profile only through the
    /// group's member profile, `/profile` answers 404.
    pub fn stranger_in_group(&mut self) -> UserId {
        let user =
            population::stranger(&population::user_id(9_000 + self.users.len() as u64), false);
        let id = user.user_id.clone();
        self.users.push(user);
        if let Some(group) = self.groups.first_mut() {
            group.members.push(id.clone());
        }
        id
    }

    /// A verified channel with 24 users, LINE's rate limits, no quota and no webhook yet.
    pub fn new(
        channel_id: impl Into<String>,
        channel_secret: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        let users = population::users(24, 1);
        let groups = vec![population::waiting_room(&users)];
        Self {
            channel_id: channel_id.into(),
            channel_secret: channel_secret.into(),
            access_token: access_token.into(),
            bot_user_id: UserId::new(format!("U{:032x}", 0xb07_u128)),
            bot_name: "Sakura Clinic (simulated)".into(),
            webhook_url: None,
            use_webhook: true,
            verified: true,
            redelivery: false,
            redelivery_attempts: 3,
            redelivery_interval_ms: 1_000,
            rate_scale: Some(1.0),
            monthly_quota: None,
            chat_mode: true,
            mark_as_read_auto: false,
            profiles_without_language: false,
            standby: false,
            users,
            groups,
            ai_key: "sk-sim-tsunagi".into(),
            telegram_token: "7000000001:AAsim-tsunagi-alerts".into(),
            telegram_chats: vec![424_242, -1_001_000_000_001],
        }
    }
}

/// A running (or ready to run) simulated LINE Platform. Cheap to clone; clones share state.
#[derive(Debug, Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    clock: Arc<dyn Clock>,
    world: Mutex<World>,
    sender: webhook::Sender,
    api_faults: Mutex<ApiFaults>,
    /// The path of every API call that arrived, in order.
    api_calls: Mutex<Vec<String>>,
    /// Every call refused for its bearer token, in order.
    token_refusals: Mutex<Vec<TokenRefusal>>,
    assistant: Mutex<assistant::Assistant>,
    telegram: Mutex<telegram::Telegram>,
    /// The images LINE fetched of what it was sent.
    images: fetch::Images,
}

/// Ways the Messaging API may fail, as LINE's can.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiFaults {
    /// The next this many API calls answer 500 without doing anything.
    #[serde(default)]
    pub fail_next: u32,
    /// The next this many API calls do their work, then answer only after `slow_ms`: a
    /// client that times out first never learns that it succeeded.
    #[serde(default)]
    pub slow_next: u32,
    #[serde(default)]
    pub slow_ms: u64,
    /// The next this many API calls reach LINE only after `late_ms`, as over a congested
    /// network: nothing is done until then, and then it is done even if the client has
    /// given up waiting (the request was on its way).
    #[serde(default)]
    pub late_next: u32,
    #[serde(default)]
    pub late_ms: u64,
    /// The next this many API calls do their work, then answer 500 all the same: LINE's
    /// "a request answered 5xx may still have been carried out".
    #[serde(default)]
    pub done_then_fail_next: u32,
    /// Only calls to this path (`/v2/bot/message/reply`) meet the faults; others pass.
    #[serde(default)]
    pub only_path: Option<String>,
}

/// How LINE reports a webhook test that got no answer: `statusCode` zero or negative,
/// `reason` and `detail` saying why, and no `success`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered {
    pub status_code: i32,
    pub reason: String,
    pub detail: String,
}

impl Unanswered {
    /// The endpoint refused the connection.
    pub fn connection_refused(status_code: i32) -> Self {
        Self {
            status_code,
            reason: "COULD_NOT_CONNECT".into(),
            detail: "Connection refused".into(),
        }
    }
}

/// A call LINE answered 401 because of its bearer token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenRefusal {
    pub at: Millis,
    pub path: String,
    pub why: Refused,
}

/// What the API fault plan says about the call now arriving.
pub(crate) enum ApiFault {
    Fail,
    DoneThenFail,
    Slow(std::time::Duration),
    Late(std::time::Duration),
    None,
}

impl Simulator {
    /// A simulator on the system clock.
    pub fn new(config: Config) -> Self {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// A simulator on the given clock, e.g. a [`ManualClock`] in tests.
    pub fn with_clock(config: Config, clock: Arc<dyn Clock>) -> Self {
        let mut world = World::new(
            config.users.clone(),
            config.groups.clone(),
            config.webhook_url.clone(),
        );
        world.use_webhook = config.use_webhook;
        world.chat_mode = config.chat_mode;
        world.mark_as_read_auto = config.mark_as_read_auto;
        Self {
            inner: Arc::new(Inner {
                sender: webhook::Sender::new(&config),
                config,
                clock,
                world: Mutex::new(world),
                api_faults: Mutex::new(ApiFaults::default()),
                api_calls: Mutex::default(),
                token_refusals: Mutex::default(),
                assistant: Mutex::default(),
                telegram: Mutex::default(),
                images: fetch::Images::default(),
            }),
        }
    }

    /// The Messaging API and `/_sim/` routes.
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serves on `address` in the background and returns the bound address.
    pub async fn serve(self, address: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let bound = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "linesim stopped serving");
            }
        });
        Ok(bound)
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn now(&self) -> Millis {
        self.inner.clock.now()
    }

    fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock cannot leave the world half-changed in a way that
        // matters to a simulator; keep serving.
        self.inner
            .world
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The simulated users, as they stand now.
    pub fn users(&self) -> Vec<User> {
        self.world().users.values().cloned().collect()
    }

    pub fn groups(&self) -> Vec<Group> {
        self.world().groups.values().cloned().collect()
    }

    /// Everything delivered to a user, group or room, in order.
    pub fn inbox(&self, to: &str) -> Vec<Delivered> {
        self.world().inbox(to)
    }

    /// The newest message of `user`'s chat the account marked read, if any; with
    /// `markAsReadMode: auto`, the newest message of all, which LINE marked itself.
    pub fn read_up_to(&self, user: &UserId) -> Option<MessageId> {
        let world = self.world();
        if world.mark_as_read_auto {
            return (world.read_tokens.values())
                .filter(|(chat, _)| chat == user)
                .map(|(_, message)| message)
                .max_by_key(|message| message.as_str().parse::<u64>().unwrap_or(0))
                .cloned();
        }
        world.read_up_to.get(user).cloned()
    }

    /// Changes the account's modes as its owner does in LINE Official Account Manager: Chat
    /// on or off (`chatMode`), and whether LINE marks messages read itself
    /// (`markAsReadMode: auto`). Bot info says so from then on.
    pub fn set_account_modes(&self, chat: bool, mark_as_read_auto: bool) {
        let mut world = self.world();
        world.chat_mode = chat;
        world.mark_as_read_auto = mark_as_read_auto;
    }

    /// `chatMode` and `markAsReadMode` as bot info says them now.
    fn account_modes(&self) -> (&'static str, &'static str) {
        let world = self.world();
        (
            if world.chat_mode { "chat" } else { "bot" },
            if world.mark_as_read_auto {
                "auto"
            } else {
                "manual"
            },
        )
    }

    /// The loading animations shown in `user`'s chat: for how many seconds each.
    pub fn loading_shown(&self, user: &UserId) -> Vec<u32> {
        self.world()
            .loading
            .iter()
            .filter(|(chat, _, _)| chat == user)
            .map(|(_, seconds, _)| *seconds)
            .collect()
    }

    /// Marks the chat read up to the message the token came with; false for a token LINE
    /// never issued.
    pub(crate) fn mark_read(&self, token: &str) -> bool {
        let mut world = self.world();
        let Some((user, message)) = world.read_tokens.get(token).cloned() else {
            return false;
        };
        world.read_up_to.insert(user, message);
        true
    }

    pub(crate) fn show_loading(&self, chat: UserId, seconds: u32) {
        let now = self.now();
        self.world().loading.push((chat, seconds, now));
    }

    /// Messages counted against this month's quota.
    pub fn consumption(&self) -> u64 {
        self.world().consumption
    }

    /// Short-lived channel access tokens live now (LINE keeps at most 30).
    pub fn short_lived_tokens(&self) -> usize {
        let now = self.now();
        self.world().live_short_lived_tokens(now)
    }

    /// Turns duplicate and out-of-order webhook delivery on or off.
    pub fn set_faults(&self, faults: Faults) {
        self.inner.sender.set_faults(faults);
    }

    /// Makes the next API calls fail or answer late.
    pub fn set_api_faults(&self, faults: ApiFaults) {
        *self
            .inner
            .api_faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
    }

    /// The path of every Messaging API call that arrived so far, in order.
    pub fn api_calls(&self) -> Vec<String> {
        self.inner
            .api_calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Takes the fault, if any, planned for the call now arriving at `path`.
    pub(crate) fn next_api_fault(&self, path: &str) -> ApiFault {
        self.inner
            .api_calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(path.to_owned());
        let mut faults = self
            .inner
            .api_faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if faults.only_path.as_deref().is_some_and(|only| only != path) {
            return ApiFault::None;
        }
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            ApiFault::Fail
        } else if faults.slow_next > 0 {
            faults.slow_next -= 1;
            ApiFault::Slow(std::time::Duration::from_millis(faults.slow_ms))
        } else if faults.done_then_fail_next > 0 {
            faults.done_then_fail_next -= 1;
            ApiFault::DoneThenFail
        } else if faults.late_next > 0 {
            faults.late_next -= 1;
            ApiFault::Late(std::time::Duration::from_millis(faults.late_ms))
        } else {
            ApiFault::None
        }
    }

    /// Every webhook POST attempted so far.
    pub fn webhook_attempts(&self) -> Vec<Attempt> {
        self.inner.sender.attempts()
    }

    /// Resolves once every failed webhook's redeliveries are over: one was answered with a
    /// 2xx or all its tries were made. At once when redelivery is off or nothing failed.
    pub async fn redeliveries_done(&self) {
        self.inner.sender.redeliveries_done().await;
    }

    /// A user acts: the matching webhook events are built and delivered. Resolves once the
    /// first delivery attempt of the POST that carried them has an answer.
    pub async fn say(
        &self,
        user: &UserId,
        action: UserAction,
    ) -> Result<DeliveryReport, webhook::SayError> {
        webhook::say(self, user, None, action).await
    }

    /// A user acts inside a group they are a member of.
    pub async fn say_in_group(
        &self,
        group: &tsunagi_line::GroupId,
        user: &UserId,
        action: UserAction,
    ) -> Result<DeliveryReport, webhook::SayError> {
        webhook::say(self, user, Some(group), action).await
    }

    /// Whether a call to `path` may go on with the bearer `token`: the long-lived token,
    /// or an issued one not expired or revoked. A refusal is recorded.
    fn authorize(&self, token: Option<&str>, path: &str) -> bool {
        let now = self.now();
        let refused = match token {
            Some(token) if token == self.inner.config.access_token => return true,
            Some(token) => match self.world().use_token(token, now) {
                Ok(()) => return true,
                Err(why) => why,
            },
            None => Refused::Missing,
        };
        self.inner
            .token_refusals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(TokenRefusal {
                at: now,
                path: path.to_owned(),
                why: refused,
            });
        false
    }

    /// Every channel access token issued so far (short-lived and stateless), oldest first,
    /// with when it expires, whether it was revoked, and how many calls it was taken for.
    pub fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.world().issued_tokens()
    }

    /// Every call answered 401 for its bearer token so far, in order.
    pub fn token_refusals(&self) -> Vec<TokenRefusal> {
        self.inner
            .token_refusals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn limit(&self, endpoint: &'static str) -> Result<(), LineError> {
        match self.inner.config.rate_scale {
            Some(scale) => self.world().rate_limit(endpoint, scale, self.now()),
            None => Ok(()),
        }
    }

    fn reply(
        &self,
        token: &str,
        messages: &[Value],
        notification_disabled: bool,
    ) -> Result<Vec<world::SentMessage>, LineError> {
        let now = self.now();
        let mut world = self.world();
        let chat = world.use_reply_token(token, now)?;
        fetch::at_delivery(self, messages);
        let request_id = Uuid::new_v4().to_string();
        Ok(world.deliver(
            &chat,
            Via::Reply,
            messages,
            &request_id,
            notification_disabled,
            now,
        ))
    }

    /// A push-family send: the retry key, the quota, then delivery to each recipient.
    fn send(
        &self,
        key: Option<Uuid>,
        to: &[String],
        via: Via,
        messages: &[Value],
        notification_disabled: bool,
    ) -> Result<Response, LineError> {
        let now = self.now();
        let mut world = self.world();
        if let Some(key) = key
            && let Some(accepted) = world.accepted(key, now)
        {
            return Ok(server::already_accepted_response(via, &accepted));
        }
        world.charge(
            (messages.len() * to.len()) as u64,
            self.inner.config.monthly_quota,
        )?;
        let request_id = Uuid::new_v4().to_string();
        // Only a push answers with `sentMessages`, and a push has one recipient: keeping
        // the last recipient's messages is keeping the push's.
        let mut sent = Vec::new();
        for recipient in to {
            sent = world.deliver(
                recipient,
                via,
                messages,
                &request_id,
                notification_disabled,
                now,
            );
        }
        fetch::at_delivery(self, messages);
        if let Some(key) = key {
            world.remember_key(key, now, &request_id, &sent);
        }
        Ok(server::sent_response(via, &request_id, &sent))
    }

    fn followers(&self) -> Vec<String> {
        self.world()
            .followers()
            .into_iter()
            .map(UserId::into_string)
            .collect()
    }

    fn followers_page(
        &self,
        limit: usize,
        start: Option<&str>,
    ) -> Result<(Vec<UserId>, Option<String>), LineError> {
        let now = self.now();
        self.world().followers_page(limit, start, now)
    }

    /// A member of a group or room (`chat`, its id) the bot is in, friend or not.
    fn member(&self, chat: &str, user: &UserId) -> Option<User> {
        let world = self.world();
        let group = world.groups.get(&tsunagi_line::GroupId::from(chat))?;
        if !group.members.contains(user) {
            return None;
        }
        world.users.get(user).cloned()
    }

    /// A friend's profile; `None` for blocked, unfollowed and unknown users (404).
    fn profile(&self, user: &UserId) -> Option<User> {
        self.world()
            .users
            .get(user)
            .filter(|u| u.follows && !u.blocked)
            .cloned()
    }

    /// `GET …/content/transcoding`: whether a video or audio is ready to download.
    pub(crate) fn transcoding(&self, id: &str) -> Result<&'static str, LineError> {
        let now = self.now();
        let world = self.world();
        let content = world
            .contents
            .get(&MessageId::from(id))
            .ok_or_else(LineError::not_found)?;
        Ok(if content.transcoding_failed {
            "failed"
        } else if now < content.ready_at {
            "processing"
        } else {
            "succeeded"
        })
    }

    fn content(&self, id: &str, preview: bool) -> Result<Response, LineError> {
        let now = self.now();
        let world = self.world();
        let content = world
            .contents
            .get(&MessageId::from(id))
            .ok_or_else(LineError::not_found)?;
        if content.unsent {
            return Err(LineError::new(StatusCode::GONE, "Gone"));
        }
        if now < content.ready_at || content.transcoding_failed {
            return Ok(Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(axum::body::Body::empty())
                .unwrap_or_default());
        }
        if preview {
            // LINE has previews of images and videos only.
            let thumbnail = content.preview.clone().ok_or_else(LineError::not_found)?;
            return Ok(server::bytes_response("image/jpeg", thumbnail));
        }
        Ok(server::bytes_response(
            &content.content_type,
            content.bytes.clone(),
        ))
    }

    /// Where webhooks are delivered now: nowhere while "Use webhook" is off.
    fn webhook_endpoint(&self) -> Option<String> {
        let world = self.world();
        world
            .use_webhook
            .then(|| world.webhook_endpoint.clone())
            .flatten()
    }

    /// The webhook URL set, whether or not "Use webhook" is on.
    fn webhook_url(&self) -> Option<String> {
        self.world().webhook_endpoint.clone()
    }

    /// `GET …/webhook/endpoint`: the URL set, and whether LINE uses it.
    fn webhook_setting(&self) -> (Option<String>, bool) {
        let world = self.world();
        let url = world.webhook_endpoint.clone();
        let active = world.use_webhook && url.is_some();
        (url, active)
    }

    /// Turns the channel's "Use webhook" switch on or off, as its owner does in LINE's
    /// consoles: off, `GET …/webhook/endpoint` answers `active: false` and no webhook is
    /// delivered, though the URL stays set.
    pub fn set_use_webhook(&self, on: bool) {
        self.world().use_webhook = on;
    }

    /// Makes LINE's webhook test find no answer at the endpoint without trying it: the
    /// report then has this status (zero or negative), its reason and detail, and no
    /// `success`, as LINE's does. `None` tries the endpoint again.
    pub fn set_webhook_test_unanswered(&self, unanswered: Option<Unanswered>) {
        self.world().webhook_test_unanswered = unanswered;
    }

    fn webhook_test_unanswered(&self) -> Option<Unanswered> {
        self.world().webhook_test_unanswered.clone()
    }

    fn set_webhook_endpoint(&self, endpoint: String) {
        self.world().webhook_endpoint = Some(endpoint);
    }

    async fn test_webhook(&self, endpoint: &str) -> webhook::TestReport {
        self.inner.sender.test(self, endpoint).await
    }

    fn issue_short_lived_token(&self) -> String {
        let now = self.now();
        self.world().issue_short_lived_token(now)
    }

    fn issue_stateless_token(&self) -> String {
        let now = self.now();
        self.world().issue_stateless_token(now)
    }
}
