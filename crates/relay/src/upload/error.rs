//! Why an upload was refused.

use super::MIB;

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
