//! Where uploads are kept: saved under a channel's folder, opened by name, counted against
//! the channel's quota, and swept once LINE no longer fetches them.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use image::ImageFormat;
use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;

use super::header::{self, Unread};
use super::{Kept, MAX_IMAGE, Opened, Swept, UploadError, Uploads};
use crate::files::write_atomically;

impl Uploads {
    /// Checks `bytes` is an image LINE takes and the relay can afford, makes its
    /// thumbnail, and keeps both for `channel`, as kept at `now`.
    #[tracing::instrument(skip_all, fields(channel = %channel, bytes = bytes.len()))]
    pub async fn save(
        &self,
        channel: &ChannelId,
        bytes: Bytes,
        now: UnixMillis,
    ) -> Result<Kept, UploadError> {
        if bytes.len() > MAX_IMAGE {
            return Err(UploadError::TooLarge(bytes.len()));
        }
        let header = header::read(&bytes).map_err(|unread| match unread {
            Unread::NotAnImage => UploadError::NotAnImage,
            Unread::Damaged => UploadError::Unreadable("its header is damaged".to_owned()),
        })?;
        self.shared.limits.admit(&header)?;
        let folder = self.channel_folder(channel)?;
        // Before decoding, so a full channel costs no decode; again before writing.
        self.check_quota(&folder, bytes.len() as u64, now).await?;
        let preview = self.thumbnail(header, bytes.clone()).await?;
        let _writing = self.shared.writing.lock().await;
        self.check_quota(&folder, (bytes.len() + preview.len()) as u64, now)
            .await?;
        let name = format!("{:032x}", rand::random::<u128>());
        let folder = folder.join(&name);
        tokio::fs::create_dir_all(&folder).await?;
        write_atomically(&folder.join("preview"), &preview, None).await?;
        // The original last: a folder with it is whole. Its time is the upload's age.
        write_atomically(&folder.join("original"), &bytes, Some(system_time(now))).await?;
        Ok(Kept {
            name,
            content_type: header.format.content_type(),
        })
    }

    /// The upload `name` (or its thumbnail) with its content type, as of `now`.
    pub async fn open(
        &self,
        name: &str,
        preview: bool,
        now: UnixMillis,
    ) -> std::io::Result<Opened> {
        let Some(folder) = self.find(name).await? else {
            return Ok(Opened::Missing);
        };
        let Some((kept_at, _)) = age_and_size(&folder).await? else {
            return Ok(Opened::Missing);
        };
        let Some(expires_in) = self.left(kept_at, now) else {
            return Ok(Opened::Expired);
        };
        let file = folder.join(if preview { "preview" } else { "original" });
        let bytes = match tokio::fs::read(file).await {
            Ok(bytes) => Bytes::from(bytes),
            // Swept meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Opened::Missing),
            Err(e) => return Err(e),
        };
        let content_type = match (preview, image::guess_format(&bytes)) {
            (false, Ok(ImageFormat::Png)) => "image/png",
            _ => "image/jpeg",
        };
        Ok(Opened::Ready {
            content_type,
            bytes,
            expires_in,
        })
    }

    /// Deletes every upload kept for longer than the retention, as of `now`.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self, now: UnixMillis) -> std::io::Result<Swept> {
        let mut swept = Swept::default();
        for entry in list(&self.dir).await? {
            let path = self.dir.join(&entry);
            if is_name(&entry) && is_upload(&path).await? {
                self.sweep_one(&path, now, &mut swept).await?;
            } else if is_channel(&entry) {
                for name in list(&path).await? {
                    if is_name(&name) {
                        self.sweep_one(&path.join(name), now, &mut swept).await?;
                    }
                }
            }
        }
        if swept.uploads > 0 {
            tracing::info!(
                uploads = swept.uploads,
                bytes = swept.bytes,
                "deleted uploads LINE no longer fetches"
            );
        }
        Ok(swept)
    }

    /// Deletes `channel`'s uploads kept since before `before` (the clinic's retention);
    /// how many.
    pub async fn expire(
        &self,
        channel: &ChannelId,
        before: UnixMillis,
    ) -> Result<usize, UploadError> {
        let folder = self.channel_folder(channel)?;
        let mut deleted = 0;
        for name in list(&folder).await? {
            if !is_name(&name) {
                continue;
            }
            let upload = folder.join(&name);
            if let Some((kept_at, _)) = age_and_size(&upload).await?
                && kept_at < before
            {
                match tokio::fs::remove_dir_all(&upload).await {
                    Ok(()) => deleted += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if deleted > 0 {
            crate::files::sync_dir(&folder).await?;
        }
        Ok(deleted)
    }

    /// Deletes one of `channel`'s uploads, its thumbnail with it.
    pub async fn delete(&self, channel: &ChannelId, name: &str) -> Result<(), UploadError> {
        let folder = self.channel_folder(channel)?;
        if !is_name(name) {
            return Ok(());
        }
        match tokio::fs::remove_dir_all(folder.join(name)).await {
            Ok(()) => Ok(crate::files::sync_dir(&folder).await?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The bytes `channel`'s uploads take, expired ones aside.
    pub async fn usage(&self, channel: &ChannelId, now: UnixMillis) -> Result<u64, UploadError> {
        let folder = self.channel_folder(channel)?;
        Ok(self.used(&folder, now).await?)
    }

    /// Deletes the upload at `folder` if it has expired; one with no original yet (being
    /// written, or left by a crash) is as old as its folder.
    async fn sweep_one(
        &self,
        folder: &Path,
        now: UnixMillis,
        swept: &mut Swept,
    ) -> std::io::Result<()> {
        let (kept_at, size) = match age_and_size(folder).await? {
            Some(found) => found,
            None => match tokio::fs::metadata(folder).await {
                Ok(meta) => (UnixMillis::from(meta.modified()?), 0),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        if self.left(kept_at, now).is_some() {
            return Ok(());
        }
        match tokio::fs::remove_dir_all(folder).await {
            Ok(()) => {
                swept.uploads += 1;
                swept.bytes += size;
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// How much longer an upload kept at `kept_at` is kept; `None`: no longer.
    fn left(&self, kept_at: UnixMillis, now: UnixMillis) -> Option<Duration> {
        let age = Duration::from_millis(u64::try_from(now.0 - kept_at.0).unwrap_or(0));
        self.shared
            .limits
            .retention
            .checked_sub(age)
            .filter(|left| !left.is_zero())
    }

    /// The channel's folder. LINE's channel ids are digits; anything else names none.
    fn channel_folder(&self, channel: &ChannelId) -> Result<PathBuf, UploadError> {
        if !is_channel(channel.as_str()) {
            return Err(UploadError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a LINE channel id",
            )));
        }
        Ok(self.dir.join(channel.as_str()))
    }

    async fn used(&self, channel_folder: &Path, now: UnixMillis) -> std::io::Result<u64> {
        let mut used = 0;
        for name in list(channel_folder).await? {
            if !is_name(&name) {
                continue;
            }
            if let Some((kept_at, size)) = age_and_size(&channel_folder.join(name)).await?
                && self.left(kept_at, now).is_some()
            {
                used += size;
            }
        }
        Ok(used)
    }

    async fn check_quota(
        &self,
        channel_folder: &Path,
        adding: u64,
        now: UnixMillis,
    ) -> Result<(), UploadError> {
        let limits = &self.shared.limits;
        let used = self.used(channel_folder, now).await?;
        if used.saturating_add(adding) > limits.quota {
            return Err(UploadError::OverQuota {
                used,
                adding,
                quota: limits.quota,
                retention_days: limits.retention_days(),
            });
        }
        Ok(())
    }

    /// The folder holding upload `name`, if there is one.
    async fn find(&self, name: &str) -> std::io::Result<Option<PathBuf>> {
        if !is_name(name) {
            return Ok(None);
        }
        let before_channels = self.dir.join(name);
        if is_upload(&before_channels).await? {
            return Ok(Some(before_channels));
        }
        for channel in list(&self.dir).await? {
            if !is_channel(&channel) {
                continue;
            }
            let folder = self.dir.join(channel).join(name);
            if is_upload(&folder).await? {
                return Ok(Some(folder));
            }
        }
        Ok(None)
    }
}

/// An upload's name: 32 hex digits.
fn is_name(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_channel(name: &str) -> bool {
    !name.is_empty() && name.len() <= 32 && name.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `folder` holds an upload (its original, or its thumbnail still alone).
async fn is_upload(folder: &Path) -> std::io::Result<bool> {
    Ok(tokio::fs::try_exists(folder.join("original")).await?
        || tokio::fs::try_exists(folder.join("preview")).await?)
}

/// When the upload at `folder` was kept, and the bytes it takes; `None` without an original.
async fn age_and_size(folder: &Path) -> std::io::Result<Option<(UnixMillis, u64)>> {
    let original = match tokio::fs::metadata(folder.join("original")).await {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let preview = match tokio::fs::metadata(folder.join("preview")).await {
        Ok(meta) => meta.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e),
    };
    Ok(Some((
        UnixMillis::from(original.modified()?),
        original.len() + preview,
    )))
}

/// The names in `dir`; none if it does not exist.
async fn list(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await? {
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

pub(super) fn system_time(at: UnixMillis) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at.0).unwrap_or(0))
}
