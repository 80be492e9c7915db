//! Media: what the relay keeps of messages' files and pictures.

use tsunagi_proto::{Entry, MediaOutcome};

use super::ops::Outcome;
use crate::Result;

/// What the relay keeps of a message's media; the newest word on it holds.
pub(super) fn media(
    db: &rusqlite::Connection,
    entry: &Entry,
    message: &tsunagi_line::MessageId,
    outcome: &MediaOutcome,
) -> Result<Outcome> {
    let (state, content_type, size, preview, reason) = match outcome {
        MediaOutcome::Stored {
            content_type,
            size,
            preview,
        } => (
            "stored",
            Some(content_type.as_str()),
            Some(*size as i64),
            *preview,
            None,
        ),
        MediaOutcome::Gone => ("gone", None, None, false, None),
        MediaOutcome::Failed { reason } => ("failed", None, None, false, Some(reason.as_str())),
    };
    db.prepare_cached(
        "INSERT OR REPLACE INTO media (message_id, state, content_type, size, preview, reason, seq)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        message.as_str(),
        state,
        content_type,
        size,
        preview,
        reason,
        entry.seq.0 as i64
    ])?;
    Ok(Outcome::Applied)
}
