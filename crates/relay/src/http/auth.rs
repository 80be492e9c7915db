//! Which device a request comes from: its `Authorization: Bearer` device token, checked
//! against the store, and what that device may reach.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{ErrorCode, Role};

use super::ApiError;
use super::client::{ClientAddress, Strikes};
use crate::relay::Relay;
use crate::store::{Device, LogStore};
use crate::token::{token_device, token_matches};

/// The device behind a request's `Authorization: Bearer` token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Device);

impl Authenticated {
    /// A device reads and appends only for its own channel; an owner of the whole relay,
    /// for every channel.
    pub fn for_channel(&self, channel: &ChannelId) -> Result<(), ApiError> {
        if self.reaches(channel) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "this device belongs to another channel",
            ))
        }
    }

    pub fn owner_of(&self, channel: &ChannelId) -> Result<(), ApiError> {
        self.for_channel(channel)?;
        if self.0.role == Role::Owner {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "only the channel's owners may do this",
            ))
        }
    }

    /// Adding channels is for owners of the whole relay.
    pub fn relay_owner(&self) -> Result<(), ApiError> {
        if self.0.channel.is_none() && self.0.role == Role::Owner {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "only owners of the whole relay may do this",
            ))
        }
    }

    /// Whether this device reaches `channel`.
    pub fn reaches(&self, channel: &ChannelId) -> bool {
        self.0.channel.as_ref().is_none_or(|own| own == channel)
    }
}

/// How often a device's "last seen" is written: not on every request.
const SEEN_EVERY_MS: i64 = 60_000;

impl<S: LogStore> FromRequestParts<Arc<Relay<S>>> for Authenticated {
    type Rejection = ApiError;

    /// A desk whose token was proven lately is served from memory. Otherwise an address
    /// that failed too often waits before its token costs a lookup, and a token that proves
    /// nothing counts against its address.
    async fn from_request_parts(
        parts: &mut Parts,
        relay: &Arc<Relay<S>>,
    ) -> Result<Self, Self::Rejection> {
        let Ok(ClientAddress(address)) = ClientAddress::from_request_parts(parts, relay).await;
        let strikes = parts.extensions.get::<Arc<Strikes>>().cloned();
        let device = device_of(parts, relay, strikes.as_deref(), address).await;
        if let (Err(error), Some(strikes)) = (&device, &strikes)
            && error.status == StatusCode::UNAUTHORIZED
        {
            strikes.failed(address);
        }
        device.map(Authenticated)
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
        message.to_owned(),
    )
}

/// The device whose token the request bears: remembered, or looked up if the caller's
/// address has not failed too often.
async fn device_of<S: LogStore>(
    parts: &Parts,
    relay: &Arc<Relay<S>>,
    strikes: Option<&Strikes>,
    address: std::net::IpAddr,
) -> Result<Device, ApiError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("send the device token as `Authorization: Bearer …`"))?;
    let id = token_device(token).ok_or_else(|| unauthorized("not a device token"))?;
    let device = match relay.remembered(&id) {
        Some(device) => device,
        None => {
            if let Some(strikes) = strikes {
                strikes.check(address)?;
            }
            relay
                .store
                .device(&id)
                .await?
                .ok_or_else(|| unauthorized("unknown device token"))?
        }
    };
    if !token_matches(token, &device.token_hash) {
        return Err(unauthorized("unknown device token"));
    }
    if device.revoked_at.is_some() {
        return Err(unauthorized("this device was revoked"));
    }
    let now = relay.now();
    let mut device = device;
    if device
        .last_seen_at
        .is_none_or(|seen| now.0 - seen.0 >= SEEN_EVERY_MS)
    {
        match relay.store.seen(&id, now).await {
            Ok(()) => device.last_seen_at = Some(now),
            Err(error) => {
                tracing::warn!(%error, device = %id, "recording when a device was last seen");
            }
        }
    }
    relay.proven(&device);
    Ok(device)
}
