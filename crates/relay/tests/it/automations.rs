//! The AI responder and Telegram alerts, run by the executor against linesim's AI endpoint
//! and Bot API: once each, through faults and kills.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_linesim::{AiFaults, ApiFaults, TelegramFaults, Via};
use tsunagi_proto::api::Role;
use tsunagi_proto::{
    AiOutcome, AiSettings, BusinessHours, ConversationMode, Credential, Operation, Setting,
    TelegramOutcome, TelegramSettings, TelegramTrouble,
};

use crate::CHANNEL;
use crate::executor::{Clinic, count, is_sent, options, send};

/// The Thai answer linesim's model gives about opening hours.
const THAI_HOURS: &str = "คลินิกเปิดวันจันทร์ถึงวันเสาร์ เวลา 9:00–18:00 น. ค่ะ";

impl Clinic {
    /// An owner's device token for the relay's API.
    async fn owner(&self) -> String {
        self.test
            .enroll("Aiko", Role::Owner)
            .await
            .token
            .to_string()
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let token = self.owner().await;
        let response = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn set_credential(&self, name: &str, value: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/v1/channels/{CHANNEL}/credentials/{name}"),
            json!({ "value": value }),
        )
        .await
    }

    /// The AI responder on linesim's endpoint, answering when open and when closed.
    async fn ai_on(&self, timeout_seconds: u32) {
        self.ai_at(&format!("{}/v1", self.sim_url()), timeout_seconds)
            .await;
    }

    /// The AI responder on the endpoint at `base_url`, with linesim's key.
    async fn ai_at(&self, base_url: &str, timeout_seconds: u32) {
        let key = self.sim.config().ai_key.clone();
        assert_eq!(self.set_credential("ai_key", &key).await.0, 200);
        self.desk(Operation::Settings(Setting::Ai(AiSettings {
            base_url: base_url.to_owned(),
            model: "sim-1".into(),
            prompt: "Sakura Clinic. Open Monday to Saturday, 9:00 to 18:00.".into(),
            history: 10,
            timeout_seconds,
            when_open: true,
            when_closed: true,
        })))
        .await;
    }

    /// Telegram alerts to linesim's first chat, on handoffs and failed reminders.
    async fn telegram_on(&self) {
        let token = self.sim.config().telegram_token.clone();
        let (status, body) = self.set_credential("telegram_token", &token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["bot"], "tsunagi_sim_bot");
        self.desk(Operation::Settings(Setting::Telegram(telegram_settings(
            self,
        ))))
        .await;
    }

    /// The model's next answer comes only after `ms`.
    fn model_takes(&self, ms: u64) {
        self.sim.set_ai_faults(AiFaults {
            slow_next: 1,
            slow_ms: ms,
            ..AiFaults::default()
        });
    }

    /// What `patient` received is only the model's answer to "Where is the clinic?".
    fn has_only_the_way_to_the_clinic(&self, patient: &UserId) {
        let texts = self.texts(patient);
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert!(texts[0].1.contains("Sakura Building"), "{texts:?}");
    }

    fn sim_url(&self) -> String {
        self.relay.telegram().base().to_owned()
    }

    /// Closed all the time, with an away reply.
    async fn always_closed(&self) {
        self.desk(Operation::Settings(Setting::BusinessHours(BusinessHours {
            time_zone: "Asia/Bangkok".into(),
            open: vec![],
            holidays: vec![],
            away_message: Some("คลินิกปิดแล้วค่ะ".into()),
        })))
        .await;
    }
}

/// Alerts to linesim's first chat, on handoffs and failed reminders.
fn telegram_settings(clinic: &Clinic) -> TelegramSettings {
    TelegramSettings {
        chats: vec![clinic.sim.config().telegram_chats[0]],
        on_handoff: true,
        on_escalation: false,
        on_reminder_failed: true,
        show_names: false,
        language: "en".into(),
    }
}

fn answered(op: &Operation) -> bool {
    matches!(
        op,
        Operation::AiAnswered {
            outcome: AiOutcome::Answered { .. },
            ..
        }
    )
}

fn handed_over(ops: &[Operation]) -> Option<String> {
    ops.iter().find_map(|op| match op {
        Operation::AiAnswered {
            outcome: AiOutcome::HandedOver { reason },
            ..
        } => Some(reason.clone()),
        _ => None,
    })
}

/// Waits until linesim has had `n` calls to its AI endpoint.
async fn until_asked(clinic: &Clinic, n: usize) {
    for _ in 0..500 {
        if clinic.sim.ai_calls().len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the model was asked {} times", clinic.sim.ai_calls().len());
}

#[tokio::test]
async fn a_thai_question_at_night_gets_the_models_answer_by_reply_once_across_a_restart() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.always_closed().await;
    clinic.ai_on(20).await;
    let patient = clinic.patient(0);
    // The model takes a moment; meanwhile LINE turns slow, so that the executor is
    // killed after the answer is decided, while LINE takes the reply.
    clinic.model_takes(500);
    clinic.says(&patient, "สวัสดีค่ะ คลินิกเปิดกี่โมงคะ").await;
    until_asked(&clinic, 1).await;
    clinic.sim.set_api_faults(ApiFaults {
        slow_next: 1,
        slow_ms: 3_000,
        ..ApiFaults::default()
    });
    for _ in 0..500 {
        if !clinic.sim.inbox(patient.as_str()).is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(clinic.sim.inbox(patient.as_str()).len(), 1);
    clinic.kill();
    clinic.run_executor(options("restarted"));
    let ops = clinic
        .wait_for("the answer, sent", |ops| count(ops, is_sent) == 1)
        .await;
    clinic.settled().await;
    assert_eq!(
        clinic.texts(&patient),
        [(Via::Reply, THAI_HOURS.to_owned())]
    );
    assert_eq!(clinic.sim.ai_calls().len(), 1, "decided once, asked once");
    assert_eq!(count(&ops, answered), 1);
    // What the model was shown: the clinic's prompt, in Thai, and the question.
    let call = &clinic.sim.ai_calls()[0];
    assert_eq!(call.model, "sim-1");
    assert!(call.messages[0].1.contains("Sakura Clinic") && call.messages[0].1.contains("Thai"));
    assert_eq!(
        call.messages.last().map(|m| m.1.as_str()),
        Some("สวัสดีค่ะ คลินิกเปิดกี่โมงคะ")
    );
    // No away reply: the model answered instead. The patient saw it thinking.
    assert!(!clinic.sim.loading_shown(&patient).is_empty());
}

#[tokio::test]
async fn a_restart_while_the_model_thinks_still_answers_the_patient_once() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(20).await;
    let patient = clinic.patient(0);
    clinic.model_takes(2_000);
    clinic.says(&patient, "Where is the clinic?").await;
    until_asked(&clinic, 1).await;
    clinic.kill();
    clinic.run_executor(options("restarted"));
    clinic
        .wait_for("the answer, sent", |ops| count(ops, is_sent) == 1)
        .await;
    // The killed executor's question comes back to nobody; once the restarted one is
    // idle, with no question out, nothing more is asked or sent.
    clinic.settled().await;
    clinic.has_only_the_way_to_the_clinic(&patient);
    // Nothing was decided before the kill, so the model was asked again.
    assert_eq!(clinic.sim.ai_calls().len(), 2);
}

#[tokio::test]
async fn a_model_that_times_out_or_asks_for_a_person_hands_the_chat_over_with_the_queue_message() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(5).await;
    let patient = clinic.patient(0);
    clinic.model_takes(8_000);
    clinic.says(&patient, "what are your hours?").await;
    let ops = clinic
        .wait_for("the handoff", |ops| {
            handed_over(ops).is_some() && count(ops, is_sent) == 1
        })
        .await;
    assert_eq!(
        handed_over(&ops).as_deref(),
        Some("the AI service did not answer within 5 s")
    );
    assert!(ops.iter().any(|op| matches!(
        op,
        Operation::SetMode {
            mode: ConversationMode::Human,
            ..
        }
    )));
    let texts = clinic.texts(&patient);
    assert_eq!(texts.len(), 1, "{texts:?}");
    // The queue message, in the patient's language: first in the queue.
    assert!(
        texts[0].1.contains('1') && !texts[0].1.contains('2'),
        "{texts:?}"
    );

    // Another patient's question the model cannot answer: it calls the tool.
    let other = clinic.patient(1);
    clinic
        .says(&other, "My child has a fever, what should I do?")
        .await;
    let ops = clinic
        .wait_for("the second handoff", |ops| count(ops, is_sent) == 2)
        .await;
    let reasons: Vec<String> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::AiAnswered {
                outcome: AiOutcome::HandedOver { reason },
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert!(
        reasons[1].starts_with("the model asked for a person"),
        "{reasons:?}"
    );
    let texts = clinic.texts(&other);
    assert!(texts[0].1.contains('2'), "second in the queue: {texts:?}");
}

#[tokio::test]
async fn the_reason_desks_see_when_the_ai_service_fails_names_no_status_body_or_address() {
    let clinic = Clinic::start(|_| {}).await;
    // An endpoint (on loopback, which the test relay's operator allows) that says more
    // than a desk should read: its status, its network, a secret.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let body = "upstream 10.1.2.3:5432 refused: password hunter2";
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                // The request's head and its small body arrive together, or nearly.
                let mut buffer = vec![0; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    clinic.ai_at(&format!("http://{endpoint}/v1"), 20).await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "What time do you open?").await;
    let ops = clinic
        .wait_for("the handoff", |ops| handed_over(ops).is_some())
        .await;
    let reason = handed_over(&ops).unwrap();
    assert_eq!(reason, tsunagi_relay::assistant::FAILED);
    for told in [
        "403",
        "hunter2",
        "10.1.2.3",
        "127.0.0.1",
        &endpoint.port().to_string(),
    ] {
        assert!(!reason.contains(told), "{reason}");
    }
}

/// Where in `ops` LINE's send of the desk's op `send` is logged.
fn sent_at(ops: &[Operation], send: tsunagi_proto::OpId) -> usize {
    ops.iter()
        .position(|op| matches!(op, Operation::Sent { send: s, .. } if *s == send))
        .unwrap()
}

#[tokio::test]
async fn while_the_model_thinks_an_operators_send_to_another_patient_goes_at_once() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(20).await;
    let (asking, other) = (clinic.patient(0), clinic.patient(1));
    clinic.model_takes(3_000);
    clinic.says(&asking, "Where is the clinic?").await;
    until_asked(&clinic, 1).await;
    let results = clinic
        .desk(send(&other, &["Your results are ready."]))
        .await;
    let ops = clinic
        .wait_for("the send and the answer", |ops| {
            count(ops, answered) == 1 && count(ops, is_sent) == 2
        })
        .await;
    let answered_at = ops.iter().position(answered).unwrap();
    assert!(
        sent_at(&ops, results) < answered_at,
        "the send waited for the model: {ops:#?}"
    );
    assert_eq!(
        clinic.texts(&other),
        [(Via::Push, "Your results are ready.".to_owned())]
    );
    clinic.has_only_the_way_to_the_clinic(&asking);
}

#[tokio::test]
async fn patients_asking_in_the_same_minute_do_not_wait_for_each_others_answers() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(20).await;
    let patients: Vec<UserId> = (0..3).map(|n| clinic.patient(n)).collect();
    clinic.sim.set_ai_faults(AiFaults {
        slow_next: 3,
        slow_ms: 2_000,
        ..AiFaults::default()
    });
    for patient in &patients {
        clinic.says(patient, "Where is the clinic?").await;
    }
    // All three asked before the first answer came back.
    until_asked(&clinic, 3).await;
    let ops = clinic.executor_ops().await;
    assert_eq!(count(&ops, answered), 0, "{ops:#?}");
    clinic
        .wait_for("three answers, sent", |ops| {
            count(ops, answered) == 3 && count(ops, is_sent) == 3
        })
        .await;
    for patient in &patients {
        clinic.has_only_the_way_to_the_clinic(patient);
    }
}

#[tokio::test]
async fn an_answer_the_model_gives_after_people_took_the_chat_never_reaches_the_patient() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(20).await;
    let patient = clinic.patient(0);
    clinic.model_takes(1_500);
    clinic.says(&patient, "Where is the clinic?").await;
    until_asked(&clinic, 1).await;
    clinic
        .desk(Operation::Claim {
            conversation: patient.as_str().into(),
        })
        .await;
    let ops = clinic
        .wait_for("the model's word", |ops| handed_over(ops).is_some())
        .await;
    assert_eq!(
        handed_over(&ops).as_deref(),
        Some("people took the chat while the model was thinking")
    );
    assert_eq!(clinic.sim.ai_calls()[0].outcome, "answer");
    // Neither the answer, nor a queue message for a chat people hold: nothing to send was
    // decided with it (a send is logged in the same append, before the decision).
    let sends = |op: &Operation| matches!(op, Operation::Send(_));
    assert_eq!(count(&ops, sends), 0, "{ops:#?}");
    assert_eq!(count(&ops, |op| matches!(op, Operation::SetMode { .. })), 0);
    assert_eq!(clinic.texts(&patient), []);
}

#[tokio::test]
async fn the_api_key_and_the_bot_token_are_in_no_table_and_no_entry() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.ai_on(20).await;
    clinic.telegram_on().await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "What time do you open?").await;
    clinic
        .wait_for("the answer", |ops| count(ops, is_sent) == 1)
        .await;
    let entries = clinic.test.read(tsunagi_proto::Seq(0), 10_000).await;
    let log = serde_json::to_string(&entries).unwrap();
    let key = clinic.sim.config().ai_key.clone();
    let token = clinic.sim.config().telegram_token.clone();
    assert!(log.contains("credential_set"));
    assert!(!log.contains(&key) && !log.contains(&token));
    // The store's own files, on SQLite: the database and its write-ahead log.
    if clinic.test.storage.database_url().is_none() {
        for file in std::fs::read_dir(clinic.test.storage.dir()).unwrap() {
            let path = file.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                for secret in [&key, &token] {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                        "{} holds a secret",
                        path.display()
                    );
                }
            }
        }
    }
    assert_eq!(
        clinic
            .relay
            .credential(&ChannelId::from(CHANNEL), Credential::AiKey)
            .await
            .unwrap(),
        Some(key)
    );
}

#[tokio::test]
async fn only_owners_set_credentials_and_a_token_telegram_refuses_is_not_kept() {
    let clinic = Clinic::start(|_| {}).await;
    let (status, body) = clinic
        .set_credential("telegram_token", "123:not-a-real-token")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("telegram_refused")),
        "{body}"
    );
    let (status, _) = clinic.set_credential("telegram_token", "not a token").await;
    assert_eq!(status, 400);
    let (status, _) = clinic.set_credential("password", "x").await;
    assert_eq!(status, 404);
    assert_eq!(
        clinic
            .relay
            .credential(&ChannelId::from(CHANNEL), Credential::TelegramToken)
            .await
            .unwrap(),
        None
    );
    let staff = clinic
        .test
        .enroll("Ken", Role::Staff)
        .await
        .token
        .to_string();
    let response = reqwest::Client::new()
        .put(format!(
            "{}/v1/channels/{CHANNEL}/credentials/ai_key",
            clinic.base
        ))
        .bearer_auth(staff)
        .json(&json!({ "value": "sk-staff" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    // Set, then removed: both logged as the owner's, without the value.
    assert_eq!(clinic.set_credential("ai_key", "sk-one").await.0, 200);
    let (status, body) = clinic
        .call(
            reqwest::Method::DELETE,
            &format!("/v1/channels/{CHANNEL}/credentials/ai_key"),
            Value::Null,
        )
        .await;
    assert_eq!((status, body["set"].clone()), (200, json!(false)));
    let sets: Vec<bool> = clinic
        .ops()
        .await
        .into_iter()
        .filter_map(|(_, op)| match op {
            Operation::CredentialSet { set, .. } => Some(set),
            _ => None,
        })
        .collect();
    assert_eq!(sets, [true, false]);
}

fn telegram_sent(ops: &[Operation]) -> Vec<TelegramOutcome> {
    ops.iter()
        .filter_map(|op| match op {
            Operation::TelegramSent { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_handoff_sends_one_telegram_alert_after_the_wait_telegram_asks_for_and_an_outage() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.telegram_on().await;
    clinic.sim.set_telegram_faults(TelegramFaults {
        too_many_next: 1,
        retry_after_s: 1,
        fail_next: 1,
        ..TelegramFaults::default()
    });
    let patient = clinic.patient(0);
    clinic.says(&patient, "talk to staff please").await;
    let ops = clinic
        .wait_for("the alert", |ops| !telegram_sent(ops).is_empty())
        .await;
    assert_eq!(
        telegram_sent(&ops),
        [TelegramOutcome::Sent {
            chats: 1,
            failed: vec![],
            trouble: None
        }]
    );
    let messages = clinic.sim.telegram_messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].text,
        format!(
            "A patient asks for a person on LINE. Place in the queue: 1.\n\
             Open in Tsunagi: tsunagi://chat/{CHANNEL}/{patient}"
        )
    );
    assert_eq!(clinic.sim.telegram_refusals(), [429, 502]);
    // Sent only after the second Telegram asked to wait.
    let alert_at = clinic
        .test
        .read(tsunagi_proto::Seq(0), 10_000)
        .await
        .into_iter()
        .find(|e| {
            matches!(
                &e.body,
                tsunagi_proto::EntryBody::Op {
                    op: tsunagi_proto::LoggedOp::Known(Operation::Alert { .. }),
                    ..
                }
            )
        })
        .map(|e| e.at.0)
        .unwrap();
    assert!(
        messages[0].at - alert_at >= 1_000,
        "{} ms",
        messages[0].at - alert_at
    );
}

#[tokio::test]
async fn while_telegram_asks_to_wait_an_operators_send_goes_at_once() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.telegram_on().await;
    clinic.sim.set_telegram_faults(TelegramFaults {
        too_many_next: 1,
        retry_after_s: 3,
        ..TelegramFaults::default()
    });
    let (waiting, other) = (clinic.patient(0), clinic.patient(1));
    clinic.says(&waiting, "talk to staff please").await;
    for _ in 0..500 {
        if !clinic.sim.telegram_refusals().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(clinic.sim.telegram_refusals(), [429]);
    let results = clinic
        .desk(send(&other, &["Your results are ready."]))
        .await;
    let ops = clinic
        .wait_for("the send and the alert", |ops| {
            !telegram_sent(ops).is_empty() && count(ops, is_sent) == 2
        })
        .await;
    let alerted_at = ops
        .iter()
        .position(|op| matches!(op, Operation::TelegramSent { .. }))
        .unwrap();
    assert!(
        sent_at(&ops, results) < alerted_at,
        "the send waited for Telegram: {ops:#?}"
    );
    assert_eq!(clinic.sim.telegram_messages().len(), 1);
    assert_eq!(
        clinic.texts(&other),
        [(Via::Push, "Your results are ready.".to_owned())]
    );
}

#[tokio::test]
async fn a_kill_between_telegrams_send_and_its_record_does_not_send_the_alert_again() {
    let mut clinic = Clinic::start(|_| {}).await;
    clinic.telegram_on().await;
    clinic.sim.set_telegram_faults(TelegramFaults {
        slow_next: 1,
        slow_ms: 3_000,
        ..TelegramFaults::default()
    });
    let patient = clinic.patient(0);
    clinic.says(&patient, "talk to staff please").await;
    for _ in 0..500 {
        if !clinic.sim.telegram_messages().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(clinic.sim.telegram_messages().len(), 1);
    clinic.kill();
    clinic.run_executor(options("restarted"));
    let ops = clinic
        .wait_for("the alert's outcome", |ops| !telegram_sent(ops).is_empty())
        .await;
    assert_eq!(telegram_sent(&ops), [TelegramOutcome::Unconfirmed]);
    clinic.settled().await;
    assert_eq!(clinic.sim.telegram_messages().len(), 1);
}

#[tokio::test]
async fn a_token_telegram_stops_accepting_is_reported_and_the_test_message_reaches_each_chat() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.telegram_on().await;
    let chat = clinic.sim.config().telegram_chats[0];
    let (status, body) = clinic
        .call(
            reqwest::Method::POST,
            &format!("/v1/channels/{CHANNEL}/telegram/test"),
            json!({ "chats": [chat, 5], "language": "th" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["ok"], true);
    assert_eq!(body["results"][1]["ok"], false);
    assert!(clinic.sim.telegram_messages()[0].text.contains("Tsunagi"));

    // A chat the bot is not in: the alert reaches the others, and says which chat failed.
    let mut settings = telegram_settings(&clinic);
    settings.chats.push(5);
    clinic
        .desk(Operation::Settings(Setting::Telegram(settings)))
        .await;
    clinic
        .says(&clinic.patient(1), "talk to staff please")
        .await;
    let ops = clinic
        .wait_for("the alert's outcome", |ops| !telegram_sent(ops).is_empty())
        .await;
    match &telegram_sent(&ops)[0] {
        TelegramOutcome::Sent {
            chats: 1,
            failed,
            trouble: Some(TelegramTrouble::Chat),
        } => assert!(failed[0].contains("chat 5"), "{failed:?}"),
        other => panic!("{other:?}"),
    }

    // The bot's token revoked at Telegram since: the next alert says so.
    clinic
        .relay
        .set_credential(
            &ChannelId::from(CHANNEL),
            Credential::TelegramToken,
            Some("42:revoked-token-at-botfather"),
        )
        .await
        .unwrap();
    clinic
        .says(&clinic.patient(0), "talk to staff please")
        .await;
    let ops = clinic
        .wait_for("the alert's outcome", |ops| telegram_sent(ops).len() == 2)
        .await;
    match &telegram_sent(&ops)[1] {
        TelegramOutcome::Failed { reason, trouble } => {
            assert_eq!(*trouble, TelegramTrouble::Token);
            assert!(reason.contains("refused the bot's token"), "{reason}");
            assert!(!reason.contains("revoked-token"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn words_of_an_emergency_at_night_get_the_urgent_message_once_and_no_model_answer() {
    let clinic = Clinic::start(|_| {}).await;
    clinic.always_closed().await;
    clinic.ai_on(20).await;
    clinic.telegram_on().await;
    let patient = clinic.patient(0);
    clinic.says(&patient, "หายใจไม่ออกค่ะ").await;
    let ops = clinic
        .wait_for("the urgent message, sent, and the Telegram alert", |ops| {
            count(ops, is_sent) == 1 && !telegram_sent(ops).is_empty()
        })
        .await;
    // By reply, in the patient's language, with Thailand's number; nothing else.
    let texts = clinic.texts(&patient);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0].0, Via::Reply);
    assert!(texts[0].1.contains("1669"), "{texts:?}");
    assert_eq!(clinic.sim.ai_calls().len(), 0, "the model was asked");
    assert!(
        ops.iter().any(|op| matches!(
            op,
            Operation::Alert {
                reason: tsunagi_proto::AlertReason::RedFlag,
                ..
            }
        )),
        "{ops:#?}"
    );
    assert_eq!(
        count(&ops, |op| matches!(
            op,
            Operation::SetMode {
                mode: ConversationMode::Human,
                ..
            }
        )),
        1
    );
    let alerts = clinic.sim.telegram_messages();
    assert!(
        alerts.iter().any(|m| m.text.starts_with("URGENT:")),
        "{alerts:?}"
    );
    // Said again: the desks hear of it again; the patient is not told twice.
    clinic.says(&patient, "หายใจไม่ออก").await;
    let ops = clinic
        .wait_for("the second alert", |ops| {
            count(ops, |op| {
                matches!(
                    op,
                    Operation::Alert {
                        reason: tsunagi_proto::AlertReason::RedFlag,
                        ..
                    }
                )
            }) == 2
        })
        .await;
    // (An urgent message would be logged in the same append as its alert.)
    assert_eq!(count(&ops, |op| matches!(op, Operation::Send(_))), 1);
    assert_eq!(clinic.texts(&patient).len(), 1);
    assert_eq!(clinic.sim.ai_calls().len(), 0);
}
