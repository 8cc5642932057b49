//! Cryptographic building blocks: the randomness facade, constant-time
//! comparison and the master key that encrypts secrets at rest.

pub mod envelope;
pub mod jwk;
pub mod master_key;
pub mod secret_hash;
pub mod signing;

pub use master_key::{MasterKey, MasterKeyError};
pub use secret_hash::SecretHasher;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Randomness failed (the generator could not be seeded).
pub type RandomError = aws_lc_rs::error::Unspecified;

/// Fills `buf` from aws-lc's CSPRNG: a per-thread DRBG seeded and reseeded
/// from the operating system, so the hot path makes no system call per
/// request id, token id or nonce.
pub fn fill_random(buf: &mut [u8]) -> Result<(), RandomError> {
    aws_lc_rs::rand::fill(buf)
}

/// A random, URL-safe token of `bytes` bytes of entropy (passwords printed
/// once, session ids, secrets).
pub fn random_token(bytes: usize) -> Result<String, RandomError> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; bytes]);
    fill_random(&mut buf)?;
    Ok(URL_SAFE_NO_PAD.encode(&*buf))
}

/// Hex SHA-256: session cookies, codes and refresh tokens are 256-bit
/// random values, so a fast hash is enough to make the table useless to
/// whoever copies it.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A strong HTTP entity tag for `bytes` (128 bits of SHA-256, quoted).
pub fn strong_etag(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
}

/// Compares two byte strings without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    // The length of a secret is not itself secret here (tokens have a fixed
    // format), so an early length check is fine.
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_and_sized() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn constant_time_eq_matches_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
