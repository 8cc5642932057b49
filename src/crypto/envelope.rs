//! Envelope encryption of secrets at rest (signing keys, later TOTP seeds):
//! AES-256-GCM under a subkey of the master key, a fresh random 96-bit
//! nonce per seal, and the row's identity as associated data so that a
//! ciphertext copied onto another row does not decrypt.

use super::MasterKey;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroizing;

const PREFIX: &str = "v1.";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("encryption failed")]
    Seal,
    /// Wrong master key, wrong row, or tampering: indistinguishable on purpose.
    #[error("ciphertext does not decrypt under this master key for this record")]
    Open,
    #[error("ciphertext is malformed")]
    Malformed,
}

/// Seals and opens secrets with the master key's envelope subkey.
pub struct Envelope {
    key: LessSafeKey,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envelope([redacted])")
    }
}

impl Envelope {
    pub fn new(master: &MasterKey) -> Result<Self, EnvelopeError> {
        let subkey = Zeroizing::new(master.derive(b"gatehouse/envelope/v1"));
        let key = UnboundKey::new(&AES_256_GCM, subkey.as_ref()).map_err(|_| EnvelopeError::Seal)?;
        Ok(Self { key: LessSafeKey::new(key) })
    }

    /// Encrypts `plaintext`, bound to `record` (e.g. a key id).
    pub fn seal(&self, record: &str, plaintext: &[u8]) -> Result<String, EnvelopeError> {
        let mut nonce = [0u8; NONCE_LEN];
        super::fill_random(&mut nonce).map_err(|_| EnvelopeError::Seal)?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(record.as_bytes()), &mut buf)
            .map_err(|_| EnvelopeError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, record: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(EnvelopeError::Malformed)?;
        let raw = URL_SAFE_NO_PAD.decode(body).map_err(|_| EnvelopeError::Malformed)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(EnvelopeError::Malformed);
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| EnvelopeError::Malformed)?;
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        let plain_len = self
            .key
            .open_in_place(nonce, Aad::from(record.as_bytes()), buf.as_mut_slice())
            .map_err(|_| EnvelopeError::Open)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn envelope(byte: u8) -> Envelope {
        Envelope::new(&MasterKey::decode(&STANDARD.encode([byte; 32])).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let e = envelope(7);
        let a = e.seal("kid-1", b"private key bytes").unwrap();
        let b = e.seal("kid-1", b"private key bytes").unwrap();
        assert_ne!(a, b, "fresh nonce per seal");
        assert_eq!(&*e.open("kid-1", &a).unwrap(), b"private key bytes");
    }

    #[test]
    fn wrong_key_record_or_tampering_fails() {
        let sealed = envelope(7).seal("kid-1", b"secret").unwrap();
        assert_eq!(envelope(8).open("kid-1", &sealed), Err(EnvelopeError::Open));
        assert_eq!(envelope(7).open("kid-2", &sealed), Err(EnvelopeError::Open));
        let mut bytes = sealed.into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(envelope(7).open("kid-1", &tampered), Err(EnvelopeError::Open));
        assert_eq!(envelope(7).open("kid-1", "v1.AAAA"), Err(EnvelopeError::Malformed));
        assert_eq!(envelope(7).open("kid-1", "garbage"), Err(EnvelopeError::Malformed));
    }
}
