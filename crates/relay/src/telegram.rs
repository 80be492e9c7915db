//! Telegram's Bot API, as the relay's alerts use it: `getMe` to check a bot's token, and
//! `sendMessage`. The token is part of every address, so no address is ever printed. Its
//! address is the operator's, and is called as an owner's would be ([`crate::egress`]):
//! HTTPS to a public address unless the operator allows the network, no redirects, and
//! answers of at most [`ANSWER_MAX_BYTES`].

use std::time::Duration;

use serde_json::{Value, json};
use tsunagi_proto::TelegramTrouble;

use crate::egress::{self, Egress};

/// Telegram's Bot API.
pub const DEFAULT_API: &str = "https://api.telegram.org";

/// The most of an answer that is read: Telegram's are a few hundred bytes.
pub const ANSWER_MAX_BYTES: usize = 64 * 1024;

/// Why Telegram did not take a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    /// The bot's token is not (or no longer) valid.
    #[error("Telegram refused the bot's token: {0}")]
    Token(String),
    /// Telegram refused this chat: unknown, or the bot is not in it (or was blocked).
    #[error("Telegram refused chat {chat}: {description}")]
    Chat { chat: i64, description: String },
    /// Too many messages: Telegram asks to wait this long.
    #[error("Telegram asks to wait {0:?}")]
    Busy(Duration),
    /// Telegram failed or could not be reached: try again later.
    #[error("Telegram is unavailable: {0}")]
    Unavailable(String),
}

impl TelegramError {
    /// Whether trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, TelegramError::Busy(_) | TelegramError::Unavailable(_))
    }

    /// What the owner would have to mend.
    pub fn trouble(&self) -> TelegramTrouble {
        match self {
            TelegramError::Token(_) => TelegramTrouble::Token,
            TelegramError::Chat { .. } => TelegramTrouble::Chat,
            TelegramError::Busy(_) | TelegramError::Unavailable(_) => TelegramTrouble::Unreachable,
        }
    }
}

/// A client of the Bot API at `base`.
#[derive(Debug, Clone)]
pub struct Telegram {
    egress: Egress,
    base: String,
}

impl Telegram {
    pub fn new(egress: Egress, base: impl Into<String>) -> Self {
        Self {
            egress,
            base: base.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The Bot API's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bot's `@username`, if Telegram knows the token.
    pub async fn bot_name(&self, token: &str) -> Result<String, TelegramError> {
        let result = self.call(token, "getMe", &json!({}), None).await?;
        Ok(result["username"].as_str().unwrap_or_default().to_owned())
    }

    /// Sends `text` to `chat`, as plain text without link previews.
    pub async fn send(&self, token: &str, chat: i64, text: &str) -> Result<(), TelegramError> {
        let body = json!({
            "chat_id": chat,
            "text": text,
            "link_preview_options": { "is_disabled": true },
        });
        self.call(token, "sendMessage", &body, Some(chat))
            .await
            .map(drop)
    }

    async fn call(
        &self,
        token: &str,
        method: &str,
        body: &Value,
        chat: Option<i64>,
    ) -> Result<Value, TelegramError> {
        // The address holds the token: never in a message, nor in the relay's log.
        let (http, url) = self
            .egress
            .client(&format!("{}/bot{token}/{method}", self.base))
            .map_err(|refused| {
                TelegramError::Unavailable(format!("the Bot API's address is refused: {refused}"))
            })?;
        let unavailable = |error: reqwest::Error| {
            let error = error.without_url();
            tracing::warn!(error = egress::chain(&error), "calling Telegram's Bot API");
            TelegramError::Unavailable(error.to_string())
        };
        let response = http
            .post(url)
            .timeout(Duration::from_secs(10))
            .json(body)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(TelegramError::Unavailable(format!(
                "HTTP {status}: a redirect, which the relay does not follow"
            )));
        }
        let answer = egress::read_capped(response, ANSWER_MAX_BYTES)
            .await
            .map_err(|error| match error {
                egress::BodyError::Read(error) => unavailable(error),
                too_long => TelegramError::Unavailable(too_long.to_string()),
            })?;
        let answer: Value = serde_json::from_slice(&answer).map_err(|_| {
            TelegramError::Unavailable(format!("HTTP {status}: an answer that is not JSON"))
        })?;
        if answer["ok"] == true {
            return Ok(answer["result"].clone());
        }
        let description = answer["description"]
            .as_str()
            .unwrap_or("no description")
            .to_owned();
        Err(match (status, chat) {
            (401 | 404, _) => TelegramError::Token(description),
            (429, _) => TelegramError::Busy(Duration::from_secs(
                answer
                    .pointer("/parameters/retry_after")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            )),
            (400 | 403, Some(chat)) => TelegramError::Chat { chat, description },
            (500.., _) => TelegramError::Unavailable(format!("HTTP {status}: {description}")),
            _ => TelegramError::Unavailable(format!("HTTP {status}: {description}")),
        })
    }
}
