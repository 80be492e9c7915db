//! The simulated platform's state and LINE's rules over it. No HTTP here: handlers translate
//! requests into these calls, so every rule can be tested directly with a manual clock.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::http::StatusCode;
use serde::Serialize;
use tsunagi_line::{GroupId, MessageId, UserId};
use uuid::Uuid;

use crate::clock::Millis;
use crate::error::{LineError, MONTHLY_LIMIT};
use crate::population::{Group, User};

pub(crate) const MINUTE: Millis = 60_000;
pub(crate) const HOUR: Millis = 60 * MINUTE;
pub(crate) const DAY: Millis = 24 * HOUR;
/// A reply token is good for this long after its webhook was sent…
pub(crate) const REPLY_TOKEN_TTL: Millis = MINUTE;
/// …or, once its event was redelivered, this long after the event happened.
pub(crate) const REDELIVERED_REPLY_TOKEN_TTL: Millis = 20 * MINUTE;
pub(crate) const RETRY_KEY_TTL: Millis = DAY;
pub(crate) const FOLLOWERS_NEXT_TTL: Millis = DAY;
pub(crate) const SHORT_LIVED_TOKEN_TTL: Millis = 30 * DAY;
pub(crate) const MAX_SHORT_LIVED_TOKENS: usize = 30;
pub(crate) const STATELESS_TOKEN_TTL: Millis = 15 * 60 * 1000;

/// How a message reached its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Reply,
    Push,
    Multicast,
    Broadcast,
    Narrowcast,
}

/// One message as delivered to a user, group or room.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivered {
    pub message_id: MessageId,
    pub via: Via,
    pub at: Millis,
    pub request_id: String,
    pub notification_disabled: bool,
    /// The message object exactly as the bot sent it.
    pub message: serde_json::Value,
}

/// A message LINE reports as sent, in `sentMessages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SentMessage {
    pub(crate) id: MessageId,
    pub(crate) quote_token: String,
}

#[derive(Debug, Clone)]
struct ReplyTokenState {
    chat: String,
    event_timestamp: Millis,
    /// When the webhook carrying it was first sent; unusable before.
    sent_at: Option<Millis>,
    redelivered: bool,
    used: bool,
}

#[derive(Debug, Clone)]
struct AcceptedKey {
    at: Millis,
    request_id: String,
    sent_messages: Vec<SentMessage>,
}

/// A previous request with the same retry key, answered with 409.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AlreadyAccepted {
    pub(crate) request_id: String,
    pub(crate) sent_messages: Vec<SentMessage>,
}

#[derive(Debug, Clone)]
struct FollowerCursor {
    offset: usize,
    issued_at: Millis,
    page: usize,
}

/// Media a user sent, as LINE keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Content {
    pub(crate) content_type: String,
    pub(crate) bytes: bytes::Bytes,
    /// What the preview endpoint answers (images and video have one).
    pub(crate) preview: Option<bytes::Bytes>,
    /// Large video and audio are "preparing" (202) until then.
    pub(crate) ready_at: Millis,
    /// LINE could not transcode it: "preparing" for ever, and the transcoding status says
    /// `failed`.
    pub(crate) transcoding_failed: bool,
    pub(crate) unsent: bool,
}

/// A token bucket: `capacity` requests at once, refilled at `per_ms`.
#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    per_ms: f64,
    last: Millis,
}

impl Bucket {
    fn take(&mut self, now: Millis) -> bool {
        let elapsed = (now - self.last).max(0) as f64;
        self.tokens = (self.tokens + elapsed * self.per_ms).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The rate LINE documents for an endpoint: requests per window.
pub(crate) fn documented_rate(endpoint: &str) -> (f64, Millis) {
    match endpoint {
        "multicast" => (200.0, 1_000),
        "loading" => (100.0, 1_000),
        "broadcast" | "narrowcast" | "webhook_test" => (60.0, HOUR),
        "token" => (370.0, 1_000),
        "webhook_endpoint" => (1_000.0, MINUTE),
        _ => (2_000.0, 1_000),
    }
}

#[derive(Debug, Default)]
pub(crate) struct World {
    pub(crate) users: BTreeMap<UserId, User>,
    pub(crate) groups: BTreeMap<GroupId, Group>,
    reply_tokens: HashMap<String, ReplyTokenState>,
    retry_keys: HashMap<Uuid, AcceptedKey>,
    /// Retry keys in the order they were accepted, to forget them after a day cheaply.
    retry_key_order: VecDeque<(Millis, Uuid)>,
    inbox: HashMap<String, Vec<Delivered>>,
    pub(crate) consumption: u64,
    /// Every channel access token issued, and what became of it.
    tokens: Tokens,
    follower_cursors: HashMap<String, FollowerCursor>,
    pub(crate) contents: HashMap<MessageId, Content>,
    pub(crate) webhook_endpoint: Option<String>,
    /// The channel's "Use webhook" switch.
    pub(crate) use_webhook: bool,
    /// The account's Chat, and LINE marking messages read itself.
    pub(crate) chat_mode: bool,
    pub(crate) mark_as_read_auto: bool,
    /// Webhook tests answered as unanswered, without trying the endpoint.
    pub(crate) webhook_test_unanswered: Option<crate::Unanswered>,
    buckets: HashMap<&'static str, Bucket>,
    next_message_id: u64,
    /// Each 1:1 message's mark-as-read token: whose chat, and which message.
    pub(crate) read_tokens: HashMap<String, (UserId, MessageId)>,
    /// How far the account has read each user's chat (its newest message marked read).
    pub(crate) read_up_to: HashMap<UserId, MessageId>,
    /// The loading animations shown: in whose chat, for how many seconds, when.
    pub(crate) loading: Vec<(UserId, u32, Millis)>,
}

impl World {
    pub(crate) fn new(users: Vec<User>, groups: Vec<Group>, webhook: Option<String>) -> Self {
        Self {
            users: users.into_iter().map(|u| (u.user_id.clone(), u)).collect(),
            groups: groups
                .into_iter()
                .map(|g| (g.group_id.clone(), g))
                .collect(),
            webhook_endpoint: webhook,
            use_webhook: true,
            next_message_id: 580_000_000_000_000_000,
            ..Self::default()
        }
    }

    pub(crate) fn new_message_id(&mut self) -> MessageId {
        self.next_message_id += 1;
        MessageId::new(self.next_message_id.to_string())
    }

    /// Takes one request from `endpoint`'s bucket; `scale` multiplies LINE's rates.
    pub(crate) fn rate_limit(
        &mut self,
        endpoint: &'static str,
        scale: f64,
        now: Millis,
    ) -> Result<(), LineError> {
        let bucket = self.buckets.entry(endpoint).or_insert_with(|| {
            let (count, window) = documented_rate(endpoint);
            let capacity = (count * scale).max(1.0);
            Bucket {
                tokens: capacity,
                capacity,
                per_ms: count * scale / window as f64,
                last: now,
            }
        });
        if bucket.take(now) {
            Ok(())
        } else {
            Err(LineError::rate_limited())
        }
    }

    /// A webhook event carrying this token is about to be posted.
    pub(crate) fn issue_reply_token(&mut self, token: &str, chat: &str, event_timestamp: Millis) {
        self.reply_tokens.insert(
            token.to_owned(),
            ReplyTokenState {
                chat: chat.to_owned(),
                event_timestamp,
                sent_at: None,
                redelivered: false,
                used: false,
            },
        );
    }

    /// The webhook carrying this token was posted (first time or again).
    pub(crate) fn reply_token_sent(&mut self, token: &str, now: Millis, redelivery: bool) {
        if let Some(state) = self.reply_tokens.get_mut(token) {
            state.sent_at.get_or_insert(now);
            state.redelivered |= redelivery;
        }
    }

    /// Uses a reply token, returning the chat it answers.
    pub(crate) fn use_reply_token(
        &mut self,
        token: &str,
        now: Millis,
    ) -> Result<String, LineError> {
        let invalid = || LineError::bad_request("Invalid reply token");
        let state = self.reply_tokens.get_mut(token).ok_or_else(invalid)?;
        let sent_at = state.sent_at.ok_or_else(invalid)?;
        let valid = !state.used
            && if state.redelivered {
                now - state.event_timestamp <= REDELIVERED_REPLY_TOKEN_TTL
            } else {
                now - sent_at <= REPLY_TOKEN_TTL
            };
        if !valid {
            return Err(invalid());
        }
        state.used = true;
        Ok(state.chat.clone())
    }

    /// A repeat of an accepted retry key within 24 hours.
    pub(crate) fn accepted(&mut self, key: Uuid, now: Millis) -> Option<AlreadyAccepted> {
        while let Some(&(at, oldest)) = self.retry_key_order.front() {
            if now - at < RETRY_KEY_TTL {
                break;
            }
            self.retry_key_order.pop_front();
            if self.retry_keys.get(&oldest).is_some_and(|k| k.at == at) {
                self.retry_keys.remove(&oldest);
            }
        }
        self.retry_keys.get(&key).map(|k| AlreadyAccepted {
            request_id: k.request_id.clone(),
            sent_messages: k.sent_messages.clone(),
        })
    }

    pub(crate) fn remember_key(
        &mut self,
        key: Uuid,
        now: Millis,
        request_id: &str,
        sent_messages: &[SentMessage],
    ) {
        self.retry_key_order.push_back((now, key));
        self.retry_keys.insert(
            key,
            AcceptedKey {
                at: now,
                request_id: request_id.to_owned(),
                sent_messages: sent_messages.to_vec(),
            },
        );
    }

    /// Counts `count` messages against the monthly quota, or refuses them all.
    pub(crate) fn charge(&mut self, count: u64, quota: Option<u64>) -> Result<(), LineError> {
        if let Some(quota) = quota
            && self.consumption + count > quota
        {
            return Err(LineError::new(StatusCode::TOO_MANY_REQUESTS, MONTHLY_LIMIT));
        }
        self.consumption += count;
        Ok(())
    }

    /// Records messages delivered to `to` (blocked users get nothing, silently, as on LINE).
    pub(crate) fn deliver(
        &mut self,
        to: &str,
        via: Via,
        messages: &[serde_json::Value],
        request_id: &str,
        notification_disabled: bool,
        now: Millis,
    ) -> Vec<SentMessage> {
        let blocked = self.users.get(&UserId::from(to)).is_some_and(|u| u.blocked);
        let mut sent = Vec::with_capacity(messages.len());
        for message in messages {
            let id = self.new_message_id();
            if !blocked {
                self.inbox
                    .entry(to.to_owned())
                    .or_default()
                    .push(Delivered {
                        message_id: id.clone(),
                        via,
                        at: now,
                        request_id: request_id.to_owned(),
                        notification_disabled,
                        message: message.clone(),
                    });
            }
            sent.push(SentMessage {
                quote_token: format!("q{}", Uuid::new_v4().simple()),
                id,
            });
        }
        sent
    }

    pub(crate) fn inbox(&self, to: &str) -> Vec<Delivered> {
        self.inbox.get(to).cloned().unwrap_or_default()
    }

    /// Everything delivered, with whom to.
    pub(crate) fn delivered(&self) -> impl Iterator<Item = (&str, &Delivered)> {
        (self.inbox.iter()).flat_map(|(to, all)| all.iter().map(move |d| (to.as_str(), d)))
    }

    pub(crate) fn followers(&self) -> Vec<UserId> {
        self.users
            .values()
            .filter(|u| u.follows && !u.blocked)
            .map(|u| u.user_id.clone())
            .collect()
    }

    /// One page of follower ids. Every other page is one short while more remain, as LINE
    /// warns may happen.
    pub(crate) fn followers_page(
        &mut self,
        limit: usize,
        start: Option<&str>,
        now: Millis,
    ) -> Result<(Vec<UserId>, Option<String>), LineError> {
        self.follower_cursors
            .retain(|_, c| now - c.issued_at < FOLLOWERS_NEXT_TTL);
        let (offset, page) = match start {
            None => (0, 0),
            Some(token) => {
                let cursor = self.follower_cursors.get(token).ok_or_else(|| {
                    LineError::bad_request("The value of the 'start' parameter is invalid")
                })?;
                (cursor.offset, cursor.page)
            }
        };
        let all = self.followers();
        let remaining = all.len().saturating_sub(offset);
        let take = if page % 2 == 1 && remaining > limit && limit > 1 {
            limit - 1
        } else {
            limit.min(remaining)
        };
        let ids = all[offset..offset + take].to_vec();
        let next = (offset + take < all.len()).then(|| {
            let token = Uuid::new_v4().simple().to_string();
            self.follower_cursors.insert(
                token.clone(),
                FollowerCursor {
                    offset: offset + take,
                    issued_at: now,
                    page: page + 1,
                },
            );
            token
        });
        Ok((ids, next))
    }

    /// Issues a 30-day token; the oldest live one is revoked when 30 are live already.
    pub(crate) fn issue_short_lived_token(&mut self, now: Millis) -> String {
        self.tokens.issue(TokenKind::ShortLived, now)
    }

    pub(crate) fn live_short_lived_tokens(&self, now: Millis) -> usize {
        self.tokens.live(TokenKind::ShortLived, now)
    }

    /// A stateless token: no cap, so issuing one never revokes another.
    pub(crate) fn issue_stateless_token(&mut self, now: Millis) -> String {
        self.tokens.issue(TokenKind::Stateless, now)
    }

    /// Whether LINE takes `token` now: issued, not revoked, not expired.
    #[cfg(test)]
    fn short_lived_token_valid(&self, token: &str, now: Millis) -> bool {
        self.tokens.check(token, now).is_ok()
    }

    /// Takes `token` for a call, or says why not.
    pub(crate) fn use_token(&mut self, token: &str, now: Millis) -> Result<(), Refused> {
        self.tokens.check(token, now)?;
        self.tokens.used(token);
        Ok(())
    }

    /// Every token issued so far, oldest first.
    pub(crate) fn issued_tokens(&self) -> Vec<IssuedToken> {
        self.tokens.issued.clone()
    }
}

/// Which kind of channel access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TokenKind {
    /// `/v2/oauth/accessToken`: 30 days, at most 30 live per channel.
    ShortLived,
    /// `/oauth2/v3/token`: 15 minutes, any number.
    Stateless,
}

/// A channel access token the simulated platform issued, as it keeps account of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    pub kind: TokenKind,
    pub issued_at: Millis,
    pub expires_at: Millis,
    /// When issuing a 31st short-lived token revoked it.
    pub revoked_at: Option<Millis>,
    /// Calls it was accepted for.
    pub used: u64,
}

/// Why a bearer token was refused with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Refused {
    /// No `Authorization: Bearer` header.
    Missing,
    /// Never issued for this channel.
    Unknown,
    /// Past its lifetime on the simulator's clock.
    Expired,
    /// Revoked by a newer short-lived token over the cap of 30.
    Revoked,
}

/// The tokens issued, with the short-lived ones still live in order of issue.
#[derive(Debug, Default)]
struct Tokens {
    issued: Vec<IssuedToken>,
    /// Each token's place in `issued`.
    by_token: HashMap<String, usize>,
    /// Short-lived tokens not revoked, oldest first (some may have expired since).
    short_lived: VecDeque<usize>,
}

impl Tokens {
    fn issue(&mut self, kind: TokenKind, now: Millis) -> String {
        let (prefix, ttl) = match kind {
            TokenKind::ShortLived => ("sim", SHORT_LIVED_TOKEN_TTL),
            TokenKind::Stateless => ("sim-stateless", STATELESS_TOKEN_TTL),
        };
        let at = self.issued.len();
        if kind == TokenKind::ShortLived {
            let issued = &self.issued;
            self.short_lived.retain(|&i| issued[i].expires_at > now);
            if self.short_lived.len() >= MAX_SHORT_LIVED_TOKENS
                && let Some(oldest) = self.short_lived.pop_front()
            {
                self.issued[oldest].revoked_at = Some(now);
            }
            self.short_lived.push_back(at);
        }
        let token = format!("{prefix}-{}", Uuid::new_v4().simple());
        self.issued.push(IssuedToken {
            kind,
            issued_at: now,
            expires_at: now + ttl,
            revoked_at: None,
            used: 0,
        });
        self.by_token.insert(token.clone(), at);
        token
    }

    fn live(&self, kind: TokenKind, now: Millis) -> usize {
        (self.issued.iter())
            .filter(|t| t.kind == kind && t.revoked_at.is_none() && t.expires_at > now)
            .count()
    }

    fn check(&self, token: &str, now: Millis) -> Result<(), Refused> {
        let issued = (self.by_token.get(token))
            .and_then(|&i| self.issued.get(i))
            .ok_or(Refused::Unknown)?;
        if issued.revoked_at.is_some() {
            Err(Refused::Revoked)
        } else if issued.expires_at <= now {
            Err(Refused::Expired)
        } else {
            Ok(())
        }
    }

    fn used(&mut self, token: &str) {
        if let Some(&i) = self.by_token.get(token) {
            self.issued[i].used += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Millis = 1_767_225_600_000;

    fn world() -> World {
        World::new(crate::population::users(5, 1), Vec::new(), None)
    }

    #[test]
    fn a_reply_token_works_once_within_a_minute_of_its_webhook() {
        let mut w = world();
        w.issue_reply_token("t1", "U1", T0);
        assert!(
            w.use_reply_token("t1", T0).is_err(),
            "not usable before its webhook was sent"
        );
        w.reply_token_sent("t1", T0 + 500, false);
        assert_eq!(w.use_reply_token("t1", T0 + 60_500), Ok("U1".to_owned()));
        let again = w.use_reply_token("t1", T0 + 60_600).unwrap_err();
        assert_eq!(again.message, "Invalid reply token");
    }

    #[test]
    fn a_reply_token_expires_a_minute_after_its_webhook() {
        let mut w = world();
        w.issue_reply_token("t1", "U1", T0);
        w.reply_token_sent("t1", T0, false);
        let error = w.use_reply_token("t1", T0 + 60_001).unwrap_err();
        assert_eq!(
            (error.status, error.message.as_str()),
            (StatusCode::BAD_REQUEST, "Invalid reply token")
        );
    }

    #[test]
    fn a_redelivered_events_token_lasts_twenty_minutes_from_the_event() {
        let mut w = world();
        w.issue_reply_token("t1", "U1", T0);
        w.reply_token_sent("t1", T0, false);
        w.reply_token_sent("t1", T0 + 5 * MINUTE, true);
        assert!(w.use_reply_token("t1", T0 + 19 * MINUTE).is_ok());

        w.issue_reply_token("t2", "U1", T0);
        w.reply_token_sent("t2", T0, false);
        w.reply_token_sent("t2", T0 + MINUTE, true);
        assert!(w.use_reply_token("t2", T0 + 20 * MINUTE + 1).is_err());
    }

    #[test]
    fn a_retry_key_is_remembered_for_a_day() {
        let mut w = world();
        let key = Uuid::new_v4();
        assert_eq!(w.accepted(key, T0), None);
        w.remember_key(key, T0, "req-1", &[]);
        assert_eq!(
            w.accepted(key, T0 + DAY - 1).map(|a| a.request_id),
            Some("req-1".to_owned())
        );
        assert_eq!(w.accepted(key, T0 + DAY), None);
    }

    #[test]
    fn the_monthly_quota_refuses_a_send_that_would_exceed_it_whole() {
        let mut w = world();
        assert!(w.charge(3, Some(5)).is_ok());
        let error = w.charge(3, Some(5)).unwrap_err();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(error.message, MONTHLY_LIMIT);
        assert_eq!(w.consumption, 3, "a refused send counts nothing");
        assert!(w.charge(2, Some(5)).is_ok());
    }

    #[test]
    fn buckets_allow_the_scaled_rate_then_refill_with_time() {
        let mut w = world();
        // 2,000/s scaled by 0.001 is 2 per second.
        assert!(w.rate_limit("push", 0.001, T0).is_ok());
        assert!(w.rate_limit("push", 0.001, T0).is_ok());
        let error = w.rate_limit("push", 0.001, T0).unwrap_err();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(w.rate_limit("push", 0.001, T0 + 500).is_ok());
        // Another endpoint has its own bucket.
        assert!(w.rate_limit("profile", 0.001, T0).is_ok());
    }

    #[test]
    fn follower_pages_cover_everyone_once_even_when_short() {
        let mut w = World::new(crate::population::users(40, 3), Vec::new(), None);
        let expected = w.followers();
        let mut seen = Vec::new();
        let mut start = None;
        let mut sizes = Vec::new();
        loop {
            let (ids, next) = w.followers_page(5, start.as_deref(), T0).unwrap();
            sizes.push(ids.len());
            seen.extend(ids);
            match next {
                Some(token) => start = Some(token),
                None => break,
            }
        }
        assert_eq!(seen, expected);
        assert!(sizes.contains(&4), "some page is short: {sizes:?}");
    }

    #[test]
    fn a_followers_next_token_expires_after_a_day() {
        let mut w = World::new(crate::population::users(40, 3), Vec::new(), None);
        let (_, next) = w.followers_page(5, None, T0).unwrap();
        let next = next.unwrap();
        let error = w.followers_page(5, Some(&next), T0 + DAY).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn at_most_thirty_short_lived_tokens_live_at_once() {
        let mut w = world();
        let first = w.issue_short_lived_token(T0);
        for _ in 0..29 {
            w.issue_short_lived_token(T0);
        }
        assert!(w.short_lived_token_valid(&first, T0));
        w.issue_short_lived_token(T0);
        assert!(!w.short_lived_token_valid(&first, T0), "the oldest went");
        let last = w.issue_short_lived_token(T0);
        assert!(!w.short_lived_token_valid(&last, T0 + SHORT_LIVED_TOKEN_TTL));
    }

    #[test]
    fn stateless_tokens_revoke_nothing_and_last_fifteen_minutes() {
        let mut w = world();
        let kept = w.issue_short_lived_token(T0);
        let stateless: Vec<String> = (0..40).map(|_| w.issue_stateless_token(T0)).collect();
        assert!(
            w.short_lived_token_valid(&kept, T0),
            "no short-lived token went"
        );
        assert!(w.short_lived_token_valid(&stateless[0], T0 + STATELESS_TOKEN_TTL - 1));
        assert!(!w.short_lived_token_valid(&stateless[0], T0 + STATELESS_TOKEN_TTL));
    }

    #[test]
    fn a_refused_token_says_whether_it_was_revoked_expired_or_never_issued() {
        let mut w = world();
        let oldest = w.issue_short_lived_token(T0);
        for _ in 0..MAX_SHORT_LIVED_TOKENS {
            w.issue_short_lived_token(T0 + 1);
        }
        let stateless = w.issue_stateless_token(T0);
        assert_eq!(w.use_token(&oldest, T0 + 2), Err(Refused::Revoked));
        assert_eq!(w.use_token(&stateless, T0 + 1), Ok(()));
        assert_eq!(
            w.use_token(&stateless, T0 + STATELESS_TOKEN_TTL),
            Err(Refused::Expired)
        );
        assert_eq!(w.use_token("sim-made-up", T0), Err(Refused::Unknown));
        let issued = w.issued_tokens();
        assert_eq!(issued.len(), MAX_SHORT_LIVED_TOKENS + 2);
        assert_eq!(issued[0].revoked_at, Some(T0 + 1));
        assert!(issued[1..].iter().all(|t| t.revoked_at.is_none()));
        assert_eq!(
            issued.last().map(|t| (t.kind, t.used)),
            Some((TokenKind::Stateless, 1))
        );
        assert_eq!(w.live_short_lived_tokens(T0 + 1), MAX_SHORT_LIVED_TOKENS);
    }

    #[test]
    fn blocked_users_get_nothing_but_the_send_succeeds() {
        let mut w = world();
        let blocked = w.users.values_mut().next().unwrap();
        blocked.blocked = true;
        let id = blocked.user_id.to_string();
        let sent = w.deliver(
            &id,
            Via::Push,
            &[serde_json::json!({"type":"text","text":"hi"})],
            "r",
            false,
            T0,
        );
        assert_eq!(sent.len(), 1);
        assert!(w.inbox(&id).is_empty());
    }
}
