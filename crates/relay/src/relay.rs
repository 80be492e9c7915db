//! The relay's state, shared by every handler.

use std::collections::HashMap;
use std::sync::RwLock;

use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;

use crate::secret::{ChannelSecret, RelayKey};
use crate::store::{LogStore, StoreError};

/// The store, the key that opens channel secrets, and the opened secrets themselves.
#[derive(Debug)]
pub struct Relay<S> {
    pub store: S,
    key: RelayKey,
    secrets: RwLock<HashMap<ChannelId, ChannelSecret>>,
}

impl<S: LogStore> Relay<S> {
    pub fn new(store: S, key: RelayKey) -> Self {
        Self {
            store,
            key,
            secrets: RwLock::new(HashMap::new()),
        }
    }

    /// Registers a LINE channel; its secret is stored sealed with the relay's key.
    pub async fn add_channel(
        &self,
        channel: &ChannelId,
        secret: ChannelSecret,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(&secret);
        self.store.add_channel(channel, &sealed, now()).await?;
        self.secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(channel.clone(), secret);
        Ok(())
    }

    /// The channel's secret, opened once and then kept in memory. `None`: no such channel.
    pub async fn secret(&self, channel: &ChannelId) -> Result<Option<ChannelSecret>, StoreError> {
        if let Some(secret) = self
            .secrets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(channel)
        {
            return Ok(Some(secret.clone()));
        }
        let Some(sealed) = self.store.channel_secret(channel).await? else {
            return Ok(None);
        };
        let secret = self
            .key
            .open(&sealed)
            .map_err(|e| StoreError::Corrupt(format!("channel {channel}: {e}")))?;
        self.secrets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(channel.clone(), secret.clone());
        Ok(Some(secret))
    }
}

/// Now, in Unix milliseconds: when the relay received something.
pub fn now() -> UnixMillis {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    UnixMillis(millis)
}
