//! Voice messages and videos simulated users send: real MP4 files a player can open, seek
//! and play, as long as the message says. LINE's own are AAC and H.264, which need encoders
//! the simulator does without: these carry plain 16-bit sound (QuickTime's `sowt`) and
//! Motion-JPEG frames (`jpeg`), which every GStreamer, and so every WebKitGTK, decodes.

/// Sound: a soft tone, 8,000 samples a second, one channel.
const RATE: u32 = 8_000;
/// Video: two frames a second.
const FRAME_MS: u32 = 500;

/// A voice message of `duration_ms` (at most a minute).
pub(crate) fn voice(duration_ms: u64) -> bytes::Bytes {
    let samples = (duration_ms.min(60_000) * u64::from(RATE) / 1000).max(1) as u32;
    let mut pcm = Vec::with_capacity(samples as usize * 2);
    for n in 0..samples {
        let t = f64::from(n) / f64::from(RATE);
        let level = (t * 440.0 * std::f64::consts::TAU).sin() * 6_000.0;
        pcm.extend_from_slice(&(level as i16).to_le_bytes());
    }
    let entry = sound_entry();
    let track = Track {
        handler: *b"soun",
        media_header: smhd(),
        timescale: RATE,
        duration: samples,
        sample_entry: entry,
        sizes: Sizes::Uniform {
            size: 2,
            count: samples,
        },
        delta: 1,
        width: 0,
        height: 0,
    };
    mp4(*b"M4A ", &track, &[&pcm])
}

/// A video of `duration_ms` (at most a minute) showing `frame`, a JPEG of `width` × `height`.
pub(crate) fn video(duration_ms: u64, frame: &[u8], width: u16, height: u16) -> bytes::Bytes {
    let frames = (duration_ms.min(60_000) as u32).div_ceil(FRAME_MS).max(1);
    let track = Track {
        handler: *b"vide",
        media_header: vmhd(),
        timescale: 1000,
        duration: frames * FRAME_MS,
        sample_entry: jpeg_entry(width, height),
        sizes: Sizes::Each(vec![frame.len() as u32; frames as usize]),
        delta: FRAME_MS,
        width,
        height,
    };
    let samples: Vec<&[u8]> = (0..frames).map(|_| frame).collect();
    mp4(*b"isom", &track, &samples)
}

enum Sizes {
    Uniform { size: u32, count: u32 },
    Each(Vec<u32>),
}

impl Sizes {
    fn count(&self) -> u32 {
        match self {
            Sizes::Uniform { count, .. } => *count,
            Sizes::Each(sizes) => sizes.len() as u32,
        }
    }
}

struct Track {
    handler: [u8; 4],
    media_header: Vec<u8>,
    /// Units per second of `duration` and `delta`.
    timescale: u32,
    duration: u32,
    sample_entry: Vec<u8>,
    sizes: Sizes,
    /// Each sample lasts this long.
    delta: u32,
    width: u16,
    height: u16,
}

/// A box: its size, its type, what it holds.
fn atom(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(kind);
    for part in parts {
        out.extend_from_slice(part);
    }
    out
}

/// Big-endian fields, one after another.
fn fields(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

const UNITY: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// One track's file: `ftyp`, the samples in one chunk of `mdat`, then `moov` pointing at it.
fn mp4(brand: [u8; 4], track: &Track, samples: &[&[u8]]) -> bytes::Bytes {
    let ftyp = atom(b"ftyp", &[&brand, &fields(&[0]), b"isommp41", &brand]);
    let data: Vec<u8> = samples.concat();
    let mdat = atom(b"mdat", &[&data]);
    let chunk_offset = (ftyp.len() + 8) as u32;
    let movie_ms = u64::from(track.duration) * 1000 / u64::from(track.timescale);

    let mut mvhd = fields(&[0, 0, 0, 1000, movie_ms as u32, 0x0001_0000]);
    mvhd.extend_from_slice(&[0x01, 0x00, 0, 0]); // volume 1.0, reserved
    mvhd.extend_from_slice(&fields(&[0, 0]));
    mvhd.extend_from_slice(&fields(&UNITY));
    mvhd.extend_from_slice(&fields(&[0; 6]));
    mvhd.extend_from_slice(&fields(&[2])); // the next track's id
    let mvhd = atom(b"mvhd", &[&mvhd]);

    let sound = track.handler == *b"soun";
    // Enabled and in the movie; track 1; then reserved, layer and alternate group.
    let mut tkhd = fields(&[0x0000_0003, 0, 0, 1, 0, movie_ms as u32, 0, 0, 0]);
    tkhd.extend_from_slice(&[u8::from(sound), 0, 0, 0]); // volume 1.0 for sound, reserved
    tkhd.extend_from_slice(&fields(&UNITY));
    tkhd.extend_from_slice(&fields(&[
        u32::from(track.width) << 16,
        u32::from(track.height) << 16,
    ]));
    let tkhd = atom(b"tkhd", &[&tkhd]);

    let mut mdhd = fields(&[0, 0, 0, track.timescale, track.duration]);
    mdhd.extend_from_slice(&[0x55, 0xC4, 0, 0]); // language "und"
    let mdhd = atom(b"mdhd", &[&mdhd]);
    let hdlr = atom(
        b"hdlr",
        &[&fields(&[0, 0]), &track.handler, &fields(&[0, 0, 0]), b"\0"],
    );
    let dref = atom(
        b"dref",
        &[&fields(&[0, 1]), &atom(b"url ", &[&fields(&[1])])],
    );
    let dinf = atom(b"dinf", &[&dref]);

    let stsd = atom(b"stsd", &[&fields(&[0, 1]), &track.sample_entry]);
    let count = track.sizes.count();
    let stts = atom(b"stts", &[&fields(&[0, 1, count, track.delta])]);
    let stsc = atom(b"stsc", &[&fields(&[0, 1, 1, count, 1])]);
    let stsz = match &track.sizes {
        Sizes::Uniform { size, count } => atom(b"stsz", &[&fields(&[0, *size, *count])]),
        Sizes::Each(sizes) => atom(b"stsz", &[&fields(&[0, 0, count]), &fields(sizes)]),
    };
    let stco = atom(b"stco", &[&fields(&[0, 1, chunk_offset])]);
    let stbl = atom(b"stbl", &[&stsd, &stts, &stsc, &stsz, &stco]);
    let minf = atom(b"minf", &[&track.media_header, &dinf, &stbl]);
    let mdia = atom(b"mdia", &[&mdhd, &hdlr, &minf]);
    let trak = atom(b"trak", &[&tkhd, &mdia]);
    let moov = atom(b"moov", &[&mvhd, &trak]);
    [ftyp, mdat, moov].concat().into()
}

fn smhd() -> Vec<u8> {
    atom(b"smhd", &[&fields(&[0, 0])])
}

fn vmhd() -> Vec<u8> {
    atom(b"vmhd", &[&fields(&[1, 0, 0])])
}

/// QuickTime's sound description: 16-bit little-endian samples, one channel.
fn sound_entry() -> Vec<u8> {
    let mut entry = vec![0; 6];
    entry.extend_from_slice(&1u16.to_be_bytes()); // data reference
    entry.extend_from_slice(&fields(&[0, 0])); // version, revision, vendor
    entry.extend_from_slice(&1u16.to_be_bytes()); // channels
    entry.extend_from_slice(&16u16.to_be_bytes()); // bits per sample
    entry.extend_from_slice(&fields(&[0, RATE << 16]));
    atom(b"sowt", &[&entry])
}

/// A visual sample entry for Motion-JPEG frames.
fn jpeg_entry(width: u16, height: u16) -> Vec<u8> {
    let mut entry = vec![0; 6];
    entry.extend_from_slice(&1u16.to_be_bytes()); // data reference
    entry.extend_from_slice(&fields(&[0, 0, 0, 0]));
    entry.extend_from_slice(&width.to_be_bytes());
    entry.extend_from_slice(&height.to_be_bytes());
    entry.extend_from_slice(&fields(&[0x0048_0000, 0x0048_0000, 0]));
    entry.extend_from_slice(&1u16.to_be_bytes()); // frames per sample
    let mut name = [0u8; 32];
    name[0] = 5;
    name[1..6].copy_from_slice(b"Photo");
    entry.extend_from_slice(&name);
    entry.extend_from_slice(&0x0018u16.to_be_bytes()); // depth
    entry.extend_from_slice(&(-1i16).to_be_bytes());
    atom(b"jpeg", &[&entry])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boxes directly inside `bytes`: type and body.
    fn boxes(bytes: &[u8]) -> Vec<([u8; 4], &[u8])> {
        let mut out = Vec::new();
        let mut at = 0;
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            assert!(
                len >= 8 && at + len <= bytes.len(),
                "a box overruns its parent"
            );
            out.push((
                bytes[at + 4..at + 8].try_into().unwrap(),
                &bytes[at + 8..at + len],
            ));
            at += len;
        }
        assert_eq!(at, bytes.len(), "trailing bytes");
        out
    }

    fn child<'a>(bytes: &'a [u8], path: &[&[u8; 4]]) -> &'a [u8] {
        path.iter().fold(bytes, |inside, kind| {
            boxes(inside)
                .into_iter()
                .find(|(k, _)| k == *kind)
                .map(|(_, body)| body)
                .unwrap_or_else(|| panic!("no {}", String::from_utf8_lossy(*kind)))
        })
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn a_voice_message_lasts_as_long_as_the_message_says_and_points_at_its_sound() {
        let file = voice(4_000);
        let mdhd = child(&file, &[b"moov", b"trak", b"mdia", b"mdhd"]);
        assert_eq!((u32_at(mdhd, 12), u32_at(mdhd, 16)), (RATE, 4 * RATE));
        let mvhd = child(&file, &[b"moov", b"mvhd"]);
        assert_eq!(u32_at(mvhd, 16), 4_000, "the movie's duration in ms");
        let stco = child(
            &file,
            &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stco"],
        );
        let offset = u32_at(stco, 8) as usize;
        let mdat = child(&file, &[b"mdat"]);
        assert_eq!(&file[offset..offset + mdat.len()], mdat);
        assert_eq!(mdat.len(), 4 * RATE as usize * 2);
    }

    #[test]
    fn a_video_holds_its_frames_back_to_back_with_their_sizes() {
        let frame = [0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9];
        let file = video(1_800, &frame, 160, 120);
        let stbl = child(&file, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]);
        let stsz = child(stbl, &[b"stsz"]);
        assert_eq!(
            (u32_at(stsz, 4), u32_at(stsz, 8)),
            (0, 4),
            "four frames of 0.5 s"
        );
        assert!((0..4).all(|i| u32_at(stsz, 12 + 4 * i) == frame.len() as u32));
        assert_eq!(child(&file, &[b"mdat"]), frame.repeat(4).as_slice());
        let entry = child(stbl, &[b"stsd"]);
        assert_eq!(&entry[12..16], b"jpeg");
    }
}
