//! The account and its channel: bot info, profiles (group and room members' too),
//! followers, the month's quota, the webhook endpoint and its test, and access tokens.

use std::fmt;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::id::UserId;

use super::call::{Body, Call};
use super::error::unencodable;
use super::{Client, Result};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub display_name: String,
    pub user_id: UserId,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
}

/// One page of follower ids; ask again with `next` until it is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowerIds {
    pub user_ids: Vec<UserId>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    pub user_id: UserId,
    pub basic_id: String,
    pub premium_id: Option<String>,
    pub display_name: String,
    pub picture_url: Option<String>,
    /// `chat` or `bot`.
    pub chat_mode: String,
    /// `manual` or `auto`.
    pub mark_as_read_mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Quota {
    /// `none` (unlimited) or `limited`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<u64>,
}

/// The webhook URL LINE has for the channel, and whether it sends webhooks there.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebhookEndpoint {
    pub endpoint: String,
    /// The channel's "Use webhook" switch: off, LINE delivers nothing, whatever the URL.
    pub active: bool,
}

/// LINE's report of sending an empty test webhook to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookTest {
    /// LINE may leave it out (when it got no answer, say): absent reads as false.
    #[serde(default)]
    pub success: bool,
    pub timestamp: String,
    /// The endpoint's HTTP status; zero or negative when LINE got no answer at all.
    pub status_code: i32,
    /// Why, in LINE's words: `OK`, `COULD_NOT_CONNECT`, `REQUEST_TIMEOUT`,
    /// `ERROR_STATUS_CODE`, `UNCLASSIFIED`.
    pub reason: String,
    pub detail: String,
}

impl WebhookTest {
    /// Whether the endpoint answered LINE with a 2xx. The status decides, whatever
    /// `success` says: no answer (a status of zero or less) or any other status is a
    /// failure.
    pub fn reached(&self) -> bool {
        (200..300).contains(&self.status_code)
    }

    /// Whether LINE got any answer from the endpoint.
    pub fn answered(&self) -> bool {
        self.status_code > 0
    }
}

/// A short-lived channel access token.
#[derive(Clone, Deserialize)]
pub struct IssuedToken {
    pub access_token: String,
    /// Seconds.
    pub expires_in: u64,
    pub token_type: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"…")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .finish()
    }
}

impl Client {
    #[tracing::instrument(skip_all, err)]
    pub async fn profile(&self, user_id: &UserId) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/profile/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// The profile of a member of a group the bot is in, friend of the account or not
    /// (`/profile` answers 404 for those who are not). LINE gives a member's name and
    /// picture only: no status message or language.
    #[tracing::instrument(skip_all, err)]
    pub async fn group_member_profile(
        &self,
        group_id: &crate::id::GroupId,
        user_id: &UserId,
    ) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/group/{group_id}/member/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// The profile of a member of a room (a multi-person chat) the bot is in, as
    /// [`group_member_profile`](Self::group_member_profile) for groups.
    #[tracing::instrument(skip_all, err)]
    pub async fn room_member_profile(
        &self,
        room_id: &crate::id::RoomId,
        user_id: &UserId,
    ) -> Result<Profile> {
        let url = self.api(&format!("/v2/bot/room/{room_id}/member/{user_id}"));
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    /// One page of follower ids. `limit` defaults to 300 at LINE; at most 1,000.
    #[tracing::instrument(skip_all, err)]
    pub async fn followers_ids(
        &self,
        limit: Option<u32>,
        start: Option<&str>,
    ) -> Result<FollowerIds> {
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(("limit", limit.to_string()));
        }
        if let Some(start) = start {
            query.push(("start", start.to_owned()));
        }
        let mut call = Call::new(Method::GET, self.api("/v2/bot/followers/ids"));
        call.query = &query;
        self.execute(call).await?.json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn bot_info(&self) -> Result<BotInfo> {
        self.execute(Call::new(Method::GET, self.api("/v2/bot/info")))
            .await?
            .json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn quota(&self) -> Result<Quota> {
        self.execute(Call::new(Method::GET, self.api("/v2/bot/message/quota")))
            .await?
            .json()
    }

    /// Messages counted against this month's quota so far.
    #[tracing::instrument(skip_all, err)]
    pub async fn quota_consumption(&self) -> Result<u64> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Consumption {
            total_usage: u64,
        }
        let url = self.api("/v2/bot/message/quota/consumption");
        let consumption: Consumption = self.execute(Call::new(Method::GET, url)).await?.json()?;
        Ok(consumption.total_usage)
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn webhook_endpoint(&self) -> Result<WebhookEndpoint> {
        let url = self.api("/v2/bot/channel/webhook/endpoint");
        self.execute(Call::new(Method::GET, url)).await?.json()
    }

    #[tracing::instrument(skip_all, err)]
    pub async fn set_webhook_endpoint(&self, endpoint: &str) -> Result<()> {
        let call = Call::new(Method::PUT, self.api("/v2/bot/channel/webhook/endpoint"))
            .json(&serde_json::json!({ "endpoint": endpoint }))?;
        self.execute(call).await.map(drop)
    }

    /// Has LINE send an empty webhook to `endpoint` (or the configured one) and report.
    #[tracing::instrument(skip_all, err)]
    pub async fn test_webhook(&self, endpoint: Option<&str>) -> Result<WebhookTest> {
        let body = match endpoint {
            Some(endpoint) => serde_json::json!({ "endpoint": endpoint }),
            None => serde_json::json!({}),
        };
        let call = Call::new(Method::POST, self.api("/v2/bot/channel/webhook/test")).json(&body)?;
        self.execute(call).await?.json()
    }

    /// Issues a short-lived (30 day) channel access token from the channel's id and secret.
    /// LINE keeps at most 30 of them per channel: a 31st revokes the oldest, so this is for
    /// a client that keeps its token.
    #[tracing::instrument(skip_all, err)]
    pub async fn issue_channel_token(
        &self,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        self.issue_token("/v2/oauth/accessToken", channel_id, channel_secret)
            .await
    }

    /// Issues a stateless channel access token (15 minutes, no cap): for a one-off call,
    /// it revokes no other token.
    #[tracing::instrument(skip_all, err)]
    pub async fn issue_stateless_token(
        &self,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        self.issue_token("/oauth2/v3/token", channel_id, channel_secret)
            .await
    }

    async fn issue_token(
        &self,
        path: &str,
        channel_id: &crate::id::ChannelId,
        channel_secret: &str,
    ) -> Result<IssuedToken> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", channel_id.as_str()),
            ("client_secret", channel_secret),
        ])
        .map_err(unencodable)?;
        let mut call = Call::new(Method::POST, self.api(path));
        call.body = Body::Form(form.into());
        self.execute(call).await?.json()
    }
}
