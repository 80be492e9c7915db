use std::time::Duration;

use crate::{CHANNEL, Harness, callback};

#[tokio::test]
async fn metrics_count_new_events_heads_commit_groups_and_open_streams() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed(&callback(&["01M1", "01M2"])).await, 200);
    assert_eq!(h.post_signed(&callback(&["01M2", "01M3"])).await, 200);
    assert_eq!(
        h.metric("tsunagi_relay_ingested_events_total").await,
        3.0,
        "duplicates are not counted"
    );
    assert_eq!(
        h.metric(&format!(
            "tsunagi_relay_channel_head{{channel=\"{CHANNEL}\"}}"
        ))
        .await,
        3.0
    );
    assert!(h.metric("tsunagi_relay_commit_group_requests_count").await >= 2.0);
    assert_eq!(h.metric("tsunagi_relay_ingest_seconds_count").await, 2.0);
    assert_eq!(h.metric("tsunagi_relay_streams_connected").await, 0.0);

    let stream = h
        .http
        .get(format!("{}/v1/channels/{CHANNEL}/log", h.base))
        .bearer_auth(&h.owner)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(h.metric("tsunagi_relay_streams_connected").await, 1.0);
    drop(stream);
    let mut closed = false;
    for _ in 0..100 {
        // The server notices the closed connection when it next writes (a heartbeat or an
        // entry); an entry makes that happen now.
        h.post_signed(&callback(&[&format!("01X{}", uuid_suffix())]))
            .await;
        if h.metric("tsunagi_relay_streams_connected").await == 0.0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "a closed stream still counted as connected");
}

fn uuid_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

#[tokio::test]
async fn metrics_can_ask_for_a_token_or_live_on_an_address_of_their_own() {
    use tsunagi_relay::http::{MetricsAccess, Options};
    let guarded = Harness::start_with(Options {
        metrics: MetricsAccess::Token("scrape-9f2c".into()),
        ..Options::default()
    })
    .await;
    let get = |h: &Harness, token: Option<&str>| {
        let mut request = h.http.get(format!("{}/metrics", h.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(get(&guarded, None).await, 401);
    assert_eq!(get(&guarded, Some("guess")).await, 401);
    assert_eq!(get(&guarded, Some("scrape-9f2c")).await, 200);

    let apart = Harness::start_with(Options {
        metrics: MetricsAccess::Elsewhere,
        ..Options::default()
    })
    .await;
    assert_eq!(get(&apart, None).await, 404, "not on the main address");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let private = format!("http://{}/metrics", listener.local_addr().unwrap());
    let router = tsunagi_relay::http::metrics_router(apart.relay.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let text = apart
        .http
        .get(private)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("tsunagi_relay_"), "{text}");
}
