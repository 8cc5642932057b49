//! `private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OpenID
//! Connect Core §9): a JWT the client signs with a key from its registered
//! JWKS, naming itself as `iss` and `sub`, us as `aud`, single use by `jti`
//! and short-lived. Claims are checked before any key is fetched, so a
//! forged assertion costs us no request to the client's server.

use super::client_jwks::{ClientJwks, JwksError};
use crate::crypto::jwk::ASSERTION_ALGS;
use crate::crypto::signing::parse_jws;
use crate::store::{Db, client_assertions};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone as _, Utc};
use sha2::{Digest as _, Sha256};

/// The only `client_assertion_type` defined for JWTs (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Longest accepted assertion lifetime (`exp` − now): bounds how long a
/// used `jti` must be remembered.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Leeway for the client's clock on `nbf`, `iat` and `exp`.
const SKEW_SECS: i64 = 60;
const MAX_JTI_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum AssertionError {
    #[error("the assertion is not a well-formed signed JWT")]
    Malformed,
    #[error("algorithm `{0}` is not accepted")]
    Algorithm(String),
    #[error("iss and sub must both be the client_id")]
    Issuer,
    #[error("aud does not name this server")]
    Audience,
    #[error("the assertion has expired")]
    Expired,
    #[error("the assertion lives longer than {MAX_LIFETIME_SECS} s")]
    TooLong,
    #[error("the assertion is not valid yet")]
    NotYetValid,
    #[error("jti is missing or too long")]
    Jti,
    #[error("no registered key verifies the signature")]
    Signature,
    #[error("the assertion was already used")]
    Replayed,
    #[error(transparent)]
    Jwks(#[from] JwksError),
    #[error("recording the assertion failed")]
    Store,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
}

/// The client an assertion claims to come from (`sub`), read unverified
/// only to find whose keys to verify it with.
pub fn claimed_client_id(assertion: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Sub {
        sub: String,
    }
    let jws = parse_jws(assertion)?;
    serde_json::from_slice::<Sub>(&jws.payload).ok().map(|s| s.sub)
}

/// The client-authenticated endpoints an assertion can be presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Introspect,
    Revoke,
}

/// The `aud` values an assertion may carry at each endpoint: the issuer, or
/// the URL of the endpoint it is presented to — never another endpoint's,
/// so an assertion minted for `/introspect` cannot buy a token.
#[derive(Debug, Clone)]
pub struct AssertionAudiences {
    token: [String; 2],
    introspect: [String; 2],
    revoke: [String; 2],
}

impl AssertionAudiences {
    pub fn new(issuer: &str) -> Self {
        let at = |path: &str| [issuer.to_owned(), format!("{issuer}{path}")];
        Self { token: at("/token"), introspect: at("/introspect"), revoke: at("/revoke") }
    }

    pub fn at(&self, endpoint: Endpoint) -> &[String] {
        match endpoint {
            Endpoint::Token => &self.token,
            Endpoint::Introspect => &self.introspect,
            Endpoint::Revoke => &self.revoke,
        }
    }
}

/// What a valid assertion must say.
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// Accepted `aud` values (see [`AssertionAudiences`]).
    pub audiences: &'a [String],
    pub now: i64,
}

/// Verifies the assertion, then records its `jti` (a second use fails).
pub async fn verify(
    db: &Db,
    jwks: &ClientJwks,
    jwks_uri: &str,
    assertion: &str,
    expected: &Expected<'_>,
) -> Result<(), AssertionError> {
    let jws = parse_jws(assertion).ok_or(AssertionError::Malformed)?;
    if !ASSERTION_ALGS.contains(&jws.header.alg.as_str()) {
        return Err(AssertionError::Algorithm(jws.header.alg.chars().take(16).collect()));
    }
    let claims: Claims = serde_json::from_slice(&jws.payload).map_err(|_| AssertionError::Malformed)?;
    check_claims(&claims, expected)?;
    let jti = claims.jti.as_deref().ok_or(AssertionError::Jti)?;

    let kid = jws.header.kid.as_deref();
    let keys = jwks.keys(jwks_uri, kid).await?;
    let verified = keys.iter().filter(|k| kid.is_none() || k.kid.as_deref() == kid).any(|k| k.verify(&jws));
    if !verified {
        return Err(AssertionError::Signature);
    }

    let jti_hash = URL_SAFE_NO_PAD.encode(Sha256::digest(jti.as_bytes()));
    let expires_at = Utc.timestamp_opt(claims.exp + SKEW_SECS, 0).single().ok_or(AssertionError::Malformed)?;
    match client_assertions::first_use(db, expected.client_id, &jti_hash, expires_at).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(AssertionError::Replayed),
        Err(e) => {
            tracing::error!(error = %e, "recording a client assertion failed");
            Err(AssertionError::Store)
        }
    }
}

fn check_claims(c: &Claims, expected: &Expected<'_>) -> Result<(), AssertionError> {
    let now = expected.now;
    if c.iss != expected.client_id || c.sub != expected.client_id {
        return Err(AssertionError::Issuer);
    }
    let ours = |a: &String| expected.audiences.contains(a);
    let aud_ok = match &c.aud {
        Audience::One(a) => ours(a),
        Audience::Many(list) => list.iter().any(ours),
    };
    if !aud_ok {
        return Err(AssertionError::Audience);
    }
    if c.exp + SKEW_SECS <= now {
        return Err(AssertionError::Expired);
    }
    if c.exp - now > MAX_LIFETIME_SECS {
        return Err(AssertionError::TooLong);
    }
    if c.nbf.is_some_and(|t| t > now + SKEW_SECS) || c.iat.is_some_and(|t| t > now + SKEW_SECS) {
        return Err(AssertionError::NotYetValid);
    }
    if c.jti.as_deref().is_none_or(|j| j.is_empty() || j.len() > MAX_JTI_LEN) {
        return Err(AssertionError::Jti);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://id.example.test";

    fn claims(v: serde_json::Value) -> Claims {
        serde_json::from_value(v).unwrap()
    }

    fn check(v: serde_json::Value) -> Result<(), AssertionError> {
        let aud = [ISS.to_owned(), "https://id.example.test/token".to_owned()];
        check_claims(&claims(v), &Expected { client_id: "c1", audiences: &aud, now: 1_000_000 })
    }

    #[test]
    fn claims_rules() {
        let ok = serde_json::json!({"iss": "c1", "sub": "c1", "aud": ISS, "exp": 1_000_100, "jti": "a"});
        assert!(check(ok.clone()).is_ok());
        let with = |k: &str, v: serde_json::Value| {
            let mut c = ok.clone();
            c[k] = v;
            check(c)
        };
        assert!(with("aud", serde_json::json!(["x", "https://id.example.test/token"])).is_ok());
        assert!(matches!(with("aud", "https://evil.example".into()), Err(AssertionError::Audience)));
        assert!(matches!(with("aud", serde_json::json!([])), Err(AssertionError::Audience)));
        assert!(matches!(with("iss", "c2".into()), Err(AssertionError::Issuer)));
        assert!(matches!(with("sub", "c2".into()), Err(AssertionError::Issuer)));
        assert!(matches!(with("exp", 999_900.into()), Err(AssertionError::Expired)));
        assert!(with("exp", 999_990.into()).is_ok(), "within the skew");
        assert!(matches!(with("exp", 1_003_601.into()), Err(AssertionError::TooLong)));
        assert!(matches!(with("nbf", 1_000_100.into()), Err(AssertionError::NotYetValid)));
        assert!(matches!(with("iat", 1_000_100.into()), Err(AssertionError::NotYetValid)));
        assert!(matches!(with("jti", "".into()), Err(AssertionError::Jti)));
        assert!(matches!(with("jti", "x".repeat(257).into()), Err(AssertionError::Jti)));
        let mut no_jti = ok.clone();
        no_jti.as_object_mut().unwrap().remove("jti");
        assert!(matches!(check(no_jti), Err(AssertionError::Jti)));
    }
}
