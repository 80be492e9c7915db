//! Decoding an upload to make its thumbnail: a few at once, off the runtime, within the
//! size its header gave and the memory a decode may take.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use image::{ImageFormat, ImageReader};
use tokio::sync::OwnedSemaphorePermit;

use super::header::{Format, Header};
use super::{MAX_PREVIEW, Shared, UploadError, Uploads};

/// The thumbnail's longest side.
const PREVIEW_SIDE: u32 = 240;

impl Uploads {
    /// Makes the thumbnail, a few at a time, off the runtime: waits for a decode while
    /// few wait, and refuses when the queue is full.
    pub(super) async fn thumbnail(
        &self,
        header: Header,
        bytes: Bytes,
    ) -> Result<Vec<u8>, UploadError> {
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
