//! LINE's rules as linesim enforces them, one test each.

use std::time::Duration;

use axum::http::StatusCode;
use pretty_assertions::assert_eq;
use serde_json::json;
use tsunagi_line::client::{AccessToken, Content, Error, RetryKey, SendOutcome};
use tsunagi_line::message::Message;
use tsunagi_line::{ChannelId, MessageId, ReplyToken};
use tsunagi_linesim::{Refused, TokenKind, Unanswered, UserAction, Via};

use crate::{CHANNEL_ID, Harness, SECRET};

async fn reply_token(h: &Harness) -> ReplyToken {
    let report = h
        .sim
        .say(&h.friend(0), UserAction::Text { text: "hi".into() })
        .await
        .unwrap();
    ReplyToken::new(report.events[0].reply_token.clone().unwrap())
}

fn status(result: Result<impl std::fmt::Debug, Error>) -> u16 {
    match result {
        Err(Error::Api(e)) => e.status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_bearer_token_gets_401_with_lines_message() {
    let h = Harness::start().await;
    let wrong = h.client.with_access_token(AccessToken::new("nope"));
    match wrong.bot_info().await {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, 401);
            assert!(
                e.message.starts_with("Authentication failed"),
                "{}",
                e.message
            );
            assert!(e.request_id.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_short_lived_token_is_issued_for_the_right_secret_and_then_accepted() {
    let h = Harness::start().await;
    let issued = h
        .client
        .issue_channel_token(&ChannelId::from(CHANNEL_ID), SECRET)
        .await
        .unwrap();
    assert_eq!(issued.expires_in, 2_592_000);
    let client = h
        .client
        .with_access_token(AccessToken::new(issued.access_token));
    client.bot_info().await.unwrap();
    match h
        .client
        .issue_channel_token(&ChannelId::from(CHANNEL_ID), "wrong")
        .await
    {
        Err(Error::Api(e)) => assert_eq!(
            (e.status, e.message.as_str()),
            (400, "invalid client_secret")
        ),
        other => panic!("{other:?}"),
    }
}

/// LINE keeps at most thirty short-lived tokens per channel: the thirty-first revokes the
/// oldest, which is refused from then on, and the refusal is recorded with its reason.
#[tokio::test]
async fn a_thirty_first_short_lived_token_revokes_the_oldest_which_gets_401() {
    let h = Harness::start().await;
    let channel = ChannelId::from(CHANNEL_ID);
    let mut tokens = Vec::new();
    for _ in 0..31 {
        let issued = h
            .client
            .issue_channel_token(&channel, SECRET)
            .await
            .unwrap();
        tokens.push(
            h.client
                .with_access_token(AccessToken::new(issued.access_token)),
        );
    }
    assert_eq!(status(tokens[0].bot_info().await), 401);
    tokens[1].bot_info().await.unwrap();
    tokens[30].bot_info().await.unwrap();
    assert_eq!(h.sim.short_lived_tokens(), 30);
    let issued = h.sim.issued_tokens();
    assert_eq!(issued.len(), 31);
    assert_eq!(issued[0].revoked_at, Some(h.sim.now()));
    assert!(issued.iter().all(|t| t.kind == TokenKind::ShortLived));
    let refusals = h.sim.token_refusals();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(
        (refusals[0].path.as_str(), refusals[0].why),
        ("/v2/bot/info", Refused::Revoked)
    );
}

/// A stateless token lasts fifteen minutes on LINE's clock and revokes nothing, however
/// many are issued.
#[tokio::test]
async fn a_stateless_token_lasts_900_seconds_and_forty_of_them_revoke_nothing() {
    let h = Harness::start().await;
    let channel = ChannelId::from(CHANNEL_ID);
    let short = h
        .client
        .issue_channel_token(&channel, SECRET)
        .await
        .unwrap();
    let short = h
        .client
        .with_access_token(AccessToken::new(short.access_token));
    let mut stateless = Vec::new();
    for _ in 0..40 {
        let issued = h
            .client
            .issue_stateless_token(&channel, SECRET)
            .await
            .unwrap();
        assert_eq!(issued.expires_in, 900);
        stateless.push(
            h.client
                .with_access_token(AccessToken::new(issued.access_token)),
        );
    }
    short.bot_info().await.unwrap();
    h.clock.advance(Duration::from_millis(899_999));
    stateless[0].bot_info().await.unwrap();
    h.clock.advance(Duration::from_millis(1));
    assert_eq!(status(stateless[0].bot_info().await), 401);
    assert_eq!(status(stateless[39].bot_info().await), 401);
    short.bot_info().await.unwrap();
    assert_eq!(h.sim.short_lived_tokens(), 1);
    let refusals: Vec<Refused> = h.sim.token_refusals().iter().map(|r| r.why).collect();
    assert_eq!(refusals, [Refused::Expired, Refused::Expired]);
    let issued = h.sim.issued_tokens();
    assert!(issued.iter().all(|t| t.revoked_at.is_none()));
    assert_eq!(issued[1].kind, TokenKind::Stateless);
    assert_eq!(issued[1].used, 1, "a refused call does not count as a use");
}

#[tokio::test]
async fn a_reply_token_is_single_use() {
    let h = Harness::start().await;
    let token = reply_token(&h).await;
    h.client
        .reply(&token, &[Message::text("ok")], false)
        .await
        .unwrap();
    match h
        .client
        .reply(&token, &[Message::text("again")], false)
        .await
    {
        Err(Error::Api(e)) => {
            assert_eq!((e.status, e.message.as_str()), (400, "Invalid reply token"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.sim.inbox(h.friend(0).as_str()).len(), 1);
}

#[tokio::test]
async fn a_reply_token_expires_sixty_seconds_after_its_webhook() {
    let h = Harness::start().await;
    let fresh = reply_token(&h).await;
    h.clock.advance(Duration::from_secs(60));
    h.client
        .reply(&fresh, &[Message::text("just in time")], false)
        .await
        .unwrap();
    let stale = reply_token(&h).await;
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(
        status(
            h.client
                .reply(&stale, &[Message::text("late")], false)
                .await
        ),
        400
    );
}

#[tokio::test]
async fn a_retry_key_on_a_reply_is_refused() {
    let h = Harness::start().await;
    let token = reply_token(&h).await;
    let body = json!({"replyToken": token, "messages": [{"type": "text", "text": "x"}]});
    let (status, _, json) = h
        .raw_post(
            "/v2/bot/message/reply",
            body.to_string(),
            &[("x-line-retry-key", "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
}

#[tokio::test]
async fn a_repeated_retry_key_is_already_accepted_for_a_day() {
    let h = Harness::start().await;
    let to = h.friend(0);
    let key = RetryKey::new();
    let first = h
        .client
        .push(to.as_str(), &[Message::text("Reminder: 10:00")], false, key)
        .await
        .unwrap();
    let SendOutcome::Accepted {
        request_id,
        sent_messages,
    } = first
    else {
        panic!("{first:?}")
    };
    let again = h
        .client
        .push(to.as_str(), &[Message::text("Reminder: 10:00")], false, key)
        .await
        .unwrap();
    assert_eq!(
        again,
        SendOutcome::AlreadyAccepted {
            accepted_request_id: request_id.unwrap(),
            sent_messages
        }
    );
    assert_eq!(h.sim.inbox(to.as_str()).len(), 1, "sent once");
    h.clock.advance(Duration::from_secs(24 * 3600));
    let later = h
        .client
        .push(to.as_str(), &[Message::text("Reminder: 10:00")], false, key)
        .await
        .unwrap();
    assert!(
        matches!(later, SendOutcome::Accepted { .. }),
        "forgotten after 24 h"
    );
    assert_eq!(h.sim.inbox(to.as_str()).len(), 2);
}

#[tokio::test]
async fn a_malformed_retry_key_is_refused() {
    let h = Harness::start().await;
    let body = json!({"to": h.friend(0), "messages": [{"type": "text", "text": "x"}]});
    let (status, _, _) = h
        .raw_post(
            "/v2/bot/message/push",
            body.to_string(),
            &[("x-line-retry-key", "not-a-uuid")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn message_limits_are_enforced_with_lines_details() {
    let h = Harness::start().await;
    let to = h.friend(0);
    let six = json!({"to": to, "messages": vec![json!({"type": "text", "text": "x"}); 6]});
    let (status, headers, body) = h
        .raw_post("/v2/bot/message/push", six.to_string(), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers.contains_key("x-line-request-id"));
    assert_eq!(body["details"][0]["property"], "messages");

    let long = json!({"to": to, "messages": [
        {"type": "text", "text": "ok"},
        {"type": "text", "text": "ก".repeat(5_001)},
    ]});
    let (status, _, body) = h
        .raw_post("/v2/bot/message/push", long.to_string(), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["details"][0]["property"], "messages[1].text");
    assert_eq!(body["message"], "The request body has 1 error(s)");
    assert!(
        h.sim.inbox(to.as_str()).is_empty(),
        "nothing of a refused send is delivered"
    );
}

#[tokio::test]
async fn a_body_over_two_megabytes_gets_413() {
    let h = Harness::start().await;
    let huge = format!(
        r#"{{"to":"{}","messages":[{{"type":"text","text":"{}"}}]}}"#,
        h.friend(0),
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, _, body) = h.raw_post("/v2/bot/message/push", huge, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["message"], "Request Entity Too Large");
}

#[tokio::test]
async fn rate_limits_answer_429_and_recover_with_time() {
    let h = Harness::start_with(|c| c.rate_scale = Some(0.001)).await;
    let to = h.friend(0);
    let x = [Message::text("x")];
    let push = || h.client.push(to.as_str(), &x, false, RetryKey::new());
    push().await.unwrap();
    push().await.unwrap();
    match push().await {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, 429);
            assert!(!e.is_monthly_limit());
        }
        other => panic!("{other:?}"),
    }
    // Profiles have their own bucket.
    h.client.profile(&to).await.unwrap();
    h.clock.advance(Duration::from_secs(1));
    push().await.unwrap();
}

#[tokio::test]
async fn the_monthly_quota_ends_in_429_and_replies_stay_free() {
    let h = Harness::start_with(|c| c.monthly_quota = Some(3)).await;
    let to = h.friend(0);
    let two = [Message::text("a"), Message::text("b")];
    h.client
        .push(to.as_str(), &two, false, RetryKey::new())
        .await
        .unwrap();
    match h
        .client
        .push(to.as_str(), &two, false, RetryKey::new())
        .await
    {
        Err(Error::Api(e)) => assert!(e.is_monthly_limit(), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.client.quota_consumption().await.unwrap(), 2);
    let quota = h.client.quota().await.unwrap();
    assert_eq!((quota.kind.as_str(), quota.value), ("limited", Some(3)));
    let token = reply_token(&h).await;
    h.client.reply(&token, &two, false).await.unwrap();
    assert_eq!(h.client.quota_consumption().await.unwrap(), 2);
}

#[tokio::test]
async fn follower_ids_page_through_every_friend() {
    let h = Harness::start_with(|c| c.users = tsunagi_linesim::population::users(60, 9)).await;
    let expected: Vec<_> = h
        .sim
        .users()
        .into_iter()
        .filter(|u| u.follows)
        .map(|u| u.user_id)
        .collect();
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let page = h
            .client
            .followers_ids(Some(7), start.as_deref())
            .await
            .unwrap();
        assert!(page.user_ids.len() <= 7);
        seen.extend(page.user_ids);
        match page.next {
            Some(next) => start = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    assert_eq!(status(h.client.followers_ids(Some(1001), None).await), 400);
}

#[tokio::test]
async fn a_followers_next_token_lasts_a_day() {
    let h = Harness::start().await;
    let page = h.client.followers_ids(Some(2), None).await.unwrap();
    h.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(
        status(h.client.followers_ids(Some(2), page.next.as_deref()).await),
        400
    );
}

#[tokio::test]
async fn follower_ids_are_forbidden_for_an_unverified_account() {
    let h = Harness::start_with(|c| c.verified = false).await;
    match h.client.followers_ids(None, None).await {
        Err(Error::Api(e)) => {
            assert_eq!(e.status, 403);
            assert_eq!(
                e.message,
                "Access to this API is not available for your account"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn profiles_are_404_for_blocked_and_unknown_users() {
    let h = Harness::start().await;
    let friend = h.client.profile(&h.friend(0)).await.unwrap();
    assert!(!friend.display_name.is_empty());
    assert_eq!(status(h.client.profile(&h.blocked_user()).await), 404);
    assert_eq!(
        status(
            h.client
                .profile(&tsunagi_line::UserId::from(
                    "U00000000000000000000000000000000"
                ))
                .await
        ),
        404
    );
}

/// A group member who is not the account's friend has no `/profile` (404), but the group's
/// member profile answers with their name and picture; someone outside the group, or a
/// group asked for as a room, gets 404.
#[tokio::test]
async fn a_group_member_who_is_not_a_friend_is_found_through_the_group_only() {
    let mut stranger = None;
    let h = Harness::start_with(|config| stranger = Some(config.stranger_in_group())).await;
    let stranger = stranger.unwrap();
    let group = h.sim.groups()[0].group_id.clone();
    assert_eq!(status(h.client.profile(&stranger).await), 404);
    let member = h
        .client
        .group_member_profile(&group, &stranger)
        .await
        .unwrap();
    let user = h
        .sim
        .users()
        .into_iter()
        .find(|u| u.user_id == stranger)
        .unwrap();
    assert_eq!(
        (
            member.user_id,
            member.display_name,
            member.status_message,
            member.language
        ),
        (stranger.clone(), user.display_name, None, None)
    );
    let friend_outside = h
        .sim
        .users()
        .into_iter()
        .find(|u| u.follows && !h.sim.groups()[0].members.contains(&u.user_id))
        .unwrap()
        .user_id;
    assert_eq!(
        status(h.client.group_member_profile(&group, &friend_outside).await),
        404
    );
    let as_room = tsunagi_line::RoomId::new(group.as_str());
    assert_eq!(
        status(h.client.room_member_profile(&as_room, &stranger).await),
        404
    );
}

/// LINE leaves `language` out of the profile of a user who has not agreed to its privacy
/// policy: the client reads the profile all the same.
#[tokio::test]
async fn a_profile_without_a_language_leaves_it_out_and_is_read() {
    let h = Harness::start_with(|config| config.profiles_without_language = true).await;
    let friend = h.friend(0);
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v2/bot/profile/{friend}", h.base))
        .bearer_auth(crate::TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw.get("language"), None, "{raw}");
    let profile = h.client.profile(&friend).await.unwrap();
    assert_eq!((profile.user_id, profile.language), (friend, None));
}

/// Bot info says the account's modes as its owner set them, and follows their change.
#[tokio::test]
async fn bot_info_says_the_chat_and_mark_as_read_modes_and_follows_their_change() {
    let h = Harness::start().await;
    let info = h.client.bot_info().await.unwrap();
    assert_eq!(
        (info.chat_mode.as_str(), info.mark_as_read_mode.as_str()),
        ("chat", "manual")
    );
    h.sim.set_account_modes(false, true);
    let info = h.client.bot_info().await.unwrap();
    assert_eq!(
        (info.chat_mode.as_str(), info.mark_as_read_mode.as_str()),
        ("bot", "auto")
    );
}

/// With `markAsReadMode: auto` LINE marks every message read as it arrives; `markAsRead`
/// still answers 200 and changes nothing.
#[tokio::test]
async fn with_mark_as_read_auto_line_marks_each_message_read_itself() {
    let h = Harness::start_with(|config| config.mark_as_read_auto = true).await;
    assert_eq!(h.client.bot_info().await.unwrap().mark_as_read_mode, "auto");
    let friend = h.friend(0);
    assert_eq!(h.sim.read_up_to(&friend), None);
    let mut said = Vec::new();
    for text in ["one", "two"] {
        let report = h
            .sim
            .say(&friend, UserAction::Text { text: text.into() })
            .await
            .unwrap();
        said.push(report.events[0].clone());
    }
    assert_eq!(h.sim.read_up_to(&friend), said[1].message_id);
    let first = tsunagi_line::MarkAsReadToken::new(said[0].mark_as_read_token.clone().unwrap());
    h.client.mark_as_read(&first).await.unwrap();
    assert_eq!(h.sim.read_up_to(&friend), said[1].message_id);
}

#[tokio::test]
async fn loading_is_for_one_to_one_chats_only() {
    let h = Harness::start().await;
    h.client.loading_start(&h.friend(0), 10).await.unwrap();
    let group = h.sim.groups()[0].group_id.to_string();
    let body = json!({"chatId": group, "loadingSeconds": 5});
    let (status, _, _) = h
        .raw_post("/v2/bot/chat/loading/start", body.to_string(), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn content_is_ready_preparing_gone_or_unknown() {
    let h = Harness::start().await;
    let user = h.friend(0);
    let image = h.sim.say(&user, UserAction::Image).await.unwrap();
    let image_id = image.events[0].message_id.clone().unwrap();
    let Content::Ready {
        content_type,
        bytes,
    } = h.client.content(&image_id).await.unwrap()
    else {
        panic!("the image is ready")
    };
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
    assert!(matches!(
        h.client.content_preview(&image_id).await.unwrap(),
        Content::Ready { .. }
    ));

    let video = h
        .sim
        .say(
            &user,
            UserAction::Video {
                duration_ms: 90_000,
                preparing_ms: 30_000,
                transcoding_fails: false,
            },
        )
        .await
        .unwrap();
    let video_id = video.events[0].message_id.clone().unwrap();
    assert_eq!(
        h.client.content(&video_id).await.unwrap(),
        Content::Preparing
    );
    h.clock.advance(Duration::from_secs(30));
    assert!(matches!(
        h.client.content(&video_id).await.unwrap(),
        Content::Ready { .. }
    ));

    h.sim
        .say(
            &user,
            UserAction::Unsend {
                message_id: image_id.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.client.content(&image_id).await.unwrap(), Content::Gone);
    assert_eq!(status(h.client.content(&MessageId::from("1")).await), 404);
}

#[tokio::test]
async fn the_webhook_test_reports_success_failure_and_no_connection() {
    let h = Harness::start().await;
    let ok = h.client.test_webhook(None).await.unwrap();
    assert!(ok.success);
    assert_eq!((ok.status_code, ok.reason.as_str()), (200, "OK"));
    let callback = h.receiver.wait_for(1).await[0].callback();
    assert!(
        callback.events.is_empty(),
        "a test webhook carries no events"
    );

    h.receiver.answer_next(&[StatusCode::INTERNAL_SERVER_ERROR]);
    let failed = h.client.test_webhook(None).await.unwrap();
    assert!(!failed.success);
    assert_eq!(
        (failed.status_code, failed.reason.as_str()),
        (500, "ERROR_STATUS_CODE")
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = h
        .client
        .test_webhook(Some(&format!("http://127.0.0.1:{port}/x")))
        .await
        .unwrap();
    assert_eq!(unreachable.reason, "COULD_NOT_CONNECT");
}

/// "Use webhook" off: LINE keeps the URL and says it is not active, delivers nothing, and
/// delivers again once it is back on. The webhook test still reaches the URL.
#[tokio::test]
async fn with_use_webhook_off_the_url_is_kept_inactive_and_nothing_is_delivered() {
    let h = Harness::start().await;
    let url = h.sim.config().webhook_url.clone().unwrap();
    h.sim.set_use_webhook(false);
    let setting = h.client.webhook_endpoint().await.unwrap();
    assert_eq!(
        (setting.endpoint.as_str(), setting.active),
        (url.as_str(), false)
    );
    let report = h
        .sim
        .say(
            &h.friend(0),
            UserAction::Text {
                text: "hello?".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.attempt.status, None, "{report:?}");
    let test = h.client.test_webhook(None).await.unwrap();
    assert!(test.reached(), "{test:?}");
    assert_eq!(h.receiver.wait_for(1).await.len(), 1);
    assert!(
        h.receiver.received()[0].callback().events.is_empty(),
        "only the test's empty webhook arrived"
    );

    h.sim.set_use_webhook(true);
    assert!(h.client.webhook_endpoint().await.unwrap().active);
    let report = h
        .sim
        .say(
            &h.friend(0),
            UserAction::Text {
                text: "now?".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.attempt.status, Some(200));
    assert_eq!(h.receiver.wait_for(2).await[1].callback().events.len(), 1);
}

/// When LINE gets no answer from the endpoint, its test report has a status of zero or
/// less, a reason and a detail, and no `success` at all.
#[tokio::test]
async fn a_webhook_test_without_an_answer_has_a_status_of_zero_or_less_and_no_success() {
    let h = Harness::start().await;
    for status_code in [0, -1] {
        h.sim
            .set_webhook_test_unanswered(Some(Unanswered::connection_refused(status_code)));
        let (status, _, answer) = h.raw_post("/v2/bot/channel/webhook/test", "{}", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(answer.get("success"), None, "{answer}");
        assert_eq!(answer["statusCode"], status_code);
        assert_eq!(answer["reason"], "COULD_NOT_CONNECT");
        assert_eq!(answer["detail"], "Connection refused");
        assert!(
            answer["timestamp"]
                .as_str()
                .is_some_and(|t| t.starts_with("2026-01-01T"))
        );
        let report = h.client.test_webhook(None).await.unwrap();
        assert!(!report.reached() && !report.answered(), "{report:?}");
    }
    assert!(
        h.receiver.received().is_empty(),
        "the endpoint was not tried"
    );
    h.sim.set_webhook_test_unanswered(None);
    assert!(h.client.test_webhook(None).await.unwrap().reached());
}

#[tokio::test]
async fn the_webhook_endpoint_must_be_https_except_on_this_machine() {
    let h = Harness::start().await;
    h.client
        .set_webhook_endpoint("https://relay.example.com/webhook/line/1")
        .await
        .unwrap();
    let endpoint = h.client.webhook_endpoint().await.unwrap();
    assert_eq!(
        endpoint.endpoint,
        "https://relay.example.com/webhook/line/1"
    );
    assert!(endpoint.active);
    assert_eq!(
        status(
            h.client
                .set_webhook_endpoint("http://relay.example.com/x")
                .await
        ),
        400
    );
}

#[tokio::test]
async fn push_multicast_broadcast_and_narrowcast_are_recorded_with_how_they_were_sent() {
    let h = Harness::start().await;
    let (a, b) = (h.friend(0), h.friend(1));
    h.client
        .push(a.as_str(), &[Message::text("push")], true, RetryKey::new())
        .await
        .unwrap();
    h.client
        .multicast(
            &[a.clone(), b.clone()],
            &[Message::text("multi")],
            false,
            RetryKey::new(),
        )
        .await
        .unwrap();
    h.client
        .broadcast(&[Message::text("all")], false, RetryKey::new())
        .await
        .unwrap();
    h.client
        .narrowcast(
            &[Message::text("some")],
            serde_json::Map::new(),
            RetryKey::new(),
        )
        .await
        .unwrap();
    let via: Vec<Via> = h.sim.inbox(a.as_str()).iter().map(|d| d.via).collect();
    assert_eq!(
        via,
        [Via::Push, Via::Multicast, Via::Broadcast, Via::Narrowcast]
    );
    assert!(h.sim.inbox(a.as_str())[0].notification_disabled);
    assert_eq!(h.sim.inbox(b.as_str()).len(), 3);
    assert!(
        h.sim.inbox(h.blocked_user().as_str()).is_empty(),
        "blocked users get nothing"
    );
}
