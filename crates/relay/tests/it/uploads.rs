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
    let sweeping = tokio::spawn(tsunagi_relay::sweep::keep_sweeping(test.relay.clone()));
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

// Whether LINE can fetch what operators send: the relay checks its own public address, and
// linesim fetches each image it is sent, at delivery and again days later.

mod line_fetches {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::time::Duration;

    use pretty_assertions::assert_eq;
    use serde_json::value::RawValue;
    use tokio_rustls::rustls;
    use tsunagi_line::client::RetryKey;
    use tsunagi_line::message::{Message, MessageBody};
    use tsunagi_line::{ChannelId, UserId};
    use tsunagi_linesim::{Config, FetchedBy, ManualClock, Simulator, UserAction};
    use tsunagi_proto::api::{PhotoDelivery, PhotoProblem, Role, Uploaded};
    use tsunagi_proto::{ConversationId, DeviceId, OpId, Operation, SendOp, UnixMillis};
    use tsunagi_relay::Relay;
    use tsunagi_relay::clock::Clock;
    use tsunagi_relay::store::{AnyStore, LogStore as _, NewBody, NewEntry};
    use tsunagi_relay::testing::TestRelay;

    use crate::executor::options;
    use crate::{CHANNEL, SECRET, enroll};

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;
    const START: i64 = 1_767_225_600_000;
    const WITHIN: Duration = Duration::from_secs(10);

    /// How far ahead of the system's the clock of the relay that serves LINE reads, for
    /// the one test that moves it.
    static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

    fn ahead() -> UnixMillis {
        UnixMillis(UnixMillis::now().0 + AHEAD_MS.load(Ordering::SeqCst))
    }

    /// A certificate authority of the test's own, made now.
    struct Authority {
        issuer: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
    }

    impl Authority {
        fn new() -> Authority {
            let mut params = rcgen::CertificateParams::default();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "Tsunagi test authority");
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params.key_usages = vec![
                rcgen::KeyUsagePurpose::KeyCertSign,
                rcgen::KeyUsagePurpose::CrlSign,
            ];
            let key = rcgen::KeyPair::generate().unwrap();
            Authority {
                issuer: rcgen::CertifiedIssuer::self_signed(params, key).unwrap(),
            }
        }

        fn pem(&self) -> String {
            self.issuer.pem()
        }

        /// A server certificate for 127.0.0.1, and its key.
        fn issue(&self) -> (Vec<u8>, Vec<u8>) {
            let mut params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, "127.0.0.1");
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            let key = rcgen::KeyPair::generate().unwrap();
            let certificate = params.signed_by(&key, &self.issuer).unwrap();
            (certificate.der().to_vec(), key.serialize_der())
        }
    }

    /// An HTTPS front on 127.0.0.1, as a TLS proxy before a relay: it passes every
    /// connection on to `upstream`, with a certificate `authority` issued. Its address.
    async fn https_front(authority: &Authority, upstream: SocketAddr) -> String {
        let (certificate, key) = authority.issue();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![certificate.into()],
                rustls::pki_types::PrivateKeyDer::try_from(key).unwrap(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut relay) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut relay).await;
                });
            }
        });
        format!("https://{address}")
    }

    /// What a misconfigured proxy answers for every path: its login page.
    async fn login_page() -> SocketAddr {
        let router = axum::Router::new().fallback(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                "<form action=/login>Sign in to continue</form>",
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        address
    }

    /// A port nothing listens on.
    async fn nothing() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    }

    /// Where the relay's public address leads.
    enum Public {
        /// To the relay, through an HTTPS front with a certificate of an authority LINE
        /// (linesim) and the relay's check trust.
        Relay,
        /// To this server, through such a front.
        Elsewhere(SocketAddr),
        /// This address, as it is.
        Address(String),
    }

    /// linesim (on a clock the test moves), a relay connected to it with its executor
    /// running, the relay's public address as `public` says, and a patient who wrote.
    struct Clinic {
        sim: Simulator,
        sim_clock: ManualClock,
        /// The relay that desks and LINE reach (its clock reads [`ahead`] or the system's).
        base: String,
        relay: Arc<Relay<AnyStore>>,
        http: reqwest::Client,
        staff: String,
        owner: String,
        patient: UserId,
        test: TestRelay,
        _executor: tokio::task::JoinHandle<()>,
    }

    impl Clinic {
        async fn start(public: Public, clock: Clock) -> Clinic {
            let sim_clock = ManualClock::starting_at(START);
            let serving = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", serving.local_addr().unwrap());
            let mut config = Config::new(CHANNEL, SECRET, "long-lived");
            config.webhook_url = Some(format!("{base}/webhook/line/{CHANNEL}"));
            let sim = Simulator::with_clock(config, Arc::new(sim_clock.clone()));
            let line_api = sim
                .clone()
                .serve("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            let authority = Authority::new();
            sim.trust_certificate(authority.pem().as_bytes()).unwrap();
            let public_url = match public {
                Public::Relay => https_front(&authority, serving.local_addr().unwrap()).await,
                Public::Elsewhere(server) => https_front(&authority, server).await,
                Public::Address(address) => address,
            };
            let test = TestRelay::builder()
                .line(format!("http://{line_api}"))
                .public_url(public_url)
                .start()
                .await;
            let relay = Arc::new(test.another_process().await.with_clock(clock));
            relay
                .media()
                .unwrap()
                .uploads()
                .trust_in_checks(authority.pem().as_bytes())
                .unwrap();
            tokio::spawn(tsunagi_relay::http::serve(
                serving,
                relay.clone(),
                tsunagi_relay::http::Options::default(),
                std::future::pending(),
            ));
            let executor = tokio::spawn(tsunagi_relay::executor::run(
                test.relay.clone(),
                test.relay.line().unwrap().clone(),
                options("photos"),
            ));
            let http = reqwest::Client::new();
            let staff = enroll(&http, &base, &relay, CHANNEL, Role::Staff).await;
            let owner = enroll(&http, &base, &relay, CHANNEL, Role::Owner).await;
            let patient = sim.users()[0].user_id.clone();
            let said = sim
                .say(
                    &patient,
                    UserAction::Text {
                        text: "ผื่นขึ้นที่แขนค่ะ".into(),
                    },
                )
                .await
                .unwrap();
            assert_eq!(said.attempt.status, Some(200));
            Clinic {
                sim,
                sim_clock,
                base,
                relay,
                http,
                staff,
                owner,
                patient,
                test,
                _executor: executor,
            }
        }

        /// An operator attaches a photo: the relay keeps it, and says where LINE fetches it.
        async fn upload(&self) -> Uploaded {
            let answer = self
                .http
                .post(format!("{}/v1/channels/{CHANNEL}/uploads", self.base))
                .bearer_auth(&self.staff)
                .body(super::jpeg())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status().as_u16(), 201);
            answer.json().await.unwrap()
        }

        /// The operator sends it to the patient, as their desk logs it; the executor sends it.
        async fn send(&self, uploaded: &Uploaded) {
            let op = Operation::Send(SendOp {
                conversation: ConversationId::from(self.patient.as_str()),
                messages: vec![Message::from(MessageBody::Image {
                    original_content_url: uploaded.original_content_url.clone(),
                    preview_image_url: uploaded.preview_image_url.clone(),
                })],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            });
            let json = RawValue::from_string(serde_json::to_string(&op).unwrap()).unwrap();
            self.relay
                .store
                .append(
                    &ChannelId::from(CHANNEL),
                    vec![NewEntry {
                        at: UnixMillis::now(),
                        body: NewBody::Op {
                            op_id: OpId::new(),
                            device: DeviceId::from("d-nok"),
                            role: None,
                            op: json,
                        },
                    }],
                )
                .await
                .unwrap();
        }

        /// Whether LINE can fetch uploads, as the relay last found: `GET` (any device), or
        /// checked again (`POST`, an owner's).
        async fn check(&self, again: bool, token: &str) -> reqwest::Response {
            let url = format!("{}/v1/channels/{CHANNEL}/uploads/check", self.base);
            let request = if again {
                self.http.post(url)
            } else {
                self.http.get(url)
            };
            request.bearer_auth(token).send().await.unwrap()
        }

        async fn delivery(&self, again: bool) -> PhotoDelivery {
            let answer = self.check(again, &self.owner).await;
            assert_eq!(answer.status().as_u16(), 200);
            answer.json().await.unwrap()
        }
    }

    #[tokio::test]
    async fn a_photo_sent_through_the_relay_is_fetched_by_line_and_still_opens_thirteen_days_later()
    {
        let clinic = Clinic::start(Public::Relay, Clock::new(ahead)).await;
        let uploaded = clinic.upload().await;
        let public = clinic.test.relay.line().unwrap().public_url.clone();
        assert!(
            uploaded.original_content_url.starts_with(&public),
            "{uploaded:?} at {public}"
        );
        clinic.send(&uploaded).await;

        // LINE's servers fetch the photo and its preview as they deliver it.
        let fetched = clinic.sim.until_image_fetches(2, WITHIN).await.unwrap();
        assert!(
            fetched
                .iter()
                .all(|f| f.ok() && f.by == FetchedBy::Delivery),
            "{fetched:#?}"
        );
        let mut urls: Vec<&str> = fetched.iter().map(|f| f.url.as_str()).collect();
        urls.sort_unstable();
        assert_eq!(
            urls,
            [
                uploaded.original_content_url.as_str(),
                uploaded.preview_image_url.as_str()
            ]
        );
        let original = fetched
            .iter()
            .find(|f| f.url == uploaded.original_content_url)
            .unwrap();
        assert_eq!(
            (original.status, original.content_type.as_deref()),
            (Some(200), Some("image/jpeg"))
        );
        let delivered = clinic.sim.inbox(clinic.patient.as_str());
        assert_eq!(delivered.len(), 1, "{delivered:?}");
        // And the relay found, on its own, that LINE can fetch from it.
        let delivery = clinic.delivery(false).await;
        assert_eq!(
            (delivery.ok, delivery.problem, delivery.url.as_str()),
            (
                true,
                None,
                format!("{public}/public/uploads/probe.png").as_str()
            )
        );

        // Thirteen days later the patient opens the chat: the app fetches it again, and the
        // relay still keeps it.
        AHEAD_MS.store(13 * DAY_MS, Ordering::SeqCst);
        clinic
            .sim_clock
            .advance(Duration::from_millis(13 * DAY_MS as u64));
        let later = clinic.sim.refetch_images().await;
        assert_eq!(later.len(), 2);
        assert!(
            later
                .iter()
                .all(|f| f.ok() && f.by == FetchedBy::App && f.at == START + 13 * DAY_MS),
            "{later:#?}"
        );
        assert_eq!(clinic.sim.broken_images(), []);

        // Past the relay's fourteen days, it is gone: the patient would see it broken.
        AHEAD_MS.store(15 * DAY_MS, Ordering::SeqCst);
        let gone = clinic.sim.refetch_images().await;
        assert!(gone.iter().all(|f| f.status == Some(410)), "{gone:#?}");
        let broken = clinic.sim.broken_images();
        assert_eq!(broken.len(), 2);
        assert!(
            broken
                .iter()
                .all(|b| b.message_id == delivered[0].message_id
                    && b.to == clinic.patient.as_str())
        );
    }

    #[tokio::test]
    async fn a_public_address_that_answers_a_login_page_or_nothing_is_reported_and_line_sees_a_broken_photo()
     {
        for (public, problem) in [
            (
                Public::Elsewhere(login_page().await),
                PhotoProblem::NotAnImage,
            ),
            (
                Public::Address(format!("https://{}", nothing().await)),
                PhotoProblem::Unreachable,
            ),
        ] {
            let clinic = Clinic::start(public, Clock::SYSTEM).await;
            let checked = clinic.delivery(true).await;
            assert_eq!(
                (checked.ok, checked.problem),
                (false, Some(problem)),
                "{checked:?}"
            );
            assert!(checked.detail.is_some());
            // What desks are told is that last check.
            assert_eq!(clinic.delivery(false).await, checked);

            // The upload is kept all the same, and the operator may send it: LINE gets
            // nothing it can show.
            let uploaded = clinic.upload().await;
            clinic.send(&uploaded).await;
            let fetched = clinic.sim.until_image_fetches(2, WITHIN).await.unwrap();
            assert!(fetched.iter().all(|f| !f.ok()), "{fetched:#?}");
            let broken = clinic.sim.broken_images();
            assert_eq!(broken.len(), 2, "{broken:#?}");
            let delivered = clinic.sim.inbox(clinic.patient.as_str());
            assert!(
                broken
                    .iter()
                    .all(|b| b.message_id == delivered[0].message_id)
            );
            match problem {
                PhotoProblem::NotAnImage => {
                    assert!(fetched.iter().all(|f| f.status == Some(200)
                        && f.content_type.as_deref() == Some("text/html; charset=utf-8")));
                }
                _ => assert!(fetched.iter().all(|f| f.status.is_none())),
            }
        }
    }

    #[tokio::test]
    async fn the_check_refuses_plain_http_a_private_address_and_a_certificate_line_would_not_trust()
    {
        for (address, problem) in [
            ("http://relay.clinic.example", PhotoProblem::NotHttps),
            ("http://203.0.114.9:8080", PhotoProblem::NotHttps),
            ("https://192.168.1.20", PhotoProblem::PrivateAddress),
        ] {
            let clinic = Clinic::start(Public::Address(address.to_owned()), Clock::SYSTEM).await;
            let checked = clinic.delivery(true).await;
            assert_eq!(
                (checked.ok, checked.problem, checked.url),
                (
                    false,
                    Some(problem),
                    format!("{address}/public/uploads/probe.png")
                ),
            );
        }

        // A certificate of an authority nobody trusts (made here, as a self-signed one is).
        let clinic = Clinic::start(Public::Address(String::new()), Clock::SYSTEM).await;
        let stranger = https_front(&Authority::new(), clinic.base_address()).await;
        let relay = Arc::new(clinic.test.another_process().await.with_line(
            tsunagi_relay::line_setup::LineSetup {
                public_url: stranger,
                ..clinic.test.relay.line().unwrap().clone()
            },
        ));
        let checked = relay
            .media()
            .unwrap()
            .uploads()
            .check_photo_delivery(&relay.line().unwrap().public_url, relay.now())
            .await;
        assert_eq!(
            checked.problem,
            Some(PhotoProblem::Certificate),
            "{checked:?}"
        );
        assert!(
            checked.detail.as_deref().unwrap().contains("UnknownIssuer"),
            "{checked:?}"
        );
    }

    #[tokio::test]
    async fn only_owners_check_again_and_every_device_of_the_channel_reads_the_last_check() {
        let clinic = Clinic::start(Public::Relay, Clock::SYSTEM).await;
        assert_eq!(
            clinic.check(true, &clinic.staff).await.status().as_u16(),
            403
        );
        let read = clinic.check(false, &clinic.staff).await;
        assert_eq!(read.status().as_u16(), 200);
        let read: PhotoDelivery = read.json().await.unwrap();
        assert!(read.ok, "{read:?}");
        assert_eq!(
            clinic
                .http
                .get(format!(
                    "{}/v1/channels/{CHANNEL}/uploads/check",
                    clinic.base
                ))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            401
        );
        // The probe itself, as LINE would fetch it.
        let probe = clinic
            .http
            .get(format!("{}/public/uploads/probe.png", clinic.base))
            .send()
            .await
            .unwrap();
        assert_eq!(probe.headers()["content-type"], "image/png");
        assert_eq!(probe.headers()["cache-control"], "no-store");
        assert_eq!(
            probe.bytes().await.unwrap().as_ref(),
            tsunagi_relay::upload::probe_image()
        );
    }

    impl Clinic {
        fn base_address(&self) -> SocketAddr {
            self.base.trim_start_matches("http://").parse().unwrap()
        }
    }
}
