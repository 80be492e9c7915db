use std::sync::Arc;

use pretty_assertions::assert_eq;
use serde_json::json;
use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_proto::{EntryBody, Seq, UnixMillis};
use tsunagi_relay::secret::ChannelSecret;
use tsunagi_relay::store::{Invite, LogStore as _};
use tsunagi_relay::token::{normalize_code, sha256};

use crate::{CHANNEL, Harness, callback, enroll};

impl Harness {
    pub(crate) async fn get_status(&self, path: &str, token: Option<&str>) -> u16 {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn enroll_with(&self, code: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/v1/enroll", self.base))
            .json(&json!({"code": code, "device_name": "Laptop", "operator_name": "Somchai"}))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn append_op(
        &self,
        token: &str,
        key: &str,
        op: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/v1/channels/{CHANNEL}/ops", self.base))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(&json!({ "op": op }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }
}

const LOG: &str = "/v1/channels/1656789012/log";

/// For tests of many enrollments from this one machine's address.
fn unlimited_enrolls() -> tsunagi_relay::http::Options {
    tsunagi_relay::http::Options {
        failures_per_minute: std::num::NonZeroU32::MAX,
        ..tsunagi_relay::http::Options::default()
    }
}

#[tokio::test]
async fn every_v1_call_needs_a_valid_device_token() {
    let h = Harness::start().await;
    assert_eq!(h.get_status(LOG, None).await, 401);
    assert_eq!(h.get_status(LOG, Some("nonsense")).await, 401);
    let forged = format!("{}x", &h.owner[..h.owner.len() - 1]);
    assert_eq!(h.get_status(LOG, Some(&forged)).await, 401);
    assert_eq!(h.get_status(LOG, Some(&h.owner)).await, 200);
}

#[tokio::test]
async fn an_enrollment_code_works_once_however_it_is_typed() {
    let h = Harness::start().await;
    let invited = h.staff_invite().await;
    let typed = invited.code.to_lowercase().replace('-', " ");
    let (status, enrolled) = h.enroll_with(&typed).await;
    assert_eq!(status, 200, "{enrolled}");
    assert_eq!(enrolled["role"], "staff");
    assert_eq!(enrolled["channel_id"], CHANNEL);
    let token = enrolled["token"].as_str().unwrap();
    assert_eq!(h.get_status(LOG, Some(token)).await, 200);

    let (status, again) = h.enroll_with(&invited.code).await;
    assert_eq!(status, 400);
    assert_eq!(again["message"], "this enrollment code was used already");
    let (status, unknown) = h.enroll_with("AAAA-BBBB-CCCC").await;
    assert_eq!(status, 400);
    assert_eq!(unknown["message"], "this enrollment code does not exist");
}

#[tokio::test]
async fn an_enrollment_code_expires() {
    let h = Harness::start().await;
    let code = "K7QM-3XPD-9WTA";
    h.relay
        .store
        .create_invite(&Invite {
            id: "expired".into(),
            created_by: None,
            code_hash: sha256(&normalize_code(code)),
            channel: Some(ChannelId::from(CHANNEL)),
            role: Role::Staff,
            created_at: UnixMillis(1),
            expires_at: UnixMillis(2),
        })
        .await
        .unwrap();
    let (status, body) = h.enroll_with(code).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "this enrollment code has expired");
}

#[tokio::test]
async fn concurrent_use_of_one_code_enrolls_one_device() {
    let h = Arc::new(Harness::start_with(unlimited_enrolls()).await);
    let invited = h.staff_invite().await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (h, code) = (h.clone(), invited.code.clone());
            tokio::spawn(async move { h.enroll_with(&code).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 9);
}

#[tokio::test]
async fn enrollment_needs_names() {
    let h = Harness::start().await;
    let invited = h.staff_invite().await;
    let response = h
        .http
        .post(format!("{}/v1/enroll", h.base))
        .json(&json!({"code": invited.code, "device_name": "  ", "operator_name": "Yuki"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("device_name"));
    // The code was not spent by the refused attempt.
    assert_eq!(h.enroll_with(&invited.code).await.0, 200);
}

#[tokio::test]
async fn a_revoked_device_gets_401() {
    let h = Harness::start().await;
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let devices: serde_json::Value = h
        .get_json(&format!("/v1/channels/{CHANNEL}/devices"), &h.owner)
        .await;
    let staff_id = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["role"] == "staff")
        .unwrap()["device_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        devices.to_string().find("token").is_none(),
        "no token or hash is listed"
    );
    // The owner who just listed them was seen calling; the staff device, when it enrolled
    // (before any call of its own), was not.
    let seen = |role: &str| {
        devices
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["role"] == role)
            .unwrap()["last_seen_at"]
            .clone()
    };
    assert!(seen("owner").is_i64(), "{devices}");
    assert!(seen("staff").is_null(), "{devices}");
    let revoke = |token: String| {
        let url = format!("{}/v1/devices/{staff_id}/revoke", h.base);
        let http = h.http.clone();
        async move {
            http.post(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(revoke(staff.clone()).await, 403, "staff cannot revoke");
    assert_eq!(revoke(h.owner.clone()).await, 204);
    assert_eq!(h.get_status(LOG, Some(&staff)).await, 401);
    assert_eq!(h.get_status(LOG, Some(&h.owner)).await, 200);
}

#[tokio::test]
async fn a_device_of_channel_a_gets_403_on_channel_b() {
    let h = Harness::start().await;
    h.relay
        .add_channel(
            &ChannelId::from("2000000002"),
            ChannelSecret::new("other secret"),
        )
        .await
        .unwrap();
    let other = enroll(&h.http, &h.base, &h.relay, "2000000002", Role::Owner).await;
    assert_eq!(h.get_status(LOG, Some(&other)).await, 403);
    assert_eq!(
        h.get_status("/v1/channels/2000000002/log", Some(&other))
            .await,
        200
    );
    assert_eq!(
        h.get_status("/v1/channels/2000000002/log", Some(&h.owner))
            .await,
        403
    );
}

#[tokio::test]
async fn only_owners_create_invites() {
    let h = Harness::start().await;
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let invite = |token: String| {
        let url = format!("{}/v1/channels/{CHANNEL}/invites", h.base);
        let http = h.http.clone();
        async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"role": "staff"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(invite(staff).await.status().as_u16(), 403);
    let response = invite(h.owner.clone()).await;
    assert_eq!(response.status().as_u16(), 200);
    let invited: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        h.enroll_with(invited["code"].as_str().unwrap()).await.0,
        200
    );
}

#[tokio::test]
async fn an_op_is_appended_once_per_idempotency_key_and_logged_with_its_device() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed(&callback(&["01A"])).await, 200);
    let key = "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b";
    let claim = json!({"type": "claim", "conversation": "U4af4980629a1b2c3d4e5f60718293a4b"});
    let (status, first) = h.append_op(&h.owner, key, claim.clone()).await;
    assert_eq!((status, first["seq"].as_u64()), (200, Some(2)));
    let (status, again) = h.append_op(&h.owner, key, claim).await;
    assert_eq!((status, again["seq"].as_u64()), (200, Some(2)));
    let page = h.log("").await;
    assert_eq!(page.head, Seq(2));
    let EntryBody::Op {
        op_id,
        device,
        role,
        op,
    } = &page.entries[1].body
    else {
        panic!("{:?}", page.entries[1])
    };
    assert_eq!(op_id.to_string(), key);
    assert_eq!(
        *role,
        Some(Role::Owner),
        "the relay records who appended, as what"
    );
    assert!(!device.as_str().is_empty());
    assert!(op.known().is_some());
}

#[tokio::test]
async fn a_bad_op_or_key_is_refused_with_what_is_wrong() {
    let h = Harness::start().await;
    let key = "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b";
    let (status, body) = h.append_op(&h.owner, key, json!({"type": "claim"})).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("conversation"),
        "{body}"
    );
    let (status, body) = h
        .append_op(&h.owner, key, json!({"type": "teleport"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("teleport"),
        "{body}"
    );
    let (status, _) = h
        .append_op(
            &h.owner,
            "not-a-uuid",
            json!({"type": "close", "conversation": "U1"}),
        )
        .await;
    assert_eq!(status, 400);
    // Well formed, but LINE would refuse the message and the regex does not compile.
    let (status, body) = h
        .append_op(
            &h.owner,
            key,
            json!({"type": "send", "conversation": "U1", "retry_key": key,
                   "messages": [{"type": "text", "text": ""}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("message 1"),
        "{body}"
    );
    let (status, body) = h
        .append_op(
            &h.owner,
            key,
            json!({"type": "settings", "setting": "keyword_rules", "rules": [
                {"pattern": "(", "match": "regex", "reply": [{"type": "text", "text": "hi"}]}]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("regex"),
        "{body}"
    );
    assert_eq!(h.log("").await.head, Seq(0), "nothing was appended");
}

#[tokio::test]
async fn a_desk_cannot_claim_that_line_delivered_a_message() {
    let h = Harness::start().await;
    let (status, body) = h
        .append_op(
            &h.owner,
            "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b",
            json!({"type": "sent", "send": "1c0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b", "via": "push"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(h.log("").await.head, Seq(0));
}

#[tokio::test]
async fn fifty_concurrent_appenders_of_webhooks_and_ops_get_one_gap_free_order() {
    let h = Arc::new(Harness::start().await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    h.post_signed(&callback(&[&format!("01W{i:03}")])).await
                } else {
                    let key = uuid_for(i);
                    let op = json!({"type": "note", "contact": "U1", "text": format!("note {i}")});
                    h.append_op(&h.owner, &key, op).await.0
                }
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let page = h.log("limit=1000").await;
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<_>>());
}

fn uuid_for(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

#[tokio::test]
async fn every_device_of_a_channel_sees_its_operators_by_name() {
    let h = Harness::start().await;
    let staff = crate::redeem(&h.http, &h.base, &h.staff_invite().await.code).await;
    let operators: Vec<tsunagi_proto::api::OperatorInfo> = h
        .get_json(&format!("/v1/channels/{CHANNEL}/operators"), &staff.token)
        .await;
    let names: Vec<(&str, Role, bool)> = operators
        .iter()
        .map(|o| (o.name.as_str(), o.role, o.active))
        .collect();
    assert_eq!(
        names,
        [("Yuki", Role::Owner, true), ("Yuki", Role::Staff, true)]
    );
    assert_eq!(operators[1].operator.as_str(), staff.device_id.as_str());

    h.relay
        .add_channel(
            &ChannelId::from("2000000002"),
            ChannelSecret::new("other secret"),
        )
        .await
        .unwrap();
    let other = enroll(&h.http, &h.base, &h.relay, "2000000002", Role::Staff).await;
    let path = format!("/v1/channels/{CHANNEL}/operators");
    assert_eq!(h.get_status(&path, Some(&other)).await, 403);
}

#[tokio::test]
async fn devices_enroll_while_webhooks_pour_in_without_a_busy_database_refusing_them() {
    let h = Arc::new(Harness::start_with(unlimited_enrolls()).await);
    let mut invites = Vec::new();
    for _ in 0..12 {
        invites.push(h.staff_invite().await.code);
    }
    // Webhooks keep the log's writer busy the whole time.
    let pouring = {
        let h = h.clone();
        tokio::spawn(async move {
            for i in 0..200 {
                let id = format!("01H{i:023}");
                assert_eq!(h.post_signed(&callback(&[id.as_str()])).await, 200);
            }
        })
    };
    let enrolling = invites.into_iter().map(|code| {
        let h = h.clone();
        tokio::spawn(async move { h.enroll_with(&code).await })
    });
    for enrolled in futures_util::future::join_all(enrolling).await {
        let (status, body) = enrolled.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    pouring.await.unwrap();
}

#[tokio::test]
async fn what_changes_the_bot_or_reaches_many_patients_is_for_owners_and_staff_answer_chats() {
    use tsunagi_proto::{Audience, ConversationId, Operation, Reminder, Setting};
    let h = Harness::start().await;
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let patient = tsunagi_line::UserId::from("U4af4980629a1b2c3d4e5f60718293a4b");
    let reminder = |to| {
        Operation::ScheduleReminder(Reminder {
            text: "See you tomorrow".into(),
            date: None,
            time: None,
            clinic: None,
            at: UnixMillis(1_767_225_600_000),
            to,
        })
    };
    let owners_only = [
        Operation::Settings(Setting::KeywordRules { rules: vec![] }),
        reminder(Audience::Tag {
            tag: "diabetes".into(),
        }),
        reminder(Audience::Following),
        Operation::SyncFollowers,
    ];
    let anyones = [
        Operation::Claim {
            conversation: ConversationId::from(patient.as_str()),
        },
        reminder(Audience::Contact {
            user: patient.clone(),
        }),
        Operation::Tag {
            contact: patient.clone(),
            tag: "diabetes".into(),
            added: true,
        },
    ];
    let head = h.log("").await.head;
    for op in &owners_only {
        let json = serde_json::to_value(op).unwrap();
        let (status, body) = h
            .append_op(&staff, &uuid::Uuid::new_v4().to_string(), json)
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("owner_only")),
            "{op:?}"
        );
    }
    assert_eq!(h.log("").await.head, head, "nothing refused was logged");
    for op in owners_only.iter().chain(&anyones) {
        let json = serde_json::to_value(op).unwrap();
        let (status, body) = h
            .append_op(&h.owner, &uuid::Uuid::new_v4().to_string(), json)
            .await;
        assert_eq!(status, 200, "an owner may: {op:?} {body}");
    }
    for op in &anyones {
        let json = serde_json::to_value(op).unwrap();
        let (status, body) = h
            .append_op(&staff, &uuid::Uuid::new_v4().to_string(), json)
            .await;
        assert_eq!(status, 200, "staff may: {op:?} {body}");
    }
    let page = h.log("").await;
    let last = page.entries.last().unwrap();
    assert!(matches!(
        last.body,
        EntryBody::Op {
            role: Some(Role::Staff),
            ..
        }
    ));
}

/// A client of this machine with its own loopback address.
fn from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

#[tokio::test]
async fn failed_enrollments_are_limited_per_client_address_and_successes_do_not_count() {
    let h = Harness::start_with(tsunagi_relay::http::Options {
        failures_per_minute: std::num::NonZeroU32::new(3).unwrap(),
        ..tsunagi_relay::http::Options::default()
    })
    .await;
    // Codes that work never use up an address's budget.
    for n in 0..5 {
        let invited = h.staff_invite().await;
        let enrolled = from(9)
            .post(format!("{}/v1/enroll", h.base))
            .json(&json!({"code": invited.code, "device_name": "PC", "operator_name": format!("n{n}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(enrolled.status().as_u16(), 200);
    }
    // Guessing codes from one address: a few wrong ones, then 429 with when to come back.
    let guess = |http: reqwest::Client| {
        let url = format!("{}/v1/enroll", h.base);
        async move {
            http.post(url)
                .json(&json!({"code": "AAAA-BBBB-CCCC", "device_name": "x", "operator_name": "x"}))
                .send()
                .await
                .unwrap()
        }
    };
    let guesser = from(7);
    for _ in 0..4 {
        assert_eq!(guess(guesser.clone()).await.status().as_u16(), 400);
    }
    let refused = guess(guesser.clone()).await;
    assert_eq!(refused.status().as_u16(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another address, with a real code, is not held up by the guesser.
    let invited = h.staff_invite().await;
    let enrolled = from(8)
        .post(format!("{}/v1/enroll", h.base))
        .json(&json!({"code": invited.code, "device_name": "Front desk", "operator_name": "Mei"}))
        .send()
        .await
        .unwrap();
    assert_eq!(enrolled.status().as_u16(), 200);
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_op_is_a_conflict_not_the_old_seq() {
    let h = Harness::start().await;
    let key = "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b";
    let claim = json!({"type": "claim", "conversation": "U4af4980629a1b2c3d4e5f60718293a4b"});
    let close = json!({"type": "close", "conversation": "U4af4980629a1b2c3d4e5f60718293a4b"});
    assert_eq!(h.append_op(&h.owner, key, claim.clone()).await.0, 200);
    let (status, body) = h.append_op(&h.owner, key, close).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    // The same op again is still the same op: its seq.
    let (status, again) = h.append_op(&h.owner, key, claim.clone()).await;
    assert_eq!((status, again["seq"].as_u64()), (200, Some(1)));
    // And another device may not claim it as its own.
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    assert_eq!(h.append_op(&staff, key, claim).await.0, 409);
    assert_eq!(h.log("").await.head, Seq(1));
}

#[tokio::test]
async fn a_settings_op_of_too_many_rules_is_refused_with_the_limit() {
    let h = Harness::start().await;
    let rule =
        json!({"pattern": "予約", "match": "contains", "reply": [{"type": "text", "text": "ok"}]});
    let rules: Vec<_> = (0..501).map(|_| rule.clone()).collect();
    let op = json!({"type": "settings", "setting": "keyword_rules", "rules": rules});
    let (status, body) = h
        .append_op(&h.owner, "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5c", op)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 500"),
        "{body}"
    );
}

#[tokio::test]
async fn no_device_can_take_an_id_or_a_retry_key_the_executor_will_use() {
    let h = Harness::start().await;
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let patient = "U0123456789abcdef0123456789abcdef";
    let head = h.log("").await.head;
    // A note logged first under the id of a send's outcome would make the executor's
    // "sent" a duplicate, and the send would wait for ever.
    let outcome = tsunagi_proto::OpId::derived(&format!("sent/{}", uuid::Uuid::new_v4()));
    let note = json!({"type": "note", "contact": patient, "text": "hello"});
    let (status, body) = h
        .append_op(&staff, &outcome.to_string(), note.clone())
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("version 4"),
        "{body}"
    );
    // A push with a key the executor derives (its greeting's, say) would meet LINE's 409.
    let taken = tsunagi_proto::OpId::derived("greeting/7").0;
    let send = json!({
        "type": "send", "conversation": patient,
        "messages": [{"type": "text", "text": "hi"}], "retry_key": taken,
    });
    let (status, body) = h
        .append_op(&staff, &uuid::Uuid::new_v4().to_string(), send)
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(h.log("").await.head, head, "nothing refused was logged");
    // Random ones are taken as ever.
    let (status, body) = h
        .append_op(&staff, &uuid::Uuid::new_v4().to_string(), note)
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_owners_codes_are_listed_withdrawn_and_die_when_the_owner_is_shut_out() {
    let h = Harness::start().await;
    let second_owner = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Owner).await;
    let staff = enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let invites = format!("{}/v1/channels/{CHANNEL}/invites", h.base);
    let mint = |token: &str| {
        let request = h.http.post(&invites).bearer_auth(token);
        async move {
            let invited: serde_json::Value = request
                .json(&json!({"role": "staff"}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                invited["id"].as_str().unwrap().to_owned(),
                invited["code"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (withdrawn_id, withdrawn) = mint(&h.owner).await;
    let (_, kept) = mint(&h.owner).await;
    let (_, by_the_second_owner) = mint(&second_owner).await;

    let listed: serde_json::Value = h
        .get_json(&format!("/v1/channels/{CHANNEL}/invites"), &h.owner)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    assert!(!listed.to_string().contains(&kept), "a code is shown once");
    assert_eq!(
        h.get_status(&format!("/v1/channels/{CHANNEL}/invites"), Some(&staff))
            .await,
        403
    );
    let withdraw = |token: &str, id: &str| {
        let request = h.http.delete(format!("{invites}/{id}")).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(withdraw(&staff, &withdrawn_id).await, 403);
    assert_eq!(withdraw(&h.owner, &withdrawn_id).await, 204);
    assert_eq!(withdraw(&h.owner, &withdrawn_id).await, 404);
    let (status, body) = h.enroll_with(&withdrawn).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("withdrawn_code"))
    );

    // The second owner is shut out: what it handed out stops working with it.
    let devices: serde_json::Value = h
        .get_json(&format!("/v1/channels/{CHANNEL}/devices"), &h.owner)
        .await;
    let owners: Vec<&str> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["role"] == "owner")
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    let second_id = owners.last().unwrap();
    let revoked = h
        .http
        .post(format!("{}/v1/devices/{second_id}/revoke", h.base))
        .bearer_auth(&h.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    let (status, body) = h.enroll_with(&by_the_second_owner).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("withdrawn_code"))
    );
    let (status, body) = h.enroll_with(&kept).await;
    assert_eq!(status, 200, "{body}");
}

/// Behind the documented reverse proxy every request comes from the proxy. Trusted, the
/// proxy's `X-Forwarded-For` tells the guesser from the clinic; untrusted, a forged one
/// lets nobody escape the limit.
#[tokio::test]
async fn behind_a_trusted_proxy_a_guesser_waits_alone_and_a_forged_address_helps_nobody() {
    let proxy: ipnet::IpNet = "127.0.0.1/32".parse().unwrap();
    let options = |trusted: Vec<ipnet::IpNet>| tsunagi_relay::http::Options {
        failures_per_minute: std::num::NonZeroU32::new(2).unwrap(),
        trusted_proxies: tsunagi_relay::http::TrustedProxies(trusted),
        ..tsunagi_relay::http::Options::default()
    };
    let enroll_as = |h: &Harness, client: &str, code: &str| {
        let request = from(1)
            .post(format!("{}/v1/enroll", h.base))
            .header("x-forwarded-for", format!("{client}, 127.0.0.1"))
            .json(&json!({"code": code, "device_name": "PC", "operator_name": "Mei"}));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let guesser = "203.0.113.9";
    let clinic = "198.51.100.7";

    let behind = Harness::start_with(options(vec![proxy])).await;
    for _ in 0..3 {
        assert_eq!(enroll_as(&behind, guesser, "AAAA-BBBB-CCCC").await, 400);
    }
    assert_eq!(enroll_as(&behind, guesser, "AAAA-BBBB-CCCC").await, 429);
    let invited = behind.staff_invite().await;
    assert_eq!(enroll_as(&behind, clinic, &invited.code).await, 200);

    // Not trusted: the header is the caller's own claim, and each "new" address it names
    // is still the one connection's address.
    let open = Harness::start_with(options(Vec::new())).await;
    for n in 0..3 {
        let forged = format!("203.0.113.{n}");
        assert_eq!(enroll_as(&open, &forged, "AAAA-BBBB-CCCC").await, 400);
    }
    assert_eq!(
        enroll_as(&open, "203.0.113.99", "AAAA-BBBB-CCCC").await,
        429
    );
}

/// Tokens that prove nothing cost a lookup each, until their address has failed too often:
/// then it waits. A desk whose token was proven lately is still served, even from that
/// address (a clinic's Wi-Fi shared with a guessing patient), and another address is not
/// held up at all.
#[tokio::test]
async fn bogus_tokens_are_limited_per_address_and_a_proven_desk_is_served_all_the_same() {
    let h = Harness::start_with(tsunagi_relay::http::Options {
        failures_per_minute: std::num::NonZeroU32::new(3).unwrap(),
        ..tsunagi_relay::http::Options::default()
    })
    .await;
    let call = |token: String| {
        let request = from(7).get(format!("{}{LOG}", h.base)).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    assert_eq!(call(h.owner.clone()).await.status().as_u16(), 200);
    for n in 0..4 {
        let token = format!("tsd_{:032x}_{n}", n + 1);
        assert_eq!(call(token).await.status().as_u16(), 401);
    }
    let waited = call(format!("tsd_{:032x}_9", 99)).await;
    assert_eq!(waited.status().as_u16(), 429);
    assert!(waited.headers().contains_key("retry-after"));
    assert_eq!(call(h.owner.clone()).await.status().as_u16(), 200);
    let staff = crate::enroll(&h.http, &h.base, &h.relay, CHANNEL, Role::Staff).await;
    let elsewhere = from(8)
        .get(format!("{}{LOG}", h.base))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status().as_u16(), 200);
}

/// Every LINE channel's webhooks come from LINE's servers: a webhook for a channel this
/// relay does not have, or signed wrongly, must never count against the address, or anyone
/// could point a channel of their own at the relay and silence every clinic's.
#[tokio::test]
async fn webhooks_for_no_channel_or_badly_signed_never_hold_up_lines_real_ones() {
    let h = Harness::start_with(tsunagi_relay::http::Options {
        failures_per_minute: std::num::NonZeroU32::new(2).unwrap(),
        ..tsunagi_relay::http::Options::default()
    })
    .await;
    let webhook = |channel: &str| {
        let request = h
            .http
            .post(format!("{}/webhook/line/{channel}", h.base))
            .header("x-line-signature", "AAAA")
            .body(callback(&["01X"]));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for n in 0..10 {
        assert_eq!(webhook(&format!("99999999{n}")).await, 404);
        assert_eq!(webhook(CHANNEL).await, 401);
    }
    assert_eq!(h.post_signed(&callback(&["01OK"])).await, 200);
}
