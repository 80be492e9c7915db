//! Media a patient sent that its sender keeps outside LINE (`contentProvider: external`):
//! LINE's content API has no bytes for it, so the executor fetches the original and its
//! preview from the sender's addresses, as any call to a service beside LINE, through the
//! relay's egress rules (HTTPS to public addresses, or a network the operator allows; no
//! redirects), and keeps them in the media store like LINE's own. An address the relay will
//! not call, or one that answers with an error, is reported at once; one that cannot be
//! reached is asked again, waiting longer each time.

use tsunagi_domain::automation::{Outside, PendingMedia};
use tsunagi_line::client::ContentBody;
use tsunagi_line::webhook::MAX_IMAGE_BYTES;
use tsunagi_proto::{MediaOutcome, Operation};

use super::media::{Kept, MEDIA_ATTEMPTS, MEDIA_FIRST_WAIT, MEDIA_MAX_WAIT};
use super::{Executor, Failure, Item};
use crate::media::{MediaStore, Part};
use crate::store::LogStore;

/// What a fetch from outside LINE came to.
enum Fetched {
    /// The answer, to read a chunk at a time, and its type.
    Answer(reqwest::Response, String),
    /// For good: an address the relay does not call, an error status.
    Refused(String),
    /// For now: nothing answered.
    Unreachable(String),
}

impl<S: LogStore> Executor<S> {
    /// Fetches media hosted outside LINE into the media store, and logs what became of it.
    pub(super) async fn download_outside(
        &mut self,
        store: &MediaStore,
        media: &PendingMedia,
        outside: &Outside,
    ) -> Result<(), Failure> {
        let message = &media.message;
        let outcome = match self.fetch_outside(&outside.original).await {
            Fetched::Answer(response, content_type) => {
                let download = (response.content_length(), ContentBody::of(response));
                match self
                    .keep_original(store, media, &content_type, download)
                    .await?
                {
                    Ok(size) => {
                        let preview = match &outside.preview {
                            Some(address) => {
                                self.keep_outside_preview(store, media, address).await?
                            }
                            None => false,
                        };
                        MediaOutcome::Stored {
                            content_type,
                            size,
                            preview,
                        }
                    }
                    Err(too_large) => too_large,
                }
            }
            Fetched::Refused(reason) => MediaOutcome::Failed { reason },
            Fetched::Unreachable(reason) => {
                if self.held.times(&Item::media(media)) < MEDIA_ATTEMPTS {
                    self.held
                        .set_aside(Item::media(media), MEDIA_FIRST_WAIT, MEDIA_MAX_WAIT);
                    return Ok(());
                }
                MediaOutcome::Failed { reason }
            }
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

    /// The sender's preview, if it can be had; its absence does not hold up the original.
    async fn keep_outside_preview(
        &mut self,
        store: &MediaStore,
        media: &PendingMedia,
        address: &str,
    ) -> Result<bool, Failure> {
        let Fetched::Answer(response, content_type) = self.fetch_outside(address).await else {
            return Ok(false);
        };
        let length = response.content_length();
        let kept = self
            .keep(
                store,
                &media.message,
                Part::Preview,
                &content_type,
                (length, ContentBody::of(response)),
                MAX_IMAGE_BYTES,
            )
            .await?;
        Ok(matches!(kept, Kept::Whole(_)))
    }

    async fn fetch_outside(&self, address: &str) -> Fetched {
        let egress = self.relay.egress();
        let (client, url) = match egress.client(address) {
            Ok(found) => found,
            Err(refused) => return Fetched::Refused(format!("the sender's address: {refused}")),
        };
        match client.get(url).send().await {
            Ok(response) if response.status().is_success() => {
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                Fetched::Answer(response, content_type)
            }
            Ok(response) => Fetched::Refused(format!(
                "the sender's address answered {}",
                response.status()
            )),
            Err(error) => Fetched::Unreachable(format!(
                "the sender's address did not answer: {}",
                crate::egress::chain(&error)
            )),
        }
    }
}
