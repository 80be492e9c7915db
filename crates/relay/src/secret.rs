//! The relay's key, and channel secrets sealed with it at rest.
//!
//! The key comes from `TSUNAGI_RELAY_KEY` (32 bytes, base64) or, failing that, from
//! `relay.key` in the data directory, created on first start and readable by its owner only.

use std::fmt;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

pub const KEY_ENV: &str = "TSUNAGI_RELAY_KEY";
pub const KEY_FILE: &str = "relay.key";

/// A LINE channel secret. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelSecret(String);

impl ChannelSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChannelSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChannelSecret(…)")
    }
}

/// A secret as stored: a random nonce and the authenticated ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// The key that seals channel secrets.
#[derive(Clone)]
pub struct RelayKey(Key);

impl fmt::Debug for RelayKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RelayKey(…)")
    }
}

impl RelayKey {
    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = STANDARD
            .decode(text.trim())
            .context("the relay key is not base64")?;
        if bytes.len() != 32 {
            bail!("the relay key must be 32 bytes, not {}", bytes.len());
        }
        Ok(Self(*Key::from_slice(&bytes)))
    }

    fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_slice())
    }

    /// `TSUNAGI_RELAY_KEY` if set, else `DIR/relay.key`, created if missing.
    pub fn load(data_dir: &Path) -> Result<Self> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::from_base64(&text).with_context(|| format!("reading {KEY_ENV}"));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Self::from_base64(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                write_private(&path, key.to_base64().as_bytes())
                    .with_context(|| format!("creating {}", path.display()))?;
                tracing::info!(path = %path.display(), "created a new relay key");
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn seal(&self, secret: &ChannelSecret) -> Sealed {
        self.seal_text(secret.expose())
    }

    /// Opens a sealed channel secret; fails if it was sealed with another key or
    /// tampered with.
    pub fn open(&self, sealed: &Sealed) -> Result<ChannelSecret> {
        self.open_text(sealed).map(ChannelSecret)
    }

    /// Seals any secret text: a channel secret, an API key, a bot token.
    pub fn seal_text(&self, secret: &str) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = XChaCha20Poly1305::new(&self.0)
            .encrypt(&nonce, secret.as_bytes())
            .expect("sealing a short secret in memory cannot fail");
        Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Opens what [`RelayKey::seal_text`] sealed; fails if it was sealed with another key
    /// or tampered with.
    pub fn open_text(&self, sealed: &Sealed) -> Result<String> {
        if sealed.nonce.len() != 24 {
            bail!("a sealed secret's nonce must be 24 bytes");
        }
        let plaintext = XChaCha20Poly1305::new(&self.0)
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                sealed.ciphertext.as_slice(),
            )
            .map_err(|_| anyhow::anyhow!("a sealed secret does not open with this relay key"))?;
        String::from_utf8(plaintext).context("a sealed secret is not UTF-8")
    }
}

/// Writes a file only its owner can read (on Unix).
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let key = RelayKey::generate();
        let secret = ChannelSecret::new("8c570fa6dd201bb328f1c1eac23a96d8");
        let sealed = key.seal(&secret);
        assert!(!sealed.ciphertext.windows(8).any(|w| w == b"8c570fa6"));
        assert_eq!(key.open(&sealed).unwrap(), secret);
        assert!(RelayKey::generate().open(&sealed).is_err());
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(key.open(&tampered).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayKey::load(dir.path()).unwrap();
        let again = RelayKey::load(dir.path()).unwrap();
        let secret = ChannelSecret::new("s");
        assert_eq!(again.open(&first.seal(&secret)).unwrap(), secret);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_malformed_key_is_a_clear_error() {
        assert!(RelayKey::from_base64("not base64!").is_err());
        let short = STANDARD.encode([0u8; 16]);
        let error = RelayKey::from_base64(&short).unwrap_err().to_string();
        assert!(error.contains("32 bytes"), "{error}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        assert_eq!(
            format!("{:?}", ChannelSecret::new("abc")),
            "ChannelSecret(…)"
        );
        assert_eq!(format!("{:?}", RelayKey::generate()), "RelayKey(…)");
    }
}
