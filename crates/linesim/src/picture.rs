//! Photos simulated users send: real JPEGs (so an app can draw them), different for each
//! message, with a thumbnail as LINE's preview endpoint gives one.

use image::{ImageFormat, Rgb, RgbImage};

/// The thumbnail's width and height.
pub(crate) const THUMBNAIL: (u16, u16) = (160, 120);

/// A photo and its thumbnail, both JPEG, drawn from `seed` (the message id).
pub(crate) fn photo(seed: &str) -> (bytes::Bytes, bytes::Bytes) {
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let [r, g, b, _] = hash.to_le_bytes();
    let full = draw(480, 360, [r, g, b]);
    let thumbnail =
        image::imageops::thumbnail(&full, u32::from(THUMBNAIL.0), u32::from(THUMBNAIL.1));
    (jpeg(&full), jpeg(&thumbnail))
}

/// A diagonal blend from the message's colour to a pale sky, with a sun in one corner.
fn draw(width: u32, height: u32, colour: [u8; 3]) -> RgbImage {
    let sun = (
        width as f32 * 0.75,
        height as f32 * 0.3,
        height as f32 * 0.15,
    );
    RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32, y as f32);
        if (fx - sun.0).powi(2) + (fy - sun.1).powi(2) < sun.2.powi(2) {
            return Rgb([255, 214, 90]);
        }
        let t = (fx / width as f32 + fy / height as f32) / 2.0;
        let mix = |from: u8, to: u8| (f32::from(from) * (1.0 - t) + f32::from(to) * t) as u8;
        Rgb([
            mix(colour[0] / 2 + 60, 220),
            mix(colour[1] / 2 + 60, 236),
            mix(colour[2] / 2 + 60, 245),
        ])
    })
}

fn jpeg(picture: &RgbImage) -> bytes::Bytes {
    let mut out = std::io::Cursor::new(Vec::new());
    // Encoding an in-memory RGB image to memory cannot fail.
    let _ = picture.write_to(&mut out, ImageFormat::Jpeg);
    out.into_inner().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_jpegs_with_smaller_thumbnails_and_differ_by_message() {
        let (full, thumb) = photo("100001");
        let decoded = image::load_from_memory(&full).expect("a JPEG");
        assert_eq!((decoded.width(), decoded.height()), (480, 360));
        let small = image::load_from_memory(&thumb).expect("a JPEG");
        assert!(small.width() <= 160 && small.height() <= 120);
        assert_ne!(photo("100002").0, full);
    }
}
