use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::json;
use tsunagi_line::client::{
    AccessToken, ApiError, Class, Client, Content, Done, Error, RetryKey, SendKind, SendOutcome,
};
use tsunagi_line::message::Message;
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::{ChannelId, MarkAsReadToken, MessageId, ReplyToken, RequestId, UserId};
use wiremock::matchers::{
    body_json, body_string, header, header_exists, method, path, query_param,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "test-channel-access-token";

/// A client for `server` that retries quickly, so retry tests take milliseconds.
fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_base(server.uri())
        .data_base(format!("{}/data", server.uri()))
        .access_token(AccessToken::new(TOKEN))
        .retry(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client builds")
}

fn line_error(status: u16, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .set_body_json(json!({ "message": message }))
        .insert_header("x-line-request-id", "req-err-1")
}

fn api_error(result: Result<impl std::fmt::Debug, Error>) -> ApiError {
    match result {
        Err(Error::Api(e)) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn user() -> UserId {
    UserId::from("U4af4980629a1b2c3d4e5f60718293a4b")
}

/// Pushes one text message with a fresh retry key.
async fn push(server: &MockServer) -> Result<SendOutcome, Error> {
    client(server)
        .push(
            user().as_str(),
            &[Message::text("x")],
            false,
            RetryKey::new(),
        )
        .await
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

#[tokio::test]
async fn status_200_reply_sends_the_token_and_messages_with_the_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/message/reply"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "replyToken": "rt-1",
            "messages": [{"type": "text", "text": "ได้ค่ะ"}]
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"sentMessages": [{"id": "4611", "quoteToken": "q-4611"}]}))
                .insert_header("x-line-request-id", "req-200"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let outcome = client(&server)
        .reply(&ReplyToken::from("rt-1"), &[Message::text("ได้ค่ะ")], false)
        .await
        .expect("reply succeeds");
    let SendOutcome::Accepted {
        request_id,
        sent_messages,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(request_id, Some(RequestId::from("req-200")));
    assert_eq!(sent_messages[0].id, MessageId::from("4611"));
    assert!(
        requests(&server).await[0]
            .headers
            .get("x-line-retry-key")
            .is_none(),
        "a reply must never carry a retry key"
    );
}

#[tokio::test]
async fn status_202_narrowcast_is_accepted_with_its_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/message/narrowcast"))
        .and(header_exists("x-line-retry-key"))
        .respond_with(ResponseTemplate::new(202).insert_header("x-line-request-id", "req-nc"))
        .expect(1)
        .mount(&server)
        .await;
    let mut targeting = serde_json::Map::new();
    targeting.insert("limit".into(), json!({"max": 100}));
    let outcome = client(&server)
        .narrowcast(
            &[Message::text("Clinic closed on Friday")],
            targeting,
            RetryKey::new(),
        )
        .await
        .expect("202 is success");
    assert_eq!(
        outcome,
        SendOutcome::Accepted {
            request_id: Some(RequestId::from("req-nc")),
            sent_messages: vec![]
        }
    );
    let sent: serde_json::Value =
        serde_json::from_slice(&requests(&server).await[0].body).expect("json body");
    assert_eq!(sent["limit"]["max"], 100);
    assert_eq!(sent["messages"][0]["text"], "Clinic closed on Friday");
}

#[tokio::test]
async fn status_400_carries_lines_message_details_and_request_id_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/message/push"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({
                    "message": "The request body has 1 error(s)",
                    "details": [{"message": "May not be empty", "property": "messages[0].text"}]
                }))
                .insert_header("x-line-request-id", "req-400"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(push(&server).await);
    assert_eq!(error.status, 400);
    assert_eq!(error.message, "The request body has 1 error(s)");
    assert_eq!(error.details[0].property, "messages[0].text");
    assert_eq!(error.request_id, Some(RequestId::from("req-400")));
    assert!(
        error
            .to_string()
            .contains("messages[0].text: May not be empty")
    );
}

#[tokio::test]
async fn status_400_invalid_reply_token_is_final() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/reply"))
        .respond_with(line_error(400, "Invalid reply token"))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(
        client(&server)
            .reply(&ReplyToken::from("used"), &[Message::text("hi")], false)
            .await,
    );
    assert_eq!(
        (error.status, error.message.as_str()),
        (400, "Invalid reply token")
    );
}

#[tokio::test]
async fn status_401_bad_token_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/info"))
        .respond_with(line_error(
            401,
            "Authentication failed due to the following reason: invalid token.",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(client(&server).bot_info().await);
    assert_eq!(error.status, 401);
    assert_eq!(error.request_id, Some(RequestId::from("req-err-1")));
}

#[tokio::test]
async fn status_403_followers_not_available_for_the_account() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/followers/ids"))
        .respond_with(line_error(
            403,
            "Access to this API is not available for your account",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(client(&server).followers_ids(Some(1000), None).await);
    assert_eq!(error.status, 403);
    assert_eq!(
        error.message,
        "Access to this API is not available for your account"
    );
}

#[tokio::test]
async fn status_404_profile_of_a_blocked_or_unknown_user() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/v2/bot/profile/{}", user())))
        .respond_with(line_error(404, "Not found"))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(client(&server).profile(&user()).await);
    assert_eq!(error.status, 404);
}

#[tokio::test]
async fn status_409_with_an_accepted_request_id_is_already_accepted_not_an_error() {
    let server = MockServer::start().await;
    let key = RetryKey::new();
    Mock::given(method("POST"))
        .and(path("/v2/bot/message/push"))
        .and(header("x-line-retry-key", key.0.to_string().as_str()))
        .respond_with(
            ResponseTemplate::new(409)
                .set_body_json(json!({
                    "message": "The retry key is already accepted",
                    "sentMessages": [{"id": "4612", "quoteToken": "q-4612"}]
                }))
                .insert_header("x-line-request-id", "req-409")
                .insert_header("x-line-accepted-request-id", "req-first"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let outcome = client(&server)
        .push(user().as_str(), &[Message::text("Reminder")], false, key)
        .await
        .expect("already accepted is success");
    assert_eq!(
        outcome,
        SendOutcome::AlreadyAccepted {
            accepted_request_id: RequestId::from("req-first"),
            sent_messages: outcome.sent_messages().to_vec(),
        }
    );
    assert_eq!(outcome.sent_messages()[0].id, MessageId::from("4612"));
}

#[tokio::test]
async fn status_409_without_an_accepted_request_id_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(line_error(409, "Conflict"))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(push(&server).await);
    assert_eq!(error.status, 409);
}

#[tokio::test]
async fn status_200_and_202_and_410_for_content() {
    let server = MockServer::start().await;
    Mock::given(path("/data/v2/bot/message/100/content"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(vec![0xFF, 0xD8, 0xFF, 0xE0], "image/jpeg"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/data/v2/bot/message/101/content"))
        .respond_with(ResponseTemplate::new(202))
        .mount(&server)
        .await;
    Mock::given(path("/data/v2/bot/message/102/content"))
        .respond_with(line_error(410, "Gone"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/data/v2/bot/message/100/content/preview"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![1, 2, 3], "image/jpeg"))
        .mount(&server)
        .await;
    let client = client(&server);

    let Content::Ready {
        content_type,
        bytes,
    } = client.content(&MessageId::from("100")).await.expect("200")
    else {
        panic!("expected bytes")
    };
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(&bytes[..], &[0xFF, 0xD8, 0xFF, 0xE0]);
    assert_eq!(
        client.content(&MessageId::from("101")).await.expect("202"),
        Content::Preparing
    );
    assert_eq!(
        client.content(&MessageId::from("102")).await.expect("410"),
        Content::Gone
    );
    assert!(matches!(
        client.content_preview(&MessageId::from("100")).await,
        Ok(Content::Ready { bytes, .. }) if bytes.len() == 3
    ));
}

#[tokio::test]
async fn status_404_for_unknown_content_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/data/v2/bot/message/999/content"))
        .respond_with(line_error(404, "Not found"))
        .mount(&server)
        .await;
    let error = api_error(client(&server).content(&MessageId::from("999")).await);
    assert_eq!(error.status, 404);
}

#[tokio::test]
async fn status_413_request_too_large_is_final() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(line_error(413, "Request Entity Too Large"))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(push(&server).await);
    assert_eq!(error.status, 413);
}

#[tokio::test]
async fn a_body_over_two_megabytes_is_refused_before_it_is_sent() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/validate/push"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let huge = tsunagi_line::message::MessageBody::Flex {
        alt_text: "big".into(),
        contents: json!({"type": "bubble", "pad": "x".repeat(2 * 1024 * 1024)}),
    };
    let result = client(&server)
        .validate(SendKind::Push, &[huge.into()])
        .await;
    assert!(matches!(result, Err(Error::Invalid(e)) if e.violations[0].property == "body"));
}

#[tokio::test]
async fn status_429_is_retried_with_the_same_retry_key_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(line_error(429, "Too Many Requests"))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sentMessages": []})))
        .expect(1)
        .mount(&server)
        .await;
    let key = RetryKey::new();
    client(&server)
        .push(user().as_str(), &[Message::text("x")], false, key)
        .await
        .expect("third try succeeds");
    let keys: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| {
            r.headers
                .get("x-line-retry-key")
                .expect("every attempt carries the key")
                .to_str()
                .expect("ascii")
                .to_owned()
        })
        .collect();
    assert_eq!(keys, vec![key.0.to_string(); 3]);
}

#[tokio::test]
async fn status_429_for_the_monthly_limit_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(line_error(429, "You have reached your monthly limit."))
        .expect(1)
        .mount(&server)
        .await;
    let error = api_error(push(&server).await);
    assert!(error.is_monthly_limit());
}

#[tokio::test]
async fn status_500_is_retried_up_to_the_limit_then_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/quota"))
        .respond_with(line_error(500, "Internal Server Error"))
        .expect(3)
        .mount(&server)
        .await;
    let error = api_error(client(&server).quota().await);
    assert_eq!(error.status, 500);
}

#[tokio::test]
async fn status_500_then_200_recovers() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/quota/consumption"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/message/quota/consumption"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"totalUsage": 42})))
        .mount(&server)
        .await;
    assert_eq!(
        client(&server).quota_consumption().await.expect("recovers"),
        42
    );
}

#[tokio::test]
async fn a_timeout_is_retried_and_reported_as_transport_when_it_persists() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/info"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .expect(3)
        .mount(&server)
        .await;
    match client(&server).bot_info().await {
        Err(Error::Transport(e)) => assert!(e.is_timeout(), "{e}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_timeout_then_an_answer_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/info"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "userId": "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f",
            "basicId": "@216ru...",
            "displayName": "Sakura Clinic",
            "chatMode": "chat",
            "markAsReadMode": "manual"
        })))
        .mount(&server)
        .await;
    let info = client(&server)
        .bot_info()
        .await
        .expect("second try answers");
    assert_eq!(info.display_name, "Sakura Clinic");
    assert_eq!(info.chat_mode, "chat");
    assert_eq!(info.premium_id, None);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    // Bind a port and close it, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = Client::builder()
        .api_base(format!("http://127.0.0.1:{port}"))
        .retry(RetryPolicy {
            max_attempts: 2,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        })
        .build()
        .expect("builds");
    let error = client.quota().await.expect_err("nothing listens");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert_eq!((error.class(), error.done()), (Class::Retriable, Done::No));
}

/// The reply LINE carried out, whose answer came too late: asking again would answer
/// the patient twice, or (with the token spent) make the caller think nothing went out.
#[tokio::test]
async fn a_reply_whose_answer_is_lost_is_not_tried_again_and_may_have_gone() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/reply"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "sentMessages": [{ "id": "1" }] }))
                .set_delay(Duration::from_secs(2)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let error = client(&server)
        .reply(&ReplyToken::from("fresh"), &[Message::text("hi")], false)
        .await
        .expect_err("the answer is too late");
    assert_eq!(
        (error.class(), error.done()),
        (Class::Retriable, Done::Maybe)
    );
}

/// A 5xx may come after LINE carried the reply out: asked again, the reply would meet
/// "Invalid reply token" and look as if nothing went out.
#[tokio::test]
async fn a_reply_that_line_failed_with_500_is_not_tried_again_and_may_have_gone() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/reply"))
        .respond_with(line_error(500, "Internal server error"))
        .mount(&server)
        .await;
    let error = client(&server)
        .reply(&ReplyToken::from("fresh"), &[Message::text("hi")], false)
        .await
        .expect_err("LINE failed it");
    assert_eq!(
        (error.class(), error.done()),
        (Class::Retriable, Done::Maybe)
    );
    assert_eq!(requests(&server).await.len(), 1);
}

/// A push keeps its retry key across tries, so a 5xx is tried again: LINE answers a
/// repeat of what it carried out with 409, never a second message.
#[tokio::test]
async fn a_push_that_line_failed_with_500_is_tried_again_under_its_retry_key() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(line_error(500, "Internal server error"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({ "sentMessages": [{ "id": "7" }] })),
        )
        .mount(&server)
        .await;
    let key = RetryKey::new();
    client(&server)
        .push("U1", &[Message::text("hi")], false, key)
        .await
        .expect("the second try answers");
    let tried = requests(&server).await;
    assert_eq!(tried.len(), 2);
    let keys: Vec<_> = tried
        .iter()
        .map(|r| r.headers.get("x-line-retry-key").cloned())
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert!(keys[0].is_some());
}

#[tokio::test]
async fn no_call_outlasts_the_deadline_however_many_retries_are_left() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/info"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_base(server.uri())
        .retry(RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .timeout(Duration::from_secs(30))
        .deadline(Duration::from_millis(400))
        .build()
        .expect("builds");
    let started = std::time::Instant::now();
    let error = client
        .bot_info()
        .await
        .expect_err("LINE never answers in time");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "the call took {took:?}");
    assert_eq!(error.done(), Done::Maybe);
}

/// Every way a call fails, sorted once: what the relay's executor, its HTTP answers and
/// this client's own retries all go by.
#[tokio::test]
async fn lines_answers_are_sorted_into_classes_in_one_place() {
    let server = MockServer::start().await;
    let cases = [
        (500, "Internal server error", Class::Retriable),
        (503, "Service unavailable", Class::Retriable),
        (429, "Too many requests", Class::Retriable),
        (
            429,
            "You have reached your monthly limit.",
            Class::Permanent,
        ),
        (400, "Invalid reply token", Class::SpentReplyToken),
        (400, "The request body has 1 error(s)", Class::Permanent),
        (401, "Authentication failed", Class::AccessToken),
        (
            403,
            "Access to this API is not available for your account",
            Class::Permanent,
        ),
        (404, "Not found", Class::Permanent),
    ];
    for (n, (status, message, _)) in cases.iter().enumerate() {
        Mock::given(path(format!("/v2/bot/profile/U{n}")))
            .respond_with(line_error(*status, message))
            .mount(&server)
            .await;
    }
    let client = Client::builder()
        .api_base(server.uri())
        .retry(RetryPolicy::none())
        .build()
        .expect("builds");
    for (n, (status, message, class)) in cases.into_iter().enumerate() {
        let error = client
            .profile(&UserId::from(format!("U{n}").as_str()))
            .await
            .expect_err("LINE refuses");
        // LINE documents a 5xx as "may still have been carried out".
        let done = if status >= 500 { Done::Maybe } else { Done::No };
        assert_eq!(
            (error.class(), error.done()),
            (class, done),
            "{status} {message}"
        );
    }
    let invalid = client
        .reply(&ReplyToken::from("t"), &[], false)
        .await
        .expect_err("no messages");
    assert_eq!(
        (invalid.class(), invalid.done()),
        (Class::Permanent, Done::No)
    );
}

#[tokio::test]
async fn invalid_messages_are_refused_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let result = client(&server)
        .push(
            user().as_str(),
            &vec![Message::text("x"); 6],
            false,
            RetryKey::new(),
        )
        .await;
    assert!(matches!(result, Err(Error::Invalid(_))));
}

#[tokio::test]
async fn multicast_and_broadcast_carry_the_retry_key_and_recipients() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/multicast"))
        .and(body_json(json!({
            "to": ["U1", "U2"],
            "messages": [{"type": "text", "text": "Flu shots this week"}],
            "notificationDisabled": true
        })))
        .and(header_exists("x-line-retry-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/message/broadcast"))
        .and(header_exists("x-line-retry-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let to = [UserId::from("U1"), UserId::from("U2")];
    let message = [Message::text("Flu shots this week")];
    client
        .multicast(&to, &message, true, RetryKey::new())
        .await
        .expect("multicast");
    client
        .broadcast(&message, false, RetryKey::new())
        .await
        .expect("broadcast");
    let too_many = vec![UserId::from("U1"); 501];
    assert!(matches!(
        client.multicast(&too_many, &message, false, RetryKey::new()).await,
        Err(Error::Invalid(e)) if e.violations[0].property == "to"
    ));
}

#[tokio::test]
async fn profile_followers_quota_and_validate_read_lines_answers() {
    let server = MockServer::start().await;
    Mock::given(path(format!("/v2/bot/profile/{}", user())))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "displayName": "ソムチャイ", "userId": user(), "language": "th",
            "pictureUrl": "https://profile.line-scdn.net/abc"
        })))
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/followers/ids"))
        .and(query_param("limit", "2"))
        .and(query_param("start", "tok-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"userIds": ["U1", "U2"], "next": "tok-2"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/message/quota"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"type": "limited", "value": 1000})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/message/validate/reply"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let profile = client.profile(&user()).await.expect("profile");
    assert_eq!(profile.display_name, "ソムチャイ");
    assert_eq!(profile.language.as_deref(), Some("th"));
    assert_eq!(profile.status_message, None);
    let page = client
        .followers_ids(Some(2), Some("tok-1"))
        .await
        .expect("page");
    assert_eq!(page.user_ids.len(), 2);
    assert_eq!(page.next.as_deref(), Some("tok-2"));
    let quota = client.quota().await.expect("quota");
    assert_eq!((quota.kind.as_str(), quota.value), ("limited", Some(1000)));
    client
        .validate(SendKind::Reply, &[Message::text("ok")])
        .await
        .expect("valid");
}

#[tokio::test]
async fn loading_mark_as_read_and_webhook_endpoint_calls() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/chat/loading/start"))
        .and(body_json(json!({"chatId": user(), "loadingSeconds": 20})))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/chat/markAsRead"))
        .and(body_json(json!({"markAsReadToken": "mt-1"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/v2/bot/channel/webhook/endpoint"))
        .and(body_json(
            json!({"endpoint": "https://relay.example.com/webhook/line/1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/bot/channel/webhook/endpoint"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "endpoint": "https://relay.example.com/webhook/line/1", "active": true
        })))
        .mount(&server)
        .await;
    Mock::given(path("/v2/bot/channel/webhook/test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "timestamp": "2026-11-22T05:00:00.000Z",
            "statusCode": 200, "reason": "OK", "detail": "200"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client.loading_start(&user(), 20).await.expect("loading");
    assert!(matches!(
        client.loading_start(&user(), 7).await,
        Err(Error::Invalid(_))
    ));
    client
        .mark_as_read(&MarkAsReadToken::from("mt-1"))
        .await
        .expect("read");
    client
        .set_webhook_endpoint("https://relay.example.com/webhook/line/1")
        .await
        .expect("set");
    let endpoint = client.webhook_endpoint().await.expect("get");
    assert!(endpoint.active);
    let report = client.test_webhook(None).await.expect("test");
    assert!(report.success);
    assert_eq!(report.status_code, 200);
}

/// A group's or room's member profile has a name and a picture, no status message or
/// language, and is read as a profile.
#[tokio::test]
async fn a_group_or_room_members_profile_is_read_without_status_message_or_language() {
    let server = MockServer::start().await;
    let member = json!({
        "displayName": "LINE taro", "userId": user().as_str(),
        "pictureUrl": "https://profile.line-scdn.net/abc"
    });
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/bot/group/C1234567890abcdef1234567890abcdef/member/{}",
            user()
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(member.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/v2/bot/room/R1234567890abcdef1234567890abcdef/member/{}",
            user()
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(member))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let group = tsunagi_line::GroupId::from("C1234567890abcdef1234567890abcdef");
    let room = tsunagi_line::RoomId::from("R1234567890abcdef1234567890abcdef");
    for profile in [
        client
            .group_member_profile(&group, &user())
            .await
            .expect("group member"),
        client
            .room_member_profile(&room, &user())
            .await
            .expect("room member"),
    ] {
        assert_eq!(profile.display_name, "LINE taro");
        assert_eq!(profile.user_id, user());
        assert_eq!(
            profile.picture_url.as_deref(),
            Some("https://profile.line-scdn.net/abc")
        );
        assert_eq!((profile.status_message, profile.language), (None, None));
    }
}

/// When LINE gets no answer from the endpoint it says so with a status of zero or less and
/// may leave `success` out: the report is read, and is no success.
#[tokio::test]
async fn a_webhook_test_without_success_and_a_negative_status_is_read_as_unreached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/channel/webhook/test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "timestamp": "2026-12-07T05:00:00.000Z", "statusCode": -1,
            "reason": "COULD_NOT_CONNECT", "detail": "Connection refused"
        })))
        .mount(&server)
        .await;
    let report = client(&server)
        .test_webhook(Some("https://relay.example.com/webhook/line/1"))
        .await
        .expect("the report is read");
    assert_eq!(
        (report.success, report.status_code, report.reason.as_str()),
        (false, -1, "COULD_NOT_CONNECT")
    );
    assert_eq!(report.detail, "Connection refused");
    assert!(!report.answered());
    assert!(!report.reached());
}

/// A report that says `success` with a status other than 2xx is no success: the status
/// decides.
#[tokio::test]
async fn a_webhook_test_is_reached_only_with_a_2xx_whatever_success_says() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/channel/webhook/test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "timestamp": "2026-12-07T05:00:00.000Z", "statusCode": 0,
            "reason": "REQUEST_TIMEOUT", "detail": "Request timed out"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/bot/channel/webhook/test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "timestamp": "2026-12-07T05:00:01.000Z", "statusCode": 404,
            "reason": "ERROR_STATUS_CODE", "detail": "404"
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let timed_out = client.test_webhook(None).await.expect("read");
    assert!(timed_out.success && !timed_out.reached() && !timed_out.answered());
    let not_found = client.test_webhook(None).await.expect("read");
    assert!(not_found.success && !not_found.reached() && not_found.answered());
}

#[tokio::test]
async fn a_short_lived_token_is_issued_from_the_channel_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/oauth/accessToken"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "grant_type=client_credentials&client_id=1656789012&client_secret=s%26cr%3Dt",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "short-lived", "expires_in": 2592000, "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/oauth/accessToken"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_client", "error_description": "invalid client_secret"
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let token = client
        .issue_channel_token(&ChannelId::from("1656789012"), "s&cr=t")
        .await
        .expect("issued");
    assert_eq!(token.expires_in, 2_592_000);
    assert!(
        !format!("{token:?}").contains("short-lived"),
        "a token never appears in Debug output"
    );
    let error = api_error(
        client
            .issue_channel_token(&ChannelId::from("1656789012"), "wrong")
            .await,
    );
    assert_eq!(
        (error.status, error.message.as_str()),
        (400, "invalid client_secret")
    );
}

/// LINE leaves `property` out of some details (a bad webhook URL, a plan's limit): the
/// answer is still read whole, its message and each detail.
#[tokio::test]
async fn error_details_without_a_property_are_read_with_the_request_id() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/bot/message/push"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-line-request-id", "7d9c1e2a-0000-4f00-8000-000000000001")
                .set_body_json(json!({
                    "message": "The request body has 2 error(s)",
                    "details": [
                        {"message": "May not be empty"},
                        {"message": "Must be one of the following values", "property": "messages[0].type"}
                    ]
                })),
        )
        .mount(&server)
        .await;
    let error = client(&server)
        .push("U1", &[Message::text("hi")], false, RetryKey::new())
        .await
        .expect_err("LINE refuses");
    let Error::Api(api) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(api.message, "The request body has 2 error(s)");
    let details: Vec<String> = api.details.iter().map(ToString::to_string).collect();
    assert_eq!(
        details,
        [
            "May not be empty",
            "messages[0].type: Must be one of the following values"
        ]
    );
    assert_eq!(
        api.request_id.as_ref().map(|id| id.as_str()),
        Some("7d9c1e2a-0000-4f00-8000-000000000001")
    );
}
