//! `media://localhost/<LINE message id>[?preview]`: the files patients sent, for `<img>`,
//! `<video>` and `<audio>` in the window. They come from the desk's media cache (fetched from
//! the relay once, then from disk, offline too), a byte range at a time when the player asks
//! for one (seeking in a video reads only what it shows). `media://localhost/upload/<name>[?preview]`:
//! an image the team sent, from the relay that keeps it for LINE.

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
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        responder.respond(answer(&shell, &id, preview, range.as_ref()).await);
    });
}

async fn answer(
    shell: &Shell,
    id: &str,
    preview: bool,
    range: Option<&HeaderValue>,
) -> Response<Vec<u8>> {
    let Ok(joined) = shell.joined().await else {
        return status(StatusCode::SERVICE_UNAVAILABLE);
    };
    if let Some(name) = id.strip_prefix("upload/") {
        return match joined.sync.client().uploaded(name, preview).await {
            Ok((content_type, bytes)) => file(content_type, bytes),
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
        Ok(cached) => match cached_file(&cached.path, &cached.content_type, range).await {
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
fn file(content_type: String, bytes: Vec<u8>) -> Response<Vec<u8>> {
    immutable(content_type)
        .body(bytes)
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// Every answer may be read by the window's `fetch` too (its page is another origin than
/// the scheme's; only this app's webview can reach the scheme at all).
fn builder() -> tauri::http::response::Builder {
    Response::builder().header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
}

fn immutable(content_type: impl Into<String>) -> tauri::http::response::Builder {
    builder()
        .header(header::CONTENT_TYPE, content_type.into())
        .header(
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        )
        .header(header::ACCEPT_RANGES, "bytes")
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
) -> std::io::Result<Response<Vec<u8>>> {
    let mut opened = tokio::fs::File::open(path).await?;
    let len = opened.metadata().await?.len();
    let response = match part(range, len) {
        Part::Whole => {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            opened.read_to_end(&mut bytes).await?;
            immutable(content_type).body(bytes)
        }
        Part::Bytes(bytes) => {
            opened.seek(SeekFrom::Start(*bytes.start())).await?;
            let mut read = Vec::new();
            opened
                .take(bytes.end() - bytes.start() + 1)
                .read_to_end(&mut read)
                .await?;
            immutable(content_type)
                .status(StatusCode::PARTIAL_CONTENT)
                .header(
                    header::CONTENT_RANGE,
                    format!("bytes {}-{}/{len}", bytes.start(), bytes.end()),
                )
                .body(read)
        }
        Part::Unsatisfiable => builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{len}"))
            .body(Vec::new()),
    };
    Ok(response.unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)))
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = builder().body(Vec::new()).unwrap_or_default();
    *response.status_mut() = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

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

        let whole = cached_file(&path, "video/mp4", None).await.expect("read");
        assert_eq!(whole.status(), StatusCode::OK);
        assert_eq!(whole.body(), &bytes);
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");
        assert_eq!(whole.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");

        let some = cached_file(&path, "video/mp4", Some(&range("bytes=16-31")))
            .await
            .expect("read");
        assert_eq!(some.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(some.headers()[header::CONTENT_RANGE], "bytes 16-31/256");
        assert_eq!(some.body().as_slice(), &bytes[16..32]);

        let beyond = cached_file(&path, "video/mp4", Some(&range("bytes=300-")))
            .await
            .expect("read");
        assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(beyond.headers()[header::CONTENT_RANGE], "bytes */256");
    }
}
