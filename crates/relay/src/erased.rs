//! The files an erase leaves behind: the media the relay kept of the patient's messages,
//! and the photos sent to them. The erase notes them in its transaction; they are deleted
//! right after it is logged, and again when the relay starts, in case it stopped between.

use tsunagi_line::{ChannelId, MessageId};

use crate::relay::Relay;
use crate::store::{LogStore, StoreError};

/// What [`delete_erased_files`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    pub media: usize,
    pub uploads: usize,
}

/// Deletes the files erases noted in `channel`. A photo some op still names (it went to
/// other patients too) is kept.
pub async fn delete_erased_files<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
) -> Result<Deleted, StoreError> {
    let mut deleted = Deleted::default();
    let noted = relay.store.erased_files(channel).await?;
    if let Some(media) = relay.media() {
        let failed = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!("deleting an erased patient's files: {e}"))
        };
        for (kind, name) in &noted {
            match kind.as_str() {
                "media" => {
                    media
                        .delete(channel, &MessageId::new(name.as_str()))
                        .await
                        .map_err(|e| failed(&e))?;
                    deleted.media += 1;
                }
                "upload" if !relay.store.upload_named(channel, name).await? => {
                    media
                        .uploads()
                        .delete(channel, name)
                        .await
                        .map_err(|e| failed(&e))?;
                    deleted.uploads += 1;
                }
                _ => {}
            }
            relay.store.erased_file_deleted(channel, kind, name).await?;
        }
    }
    if deleted != Deleted::default() {
        tracing::info!(%channel, media = deleted.media, uploads = deleted.uploads, "deleted an erased patient's files");
    }
    Ok(deleted)
}

/// [`delete_erased_files`] in every channel: when the relay starts.
pub async fn delete_all_erased_files<S: LogStore>(relay: &Relay<S>) -> Result<(), StoreError> {
    for channel in relay.store.channels().await? {
        delete_erased_files(relay, &channel.id).await?;
    }
    Ok(())
}
