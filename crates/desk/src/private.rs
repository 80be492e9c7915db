//! Patients' data on this computer is for its user alone. On Unix every folder the desk
//! makes is 0700 and every file 0600, whatever the umask (a shared computer's other
//! accounts read nothing of it): the data directory, the store and its `-wal`/`-shm`, the
//! media cache, the profile and the token file. What an earlier version made more open is
//! closed when the desk opens. Elsewhere the user's own data folder keeps others out.

use std::io;
use std::path::Path;

#[cfg(unix)]
const DIR_MODE: u32 = 0o700;
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;

/// Makes `path` and any missing folder above it, each for this user only; `path` itself is
/// closed to others if it was there already.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    restrict(path)
}

/// [`create_dir_all`], off the async runtime's threads.
pub async fn create_dir_all_async(path: &Path) -> io::Result<()> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || create_dir_all(&path))
        .await
        .map_err(io::Error::other)?
}

/// Options that create a file only this user can read and write.
pub fn file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// [`file_options`], for tokio.
pub fn async_file_options() -> tokio::fs::OpenOptions {
    tokio::fs::OpenOptions::from(file_options())
}

/// Writes `bytes` to a new file at `path` only this user can read.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write as _;
    let mut file = file_options().open(path)?;
    restrict(path)?;
    file.write_all(bytes)
}

/// Closes the folder or file at `path` to other users (0700 or 0600); nothing there is
/// fine.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = match std::fs::symlink_metadata(path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // A link is not followed: what it points at is not the desk's to change.
        if metadata.file_type().is_symlink() {
            return Ok(());
        }
        let mode = if metadata.is_dir() {
            DIR_MODE
        } else {
            FILE_MODE
        };
        if metadata.permissions().mode() & 0o777 != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn what_the_desk_makes_is_its_users_alone_and_what_was_open_is_closed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let deep = dir.path().join("a").join("b");
        create_dir_all(&deep).expect("made");
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&deep), 0o700);

        let file = deep.join("f");
        write(&file, b"x").expect("written");
        assert_eq!(mode(&file), 0o600);

        let open = dir.path().join("open");
        std::fs::create_dir(&open).expect("made");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir_all(&open).expect("there already");
        assert_eq!(mode(&open), 0o700);
        restrict(&dir.path().join("nothing here")).expect("nothing to close");
    }
}
