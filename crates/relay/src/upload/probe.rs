//! Whether LINE can fetch the images operators send. LINE's servers fetch a sent image
//! from the relay's public address when they deliver it, and the LINE app fetches it again
//! when the patient opens the chat, days later maybe. If that address is not HTTPS with a
//! certificate LINE trusts, or something else answers there (a proxy's login page, a 404),
//! the patient sees a broken image and nobody at the clinic hears of it.
//!
//! So the relay serves a small image of its own at [`PROBE_PATH`] and fetches it through
//! its public address as LINE would: `https://` (plain http only when the address is this
//! machine, for tests and the demo), a certificate valid under the public roots LINE trusts
//! (webpki's), no redirect followed, no proxy from the environment, and the answer must be
//! 200 with that very JPEG or PNG. The relay's operator sets the public address, not a
//! desk, so the egress rules for addresses owners type do not apply: it is fetched
//! wherever it points. One it names by a private IP is refused unfetched: LINE cannot
//! reach it. (A name that resolves to a private address here may be a LAN's view of a
//! public one, so it is fetched.)
//!
//! The check runs when the first image is uploaded and whenever an owner asks; its last
//! result, with its time, is what desks are told. A relay behind a router that does not
//! loop its own public address back may fail the check while LINE reaches it: the detail
//! then says the address gave no answer.

use std::sync::{Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use image::ImageFormat;
use tsunagi_proto::UnixMillis;
use tsunagi_proto::api::{PhotoDelivery, PhotoProblem};
use url::{Host, Url};

use super::Uploads;

/// Where the relay serves its probe image, under its public address: beside the uploads,
/// so a proxy that passes uploads on passes it too.
pub const PROBE_PATH: &str = "/public/uploads/probe.png";
/// How long a check may take, connection and answer.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an answer that is read: the probe is far smaller.
const MAX_ANSWER: usize = 64 * 1024;

/// The probe: a small PNG, the same bytes for the relay's whole run.
pub fn probe_image() -> &'static [u8] {
    static PROBE: OnceLock<Vec<u8>> = OnceLock::new();
    PROBE.get_or_init(|| {
        let picture = image::RgbImage::from_fn(16, 16, |x, y| {
            image::Rgb([6 + 12 * x as u8, 199, 85 + 8 * y as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture
            .write_to(&mut out, ImageFormat::Png)
            .expect("a PNG is written to memory");
        out.into_inner()
    })
}

/// The address of the probe under the public address `public_url`.
pub fn probe_url(public_url: &str) -> String {
    format!("{}{PROBE_PATH}", public_url.trim_end_matches('/'))
}

/// The client checks are made with, the last result, and the check running.
#[derive(Debug)]
pub(super) struct Probe {
    client: RwLock<reqwest::Client>,
    #[cfg(any(test, feature = "testing"))]
    roots: Mutex<Vec<reqwest::Certificate>>,
    last: Mutex<Option<PhotoDelivery>>,
    /// Held while a check runs: one at a time, and a desk asking meanwhile gets its result.
    running: tokio::sync::Mutex<()>,
}

impl Default for Probe {
    fn default() -> Self {
        Probe {
            client: RwLock::new(client(&[])),
            #[cfg(any(test, feature = "testing"))]
            roots: Mutex::default(),
            last: Mutex::default(),
            running: tokio::sync::Mutex::new(()),
        }
    }
}

fn client(roots: &[reqwest::Certificate]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CHECK_TIMEOUT);
    for root in roots {
        builder = builder.add_root_certificate(root.clone());
    }
    // As `reqwest::Client::new` does: only a TLS backend that cannot start fails.
    builder.build().expect("the HTTP client starts")
}

impl Uploads {
    /// What the last check found, if one ran.
    pub fn photo_delivery(&self) -> Option<PhotoDelivery> {
        self.shared
            .probe
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// What the last check found; if none ran yet, runs one now.
    pub async fn photo_delivery_or_check(
        &self,
        public_url: &str,
        now: UnixMillis,
    ) -> PhotoDelivery {
        let _running = self.shared.probe.running.lock().await;
        if let Some(last) = self.photo_delivery() {
            return last;
        }
        self.check_locked(public_url, now).await
    }

    /// Checks now that LINE can fetch images from `public_url` (waiting for a check
    /// already running, then running another), and keeps the result.
    pub async fn check_photo_delivery(&self, public_url: &str, now: UnixMillis) -> PhotoDelivery {
        let _running = self.shared.probe.running.lock().await;
        self.check_locked(public_url, now).await
    }

    async fn check_locked(&self, public_url: &str, now: UnixMillis) -> PhotoDelivery {
        let client = self
            .shared
            .probe
            .client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let checked = check(&client, public_url, now).await;
        match (&checked.problem, &checked.detail) {
            (None, _) => tracing::info!(url = %checked.url, "LINE can fetch uploads"),
            (Some(problem), detail) => tracing::warn!(
                url = %checked.url,
                ?problem,
                detail = detail.as_deref().unwrap_or_default(),
                "LINE cannot fetch uploads from the relay's public address: patients would \
                 see broken images"
            ),
        }
        *self
            .shared
            .probe
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(checked.clone());
        checked
    }

    /// Trusts `pem` (a test's own certificate authority) beside webpki's roots in checks.
    /// Only for tests: LINE trusts public authorities only.
    #[cfg(any(test, feature = "testing"))]
    pub fn trust_in_checks(&self, pem: &[u8]) -> Result<(), reqwest::Error> {
        let certificate = reqwest::Certificate::from_pem(pem)?;
        let probe = &self.shared.probe;
        let mut roots = probe.roots.lock().unwrap_or_else(PoisonError::into_inner);
        roots.push(certificate);
        *probe.client.write().unwrap_or_else(PoisonError::into_inner) = client(&roots);
        Ok(())
    }
}

/// Fetches the probe through `public_url` as LINE would fetch an upload.
async fn check(client: &reqwest::Client, public_url: &str, now: UnixMillis) -> PhotoDelivery {
    let url = probe_url(public_url);
    let found = |problem: Option<PhotoProblem>, detail: Option<String>| PhotoDelivery {
        ok: problem.is_none(),
        url: url.clone(),
        problem,
        detail,
        checked_at: now.0,
    };
    if let Err((problem, detail)) = reachable_by_line(&url) {
        return found(Some(problem), Some(detail));
    }
    let response = match client.get(&url).send().await {
        Ok(response) => response,
        Err(error) => {
            let (problem, detail) = failed(&error);
            return found(Some(problem), Some(detail));
        }
    };
    let status = response.status();
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nowhere");
        return found(
            Some(PhotoProblem::Redirected),
            Some(format!("answered {status}, to {to}")),
        );
    }
    if status != reqwest::StatusCode::OK {
        return found(
            Some(PhotoProblem::Status),
            Some(format!("answered {status}")),
        );
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("no content type")
        .to_owned();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence != "image/png" && essence != "image/jpeg" {
        return found(
            Some(PhotoProblem::NotAnImage),
            Some(format!("answered {content_type}, not a JPEG or PNG")),
        );
    }
    match read_capped(response).await {
        Ok(bytes) if bytes == probe_image() => found(None, None),
        Ok(_) => found(
            Some(PhotoProblem::NotThisRelay),
            Some("answered with an image that is not the relay's own".to_owned()),
        ),
        Err(detail) => found(Some(PhotoProblem::Unreachable), Some(detail)),
    }
}

/// Refuses, unfetched, an address LINE cannot fetch from: plain http other than to this
/// machine, or a private IP.
fn reachable_by_line(url: &str) -> Result<(), (PhotoProblem, String)> {
    let parsed = Url::parse(url).map_err(|e| {
        (
            PhotoProblem::Unreachable,
            format!("the relay's public address is not an address: {e}"),
        )
    })?;
    let ip = match parsed.host() {
        Some(Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        Some(Host::Domain(_)) => None,
        None => {
            return Err((
                PhotoProblem::Unreachable,
                "the relay's public address names no host".to_owned(),
            ));
        }
    };
    let this_machine = match parsed.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        _ => ip.is_some_and(|ip| ip.to_canonical().is_loopback()),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if this_machine => {}
        _ => {
            return Err((
                PhotoProblem::NotHttps,
                format!(
                    "LINE fetches images over https:// only; the relay's public address is {}",
                    parsed.scheme()
                ),
            ));
        }
    }
    if let Some(ip) = ip
        && !this_machine
        && !crate::egress::is_public(ip)
    {
        return Err((
            PhotoProblem::PrivateAddress,
            format!("{ip} is a private or reserved address, which LINE cannot reach"),
        ));
    }
    Ok(())
}

/// What a fetch that got no answer means.
fn failed(error: &reqwest::Error) -> (PhotoProblem, String) {
    let detail = chain(error);
    if error.is_timeout() {
        return (
            PhotoProblem::Unreachable,
            format!("no answer within {} s: {detail}", CHECK_TIMEOUT.as_secs()),
        );
    }
    // rustls says so: "invalid peer certificate: UnknownIssuer", "…: Expired",
    // "…: NotValidForName".
    if detail.to_ascii_lowercase().contains("certificate") {
        return (PhotoProblem::Certificate, detail);
    }
    (PhotoProblem::Unreachable, detail)
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

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {}", chain(&e)))?
    {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return Ok(Vec::new());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_is_a_png_line_takes() {
        let probe = probe_image();
        assert_eq!(image::guess_format(probe).unwrap(), ImageFormat::Png);
        assert!(probe.len() < MAX_ANSWER);
        assert_eq!(
            probe_url("https://relay.clinic.example/"),
            "https://relay.clinic.example/public/uploads/probe.png"
        );
    }

    #[test]
    fn addresses_line_cannot_fetch_from_are_refused_unfetched() {
        let refused = |url: &str| reachable_by_line(url).err().map(|(problem, _)| problem);
        assert_eq!(refused("https://relay.clinic.example/x"), None);
        assert_eq!(
            refused("https://203.0.113.7/x"),
            Some(PhotoProblem::PrivateAddress),
            "documentation's range"
        );
        assert_eq!(refused("https://8.8.8.8/x"), None);
        assert_eq!(refused("http://127.0.0.1:8080/x"), None);
        assert_eq!(refused("http://localhost:8080/x"), None);
        assert_eq!(refused("http://[::1]:8080/x"), None);
        assert_eq!(refused("https://127.0.0.1:8443/x"), None);
        assert_eq!(
            refused("http://relay.clinic.example/x"),
            Some(PhotoProblem::NotHttps)
        );
        assert_eq!(refused("http://8.8.8.8/x"), Some(PhotoProblem::NotHttps));
        assert_eq!(
            refused("ftp://relay.clinic.example/x"),
            Some(PhotoProblem::NotHttps)
        );
        assert_eq!(
            refused("https://192.168.1.20/x"),
            Some(PhotoProblem::PrivateAddress)
        );
        assert_eq!(
            refused("https://[fd00::1]/x"),
            Some(PhotoProblem::PrivateAddress)
        );
        assert_eq!(refused("not an address"), Some(PhotoProblem::Unreachable));
    }
}
