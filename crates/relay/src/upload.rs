//! Images operators send. LINE fetches a sent image from a public HTTPS address, so the
//! relay keeps each upload under a name nobody can guess and serves it, without
//! authentication (LINE has none to give), at `<public url>/public/uploads/<name>`, with a
//! thumbnail it makes at `…/<name>/preview`.

use std::path::PathBuf;

use bytes::Bytes;
use image::{ImageFormat, ImageReader};

use crate::media::write_atomically;

/// LINE's limit for an image message's original (JPEG or PNG).
pub const MAX_IMAGE: usize = 10 * 1024 * 1024;
/// LINE's limit for its preview.
pub const MAX_PREVIEW: usize = 1024 * 1024;
/// The thumbnail's longest side.
const PREVIEW_SIDE: u32 = 240;

/// Why an upload was refused; each says what to send instead.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("LINE takes images up to 10 MB; this one is {0} bytes")]
    TooLarge(usize),
    #[error("LINE takes JPEG and PNG images; this is neither")]
    NotAnImage,
    #[error("the image cannot be read: {0}")]
    Unreadable(String),
    #[error("keeping the upload: {0}")]
    Io(#[from] std::io::Error),
}

/// An upload kept: its name, and its file and thumbnail's content types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub name: String,
    pub content_type: &'static str,
}

#[derive(Debug, Clone)]
pub struct Uploads {
    dir: PathBuf,
}

impl Uploads {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Checks `bytes` is an image LINE takes, makes its thumbnail, and keeps both.
    pub async fn save(&self, bytes: Bytes) -> Result<Kept, UploadError> {
        if bytes.len() > MAX_IMAGE {
            return Err(UploadError::TooLarge(bytes.len()));
        }
        let (content_type, preview) = tokio::task::spawn_blocking({
            let bytes = bytes.clone();
            move || thumbnail(&bytes)
        })
        .await
        .map_err(|e| UploadError::Unreadable(e.to_string()))??;
        let name = format!("{:032x}", rand::random::<u128>());
        let folder = self.dir.join(&name);
        tokio::fs::create_dir_all(&folder).await?;
        write_atomically(&folder.join("preview"), &preview).await?;
        // The original last: a folder with it is whole.
        write_atomically(&folder.join("original"), &bytes).await?;
        Ok(Kept { name, content_type })
    }

    /// The upload `name` (or its thumbnail) with its content type, if it exists.
    pub async fn open(
        &self,
        name: &str,
        preview: bool,
    ) -> std::io::Result<Option<(&'static str, Bytes)>> {
        // Names are 32 hex digits; anything else names no file.
        if name.len() != 32 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let folder = self.dir.join(name);
        let original = match tokio::fs::read(folder.join("original")).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if preview {
            let bytes = tokio::fs::read(folder.join("preview")).await?;
            return Ok(Some(("image/jpeg", bytes.into())));
        }
        let content_type = match image::guess_format(&original) {
            Ok(ImageFormat::Png) => "image/png",
            _ => "image/jpeg",
        };
        Ok(Some((content_type, original.into())))
    }
}

/// The image's type and a JPEG thumbnail of it.
fn thumbnail(bytes: &[u8]) -> Result<(&'static str, Vec<u8>), UploadError> {
    let content_type = match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => "image/jpeg",
        Ok(ImageFormat::Png) => "image/png",
        _ => return Err(UploadError::NotAnImage),
    };
    let picture = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| UploadError::Unreadable(e.to_string()))?
        .decode()
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    let small = picture.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE).into_rgb8();
    let mut out = std::io::Cursor::new(Vec::new());
    small
        .write_to(&mut out, ImageFormat::Jpeg)
        .map_err(|e| UploadError::Unreadable(e.to_string()))?;
    let preview = out.into_inner();
    debug_assert!(preview.len() <= MAX_PREVIEW);
    Ok((content_type, preview))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Bytes {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner().into()
    }

    #[tokio::test]
    async fn an_image_is_kept_with_a_small_jpeg_preview_under_a_name_nobody_guesses() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::new(dir.path());
        let original = png(1200, 800);
        let kept = uploads.save(original.clone()).await.unwrap();
        assert_eq!(kept.content_type, "image/png");
        assert_eq!(kept.name.len(), 32);
        let (content_type, bytes) = uploads.open(&kept.name, false).await.unwrap().unwrap();
        assert_eq!((content_type, bytes), ("image/png", original));
        let (content_type, preview) = uploads.open(&kept.name, true).await.unwrap().unwrap();
        assert_eq!(content_type, "image/jpeg");
        let small = image::load_from_memory(&preview).unwrap();
        assert_eq!((small.width(), small.height()), (240, 160));
        let other = uploads.save(png(10, 10)).await.unwrap();
        assert_ne!(other.name, kept.name);
    }

    #[tokio::test]
    async fn what_line_would_refuse_is_refused_and_nothing_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::new(dir.path());
        assert!(matches!(
            uploads.save(Bytes::from_static(b"GIF89a....")).await,
            Err(UploadError::NotAnImage)
        ));
        assert!(matches!(
            uploads.save(Bytes::from(vec![0u8; MAX_IMAGE + 1])).await,
            Err(UploadError::TooLarge(_))
        ));
        // A PNG signature with nothing behind it.
        assert!(matches!(
            uploads
                .save(Bytes::from_static(b"\x89PNG\r\n\x1a\n\0\0\0"))
                .await,
            Err(UploadError::Unreadable(_))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path())
                .map(|d| d.count())
                .unwrap_or(0),
            0
        );
        for name in ["../../etc/passwd", "x", &"g".repeat(32)] {
            assert_eq!(uploads.open(name, false).await.unwrap(), None);
        }
    }
}
