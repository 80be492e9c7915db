//! LINE fetches the images a bot sends. An image message names where its picture is
//! (`originalContentUrl`, `previewImageUrl`; a video, where its preview is): LINE's servers
//! fetch them when the message is delivered, and the LINE app fetches them again when a
//! user opens the chat, days later maybe. What cannot be fetched then is a broken image in
//! the user's chat, and the bot never hears of it.
//!
//! linesim does the same: at delivery it fetches every image a send carries (in the
//! background: the API answers at once), and [`Simulator::refetch_images`] fetches every
//! delivered image again, as the app does when a user opens the chat. Each fetch is
//! recorded ([`ImageFetch`]); a fetch is broken when nothing answers, the answer is not a
//! 2xx, or it is not a JPEG or PNG (`Content-Type: image/jpeg` or `image/png`). LINE
//! wants HTTPS (with a certificate it trusts); plain http is fetched only from this
//! machine, for tests and the demo. Redirects are not followed.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tsunagi_line::MessageId;

use crate::{Millis, Simulator};

/// How long one fetch may take, connection and body.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer that is read: LINE takes images up to 10 MB.
const MAX_IMAGE: usize = 10 * 1024 * 1024;

/// Who fetched an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FetchedBy {
    /// LINE's servers, as they delivered the message.
    Delivery,
    /// The LINE app, when the user opened the chat later.
    App,
}

/// One fetch of an image LINE was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageFetch {
    pub url: String,
    /// By the simulator's clock.
    pub at: Millis,
    pub by: FetchedBy,
    /// The answer's status; `None`: no answer (refused, unresolved, TLS failed, timed out),
    /// or not fetched at all (plain http to another machine).
    pub status: Option<u16>,
    pub content_type: Option<String>,
    /// Why the user would see a broken image; `None`: the picture showed.
    pub broken: Option<String>,
}

impl ImageFetch {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }
}

/// A delivered message whose picture would not show now: the last fetch of one of its
/// addresses was broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokenImage {
    /// The user, group or room it was delivered to.
    pub to: String,
    pub message_id: MessageId,
    pub url: String,
    pub why: String,
}

/// The fetches made so far, and the client that makes them.
#[derive(Debug)]
pub(crate) struct Images {
    client: RwLock<reqwest::Client>,
    /// Certificates trusted beside the usual roots (a test's own authority).
    roots: Mutex<Vec<reqwest::Certificate>>,
    fetches: Mutex<Vec<ImageFetch>>,
    /// How many fetches are recorded, for waiting on.
    recorded: tokio::sync::watch::Sender<usize>,
}

impl Default for Images {
    fn default() -> Self {
        Images {
            client: RwLock::new(client(&[])),
            roots: Mutex::default(),
            fetches: Mutex::default(),
            recorded: tokio::sync::watch::channel(0).0,
        }
    }
}

fn client(roots: &[reqwest::Certificate]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(FETCH_TIMEOUT);
    for root in roots {
        builder = builder.add_root_certificate(root.clone());
    }
    // As `reqwest::Client::new` does: only a TLS backend that cannot start fails.
    builder.build().expect("the HTTP client starts")
}

impl Images {
    fn client(&self) -> reqwest::Client {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, fetch: ImageFetch) {
        let count = {
            let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
            fetches.push(fetch);
            fetches.len()
        };
        self.recorded.send_replace(count);
    }

    fn all(&self) -> Vec<ImageFetch> {
        self.fetches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The addresses of the pictures `message` shows: an image's original and preview, a
/// video's preview.
fn picture_urls(message: &Value) -> Vec<&str> {
    let keys: &[&str] = match message["type"].as_str() {
        Some("image") => &["originalContentUrl", "previewImageUrl"],
        Some("video") => &["previewImageUrl"],
        _ => &[],
    };
    keys.iter()
        .filter_map(|key| message[*key].as_str())
        .collect()
}

/// Whether linesim may fetch `url`: HTTPS, or plain http to this machine.
fn fetchable(url: &reqwest::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("https", Some(_)) => true,
        ("http", Some(host)) => {
            host.eq_ignore_ascii_case("localhost")
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// Fetches `url` once, as LINE would, and says what came of it.
async fn fetch(client: &reqwest::Client, url: &str, by: FetchedBy, at: Millis) -> ImageFetch {
    let mut fetched = ImageFetch {
        url: url.to_owned(),
        at,
        by,
        status: None,
        content_type: None,
        broken: None,
    };
    let parsed = match reqwest::Url::parse(url) {
        Ok(parsed) if fetchable(&parsed) => parsed,
        Ok(_) => {
            fetched.broken = Some("not an https:// address".to_owned());
            return fetched;
        }
        Err(e) => {
            fetched.broken = Some(format!("not an address: {e}"));
            return fetched;
        }
    };
    let response = match client.get(parsed).send().await {
        Ok(response) => response,
        Err(e) => {
            fetched.broken = Some(format!("no answer: {}", chain(&e)));
            return fetched;
        }
    };
    let status = response.status();
    fetched.status = Some(status.as_u16());
    fetched.content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let essence = fetched
        .content_type
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !status.is_success() {
        fetched.broken = Some(format!("answered {status}"));
    } else if !matches!(essence.as_deref(), Some("image/jpeg" | "image/png")) {
        fetched.broken = Some(format!(
            "answered {} instead of a JPEG or PNG",
            fetched.content_type.as_deref().unwrap_or("no content type")
        ));
    } else if let Err(why) = read_capped(response).await {
        fetched.broken = Some(why);
    }
    fetched
}

/// Reads the body to its end, as an app shows a picture only once it has all of it.
async fn read_capped(mut response: reqwest::Response) -> Result<(), String> {
    let mut read = 0;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                read += chunk.len();
                if read > MAX_IMAGE {
                    return Err("more than 10 MB".to_owned());
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("the answer broke off: {}", chain(&e))),
        }
    }
}

/// An error with its causes: reqwest's own message rarely says what went wrong.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// LINE's servers fetch the pictures of a send as they deliver it: in the background, so
/// the API answers at once.
pub(crate) fn at_delivery(sim: &Simulator, messages: &[Value]) {
    let urls: BTreeSet<String> = messages
        .iter()
        .flat_map(picture_urls)
        .map(str::to_owned)
        .collect();
    if urls.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let sim = sim.clone();
    runtime.spawn(async move {
        let client = sim.inner.images.client();
        for url in urls {
            let fetched = fetch(&client, &url, FetchedBy::Delivery, sim.now()).await;
            if let Some(why) = &fetched.broken {
                tracing::info!(%url, %why, "an image LINE was sent cannot be fetched");
            }
            sim.inner.images.record(fetched);
        }
    });
}

/// The fetches did not reach the number waited for in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{recorded} image fetches were recorded, not {wanted}")]
pub struct FetchesMissing {
    pub wanted: usize,
    pub recorded: usize,
}

impl Simulator {
    /// Every image fetched so far, in the order the fetches ended.
    pub fn image_fetches(&self) -> Vec<ImageFetch> {
        self.inner.images.all()
    }

    /// Waits until at least `count` image fetches are recorded (those at delivery run in
    /// the background), for at most `within`; then every fetch so far.
    pub async fn until_image_fetches(
        &self,
        count: usize,
        within: Duration,
    ) -> Result<Vec<ImageFetch>, FetchesMissing> {
        let mut recorded = self.inner.images.recorded.subscribe();
        let reached = tokio::time::timeout(within, recorded.wait_for(|n| *n >= count)).await;
        match reached {
            Ok(Ok(_)) => Ok(self.image_fetches()),
            _ => Err(FetchesMissing {
                wanted: count,
                recorded: self.image_fetches().len(),
            }),
        }
    }

    /// A user opens the chat later: the LINE app fetches every picture delivered so far
    /// again, now (by the simulator's clock). The fetches made, one per address.
    pub async fn refetch_images(&self) -> Vec<ImageFetch> {
        let urls: BTreeSet<String> = self
            .world()
            .delivered()
            .flat_map(|(_, delivered)| picture_urls(&delivered.message))
            .map(str::to_owned)
            .collect();
        let client = self.inner.images.client();
        let mut fetches = Vec::with_capacity(urls.len());
        for url in urls {
            let fetched = fetch(&client, &url, FetchedBy::App, self.now()).await;
            self.inner.images.record(fetched.clone());
            fetches.push(fetched);
        }
        fetches
    }

    /// The delivered messages whose picture would not show now: the latest fetch of one
    /// of its addresses was broken. Addresses not fetched yet count as neither.
    pub fn broken_images(&self) -> Vec<BrokenImage> {
        let mut latest: HashMap<String, ImageFetch> = HashMap::new();
        for fetched in self.image_fetches() {
            latest.insert(fetched.url.clone(), fetched);
        }
        let world = self.world();
        let mut broken = Vec::new();
        for (to, delivered) in world.delivered() {
            for url in picture_urls(&delivered.message) {
                if let Some(why) = latest.get(url).and_then(|f| f.broken.clone()) {
                    broken.push(BrokenImage {
                        to: to.to_owned(),
                        message_id: delivered.message_id.clone(),
                        url: url.to_owned(),
                        why,
                    });
                }
            }
        }
        broken
    }

    /// Trusts `pem` (a certificate authority's, PEM) beside the usual roots when fetching
    /// images: for a test's own HTTPS server. Real LINE trusts only public authorities.
    pub fn trust_certificate(&self, pem: &[u8]) -> Result<(), reqwest::Error> {
        let certificate = reqwest::Certificate::from_pem(pem)?;
        let images = &self.inner.images;
        let mut roots = images.roots.lock().unwrap_or_else(PoisonError::into_inner);
        roots.push(certificate);
        *images
            .client
            .write()
            .unwrap_or_else(PoisonError::into_inner) = client(&roots);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use serde_json::json;

    use super::*;
    use crate::world::Via;
    use crate::{Config, ManualClock};

    const DAY: Duration = Duration::from_secs(24 * 60 * 60);

    /// A server of pictures, as a relay or a proxy in front of it answers: a JPEG, a PNG,
    /// a login page, a 404, a redirect, an image served under a wrong content type.
    async fn pictures() -> String {
        let router = axum::Router::new()
            .route(
                "/photo.jpg",
                get(|| async { ([(CONTENT_TYPE, "image/jpeg")], vec![0xFF, 0xD8, 0xFF]) }),
            )
            .route(
                "/photo.jpg/preview",
                get(|| async { ([(CONTENT_TYPE, "image/png; q=1")], b"\x89PNG".to_vec()) }),
            )
            .route(
                "/login",
                get(|| async { ([(CONTENT_TYPE, "text/html")], "<form>Sign in</form>") }),
            )
            .route(
                "/moved",
                get(|| async { axum::response::Redirect::temporary("/photo.jpg") }),
            )
            .route(
                "/octets",
                get(|| async {
                    (
                        [(CONTENT_TYPE, "application/octet-stream")],
                        vec![0xFF, 0xD8],
                    )
                        .into_response()
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{address}")
    }

    fn image(original: &str, preview: &str) -> Value {
        json!({ "type": "image", "originalContentUrl": original, "previewImageUrl": preview })
    }

    fn sim(clock: &ManualClock) -> (Simulator, String) {
        let sim = Simulator::with_clock(
            Config::new("1656789012", "secret", "token"),
            Arc::new(clock.clone()),
        );
        let user = sim.users()[0].user_id.to_string();
        (sim, user)
    }

    #[tokio::test]
    async fn line_fetches_each_picture_of_a_send_at_delivery_and_says_which_are_broken() {
        let base = pictures().await;
        let clock = ManualClock::starting_at(1_767_225_600_000);
        let (sim, user) = sim(&clock);
        let messages = [
            image(
                &format!("{base}/photo.jpg"),
                &format!("{base}/photo.jpg/preview"),
            ),
            image(&format!("{base}/login"), &format!("{base}/missing")),
            json!({ "type": "text", "text": "see the photos" }),
            json!({
                "type": "video",
                "originalContentUrl": format!("{base}/clip.mp4"),
                "previewImageUrl": format!("{base}/moved"),
            }),
            image("http://192.0.2.10/photo.jpg", &format!("{base}/octets")),
        ];
        sim.send(
            None,
            std::slice::from_ref(&user),
            Via::Push,
            &messages,
            false,
        )
        .unwrap();

        let fetches = sim
            .until_image_fetches(7, Duration::from_secs(10))
            .await
            .unwrap();
        let by_url: HashMap<&str, &ImageFetch> =
            fetches.iter().map(|f| (f.url.as_str(), f)).collect();
        assert_eq!(fetches.len(), 7, "one fetch an address: {fetches:#?}");
        assert!(fetches.iter().all(|f| f.by == FetchedBy::Delivery));
        assert!(fetches.iter().all(|f| f.at == 1_767_225_600_000));
        let fetched = |path: &str| by_url[format!("{base}{path}").as_str()];
        assert!(fetched("/photo.jpg").ok());
        assert_eq!(fetched("/photo.jpg").status, Some(200));
        assert_eq!(
            fetched("/photo.jpg").content_type.as_deref(),
            Some("image/jpeg")
        );
        assert!(
            fetched("/photo.jpg/preview").ok(),
            "a parameter is no matter"
        );
        let login = fetched("/login");
        assert_eq!(login.status, Some(200));
        assert!(login.broken.as_deref().unwrap().contains("text/html"));
        assert_eq!(fetched("/missing").status, Some(404));
        assert_eq!(
            fetched("/moved").status,
            Some(307),
            "no redirect is followed"
        );
        assert!(!fetched("/moved").ok());
        assert!(!fetched("/octets").ok());
        let elsewhere = by_url["http://192.0.2.10/photo.jpg"];
        assert_eq!(
            elsewhere.status, None,
            "plain http to another machine is not tried"
        );
        assert!(!by_url.contains_key(format!("{base}/clip.mp4").as_str()));

        let broken: BTreeSet<String> = sim.broken_images().into_iter().map(|b| b.url).collect();
        let expected: BTreeSet<String> = [
            format!("{base}/login"),
            format!("{base}/missing"),
            format!("{base}/moved"),
            format!("{base}/octets"),
            "http://192.0.2.10/photo.jpg".to_owned(),
        ]
        .into();
        assert_eq!(broken, expected);
        let inbox = sim.inbox(&user);
        assert!(
            sim.broken_images()
                .iter()
                .all(|b| b.to == user && b.message_id != inbox[0].message_id),
            "the first photo shows"
        );
    }

    #[tokio::test]
    async fn the_app_fetches_again_days_later_and_a_picture_gone_since_is_broken_then() {
        let clock = ManualClock::starting_at(1_767_225_600_000);
        let (sim, user) = sim(&clock);
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let served = gone.clone();
        let router = axum::Router::new().route(
            "/photo.png",
            get(move || {
                let gone = served.load(std::sync::atomic::Ordering::SeqCst);
                async move {
                    if gone {
                        axum::http::StatusCode::GONE.into_response()
                    } else {
                        ([(CONTENT_TYPE, "image/png")], b"\x89PNG".to_vec()).into_response()
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let url = format!("{base}/photo.png");
        sim.send(
            None,
            std::slice::from_ref(&user),
            Via::Push,
            &[image(&url, &url)],
            false,
        )
        .unwrap();
        let at_delivery = sim
            .until_image_fetches(1, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(at_delivery[0].ok());

        clock.advance(13 * DAY);
        let later = sim.refetch_images().await;
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].by, FetchedBy::App);
        assert_eq!(later[0].at, 1_767_225_600_000 + 13 * 86_400_000);
        assert!(later[0].ok());
        assert!(sim.broken_images().is_empty());

        gone.store(true, std::sync::atomic::Ordering::SeqCst);
        clock.advance(2 * DAY);
        let too_late = sim.refetch_images().await;
        assert_eq!(too_late[0].status, Some(410));
        let broken = sim.broken_images();
        assert_eq!(broken.len(), 2, "original and preview: {broken:?}");
        assert_eq!(broken[0].message_id, sim.inbox(&user)[0].message_id);
        assert_eq!(sim.image_fetches().len(), 3);
    }

    #[tokio::test]
    async fn waiting_for_fetches_that_never_come_ends_with_how_many_came() {
        let clock = ManualClock::starting_at(0);
        let (sim, _) = sim(&clock);
        let missing = sim
            .until_image_fetches(1, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert_eq!(
            missing,
            FetchesMissing {
                wanted: 1,
                recorded: 0
            }
        );
    }
}
