//! Media users sent, cached on this desk: fetched from the relay once, then read from disk,
//! offline too. Each message's file sits in the cache folder under its LINE id, its content
//! type beside it.

use std::path::{Path, PathBuf};

use tsunagi_line::{ChannelId, MessageId};

use crate::query::MediaState;
use crate::relay::RelayClient;
use crate::{Error, Result, Store};

/// A cached file: where it is, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub path: PathBuf,
    pub content_type: String,
}

#[derive(Debug, Clone)]
pub struct MediaCache {
    dir: PathBuf,
}

impl MediaCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of `message` (or its thumbnail), from the cache, else from the relay into
    /// the cache, unless the log (`store`) says the relay has none to give. Fetches of one
    /// file at once each write their own, and the last whole one stands.
    pub async fn get(
        &self,
        (relay, store): (&RelayClient, &Store),
        channel: &ChannelId,
        message: &MessageId,
        preview: bool,
    ) -> Result<Cached> {
        let id = message.as_str();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Invalid(format!("{id:?} is not a LINE message id")));
        }
        let name = if preview {
            format!("{id}.preview")
        } else {
            id.to_owned()
        };
        let folder = self.dir.join(channel.as_str());
        let path = folder.join(&name);
        let type_path = folder.join(format!("{name}.type"));
        if let (Ok(true), Ok(content_type)) = (
            tokio::fs::try_exists(&path).await,
            tokio::fs::read_to_string(&type_path).await,
        ) {
            return Ok(Cached { path, content_type });
        }
        match store.media_state(message).await? {
            Some(MediaState::Gone) => {
                return Err(Error::Unavailable(
                    "the patient unsent it before it was kept".into(),
                ));
            }
            Some(MediaState::Failed) => {
                return Err(Error::Unavailable("the relay could not keep it".into()));
            }
            Some(MediaState::Stored) | None => {}
        }
        let (content_type, bytes) = relay.media(channel, message, preview).await?;
        tokio::fs::create_dir_all(&folder).await.map_err(io)?;
        // The file first, its type last: a type on disk means the file is whole.
        write_atomically(&path, &bytes).await?;
        write_atomically(&type_path, content_type.as_bytes()).await?;
        Ok(Cached { path, content_type })
    }
}

fn io(error: std::io::Error) -> Error {
    Error::Store(format!("the media cache: {error}"))
}

/// Writes beside the file under a name no other fetch uses, then renames over it.
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    let written = async {
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    written.map_err(io)
}
