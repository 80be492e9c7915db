//! `media://localhost/<LINE message id>[?preview]`: the files patients sent, for `<img>`,
//! `<video>` and `<audio>` in the window. They come from the desk's media cache (fetched from
//! the relay once, then from disk, offline too). `media://localhost/upload/<name>[?preview]`:
//! an image the team sent, from the relay that keeps it for LINE.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager as _, UriSchemeContext, UriSchemeResponder};
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
    tauri::async_runtime::spawn(async move {
        let shell = app.state::<Shell>();
        responder.respond(answer(&shell, &id, preview).await);
    });
}

async fn answer(shell: &Shell, id: &str, preview: bool) -> Response<Vec<u8>> {
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
        Ok(cached) => match tokio::fs::read(&cached.path).await {
            Ok(bytes) => Response::builder()
                .header(header::CONTENT_TYPE, cached.content_type)
                .header(
                    header::CACHE_CONTROL,
                    "private, max-age=31536000, immutable",
                )
                .body(bytes)
                .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR)),
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
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        )
        .body(bytes)
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = code;
    response
}
