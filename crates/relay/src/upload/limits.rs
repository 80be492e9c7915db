//! What uploads may cost the relay, and the flags an operator sets it with.

use std::time::Duration;

use super::header::Header;
use super::{MIB, MIN_RETENTION, UploadError};

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
    pub(super) fn retention_days(&self) -> u64 {
        self.retention.as_secs().div_ceil(24 * 60 * 60)
    }

    /// Refuses an image whose header says it is too big to decode here.
    pub(super) fn admit(&self, header: &Header) -> Result<(), UploadError> {
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
