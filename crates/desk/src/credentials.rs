//! Where a desk keeps its device token: the OS keyring (Secret Service, Keychain,
//! Credential Manager) when there is one, else a file only its user can read. Never the
//! store, never a log.

use std::path::{Path, PathBuf};

use crate::folder::Folder;
use crate::{Error, Result};

/// Where a secret ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    Keyring,
    /// No keyring answered: a file readable by this user alone.
    File(PathBuf),
}

/// Secrets of one application, by account name.
#[derive(Debug, Clone)]
pub struct Vault {
    service: String,
    dir: PathBuf,
    keyring: bool,
    /// Refuse to fall back to a file (the app: its users expect the keyring).
    keyring_only: bool,
}

/// Why a secret could not be kept or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The OS keyring did not take the secret, and this vault keeps secrets nowhere else.
    #[error("the OS keyring is not available: {0}")]
    NoKeyring(String),
    #[error("{0}")]
    File(String),
}

impl From<VaultError> for Error {
    fn from(error: VaultError) -> Self {
        crate::StoreError::from(error).into()
    }
}

impl Vault {
    /// Secrets under `service` in the keyring, or as files in `dir`.
    pub fn new(service: impl Into<String>, dir: &Path) -> Self {
        Self {
            service: service.into(),
            dir: dir.to_owned(),
            keyring: true,
            keyring_only: false,
        }
    }

    /// The keyring or nothing: where none answers, saving fails with
    /// [`VaultError::NoKeyring`] instead of writing a file.
    #[must_use]
    pub fn keyring_only(mut self) -> Self {
        self.keyring = true;
        self.keyring_only = true;
        self
    }

    /// Files only, for machines where the keyring must not be touched.
    #[must_use]
    pub fn without_keyring(mut self) -> Self {
        self.keyring = false;
        self
    }

    /// The file that keeps `account`'s secret when no keyring does: the account in
    /// letters, digits, `-` and `_`, proven inside the vault's folder.
    fn file(&self, account: &str) -> Result<PathBuf, VaultError> {
        let safe: String = account
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Folder::new(&self.dir)
            .file(&format!("{safe}.secret"))
            .map_err(|e| VaultError::File(e.to_string()))
    }

    fn entry(&self, account: &str) -> Option<keyring::Entry> {
        if !self.keyring {
            return None;
        }
        keyring::Entry::new(&self.service, account).ok()
    }

    /// Keeps `secret`, in the keyring if it takes it.
    pub fn save(&self, account: &str, secret: &str) -> Result<Kept, VaultError> {
        let mut refusal = String::from("no keyring was tried");
        if let Some(entry) = self.entry(account) {
            match entry.set_password(secret) {
                // Read back: some keyrings accept a write they cannot keep.
                Ok(()) if entry.get_password().ok().as_deref() == Some(secret) => {
                    let _ = self.file(account).map(std::fs::remove_file);
                    return Ok(Kept::Keyring);
                }
                Ok(()) => {
                    tracing::warn!("the OS keyring lost what was written to it");
                    refusal = "the keyring lost what was written to it".into();
                }
                Err(error) => {
                    tracing::warn!(%error, "the OS keyring is not available");
                    refusal = error.to_string();
                }
            }
        }
        if self.keyring_only {
            return Err(VaultError::NoKeyring(refusal));
        }
        let path = self.file(account)?;
        write_private(&path, secret).map_err(|e| {
            VaultError::File(format!("keeping a secret in {}: {e}", path.display()))
        })?;
        Ok(Kept::File(path))
    }

    /// Forgets the secret of `account`, wherever it was kept.
    pub fn delete(&self, account: &str) -> Result<(), VaultError> {
        if let Some(entry) = self.entry(account) {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(error) if self.keyring_only => {
                    return Err(VaultError::NoKeyring(error.to_string()));
                }
                Err(error) => tracing::debug!(%error, "the keyring could not be asked"),
            }
        }
        match std::fs::remove_file(self.file(account)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(VaultError::File(format!("removing a secret: {e}"))),
        }
    }

    /// Whether the OS keyring answers: asking it for an entry that does not exist must
    /// come back "no such entry"; anything else means it cannot keep secrets here.
    pub fn probe(&self) -> Result<(), VaultError> {
        let entry = keyring::Entry::new(&self.service, "keyring-probe")
            .map_err(|e| VaultError::NoKeyring(e.to_string()))?;
        match entry.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "the OS keyring is not available");
                Err(VaultError::NoKeyring(error.to_string()))
            }
        }
    }

    /// The secret kept for `account`, from the keyring or the file.
    pub fn load(&self, account: &str) -> Result<Option<String>> {
        if let Some(entry) = self.entry(account)
            && let Ok(secret) = entry.get_password()
        {
            return Ok(Some(secret));
        }
        match std::fs::read_to_string(self.file(account)?) {
            Ok(secret) => Ok(Some(secret.trim().to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::file("reading a secret", e)),
        }
    }
}

/// Writes a file that only its owner can read, replacing any earlier one whole.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&partial)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_keyring_a_secret_is_a_file_only_its_owner_reads() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new("app.tsunagi.test", dir.path()).without_keyring();
        let kept = vault
            .save("device@relay.example:8080", "tsd_abc_secret")
            .unwrap();
        let Kept::File(path) = kept else {
            panic!("{kept:?}")
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            vault.load("device@relay.example:8080").unwrap().as_deref(),
            Some("tsd_abc_secret")
        );
        assert_eq!(vault.load("someone else").unwrap(), None);
        vault.delete("device@relay.example:8080").unwrap();
        assert_eq!(vault.load("device@relay.example:8080").unwrap(), None);
        assert!(!path.exists());
    }
}
