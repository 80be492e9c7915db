use std::sync::Arc;

use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_linesim::{Config, Simulator, UserAction};
use tsunagi_proto::{EntryBody, Seq};
use tsunagi_relay::Relay;

use crate::{CHANNEL, Harness, SECRET, callback};

fn event_text(body: &EntryBody) -> &str {
    match body {
        EntryBody::Line { event, .. } => event.get(),
        EntryBody::Op { .. } => panic!("expected a LINE event"),
    }
}

#[tokio::test]
async fn a_signed_webhook_is_logged_event_by_event_with_its_bytes_exactly() {
    let h = Harness::start().await;
    // An unknown event type with odd spacing and escapes: kept byte for byte.
    let odd = r#"{"type":"reaction",  "reaction":{"emoji":"\ud83d\udc4d"},"webhookEventId":"01ODD","timestamp":1,"mode":"active","n":2.50}"#;
    let body = callback(&["01A", "01B"]).replace("]}", &format!(",{odd}]}}"));
    assert_eq!(h.post_signed(&body).await, 200);

    let page = h.log("after=0").await;
    assert_eq!(page.head, Seq(3));
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert!(body.contains(event_text(&page.entries[0].body)));
    assert_eq!(event_text(&page.entries[2].body), odd);
    let EntryBody::Line { destination, .. } = &page.entries[0].body else {
        panic!()
    };
    assert_eq!(destination.as_str(), "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f");
    assert!(
        page.entries[0].at.0 > 1_767_225_600_000,
        "the relay's receive time"
    );
}

#[tokio::test]
async fn a_duplicate_webhook_event_is_stored_once() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed(&callback(&["01A", "01B"])).await, 200);
    // LINE redelivers one of them, now beside a new one.
    let redelivered =
        callback(&["01B", "01C"]).replace(r#""isRedelivery":false"#, r#""isRedelivery":true"#);
    assert_eq!(h.post_signed(&redelivered).await, 200);
    let page = h.log("").await;
    let ids: Vec<&str> = page
        .entries
        .iter()
        .map(|e| {
            let text = event_text(&e.body);
            let start = text.find("webhookEventId").unwrap() + 17;
            &text[start..start + 3]
        })
        .collect();
    assert_eq!(ids, ["01A", "01B", "01C"]);
}

#[tokio::test]
async fn twenty_concurrent_deliveries_of_one_event_are_stored_once() {
    let h = Arc::new(Harness::start().await);
    let body = callback(&["01SAME"]);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (h, body) = (h.clone(), body.clone());
            tokio::spawn(async move { h.post_signed(&body).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let page = h.log("").await;
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.head, Seq(1));
}

#[tokio::test]
async fn fifty_concurrent_webhooks_get_gap_free_seqs_in_commit_order() {
    let h = Arc::new(Harness::start().await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move {
                let ids = [format!("01P{i:03}a"), format!("01P{i:03}b")];
                let body = callback(&[&ids[0], &ids[1]]);
                h.post_signed(&body).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let page = h.log("limit=1000").await;
    let seqs: Vec<u64> = page.entries.iter().map(|e| e.seq.0).collect();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());
    // Events of one webhook stay together and in their order.
    for pair in page.entries.chunks(2) {
        let (a, b) = (event_text(&pair[0].body), event_text(&pair[1].body));
        assert_eq!(a.replace("a\"", "b\""), b.replace("a\"", "b\""));
    }
}

#[tokio::test]
async fn a_bad_missing_or_altered_signature_is_refused_and_nothing_is_stored() {
    let h = Harness::start().await;
    let body = callback(&["01A"]);
    let good = sign(SECRET.as_bytes(), body.as_bytes());
    assert_eq!(h.post(body.clone(), None).await, 401);
    assert_eq!(h.post(body.clone(), Some("bm90IGl0")).await, 401);
    assert_eq!(
        h.post(
            body.clone(),
            Some(&sign(b"another secret", body.as_bytes()))
        )
        .await,
        401
    );
    let mut altered = body.clone().into_bytes();
    let at = altered.iter().position(|b| *b == b'1').unwrap();
    altered[at] = b'2';
    assert_eq!(h.post(altered, Some(&good)).await, 401);
    assert_eq!(h.log("").await.head, Seq(0));
}

#[tokio::test]
async fn an_oversized_body_gets_413_and_nothing_is_stored() {
    let h = Harness::start().await;
    let big = callback(&["01A"]).replace("สวัสดี", &"x".repeat(1024 * 1024));
    let status = h.post_signed(&big).await;
    assert_eq!(status, 413);
    assert_eq!(h.log("").await.head, Seq(0));
}

#[tokio::test]
async fn an_empty_event_list_is_lines_verify_and_gets_200() {
    let h = Harness::start().await;
    let body = r#"{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[]}"#;
    assert_eq!(h.post_signed(body).await, 200);
    assert_eq!(h.log("").await.head, Seq(0));
}

#[tokio::test]
async fn a_signed_body_that_is_not_a_callback_gets_400() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed("not json").await, 400);
    assert_eq!(h.post_signed(r#"{"events":[]}"#).await, 400);
}

#[tokio::test]
async fn an_unknown_channel_gets_404() {
    let h = Harness::start().await;
    let body = callback(&["01A"]);
    let status = h
        .http
        .post(format!("{}/webhook/line/999", h.base))
        .header("x-line-signature", sign(SECRET.as_bytes(), body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);
}

#[tokio::test]
async fn the_log_and_the_sealed_secret_survive_a_restart() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed(&callback(&["01A", "01B"])).await, 200);
    let reopened = Relay::new(h.reopen().await, h.key.clone());
    let channel = ChannelId::from(CHANNEL);
    let secret = reopened.secret(&channel).await.unwrap().unwrap();
    assert_eq!(secret.expose(), SECRET);
    use tsunagi_relay::store::LogStore as _;
    assert_eq!(reopened.store.head(&channel).await.unwrap(), Seq(2));
    let entries = reopened.store.read(&channel, Seq(0), 10).await.unwrap();
    assert_eq!(entries.len(), 2);

    let wrong_key = Relay::new(
        h.reopen().await,
        tsunagi_relay::secret::RelayKey::generate(),
    );
    assert!(wrong_key.secret(&channel).await.is_err());
}

#[tokio::test]
async fn webhooks_from_linesim_land_in_the_log_as_linesim_sent_them() {
    let h = Harness::start().await;
    let mut config = Config::new(CHANNEL, SECRET, "token");
    config.webhook_url = Some(h.webhook_url());
    let sim = Simulator::new(config);
    let patient = sim.users()[0].user_id.clone();
    for action in [
        UserAction::Text {
            text: "明日の予約を取りたいです".into(),
        },
        UserAction::Image,
        UserAction::Text {
            text: "スタッフと話したい".into(),
        },
    ] {
        let report = sim.say(&patient, action).await.unwrap();
        assert_eq!(report.attempt.status, Some(200));
    }
    let page = h.log("").await;
    assert_eq!(page.entries.len(), 3);
    let ids: Vec<String> = sim
        .webhook_attempts()
        .into_iter()
        .flat_map(|a| a.webhook_event_ids)
        .collect();
    for (entry, id) in page.entries.iter().zip(&ids) {
        assert!(event_text(&entry.body).contains(id.as_str()));
    }
}
