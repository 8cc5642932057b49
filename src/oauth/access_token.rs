//! RFC 9068 JWT access tokens: one claims type, signed at the token
//! endpoint and checked by introspection and userinfo.

use crate::crypto::signing::{SigningKeyPair, parse_jws};
use crate::keys::KeySet;

/// The claims of an access token we issue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Empty only in a refresh token's description (it has no jti).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// A token that verified, with the kid that signed it.
#[derive(Debug)]
pub struct Verified {
    pub kid: String,
    pub claims: AccessTokenClaims,
}

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("claims do not serialize: {0}")]
    Json(#[from] serde_json::Error),
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Signs `claims` as an `at+jwt` (RFC 9068 §2.1).
pub fn sign(signer: &SigningKeyPair, claims: &AccessTokenClaims) -> Result<String, SignError> {
    let payload = serde_json::to_vec(claims)?;
    signer.sign_jws("at+jwt", &payload).map_err(|e| SignError::Sign(e.to_string()))
}

/// Signature (by a published key, with that key's own algorithm), type,
/// issuer, expiry and a `jti`; not the revocation list.
pub fn verify(keys: &KeySet, issuer: &str, token: &str, now: i64) -> Option<Verified> {
    let jws = parse_jws(token)?;
    if !jws.header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return None;
    }
    let kid = jws.header.kid.as_deref()?;
    let key = keys.published_key(kid)?;
    if !key.verify(&jws) {
        return None;
    }
    let claims: AccessTokenClaims = serde_json::from_slice(&jws.payload).ok()?;
    // A minute of leeway for clocks of other instances issuing `iat`.
    let valid = claims.iss == issuer && claims.exp > now && claims.iat <= now + 60 && !claims.jti.is_empty();
    valid.then(|| Verified { kid: kid.to_owned(), claims })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::SigningAlg;
    use chrono::{DateTime, Utc};
    use std::collections::HashMap;
    use std::sync::Arc;

    const ISS: &str = "https://id.example.test";

    fn keyset(now: DateTime<Utc>) -> (KeySet, Arc<SigningKeyPair>) {
        let key = Arc::new(SigningKeyPair::generate(SigningAlg::Es256).unwrap().0);
        let row = entity::signing_keys::Model {
            kid: key.kid().to_owned(),
            alg: "ES256".into(),
            private_key: String::new(),
            public_jwk: String::new(),
            created_at: now,
            activates_at: now,
            retires_at: None,
            expires_at: None,
            revoked_at: None,
            announced_state: None,
        };
        let parsed = HashMap::from([(key.kid().to_owned(), key.clone())]);
        (KeySet::build(&[row], &parsed, now), key)
    }

    fn claims(now: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: ISS.into(),
            sub: "user-1".into(),
            aud: ISS.into(),
            client_id: "app".into(),
            scope: Some("openid email".into()),
            jti: "j1".into(),
            iat: now,
            exp: now + 300,
        }
    }

    #[test]
    fn what_is_signed_is_what_verifies() {
        let now = Utc::now();
        let (keys, signer) = keyset(now);
        let t = now.timestamp();
        let token = sign(&signer, &claims(t)).unwrap();
        let v = verify(&keys, ISS, &token, t).unwrap();
        assert_eq!((v.kid.as_str(), &v.claims), (signer.kid(), &claims(t)));
        let unscoped = AccessTokenClaims { scope: None, ..claims(t) };
        let payload = sign(&signer, &unscoped).unwrap();
        assert_eq!(verify(&keys, ISS, &payload, t).unwrap().claims, unscoped);
    }

    #[test]
    fn wrong_issuer_expiry_type_or_missing_jti_do_not_verify() {
        let now = Utc::now();
        let (keys, signer) = keyset(now);
        let t = now.timestamp();
        let token = sign(&signer, &claims(t)).unwrap();
        assert!(verify(&keys, "https://other.example", &token, t).is_none());
        assert!(verify(&keys, ISS, &token, t + 300).is_none(), "expired");
        let no_jti = sign(&signer, &AccessTokenClaims { jti: String::new(), ..claims(t) }).unwrap();
        assert!(verify(&keys, ISS, &no_jti, t).is_none());
        let id_token = signer.sign_jws("JWT", &serde_json::to_vec(&claims(t)).unwrap()).unwrap();
        assert!(verify(&keys, ISS, &id_token, t).is_none(), "an ID token is not an access token");
        let future = sign(&signer, &AccessTokenClaims { iat: t + 61, ..claims(t) }).unwrap();
        assert!(verify(&keys, ISS, &future, t).is_none());
    }
}
