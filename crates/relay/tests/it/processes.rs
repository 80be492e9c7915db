//! Several relay processes on one PostgreSQL database, in this test process: what one
//! commits or changes, every other serves at once.

use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_line::signature::sign;
use tsunagi_proto::Seq;
use tsunagi_relay::secret::ChannelSecret;
use tsunagi_relay::testing::{Backend, TestRelay};

use crate::{CHANNEL, Harness, SECRET, callback, read_page};

async fn on_postgres() -> Harness {
    Harness::start_from(TestRelay::builder().backend(Backend::Postgres)).await
}

async fn post(http: &reqwest::Client, base: &str, body: &str, secret: &str) -> u16 {
    http.post(format!("{base}/webhook/line/{CHANNEL}"))
        .header("x-line-signature", sign(secret.as_bytes(), body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_secret_replaced_through_one_process_is_the_only_one_every_process_accepts_at_once() {
    let h = on_postgres().await;
    let (other, _) = h.test.serve_another_process().await;
    // The other process has verified with the old secret, and would have kept it.
    assert_eq!(
        post(&h.http, &other, &callback(&["01A"]), SECRET).await,
        200
    );

    let renewed = "0123456789abcdef0123456789abcdef";
    h.relay
        .replace_secret(&ChannelId::from(CHANNEL), ChannelSecret::new(renewed))
        .await
        .unwrap();
    assert_eq!(
        post(&h.http, &other, &callback(&["01B"]), SECRET).await,
        401
    );
    assert_eq!(
        post(&h.http, &other, &callback(&["01C"]), renewed).await,
        200
    );
    assert_eq!(
        post(&h.http, &h.base, &callback(&["01D"]), SECRET).await,
        401
    );
    assert_eq!(h.log("after=0").await.head, Seq(2));
}

#[tokio::test]
async fn a_webhook_taken_by_one_process_ends_a_long_poll_waiting_on_another() {
    let h = on_postgres().await;
    let (other, _) = h.test.serve_another_process().await;
    let reader = {
        let (http, owner, other) = (h.http.clone(), h.owner.clone(), other.clone());
        tokio::spawn(async move { read_page(&http, &other, &owner, "after=0&wait=20").await })
    };
    h.until_long_polls_wait(&other, 1.0).await;
    let posted = std::time::Instant::now();
    assert_eq!(h.post_signed(&callback(&["01LATE"])).await, 200);
    let page = reader.await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.head, Seq(1));
    assert!(
        posted.elapsed() < Duration::from_secs(5),
        "the other process did not hear of the commit"
    );
}

#[tokio::test]
async fn a_message_arriving_at_one_process_after_its_unsend_reached_another_is_redacted() {
    let h = on_postgres().await;
    let (other, _) = h.test.serve_another_process().await;
    let unsend = r#"{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[{"type":"unsend","mode":"active","timestamp":1767225600001,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},"webhookEventId":"01U","deliveryContext":{"isRedelivery":false},"unsend":{"messageId":"m01M"}}]}"#;
    assert_eq!(post(&h.http, &h.base, unsend, SECRET).await, 200);
    assert_eq!(
        post(&h.http, &other, &callback(&["01M"]), SECRET).await,
        200
    );
    let page = h.log("after=0").await;
    let text = format!("{:?}", page.entries);
    assert_eq!(page.entries.len(), 2);
    assert!(
        !text.contains("สวัสดี"),
        "the unsent message kept its text: {text}"
    );
}
