//! Images operators send. LINE fetches a sent image from a public HTTPS address, so the
//! relay keeps each upload under a name nobody can guess and serves it, without
//! authentication (LINE has none to give), at `<public url>/public/uploads/<name>`, with a
//! thumbnail it makes at `…/<name>/preview`.
//!
//! What an upload may cost is bounded ([`UploadLimits`]): its pixels and the memory
//! decoding it takes are read from its header before any of it is decoded; a few are
//! decoded at once and a few more wait, the rest are told to come back; each channel keeps
//! at most so many bytes; and each upload is kept only as long as LINE may still fetch it,
//! then the relay's sweep (`sweep::keep_sweeping`) deletes it.
//!
//! On disk: `<dir>/<channel>/<name>/original` and `…/preview`. An upload's age is its
//! original's modification time, set from the relay's clock when it is kept. Uploads kept
//! before channels had folders (`<dir>/<name>/`) are served and swept the same way, and
//! count against no channel.

mod decode;
mod disk;
mod error;
mod header;
mod limits;
#[cfg(any(test, feature = "testing"))]
mod observed;
mod probe;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::Semaphore;

pub use self::error::UploadError;
pub use self::limits::{UploadLimits, parse_retention, parse_size};
#[cfg(any(test, feature = "testing"))]
use self::observed::Gate;
#[cfg(any(test, feature = "testing"))]
pub use self::observed::{Decodes, HeldDecodes};
pub use self::probe::{PROBE_PATH, probe_image, probe_url};

/// LINE's limit for an image message's original (JPEG or PNG).
pub const MAX_IMAGE: usize = 10 * 1024 * 1024;
/// LINE's limit for its preview.
pub const MAX_PREVIEW: usize = 1024 * 1024;
/// The shortest an upload is kept: LINE may fetch a sent image for about two weeks (as it
/// keeps what users send; LINE.md).
pub const MIN_RETENTION: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// When an upload turned away because the relay is busy decoding others should come back.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

const MIB: u64 = 1024 * 1024;

/// An upload kept: its name, and its file and thumbnail's content types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    pub content_type: &'static str,
}

/// What the relay has under an upload's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Ready {
        content_type: &'static str,
        bytes: Bytes,
        /// How much longer it is kept.
        expires_in: Duration,
    },
    /// Kept longer ago than the retention: LINE no longer fetches it (and the next sweep
    /// deletes it).
    Expired,
    Missing,
}

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub uploads: usize,
    pub bytes: u64,
}

/// The uploads under one folder. Clones share their limits, their decodes and their
/// quota's lock.
#[derive(Debug, Clone)]
pub struct Uploads {
    dir: PathBuf,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    limits: UploadLimits,
    decodes: Arc<Semaphore>,
    waiting: AtomicUsize,
    decoding: AtomicUsize,
    most_decoding: AtomicUsize,
    started: AtomicUsize,
    /// Held from a channel's quota check to its upload's last write, so that two uploads
    /// at once cannot both fit in the room left for one.
    writing: tokio::sync::Mutex<()>,
    /// Whether LINE can fetch uploads from the relay's public address, as last checked.
    probe: probe::Probe,
    #[cfg(any(test, feature = "testing"))]
    gate: Gate,
}

impl Uploads {
    pub fn new(dir: impl Into<PathBuf>, mut limits: UploadLimits) -> Self {
        if limits.retention < MIN_RETENTION {
            tracing::warn!(
                retention = ?limits.retention,
                "uploads are kept at least 14 days: LINE may fetch a sent image that long"
            );
            limits.retention = MIN_RETENTION;
        }
        let decodes = limits.decodes.max(1);
        Self {
            dir: dir.into(),
            shared: Arc::new(Shared {
                limits,
                decodes: Arc::new(Semaphore::new(decodes)),
                waiting: AtomicUsize::new(0),
                decoding: AtomicUsize::new(0),
                most_decoding: AtomicUsize::new(0),
                started: AtomicUsize::new(0),
                writing: tokio::sync::Mutex::new(()),
                probe: probe::Probe::default(),
                #[cfg(any(test, feature = "testing"))]
                gate: Gate::default(),
            }),
        }
    }

    pub fn limits(&self) -> &UploadLimits {
        &self.shared.limits
    }
}
