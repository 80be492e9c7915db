//! What the relay's automations need from a channel's owners: the credentials it keeps
//! sealed (the AI endpoint's API key, the Telegram bot's token), and a test of Telegram
//! alerts.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde_json::value::RawValue;
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{
    CredentialKept, ErrorCode, SetCredential, TelegramChatResult, TelegramTest, TelegramTested,
};
use tsunagi_proto::{Credential, OpId, Operation};

use super::auth::Authenticated;
use super::{ApiError, bad_request};
use crate::relay::Relay;
use crate::store::{LogStore, NewBody, NewEntry, StoreError};
use crate::telegram::TelegramError;

pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route(
            "/v1/channels/{channel_id}/credentials/{name}",
            put(set_credential::<S>).delete(remove_credential::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/telegram/test",
            post(test_telegram::<S>),
        )
}

fn credential(name: &str) -> Result<Credential, ApiError> {
    Credential::named(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "the relay keeps `ai_key` and `telegram_token`",
        )
    })
}

/// A credential as an owner pasted it: one line of printable ASCII.
fn parse_value(credential: Credential, value: &str) -> Result<&str, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.len() > 512 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_request(
            "value must be the key or token as the service shows it: one line, no spaces",
        ));
    }
    if credential == Credential::TelegramToken {
        let (id, secret) = value.split_once(':').unwrap_or(("", ""));
        let is_token = !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
            && secret.len() >= 10
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !is_token {
            return Err(bad_request(
                "a Telegram bot token is the bot's number, a colon and its secret, as \
                 @BotFather gives it",
            ));
        }
    }
    Ok(value)
}

fn telegram_failed(error: TelegramError) -> ApiError {
    match error {
        TelegramError::Token(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::TelegramRefused,
            "Telegram does not know this bot token: copy it again from @BotFather",
        ),
        other => ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::TelegramUnavailable,
            format!("Telegram could not be asked: {other}"),
        ),
    }
}

/// Logs that the relay keeps (or no longer keeps) a credential, as the owner's op.
async fn log_credential<S: LogStore>(
    relay: &Relay<S>,
    device: &Authenticated,
    channel: &ChannelId,
    credential: Credential,
    set: bool,
) -> Result<(), ApiError> {
    let op = serde_json::to_string(&Operation::CredentialSet { credential, set })
        .ok()
        .and_then(|json| RawValue::from_string(json).ok())
        .ok_or_else(|| StoreError::Corrupt("an op that is not JSON".into()))?;
    let entry = NewEntry {
        at: relay.now(),
        body: NewBody::Op {
            op_id: OpId::new(),
            device: device.0.id.clone(),
            role: Some(device.0.role),
            op,
        },
    };
    relay.store.append(channel, vec![entry]).await?;
    Ok(())
}

/// `PUT /v1/channels/{id}/credentials/{name}` (the channel's owners): keeps it sealed. A
/// Telegram token is checked with Telegram first; nothing is kept if it is refused.
#[tracing::instrument(skip_all, fields(channel = %channel_id, credential = %name))]
async fn set_credential<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<CredentialKept>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let credential = credential(&name)?;
    let request: SetCredential = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("the body must be {{\"value\": \"…\"}}: {e}")))?;
    let value = parse_value(credential, &request.value)?;
    let bot = match credential {
        Credential::TelegramToken => Some(
            relay
                .telegram()
                .bot_name(value)
                .await
                .map_err(telegram_failed)?,
        ),
        Credential::AiKey => None,
    };
    relay
        .set_credential(&channel, credential, Some(value))
        .await?;
    log_credential(&relay, &device, &channel, credential, true).await?;
    tracing::info!("credential kept");
    Ok(Json(CredentialKept {
        credential,
        set: true,
        bot,
    }))
}

/// `DELETE /v1/channels/{id}/credentials/{name}` (the channel's owners): forgets it.
#[tracing::instrument(skip_all, fields(channel = %channel_id, credential = %name))]
async fn remove_credential<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, name)): Path<(String, String)>,
) -> Result<Json<CredentialKept>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let credential = credential(&name)?;
    relay.set_credential(&channel, credential, None).await?;
    log_credential(&relay, &device, &channel, credential, false).await?;
    Ok(Json(CredentialKept {
        credential,
        set: false,
        bot: None,
    }))
}

/// `POST /v1/channels/{id}/telegram/test` (the channel's owners): a test message to each
/// chat, now, and what Telegram said to each.
async fn test_telegram<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    body: Bytes,
) -> Result<Json<TelegramTested>, ApiError> {
    let channel = ChannelId::new(channel_id);
    device.owner_of(&channel)?;
    let request: TelegramTest = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("the body must be {{\"chats\": [...]}}: {e}")))?;
    if request.chats.is_empty()
        || request.chats.len() > tsunagi_domain::validate::TELEGRAM_CHATS_MAX
    {
        return Err(bad_request(format!(
            "chats: 1 to {} chat ids",
            tsunagi_domain::validate::TELEGRAM_CHATS_MAX
        )));
    }
    let token = relay
        .credential(&channel, Credential::TelegramToken)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::NoCredential,
                "give the relay the Telegram bot's token first",
            )
        })?;
    let text = test_message(request.language.as_deref());
    let mut results = Vec::with_capacity(request.chats.len());
    for chat in request.chats {
        match relay.telegram().send(&token, chat, text).await {
            Ok(()) => results.push(TelegramChatResult {
                chat,
                ok: true,
                error: None,
            }),
            Err(error @ TelegramError::Chat { .. }) => results.push(TelegramChatResult {
                chat,
                ok: false,
                error: Some(error.to_string()),
            }),
            Err(error) => return Err(telegram_failed(error)),
        }
    }
    Ok(Json(TelegramTested { results }))
}

fn test_message(language: Option<&str>) -> &'static str {
    match language {
        Some("ja") => "Tsunagi のテストです。このチャットにクリニックの通知が届きます。",
        Some("th") => "ทดสอบจาก Tsunagi: แชทนี้จะได้รับการแจ้งเตือนของคลินิก",
        Some("zh-TW") => "Tsunagi 測試訊息:此聊天室將收到診所的通知。",
        _ => "A test from Tsunagi: this chat will get the clinic's alerts.",
    }
}
