//! `media://localhost/<LINE message id>[?preview]`: the files patients sent, for `<img>`,
//! `<video>` and `<audio>` in the window. They come from the desk's media cache (fetched from
//! the relay once, then from disk, offline too), a byte range at a time when the player asks
//! for one (seeking in a video reads only what it shows). `media://localhost/upload/<name>[?preview]`:
//! an image the team sent, from the relay that keeps it for LINE.
//!
//! What a patient sent is served as what it is only when the window shows that kind (a
//! photo, a video, a voice message, a PDF): anything else is bytes to save, never a page
//! (see [`served`]). Every answer says `nosniff`, runs nothing were it ever opened as a
//! page, and lets only the app's own page read it with `fetch`, never any origin (`*`).

use std::io::SeekFrom;
use std::ops::RangeInclusive;
use std::path::Path;

use tauri::http::{HeaderValue, Request, Response, StatusCode, header};
use tauri::{Manager as _, UriSchemeContext, UriSchemeResponder};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
use tsunagi_desk::media::MediaCache;
use tsunagi_line::MessageId;

use crate::desk::Shell;

pub(crate) const SCHEME: &str = "media";

/// Answers one request of the scheme, off the UI thread.
pub(crate) fn serve<R: tauri::Runtime>(
    context: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = context.app_handle().clone();
    // convertFileSrc percent-encodes the path: `upload/<name>` arrives as `upload%2F<name>`.
    let id = request
        .uri()
        .path()
        .trim_matches('/')
        .replace("%2F", "/")
        .replace("%2f", "/");
    let preview = request.uri().query() == Some("preview");
    let range = request.headers().get(header::RANGE).cloned();
    let origin = crate::origin::serialized(&crate::origin::of_app(&app));
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        let to = To { origin: &origin };
        responder.respond(answer(&shell, &id, preview, range.as_ref(), to).await);
    });
}

/// Who an answer is for: the app's own page (its origin, as `Origin` names it).
#[derive(Debug, Clone, Copy)]
struct To<'a> {
    origin: &'a str,
}

async fn answer(
    shell: &Shell,
    id: &str,
    preview: bool,
    range: Option<&HeaderValue>,
    to: To<'_>,
) -> Response<Vec<u8>> {
    let status = |code| status(code, to);
    let Ok(joined) = shell.joined().await else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    if let Some(name) = id.strip_prefix("upload/") {
        return match joined.sync.client().uploaded(name, preview).await {
            Ok((content_type, bytes)) => file(&content_type, bytes, to),
            Err(error) => {
                tracing::debug!(%error, "an upload is not available from the relay");
                status(StatusCode::NOT_FOUND)
            }
        };
    }
    let cache = MediaCache::new(&joined.media);
    let sync = &joined.sync;
    match cache
        .get(
            (sync.client(), sync.store()),
            sync.channel(),
            &MessageId::new(id),
            preview,
        )
        .await
    {
        Ok(cached) => match cached_file(&cached.path, &cached.content_type, range, to).await {
            Ok(response) => response,
            Err(error) => {
                tracing::warn!(%error, "reading cached media");
                status(StatusCode::INTERNAL_SERVER_ERROR)
            }
        },
        Err(tsunagi_desk::Error::Invalid(_)) => status(StatusCode::BAD_REQUEST),
        Err(tsunagi_desk::Error::Unavailable(_)) => status(StatusCode::GONE),
        Err(tsunagi_desk::Error::Relay(error)) => {
            tracing::debug!(%error, "media not available from the relay");
            status(if error.is_transient() {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::NOT_FOUND
            })
        }
        Err(error) => {
            tracing::warn!(%error, "media cache");
            status(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// A file that never changes (a message's media, an upload).
fn file(content_type: &str, bytes: Vec<u8>, to: To<'_>) -> Response<Vec<u8>> {
    immutable(content_type, to)
        .body(bytes)
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR, to))
}

/// How a file is served, for the type LINE or the relay gave it.
#[derive(Debug, PartialEq, Eq)]
struct Served {
    /// The `Content-Type` (its essence only, lowercase: no parameters pass).
    content_type: String,
    /// Sent as a download (`Content-Disposition: attachment`), never shown.
    attachment: bool,
}

/// A photo, a video, a voice message or a PDF is served as what it is: the window shows
/// those. Anything else a patient sent (a web page, an SVG drawing with a script in it, a
/// type that is not one) is `application/octet-stream` as an attachment: bytes to save,
/// which no webview renders or runs.
fn served(content_type: &str) -> Served {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    let shown = essence.split_once('/').is_some_and(|(kind, sub)| {
        token(kind)
            && token(sub)
            && match kind {
                // SVG is a document that can run scripts, not a picture.
                "image" => !sub.contains("svg") && !sub.ends_with("+xml"),
                "video" | "audio" => true,
                "application" => sub == "pdf",
                _ => false,
            }
    });
    if shown {
        Served {
            content_type: essence,
            attachment: false,
        }
    } else {
        Served {
            content_type: "application/octet-stream".into(),
            attachment: true,
        }
    }
}

/// What every answer carries. The window's page may read it with `fetch` (on Linux a video
/// is played from memory so): that page alone, by its origin, never `*`. The type is never
/// sniffed into another. Were a file ever opened as a page, nothing in it may load or run.
fn builder(to: To<'_>) -> tauri::http::response::Builder {
    Response::builder()
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, to.origin)
        .header(header::VARY, "Origin")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
}

fn immutable(content_type: &str, to: To<'_>) -> tauri::http::response::Builder {
    let served = served(content_type);
    let builder = builder(to)
        .header(header::CONTENT_TYPE, served.content_type)
        .header(
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        )
        .header(header::ACCEPT_RANGES, "bytes");
    if served.attachment {
        builder.header(header::CONTENT_DISPOSITION, "attachment")
    } else {
        builder
    }
}

/// The most one answer to a range carries: a player asking for "the rest" of a long video
/// gets it in parts of this size, and asks again from where the part ends.
const MAX_PART: u64 = 4 * 1024 * 1024;

/// What to send of a file of `len` bytes for the request's `Range` header.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    /// The whole file (no range asked, or several at once, which a server may answer so).
    Whole,
    /// These bytes, as 206 Partial Content.
    Bytes(RangeInclusive<u64>),
    /// A range outside the file: 416, with the file's length.
    Unsatisfiable,
}

fn part(range: Option<&HeaderValue>, len: u64) -> Part {
    let Some(range) = range else {
        return Part::Whole;
    };
    let Ok(parsed) = range
        .to_str()
        .map_err(drop)
        .and_then(|r| http_range_header::parse_range_header(r).map_err(drop))
    else {
        // A Range header that is not one may be ignored (RFC 9110, 14.2).
        return Part::Whole;
    };
    match parsed.validate(len).as_deref() {
        Ok([one]) => {
            let end = (*one.end()).min(one.start().saturating_add(MAX_PART - 1));
            Part::Bytes(*one.start()..=end)
        }
        Ok(_) => Part::Whole,
        Err(_) => Part::Unsatisfiable,
    }
}

/// A file from the media cache, whole or the part the player asked for; only that part is
/// read from disk.
async fn cached_file(
    path: &Path,
    content_type: &str,
    range: Option<&HeaderValue>,
    to: To<'_>,
) -> std::io::Result<Response<Vec<u8>>> {
    let mut opened = tokio::fs::File::open(path).await?;
    let len = opened.metadata().await?.len();
    let response = match part(range, len) {
        Part::Whole => {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            opened.read_to_end(&mut bytes).await?;
            immutable(content_type, to).body(bytes)
        }
        Part::Bytes(bytes) => {
            opened.seek(SeekFrom::Start(*bytes.start())).await?;
            let mut read = Vec::new();
            opened
                .take(bytes.end() - bytes.start() + 1)
                .read_to_end(&mut read)
                .await?;
            immutable(content_type, to)
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{len}", bytes.start(), bytes.end()),
                )
                .body(read)
        }
        Part::Unsatisfiable => builder(to)
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Vec::new()),
    };
    Ok(response.unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR, to)))
}

fn status(code: StatusCode, to: To<'_>) -> Response<Vec<u8>> {
    let mut response = builder(to).body(Vec::new()).unwrap_or_default();
    *response.status_mut() = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO: To<'static> = To {
        origin: "tauri://localhost",
    };

    fn range(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).expect("a header value")
    }

    #[test]
    fn a_range_is_answered_with_its_bytes_and_no_more_than_a_part() {
        assert_eq!(part(None, 100), Part::Whole);
        assert_eq!(part(Some(&range("bytes=10-19")), 100), Part::Bytes(10..=19));
        assert_eq!(part(Some(&range("bytes=90-")), 100), Part::Bytes(90..=99));
        assert_eq!(part(Some(&range("bytes=-5")), 100), Part::Bytes(95..=99));
        assert_eq!(
            part(Some(&range("bytes=0-")), 10 * MAX_PART),
            Part::Bytes(0..=MAX_PART - 1)
        );
        assert_eq!(part(Some(&range("bytes=100-")), 100), Part::Unsatisfiable);
        assert_eq!(part(Some(&range("bytes=0-1, 5-9")), 100), Part::Whole);
        assert_eq!(part(Some(&range("pages=1-2")), 100), Part::Whole);
    }

    #[tokio::test]
    async fn a_cached_file_is_read_only_where_the_player_asks() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("clip");
        let bytes: Vec<u8> = (0..=255).collect();
        std::fs::write(&path, &bytes).expect("writing the file");

        let whole = cached_file(&path, "video/mp4", None, TO)
            .await
            .expect("read");
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.body(), &bytes);
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");

        let some = cached_file(&path, "video/mp4", Some(&range("bytes=16-31")), TO)
            .await
            .expect("read");
        assert_eq!(some.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(some.headers()[header::CONTENT_RANGE], "bytes 16-31/256");
        assert_eq!(some.body().as_slice(), &bytes[16..32]);

        let beyond = cached_file(&path, "video/mp4", Some(&range("bytes=300-")), TO)
            .await
            .expect("read");
        assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(beyond.headers()[header::CONTENT_RANGE], "bytes */256");
    }

    #[test]
    fn only_what_the_window_shows_is_served_as_itself_and_the_rest_as_a_download() {
        for (given, shown) in [
            ("image/jpeg", "image/jpeg"),
            ("IMAGE/PNG", "image/png"),
            ("image/webp", "image/webp"),
            ("video/mp4", "video/mp4"),
            ("audio/x-m4a", "audio/x-m4a"),
            ("audio/mp4; codecs=\"mp4a.40.2\"", "audio/mp4"),
            ("application/pdf", "application/pdf"),
        ] {
            let served = served(given);
            assert_eq!(served.content_type, shown, "{given}");
            assert!(!served.attachment, "{given}");
        }
        for given in [
            "text/html",
            "text/html; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/javascript",
            "text/xml",
            "application/octet-stream",
            "image/",
            "image/png\r\nSet-Cookie: a=b",
            "",
        ] {
            assert_eq!(
                served(given),
                Served {
                    content_type: "application/octet-stream".into(),
                    attachment: true
                },
                "{given:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_page_a_patient_sent_is_a_download_that_no_other_origin_reads() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("468789577898262530");
        std::fs::write(&path, b"<script>invoke('desk_leave')</script>").expect("writing");
        let to = To {
            origin: "http://tauri.localhost",
        };
        let answers = [
            cached_file(&path, "text/html", None, to)
                .await
                .expect("read"),
            cached_file(&path, "text/html", Some(&range("bytes=0-3")), to)
                .await
                .expect("read"),
            file("image/svg+xml", b"<svg onload=alert(1)>".to_vec(), to),
            status(StatusCode::NOT_FOUND, to),
        ];
        for answer in &answers {
            let headers = answer.headers();
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(
                headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
                "http://tauri.localhost"
            );
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                "default-src 'none'; sandbox"
            );
        }
        for answer in &answers[..3] {
            let headers = answer.headers();
            assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
            assert_eq!(headers[header::CONTENT_DISPOSITION], "attachment");
        }
        let photo = cached_file(&path, "image/jpeg", None, to)
            .await
            .expect("read");
        assert_eq!(photo.headers()[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(photo.headers().get(header::CONTENT_DISPOSITION), None);
        assert_eq!(photo.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
