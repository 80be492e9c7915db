//! Images operators upload to send: kept with a thumbnail, served to LINE at the relay's
//! public address without authentication, refused when LINE would refuse them or they
//! would cost the relay more than it allows, and forgotten once LINE no longer fetches them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_proto::UnixMillis;
use tsunagi_proto::api::{ErrorBody, ErrorCode, Role, Uploaded};
use tsunagi_relay::Relay;
use tsunagi_relay::clock::Clock;
use tsunagi_relay::media::MediaStore;
use tsunagi_relay::secret::ChannelSecret;
use tsunagi_relay::store::AnyStore;
use tsunagi_relay::testing::TestRelay;
use tsunagi_relay::upload::{UploadLimits, Uploads};

use crate::{CHANNEL, enroll};

fn jpeg() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn an_uploaded_image_is_served_publicly_at_the_relays_https_address_for_line() {
    let test = TestRelay::builder()
        .line("http://127.0.0.1:9")
        .public_url("https://relay.clinic.example")
        .start()
        .await;
    let (base, relay) = (test.url.clone(), test.relay.clone());
    let http = reqwest::Client::new();
    let token = enroll(&http, &base, &relay, CHANNEL, Role::Staff).await;
    let upload = |body: Vec<u8>, token: Option<&str>| {
        let mut request = http
            .post(format!("{base}/v1/channels/{CHANNEL}/uploads"))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let original = jpeg();
    let answer = upload(original.clone(), Some(&token)).await.unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let uploaded: Uploaded = answer.json().await.unwrap();
    let path = uploaded
        .original_content_url
        .strip_prefix("https://relay.clinic.example")
        .expect("at the public address");
    assert!(path.starts_with("/public/uploads/"), "{path}");
    assert_eq!(
        uploaded.preview_image_url,
        format!("{}/preview", uploaded.original_content_url)
    );

    // LINE fetches both without a token.
    let served = http.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().to_vec(), original);
    let preview = http
        .get(format!("{base}{path}/preview"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let small = image::load_from_memory(&preview).unwrap();
    assert_eq!((small.width(), small.height()), (240, 180));

    // Refused: no token, not an image; an unknown name is not found.
    assert_eq!(upload(jpeg(), None).await.unwrap().status().as_u16(), 401);
    let refused = upload(b"%PDF-1.7".to_vec(), Some(&token)).await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let missing = http
        .get(format!("{base}/public/uploads/{}", "0".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

// What an upload may cost: pixels and memory read from the header, decodes a few at a
// time, a quota per channel, and a retention after which the relay forgets it.

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How far ahead of the system's clock the relay's reads, for the one test that moves it.
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

fn ahead() -> UnixMillis {
    UnixMillis(UnixMillis::now().0 + AHEAD_MS.load(Ordering::SeqCst))
}

/// A relay with a public address for LINE, whose uploads keep within `limits`, on a test
/// relay's store and media folder, judging time by `clock`.
struct Limited {
    base: String,
    relay: Arc<Relay<AnyStore>>,
    http: reqwest::Client,
    token: String,
    _test: TestRelay,
}

impl Limited {
    async fn start(limits: UploadLimits, clock: Clock) -> Limited {
        let test = TestRelay::builder()
            .line("http://127.0.0.1:9")
            .public_url("https://relay.clinic.example")
            .start()
            .await;
        let media = MediaStore::new(test.storage.dir().join("media")).with_upload_limits(limits);
        let relay = Arc::new(
            test.another_process()
                .await
                .with_media(media)
                .with_clock(clock),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(tsunagi_relay::http::serve(
            listener,
            relay.clone(),
            tsunagi_relay::http::Options::default(),
            std::future::pending(),
        ));
        let http = reqwest::Client::new();
        let token = enroll(&http, &base, &relay, CHANNEL, Role::Staff).await;
        Limited {
            base,
            relay,
            http,
            token,
            _test: test,
        }
    }

    fn uploads(&self) -> &Uploads {
        self.relay.media().unwrap().uploads()
    }

    async fn upload_as(&self, token: &str, channel: &str, body: Vec<u8>) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/channels/{channel}/uploads", self.base))
            .bearer_auth(token)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn upload(&self, body: Vec<u8>) -> reqwest::Response {
        self.upload_as(&self.token, CHANNEL, body).await
    }

    /// The public path of an upload LINE fetches (`/public/uploads/<name>`).
    async fn kept(&self, body: Vec<u8>) -> String {
        let answer = self.upload(body).await;
        assert_eq!(answer.status().as_u16(), 201);
        let uploaded: Uploaded = answer.json().await.unwrap();
        uploaded
            .original_content_url
            .strip_prefix("https://relay.clinic.example")
            .unwrap()
            .to_owned()
    }

    async fn fetch(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
}

/// Waits (up to ten seconds) until `fact` holds.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut fact: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !fact().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A PNG whose header claims `width` × `height` RGB pixels, with a few bytes of data: a
/// decompression bomb's shape, without its bulk.
fn claimed_png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    // 8 bits a sample, RGB, deflate, no filter method of its own, not interlaced.
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    // zlib's empty stream.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A photo-like JPEG (noise does not compress): some 100 KB, its thumbnail far smaller.
fn noisy_jpeg() -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let picture = image::RgbImage::from_fn(640, 480, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_png_claiming_more_pixels_than_the_relay_decodes_is_refused_from_its_header_alone() {
    let test = Limited::start(UploadLimits::default(), Clock::SYSTEM).await;
    // 900 megapixels (2.7 GB decoded), and 120 megapixels (360 MB: under the image
    // library's own default bound, so a decode would have allocated it all).
    for (width, height) in [(30_000, 30_000), (12_000, 10_000)] {
        let bomb = claimed_png(width, height);
        assert!(bomb.len() < 100, "{} bytes", bomb.len());
        // A header the image library believes.
        let claimed = image::ImageReader::new(std::io::Cursor::new(&bomb))
            .with_guessed_format()
            .unwrap()
            .into_dimensions()
            .unwrap();
        assert_eq!(claimed, (width, height));
        let answer = test.upload(bomb).await;
        assert_eq!(answer.status().as_u16(), 413);
        let body: ErrorBody = answer.json().await.unwrap();
        assert_eq!(body.code, ErrorCode::TooLarge);
        assert!(
            body.message.contains(&format!("{width} × {height} pixels"))
                && body.message.contains("up to 40 megapixels"),
            "{}",
            body.message
        );
    }
    assert_eq!(test.uploads().decodes().started, 0, "nothing was decoded");
    assert_eq!(test.upload(jpeg()).await.status().as_u16(), 201);
    assert_eq!(test.uploads().decodes().started, 1);
}

#[tokio::test]
async fn parallel_uploads_never_decode_more_at_once_than_the_relay_allows() {
    let limits = UploadLimits {
        decodes: 2,
        queue: 4,
        ..UploadLimits::default()
    };
    let test = Arc::new(Limited::start(limits, Clock::SYSTEM).await);
    let held = test.uploads().hold_decodes();
    let uploads: Vec<_> = (0..6)
        .map(|_| {
            let test = test.clone();
            tokio::spawn(async move { test.upload(jpeg()).await.status().as_u16() })
        })
        .collect();
    until("two decoding and four waiting", || async {
        let decodes = test.uploads().decodes();
        (decodes.running, decodes.waiting) == (2, 4)
    })
    .await;

    // The queue is full: the next is told when to come back.
    let busy = test.upload(jpeg()).await;
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(busy.headers()["retry-after"], "3");
    let body: ErrorBody = busy.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::Unavailable);

    drop(held);
    for upload in uploads {
        assert_eq!(upload.await.unwrap(), 201);
    }
    let decodes = test.uploads().decodes();
    assert_eq!((decodes.started, decodes.most_at_once), (6, 2));
    assert_eq!((decodes.running, decodes.waiting), (0, 0));
}

#[tokio::test]
async fn a_channel_over_its_upload_quota_is_refused_and_another_channel_is_not() {
    let photo = noisy_jpeg();
    // Room for two uploads (each a photo and its much smaller thumbnail), not three.
    let quota = photo.len() as u64 * 5 / 2;
    let test = Limited::start(
        UploadLimits {
            quota,
            ..UploadLimits::default()
        },
        Clock::SYSTEM,
    )
    .await;
    const OTHER: &str = "1656789013";
    test.relay
        .add_channel(
            &ChannelId::from(OTHER),
            ChannelSecret::new("0123456789abcdef0123456789abcdef"),
        )
        .await
        .unwrap();
    let other = enroll(&test.http, &test.base, &test.relay, OTHER, Role::Staff).await;

    test.kept(photo.clone()).await;
    test.kept(photo.clone()).await;
    let full = test.upload(photo.clone()).await;
    assert_eq!(full.status().as_u16(), 413);
    let body: ErrorBody = full.json().await.unwrap();
    assert_eq!(body.code, ErrorCode::TooLarge);
    assert!(
        body.message.contains("this channel keeps") && body.message.contains("kept 14 days"),
        "{}",
        body.message
    );
    assert_eq!(
        test.upload_as(&other, OTHER, photo.clone())
            .await
            .status()
            .as_u16(),
        201,
        "another channel's room is its own"
    );
    let now = test.relay.now();
    let used = test
        .uploads()
        .usage(&ChannelId::from(CHANNEL), now)
        .await
        .unwrap();
    assert!(used <= quota && used > 2 * photo.len() as u64, "{used}");
}

#[tokio::test]
async fn an_upload_older_than_the_retention_is_gone_after_the_sweep_and_a_younger_one_stays() {
    AHEAD_MS.store(0, Ordering::SeqCst);
    let test = Limited::start(UploadLimits::default(), Clock::new(ahead)).await;
    let old = test.kept(jpeg()).await;
    AHEAD_MS.store(10 * DAY_MS, Ordering::SeqCst);
    let young = test.kept(jpeg()).await;

    // Fifteen days after the first: LINE fetches it no more.
    AHEAD_MS.store(15 * DAY_MS, Ordering::SeqCst);
    assert_eq!(test.fetch(&old).await.status().as_u16(), 410);
    assert_eq!(
        test.fetch(&format!("{old}/preview"))
            .await
            .status()
            .as_u16(),
        410
    );
    let served = test.fetch(&young).await;
    assert_eq!(served.status().as_u16(), 200);
    let cache = served.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let max_age: u64 = cache
        .split("max-age=")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|seconds| seconds.parse().ok())
        .unwrap();
    assert!(max_age <= 9 * 86_400, "{cache}: cached past its retention");

    // The sweep main.rs starts deletes it on start.
    let sweeping = tokio::spawn(tsunagi_relay::upload::keep_sweeping(test.relay.clone()));
    until("the old upload is deleted", || async {
        test.fetch(&old).await.status().as_u16() == 404
    })
    .await;
    assert_eq!(test.fetch(&young).await.status().as_u16(), 200);
    let now = test.relay.now();
    let used = test
        .uploads()
        .usage(&ChannelId::from(CHANNEL), now)
        .await
        .unwrap();
    assert!(used > jpeg().len() as u64, "the young one still counts");

    test.relay.close();
    tokio::time::timeout(Duration::from_secs(10), sweeping)
        .await
        .expect("the sweep ends when the relay closes")
        .unwrap();
}
