//! Files the relay writes so that a crash leaves the old one or the new one, never half of
//! one: users' media and operators' uploads alike.

use std::path::{Path, PathBuf};

/// Writes beside the file (under a name of its own), syncs, renames over it and syncs the
/// folder: a crash leaves the old file or the new one, never half of one, and concurrent
/// writers never mix their bytes. With `modified`, the file says it was last written then.
pub(crate) async fn write_atomically(
    path: &Path,
    bytes: &[u8],
    modified: Option<std::time::SystemTime>,
) -> std::io::Result<()> {
    let partial = partial_beside(path);
    let written = async {
        let mut file = tokio::fs::File::create(&partial).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        if let Some(modified) = modified {
            let file = file.into_std().await;
            tokio::task::spawn_blocking(move || {
                file.set_modified(modified)?;
                file.sync_all()
            })
            .await
            .map_err(std::io::Error::other)??;
        } else {
            file.sync_all().await?;
            drop(file);
        }
        tokio::fs::rename(&partial, path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    written?;
    match path.parent() {
        Some(dir) => sync_dir(dir).await,
        None => Ok(()),
    }
}

/// A file name beside `path` that no other writer uses.
pub(crate) fn partial_beside(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.partial", uuid::Uuid::new_v4().simple()));
    PathBuf::from(name)
}

/// Makes a rename in `dir` durable (on Unix; elsewhere the rename is as durable as the
/// system makes it).
pub(crate) async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    tokio::fs::File::open(dir).await?.sync_all().await?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}
