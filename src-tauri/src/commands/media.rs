//! Images, stickers, files and links: what the composer sends besides text, a message's file
//! saved where the user chooses, a web address opened, and whether LINE can fetch photos.

use tauri::{AppHandle, State};
use tsunagi_desk::media;
use tsunagi_desk::media::MediaCache;
use tsunagi_line::MessageId;

use crate::desk::Shell;
use crate::ipc::{
    ErrorCode, IpcError, LinkRequest, MediaSaveRequest, PhotoDeliveryView, StickerPackage,
    UploadedImage,
};

use super::{Answer, save_as};

/// Hands an image (the command's raw body) to the relay, which keeps it for LINE.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn image_upload(
    shell: State<'_, Shell>,
    request: tauri::ipc::Request<'_>,
) -> Answer<UploadedImage> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(IpcError::new(
            ErrorCode::InvalidInput,
            "send the image's bytes as the command's body",
        ));
    };
    let joined = shell.joined().await?;
    let uploaded = joined
        .sync
        .client()
        .upload(joined.sync.channel(), bytes.clone())
        .await?;
    Ok(UploadedImage {
        original_content_url: uploaded.original_content_url,
        preview_image_url: uploaded.preview_image_url,
    })
}

#[tauri::command]
pub(crate) fn stickers_list() -> Vec<StickerPackage> {
    tsunagi_line::sticker::SENDABLE
        .iter()
        .map(|package| StickerPackage {
            package_id: package.package_id.to_string(),
            sticker_ids: package.sticker_ids().map(|id| id.to_string()).collect(),
        })
        .collect()
}

/// Whether LINE can fetch the photos operators send from the relay, as the relay last
/// found: the composer warns before a photo goes where it cannot.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn photo_delivery_get(shell: State<'_, Shell>) -> Answer<PhotoDeliveryView> {
    let joined = shell.joined().await?;
    let client = joined.sync.client();
    Ok(client.photo_delivery(joined.sync.channel()).await?.into())
}

/// Has the relay check again now whether LINE can fetch photos from it (owners).
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn photo_delivery_check(shell: State<'_, Shell>) -> Answer<PhotoDeliveryView> {
    let joined = shell.joined().await?;
    let client = joined.sync.client();
    Ok(client
        .check_photo_delivery(joined.sync.channel())
        .await?
        .into())
}

/// Opens a web address in the system's browser. Only https: the window links nowhere else.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) fn link_open(app: AppHandle, request: LinkRequest) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt as _;
    let url = url::Url::parse(&request.url)
        .ok()
        .filter(|url| url.scheme() == "https")
        .ok_or_else(|| {
            IpcError::new(
                ErrorCode::InvalidInput,
                format!("{:?} is not an https address", request.url),
            )
        })?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(IpcError::internal)
}

/// Saves a message's file where the user chooses, in the system's save dialog; `false` when
/// they cancelled it.
#[tauri::command]
#[tracing::instrument(skip_all, err(level = "info"))]
pub(crate) async fn media_save(
    window: tauri::Window,
    shell: State<'_, Shell>,
    request: MediaSaveRequest,
) -> Answer<bool> {
    let joined = shell.joined().await?;
    let message = MessageId::new(request.message);
    let sync = &joined.sync;
    let cached = MediaCache::new(&joined.media)
        .get(
            (sync.client(), sync.store()),
            sync.channel(),
            &message,
            false,
        )
        .await?;
    let name = media::file_name(&message, request.file_name.as_deref(), &cached.content_type);
    let Some(path) = save_as(&window, request.title, name).await? else {
        return Ok(false);
    };
    cached
        .copy_to(&path)
        .await
        .map_err(|error| IpcError::new(ErrorCode::SaveFailed, error.to_string()))?;
    Ok(true)
}
