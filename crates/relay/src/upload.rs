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

mod header;
mod probe;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use image::{ImageFormat, ImageReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;

use self::header::{Format, Header, Unread};
pub use self::probe::{PROBE_PATH, probe_image, probe_url};
use crate::files::write_atomically;

/// LINE's limit for an image message's original (JPEG or PNG).
pub const MAX_IMAGE: usize = 10 * 1024 * 1024;
/// LINE's limit for its preview.
pub const MAX_PREVIEW: usize = 1024 * 1024;
/// The thumbnail's longest side.
const PREVIEW_SIDE: u32 = 240;
/// The shortest an upload is kept: LINE may fetch a sent image for about two weeks (as it
/// keeps what users send; LINE.md).
pub const MIN_RETENTION: Duration = Duration::from_secs(14 * 24 * 60 * 60);
/// When an upload turned away because the relay is busy decoding others should come back.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

const MIB: u64 = 1024 * 1024;

/// What uploads may cost the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// The most pixels an image may have. 40 megapixels: a 24 MP camera's or any
    /// screen's picture fits, with room to spare; LINE documents no limit of its own
    /// (OpenAPI: only JPEG or PNG, up to 10 MB), and shows images far smaller.
    pub max_pixels: u64,
    /// The most memory one decode may take (pixels, and a JPEG's coefficients). 256 MiB:
    /// a 40 MP photo (4:2:0 JPEG, 8-bit PNG) fits; a 16-bit RGBA PNG that size does not.
    pub max_decode_bytes: u64,
    /// Images decoded at once; with `max_decode_bytes`, the memory decoding takes.
    pub decodes: usize,
    /// Uploads that may wait for a decode; more are answered 503 with `Retry-After`. Each
    /// waiting one holds its body (up to 10 MB) in memory.
    pub queue: usize,
    /// The bytes of uploads (original and thumbnail) one channel keeps at once.
    pub quota: u64,
    /// How long an upload is kept: at least [`MIN_RETENTION`].
    pub retention: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            max_pixels: 40_000_000,
            max_decode_bytes: 256 * MIB,
            decodes: 2,
            queue: 8,
            quota: 1024 * MIB,
            retention: MIN_RETENTION,
        }
    }
}

impl UploadLimits {
    fn retention_days(&self) -> u64 {
        self.retention.as_secs().div_ceil(24 * 60 * 60)
    }

    /// Refuses an image whose header says it is too big to decode here.
    fn admit(&self, header: &Header) -> Result<(), UploadError> {
        let (width, height) = (header.width, header.height);
        if header.pixels() > self.max_pixels {
            return Err(UploadError::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        if header.decode_bytes > self.max_decode_bytes {
            return Err(UploadError::TooMuchMemory {
                width,
                height,
                needed: header.decode_bytes,
                limit: self.max_decode_bytes,
            });
        }
        Ok(())
    }
}

/// For a command-line flag: a retention (`14d`, `30days`) of at least [`MIN_RETENTION`].
pub fn parse_retention(text: &str) -> Result<Duration, String> {
    let retention = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if retention < MIN_RETENTION {
        return Err(
            "uploads are kept at least 14 days: LINE may fetch a sent image that long".to_owned(),
        );
    }
    Ok(retention)
}

/// For a command-line flag: a size in bytes (`1073741824`), or with a unit (`1GiB`,
/// `500MiB`, `2GB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size: say 1GiB, 500MiB or a number of bytes"))?;
    let unit: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => return Err(format!("{other:?} is not a unit: say KiB, MiB, GiB or TiB")),
    };
    number
        .checked_mul(unit)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// Why an upload was refused; each says what to send instead, or when to come back.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("LINE takes images up to 10 MB; this one is {0} bytes")]
    TooLarge(usize),
    #[error("LINE takes JPEG and PNG images; this is neither")]
    NotAnImage,
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error(
        "this image is {width} × {height} pixels ({:.1} megapixels); the relay takes images of \
         up to {} megapixels: scale it down and send it again",
        megapixels(*width, *height),
        limit / 1_000_000
    )]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error(
        "reading this {width} × {height} image would take {} MiB; the relay reads images in at \
         most {} MiB: scale it down, or save it as an 8-bit JPEG or PNG",
        needed.div_ceil(MIB),
        limit / MIB
    )]
    TooMuchMemory {
        width: u32,
        height: u32,
        needed: u64,
        limit: u64,
    },
    #[error(
        "this channel keeps {} MiB of uploaded images and may keep {} MiB ({} MiB more for \
         this one); each is kept {retention_days} days, so room comes back as older ones expire",
        used.div_ceil(MIB),
        quota / MIB,
        adding.div_ceil(MIB)
    )]
    OverQuota {
        used: u64,
        adding: u64,
        quota: u64,
        retention_days: u64,
    },
    #[error("the relay is reading other images; try again in a few seconds")]
    Busy,
    #[error("keeping the upload: {0}")]
    Io(#[from] std::io::Error),
}

fn megapixels(width: u32, height: u32) -> f64 {
    (f64::from(width) * f64::from(height)) / 1e6
}

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

    /// Makes the thumbnail, a few at a time, off the runtime: waits for a decode while
    /// few wait, and refuses when the queue is full.
    async fn thumbnail(&self, header: Header, bytes: Bytes) -> Result<Vec<u8>, UploadError> {
        let permit = self.decode_permit().await?;
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            // The permit goes with the decode: a request given up on still holds it until
            // its decode ends.
            let _permit = permit;
            let _decoding = Decoding::begin(&shared);
            #[cfg(any(test, feature = "testing"))]
            shared.gate.pass();
            thumbnail(&bytes, header, shared.limits.max_decode_bytes)
        })
        .await
        .map_err(|e| UploadError::Unreadable(e.to_string()))?
    }

    async fn decode_permit(&self) -> Result<OwnedSemaphorePermit, UploadError> {
        if let Ok(permit) = self.shared.decodes.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let _waiting = Waiting::join(&self.shared)?;
        self.shared
            .decodes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| UploadError::Busy)
    }
}

/// One upload waiting for a decode, counted while it waits.
struct Waiting<'a>(&'a Shared);

impl<'a> Waiting<'a> {
    fn join(shared: &'a Shared) -> Result<Self, UploadError> {
        let ahead = shared.waiting.fetch_add(1, Ordering::SeqCst);
        let waiting = Waiting(shared);
        if ahead >= shared.limits.queue {
            return Err(UploadError::Busy);
        }
        Ok(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One decode running, counted while it runs.
struct Decoding<'a>(&'a Shared);

impl<'a> Decoding<'a> {
    fn begin(shared: &'a Shared) -> Self {
        shared.started.fetch_add(1, Ordering::SeqCst);
        let running = shared.decoding.fetch_add(1, Ordering::SeqCst) + 1;
        shared.most_decoding.fetch_max(running, Ordering::SeqCst);
        Decoding(shared)
    }
}

impl Drop for Decoding<'_> {
    fn drop(&mut self) {
        self.0.decoding.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A JPEG thumbnail of the image, decoded within the header's size and `max_alloc`.
fn thumbnail(bytes: &[u8], header: Header, max_alloc: u64) -> Result<Vec<u8>, UploadError> {
    let format = match header.format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
    };
    let mut reader = ImageReader::with_format(std::io::Cursor::new(bytes), format);
    // The decoder must find the size the header said (which was admitted), and allocate
    // no more than the bound.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(header.width);
    limits.max_image_height = Some(header.height);
    limits.max_alloc = Some(max_alloc);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    let small = picture.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).into_rgb8();
    drop(picture);
    let mut out = std::io::Cursor::new(Vec::new());
    small
        .write_to(&mut out, ImageFormat::Jpeg)
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    let preview = out.into_inner();
    debug_assert!(preview.len() <= MAX_PREVIEW);
    Ok(preview)
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

fn system_time(at: UnixMillis) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(at.0).unwrap_or(0))
}

/// For tests: decodes counted, and held at their start.
#[cfg(any(test, feature = "testing"))]
mod observed {
    use std::sync::{Arc, Condvar, Mutex, PoisonError};

    use super::{Ordering, Shared, Uploads};

    /// Decodes as the relay counts them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Decodes {
        /// Running now.
        pub running: usize,
        /// Uploads waiting for one.
        pub waiting: usize,
        /// The most that ever ran at once.
        pub most_at_once: usize,
        /// How many ever began.
        pub started: usize,
    }

    #[derive(Debug, Default)]
    pub(super) struct Gate {
        held: Mutex<bool>,
        opened: Condvar,
    }

    impl Gate {
        /// Waits while the gate is held (on a blocking thread).
        pub(super) fn pass(&self) {
            let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            drop(
                self.opened
                    .wait_while(held, |held| *held)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        }

        fn set(&self, held: bool) {
            *self.held.lock().unwrap_or_else(PoisonError::into_inner) = held;
            self.opened.notify_all();
        }
    }

    /// Decodes wait at their start until this is dropped.
    #[derive(Debug)]
    pub struct HeldDecodes(Arc<Shared>);

    impl Drop for HeldDecodes {
        fn drop(&mut self) {
            self.0.gate.set(false);
        }
    }

    impl Uploads {
        pub fn decodes(&self) -> Decodes {
            let shared = &self.shared;
            Decodes {
                running: shared.decoding.load(Ordering::SeqCst),
                waiting: shared.waiting.load(Ordering::SeqCst),
                most_at_once: shared.most_decoding.load(Ordering::SeqCst),
                started: shared.started.load(Ordering::SeqCst),
            }
        }

        /// Holds every decode at its start (counted as running) until the guard drops.
        pub fn hold_decodes(&self) -> HeldDecodes {
            self.shared.gate.set(true);
            HeldDecodes(self.shared.clone())
        }
    }
}

#[cfg(any(test, feature = "testing"))]
use self::observed::Gate;
#[cfg(any(test, feature = "testing"))]
pub use self::observed::{Decodes, HeldDecodes};

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNEL: &str = "1656789012";
    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    const NOW: UnixMillis = UnixMillis(1_767_225_600_000);

    fn png(width: u32, height: u32) -> Bytes {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner().into()
    }

    fn uploads(dir: &Path) -> Uploads {
        Uploads::new(dir, UploadLimits::default())
    }

    fn channel() -> ChannelId {
        ChannelId::from(CHANNEL)
    }

    async fn ready(uploads: &Uploads, name: &str, preview: bool) -> (&'static str, Bytes) {
        match uploads.open(name, preview, NOW).await.unwrap() {
            Opened::Ready {
                content_type,
                bytes,
                ..
            } => (content_type, bytes),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn an_image_is_kept_with_a_small_jpeg_preview_under_a_name_nobody_guesses() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = uploads(dir.path());
        let original = png(1200, 800);
        let kept = uploads
            .save(&channel(), original.clone(), NOW)
            .await
            .unwrap();
        assert_eq!(kept.content_type, "image/png");
        assert_eq!(kept.name.len(), 32);
        assert_eq!(
            ready(&uploads, &kept.name, false).await,
            ("image/png", original)
        );
        let (content_type, preview) = ready(&uploads, &kept.name, true).await;
        assert_eq!(content_type, "image/jpeg");
        let small = image::load_from_memory(&preview).unwrap();
        assert_eq!((small.width(), small.height()), (240, 160));
        let other = uploads.save(&channel(), png(10, 10), NOW).await.unwrap();
        assert_ne!(other.name, kept.name);
    }

    #[tokio::test]
    async fn what_line_would_refuse_is_refused_and_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = uploads(dir.path());
        let channel = channel();
        let save = |bytes: Bytes| uploads.save(&channel, bytes, NOW);
        assert!(matches!(
            save(Bytes::from_static(b"GIF89a....")).await,
            Err(UploadError::NotAnImage)
        ));
        assert!(matches!(
            save(Bytes::from(vec![0u8; MAX_IMAGE + 1])).await,
            Err(UploadError::TooLarge(_))
        ));
        // A PNG signature with nothing behind it.
        assert!(matches!(
            save(Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0")).await,
            Err(UploadError::Unreadable(_))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path())
                .map(|d| d.count())
                .unwrap_or(0),
            0
        );
        for name in ["../../etc/passwd", "x", &"g".repeat(32)] {
            assert_eq!(
                uploads.open(name, false, NOW).await.unwrap(),
                Opened::Missing
            );
        }
        assert!(matches!(
            uploads
                .save(&ChannelId::from("../1"), png(10, 10), NOW)
                .await,
            Err(UploadError::Io(_))
        ));
    }

    #[tokio::test]
    async fn an_image_that_would_take_more_memory_than_a_decode_may_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::new(
            dir.path(),
            UploadLimits {
                max_decode_bytes: MIB,
                ..UploadLimits::default()
            },
        );
        // 16 bits a sample, RGBA: 8 bytes a pixel, 2.9 MB decoded from a tiny file.
        let deep = image::DynamicImage::ImageRgba16(image::ImageBuffer::new(600, 600));
        let mut out = std::io::Cursor::new(Vec::new());
        deep.write_to(&mut out, ImageFormat::Png).unwrap();
        let refused = uploads
            .save(&channel(), out.into_inner().into(), NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(
                refused,
                UploadError::TooMuchMemory {
                    width: 600,
                    height: 600,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("at most 1 MiB"), "{refused}");
        assert_eq!(uploads.decodes().started, 0);
        // The same picture in 8 bits and RGB is read.
        uploads.save(&channel(), png(600, 400), NOW).await.unwrap();
        assert_eq!(uploads.decodes().started, 1);
    }

    #[tokio::test]
    async fn an_upload_is_served_until_its_retention_ends_then_swept_and_legacy_ones_too() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = uploads(dir.path());
        let old = uploads.save(&channel(), png(20, 20), NOW).await.unwrap();
        let young = uploads
            .save(&channel(), png(20, 20), UnixMillis(NOW.0 + 5 * DAY_MS))
            .await
            .unwrap();
        // One kept before uploads had channel folders.
        let legacy = "ab".repeat(16);
        let folder = dir.path().join(&legacy);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("preview"), b"p").unwrap();
        write_atomically(&folder.join("original"), b"o", Some(system_time(NOW)))
            .await
            .unwrap();

        let later = UnixMillis(NOW.0 + 14 * DAY_MS - 1);
        for name in [&old.name, &young.name, &legacy] {
            assert!(matches!(
                uploads.open(name, false, later).await.unwrap(),
                Opened::Ready { .. }
            ));
        }
        let Opened::Ready { expires_in, .. } = uploads.open(&old.name, true, later).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(expires_in, Duration::from_millis(1));

        let expired = UnixMillis(NOW.0 + 14 * DAY_MS);
        assert_eq!(
            uploads.open(&old.name, false, expired).await.unwrap(),
            Opened::Expired
        );
        let used = uploads.usage(&channel(), NOW).await.unwrap();
        let swept = uploads.sweep(expired).await.unwrap();
        assert_eq!(swept.uploads, 2, "the old one and the legacy one");
        assert_eq!(swept.bytes, used / 2 + 2);
        for name in [&old.name, &legacy] {
            assert_eq!(
                uploads.open(name, false, expired).await.unwrap(),
                Opened::Missing
            );
        }
        assert!(matches!(
            uploads.open(&young.name, false, expired).await.unwrap(),
            Opened::Ready { .. }
        ));
        assert_eq!(uploads.sweep(expired).await.unwrap(), Swept::default());
    }

    #[test]
    fn sizes_and_retentions_read_as_an_operator_writes_them() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500 MiB"), Ok(500 << 20));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1PiB").is_err());
        assert_eq!(parse_retention("14d"), Ok(MIN_RETENTION));
        assert_eq!(
            parse_retention("30days"),
            Ok(Duration::from_secs(30 * 86_400))
        );
        assert!(parse_retention("13d").is_err());
        assert_eq!(
            Uploads::new(
                "x",
                UploadLimits {
                    retention: Duration::from_secs(60),
                    ..UploadLimits::default()
                }
            )
            .limits()
            .retention,
            MIN_RETENTION
        );
    }
}
