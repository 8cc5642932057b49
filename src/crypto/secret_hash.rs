//! Keyed hashes of high-entropy secrets (client secrets, later tokens).
//! They are ≥ 256-bit random strings, so a slow password hash would add
//! latency without adding security; a keyed HMAC means a stolen database
//! alone cannot even confirm a guess.

use super::MasterKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "hmac-sha256$";

/// Hashes secrets with a subkey of the master key.
#[derive(Clone)]
pub struct SecretHasher {
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl SecretHasher {
    /// Derives the subkey (HMAC of a fixed label under the master key), so
    /// the master key itself never keys anything but derivations.
    pub fn new(master: &MasterKey) -> Self {
        Self { key: Zeroizing::new(master.derive(b"gatehouse/secret-hash/v1")) }
    }

    pub fn hash(&self, secret: &str) -> String {
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(hmac_sha256(self.key.as_ref(), secret.as_bytes())))
    }

    /// Constant-time comparison with a stored hash.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        super::constant_time_eq(self.hash(secret).as_bytes(), stored.as_bytes())
    }
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return [0u8; 32];
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A new client secret: 256 bits from the OS CSPRNG, base64url.
pub fn generate_secret() -> Result<Zeroizing<String>, super::RandomError> {
    super::random_token(32).map(Zeroizing::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(byte: u8) -> SecretHasher {
        let key = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        SecretHasher::new(&MasterKey::decode(&key).unwrap())
    }

    #[test]
    fn verify_accepts_only_the_secret_under_the_same_key() {
        let h = hasher(1);
        let stored = h.hash("s3cret-value");
        assert!(stored.starts_with("hmac-sha256$"));
        assert!(!stored.contains("s3cret"));
        assert!(h.verify("s3cret-value", &stored));
        assert!(!h.verify("s3cret-valuf", &stored));
        assert!(!hasher(2).verify("s3cret-value", &stored), "another master key, another hash");
    }

    #[test]
    fn rfc4231_hmac_sha256_test_case_2() {
        let out = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn generated_secrets_carry_256_bits() {
        let s = generate_secret().unwrap();
        assert_eq!(s.len(), 43);
        assert_ne!(*s, *generate_secret().unwrap());
    }
}
