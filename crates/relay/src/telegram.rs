//! Telegram's Bot API, as the relay's alerts use it: `getMe` to check a bot's token, and
//! `sendMessage`. The token is part of every address, so no address is ever printed.

use std::time::Duration;

use serde_json::{Value, json};
use tsunagi_proto::TelegramTrouble;

/// Telegram's Bot API.
pub const DEFAULT_API: &str = "https://api.telegram.org";

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
    http: reqwest::Client,
    base: String,
}

impl Telegram {
    pub fn new(http: reqwest::Client, base: impl Into<String>) -> Self {
        Self {
            http,
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
        let response = self
            .http
            .post(format!("{}/bot{token}/{method}", self.base))
            .timeout(Duration::from_secs(10))
            .json(body)
            .send()
            .await
            // The address holds the token: never in a message.
            .map_err(|e| TelegramError::Unavailable(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| TelegramError::Unavailable(e.without_url().to_string()))?;
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
