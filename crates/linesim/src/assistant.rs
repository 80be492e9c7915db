//! An OpenAI-compatible chat completions endpoint, `POST /v1/chat/completions`, as the
//! relay's AI responder calls it: answers that follow from the question (so tests can name
//! them), in the language it was asked in, and the faults such services have (errors, rate
//! limits, slowness, refusals).
//!
//! What it answers: a question about opening hours or the address gets the clinic's
//! answer in Thai, Japanese, Chinese or English; anything else is handed to people through
//! the first tool the request offers (or, offered none, a plain "cannot help").

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::Simulator;

/// Ways the endpoint may fail; each count is used up by the calls that meet it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiFaults {
    /// The next this many calls answer 500.
    #[serde(default)]
    pub fail_next: u32,
    /// The next this many calls answer 429, asking to wait `retry_after_s`.
    #[serde(default)]
    pub rate_limit_next: u32,
    #[serde(default)]
    pub retry_after_s: u64,
    /// The next this many calls answer only after `slow_ms`.
    #[serde(default)]
    pub slow_next: u32,
    #[serde(default)]
    pub slow_ms: u64,
    /// The next this many calls are refused by the model's safety rules.
    #[serde(default)]
    pub refuse_next: u32,
}

/// One call the endpoint received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AiCall {
    pub model: String,
    /// The conversation as sent: `(role, text)`, the system prompt first.
    pub messages: Vec<(String, String)>,
    /// The names of the functions offered as tools.
    pub tools: Vec<String>,
    /// What it answered: `answer`, `tool`, `refusal`, or the HTTP status of an error.
    pub outcome: String,
}

#[derive(Debug, Default)]
pub(crate) struct Assistant {
    faults: AiFaults,
    calls: Vec<AiCall>,
}

impl Simulator {
    /// Every call to the chat completions endpoint, in order.
    pub fn ai_calls(&self) -> Vec<AiCall> {
        self.assistant().calls.clone()
    }

    /// Makes the next chat completions fail, wait, or be refused.
    pub fn set_ai_faults(&self, faults: AiFaults) {
        self.assistant().faults = faults;
    }

    fn assistant(&self) -> std::sync::MutexGuard<'_, Assistant> {
        self.inner
            .assistant
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Deserialize)]
struct Request {
    model: String,
    messages: Vec<RequestMessage>,
    #[serde(default)]
    tools: Vec<Tool>,
}

#[derive(Deserialize)]
struct RequestMessage {
    role: String,
    #[serde(default)]
    content: Option<Value>,
}

impl RequestMessage {
    /// The text of the message: a string, or the text parts of a list of parts.
    fn text(&self) -> String {
        match &self.content {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }
}

#[derive(Deserialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    function: Option<Function>,
}

#[derive(Deserialize)]
struct Function {
    name: String,
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: &str) -> Response {
    let body = json!({
        "error": { "message": message, "type": kind, "param": null, "code": code }
    });
    (status, Json(body)).into_response()
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if key != Some(sim.config().ai_key.as_str()) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        );
    }
    let request: Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                None,
                &format!("We could not parse the JSON body of your request: {e}"),
            );
        }
    };
    if request.messages.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            None,
            "'messages' must contain at least one message.",
        );
    }
    let mut call = AiCall {
        model: request.model.clone(),
        messages: request
            .messages
            .iter()
            .map(|m| (m.role.clone(), m.text()))
            .collect(),
        tools: request
            .tools
            .iter()
            .filter(|t| t.kind == "function")
            .filter_map(|t| t.function.as_ref().map(|f| f.name.clone()))
            .collect(),
        outcome: String::new(),
    };
    let fault = {
        let mut assistant = sim.assistant();
        let faults = &mut assistant.faults;
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            Some(Fault::Fail)
        } else if faults.rate_limit_next > 0 {
            faults.rate_limit_next -= 1;
            Some(Fault::RateLimit(faults.retry_after_s))
        } else if faults.slow_next > 0 {
            faults.slow_next -= 1;
            Some(Fault::Slow(Duration::from_millis(faults.slow_ms)))
        } else if faults.refuse_next > 0 {
            faults.refuse_next -= 1;
            Some(Fault::Refuse)
        } else {
            None
        }
    };
    let response = match fault {
        Some(Fault::Fail) => {
            call.outcome = "500".into();
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                None,
                "The server had an error while processing your request.",
            )
        }
        Some(Fault::RateLimit(wait)) => {
            call.outcome = "429".into();
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                "Rate limit reached for requests.",
            );
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Fault::Refuse) => {
            call.outcome = "refusal".into();
            completion(
                &request.model,
                json!({ "role": "assistant", "content": null,
                        "refusal": "I'm sorry, I can't help with that." }),
                "stop",
            )
        }
        Some(Fault::Slow(_)) | None => {
            let (message, finish, outcome) = answer(&request);
            call.outcome = outcome.into();
            completion(&request.model, message, finish)
        }
    };
    sim.assistant().calls.push(call);
    if let Some(Fault::Slow(wait)) = fault {
        tokio::time::sleep(wait).await;
    }
    response
}

enum Fault {
    Fail,
    RateLimit(u64),
    Slow(Duration),
    Refuse,
}

fn completion(model: &str, message: Value, finish_reason: &str) -> Response {
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Json(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish_reason }],
        "usage": { "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0 },
    }))
    .into_response()
}

/// What the model says to the last thing the patient wrote.
fn answer(request: &Request) -> (Value, &'static str, &'static str) {
    let question = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(RequestMessage::text)
        .unwrap_or_default();
    let language = language_of(&question);
    if let Some(text) = topic_of(&question).map(|topic| answer_in(topic, language)) {
        return (
            json!({ "role": "assistant", "content": text }),
            "stop",
            "answer",
        );
    }
    match request
        .tools
        .iter()
        .find(|t| t.kind == "function")
        .and_then(|t| t.function.as_ref())
    {
        Some(function) => {
            let arguments = json!({ "reason": "the patient asked something the clinic's \
                                              information does not cover" });
            (
                json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [{
                        "id": format!("call_{}", uuid::Uuid::new_v4().simple()),
                        "type": "function",
                        "function": { "name": function.name, "arguments": arguments.to_string() },
                    }],
                }),
                "tool_calls",
                "tool",
            )
        }
        None => (
            json!({ "role": "assistant",
                    "content": "I am not able to help with that. Someone from the clinic will answer." }),
            "stop",
            "answer",
        ),
    }
}

#[derive(Clone, Copy)]
enum Topic {
    Hours,
    Address,
}

fn topic_of(question: &str) -> Option<Topic> {
    let question = question.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| question.contains(w));
    if has(&[
        "open",
        "hours",
        "close",
        "เปิด",
        "ปิด",
        "กี่โมง",
        "何時",
        "診療時間",
        "営業",
        "幾點",
        "營業",
        "門診時間",
    ]) {
        Some(Topic::Hours)
    } else if has(&[
        "where",
        "address",
        "ที่ไหน",
        "ที่อยู่",
        "どこ",
        "住所",
        "哪裡",
        "地址",
    ]) {
        Some(Topic::Address)
    } else {
        None
    }
}

/// The script a question is written in, as a language.
fn language_of(text: &str) -> &'static str {
    let has = |range: std::ops::RangeInclusive<char>| text.chars().any(|c| range.contains(&c));
    if has('\u{0E00}'..='\u{0E7F}') {
        "th"
    } else if has('\u{3040}'..='\u{30FF}') {
        "ja"
    } else if has('\u{4E00}'..='\u{9FFF}') {
        "zh-TW"
    } else {
        "en"
    }
}

fn answer_in(topic: Topic, language: &str) -> &'static str {
    match (topic, language) {
        (Topic::Hours, "th") => "คลินิกเปิดวันจันทร์ถึงวันเสาร์ เวลา 9:00–18:00 น. ค่ะ",
        (Topic::Hours, "ja") => "診療時間は月曜日から土曜日の9時から18時までです。",
        (Topic::Hours, "zh-TW") => "本診所週一至週六 9:00–18:00 看診。",
        (Topic::Hours, _) => "The clinic is open Monday to Saturday, 9:00 to 18:00.",
        (Topic::Address, "th") => "คลินิกอยู่ที่ชั้น 2 อาคารสากุระ ใกล้สถานี BTS อโศกค่ะ",
        (Topic::Address, "ja") => "当院はさくらビル2階、駅から徒歩3分です。",
        (Topic::Address, "zh-TW") => "本診所位於櫻花大樓二樓，距車站步行三分鐘。",
        (Topic::Address, _) => {
            "We are on the 2nd floor of the Sakura Building, 3 minutes from the station."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(question: &str, tools: &[&str]) -> Request {
        Request {
            model: "sim-1".into(),
            messages: vec![
                RequestMessage {
                    role: "system".into(),
                    content: Some(json!("You answer for a clinic.")),
                },
                RequestMessage {
                    role: "user".into(),
                    content: Some(json!(question)),
                },
            ],
            tools: tools
                .iter()
                .map(|name| Tool {
                    kind: "function".into(),
                    function: Some(Function {
                        name: (*name).to_owned(),
                    }),
                })
                .collect(),
        }
    }

    #[test]
    fn a_question_about_hours_is_answered_in_its_language() {
        let (message, finish, _) = answer(&request("คลินิกเปิดกี่โมงคะ", &[]));
        assert_eq!(finish, "stop");
        let text = message["content"].as_str().unwrap();
        assert!(text.contains("9:00"), "{text}");
        assert_eq!(language_of(text), "th");
        let (message, _, _) = answer(&request("何時まで開いていますか", &[]));
        assert_eq!(language_of(message["content"].as_str().unwrap()), "ja");
    }

    #[test]
    fn what_it_cannot_answer_goes_to_the_offered_tool() {
        let (message, finish, outcome) = answer(&request("Is my rash serious?", &["hand_over"]));
        assert_eq!((finish, outcome), ("tool_calls", "tool"));
        assert_eq!(message["tool_calls"][0]["function"]["name"], "hand_over");
        let (message, finish, _) = answer(&request("Is my rash serious?", &[]));
        assert_eq!(finish, "stop");
        assert!(message["content"].as_str().unwrap().contains("not able"));
    }
}
