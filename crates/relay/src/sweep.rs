//! The relay's sweep: uploads LINE can no longer fetch are deleted on start, then hourly,
//! until the relay closes; files an erase left are deleted on start.

use std::sync::Arc;
use std::time::Duration;

use crate::relay::Relay;
use crate::store::LogStore;

/// How often [`keep_sweeping`] deletes expired uploads.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

/// Deletes expired uploads when the relay starts and every [`SWEEP_EVERY`] after, judged
/// by the relay's clock, until the relay closes. For `tokio::spawn` beside the executors.
pub async fn keep_sweeping<S: LogStore>(relay: Arc<Relay<S>>) {
    let Some(uploads) = relay.media().map(|media| media.uploads().clone()) else {
        return;
    };
    // What an erase noted and a stop kept from being deleted.
    if let Err(error) = crate::erased::delete_all_erased_files(&relay).await {
        tracing::warn!(%error, "deleting an erased patient's files");
    }
    loop {
        if let Err(error) = uploads.sweep(relay.now()).await {
            tracing::warn!(%error, "deleting expired uploads");
        }
        tokio::select! {
            () = relay.closed() => return,
            () = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}
