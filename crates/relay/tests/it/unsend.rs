use pretty_assertions::assert_eq;
use tsunagi_proto::{Entry, EntryBody, Seq};

use crate::Harness;

const USER: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

fn message(event_id: &str, message_id: &str, text: &str) -> String {
    format!(
        r#"{{"type":"message","message":{{"type":"text","id":"{message_id}","quoteToken":"q","text":"{text}"}},"webhookEventId":"{event_id}","deliveryContext":{{"isRedelivery":false}},"timestamp":1767225600000,"source":{{"type":"user","userId":"{USER}"}},"replyToken":"r","mode":"active"}}"#
    )
}

fn edited(event_id: &str, message_id: &str, text: &str) -> String {
    message(event_id, message_id, text).replacen(
        r#""type":"message""#,
        r#""type":"messageEdited""#,
        1,
    )
}

fn unsend(event_id: &str, message_id: &str) -> String {
    format!(
        r#"{{"type":"unsend","unsend":{{"messageId":"{message_id}"}},"webhookEventId":"{event_id}","deliveryContext":{{"isRedelivery":false}},"timestamp":1767225660000,"source":{{"type":"user","userId":"{USER}"}},"mode":"active"}}"#
    )
}

fn body(events: &[String]) -> String {
    format!(
        r#"{{"destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","events":[{}]}}"#,
        events.join(",")
    )
}

fn event(entry: &Entry) -> serde_json::Value {
    let EntryBody::Line { event, .. } = &entry.body else {
        panic!("{entry:?}")
    };
    serde_json::from_str(event.get()).unwrap()
}

#[tokio::test]
async fn an_unsent_message_keeps_its_seq_but_loses_its_content() {
    let h = Harness::start().await;
    let keep = message("01E1", "M1", "see you at ten");
    let secret = message("01E2", "M2", "my test results are positive");
    assert_eq!(h.post_signed(&body(&[keep.clone(), secret])).await, 200);
    assert_eq!(h.post_signed(&body(&[unsend("01E3", "M2")])).await, 200);

    let page = h.log("").await;
    assert_eq!(page.head, Seq(3));
    let EntryBody::Line { event: kept, .. } = &page.entries[0].body else {
        panic!()
    };
    assert_eq!(kept.get(), keep, "other messages are untouched");
    let tomb = event(&page.entries[1]);
    assert_eq!(page.entries[1].seq, Seq(2));
    assert_eq!(
        tomb["message"],
        serde_json::json!({"id": "M2", "type": "unsent"})
    );
    assert_eq!(tomb["webhookEventId"], "01E2");
    assert_eq!(tomb["source"]["userId"], USER);
    assert!(
        !page
            .entries
            .iter()
            .any(|e| format!("{e:?}").contains("positive"))
    );
    assert_eq!(event(&page.entries[2])["type"], "unsend");
}

#[tokio::test]
async fn a_message_arriving_after_its_unsend_is_stored_as_a_tombstone() {
    let h = Harness::start().await;
    assert_eq!(h.post_signed(&body(&[unsend("01E3", "M9")])).await, 200);
    assert_eq!(
        h.post_signed(&body(&[message("01E2", "M9", "oops, wrong chat")]))
            .await,
        200
    );
    let page = h.log("").await;
    assert_eq!(event(&page.entries[1])["message"]["type"], "unsent");
    assert!(!format!("{:?}", page.entries).contains("wrong chat"));
}

#[tokio::test]
async fn a_message_and_its_unsend_in_one_webhook_and_its_edits_are_all_redacted() {
    let h = Harness::start().await;
    let events = [
        message("01E1", "M5", "first draft"),
        edited("01E2", "M5", "second draft"),
        unsend("01E3", "M5"),
    ];
    assert_eq!(h.post_signed(&body(&events)).await, 200);
    let page = h.log("").await;
    assert_eq!(page.entries.len(), 3);
    assert_eq!(event(&page.entries[0])["message"]["type"], "unsent");
    assert_eq!(event(&page.entries[1])["message"]["type"], "unsent");
    assert_eq!(event(&page.entries[1])["type"], "messageEdited");
    assert!(!format!("{:?}", page.entries).contains("draft"));
}

#[tokio::test]
async fn a_redelivered_unsent_message_stays_redacted_and_is_not_logged_twice() {
    let h = Harness::start().await;
    assert_eq!(
        h.post_signed(&body(&[message("01E1", "M7", "call me")]))
            .await,
        200
    );
    assert_eq!(h.post_signed(&body(&[unsend("01E2", "M7")])).await, 200);
    assert_eq!(
        h.post_signed(&body(&[message("01E1", "M7", "call me")]))
            .await,
        200
    );
    let page = h.log("").await;
    assert_eq!(page.head, Seq(2));
    assert!(!format!("{:?}", page.entries).contains("call me"));
}

#[tokio::test]
async fn a_relay_restarted_between_an_unsend_and_its_late_message_still_redacts_it() {
    use tsunagi_line::ChannelId;
    use tsunagi_line::signature::sign;
    use tsunagi_relay::store::LogStore as _;

    let h = Harness::start().await;
    assert_eq!(h.post_signed(&body(&[unsend("01E3", "M9")])).await, 200);

    let reopened = std::sync::Arc::new(tsunagi_relay::Relay::new(h.reopen().await, h.key.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(tsunagi_relay::http::serve(
        listener,
        reopened.clone(),
        tsunagi_relay::http::Options::default(),
        std::future::pending(),
    ));
    let late = body(&[message("01E2", "M9", "oops, wrong chat")]);
    let status = h
        .http
        .post(format!("http://{address}/webhook/line/{}", crate::CHANNEL))
        .header(
            "x-line-signature",
            sign(crate::SECRET.as_bytes(), late.as_bytes()),
        )
        .body(late)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);

    let entries = reopened
        .store
        .read(&ChannelId::from(crate::CHANNEL), Seq(0), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(event(&entries[1])["message"]["type"], "unsent");
}
