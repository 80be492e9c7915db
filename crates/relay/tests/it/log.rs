use std::sync::Arc;

use pretty_assertions::assert_eq;
use tsunagi_proto::Seq;

use crate::{CHANNEL, Harness, callback};

#[tokio::test]
async fn reading_pages_through_the_log_after_a_cursor() {
    let h = Harness::start().await;
    let ids: Vec<String> = (0..7).map(|i| format!("01R{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(h.post_signed(&callback(&ids)).await, 200);
    let first = h.log("after=0&limit=3").await;
    assert_eq!(
        first.entries.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(first.head, Seq(7));
    let rest = h.log("after=3&limit=10").await;
    assert_eq!(
        rest.entries.iter().map(|e| e.seq.0).collect::<Vec<_>>(),
        [4, 5, 6, 7]
    );
    assert!(h.log("after=7").await.entries.is_empty());
}

#[tokio::test]
async fn a_long_poll_returns_the_entry_that_arrives_while_it_waits() {
    let h = Arc::new(Harness::start().await);
    let reader = {
        let h = h.clone();
        tokio::spawn(async move { h.log("after=0&wait=20").await })
    };
    h.until_long_polls_wait(&h.base, 1.0).await;
    assert_eq!(h.post_signed(&callback(&["01LATE"])).await, 200);
    let page = reader.await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.head, Seq(1));
    assert_eq!(h.metric("tsunagi_relay_long_polls_waiting").await, 0.0);
}

#[tokio::test]
async fn a_long_poll_with_nothing_new_returns_empty_after_its_wait() {
    let h = Harness::start().await;
    let page = h.log("after=0&wait=1").await;
    assert!(page.entries.is_empty());
    assert_eq!(page.head, Seq(0));
}

#[tokio::test]
async fn out_of_range_limits_and_waits_are_refused_with_a_reason() {
    let h = Harness::start().await;
    for query in ["limit=0", "limit=1001", "wait=26"] {
        let response = h
            .http
            .get(format!("{}/v1/channels/{CHANNEL}/log?{query}", h.base))
            .bearer_auth(&h.owner)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{query}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "bad_request");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn reading_another_channel_is_forbidden() {
    let h = Harness::start().await;
    let response = h
        .http
        .get(format!("{}/v1/channels/404/log", h.base))
        .bearer_auth(&h.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        403,
        "a device sees its own channel only"
    );
}
