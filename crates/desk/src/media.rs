//! Media users sent, cached on this desk: fetched from the relay once, then read from disk,
//! offline too. Each message's file sits in its channel's folder of the cache under its LINE
//! id, its content type beside it. Both ids come from the relay: each is checked for its
//! form, and each file is named through [`Folder`], so no id can put a file elsewhere. A
//! file is at most [`MAX_MEDIA`] (the most the relay keeps); a larger one is refused and
//! leaves nothing behind.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt as _;
use tsunagi_line::{ChannelId, MessageId};

use crate::folder::{Folder, NotInside};
use crate::query::MediaState;
use crate::relay::{MAX_MEDIA, MAX_PREVIEW, RelayClient};
use crate::{Error, Result, Store};

/// A cached file: where it is, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub path: PathBuf,
    pub content_type: String,
}

#[derive(Debug, Clone)]
pub struct MediaCache {
    root: Folder,
    limit: u64,
}

impl From<NotInside> for Error {
    fn from(error: NotInside) -> Self {
        Error::Invalid(error.to_string())
    }
}

impl MediaCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            root: Folder::new(dir),
            limit: MAX_MEDIA,
        }
    }

    /// The most a file may be, below [`MAX_MEDIA`] (tests make it small).
    #[must_use]
    pub fn limit(mut self, bytes: u64) -> Self {
        self.limit = bytes.min(MAX_MEDIA);
        self
    }

    /// The file of `message` (or its thumbnail), from the cache, else from the relay into
    /// the cache, unless the log (`store`) says the relay has none to give. Fetches of one
    /// file at once each write their own, and the last whole one stands.
    pub async fn get(
        &self,
        (relay, store): (&RelayClient, &Store),
        channel: &ChannelId,
        message: &MessageId,
        preview: bool,
    ) -> Result<Cached> {
        for checked in [crate::id::channel(channel), crate::id::message(message)] {
            checked.map_err(|bad| Error::Invalid(bad.to_string()))?;
        }
        let id = message.as_str();
        let name = if preview {
            format!("{id}.preview")
        } else {
            id.to_owned()
        };
        let folder = self.root.folder(channel.as_str())?;
        let path = folder.file(&name)?;
        let type_path = folder.file(&format!("{name}.type"))?;
        if let (Ok(true), Ok(content_type)) = (
            tokio::fs::try_exists(&path).await,
            tokio::fs::read_to_string(&type_path).await,
        ) {
            return Ok(Cached { path, content_type });
        }
        match store.media_state(message).await? {
            Some(MediaState::Gone) => {
                return Err(Error::Unavailable(
                    "the patient unsent it before it was kept".into(),
                ));
            }
            Some(MediaState::Failed) => {
                return Err(Error::Unavailable("the relay could not keep it".into()));
            }
            Some(MediaState::Stored) | None => {}
        }
        let limit = if preview {
            self.limit.min(MAX_PREVIEW)
        } else {
            self.limit
        };
        let mut download = relay.media(channel, message, preview, limit).await?;
        crate::private::create_dir_all_async(folder.path())
            .await
            .map_err(io)?;
        // The file first, its type last: a type on disk means the file is whole.
        let content_type = std::mem::take(&mut download.content_type);
        whole_or_nothing(&path, |partial| async move {
            let mut file = crate::private::async_file_options()
                .open(&partial)
                .await
                .map_err(io)?;
            while let Some(chunk) = download.chunk().await? {
                file.write_all(chunk.as_ref()).await.map_err(io)?;
            }
            file.flush().await.map_err(io)
        })
        .await?;
        write_atomically(&type_path, content_type.as_bytes()).await?;
        Ok(Cached { path, content_type })
    }
}

impl MediaCache {
    /// Deletes the cached files of erased patients' messages (as `erased_media` lists
    /// them, the projection's note of an erase), then the list; how many messages' files.
    pub async fn delete_erased(&self, store: &Store, channel: &ChannelId) -> Result<usize> {
        let erased = store.erased_media().await?;
        if erased.is_empty() {
            return Ok(0);
        }
        crate::id::channel(channel).map_err(|bad| Error::Invalid(bad.to_string()))?;
        let folder = self.root.folder(channel.as_str())?;
        for message in &erased {
            // An id that could name no file here has none to delete.
            if crate::id::message(message).is_err() {
                continue;
            }
            let id = message.as_str();
            for name in [
                id.to_owned(),
                format!("{id}.type"),
                format!("{id}.preview"),
                format!("{id}.preview.type"),
            ] {
                match tokio::fs::remove_file(folder.file(&name)?).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io(e)),
                }
            }
        }
        store.erased_media_deleted(erased.clone()).await?;
        Ok(erased.len())
    }
}

impl Store {
    /// The messages whose cached media an erase left to delete.
    pub async fn erased_media(&self) -> Result<Vec<MessageId>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT message_id FROM erased_media")
            .fetch_all(&self.readers)
            .await?;
        Ok(ids.into_iter().map(MessageId::new).collect())
    }

    async fn erased_media_deleted(&self, messages: Vec<MessageId>) -> Result<()> {
        self.writer
            .run(move |db| {
                let tx = db.transaction()?;
                for message in &messages {
                    tx.prepare_cached("DELETE FROM erased_media WHERE message_id = ?")?
                        .execute([message.as_str()])?;
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

impl Cached {
    /// Copies the file to `to` (a place the user chose): written beside it under another
    /// name and renamed over it once whole, so `to` is never half a file.
    pub async fn copy_to(&self, to: &Path) -> Result<()> {
        whole_or_nothing(to, |partial| async move {
            tokio::fs::copy(&self.path, partial)
                .await
                .map(drop)
                .map_err(io)
        })
        .await
    }
}

/// The name to offer for saving `message`'s file: the name the patient gave it, else one
/// made of the message id and the extension of its content type. Only a name, never a
/// path, and one that reads as what it is: see [`safe_name`].
pub fn file_name(message: &MessageId, given: Option<&str>, content_type: &str) -> String {
    if let Some(given) = given.and_then(safe_name) {
        return given;
    }
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    let extension = match mime {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "video/mp4" => ".mp4",
        "video/quicktime" => ".mov",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" | "audio/aac" => ".m4a",
        "audio/mpeg" => ".mp3",
        "audio/wav" | "audio/x-wav" => ".wav",
        "application/pdf" => ".pdf",
        _ => "",
    };
    let kind = mime
        .split('/')
        .next()
        .filter(|k| !k.is_empty())
        .unwrap_or("file");
    let kind = if matches!(kind, "image" | "video" | "audio") {
        kind
    } else {
        "file"
    };
    format!("{kind}-{}{extension}", message.as_str())
}

/// A name from outside (a patient's file name) as a file name to offer the operator, or
/// `None` when nothing of it is left: whatever a patient wrote, separators and leading dots
/// go, and so does every character that hides or reorders text, so a name shows what the
/// file is. Unicode's bidi controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069)
/// would let `invoice\u{202E}fdp.exe` read as "invoiceexe.pdf"; control characters and
/// line breaks would hide the end of a name. At most 200 characters. Every name that
/// reaches a file or a save dialog passes here.
pub fn safe_name(given: &str) -> Option<String> {
    let cleaned: String = given
        .chars()
        .filter(|&c| !hides_or_reorders(c))
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    (!cleaned.is_empty()).then(|| cleaned.chars().take(200).collect())
}

/// A character that changes how the text around it reads without showing itself: a
/// control character, a line or paragraph separator, or a bidi control.
fn hides_or_reorders(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

fn io(error: std::io::Error) -> Error {
    Error::file("the media cache", error)
}

/// Writes `bytes` to `path`, whole or not at all.
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    whole_or_nothing(path, |partial| async move {
        let mut file = crate::private::async_file_options()
            .open(&partial)
            .await
            .map_err(io)?;
        file.write_all(bytes).await.map_err(io)?;
        file.flush().await.map_err(io)
    })
    .await
}

/// Puts a file at `path` whole or not at all: `fill` writes it beside `path` under a name
/// no other writer uses, and it is renamed over `path` once whole, or removed: after an
/// error, and when the write is dropped half way (a download the app gave up on).
pub(crate) async fn whole_or_nothing<F, Fut>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    /// The partial file, removed when dropped unless it became the file.
    struct Partial(Option<PathBuf>);
    impl Drop for Partial {
        fn drop(&mut self) {
            if let Some(partial) = self.0.take() {
                let _ = std::fs::remove_file(partial);
            }
        }
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    let partial = PathBuf::from(partial);
    let mut guard = Partial(Some(partial.clone()));
    fill(partial.clone()).await?;
    tokio::fs::rename(&partial, path).await.map_err(io)?;
    guard.0 = None;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_is_offered_under_its_own_name_and_never_a_path() {
        let id = MessageId::new("468789577898262530");
        assert_eq!(
            file_name(&id, Some("予約票.pdf"), "application/pdf"),
            "予約票.pdf"
        );
        assert_eq!(
            file_name(&id, Some("../../.bashrc"), "text/plain"),
            "_.._.bashrc"
        );
        assert_eq!(
            file_name(&id, Some("..\\x:y.txt"), "text/plain"),
            "_x_y.txt"
        );
        assert_eq!(
            file_name(&id, Some(" . "), "image/jpeg"),
            "image-468789577898262530.jpg"
        );
        assert_eq!(
            file_name(&id, None, "video/mp4"),
            "video-468789577898262530.mp4"
        );
        assert_eq!(
            file_name(&id, None, "audio/x-m4a"),
            "audio-468789577898262530.m4a"
        );
        assert_eq!(
            file_name(&id, None, "application/octet-stream"),
            "file-468789577898262530"
        );
    }

    #[test]
    fn a_name_cannot_pose_as_another_kind_of_file_with_bidi_or_control_characters() {
        let id = MessageId::new("468789577898262530");
        // Shown right to left from U+202E on, this reads "invoiceexe.pdf".
        assert_eq!(
            file_name(&id, Some("invoice\u{202E}fdp.exe"), "application/pdf"),
            "invoicefdp.exe"
        );
        for (given, safe) in [
            ("\u{2067}photo\u{2069}gpj.exe", "photogpj.exe"),
            ("\u{200F}scan\u{200E}.pdf\u{061C}", "scan.pdf"),
            (
                "\u{202A}a\u{202B}b\u{202C}c\u{202D}d\u{2066}e\u{2068}f",
                "abcdef",
            ),
            ("report.pdf\n\r\t\u{0}\u{7F}\u{85}.exe", "report.pdf.exe"),
            ("report.pdf\u{2028}\u{2029}.exe", "report.pdf.exe"),
            // Scripts that need joiners keep them.
            ("ใบนัด\u{200D}.pdf", "ใบนัด\u{200D}.pdf"),
        ] {
            assert_eq!(safe_name(given).as_deref(), Some(safe), "{given:?}");
        }
        // Nothing left but what hides: the desk names it.
        assert_eq!(
            file_name(&id, Some("\u{202E}\u{2066}"), "image/png"),
            "image-468789577898262530.png"
        );
    }

    #[tokio::test]
    async fn a_copy_is_whole_where_it_lands_or_not_there() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let cached = Cached {
            path: dir.path().join("1"),
            content_type: "application/pdf".into(),
        };
        std::fs::write(&cached.path, b"%PDF-1.4 the file").expect("writing");
        let to = dir.path().join("saved.pdf");
        cached.copy_to(&to).await.expect("copied");
        assert_eq!(std::fs::read(&to).expect("read"), b"%PDF-1.4 the file");

        // Into a folder that does not exist: an error, and nothing left behind.
        let nowhere = dir.path().join("gone").join("saved.pdf");
        assert!(cached.copy_to(&nowhere).await.is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("listing")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
    }
}
