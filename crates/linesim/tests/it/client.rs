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
    c.mark_as_read(&MarkAsReadToken::from("m-1")).await.unwrap();
    c.set_webhook_endpoint(&h.sim.config().webhook_url.clone().unwrap())
        .await
        .unwrap();
    assert!(c.test_webhook(None).await.unwrap().success);
    let delivered = &h.sim.inbox(user.as_str())[0];
    assert_eq!(delivered.message["text"], "ok");
    assert_eq!(delivered.message_id, sent_messages[0].id);
}
