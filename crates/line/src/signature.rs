//! Webhook signatures: `x-line-signature` is base64(HMAC-SHA256(channel secret, raw body)).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header LINE puts the signature in (compare header names case-insensitively).
pub const SIGNATURE_HEADER: &str = "x-line-signature";

/// Why a signature was refused. Deliberately says nothing about the expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the x-line-signature header is missing")]
    Missing,
    #[error("the x-line-signature header is not base64")]
    Malformed,
    #[error("the x-line-signature does not match the body")]
    Mismatch,
}

/// Signs `body` with the channel secret, as LINE does.
pub fn sign(channel_secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(channel_secret, body).finalize().into_bytes())
}

/// Checks a signature header against the raw body bytes, in constant time.
///
/// `signature` is the header's value as received (`None` when absent). Verify before parsing:
/// an unsigned body is not to be trusted even as JSON.
///
/// ```
/// use tsunagi_line::signature::{SignatureError, sign, verify};
///
/// let body = br#"{"destination":"U0","events":[]}"#;
/// let header = sign(b"channel-secret", body);
/// assert_eq!(verify(b"channel-secret", body, Some(&header)), Ok(()));
///
/// let mut tampered = body.to_vec();
/// tampered[2] = b'D';
/// assert_eq!(
///     verify(b"channel-secret", &tampered, Some(&header)),
///     Err(SignatureError::Mismatch)
/// );
/// ```
pub fn verify(
    channel_secret: &[u8],
    body: &[u8],
    signature: Option<&str>,
) -> Result<(), SignatureError> {
    let signature = signature.ok_or(SignatureError::Missing)?;
    let expected = STANDARD
        .decode(signature.trim())
        .map_err(|_| SignatureError::Malformed)?;
    mac(channel_secret, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

fn mac(channel_secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(channel_secret).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently with:
    //   printf '%s' BODY | openssl dgst -sha256 -hmac SECRET -binary | base64
    const SECRET: &[u8] = b"testsecret";
    const BODY: &[u8] = br#"{"destination":"U0123456789abcdef0123456789abcdef","events":[]}"#;
    const SIGNATURE: &str = "68T4hrXlCXQMCJqA3fGlBzTyBPmhsLT3g4xth3uGq7Y=";

    #[test]
    fn signing_matches_an_independently_computed_vector() {
        assert_eq!(sign(SECRET, BODY), SIGNATURE);
    }

    #[test]
    fn signing_covers_the_raw_utf8_bytes_of_a_non_ascii_body() {
        let secret = b"8c570fa6dd201bb328f1c1eac23a96d8";
        let body = r#"{"events":[{"type":"message","message":{"type":"text","text":"สวัสดีค่ะ 予約したい"}}]}"#;
        let expected = "pY7ab0XSb/TB3s4T6qn6YRYB2whRjiuSf6sKZvS29Fs=";
        assert_eq!(sign(secret, body.as_bytes()), expected);
        assert_eq!(verify(secret, body.as_bytes(), Some(expected)), Ok(()));
    }

    #[test]
    fn a_correct_signature_verifies() {
        assert_eq!(verify(SECRET, BODY, Some(SIGNATURE)), Ok(()));
    }

    #[test]
    fn every_one_byte_change_to_the_body_fails_verification() {
        for i in 0..BODY.len() {
            let mut altered = BODY.to_vec();
            altered[i] ^= 0x01;
            assert_eq!(
                verify(SECRET, &altered, Some(SIGNATURE)),
                Err(SignatureError::Mismatch),
                "byte {i} changed but the signature still verified"
            );
        }
    }

    #[test]
    fn a_different_secret_fails_verification() {
        assert_eq!(
            verify(b"testsecreT", BODY, Some(SIGNATURE)),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_missing_or_garbled_header_is_refused() {
        assert_eq!(verify(SECRET, BODY, None), Err(SignatureError::Missing));
        assert_eq!(
            verify(SECRET, BODY, Some("%%%")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, BODY, Some("")),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_truncated_signature_fails_verification() {
        let short = &SIGNATURE[..SIGNATURE.len() - 4];
        assert!(verify(SECRET, BODY, Some(short)).is_err());
    }
}
