//! What users sent that LINE hosts only for a while (images, videos, audio, files): the
//! executor downloads it into the relay's data directory, and the channel's devices fetch it
//! from here. Each message has a folder of its own: `content` and `preview`, each with its
//! content type beside it, or a `gone` marker when the user unsent it first.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tsunagi_line::{ChannelId, MessageId};

/// The full file, or LINE's thumbnail of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Content,
    Preview,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Content => "content",
            Part::Preview => "preview",
        }
    }
}

/// What the relay has of a message's media.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Ready {
        content_type: String,
        bytes: Bytes,
    },
    /// The user unsent the message before it was downloaded.
    Gone,
    /// Not downloaded (yet), or no such message.
    Missing,
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
}

impl MediaStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The images operators upload to send, beside what users sent.
    pub fn uploads(&self) -> crate::upload::Uploads {
        crate::upload::Uploads::new(self.dir.join("uploads"))
    }

    /// The message's folder. LINE's channel and message ids are digits; anything else
    /// names no file here.
    fn folder(&self, channel: &ChannelId, message: &MessageId) -> Option<PathBuf> {
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit());
        (digits(channel.as_str()) && digits(message.as_str()))
            .then(|| self.dir.join(channel.as_str()).join(message.as_str()))
    }

    /// Keeps one part, written whole or not at all.
    pub async fn save(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        part: Part,
        content_type: &str,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        let folder = self.folder(channel, message).ok_or_else(invalid)?;
        tokio::fs::create_dir_all(&folder).await?;
        write_atomically(
            &folder.join(format!("{}.type", part.name())),
            content_type.as_bytes(),
        )
        .await?;
        write_atomically(&folder.join(part.name()), bytes).await
    }

    /// Notes that LINE no longer has the message's media: the user unsent it.
    pub async fn mark_gone(&self, channel: &ChannelId, message: &MessageId) -> std::io::Result<()> {
        let folder = self.folder(channel, message).ok_or_else(invalid)?;
        tokio::fs::create_dir_all(&folder).await?;
        write_atomically(&folder.join("gone"), b"").await
    }

    pub async fn open(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        part: Part,
    ) -> std::io::Result<Stored> {
        let Some(folder) = self.folder(channel, message) else {
            return Ok(Stored::Missing);
        };
        if tokio::fs::try_exists(folder.join("gone")).await? {
            return Ok(Stored::Gone);
        }
        let bytes = match tokio::fs::read(folder.join(part.name())).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Stored::Missing),
            Err(e) => return Err(e),
        };
        let content_type = tokio::fs::read_to_string(folder.join(format!("{}.type", part.name())))
            .await
            .unwrap_or_else(|_| "application/octet-stream".to_owned());
        Ok(Stored::Ready {
            content_type,
            bytes: bytes.into(),
        })
    }
}

fn invalid() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a LINE channel or message id",
    )
}

/// Writes beside the file, syncs, then renames over it: a crash leaves the old file or the
/// new one, never half of one.
pub(crate) async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    let mut file = tokio::fs::File::create(&partial).await?;
    tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&partial, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_part_is_kept_with_its_type_and_a_gone_message_stays_gone() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::new(dir.path());
        let channel = ChannelId::from("1656789012");
        let message = MessageId::from("500");
        assert_eq!(
            media.open(&channel, &message, Part::Content).await.unwrap(),
            Stored::Missing
        );
        media
            .save(&channel, &message, Part::Content, "image/jpeg", b"jpeg")
            .await
            .unwrap();
        assert_eq!(
            media.open(&channel, &message, Part::Content).await.unwrap(),
            Stored::Ready {
                content_type: "image/jpeg".into(),
                bytes: Bytes::from_static(b"jpeg")
            }
        );
        assert_eq!(
            media.open(&channel, &message, Part::Preview).await.unwrap(),
            Stored::Missing
        );
        media.mark_gone(&channel, &message).await.unwrap();
        assert_eq!(
            media.open(&channel, &message, Part::Content).await.unwrap(),
            Stored::Gone
        );
    }

    #[tokio::test]
    async fn ids_that_are_not_digits_name_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::new(dir.path());
        let channel = ChannelId::from("1656789012");
        for id in ["../../etc/passwd", "", "12/34", "1a"] {
            let message = MessageId::from(id);
            assert_eq!(
                media.open(&channel, &message, Part::Content).await.unwrap(),
                Stored::Missing
            );
            assert!(
                media
                    .save(&channel, &message, Part::Content, "x", b"x")
                    .await
                    .is_err()
            );
        }
    }
}
