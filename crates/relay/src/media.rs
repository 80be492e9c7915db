//! What users sent that LINE hosts only for a while (images, videos, audio, files): the
//! executor downloads it into the relay's data directory, and the channel's devices fetch it
//! from here. Each message has a folder of its own: `content` and `preview`, each with its
//! content type beside it, or a `gone` marker when the user unsent it first.

use std::path::PathBuf;

use tsunagi_line::{ChannelId, MessageId};

use crate::files::{partial_beside, sync_dir, write_atomically};
use crate::upload::{UploadLimits, Uploads};

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
    /// Whole, at `path`.
    Ready { content_type: String, path: PathBuf },
    /// The user unsent the message before it was downloaded.
    Gone,
    /// Not downloaded (yet), or no such message.
    Missing,
}

#[derive(Debug, Clone)]
pub struct MediaStore {
    dir: PathBuf,
    uploads: Uploads,
}

impl MediaStore {
    /// Keeps media under `dir`, and uploads within [`UploadLimits::default`].
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let uploads = Uploads::new(dir.join("uploads"), UploadLimits::default());
        Self { dir, uploads }
    }

    /// Keeps uploads within `limits`.
    #[must_use]
    pub fn with_upload_limits(mut self, limits: UploadLimits) -> Self {
        self.uploads = Uploads::new(self.dir.join("uploads"), limits);
        self
    }

    /// The images operators upload to send, beside what users sent.
    pub fn uploads(&self) -> &Uploads {
        &self.uploads
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
        let mut writing = self.begin(channel, message, part).await?;
        writing.write(bytes).await?;
        writing.finish(content_type).await.map(drop)
    }

    /// Starts writing one part, a chunk at a time, beside whatever is there: nothing shows
    /// until [`Writing::finish`], and two writers of one part never share a file.
    pub async fn begin(
        &self,
        channel: &ChannelId,
        message: &MessageId,
        part: Part,
    ) -> std::io::Result<Writing> {
        let folder = self.folder(channel, message).ok_or_else(invalid)?;
        tokio::fs::create_dir_all(&folder).await?;
        let partial = partial_beside(&folder.join(part.name()));
        let file = tokio::fs::File::create(&partial).await?;
        Ok(Writing {
            folder,
            part,
            partial: Some(partial),
            file,
            written: 0,
        })
    }

    /// Deletes all that is kept of a message's media.
    pub async fn delete(&self, channel: &ChannelId, message: &MessageId) -> std::io::Result<()> {
        let folder = self.folder(channel, message).ok_or_else(invalid)?;
        match tokio::fs::remove_dir_all(&folder).await {
            Ok(()) => sync_dir(folder.parent().unwrap_or(&self.dir)).await,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Notes that LINE no longer has the message's media: the user unsent it.
    pub async fn mark_gone(&self, channel: &ChannelId, message: &MessageId) -> std::io::Result<()> {
        let folder = self.folder(channel, message).ok_or_else(invalid)?;
        tokio::fs::create_dir_all(&folder).await?;
        write_atomically(&folder.join("gone"), b"", None).await
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
        let path = folder.join(part.name());
        if !tokio::fs::try_exists(&path).await? {
            return Ok(Stored::Missing);
        }
        let content_type = tokio::fs::read_to_string(folder.join(format!("{}.type", part.name())))
            .await
            .unwrap_or_else(|_| "application/octet-stream".to_owned());
        Ok(Stored::Ready { content_type, path })
    }
}

/// A part being written. Dropped unfinished, its file is removed.
#[derive(Debug)]
pub struct Writing {
    folder: PathBuf,
    part: Part,
    partial: Option<PathBuf>,
    file: tokio::fs::File,
    written: u64,
}

impl Writing {
    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(&mut self.file, chunk).await?;
        self.written += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Syncs the file, puts it in place with its content type, and syncs the folder: once
    /// this returns, the part survives a crash. Returns its size.
    pub async fn finish(mut self, content_type: &str) -> std::io::Result<u64> {
        self.file.sync_all().await?;
        let name = self.part.name();
        write_atomically(
            &self.folder.join(format!("{name}.type")),
            content_type.as_bytes(),
            None,
        )
        .await?;
        if let Some(partial) = self.partial.take() {
            tokio::fs::rename(&partial, self.folder.join(name)).await?;
        }
        sync_dir(&self.folder).await?;
        Ok(self.written)
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(partial) = self.partial.take() {
            let _ = std::fs::remove_file(partial);
        }
    }
}

fn invalid() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        "not a LINE channel or message id",
    )
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
        let Stored::Ready { content_type, path } =
            media.open(&channel, &message, Part::Content).await.unwrap()
        else {
            panic!("not kept")
        };
        assert_eq!(content_type, "image/jpeg");
        assert_eq!(std::fs::read(path).unwrap(), b"jpeg");
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
    async fn two_writers_of_one_part_never_mix_and_an_unfinished_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let media = MediaStore::new(dir.path());
        let channel = ChannelId::from("1656789012");
        let message = MessageId::from("501");
        let mut first = media
            .begin(&channel, &message, Part::Content)
            .await
            .unwrap();
        let mut second = media
            .begin(&channel, &message, Part::Content)
            .await
            .unwrap();
        first.write(&[1; 1000]).await.unwrap();
        second.write(&[2; 10]).await.unwrap();
        first.write(&[1; 1000]).await.unwrap();
        assert_eq!(second.finish("video/mp4").await.unwrap(), 10);
        assert_eq!(first.finish("video/mp4").await.unwrap(), 2000);
        let Stored::Ready { path, .. } =
            media.open(&channel, &message, Part::Content).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(
            std::fs::read(path).unwrap(),
            vec![1; 2000],
            "one writer's bytes, whole"
        );

        let abandoned = media
            .begin(&channel, &MessageId::from("502"), Part::Content)
            .await
            .unwrap();
        drop(abandoned);
        let left: Vec<_> = std::fs::read_dir(dir.path().join("1656789012").join("502"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
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
