//! Telegram's Bot API, as far as the relay's alerts use it: `/bot{token}/getMe` and
//! `/bot{token}/sendMessage`, with the Bot API's envelope (`{"ok": …}`), its errors (an
//! unknown token, a chat the bot is not in) and its faults (429 with `retry_after`, 5xx).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Simulator;

/// Ways the Bot API may fail; each count is used up by the calls that meet it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramFaults {
    /// The next this many calls answer 429, asking to wait `retry_after_s`.
    #[serde(default)]
    pub too_many_next: u32,
    #[serde(default)]
    pub retry_after_s: u64,
    /// The next this many calls answer 502, as Telegram's front does when the API is down.
    #[serde(default)]
    pub fail_next: u32,
    /// The next this many messages are sent, then answered only after `slow_ms`: a client
    /// that stops waiting never learns that they went out.
    #[serde(default)]
    pub slow_next: u32,
    #[serde(default)]
    pub slow_ms: u64,
}

/// A message the bot sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    /// The buttons under it: `(label, url)`.
    pub buttons: Vec<(String, String)>,
    /// When it was sent, in the simulator's clock (ms).
    pub at: i64,
}

#[derive(Debug, Default)]
pub(crate) struct Telegram {
    faults: TelegramFaults,
    sent: Vec<TelegramMessage>,
    /// Calls refused for their fault plan, in order: `429` or `502`.
    refused: Vec<u16>,
}

impl Simulator {
    /// Every message the Telegram bot sent, in order.
    pub fn telegram_messages(&self) -> Vec<TelegramMessage> {
        self.telegram().sent.clone()
    }

    /// The Bot API calls answered with a planned fault, in order (`429`, `502`).
    pub fn telegram_refusals(&self) -> Vec<u16> {
        self.telegram().refused.clone()
    }

    /// Makes the next Bot API calls fail.
    pub fn set_telegram_faults(&self, faults: TelegramFaults) {
        self.telegram().faults = faults;
    }

    fn telegram(&self) -> std::sync::MutexGuard<'_, Telegram> {
        self.inner
            .telegram
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn failure(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({
        "ok": false,
        "error_code": status.as_u16(),
        "description": description,
    });
    if let Some(parameters) = parameters {
        body["parameters"] = parameters;
    }
    (status, Json(body)).into_response()
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

/// `/{bot<token>}/{method}`: the token checked, the fault plan applied, then the method.
pub(crate) async fn bot_api(
    State(sim): State<Simulator>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return failure(StatusCode::NOT_FOUND, "Not Found", None);
    };
    if token != sim.config().telegram_token {
        return failure(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let planned = {
        let mut telegram = sim.telegram();
        let faults = &mut telegram.faults;
        let planned = if faults.too_many_next > 0 {
            faults.too_many_next -= 1;
            Some(StatusCode::TOO_MANY_REQUESTS)
        } else if faults.fail_next > 0 {
            faults.fail_next -= 1;
            Some(StatusCode::BAD_GATEWAY)
        } else {
            None
        };
        if let Some(status) = planned {
            telegram.refused.push(status.as_u16());
        }
        planned.map(|status| (status, telegram.faults.retry_after_s))
    };
    match planned {
        Some((StatusCode::TOO_MANY_REQUESTS, wait)) => {
            return failure(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too Many Requests: retry after {wait}"),
                Some(json!({ "retry_after": wait })),
            );
        }
        Some(_) => return failure(StatusCode::BAD_GATEWAY, "Bad Gateway", None),
        None => {}
    }
    match method.as_str() {
        "getMe" => ok(json!({
            "id": token.split(':').next().and_then(|id| id.parse::<i64>().ok()).unwrap_or(0),
            "is_bot": true,
            "first_name": "Tsunagi alerts (simulated)",
            "username": "tsunagi_sim_bot",
        })),
        "sendMessage" => {
            let response = send_message(&sim, &headers, &body);
            let slow = {
                let mut telegram = sim.telegram();
                let faults = &mut telegram.faults;
                (faults.slow_next > 0).then(|| {
                    faults.slow_next -= 1;
                    std::time::Duration::from_millis(faults.slow_ms)
                })
            };
            if let Some(wait) = slow {
                tokio::time::sleep(wait).await;
            }
            response
        }
        _ => failure(StatusCode::NOT_FOUND, "Not Found: method not found", None),
    }
}

#[derive(Deserialize)]
struct SendMessage {
    chat_id: Value,
    text: String,
    #[serde(default)]
    reply_markup: Option<Value>,
}

fn send_message(sim: &Simulator, headers: &HeaderMap, body: &Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let parsed: Result<SendMessage, String> = if is_form {
        serde_urlencoded::from_bytes(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    };
    let request = match parsed {
        Ok(request) => request,
        Err(e) => {
            return failure(
                StatusCode::BAD_REQUEST,
                &format!("Bad Request: can't parse request: {e}"),
                None,
            );
        }
    };
    let chat_id = match &request.chat_id {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(chat_id) = chat_id.filter(|id| sim.config().telegram_chats.contains(id)) else {
        return failure(StatusCode::BAD_REQUEST, "Bad Request: chat not found", None);
    };
    let text = request.text.trim();
    if text.is_empty() {
        return failure(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty",
            None,
        );
    }
    if text.chars().count() > 4096 {
        return failure(
            StatusCode::BAD_REQUEST,
            "Bad Request: message is too long",
            None,
        );
    }
    let buttons = request
        .reply_markup
        .as_ref()
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|b| {
            Some((
                b.get("text")?.as_str()?.to_owned(),
                b.get("url")?.as_str()?.to_owned(),
            ))
        })
        .collect::<Vec<(String, String)>>();
    // Buttons may open web pages and Telegram's own links only.
    if let Some((_, url)) = buttons.iter().find(|(_, url)| {
        !["http://", "https://", "tg://"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
    }) {
        return failure(
            StatusCode::BAD_REQUEST,
            &format!(
                "Bad Request: inline keyboard button URL '{url}' is invalid: unsupported URL protocol"
            ),
            None,
        );
    }
    let at = sim.now();
    let mut telegram = sim.telegram();
    let message_id = telegram.sent.len() as i64 + 1;
    telegram.sent.push(TelegramMessage {
        chat_id,
        message_id,
        text: request.text.clone(),
        buttons,
        at,
    });
    ok(json!({
        "message_id": message_id,
        "date": at / 1000,
        "chat": { "id": chat_id, "type": if chat_id < 0 { "group" } else { "private" } },
        "text": request.text,
    }))
}
