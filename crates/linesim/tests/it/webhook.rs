use std::time::Duration;

use axum::http::StatusCode;
use pretty_assertions::assert_eq;
use tsunagi_line::ReplyToken;
use tsunagi_line::message::Message;
use tsunagi_line::signature::{SIGNATURE_HEADER, verify};
use tsunagi_line::webhook::{EventKind, MessageContent, Source};
use tsunagi_linesim::{Faults, UserAction, Via};

use crate::{Harness, SECRET};

fn text(text: &str) -> UserAction {
    UserAction::Text { text: text.into() }
}

#[tokio::test]
async fn a_user_message_arrives_as_a_signed_webhook_lines_parser_accepts() {
    let h = Harness::start().await;
    let patient = h.friend(0);
    let report = h
        .sim
        .say(&patient, text("สวัสดีค่ะ 予約したい"))
        .await
        .unwrap();
    assert!(report.attempt.succeeded(), "{:?}", report.attempt);

    let received = h.receiver.wait_for(1).await;
    let post = &received[0];
    let signature = post
        .headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    assert_eq!(verify(SECRET.as_bytes(), &post.body, signature), Ok(()));
    let callback = post.callback();
    assert_eq!(callback.destination, h.sim.config().bot_user_id);
    let event = &callback.events[0];
    assert_eq!(
        event.webhook_event_id.as_str(),
        report.events[0].webhook_event_id
    );
    assert_eq!(event.webhook_event_id.as_str().len(), 26, "a ULID");
    assert_eq!(event.timestamp, crate::T0);
    assert_eq!(
        event.source,
        Some(Source::User {
            user_id: Some(patient)
        })
    );
    assert!(!event.is_redelivery);
    let EventKind::Message(message) = &event.kind else {
        panic!("{:?}", event.kind)
    };
    assert!(
        matches!(&message.content, MessageContent::Text { text, .. } if text == "สวัสดีค่ะ 予約したい")
    );
    assert!(message.quote_token.is_some() && message.mark_as_read_token.is_some());
    assert_eq!(
        event.reply_token.as_ref().map(ReplyToken::as_str),
        report.events[0].reply_token.as_deref()
    );
}

#[tokio::test]
async fn every_kind_of_user_action_becomes_the_matching_event() {
    let h = Harness::start().await;
    let user = h.friend(1);
    let actions = vec![
        UserAction::Sticker {
            package_id: "446".into(),
            sticker_id: "1988".into(),
        },
        UserAction::Image,
        UserAction::Location {
            title: Some("台北車站".into()),
            address: None,
            latitude: 25.04,
            longitude: 121.51,
        },
        UserAction::File {
            file_name: "ใบรับรองแพทย์.pdf".into(),
            file_size: 2138,
            served_size: None,
        },
        UserAction::Postback {
            data: "slot=10:00".into(),
            params: None,
        },
        UserAction::Unfollow,
        UserAction::Follow,
    ];
    for action in actions {
        h.sim.say(&user, action).await.unwrap();
    }
    let received = h.receiver.wait_for(7).await;
    let events: Vec<_> = received.iter().flat_map(|r| r.callback().events).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message", "message", "message", "message", "postback", "unfollow", "follow"
        ]
    );
    assert!(
        matches!(&events[0].kind, EventKind::Message(m) if matches!(m.content, MessageContent::Sticker { .. }))
    );
    assert!(matches!(&events[1].kind, EventKind::Message(m) if m.content.has_line_content()));
    assert!(
        events[5].reply_token.is_none(),
        "unfollow has no reply token"
    );
    assert_eq!(events[6].kind, EventKind::Follow { is_unblocked: true });
}

#[tokio::test]
async fn a_group_message_names_the_group_and_the_member() {
    let h = Harness::start().await;
    let group = h.sim.groups().remove(0);
    let member = group.members[0].clone();
    h.sim
        .say_in_group(&group.group_id, &member, text("@All ตารางหมอ"))
        .await
        .unwrap();
    let event = &h.receiver.wait_for(1).await[0].callback().events[0];
    assert_eq!(
        event.source,
        Some(Source::Group {
            group_id: group.group_id.clone(),
            user_id: Some(member)
        })
    );
    // The reply goes to the group.
    let token = event.reply_token.clone().unwrap();
    h.client
        .reply(&token, &[Message::text("10:00–17:00")], false)
        .await
        .unwrap();
    assert_eq!(h.sim.inbox(group.group_id.as_str())[0].via, Via::Reply);
}

#[tokio::test]
async fn a_failed_webhook_is_redelivered_with_the_same_id_and_reply_token() {
    let h = Harness::start_with(|c| c.redelivery = true).await;
    h.receiver.answer_next(&[
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
    ]);
    let report = h.sim.say(&h.friend(0), text("hello?")).await.unwrap();
    assert_eq!(report.attempt.status, Some(500));

    let received = h.receiver.wait_for(3).await;
    let events: Vec<_> = received
        .iter()
        .map(|r| r.callback().events.remove(0))
        .collect();
    assert!(!events[0].is_redelivery);
    assert!(events[1].is_redelivery && events[2].is_redelivery);
    for event in &events[1..] {
        assert_eq!(event.webhook_event_id, events[0].webhook_event_id);
        assert_eq!(event.reply_token, events[0].reply_token);
        assert_eq!(event.timestamp, events[0].timestamp);
    }
    h.sim.redeliveries_done().await;
    assert_eq!(h.receiver.received().len(), 3, "no more once one got a 2xx");
}

#[tokio::test]
async fn without_redelivery_a_failed_webhook_is_not_sent_again() {
    let h = Harness::start().await;
    h.receiver.answer_next(&[StatusCode::INTERNAL_SERVER_ERROR]);
    h.sim.say(&h.friend(0), text("hello?")).await.unwrap();
    h.sim.redeliveries_done().await;
    assert_eq!(h.receiver.received().len(), 1);
}

#[tokio::test]
async fn a_slow_endpoint_times_out_after_two_seconds() {
    let h = Harness::start().await;
    h.receiver.delay(Duration::from_millis(2_300));
    let report = h
        .sim
        .say(&h.friend(0), text("are you there?"))
        .await
        .unwrap();
    assert_eq!(report.attempt.status, None);
    assert_eq!(report.attempt.error.as_deref(), Some("REQUEST_TIMEOUT"));
}

#[tokio::test]
async fn a_redelivered_events_reply_token_outlives_the_minute_until_twenty_minutes() {
    let h = Harness::start_with(|c| c.redelivery = true).await;
    h.receiver.answer_next(&[StatusCode::INTERNAL_SERVER_ERROR]);
    let report = h.sim.say(&h.friend(0), text("hello?")).await.unwrap();
    h.receiver.wait_for(2).await;
    let token = ReplyToken::new(report.events[0].reply_token.clone().unwrap());

    h.clock.advance(Duration::from_secs(5 * 60));
    h.client
        .reply(&token, &[Message::text("Sorry for the wait")], false)
        .await
        .unwrap();

    // A second redelivered event, used too late.
    h.receiver.answer_next(&[StatusCode::INTERNAL_SERVER_ERROR]);
    let report = h.sim.say(&h.friend(0), text("hello again")).await.unwrap();
    h.receiver.wait_for(4).await;
    let token = ReplyToken::new(report.events[0].reply_token.clone().unwrap());
    h.clock.advance(Duration::from_secs(20 * 60 + 1));
    let error = h
        .client
        .reply(&token, &[Message::text("late")], false)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
}

#[tokio::test]
async fn several_waiting_events_are_batched_into_one_post() {
    let h = Harness::start().await;
    h.receiver.delay(Duration::from_millis(300));
    let user = h.friend(0);
    let first = tokio::spawn({
        let (sim, user) = (h.sim.clone(), user.clone());
        async move { sim.say(&user, text("first")).await }
    });
    // While the first POST is held up at the receiver, three more events queue.
    h.receiver.wait_for(1).await;
    let (a, b, c) = tokio::join!(
        h.sim.say(&user, text("then 1")),
        h.sim.say(&user, text("then 2")),
        h.sim.say(&user, text("then 3")),
    );
    for report in [first.await.unwrap(), a, b, c] {
        assert!(report.unwrap().attempt.succeeded());
    }
    let received = h.receiver.received();
    assert_eq!(
        received.len(),
        2,
        "the first alone, then the three that waited"
    );
    assert_eq!(received[1].callback().events.len(), 3);
}

#[tokio::test]
async fn duplicate_delivery_posts_the_same_events_twice_on_request() {
    let h = Harness::start().await;
    h.sim.set_faults(Faults {
        duplicate: true,
        reorder: false,
    });
    h.sim.say(&h.friend(0), text("once")).await.unwrap();
    let received = h.receiver.wait_for(2).await;
    let ids: Vec<_> = received
        .iter()
        .map(|r| r.callback().events[0].webhook_event_id.clone())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert!(
        !received[1].callback().events[0].is_redelivery,
        "a duplicate is not a redelivery"
    );
}

#[tokio::test]
async fn out_of_order_delivery_lets_a_later_event_overtake() {
    let h = Harness::start().await;
    h.sim.set_faults(Faults {
        duplicate: false,
        reorder: true,
    });
    let user = h.friend(0);
    // Whether the two land in one POST or two, the later one must arrive first.
    let (early, late) = tokio::join!(
        h.sim.say(&user, text("early")),
        h.sim.say(&user, text("late")),
    );
    early.unwrap();
    late.unwrap();
    let received = h.receiver.received();
    let texts: Vec<String> = received
        .iter()
        .flat_map(|r| r.callback().events)
        .map(|e| match e.kind {
            EventKind::Message(m) => match m.content {
                MessageContent::Text { text, .. } => text,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts, ["late", "early"]);
}

#[tokio::test]
async fn a_blocked_user_cannot_write_but_can_follow_again() {
    let h = Harness::start().await;
    let blocked = h.blocked_user();
    assert!(h.sim.say(&blocked, text("hi")).await.is_err());
    h.sim.say(&blocked, UserAction::Follow).await.unwrap();
    h.sim.say(&blocked, text("hi")).await.unwrap();
}

#[tokio::test]
async fn the_inspection_api_makes_users_act_and_shows_deliveries() {
    let h = Harness::start().await;
    let user = h.friend(0);
    let http = reqwest::Client::new();
    let report: serde_json::Value = http
        .post(format!("{}/_sim/users/{user}/say", h.base))
        .json(&serde_json::json!({"type": "text", "text": "talk to a human"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = report["events"][0]["replyToken"]
        .as_str()
        .unwrap()
        .to_owned();
    h.client
        .reply(
            &ReplyToken::new(token),
            &[Message::text("A nurse will answer shortly")],
            false,
        )
        .await
        .unwrap();
    let inbox: serde_json::Value = http
        .get(format!("{}/_sim/inbox/{user}", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inbox[0]["via"], "reply");
    assert_eq!(inbox[0]["message"]["text"], "A nurse will answer shortly");
    let unknown = http
        .post(format!("{}/_sim/users/Unobody/say", h.base))
        .json(&serde_json::json!({"type": "follow"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

#[tokio::test]
async fn a_standby_channel_gets_events_without_reply_tokens() {
    let h = Harness::start_with(|c| c.standby = true).await;
    let report = h.sim.say(&h.friend(0), text("hello")).await.unwrap();
    assert_eq!(report.events[0].reply_token, None);
    let event = &h.receiver.wait_for(1).await[0].callback().events[0];
    assert_eq!(event.mode, tsunagi_line::webhook::Mode::Standby);
    assert!(event.reply_token.is_none());
    assert!(!event.is_replyable());
}

/// Anyone may find the account: a stranger who follows is a friend with a profile; one who
/// writes first is a chatter, whom the account can answer but whose profile LINE keeps.
#[tokio::test]
async fn a_stranger_who_follows_is_a_friend_and_one_who_writes_first_is_a_chatter() {
    let h = Harness::start().await;
    let follower = tsunagi_line::UserId::from("U0123456789abcdef0123456789abcd01");
    let chatter = tsunagi_line::UserId::from("U0123456789abcdef0123456789abcd02");

    let followed = h.sim.say(&follower, UserAction::Follow).await.unwrap();
    assert_eq!(followed.attempt.status, Some(200));
    let profile = h
        .client
        .profile(&follower)
        .await
        .expect("a friend's profile");
    let languages = ["en", "ja", "th", "zh-TW"];
    assert!(languages.contains(&profile.language.as_deref().unwrap_or("")));
    assert!(!profile.display_name.is_empty());

    let wrote = h.sim.say(&chatter, text("is anyone there?")).await.unwrap();
    assert_eq!(wrote.attempt.status, Some(200));
    let events = h.receiver.wait_for(2).await;
    let sources: Vec<_> = events
        .iter()
        .flat_map(|p| p.callback().events)
        .map(|e| e.source)
        .collect();
    assert!(
        sources.iter().any(
            |s| matches!(s, Some(Source::User { user_id: Some(user_id) }) if *user_id == chatter)
        ),
        "{sources:?}"
    );
    assert!(
        h.client.profile(&chatter).await.is_err(),
        "not a friend: 404"
    );
    h.client
        .push(
            chatter.as_str(),
            &[Message::text("Yes, how can we help?")],
            false,
            tsunagi_line::client::RetryKey::new(),
        )
        .await
        .expect("LINE delivers to a user who wrote");
    assert_eq!(h.sim.inbox(chatter.as_str()).len(), 1);
    // The same stranger is the same person next time.
    let again = tsunagi_linesim::population::stranger(&follower, true);
    assert_eq!(again.display_name, profile.display_name);
}
