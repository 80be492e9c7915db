//! Sending messages: reply, push, multicast, broadcast and narrowcast, how a send ended,
//! and the retry keys that make a push-family send safe to repeat. Also the chat's
//! indicators: "typing" and read.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::id::{MarkAsReadToken, MessageId, ReplyToken, RequestId, UserId};
use crate::message::{self, MAX_MULTICAST_RECIPIENTS, Message, ValidationError};

use super::call::Call;
use super::error::unencodable;
use super::{ACCEPTED_REQUEST_ID, Client, REQUEST_ID, Result};

/// A message LINE accepted, as listed in its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub id: MessageId,
    pub quote_token: Option<String>,
}

/// How a send ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// LINE took the messages now.
    Accepted {
        request_id: Option<RequestId>,
        sent_messages: Vec<SentMessage>,
    },
    /// An earlier request with the same retry key already went out; nothing was sent again.
    AlreadyAccepted {
        accepted_request_id: RequestId,
        sent_messages: Vec<SentMessage>,
    },
}

impl SendOutcome {
    pub fn sent_messages(&self) -> &[SentMessage] {
        match self {
            SendOutcome::Accepted { sent_messages, .. }
            | SendOutcome::AlreadyAccepted { sent_messages, .. } => sent_messages,
        }
    }
}

/// The LINE key that makes a push-family request idempotent for 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RetryKey(pub Uuid);

impl RetryKey {
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for RetryKey {
    fn default() -> Self {
        Self::new()
    }
}

/// Which send a payload is checked for by [`Client::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    Reply,
    Push,
    Multicast,
    Narrowcast,
    Broadcast,
}

impl SendKind {
    fn path(self) -> &'static str {
        match self {
            SendKind::Reply => "reply",
            SendKind::Push => "push",
            SendKind::Multicast => "multicast",
            SendKind::Narrowcast => "narrowcast",
            SendKind::Broadcast => "broadcast",
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReplyBody<'a> {
    reply_token: &'a ReplyToken,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PushBody<'a, To: Serialize> {
    to: To,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessagesOnly<'a> {
    messages: &'a [Message],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    notification_disabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentBody {
    #[serde(default)]
    sent_messages: Vec<SentMessage>,
}

impl Client {
    /// Replies with a reply token (free, single use, about a minute).
    #[tracing::instrument(skip_all, err)]
    pub async fn reply(
        &self,
        reply_token: &ReplyToken,
        messages: &[Message],
        notification_disabled: bool,
    ) -> Result<SendOutcome> {
        message::validate(messages)?;
        let mut call =
            Call::new(Method::POST, self.api("/v2/bot/message/reply")).json(&ReplyBody {
                reply_token,
                messages,
                notification_disabled,
            })?;
        call.repeatable = false;
        self.send_messages(call).await
    }

    /// Pushes to a user, group or room (`to` is its id). Counts against the monthly quota.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn push(
        &self,
        to: &str,
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let body = PushBody {
            to,
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/push", messages, &body, retry_key)
            .await
    }

    /// Pushes the same messages to up to 500 users.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn multicast(
        &self,
        to: &[UserId],
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        if to.is_empty() || to.len() > MAX_MULTICAST_RECIPIENTS {
            return Err(ValidationError::one(
                "to",
                format!("size must be between 1 and {MAX_MULTICAST_RECIPIENTS}"),
            )
            .into());
        }
        let body = PushBody {
            to,
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/multicast", messages, &body, retry_key)
            .await
    }

    /// Sends to every friend of the account.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn broadcast(
        &self,
        messages: &[Message],
        notification_disabled: bool,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let body = MessagesOnly {
            messages,
            notification_disabled,
        };
        self.send_keyed("/v2/bot/message/broadcast", messages, &body, retry_key)
            .await
    }

    /// Sends to an audience or filter (`recipient`, `filter`, `limit` as LINE's JSON). LINE
    /// answers 202 and works in the background; the request id tracks its progress.
    #[tracing::instrument(skip_all, err, fields(retry_key = %retry_key.0))]
    pub async fn narrowcast(
        &self,
        messages: &[Message],
        targeting: serde_json::Map<String, serde_json::Value>,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        let mut body = targeting;
        body.insert(
            "messages".to_owned(),
            serde_json::to_value(messages).map_err(unencodable)?,
        );
        self.send_keyed("/v2/bot/message/narrowcast", messages, &body, retry_key)
            .await
    }

    /// Asks LINE whether `messages` would be accepted for a send of `kind`, sending nothing.
    #[tracing::instrument(skip_all, err)]
    pub async fn validate(&self, kind: SendKind, messages: &[Message]) -> Result<()> {
        let url = self.api(&format!("/v2/bot/message/validate/{}", kind.path()));
        let call = Call::new(Method::POST, url).json(&MessagesOnly {
            messages,
            notification_disabled: false,
        })?;
        self.execute(call).await.map(drop)
    }

    /// Shows the "typing" indicator in a 1:1 chat for `seconds` (5 to 60, a multiple of 5).
    #[tracing::instrument(skip_all, err)]
    pub async fn loading_start(&self, chat_id: &UserId, seconds: u32) -> Result<()> {
        if !(5..=60).contains(&seconds) || !seconds.is_multiple_of(5) {
            return Err(
                ValidationError::one("loadingSeconds", "must be 5 to 60, in steps of 5").into(),
            );
        }
        let call = Call::new(Method::POST, self.api("/v2/bot/chat/loading/start"))
            .json(&serde_json::json!({ "chatId": chat_id, "loadingSeconds": seconds }))?;
        self.execute(call).await.map(drop)
    }

    /// Marks the message carrying `token`, and every earlier one, as read.
    #[tracing::instrument(skip_all, err)]
    pub async fn mark_as_read(&self, token: &MarkAsReadToken) -> Result<()> {
        let call = Call::new(Method::POST, self.api("/v2/bot/chat/markAsRead"))
            .json(&serde_json::json!({ "markAsReadToken": token }))?;
        self.execute(call).await.map(drop)
    }

    /// A push-family send: checked, then sent with its retry key on every attempt.
    async fn send_keyed(
        &self,
        path: &str,
        messages: &[Message],
        body: &impl Serialize,
        retry_key: RetryKey,
    ) -> Result<SendOutcome> {
        message::validate(messages)?;
        let mut call = Call::new(Method::POST, self.api(path)).json(body)?;
        call.retry_key = Some(retry_key);
        self.send_messages(call).await
    }

    async fn send_messages(&self, call: Call<'_>) -> Result<SendOutcome> {
        let answer = self.execute(call).await?;
        let sent: SentBody = if answer.body.is_empty() {
            SentBody {
                sent_messages: Vec::new(),
            }
        } else {
            answer.json()?
        };
        Ok(match answer.header(ACCEPTED_REQUEST_ID) {
            Some(accepted_request_id) if answer.status == StatusCode::CONFLICT => {
                SendOutcome::AlreadyAccepted {
                    accepted_request_id,
                    sent_messages: sent.sent_messages,
                }
            }
            _ => SendOutcome::Accepted {
                request_id: answer.header(REQUEST_ID),
                sent_messages: sent.sent_messages,
            },
        })
    }
}
