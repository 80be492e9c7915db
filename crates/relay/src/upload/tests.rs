use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use image::ImageFormat;
use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;

use super::disk::system_time;
use super::*;
use crate::files::write_atomically;

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
