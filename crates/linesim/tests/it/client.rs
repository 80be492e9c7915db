//! tsunagi-line's client, call by call, against linesim rather than a scripted fake.

use pretty_assertions::assert_eq;
use tsunagi_line::MarkAsReadToken;
use tsunagi_line::client::{RetryKey, SendKind, SendOutcome};
use tsunagi_line::message::Message;

use crate::Harness;

#[tokio::test]
async fn every_client_call_succeeds_against_linesim() {
    let h = Harness::start().await;
    let c = &h.client;
    let user = h.friend(2);
    let info = c.bot_info().await.unwrap();
    assert_eq!(info.user_id, h.sim.config().bot_user_id);
    assert_eq!(info.chat_mode, "chat");
    assert_eq!(c.quota().await.unwrap().kind, "none");
    assert_eq!(c.quota_consumption().await.unwrap(), 0);
    let profile = c.profile(&user).await.unwrap();
    assert_eq!(profile.user_id, user);
    assert!(profile.language.is_some());
    assert!(
        !c.followers_ids(None, None)
            .await
            .unwrap()
            .user_ids
            .is_empty()
    );
    c.validate(SendKind::Push, &[Message::text("ok")])
        .await
        .unwrap();
    let pushed = c
        .push(
            user.as_str(),
            &[Message::text("ok")],
            false,
            RetryKey::new(),
        )
        .await
        .unwrap();
    let SendOutcome::Accepted {
        request_id,
        sent_messages,
    } = pushed
    else {
        panic!()
    };
    assert!(request_id.is_some());
    assert_eq!(sent_messages.len(), 1);
    assert_eq!(c.quota_consumption().await.unwrap(), 1);
    c.loading_start(&user, 20).await.unwrap();
    assert_eq!(h.sim.loading_shown(&user), vec![20]);
    let said = h
        .sim
        .say(
            &user,
            tsunagi_linesim::UserAction::Text {
                text: "既読にして".into(),
            },
        )
        .await
        .unwrap();
    let token = said.events[0].mark_as_read_token.clone().unwrap();
    c.mark_as_read(&MarkAsReadToken::new(token)).await.unwrap();
    assert_eq!(h.sim.read_up_to(&user), said.events[0].message_id);
    assert!(
        c.mark_as_read(&MarkAsReadToken::from("m-1")).await.is_err(),
        "a token LINE never issued"
    );
    c.set_webhook_endpoint(&h.sim.config().webhook_url.clone().unwrap())
        .await
        .unwrap();
    assert!(c.test_webhook(None).await.unwrap().success);
    let delivered = &h.sim.inbox(user.as_str())[0];
    assert_eq!(delivered.message["text"], "ok");
    assert_eq!(delivered.message_id, sent_messages[0].id);
}

fn retrying(h: &Harness, timeout_ms: u64) -> tsunagi_line::Client {
    tsunagi_line::Client::builder()
        .api_base(&h.base)
        .data_base(&h.base)
        .access_token(tsunagi_line::client::AccessToken::new(crate::TOKEN))
        .retry(tsunagi_line::retry::RetryPolicy {
            max_attempts: 3,
            initial_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(5),
        })
        .timeout(std::time::Duration::from_millis(timeout_ms))
        .build()
        .unwrap()
}

/// Pushes a reminder to the first friend with a client that retries, timing out each try
/// after `timeout_ms`.
async fn push_reminder(h: &Harness, timeout_ms: u64) -> SendOutcome {
    retrying(h, timeout_ms)
        .push(
            h.friend(0).as_str(),
            &[Message::text("Reminder")],
            false,
            RetryKey::new(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn the_client_retries_through_lines_500s_and_sends_once() {
    let h = Harness::start().await;
    let to = h.friend(0);
    h.sim.set_api_faults(tsunagi_linesim::ApiFaults {
        fail_next: 2,
        ..Default::default()
    });
    let outcome = push_reminder(&h, 2_000).await;
    assert!(matches!(outcome, SendOutcome::Accepted { .. }));
    assert_eq!(h.sim.inbox(to.as_str()).len(), 1);
}

#[tokio::test]
async fn a_push_whose_answer_was_lost_is_already_accepted_on_retry_and_sent_once() {
    let h = Harness::start().await;
    let to = h.friend(0);
    h.sim.set_api_faults(tsunagi_linesim::ApiFaults {
        slow_next: 1,
        slow_ms: 500,
        ..Default::default()
    });
    let outcome = push_reminder(&h, 200).await;
    let SendOutcome::AlreadyAccepted { sent_messages, .. } = outcome else {
        panic!("the retry must learn that the first try went through: {outcome:?}")
    };
    let inbox = h.sim.inbox(to.as_str());
    assert_eq!(inbox.len(), 1, "sent exactly once");
    assert_eq!(sent_messages[0].id, inbox[0].message_id);
}

#[tokio::test]
async fn a_persistent_timeout_reaches_the_caller_as_a_transport_error() {
    let h = Harness::start().await;
    h.sim.set_api_faults(tsunagi_linesim::ApiFaults {
        slow_next: 3,
        slow_ms: 400,
        ..Default::default()
    });
    match retrying(&h, 100).bot_info().await {
        Err(tsunagi_line::Error::Transport(e)) => assert!(e.is_timeout()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_push_that_reaches_line_late_is_carried_out_once_though_the_client_gave_up() {
    let h = Harness::start().await;
    let to = h.friend(0);
    h.sim.set_api_faults(tsunagi_linesim::ApiFaults {
        late_next: 1,
        late_ms: 400,
        ..Default::default()
    });
    // The first try times out before it reaches LINE; the retry, on time, goes out; the
    // late first one arrives after it and is known by its retry key.
    let outcome = push_reminder(&h, 100).await;
    assert!(
        matches!(outcome, SendOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    // The late first try has reached LINE and been answered (a 409, to nobody).
    h.calls_ended().await;
    assert_eq!(h.sim.inbox(to.as_str()).len(), 1);
}
