//! Media: what patients sent (kept by the executor), and images operators upload.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_proto::api::{ErrorCode, PhotoDelivery, Uploaded};

use super::ApiError;
use super::auth::Authenticated;
use crate::media::{Part, Stored};
use crate::relay::Relay;
use crate::store::{LogStore, StoreError};
use crate::upload::{Opened, UploadError};

/// Patients' media for desks, and operators' uploads (served publicly for LINE).
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route(
            "/v1/channels/{channel_id}/media/{message_id}",
            get(media_content::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/media/{message_id}/preview",
            get(media_preview::<S>),
        )
        .route(
            "/v1/channels/{channel_id}/uploads",
            post(create_upload::<S>).layer(DefaultBodyLimit::max(crate::upload::MAX_IMAGE + 1)),
        )
        .route(
            "/v1/channels/{channel_id}/uploads/check",
            get(get_upload_check::<S>).post(create_upload_check::<S>),
        )
        .route(crate::upload::PROBE_PATH, get(probe))
        .route("/public/uploads/{name}", get(public_upload::<S>))
        .route(
            "/public/uploads/{name}/preview",
            get(public_upload_preview::<S>),
        )
}

/// `GET /v1/channels/{id}/media/{message}` (the channel's devices): what the user sent.
async fn media_content<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    media(
        &relay,
        &device,
        (channel_id, message_id),
        Part::Content,
        headers,
    )
    .await
}

/// `POST /v1/channels/{id}/uploads`: an image an operator will send. The relay keeps it and
/// a thumbnail, and answers the public addresses LINE fetches them from.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn create_upload<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Uploaded>), ApiError> {
    let channel = super::parse_channel_id(&channel_id)?;
    device.for_channel(&channel)?;
    let (public, uploads) = public_uploads(&relay)?;
    if uploads.photo_delivery().is_none() {
        // The first upload of this run: whether LINE can fetch it is found out beside it
        // (the upload is kept either way), and desks are told.
        let (uploads, public, now) = (uploads.clone(), public.clone(), relay.now());
        tokio::spawn(async move { uploads.photo_delivery_or_check(&public, now).await });
    }
    let kept = uploads
        .save(&channel, body, relay.now())
        .await
        .map_err(refused)?;
    Ok((
        StatusCode::CREATED,
        Json(Uploaded {
            original_content_url: format!("{public}/public/uploads/{}", kept.name),
            preview_image_url: format!("{public}/public/uploads/{}/preview", kept.name),
        }),
    ))
}

/// The relay's public address, and its uploads; 503 when it has either not.
fn public_uploads<S: LogStore>(
    relay: &Relay<S>,
) -> Result<(String, &crate::upload::Uploads), ApiError> {
    let unavailable = |why: &str| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::NoUploads,
            why.to_owned(),
        )
    };
    let public = relay
        .line()
        .map(|line| line.public_url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            unavailable("this relay has no public address for LINE to fetch images from")
        })?;
    let uploads = relay
        .media()
        .map(crate::media::MediaStore::uploads)
        .ok_or_else(|| unavailable("this relay keeps no media"))?;
    Ok((public, uploads))
}

/// `GET /v1/channels/{id}/uploads/check` (the channel's devices): whether LINE could fetch
/// uploads from the relay's public address when last checked, checked now if never yet.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn get_upload_check<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<PhotoDelivery>, ApiError> {
    let channel = super::parse_channel_id(&channel_id)?;
    device.for_channel(&channel)?;
    let (public, uploads) = public_uploads(&relay)?;
    Ok(Json(
        uploads.photo_delivery_or_check(&public, relay.now()).await,
    ))
}

/// `POST /v1/channels/{id}/uploads/check` (owners): checks again now that LINE can fetch
/// uploads from the relay's public address.
#[tracing::instrument(skip_all, fields(channel = %channel_id))]
async fn create_upload_check<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path(channel_id): Path<String>,
) -> Result<Json<PhotoDelivery>, ApiError> {
    let channel = super::parse_channel_id(&channel_id)?;
    device.owner_of(&channel)?;
    let (public, uploads) = public_uploads(&relay)?;
    Ok(Json(
        uploads.check_photo_delivery(&public, relay.now()).await,
    ))
}

/// `GET /public/uploads/probe.png`: the image the relay fetches through its public address
/// to learn whether LINE can fetch uploads there. Never cached: each check asks anew.
async fn probe() -> Response {
    (
        [
            (axum::http::header::CONTENT_TYPE, "image/png"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        crate::upload::probe_image(),
    )
        .into_response()
}

/// What a refused upload is answered: too big for LINE or for the relay (413), not an
/// image (422), the relay busy decoding others (503, come back soon).
fn refused(error: UploadError) -> ApiError {
    match error {
        UploadError::Io(e) => StoreError::Unavailable(format!("keeping an upload: {e}")).into(),
        UploadError::Busy => ApiError {
            retry_after: Some(crate::upload::BUSY_RETRY_AFTER),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                error.to_string(),
            )
        },
        UploadError::TooLarge(_)
        | UploadError::TooManyPixels { .. }
        | UploadError::TooMuchMemory { .. }
        | UploadError::OverQuota { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            error.to_string(),
        ),
        UploadError::NotAnImage | UploadError::Unreadable(_) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::BadImage,
            error.to_string(),
        ),
    }
}

/// `GET /public/uploads/{name}`: an uploaded image, for LINE (no authentication: the name
/// is the secret).
async fn public_upload<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    upload(&relay, &name, false).await
}

async fn public_upload_preview<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    upload(&relay, &name, true).await
}

/// An upload while it is kept; 410 once LINE no longer fetches it. Caches keep it no
/// longer than the relay does.
async fn upload<S: LogStore>(
    relay: &Relay<S>,
    name: &str,
    preview: bool,
) -> Result<Response, ApiError> {
    let missing = || ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such upload");
    let uploads = relay
        .media()
        .map(crate::media::MediaStore::uploads)
        .ok_or_else(missing)?;
    let opened = uploads
        .open(name, preview, relay.now())
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading an upload: {e}")))?;
    let (content_type, bytes, expires_in) = match opened {
        Opened::Ready {
            content_type,
            bytes,
            expires_in,
        } => (content_type, bytes, expires_in),
        Opened::Expired => {
            return Err(ApiError::new(
                StatusCode::GONE,
                ErrorCode::NotFound,
                format!(
                    "this upload has expired: the relay keeps uploads {} days, as long as LINE \
                     may fetch them",
                    uploads.limits().retention.as_secs() / 86_400
                ),
            ));
        }
        Opened::Missing => return Err(missing()),
    };
    let cache = format!("public, max-age={}, immutable", expires_in.as_secs());
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /v1/channels/{id}/media/{message}/preview`: LINE's thumbnail of an image or video.
async fn media_preview<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    device: Authenticated,
    Path((channel_id, message_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    media(
        &relay,
        &device,
        (channel_id, message_id),
        Part::Preview,
        headers,
    )
    .await
}

/// A message's media as the relay keeps it: ranges for seeking in video and audio, its own
/// content type (never sniffed), cached for good (it never changes).
async fn media<S: LogStore>(
    relay: &Relay<S>,
    device: &Authenticated,
    (channel_id, message_id): (String, String),
    part: Part,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    use tower::ServiceExt as _;

    let channel = ChannelId::new(channel_id);
    device.for_channel(&channel)?;
    let missing = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoMedia,
            "the relay has no media for this message (yet)",
        )
    };
    let store = relay.media().ok_or_else(missing)?;
    let stored = store
        .open(&channel, &MessageId::new(message_id), part)
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading media: {e}")))?;
    let (content_type, path) = match stored {
        Stored::Ready { content_type, path } => (content_type, path),
        Stored::Gone => {
            return Err(ApiError::new(
                StatusCode::GONE,
                ErrorCode::Unsent,
                "the user unsent this message before its media was kept",
            ));
        }
        Stored::Missing => return Err(missing()),
    };
    let mut request = axum::http::Request::new(axum::body::Body::empty());
    for name in [axum::http::header::RANGE, axum::http::header::IF_RANGE] {
        if let Some(value) = headers.get(&name) {
            request.headers_mut().insert(name, value.clone());
        }
    }
    let served = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| StoreError::Unavailable(format!("reading media: {e}")))?;
    let mut response = served.map(axum::body::Body::new);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    headers.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}
