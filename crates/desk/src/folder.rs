//! The folders a desk writes into, and the one way to name a file in one.
//!
//! Names often come from elsewhere (a channel id, a message id from the relay, an account),
//! so a name is never trusted to stay where it is put: [`Folder::file`] takes only a plain
//! name (ASCII letters, digits, `.`, `-`, `_`; no separator, no leading or trailing dot, no
//! name Windows keeps for a device) and proves that the path it makes is directly inside
//! the folder. Every writer of a file named after something it was told goes through here.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The longest name: file systems take 255 bytes, and a writer adds up to 41 to a name for
/// the partial file it renames into place (`.<32 hex digits>.partial`).
const MAX_NAME: usize = 200;

/// A folder on this computer, and the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    path: PathBuf,
}

/// A name that could lead out of its folder, or is not a plain file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} cannot name a file in {}", folder.display())]
pub struct NotInside {
    name: String,
    folder: PathBuf,
}

impl Folder {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file `name` in this folder, proven to be in it.
    pub fn file(&self, name: &str) -> Result<PathBuf, NotInside> {
        let refused = || NotInside {
            name: name.chars().take(MAX_NAME).collect(),
            folder: self.path.clone(),
        };
        if !plain(name) {
            return Err(refused());
        }
        let path = self.path.join(name);
        // What the name's form promises, checked on the path itself: its parent is this
        // folder and its last part is the name, unchanged.
        if path.parent() != Some(self.path.as_path()) || path.file_name() != Some(OsStr::new(name))
        {
            return Err(refused());
        }
        Ok(path)
    }

    /// The folder `name` in this one, proven to be in it as a file is.
    pub fn folder(&self, name: &str) -> Result<Folder, NotInside> {
        self.file(name).map(Folder::new)
    }
}

/// Whether `name` is a plain file name on every system the desk runs on.
fn plain(name: &str) -> bool {
    let charset = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    // Windows drops a trailing dot, and opens a device for these names whatever follows
    // their first dot.
    let stem = name.split('.').next().unwrap_or_default();
    let device = || {
        ["CON", "PRN", "AUX", "NUL"]
            .iter()
            .any(|d| stem.eq_ignore_ascii_case(d))
            || (stem.len() == 4
                && ["COM", "LPT"]
                    .iter()
                    .any(|d| stem.get(..3).is_some_and(|s| s.eq_ignore_ascii_case(d)))
                && stem.as_bytes()[3].is_ascii_digit())
    };
    charset
        && (1..=MAX_NAME).contains(&name.len())
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !device()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_named_only_inside_its_folder() {
        let media = Folder::new("/data/media");
        assert_eq!(
            media.file("468789577898262530.preview.type"),
            Ok(PathBuf::from("/data/media/468789577898262530.preview.type"))
        );
        assert_eq!(
            media.folder("1656789012").map(|f| f.path().to_owned()),
            Ok(PathBuf::from("/data/media/1656789012"))
        );
        for bad in [
            "",
            ".",
            "..",
            "../evil",
            "../../.bashrc.d",
            "a/b",
            "a\\b",
            "/etc",
            "C:evil",
            ".hidden",
            "trailing.",
            "nul",
            "CON.txt",
            "com1",
            "a b",
            "名前",
            "x\0y",
            "abé",
        ] {
            assert!(media.file(bad).is_err(), "{bad:?} was let in");
        }
        assert!(media.file(&"1".repeat(MAX_NAME)).is_ok());
        assert!(media.file(&"1".repeat(MAX_NAME + 1)).is_err());
        assert_eq!(
            media.file("../evil").unwrap_err().to_string(),
            "\"../evil\" cannot name a file in /data/media"
        );
    }
}
