//! Media a patient sent through LINE: the original and its thumbnail, fetched from LINE's
//! content API a chunk at a time into the media store, within LINE's limit for its kind;
//! what LINE is still preparing is asked for again, waiting longer each time. Media its
//! sender keeps outside LINE is fetched in [`super::outside`] and kept here the same way.

use std::time::Duration;

use tsunagi_domain::automation::PendingMedia;
use tsunagi_line::MessageId;
use tsunagi_line::client::{ContentBody, ContentStream, Transcoding};
use tsunagi_proto::{MediaOutcome, Operation};

use super::client::{describe, is_final};
use super::{Executor, Failure, Item};
use crate::media::{MediaStore, Part};
use crate::store::{LogStore, StoreError};

/// How often LINE is asked for media it is still preparing, the first wait, and the most
/// it grows to (about an hour in all).
pub(super) const MEDIA_ATTEMPTS: u32 = 20;
pub(super) const MEDIA_FIRST_WAIT: Duration = Duration::from_secs(1);
pub(super) const MEDIA_MAX_WAIT: Duration = Duration::from_secs(5 * 60);

/// Why media is not kept when LINE failed to prepare it.
const TRANSCODING_FAILED: &str =
    "LINE could not prepare this video or audio for download (its transcoding failed)";

/// What became of a download.
pub(super) enum Kept {
    /// In the store, durable, this many bytes.
    Whole(u64),
    /// More than LINE allows for it: nothing kept.
    TooLarge,
}

impl<S: LogStore> Executor<S> {
    /// Fetches a message's media (and thumbnail) from LINE into the media store, a chunk at
    /// a time and within LINE's limit for its kind, and logs what became of it once it is
    /// durable. LINE still preparing a large file is asked again later, waiting longer each
    /// time; an outage is tried again too.
    pub(super) async fn download(
        &mut self,
        store: &MediaStore,
        media: &PendingMedia,
    ) -> Result<(), Failure> {
        if let Some(outside) = &media.outside {
            return self.download_outside(store, media, outside).await;
        }
        let message = &media.message;
        let started = self.client().await?.content_stream(message, false).await;
        let outcome = match started {
            Ok(ContentStream::Ready {
                content_type,
                length,
                body,
            }) => match self
                .keep_original(store, media, &content_type, (length, body))
                .await?
            {
                Ok(size) => {
                    let preview = media.preview && self.download_preview(store, message).await?;
                    MediaOutcome::Stored {
                        content_type,
                        size,
                        preview,
                    }
                }
                Err(too_large) => too_large,
            },
            // LINE says at once when it could not transcode a video or audio: reported
            // now, not asked for again for an hour.
            Ok(ContentStream::Preparing)
                if self.client().await?.transcoding(message).await.ok()
                    == Some(Transcoding::Failed) =>
            {
                MediaOutcome::Failed {
                    reason: TRANSCODING_FAILED.into(),
                }
            }
            Ok(ContentStream::Preparing) => {
                if self.held.times(&Item::media(media)) < MEDIA_ATTEMPTS {
                    self.held
                        .set_aside(Item::media(media), MEDIA_FIRST_WAIT, MEDIA_MAX_WAIT);
                    return Ok(());
                }
                MediaOutcome::Failed {
                    reason: "LINE was still preparing it after an hour".into(),
                }
            }
            Ok(ContentStream::Gone) => {
                store
                    .mark_gone(&self.channel, message)
                    .await
                    .map_err(keeping_media)?;
                MediaOutcome::Gone
            }
            Err(error) if is_final(&error) => MediaOutcome::Failed {
                reason: describe(&error).0,
            },
            Err(error) => return Err(Failure::Line(error)),
        };
        self.log_one(
            format!("media/{message}"),
            Operation::Media {
                message: message.clone(),
                outcome,
            },
        )
        .await
    }

    /// Keeps a medium's original within the limit of its kind: its size once whole, or
    /// else the failure to log.
    pub(super) async fn keep_original(
        &mut self,
        store: &MediaStore,
        media: &PendingMedia,
        content_type: &str,
        download: (Option<u64>, ContentBody),
    ) -> Result<Result<u64, MediaOutcome>, Failure> {
        let kept = self
            .keep(
                store,
                &media.message,
                Part::Content,
                content_type,
                download,
                media.limit,
            )
            .await?;
        Ok(match kept {
            Kept::Whole(size) => Ok(size),
            Kept::TooLarge => Err(MediaOutcome::Failed {
                reason: format!(
                    "larger than LINE allows for it ({} MB)",
                    media.limit / (1024 * 1024)
                ),
            }),
        })
    }

    /// Writes a download into the store, renewing the lease as it goes; what LINE cut off
    /// midway is tried again later (nothing of it is kept).
    pub(super) async fn keep(
        &mut self,
        store: &MediaStore,
        message: &MessageId,
        part: Part,
        content_type: &str,
        (length, mut body): (Option<u64>, ContentBody),
        limit: u64,
    ) -> Result<Kept, Failure> {
        if length.is_some_and(|length| length > limit) {
            return Ok(Kept::TooLarge);
        }
        let mut writing = store
            .begin(&self.channel, message, part)
            .await
            .map_err(keeping_media)?;
        while let Some(chunk) = body.chunk().await.map_err(Failure::Line)? {
            if writing.written() + chunk.len() as u64 > limit {
                return Ok(Kept::TooLarge);
            }
            writing.write(&chunk).await.map_err(keeping_media)?;
            self.keep_lease().await?;
        }
        let size = writing.finish(content_type).await.map_err(keeping_media)?;
        Ok(Kept::Whole(size))
    }

    /// The thumbnail, if LINE has one ready; its absence does not hold up the file.
    async fn download_preview(
        &mut self,
        store: &MediaStore,
        message: &MessageId,
    ) -> Result<bool, Failure> {
        match self.client().await?.content_stream(message, true).await {
            Ok(ContentStream::Ready {
                content_type,
                length,
                body,
            }) => {
                let kept = self
                    .keep(
                        store,
                        message,
                        Part::Preview,
                        &content_type,
                        (length, body),
                        tsunagi_line::webhook::MAX_IMAGE_BYTES,
                    )
                    .await?;
                Ok(matches!(kept, Kept::Whole(_)))
            }
            Ok(_) => Ok(false),
            Err(error) if is_final(&error) => Ok(false),
            Err(error) => Err(Failure::Line(error)),
        }
    }
}

fn keeping_media(error: std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("keeping media: {error}"))
}
