//! The AI responder's call: an OpenAI-compatible `POST {base}/chat/completions` with the
//! clinic's prompt, the recent chat and the patient's question. Whatever goes wrong
//! (a timeout, a refused key, an outage, a refusal, an answer that cannot be read) is a
//! reason to hand the chat to people, never an error that stops the executor.
//!
//! The address is the owner's, so the call goes only where [`crate::egress`] allows, and
//! what desks are told of a failure is one of two sentences ([`UNREACHABLE`], [`FAILED`]):
//! no status, no body, no address, so that the hand-over reason cannot be used to map
//! what answers where. The details go to the relay's own log.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;
use tsunagi_domain::automation::AiQuestion;
use tsunagi_proto::AiSettings;

use crate::egress::{self, Egress};

/// The tool the model calls to hand the chat to people.
pub const HAND_OVER_TOOL: &str = "hand_over_to_staff";
/// What the model may write instead of calling the tool.
pub const HAND_OVER_MARKER: &str = "[HANDOFF]";

/// Why the chat went to people, when the AI service was not reached (or its address is
/// one the relay does not call).
pub const UNREACHABLE: &str = "the AI service could not be reached";
/// Why the chat went to people, when the AI service answered, but not with an answer.
pub const FAILED: &str = "the AI service answered with an error";

/// The most of the model's answer that is read: a chat completion is a few kilobytes.
pub const ANSWER_MAX_BYTES: usize = 1024 * 1024;
/// The most of the model's own reason for handing over that is kept.
const MODEL_REASON_MAX_CHARS: usize = 300;

/// What the model made of the question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Its answer, for the patient.
    Answer(String),
    /// People should answer; why, for them.
    HandOver(String),
}

/// Asks the model about `question` within the settings' timeout, retrying once what the
/// endpoint asks to retry (429, 5xx) if time remains.
pub async fn ask(
    egress: &Egress,
    settings: &AiSettings,
    key: &str,
    question: &AiQuestion,
) -> Reply {
    let timeout = Duration::from_secs(u64::from(settings.timeout_seconds));
    let deadline = Instant::now() + timeout;
    let body = request(settings, question);
    let address = format!(
        "{}/chat/completions",
        settings.base_url.trim().trim_end_matches('/')
    );
    let (http, url) = match egress.client(&address) {
        Ok(client) => client,
        Err(refused) => {
            tracing::warn!(%refused, "the AI endpoint's address is not called");
            return unreachable();
        }
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let call = http.post(url.clone()).bearer_auth(key).json(&body).send();
        let response = match tokio::time::timeout_at(deadline, call).await {
            Err(_) => return too_slow(timeout),
            Ok(Err(error)) if error.is_timeout() => return too_slow(timeout),
            Ok(Err(error)) => {
                tracing::warn!(
                    error = egress::chain(&error),
                    "the AI endpoint was not reached"
                );
                return unreachable();
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let wait = retry_after(&response).unwrap_or(Duration::from_secs(1));
        let text = match tokio::time::timeout_at(
            deadline,
            egress::read_capped(response, ANSWER_MAX_BYTES),
        )
        .await
        {
            Err(_) => return too_slow(timeout),
            Ok(Err(error)) => {
                tracing::warn!(%status, error = egress::chain(&error), "the AI endpoint's answer was not read");
                return failed();
            }
            Ok(Ok(text)) => text,
        };
        if status.is_success() {
            return read_completion(&text);
        }
        let again = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        if again && attempt == 1 && Instant::now() + wait < deadline {
            tracing::info!(%status, "the AI endpoint asks to try again");
            tokio::time::sleep(wait).await;
            continue;
        }
        // A redirect is not followed: it would lead where no check looked.
        let excerpt: String = String::from_utf8_lossy(&text).chars().take(300).collect();
        tracing::warn!(%status, "the AI endpoint answered with an error");
        tracing::debug!(%status, body = %excerpt, "the AI endpoint's error");
        return failed();
    }
}

fn unreachable() -> Reply {
    Reply::HandOver(UNREACHABLE.to_owned())
}

fn failed() -> Reply {
    Reply::HandOver(FAILED.to_owned())
}

fn too_slow(timeout: Duration) -> Reply {
    Reply::HandOver(format!(
        "the AI service did not answer within {} s",
        timeout.as_secs()
    ))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// The request: the clinic's prompt and the house rules, the chat so far, the question,
/// and the tool that hands over.
fn request(settings: &AiSettings, question: &AiQuestion) -> Value {
    let language = match question
        .language
        .as_deref()
        .map(|l| l.split('-').next().unwrap_or(l))
    {
        Some("th") => "Thai",
        Some("ja") => "Japanese",
        Some("zh") => "Traditional Chinese",
        Some("en") => "English",
        _ => "the language the patient writes in",
    };
    let system = format!(
        "{prompt}\n\n\
         You answer this clinic's patients on LINE, in {language}, briefly and kindly, \
         from the information above only. Never diagnose or give medical advice. When \
         the information above does not answer the question, or the patient needs a \
         person (a symptom, an emergency, a complaint, a change to a booking), call the \
         tool {HAND_OVER_TOOL}, or answer with exactly {HAND_OVER_MARKER}.",
        prompt = settings.prompt.trim(),
    );
    let mut messages = vec![json!({ "role": "system", "content": system })];
    for said in &question.history {
        let role = if said.patient { "user" } else { "assistant" };
        messages.push(json!({ "role": role, "content": said.text }));
    }
    messages.push(json!({ "role": "user", "content": question.text }));
    json!({
        "model": settings.model.trim(),
        "messages": messages,
        "tools": [{
            "type": "function",
            "function": {
                "name": HAND_OVER_TOOL,
                "description": "Hand the chat to the clinic's staff, who answer in person.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "reason": { "type": "string", "description": "Why, for the staff." }
                    },
                    "required": ["reason"],
                },
            },
        }],
        "tool_choice": "auto",
    })
}

/// The model's first choice, as a reply. A body that is no completion is the service's
/// error, told to desks as any other.
fn read_completion(body: &[u8]) -> Reply {
    let unreadable = || {
        tracing::warn!("the AI endpoint's answer is not a chat completion");
        failed()
    };
    let Ok(completion) = serde_json::from_slice::<Value>(body) else {
        return unreadable();
    };
    let Some(choice) = completion.pointer("/choices/0") else {
        return unreadable();
    };
    let message = &choice["message"];
    if let Some(call) = message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c.pointer("/function/name").and_then(Value::as_str) == Some(HAND_OVER_TOOL))
    {
        let reason = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .and_then(|a| a["reason"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "the model could not help".into());
        let reason: String = reason.trim().chars().take(MODEL_REASON_MAX_CHARS).collect();
        return Reply::HandOver(format!("the model asked for a person: {reason}"));
    }
    if message["refusal"]
        .as_str()
        .is_some_and(|r| !r.trim().is_empty())
    {
        return Reply::HandOver("the model refused to answer".into());
    }
    if choice["finish_reason"] == "content_filter" {
        return Reply::HandOver("the AI service filtered the answer".into());
    }
    match message["content"].as_str().map(str::trim) {
        Some(text) if text.contains(HAND_OVER_MARKER) => {
            Reply::HandOver("the model asked for a person".into())
        }
        Some(text) if !text.is_empty() => Reply::Answer(text.to_owned()),
        _ => Reply::HandOver("the model gave no answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tsunagi_domain::automation::Said;
    use tsunagi_proto::{ConversationId, Seq};

    fn question() -> AiQuestion {
        AiQuestion {
            conversation: ConversationId::from("U1"),
            question: Seq(9),
            text: "เปิดกี่โมงคะ".into(),
            history: vec![
                Said {
                    seq: Seq(3),
                    patient: true,
                    text: "สวัสดีค่ะ".into(),
                },
                Said {
                    seq: Seq(4),
                    patient: false,
                    text: "สวัสดีค่ะ ยินดีต้อนรับ".into(),
                },
            ],
            language: Some("th".into()),
        }
    }

    #[test]
    fn the_request_carries_the_prompt_the_language_the_chat_and_the_tool() {
        let settings = AiSettings {
            base_url: "https://ai.example/v1/".into(),
            model: " clinic-1 ".into(),
            prompt: "Sakura Clinic.".into(),
            history: 10,
            timeout_seconds: 20,
            when_open: true,
            when_closed: true,
        };
        let body = request(&settings, &question());
        assert_eq!(body["model"], "clinic-1");
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        assert!(
            system.starts_with("Sakura Clinic.") && system.contains("in Thai"),
            "{system}"
        );
        let roles: Vec<&str> = body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["role"].as_str())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(body["messages"][3]["content"], "เปิดกี่โมงคะ");
        assert_eq!(body["tools"][0]["function"]["name"], HAND_OVER_TOOL);
    }

    #[test]
    fn a_tool_call_a_marker_a_refusal_or_nothing_hands_over() {
        let choice = |message: Value, finish: &str| {
            json!({ "choices": [{ "message": message, "finish_reason": finish }] })
                .to_string()
                .into_bytes()
        };
        assert_eq!(
            read_completion(&choice(json!({ "content": " 9:00–18:00 " }), "stop")),
            Reply::Answer("9:00–18:00".into())
        );
        let tool = json!({ "content": null, "tool_calls": [{ "type": "function",
            "function": { "name": HAND_OVER_TOOL, "arguments": "{\"reason\":\"a symptom\"}" } }] });
        assert_eq!(
            read_completion(&choice(tool, "tool_calls")),
            Reply::HandOver("the model asked for a person: a symptom".into())
        );
        for (message, finish) in [
            (json!({ "content": "Sorry. [HANDOFF]" }), "stop"),
            (json!({ "content": null, "refusal": "I can't." }), "stop"),
            (json!({ "content": "" }), "stop"),
            (json!({ "content": "partial" }), "content_filter"),
        ] {
            assert!(
                matches!(
                    read_completion(&choice(message.clone(), finish)),
                    Reply::HandOver(_)
                ),
                "{message}"
            );
        }
        assert_eq!(read_completion(b"<html>"), Reply::HandOver(FAILED.into()));
    }
}
