//! Device tokens and enrollment codes: random, shown once, stored only as SHA-256 hashes,
//! compared in constant time.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tsunagi_line::ChannelId;
use tsunagi_proto::DeviceId;
use tsunagi_proto::api::{ErrorCode, Role};

use crate::http::ApiError;
use crate::relay::Relay;
use crate::store::{Device, LogStore};

const TOKEN_PREFIX: &str = "tsd_";
/// Enrollment codes avoid letters people confuse (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 12;

pub fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// A new device id and its token `tsd_<device id>_<256 random bits>`.
pub fn new_device_token() -> (DeviceId, String) {
    let id = DeviceId::new(uuid::Uuid::new_v4().simple().to_string());
    let secret: [u8; 32] = rand::rng().random();
    let token = format!("{TOKEN_PREFIX}{id}_{}", URL_SAFE_NO_PAD.encode(secret));
    (id, token)
}

/// The device id a token claims to belong to.
pub fn token_device(token: &str) -> Option<DeviceId> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then(|| DeviceId::new(id))
}

/// A new one-time code, grouped for reading aloud: `K7QM-3XPD-9WTA`.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed (any case, with or without dashes or spaces), as hashed.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

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

    async fn from_request_parts(
        parts: &mut Parts,
        relay: &Arc<Relay<S>>,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |message: &str| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                message.to_owned(),
            )
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorized("send the device token as `Authorization: Bearer …`"))?;
        let id = token_device(token).ok_or_else(|| unauthorized("not a device token"))?;
        let device = relay
            .store
            .device(&id)
            .await?
            .ok_or_else(|| unauthorized("unknown device token"))?;
        let matches: bool = sha256(token).ct_eq(&device.token_hash).into();
        if !matches {
            return Err(unauthorized("unknown device token"));
        }
        if device.revoked_at.is_some() {
            return Err(unauthorized("this device was revoked"));
        }
        let now = crate::relay::now();
        if device
            .last_seen_at
            .is_none_or(|seen| now.0 - seen.0 >= SEEN_EVERY_MS)
            && let Err(error) = relay.store.seen(&id, now).await
        {
            tracing::warn!(%error, device = %id, "recording when a device was last seen");
        }
        Ok(Authenticated(device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_device_and_carries_256_random_bits() {
        let (id, token) = new_device_token();
        assert_eq!(token_device(&token), Some(id));
        // The secret is base64url, which may itself contain `_`: it is all after the id.
        let (_, secret) = token
            .strip_prefix(TOKEN_PREFIX)
            .unwrap()
            .split_once('_')
            .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_ne!(new_device_token().1, token);
        assert_eq!(token_device("Bearer nonsense"), None);
        assert_eq!(token_device("tsd__x"), None);
    }

    #[test]
    fn codes_are_readable_and_typed_codes_normalize_to_the_same_text() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert!(
            code.chars()
                .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8)))
        );
        let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(normalize_code(&typed), normalize_code(&code));
    }
}
