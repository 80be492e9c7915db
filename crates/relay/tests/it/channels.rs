//! Channels over the API: an owner of the whole relay enrolls with the setup code before
//! any channel exists, then connects channels to LINE (linesim) and manages their secrets.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tsunagi_line::signature::sign;
use tsunagi_linesim::{Config, Simulator, UserAction};
use tsunagi_proto::api::{ChannelConnected, ChannelInfo, LogPage};

use tsunagi_relay::store::LogStore as _;

use crate::{CHANNEL, Harness, SECRET, callback, redeem};

const NEW_CHANNEL: &str = "3000000003";
const NEW_SECRET: &str = "b7d2f0c4a1e94f3d8c6b5a4e3d2c1b0a";

/// linesim for one channel, and a relay that reaches it.
async fn relay_and_line(channel: &str, secret: &str) -> (Harness, Simulator) {
    let sim = Simulator::new(Config::new(channel, secret, "long-lived"));
    let address = sim
        .clone()
        .serve("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let h = Harness::start_with_line(format!("http://{address}")).await;
    (h, sim)
}

impl Harness {
    /// Enrolls an owner of the whole relay with a setup code; returns its token.
    async fn relay_owner(&self) -> String {
        let code = self.relay.setup_code().await.unwrap().code;
        let enrolled = redeem(&self.http, &self.base, &code).await;
        assert_eq!(
            enrolled.channel_id, None,
            "a setup code belongs to no channel"
        );
        enrolled.token
    }

    async fn add_channel(&self, token: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/channels", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn channels(&self, token: &str) -> Vec<String> {
        let channels: Vec<ChannelInfo> = self.get_json("/v1/channels", token).await;
        channels
            .into_iter()
            .map(|c| c.channel_id.into_string())
            .collect()
    }
}

#[tokio::test]
async fn a_relay_owner_connects_a_channel_and_its_patients_land_in_the_log() {
    let (h, sim) = relay_and_line(NEW_CHANNEL, NEW_SECRET).await;
    let owner = h.relay_owner().await;
    assert_eq!(h.channels(&owner).await, [CHANNEL]);

    let (status, body) = h
        .add_channel(
            &owner,
            &json!({"channel_id": NEW_CHANNEL, "channel_secret": NEW_SECRET}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let connected: ChannelConnected = serde_json::from_value(body).unwrap();
    let steps: Vec<(&str, bool)> = connected
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.ok))
        .collect();
    assert_eq!(
        steps,
        [
            ("credentials", true),
            ("bot info", true),
            ("stored", true),
            ("webhook URL", true),
            ("webhook test", true),
        ]
    );
    assert_eq!(
        connected.steps[3].detail,
        format!("{}/webhook/line/{NEW_CHANNEL}", h.base)
    );
    assert_eq!(h.channels(&owner).await, [CHANNEL, NEW_CHANNEL]);

    let patient = sim.users()[0].user_id.clone();
    let said = UserAction::Text {
        text: "予約を変更したいです".into(),
    };
    let report = sim.say(&patient, said).await.unwrap();
    assert_eq!(report.attempt.status, Some(200));
    let page: LogPage = h
        .get_json(&format!("/v1/channels/{NEW_CHANNEL}/log"), &owner)
        .await;
    // The account's modes, logged at setup, then the patient's message.
    assert_eq!(page.entries.len(), 2);
    assert!(
        serde_json::to_string(&page.entries[1])
            .unwrap()
            .contains("予約を変更したいです")
    );

    // The owner of the first channel alone does not reach the new one.
    assert_eq!(
        h.get_status(&format!("/v1/channels/{NEW_CHANNEL}/log"), Some(&h.owner))
            .await,
        403
    );
    assert_eq!(h.channels(&h.owner).await, [CHANNEL]);
}

/// The month's quota is asked of LINE with a stateless token each time: a desk's previews,
/// however many, never use up the thirty short-lived tokens LINE keeps per channel (a 31st
/// would revoke the one the executor sends with).
#[tokio::test]
async fn the_months_quota_is_asked_without_spending_short_lived_tokens() {
    let (h, sim) = relay_and_line(NEW_CHANNEL, NEW_SECRET).await;
    let owner = h.relay_owner().await;
    let (status, body) = h
        .add_channel(
            &owner,
            &json!({"channel_id": NEW_CHANNEL, "channel_secret": NEW_SECRET}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let issued = sim.short_lived_tokens();
    for _ in 0..35 {
        let quota: serde_json::Value = h
            .get_json(&format!("/v1/channels/{NEW_CHANNEL}/quota"), &owner)
            .await;
        assert!(quota["used"].is_u64(), "{quota}");
    }
    assert_eq!(sim.short_lived_tokens(), issued);
}

#[tokio::test]
async fn credentials_line_refuses_store_nothing() {
    let (h, _sim) = relay_and_line(NEW_CHANNEL, NEW_SECRET).await;
    let owner = h.relay_owner().await;
    let (status, body) = h
        .add_channel(
            &owner,
            &json!({"channel_id": NEW_CHANNEL, "channel_secret": "0123456789abcdef0123456789abcdef"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "line_refused");
    assert!(
        !body["message"]
            .as_str()
            .unwrap()
            .contains("0123456789abcdef"),
        "the secret is not echoed: {body}"
    );
    assert_eq!(h.channels(&owner).await, [CHANNEL]);
}

#[tokio::test]
async fn only_owners_of_the_whole_relay_add_channels_and_bad_input_is_named() {
    let (h, _sim) = relay_and_line(NEW_CHANNEL, NEW_SECRET).await;
    let good = json!({"channel_id": NEW_CHANNEL, "channel_secret": NEW_SECRET});
    let staff = redeem(&h.http, &h.base, &h.staff_invite().await.code)
        .await
        .token;
    for token in [&h.owner, &staff] {
        let (status, body) = h.add_channel(token, &good).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    }
    let (status, _) = h
        .http
        .post(format!("{}/v1/channels", h.base))
        .json(&good)
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 401);

    let owner = h.relay_owner().await;
    for (body, names) in [
        (
            json!({"channel_id": "abc", "channel_secret": NEW_SECRET}),
            "channel_id",
        ),
        (
            json!({"channel_id": NEW_CHANNEL, "channel_secret": " "}),
            "channel_secret",
        ),
        (json!({"channel_id": NEW_CHANNEL}), "channel_secret"),
        (
            json!({"channel_id": NEW_CHANNEL, "channel_secret": NEW_SECRET, "x": 1}),
            "x",
        ),
    ] {
        let (status, answer) = h.add_channel(&owner, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["message"].as_str().unwrap().contains(names),
            "{body}: {answer}"
        );
    }
    let (status, body) = h
        .add_channel(
            &owner,
            &json!({"channel_id": CHANNEL, "channel_secret": SECRET}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    assert_eq!(h.channels(&owner).await, [CHANNEL]);
}

#[tokio::test]
async fn a_new_secret_replaces_the_old_one_only_once_line_accepts_it() {
    // LINE issued the test channel a new secret; the relay still has the old one.
    let (h, _sim) = relay_and_line(CHANNEL, NEW_SECRET).await;
    let replace = |secret: &str| {
        h.http
            .put(format!("{}/v1/channels/{CHANNEL}/secret", h.base))
            .bearer_auth(&h.owner)
            .json(&json!({ "channel_secret": secret }))
            .send()
    };
    let body = callback(&["01HOLD"]);
    let refused = replace("ffffffffffffffffffffffffffffffff").await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(
        h.post_signed(&body).await,
        200,
        "the old secret still holds"
    );

    let replaced = replace(NEW_SECRET).await.unwrap();
    assert_eq!(replaced.status().as_u16(), 200);
    let connected: ChannelConnected = replaced.json().await.unwrap();
    assert!(connected.steps.iter().all(|s| s.ok), "{connected:#?}");

    let body = callback(&["01HNEW"]);
    let old = sign(SECRET.as_bytes(), body.as_bytes());
    let new = sign(NEW_SECRET.as_bytes(), body.as_bytes());
    assert_eq!(h.post(body.clone(), Some(&old)).await, 401);
    assert_eq!(h.post(body, Some(&new)).await, 200);

    let staff = redeem(&h.http, &h.base, &h.staff_invite().await.code)
        .await
        .token;
    let forbidden = h
        .http
        .put(format!("{}/v1/channels/{CHANNEL}/secret", h.base))
        .bearer_auth(staff)
        .json(&json!({ "channel_secret": NEW_SECRET }))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
}

#[tokio::test]
async fn a_relay_owner_reaches_every_channel_and_only_relay_owners_revoke_relay_owners() {
    let (h, _sim) = relay_and_line(NEW_CHANNEL, NEW_SECRET).await;
    let owner = h.relay_owner().await;
    assert!(h.relay.store.has_relay_owner().await.unwrap());
    assert_eq!(
        h.get_status(&format!("/v1/channels/{CHANNEL}/log"), Some(&owner))
            .await,
        200
    );

    // The channel's owners see the relay owner among the devices that reach the channel,
    // but cannot revoke it.
    let devices: Vec<Value> = h
        .get_json(&format!("/v1/channels/{CHANNEL}/devices"), &h.owner)
        .await;
    let relay_owner = devices
        .iter()
        .find(|d| d["channel_id"].is_null())
        .expect("the relay owner is listed");
    let id = relay_owner["device_id"].as_str().unwrap();
    let revoke = |token: &str| {
        h.http
            .post(format!("{}/v1/devices/{id}/revoke", h.base))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(revoke(&h.owner).await.unwrap().status().as_u16(), 403);
    assert_eq!(revoke(&owner).await.unwrap().status().as_u16(), 204);
    assert_eq!(
        h.get_status(&format!("/v1/channels/{CHANNEL}/log"), Some(&owner))
            .await,
        401
    );
    assert!(!h.relay.store.has_relay_owner().await.unwrap());
}
