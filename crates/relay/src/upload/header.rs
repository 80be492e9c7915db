//! What an image's header says before any of it is decoded: its size, and the memory
//! decoding it takes. Read by hand from a few bytes at known places, so that refusing a
//! decompression bomb (a 10 MB PNG that claims 30,000 × 30,000 pixels) costs nothing.

/// The two formats LINE takes for an image message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Jpeg,
    Png,
}

impl Format {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) format: Format,
    pub(super) width: u32,
    pub(super) height: u32,
    /// The most the decoder holds at once: the decoded pixels, and for JPEG its copy of
    /// the file and the DCT coefficients it keeps for the whole picture (progressive and
    /// non-interleaved files), two bytes for each of every component's samples.
    pub(super) decode_bytes: u64,
}

impl Header {
    pub(super) fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// Why no header was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unread {
    /// Neither a JPEG's nor a PNG's signature.
    NotAnImage,
    /// The signature of one, without a header that makes sense behind it.
    Damaged,
}

pub(super) fn read(bytes: &[u8]) -> Result<Header, Unread> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes).ok_or(Unread::Damaged)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(bytes).ok_or(Unread::Damaged)
    } else {
        Err(Unread::NotAnImage)
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u32> {
    let pair = bytes.get(at..at + 2)?;
    Some(u32::from(u16::from_be_bytes([pair[0], pair[1]])))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let quad = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]]))
}

/// A PNG's first chunk is its IHDR: width, height, bit depth and colour type at fixed
/// places. Decoded, samples under 8 bits grow to 8 and a palette to RGBA.
fn png(bytes: &[u8]) -> Option<Header> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let (width, height) = (be32(bytes, 16)?, be32(bytes, 20)?);
    let depth = *bytes.get(24)?;
    let channels: u64 = match *bytes.get(25)? {
        0 => 1,
        2 => 3,
        3 | 6 => 4,
        4 => 2,
        _ => return None,
    };
    if width == 0 || height == 0 {
        return None;
    }
    let sample = if depth == 16 { 2 } else { 1 };
    let row = u64::from(width) * channels * sample;
    // The picture, and the decoder's current and previous rows.
    let decode_bytes = row * u64::from(height) + 2 * (row + 1);
    Some(Header {
        format: Format::Png,
        width,
        height,
        decode_bytes,
    })
}

/// A JPEG's frame header (SOFn), found by walking its markers: size, components and their
/// sampling factors.
fn jpeg(bytes: &[u8]) -> Option<Header> {
    let mut at = 2;
    loop {
        // Markers start with 0xFF (any number of them); bytes between segments are skipped,
        // as decoders do.
        while *bytes.get(at)? != 0xFF {
            at += 1;
        }
        while *bytes.get(at)? == 0xFF {
            at += 1;
        }
        let marker = bytes[at];
        at += 1;
        match marker {
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD8 => continue,
            // The scan or the end, before any frame.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let length = usize::try_from(be16(bytes, at)?).ok()?;
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if !is_frame {
            at += length;
            continue;
        }
        let frame = bytes.get(at + 2..at + length)?;
        let (height, width) = (be16(frame, 1)?, be16(frame, 3)?);
        let count = usize::from(*frame.get(5)?);
        let sampling: Vec<(u64, u64)> = (0..count)
            .map(|i| {
                let factors = *frame.get(6 + 3 * i + 1)?;
                Some((u64::from(factors >> 4), u64::from(factors & 0x0F)))
            })
            .collect::<Option<_>>()?;
        let h_max = sampling.iter().map(|s| s.0).max()?;
        let v_max = sampling.iter().map(|s| s.1).max()?;
        if width == 0 || height == 0 || h_max == 0 || v_max == 0 {
            return None;
        }
        // Whole MCUs: 8 × 8 blocks at the largest sampling factors.
        let padded = |size: u32, max: u64| u64::from(size).div_ceil(8 * max) * 8 * max;
        let (padded_width, padded_height) = (padded(width, h_max), padded(height, v_max));
        let samples: u64 = sampling
            .iter()
            .map(|(h, v)| (padded_width * h / h_max) * (padded_height * v / v_max))
            .sum();
        // Grey stays grey; colour comes out as RGB (or RGBA).
        let channels = if count <= 2 { count } else { count.min(4) } as u64;
        let pixels = u64::from(width) * u64::from(height);
        let decode_bytes = pixels * channels + 2 * samples + bytes.len() as u64;
        return Some(Header {
            format: Format::Jpeg,
            width,
            height,
            decode_bytes,
        });
    }
}

#[cfg(test)]
mod tests {
    use image::ImageFormat;

    use super::*;

    fn encoded(picture: image::DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn the_header_gives_the_size_the_decoder_finds() {
        let rgb = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(333, 77, |x, y| {
            image::Rgb([x as u8, y as u8, 7])
        }));
        for (format, kind) in [
            (ImageFormat::Png, Format::Png),
            (ImageFormat::Jpeg, Format::Jpeg),
        ] {
            let bytes = encoded(rgb.clone(), format);
            let header = read(&bytes).unwrap();
            assert_eq!(
                (header.format, header.width, header.height),
                (kind, 333, 77)
            );
            let decoded = image::load_from_memory(&bytes).unwrap();
            assert!(header.decode_bytes >= decoded.as_bytes().len() as u64);
        }
        let deep = image::DynamicImage::ImageRgba16(image::ImageBuffer::new(10, 10));
        let header = read(&encoded(deep, ImageFormat::Png)).unwrap();
        assert!(header.decode_bytes >= 10 * 10 * 8, "{header:?}");
    }

    #[test]
    fn what_is_not_a_jpeg_or_png_header_is_told_apart_from_a_damaged_one() {
        assert_eq!(read(b"GIF89a...."), Err(Unread::NotAnImage));
        assert_eq!(read(b""), Err(Unread::NotAnImage));
        assert_eq!(read(b"\x89PNG\r\n\x1a\n\0\0\0"), Err(Unread::Damaged));
        assert_eq!(read(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 16]), Err(Unread::Damaged));
        // A scan before any frame header.
        assert_eq!(read(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2]), Err(Unread::Damaged));
    }
}
