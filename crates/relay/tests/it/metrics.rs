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
