//! The AI endpoint and Telegram's Bot API, over HTTP as the relay calls them.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tsunagi_linesim::{AiFaults, TelegramFaults};

use crate::Harness;

async fn post(h: &Harness, path: &str, auth: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", h.base))
        .json(&body);
    if let Some(key) = auth {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn question(text: &str) -> Value {
    json!({
        "model": "sim-1",
        "messages": [
            { "role": "system", "content": "You answer for Sakura Clinic." },
            { "role": "user", "content": text },
        ],
        "tools": [{ "type": "function", "function": { "name": "hand_over_to_staff",
                    "parameters": { "type": "object", "properties": {} } } }],
    })
}

#[tokio::test]
async fn the_ai_endpoint_answers_in_the_questions_language_and_hands_over_the_rest() {
    let h = Harness::start().await;
    let key = h.sim.config().ai_key.clone();

    let (status, body) = post(&h, "/v1/chat/completions", Some("sk-wrong"), question("hi")).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "invalid_api_key");

    let (status, body) = post(
        &h,
        "/v1/chat/completions",
        Some(&key),
        question("เปิดกี่โมงคะ"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let answer = body["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(answer.contains("เปิด"), "{answer}");

    let (_, body) = post(
        &h,
        "/v1/chat/completions",
        Some(&key),
        question("My child has a fever"),
    )
    .await;
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let call = &body["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "hand_over_to_staff");
    serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap();

    let calls = h.sim.ai_calls();
    assert_eq!(
        calls.iter().map(|c| c.outcome.as_str()).collect::<Vec<_>>(),
        ["answer", "tool"],
        "the refused key is not a call the model saw"
    );
    assert_eq!(calls[0].messages[1], ("user".into(), "เปิดกี่โมงคะ".into()));
    assert_eq!(calls[0].tools, ["hand_over_to_staff"]);
}

#[tokio::test]
async fn the_ai_endpoint_fails_rate_limits_and_refuses_as_planned() {
    let h = Harness::start().await;
    let key = h.sim.config().ai_key.clone();
    h.sim.set_ai_faults(AiFaults {
        fail_next: 1,
        rate_limit_next: 1,
        retry_after_s: 7,
        refuse_next: 1,
        ..AiFaults::default()
    });
    let (status, body) = post(&h, "/v1/chat/completions", Some(&key), question("hours?")).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (500, Some("server_error"))
    );
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", h.base))
        .bearer_auth(&key)
        .json(&question("hours?"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    let (status, body) = post(&h, "/v1/chat/completions", Some(&key), question("hours?")).await;
    assert_eq!(status, 200);
    assert_eq!(body["choices"][0]["message"]["content"], Value::Null);
    assert!(body["choices"][0]["message"]["refusal"].is_string());
    let (_, body) = post(&h, "/v1/chat/completions", Some(&key), question("hours?")).await;
    assert!(
        body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("9:00")
    );
}

#[tokio::test]
async fn the_telegram_bot_sends_to_its_chats_and_fails_as_the_bot_api_does() {
    let h = Harness::start().await;
    let token = h.sim.config().telegram_token.clone();
    let chat = h.sim.config().telegram_chats[0];

    let (status, body) = post(&h, "/botnot-a-token/getMe", None, json!({})).await;
    assert_eq!((status, body["ok"].clone()), (401, json!(false)));
    assert_eq!(body["description"], "Unauthorized");
    let (status, body) = post(&h, &format!("/bot{token}/getMe"), None, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["is_bot"], true);

    let send = |chat_id: Value, text: &str| json!({ "chat_id": chat_id, "text": text });
    let (status, body) = post(
        &h,
        &format!("/bot{token}/sendMessage"),
        None,
        send(json!(1), "x"),
    )
    .await;
    assert_eq!(
        (status, body["description"].as_str()),
        (400, Some("Bad Request: chat not found"))
    );
    // A button may not carry the app's own link.
    let mut with_button = send(json!(chat), "Waiting: 1");
    with_button["reply_markup"] =
        json!({ "inline_keyboard": [[{ "text": "Open", "url": "tsunagi://chat/1/U1" }]] });
    let (status, body) = post(&h, &format!("/bot{token}/sendMessage"), None, with_button).await;
    assert_eq!(status, 400, "{body}");

    h.sim.set_telegram_faults(TelegramFaults {
        too_many_next: 1,
        retry_after_s: 3,
        fail_next: 1,
        ..TelegramFaults::default()
    });
    let (status, body) = post(
        &h,
        &format!("/bot{token}/sendMessage"),
        None,
        send(json!(chat), "one"),
    )
    .await;
    assert_eq!(
        (status, body["parameters"]["retry_after"].clone()),
        (429, json!(3))
    );
    let (status, _) = post(
        &h,
        &format!("/bot{token}/sendMessage"),
        None,
        send(json!(chat.to_string()), "one"),
    )
    .await;
    assert_eq!(status, 502);
    let (status, body) = post(
        &h,
        &format!("/bot{token}/sendMessage"),
        None,
        send(json!(chat.to_string()), "one"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["chat"]["id"], chat);
    let sent = h.sim.telegram_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].chat_id, sent[0].text.as_str()), (chat, "one"));
    assert_eq!(h.sim.telegram_refusals(), [429, 502]);
}
