//! Device tokens and enrollment codes: random, shown once, stored only as SHA-256 hashes,
//! compared in constant time. The HTTP side (`http::auth`) checks them on requests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tsunagi_proto::DeviceId;

const TOKEN_PREFIX: &str = "tsd_";
/// Enrollment codes avoid letters people confuse (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 12;

/// Whether `token`'s hash is `hash`, in time that does not depend on where they differ.
pub fn token_matches(token: &str, hash: &[u8]) -> bool {
    sha256(token).ct_eq(hash).into()
}

pub fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// A new device id and its token `tsd_<device id>_<256 random bits>`.
pub fn new_device_token() -> (DeviceId, String) {
    let id = DeviceId::new(uuid::Uuid::new_v4().simple().to_string());
    let secret: [u8; 32] = rand::rng().random();
    let token = format!("{TOKEN_PREFIX}{id}_{}", URL_SAFE_NO_PAD.encode(secret));
    (id, token)
}

/// The device id a token claims to belong to.
pub fn token_device(token: &str) -> Option<DeviceId> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then(|| DeviceId::new(id))
}

/// A new one-time code, grouped for reading aloud: `K7QM-3XPD-9WTA`.
pub fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..CODE_LENGTH)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed (any case, with or without dashes or spaces), as hashed.
pub fn normalize_code(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_device_and_carries_256_random_bits() {
        let (id, token) = new_device_token();
        assert_eq!(token_device(&token), Some(id));
        // The secret is base64url, which may itself contain `_`: it is all after the id.
        let (_, secret) = token
            .strip_prefix(TOKEN_PREFIX)
            .unwrap()
            .split_once('_')
            .unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_ne!(new_device_token().1, token);
        assert_eq!(token_device("Bearer nonsense"), None);
        assert_eq!(token_device("tsd__x"), None);
    }

    #[test]
    fn codes_are_readable_and_typed_codes_normalize_to_the_same_text() {
        let code = new_code();
        assert_eq!(code.len(), 14);
        assert!(
            code.chars()
                .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8)))
        );
        let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
        assert_eq!(normalize_code(&typed), normalize_code(&code));
    }
}
