//! JWS signing keys (RFC 7515/7517/7518): generation, PKCS#8 export for
//! sealing at rest, the public JWK with an RFC 7638 thumbprint as `kid`,
//! and compact JWS signing with the parsed key held in memory (parsing a
//! key on every signature would cost more than the signature).

use crate::wire::wire_enum;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

wire_enum! {
    /// JWS algorithms Gatehouse signs with (RFC 7518 names).
    pub enum SigningAlg {
        Es256 = "ES256",
        Rs256 = "RS256",
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigningError {
    #[error("key generation failed")]
    Generate,
    #[error("stored private key does not parse as {0}")]
    Parse(SigningAlg),
    #[error("signing failed")]
    Sign,
}

enum Inner {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private signing key, parsed once.
pub struct SigningKeyPair {
    alg: SigningAlg,
    kid: String,
    jwk: Value,
    /// The public key as verification expects it: the SEC1 point for EC,
    /// the DER `RSAPublicKey` for RSA.
    public: Vec<u8>,
    inner: Inner,
}

impl std::fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyPair").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKeyPair {
    /// A new key and its PKCS#8 encoding (to seal and store).
    pub fn generate(alg: SigningAlg) -> Result<(Self, Zeroizing<Vec<u8>>), SigningError> {
        let pkcs8 = match alg {
            SigningAlg::Es256 => {
                let kp =
                    EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(|_| SigningError::Generate)?;
                Zeroizing::new(kp.to_pkcs8v1().map_err(|_| SigningError::Generate)?.as_ref().to_vec())
            }
            SigningAlg::Rs256 => {
                let kp = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningError::Generate)?;
                Zeroizing::new(kp.as_der().map_err(|_| SigningError::Generate)?.as_ref().to_vec())
            }
        };
        Ok((Self::from_pkcs8(alg, &pkcs8)?, pkcs8))
    }

    pub fn from_pkcs8(alg: SigningAlg, der: &[u8]) -> Result<Self, SigningError> {
        let (inner, public, public_bytes) = match alg {
            SigningAlg::Es256 => {
                let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| SigningError::Parse(alg))?;
                let point = kp.public_key().as_ref();
                // Uncompressed SEC1 point: 0x04 || x (32) || y (32).
                if point.len() != 65 {
                    return Err(SigningError::Parse(alg));
                }
                let public = json!({
                    "crv": "P-256",
                    "kty": "EC",
                    "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
                });
                let bytes = point.to_vec();
                (Inner::Ec(kp), public, bytes)
            }
            SigningAlg::Rs256 => {
                let kp = RsaKeyPair::from_pkcs8(der).map_err(|_| SigningError::Parse(alg))?;
                let pk = kp.public_key();
                let public = json!({
                    "e": URL_SAFE_NO_PAD.encode(pk.exponent().big_endian_without_leading_zero()),
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(pk.modulus().big_endian_without_leading_zero()),
                });
                let bytes = pk.as_ref().to_vec();
                (Inner::Rsa(kp), public, bytes)
            }
        };
        let kid = thumbprint(&public);
        let mut jwk = public;
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!(alg.as_str());
        Ok(Self { alg, kid, jwk, public: public_bytes, inner })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK (`kty`, key parameters, `kid`, `use`, `alg`).
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// Signs `claims` (a JSON object, already serialized) as a compact JWS
    /// with header `{alg, kid, typ}`.
    pub fn sign_jws(&self, typ: &str, claims: &[u8]) -> Result<String, SigningError> {
        let header = json!({ "alg": self.alg.as_str(), "kid": self.kid, "typ": typ });
        let mut input = URL_SAFE_NO_PAD.encode(header.to_string());
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut input);
        let signature = self.sign(input.as_bytes())?;
        input.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut input);
        Ok(input)
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, SigningError> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Ec(kp) => Ok(kp.sign(&rng, input).map_err(|_| SigningError::Sign)?.as_ref().to_vec()),
            Inner::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PKCS1_SHA256, &rng, input, &mut sig).map_err(|_| SigningError::Sign)?;
                Ok(sig)
            }
        }
    }
}

impl SigningKeyPair {
    /// Checks a parsed JWS against this key. The header's `alg` must be this
    /// key's algorithm: the key decides, never the token (no `none`, no
    /// HMAC-with-the-public-key confusion).
    pub fn verify(&self, jws: &Jws<'_>) -> bool {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
        if jws.header.alg != self.alg.as_str() {
            return false;
        }
        let input = jws.signing_input.as_bytes();
        match self.alg {
            SigningAlg::Es256 => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.public).verify(input, &jws.signature)
            }
            SigningAlg::Rs256 => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &self.public).verify(input, &jws.signature)
            }
        }
        .is_ok()
    }
}

/// Longest compact JWS accepted for verification.
pub const MAX_JWS_LEN: usize = 8 * 1024;

/// The protected header fields we read.
#[derive(Debug, serde::Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    pub kid: Option<String>,
    pub typ: Option<String>,
    /// Whether a `crit` member is present at all. We implement no JWS
    /// extension, so any `crit` names one we do not understand and the JWS
    /// must be refused (RFC 7515 §4.1.11).
    #[serde(default, rename = "crit", deserialize_with = "present")]
    has_crit: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug)]
pub struct Jws<'a> {
    pub header: JwsHeader,
    pub payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl Jws<'_> {
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub fn signing_input(&self) -> &str {
        self.signing_input
    }

    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// Splits and decodes a compact JWS (RFC 7515 §7.1) within size limits.
pub fn parse_jws(token: &str) -> Option<Jws<'_>> {
    if token.len() > MAX_JWS_LEN {
        return None;
    }
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    if payload.contains('.') {
        return None;
    }
    // The header must be valid JSON, so valid UTF-8 (RFC 7515 §5.2):
    // serde_json skips the bytes of members it ignores without checking.
    let header = URL_SAFE_NO_PAD.decode(header).ok()?;
    let header: JwsHeader = serde_json::from_str(std::str::from_utf8(&header).ok()?).ok()?;
    if header.has_crit {
        return None;
    }
    Some(Jws {
        header,
        payload: URL_SAFE_NO_PAD.decode(payload).ok()?,
        signing_input,
        signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
    })
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in
/// lexicographic order, without whitespace (serde_json's map is sorted).
fn thumbprint(required_members: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(required_members.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_that_is_not_utf8_is_refused() {
        // Found by the parse_jws fuzz target: invalid UTF-8 inside a member
        // we ignore slipped past serde_json.
        let header = URL_SAFE_NO_PAD.encode(b"{\"alg\": \"ES256\", \"tzp\": \"at+jw\x84\"}");
        let token = format!("{header}.e30.AQ");
        assert!(parse_jws(&token).is_none());
        let fine = URL_SAFE_NO_PAD.encode(b"{\"alg\": \"ES256\", \"tzp\": \"at+jwt\"}");
        assert!(parse_jws(&format!("{fine}.e30.AQ")).is_some());
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        });
        assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    fn verify_independently(alg: SigningAlg) {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::Jwk};
        let (key, pkcs8) = SigningKeyPair::generate(alg).unwrap();
        let claims = json!({ "sub": "abc", "exp": 4_102_444_800u64 });
        let token = key.sign_jws("at+jwt", claims.to_string().as_bytes()).unwrap();

        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwk: Jwk = serde_json::from_value(key.public_jwk().clone()).unwrap();
        let decoding = DecodingKey::from_jwk(&jwk).unwrap();
        let algorithm = if alg == SigningAlg::Es256 { Algorithm::ES256 } else { Algorithm::RS256 };
        let mut validation = Validation::new(algorithm);
        validation.validate_aud = false;
        let data = decode::<Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "abc");

        // A flipped signature byte no longer verifies.
        let mut bytes = token.clone().into_bytes();
        let i = bytes.len() - 5;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert!(decode::<Value>(&String::from_utf8(bytes).unwrap(), &decoding, &validation).is_err());

        // Reloading the sealed form gives the same key.
        let again = SigningKeyPair::from_pkcs8(alg, &pkcs8).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.public_jwk(), key.public_jwk());
    }

    #[test]
    fn es256_tokens_verify_with_an_independent_library() {
        verify_independently(SigningAlg::Es256);
    }

    #[test]
    fn rs256_tokens_verify_with_an_independent_library() {
        verify_independently(SigningAlg::Rs256);
    }

    #[test]
    fn verification_is_bound_to_the_key_and_its_algorithm() {
        let (es, _) = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
        let (rs, _) = SigningKeyPair::generate(SigningAlg::Rs256).unwrap();
        let (other, _) = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
        for key in [&es, &rs] {
            let token = key.sign_jws("at+jwt", br#"{"a":1}"#).unwrap();
            let jws = parse_jws(&token).unwrap();
            assert!(key.verify(&jws));
            assert_eq!(jws.payload, br#"{"a":1}"#);
            assert_eq!(jws.header.kid.as_deref(), Some(key.kid()));
        }
        let token = es.sign_jws("at+jwt", b"{}").unwrap();
        assert!(!other.verify(&parse_jws(&token).unwrap()), "another key");
        assert!(!rs.verify(&parse_jws(&token).unwrap()), "another algorithm");
        // alg none / HS256 headers never verify, whatever the signature.
        let forge = |alg: &str| {
            let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","kid":"{}"}}"#, es.kid()));
            format!("{h}.{}.{}", URL_SAFE_NO_PAD.encode("{}"), URL_SAFE_NO_PAD.encode("sig"))
        };
        assert!(!es.verify(&parse_jws(&forge("none")).unwrap()));
        assert!(!es.verify(&parse_jws(&forge("HS256")).unwrap()));
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.e30", &"a".repeat(MAX_JWS_LEN + 1)] {
            assert!(parse_jws(bad).is_none(), "{bad}");
        }
    }

    /// RFC 7515 §4.1.11: a `crit` naming an extension we do not implement
    /// (we implement none) is refused, however it is spelt, even when the
    /// signature over that header is valid.
    #[test]
    fn any_crit_header_is_refused() {
        let (es, _) = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
        let payload = URL_SAFE_NO_PAD.encode("{}");
        for crit in [r#"["exp"]"#, r#"["b64"]"#, "[]", "null", r#""x""#] {
            let header =
                URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{}","crit":{crit},"exp":1}}"#, es.kid()));
            let input = format!("{header}.{payload}");
            let sig = URL_SAFE_NO_PAD.encode(es.sign(input.as_bytes()).unwrap());
            assert!(parse_jws(&format!("{input}.{sig}")).is_none(), "crit {crit}");
        }
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","kid":"{}"}}"#, es.kid()));
        let input = format!("{header}.{payload}");
        let sig = URL_SAFE_NO_PAD.encode(es.sign(input.as_bytes()).unwrap());
        assert!(es.verify(&parse_jws(&format!("{input}.{sig}")).unwrap()), "the same JWS without crit verifies");
    }

    #[test]
    fn garbage_pkcs8_is_an_error() {
        assert_eq!(
            SigningKeyPair::from_pkcs8(SigningAlg::Es256, b"nope").unwrap_err(),
            SigningError::Parse(SigningAlg::Es256)
        );
        assert_eq!(
            SigningKeyPair::from_pkcs8(SigningAlg::Rs256, b"nope").unwrap_err(),
            SigningError::Parse(SigningAlg::Rs256)
        );
    }
}
