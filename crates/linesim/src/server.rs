//! The Messaging API over HTTP, as LINE serves it.

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tsunagi_line::UserId;
use tsunagi_line::message::{self, Violation};
use uuid::Uuid;

use crate::Simulator;
use crate::error::LineError;
use crate::world::Via;

const REQUEST_ID: &str = "x-line-request-id";
const MAX_BODY: usize = 2 * 1024 * 1024;

type Answer = Result<Response, LineError>;

pub(crate) fn router(sim: Simulator) -> Router {
    let api = Router::new()
        .route("/v2/bot/message/reply", post(reply))
        .route("/v2/bot/message/push", post(push))
        .route("/v2/bot/message/multicast", post(multicast))
        .route("/v2/bot/message/broadcast", post(broadcast))
        .route("/v2/bot/message/narrowcast", post(narrowcast))
        .route("/v2/bot/message/validate/{kind}", post(validate))
        .route("/v2/bot/message/quota", get(quota))
        .route("/v2/bot/message/quota/consumption", get(consumption))
        .route("/v2/bot/message/{id}/content", get(content))
        .route("/v2/bot/message/{id}/content/preview", get(preview))
        .route("/v2/bot/message/{id}/content/transcoding", get(transcoding))
        .route("/v2/bot/profile/{user_id}", get(profile))
        .route(
            "/v2/bot/group/{group_id}/member/{user_id}",
            get(group_member),
        )
        .route("/v2/bot/room/{room_id}/member/{user_id}", get(room_member))
        .route("/v2/bot/followers/ids", get(followers))
        .route("/v2/bot/info", get(bot_info))
        .route("/v2/bot/chat/loading/start", post(loading))
        .route("/v2/bot/chat/markAsRead", post(mark_as_read))
        .route(
            "/v2/bot/channel/webhook/endpoint",
            get(get_webhook).put(set_webhook),
        )
        .route("/v2/bot/channel/webhook/test", post(test_webhook))
        .route_layer(middleware::from_fn_with_state(sim.clone(), authorize))
        .route("/v2/oauth/accessToken", post(issue_token))
        .route("/oauth2/v3/token", post(issue_stateless_token))
        .route_layer(middleware::from_fn_with_state(sim.clone(), api_faults));
    // The AI endpoint and Telegram's Bot API: other services, with their own keys.
    let services = Router::new()
        .route(
            "/v1/chat/completions",
            post(crate::assistant::chat_completions),
        )
        .route(
            "/{bot}/{method}",
            get(crate::telegram::bot_api).post(crate::telegram::bot_api),
        );
    api.merge(services)
        .merge(crate::inspect::router())
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(line_envelope))
        .with_state(sim)
}

/// Every answer carries `x-line-request-id`; a body over 2 MB gets LINE's 413.
async fn line_envelope(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response.headers().get(header::CONTENT_TYPE)
            != Some(&HeaderValue::from_static("application/json"))
    {
        response = LineError::new(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
            .into_response();
    }
    if !response.headers().contains_key(REQUEST_ID)
        && let Ok(id) = HeaderValue::from_str(&Uuid::new_v4().to_string())
    {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

/// Injected failures: a 500 before any work or after it, a late answer after it, or the work
/// done late.
async fn api_faults(State(sim): State<Simulator>, request: Request, next: Next) -> Response {
    match sim.next_api_fault(request.uri().path()) {
        crate::ApiFault::Fail => {
            LineError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                .into_response()
        }
        crate::ApiFault::DoneThenFail => {
            let _done = next.run(request).await;
            LineError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                .into_response()
        }
        crate::ApiFault::Slow(delay) => {
            let response = next.run(request).await;
            tokio::time::sleep(delay).await;
            response
        }
        crate::ApiFault::Late(delay) => {
            // Its own task: the work happens even if the client hangs up meanwhile.
            let late = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                next.run(request).await
            });
            late.await.unwrap_or_else(|_| {
                LineError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                    .into_response()
            })
        }
        crate::ApiFault::None => next.run(request).await,
    }
}

/// `Authorization: Bearer <token>` with the channel's token or a live short-lived one.
async fn authorize(State(sim): State<Simulator>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if sim.authorize(token, request.uri().path()) {
        next.run(request).await
    } else {
        LineError::unauthorized().into_response()
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, LineError> {
    serde_json::from_slice(body).map_err(|e| {
        LineError::invalid(vec![Violation {
            property: String::new(),
            message: format!("The request body could not be parsed: {e}"),
        }])
    })
}

/// LINE's checks on `messages`: count, then each message, by linesim's own reading of
/// LINE's specification (`crate::spec`), not the client's validator.
fn check_messages(messages: &[Value]) -> Result<(), LineError> {
    crate::spec::check_messages(messages)
}

/// The `X-Line-Retry-Key` header, which must be a UUID when present.
fn retry_key(headers: &HeaderMap) -> Result<Option<Uuid>, LineError> {
    match headers.get("x-line-retry-key") {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|v| Uuid::parse_str(v).ok())
            .map(Some)
            .ok_or_else(|| LineError::bad_request("The retry key must be in UUID format")),
    }
}

fn is_chat_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'C' | 'R'))
        && id.len() == 33
        && chars.all(|c| c.is_ascii_hexdigit())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReplyRequest {
    reply_token: String,
    messages: Vec<Value>,
    #[serde(default)]
    notification_disabled: bool,
}

async fn reply(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Answer {
    sim.limit("reply")?;
    if headers.contains_key("x-line-retry-key") {
        return Err(LineError::bad_request(
            "X-Line-Retry-Key is not supported for this endpoint",
        ));
    }
    let request: ReplyRequest = parse(&body)?;
    check_messages(&request.messages)?;
    let sent = sim.reply(
        &request.reply_token,
        &request.messages,
        request.notification_disabled,
    )?;
    Ok(Json(json!({ "sentMessages": sent })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PushRequest {
    to: String,
    messages: Vec<Value>,
    #[serde(default)]
    notification_disabled: bool,
}

async fn push(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Answer {
    sim.limit("push")?;
    let key = retry_key(&headers)?;
    let request: PushRequest = parse(&body)?;
    check_messages(&request.messages)?;
    if !is_chat_id(&request.to) {
        return Err(LineError::bad_request(
            "The property, 'to', in the request body is invalid (line-user-id).",
        ));
    }
    sim.send(
        key,
        &[request.to],
        Via::Push,
        &request.messages,
        request.notification_disabled,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MulticastRequest {
    to: Vec<String>,
    messages: Vec<Value>,
    #[serde(default)]
    notification_disabled: bool,
}

async fn multicast(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Answer {
    sim.limit("multicast")?;
    let key = retry_key(&headers)?;
    let request: MulticastRequest = parse(&body)?;
    check_messages(&request.messages)?;
    if request.to.is_empty() || request.to.len() > message::MAX_MULTICAST_RECIPIENTS {
        return Err(LineError::invalid(vec![Violation {
            property: "to".into(),
            message: "Size must be between 1 and 500".into(),
        }]));
    }
    sim.send(
        key,
        &request.to,
        Via::Multicast,
        &request.messages,
        request.notification_disabled,
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BroadcastRequest {
    messages: Vec<Value>,
    #[serde(default)]
    notification_disabled: bool,
}

async fn broadcast(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Answer {
    sim.limit("broadcast")?;
    let key = retry_key(&headers)?;
    let request: BroadcastRequest = parse(&body)?;
    check_messages(&request.messages)?;
    let to = sim.followers();
    sim.send(
        key,
        &to,
        Via::Broadcast,
        &request.messages,
        request.notification_disabled,
    )
}

#[derive(Deserialize)]
struct NarrowcastRequest {
    messages: Vec<Value>,
    #[serde(default)]
    limit: Option<NarrowcastLimit>,
}

#[derive(Deserialize)]
struct NarrowcastLimit {
    max: Option<usize>,
}

async fn narrowcast(State(sim): State<Simulator>, headers: HeaderMap, body: Bytes) -> Answer {
    sim.limit("narrowcast")?;
    let key = retry_key(&headers)?;
    let request: NarrowcastRequest = parse(&body)?;
    check_messages(&request.messages)?;
    let mut to = sim.followers();
    if let Some(max) = request.limit.and_then(|l| l.max) {
        to.truncate(max);
    }
    let mut response = sim.send(key, &to, Via::Narrowcast, &request.messages, false)?;
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::ACCEPTED;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct ValidateRequest {
    messages: Vec<Value>,
}

async fn validate(State(sim): State<Simulator>, Path(kind): Path<String>, body: Bytes) -> Answer {
    sim.limit("validate")?;
    if !matches!(
        kind.as_str(),
        "reply" | "push" | "multicast" | "narrowcast" | "broadcast"
    ) {
        return Err(LineError::not_found());
    }
    let request: ValidateRequest = parse(&body)?;
    check_messages(&request.messages)?;
    Ok(Json(json!({})).into_response())
}

async fn quota(State(sim): State<Simulator>) -> Answer {
    sim.limit("quota")?;
    Ok(Json(match sim.config().monthly_quota {
        Some(value) => json!({ "type": "limited", "value": value }),
        None => json!({ "type": "none" }),
    })
    .into_response())
}

async fn consumption(State(sim): State<Simulator>) -> Answer {
    sim.limit("quota")?;
    Ok(Json(json!({ "totalUsage": sim.consumption() })).into_response())
}

async fn transcoding(State(sim): State<Simulator>, Path(id): Path<String>) -> Answer {
    sim.limit("content")?;
    let status = sim.transcoding(&id)?;
    Ok(Json(json!({ "status": status })).into_response())
}

async fn content(State(sim): State<Simulator>, Path(id): Path<String>) -> Answer {
    sim.limit("content")?;
    sim.content(&id, false)
}

async fn preview(State(sim): State<Simulator>, Path(id): Path<String>) -> Answer {
    sim.limit("content")?;
    sim.content(&id, true)
}

async fn profile(State(sim): State<Simulator>, Path(user_id): Path<String>) -> Answer {
    sim.limit("profile")?;
    let user = sim
        .profile(&UserId::new(user_id))
        .ok_or_else(LineError::not_found)?;
    let mut body = json!({
        "displayName": user.display_name,
        "userId": user.user_id,
    });
    if !sim.config().profiles_without_language {
        body["language"] = user.language.into();
    }
    if let Some(url) = user.picture_url {
        body["pictureUrl"] = url.into();
    }
    if let Some(status) = user.status_message {
        body["statusMessage"] = status.into();
    }
    Ok(Json(body).into_response())
}

/// `GET /v2/bot/group/{groupId}/member/{userId}`: a member's name and picture, friend of
/// the account or not; 404 for a group the bot is not in or someone not in it.
async fn group_member(
    State(sim): State<Simulator>,
    Path((group_id, user_id)): Path<(String, String)>,
) -> Answer {
    sim.limit("group_member")?;
    member(&sim, 'C', &group_id, &user_id)
}

/// `GET /v2/bot/room/{roomId}/member/{userId}`, as for groups.
async fn room_member(
    State(sim): State<Simulator>,
    Path((room_id, user_id)): Path<(String, String)>,
) -> Answer {
    sim.limit("room_member")?;
    member(&sim, 'R', &room_id, &user_id)
}

fn member(sim: &Simulator, kind: char, chat: &str, user_id: &str) -> Answer {
    if !chat.starts_with(kind) {
        return Err(LineError::not_found());
    }
    let user = sim
        .member(chat, &UserId::new(user_id))
        .ok_or_else(LineError::not_found)?;
    let mut body = json!({
        "displayName": user.display_name,
        "userId": user.user_id,
    });
    if let Some(url) = user.picture_url {
        body["pictureUrl"] = url.into();
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct FollowersQuery {
    limit: Option<String>,
    start: Option<String>,
}

async fn followers(State(sim): State<Simulator>, Query(query): Query<FollowersQuery>) -> Answer {
    sim.limit("followers")?;
    if !sim.config().verified {
        return Err(LineError::new(
            StatusCode::FORBIDDEN,
            "Access to this API is not available for your account",
        ));
    }
    let limit = match query.limit.as_deref() {
        None => 300,
        Some(text) => match text.parse::<usize>() {
            Ok(n @ 1..=1000) => n,
            _ => {
                return Err(LineError::invalid(vec![Violation {
                    property: "limit".into(),
                    message: "Must be between 1 and 1000".into(),
                }]));
            }
        },
    };
    let (ids, next) = sim.followers_page(limit, query.start.as_deref())?;
    let mut body = json!({ "userIds": ids });
    if let Some(next) = next {
        body["next"] = next.into();
    }
    Ok(Json(body).into_response())
}

async fn bot_info(State(sim): State<Simulator>) -> Answer {
    sim.limit("info")?;
    let config = sim.config();
    let (chat_mode, mark_as_read_mode) = sim.account_modes();
    Ok(Json(json!({
        "userId": config.bot_user_id,
        "basicId": "@tsunagi-sim",
        "displayName": config.bot_name,
        "pictureUrl": "https://profile.line-scdn.net/sim/bot",
        "chatMode": chat_mode,
        "markAsReadMode": mark_as_read_mode,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoadingRequest {
    chat_id: String,
    #[serde(default = "five")]
    loading_seconds: u32,
}

fn five() -> u32 {
    5
}

async fn loading(State(sim): State<Simulator>, body: Bytes) -> Answer {
    sim.limit("loading")?;
    let request: LoadingRequest = parse(&body)?;
    if !request.chat_id.starts_with('U') || !is_chat_id(&request.chat_id) {
        return Err(LineError::invalid(vec![Violation {
            property: "chatId".into(),
            message: "The loading animation can only be shown in one-on-one chats".into(),
        }]));
    }
    let seconds = request.loading_seconds;
    if !(5..=60).contains(&seconds) || !seconds.is_multiple_of(5) {
        return Err(LineError::invalid(vec![Violation {
            property: "loadingSeconds".into(),
            message: "Must be a multiple of 5 between 5 and 60".into(),
        }]));
    }
    sim.show_loading(UserId::new(request.chat_id), seconds);
    Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkAsReadRequest {
    mark_as_read_token: String,
}

async fn mark_as_read(State(sim): State<Simulator>, body: Bytes) -> Answer {
    sim.limit("mark_as_read")?;
    let request: MarkAsReadRequest = parse(&body)?;
    if !sim.mark_read(&request.mark_as_read_token) {
        return Err(LineError::bad_request("Invalid markAsReadToken"));
    }
    Ok(Json(json!({})).into_response())
}

async fn get_webhook(State(sim): State<Simulator>) -> Answer {
    sim.limit("webhook_endpoint")?;
    let (endpoint, active) = sim.webhook_setting();
    Ok(Json(json!({
        "active": active,
        "endpoint": endpoint.unwrap_or_default(),
    }))
    .into_response())
}

#[derive(Deserialize)]
struct WebhookRequest {
    endpoint: Option<String>,
}

/// LINE wants HTTPS; plain HTTP is allowed for this machine only, for the demo and tests.
fn check_endpoint(endpoint: &str) -> Result<(), LineError> {
    let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| endpoint.starts_with(prefix));
    if (endpoint.starts_with("https://") || local) && endpoint.len() <= 500 {
        Ok(())
    } else {
        Err(LineError::invalid(vec![Violation {
            property: "endpoint".into(),
            message: "Must be an HTTPS URL of at most 500 characters".into(),
        }]))
    }
}

async fn set_webhook(State(sim): State<Simulator>, body: Bytes) -> Answer {
    sim.limit("webhook_endpoint")?;
    let request: WebhookRequest = parse(&body)?;
    let endpoint = request.endpoint.unwrap_or_default();
    check_endpoint(&endpoint)?;
    sim.set_webhook_endpoint(endpoint);
    Ok(Json(json!({})).into_response())
}

async fn test_webhook(State(sim): State<Simulator>, body: Bytes) -> Answer {
    sim.limit("webhook_test")?;
    let request: WebhookRequest = if body.is_empty() {
        WebhookRequest { endpoint: None }
    } else {
        parse(&body)?
    };
    let endpoint = match request.endpoint {
        Some(endpoint) => {
            check_endpoint(&endpoint)?;
            endpoint
        }
        // The URL set, tested even while "Use webhook" is off.
        None => sim
            .webhook_url()
            .ok_or_else(|| LineError::bad_request("The webhook URL is not set"))?,
    };
    if let Some(unanswered) = sim.webhook_test_unanswered() {
        let at = u64::try_from(sim.now()).unwrap_or(0);
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at);
        let timestamp = humantime::format_rfc3339_millis(at);
        return Ok(Json(json!({
            "timestamp": timestamp.to_string(),
            "statusCode": unanswered.status_code,
            "reason": unanswered.reason,
            "detail": unanswered.detail,
        }))
        .into_response());
    }
    let report = sim.test_webhook(&endpoint).await;
    Ok(Json(report).into_response())
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

async fn issue_token(State(sim): State<Simulator>, body: Bytes) -> Response {
    issue(&sim, &body, false)
}

/// `POST /oauth2/v3/token`: a stateless token, fifteen minutes, any number of them.
async fn issue_stateless_token(State(sim): State<Simulator>, body: Bytes) -> Response {
    issue(&sim, &body, true)
}

fn issue(sim: &Simulator, body: &[u8], stateless: bool) -> Response {
    let oauth_error = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": description })),
        )
            .into_response()
    };
    if sim.limit("token").is_err() {
        return LineError::rate_limited().into_response();
    }
    let Ok(request) = serde_urlencoded::from_bytes::<TokenRequest>(body) else {
        return oauth_error("invalid_request", "the body is not form-encoded");
    };
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let config = sim.config();
    if request.client_id.as_deref() != Some(config.channel_id.as_str()) {
        return oauth_error("invalid_client", "invalid client_id");
    }
    if request.client_secret.as_deref() != Some(config.channel_secret.as_str()) {
        return oauth_error("invalid_client", "invalid client_secret");
    }
    let (token, expires_in) = if stateless {
        (sim.issue_stateless_token(), 900)
    } else {
        (sim.issue_short_lived_token(), 2_592_000)
    };
    Json(json!({
        "access_token": token,
        "expires_in": expires_in,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// The answer to a send that went out: `sentMessages` for push, `{}` for the rest.
pub(crate) fn sent_response(
    via: Via,
    request_id: &str,
    sent: &[crate::world::SentMessage],
) -> Response {
    let body = if via == Via::Push {
        json!({ "sentMessages": sent })
    } else {
        json!({})
    };
    let mut response = Json(body).into_response();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, id);
    }
    response
}

/// LINE's 409 for a retry key it already accepted.
pub(crate) fn already_accepted_response(
    via: Via,
    accepted: &crate::world::AlreadyAccepted,
) -> Response {
    let mut body = json!({ "message": "The retry key is already accepted" });
    if via == Via::Push {
        body["sentMessages"] = json!(accepted.sent_messages);
    }
    let mut response = (StatusCode::CONFLICT, Json(body)).into_response();
    if let Ok(id) = HeaderValue::from_str(&accepted.request_id) {
        response
            .headers_mut()
            .insert("x-line-accepted-request-id", id);
    }
    response
}

/// Raw bytes with a content type.
pub(crate) fn bytes_response(content_type: &str, bytes: bytes::Bytes) -> Response {
    let mut response = Response::new(Body::from(bytes));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
