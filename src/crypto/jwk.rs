//! Public keys that clients register (in the JWKS behind their `jwks_uri`)
//! to sign `private_key_jwt` assertions. Only signature keys of the
//! algorithms below are accepted; everything else in a JWKS is skipped.

use super::signing::Jws;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents,
    UnparsedPublicKey,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// JWS algorithms accepted on client assertions (RFC 7518 names).
pub const ASSERTION_ALGS: [&str; 3] = ["ES256", "RS256", "PS256"];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// SEC1 uncompressed point.
    P256(Vec<u8>),
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

/// One verification key from a client's JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicJwk {
    pub kid: Option<String>,
    /// The `alg` the JWK pins, if any.
    alg: Option<String>,
    material: Material,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwkError {
    #[error("unsupported key type or curve")]
    Unsupported,
    #[error("malformed key: {0}")]
    Malformed(&'static str),
    #[error("not a signature key")]
    NotForSignatures,
}

impl PublicJwk {
    pub fn parse(jwk: &Value) -> Result<Self, JwkError> {
        let field = |name: &'static str| jwk.get(name).and_then(Value::as_str);
        let bytes = |name: &'static str| {
            field(name).and_then(|v| URL_SAFE_NO_PAD.decode(v).ok()).ok_or(JwkError::Malformed(name))
        };
        if field("use").is_some_and(|u| u != "sig") {
            return Err(JwkError::NotForSignatures);
        }
        let material = match field("kty") {
            Some("EC") if field("crv") == Some("P-256") => {
                let (x, y) = (bytes("x")?, bytes("y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(JwkError::Malformed("coordinate length"));
                }
                let mut point = Vec::with_capacity(65);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Material::P256(point)
            }
            Some("RSA") => {
                let (n, e) = (bytes("n")?, bytes("e")?);
                // 2048 bits at least; the verifier enforces it too.
                if n.len() < 256 || e.is_empty() || e.len() > 8 {
                    return Err(JwkError::Malformed("modulus or exponent size"));
                }
                Material::Rsa { n, e }
            }
            _ => return Err(JwkError::Unsupported),
        };
        Ok(Self { kid: field("kid").map(str::to_owned), alg: field("alg").map(str::to_owned), material })
    }

    /// Whether this key can check a signature made with `alg`.
    pub fn fits(&self, alg: &str) -> bool {
        let kty_fits = match &self.material {
            Material::P256(_) => alg == "ES256",
            Material::Rsa { .. } => alg == "RS256" || alg == "PS256",
        };
        kty_fits && self.alg.as_deref().is_none_or(|pinned| pinned == alg)
    }

    /// Verifies `jws` with its header's algorithm, if this key fits it.
    pub fn verify(&self, jws: &Jws<'_>) -> bool {
        let alg = jws.header.alg.as_str();
        if !self.fits(alg) {
            return false;
        }
        let (input, sig) = (jws.signing_input().as_bytes(), jws.signature());
        match (&self.material, alg) {
            (Material::P256(point), _) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(input, sig),
            (Material::Rsa { n, e }, "RS256") => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PKCS1_2048_8192_SHA256, input, sig)
            }
            (Material::Rsa { n, e }, _) => {
                RsaPublicKeyComponents { n, e }.verify(&RSA_PSS_2048_8192_SHA256, input, sig)
            }
        }
        .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::{SigningAlg, SigningKeyPair, parse_jws};

    #[test]
    fn verifies_what_the_matching_private_key_signed_and_nothing_else() {
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            let (key, _) = SigningKeyPair::generate(alg).unwrap();
            let (other, _) = SigningKeyPair::generate(alg).unwrap();
            let jwk = PublicJwk::parse(key.public_jwk()).unwrap();
            let token = key.sign_jws("JWT", b"{\"a\":1}").unwrap();
            assert!(jwk.verify(&parse_jws(&token).unwrap()));
            let foreign = other.sign_jws("JWT", b"{\"a\":1}").unwrap();
            assert!(!jwk.verify(&parse_jws(&foreign).unwrap()));
        }
    }

    #[test]
    fn rejects_keys_it_cannot_use() {
        let ec = serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"});
        assert_eq!(PublicJwk::parse(&ec), Err(JwkError::Malformed("coordinate length")));
        let p384 = serde_json::json!({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"});
        assert_eq!(PublicJwk::parse(&p384), Err(JwkError::Unsupported));
        let oct = serde_json::json!({"kty": "oct", "k": "c2VjcmV0"});
        assert_eq!(PublicJwk::parse(&oct), Err(JwkError::Unsupported));
        let enc = serde_json::json!({"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"});
        assert_eq!(PublicJwk::parse(&enc), Err(JwkError::NotForSignatures));
        let small = serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
        assert_eq!(PublicJwk::parse(&small), Err(JwkError::Malformed("modulus or exponent size")));
    }

    #[test]
    fn a_pinned_alg_is_honoured() {
        let (key, _) = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
        let mut v = key.public_jwk().clone();
        v["alg"] = "RS256".into();
        let jwk = PublicJwk::parse(&v).unwrap();
        assert!(!jwk.fits("ES256"));
        let token = key.sign_jws("JWT", b"{}").unwrap();
        assert!(!jwk.verify(&parse_jws(&token).unwrap()));
        assert!(!PublicJwk::parse(key.public_jwk()).unwrap().fits("HS256"));
    }
}
