//! The ID token (OIDC Core §2, §3.1.3.6): who logged in, when and how, for
//! which client, bound to the request's nonce and to the access token
//! issued with it (`at_hash`).

use crate::crypto::signing::SigningKeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

/// What the ID token states.
pub struct IdTokenFacts<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub auth_time: DateTime<Utc>,
    pub nonce: Option<&'a str>,
    pub acr: &'a str,
    /// RFC 8176 values.
    pub amr: Vec<&'a str>,
    pub sid: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub lifetime_secs: u32,
    pub now: DateTime<Utc>,
    /// `sub` and the claims released by scope.
    pub claims: Map<String, Value>,
}

/// `at_hash`: base64url of the left half of SHA-256 of the access token
/// (ES256 and RS256 both hash with SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub fn sign(signer: &SigningKeyPair, f: IdTokenFacts<'_>) -> Result<String, crate::crypto::signing::SigningError> {
    let mut c = f.claims;
    let iat = f.now.timestamp();
    for (k, v) in [
        ("iss", json!(f.issuer)),
        ("aud", json!(f.client_id)),
        ("azp", json!(f.client_id)),
        ("iat", json!(iat)),
        ("exp", json!(iat + i64::from(f.lifetime_secs))),
        ("auth_time", json!(f.auth_time.timestamp())),
        ("acr", json!(f.acr)),
        ("amr", json!(f.amr)),
    ] {
        c.insert(k.into(), v);
    }
    if let Some(n) = f.nonce {
        c.insert("nonce".into(), json!(n));
    }
    if let Some(s) = f.sid {
        c.insert("sid".into(), json!(s));
    }
    if let Some(at) = f.access_token {
        c.insert("at_hash".into(), json!(at_hash(at)));
    }
    let payload = serde_json::to_vec(&c).map_err(|_| crate::crypto::signing::SigningError::Sign)?;
    signer.sign_jws("JWT", &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core appendix A.3 (RS256): access token and its at_hash.
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"), "77QmUPtjPfzWtF2AnpK9RQ");
    }
}
