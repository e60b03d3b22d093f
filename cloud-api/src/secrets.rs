//! Secrets that are shown once and stored only as their SHA-256: device tokens (`fdt_…`)
//! and storefront API keys (`fsk_…`).
//!
//! A secret is 32 random bytes (256 bits) from the OS, as 64 lowercase hex digits after its
//! prefix; the prefix makes it recognisable to a secret scanner and tells the two kinds
//! apart. That much entropy needs no slow password hash: SHA-256 makes a leaked table
//! useless and lets a lookup be one indexed query.

use sha2::{Digest, Sha256};

/// Prefix of every device token (an edge agent's credential for sync-service).
pub const DEVICE_TOKEN_PREFIX: &str = "fdt_";
/// Prefix of every storefront API key (a storefront's credential for cloud-api).
pub const STOREFRONT_KEY_PREFIX: &str = "fsk_";

/// How many random bytes a secret carries.
const SECRET_BYTES: usize = 32;

/// The OS random source failed, so no secret could be made.
#[derive(Debug, thiserror::Error)]
#[error("the OS random source failed: {0}")]
pub struct RandomError(getrandom::Error);

/// A new secret: `prefix` followed by 64 hex digits of OS randomness.
pub fn new_secret(prefix: &str) -> Result<String, RandomError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    let mut secret = String::with_capacity(prefix.len() + 2 * SECRET_BYTES);
    secret.push_str(prefix);
    for byte in bytes {
        secret.push(hex_digit(byte >> 4));
        secret.push(hex_digit(byte & 0x0f));
    }
    Ok(secret)
}

/// The SHA-256 of a secret, as stored (`devices.token_sha256`, `api_keys.key_sha256`).
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The lowercase hex digit of a nibble (`0..16`).
fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_hex() {
        let a = new_secret(STOREFRONT_KEY_PREFIX).unwrap();
        let b = new_secret(STOREFRONT_KEY_PREFIX).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("fsk_") && a.len() == 4 + 64, "{a}");
        assert!(a[4..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
        let token = new_secret(DEVICE_TOKEN_PREFIX).unwrap();
        assert!(token.starts_with("fdt_") && token.len() == 68, "{token}");
    }

    #[test]
    fn the_hash_is_sha256() {
        // SHA-256("abc"), from FIPS 180-2, appendix B.1.
        let expected = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
            0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
            0xf2, 0x00, 0x15, 0xad,
        ];
        assert_eq!(secret_hash("abc"), expected);
        assert_ne!(secret_hash("fsk_a"), secret_hash("fsk_b"));
    }
}
