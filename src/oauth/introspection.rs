//! RFC 7662 token introspection and RFC 7009 revocation of the access
//! tokens we issue. A token is active only if its key is still published
//! (revoked keys are not), its signature verifies with that key's own
//! algorithm, it is an `at+jwt` from this issuer, it has not expired, and
//! its `jti` has not been revoked.

use super::error::TokenError;
use super::registry::Client;
use crate::crypto::signing::parse_jws;
use crate::keys::KeySet;
use crate::store::{Db, revocations};
use chrono::{DateTime, TimeZone as _, Utc};

/// Claims of an access token that verified.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signature, type, issuer and expiry; not the revocation list.
pub fn verify_access_token(keys: &KeySet, issuer: &str, token: &str, now: DateTime<Utc>) -> Option<AccessTokenClaims> {
    let jws = parse_jws(token)?;
    if !jws.header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("at+jwt")) {
        return None;
    }
    let key = keys.published_key(jws.header.kid.as_deref()?)?;
    if !key.verify(&jws) {
        return None;
    }
    let claims: AccessTokenClaims = serde_json::from_slice(&jws.payload).ok()?;
    let now = now.timestamp();
    // A minute of leeway for clocks of other instances issuing `iat`.
    (claims.iss == issuer && claims.exp > now && claims.iat <= now + 60 && !claims.jti.is_empty()).then_some(claims)
}

/// The introspection answer: `{"active": false}` for anything not active.
#[derive(Debug, serde::Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<AccessTokenClaims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

pub async fn introspect(
    db: &Db,
    keys: &KeySet,
    issuer: &str,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Introspection, TokenError> {
    let inactive = Introspection { active: false, claims: None, token_type: None };
    let Some(claims) = verify_access_token(keys, issuer, token, now) else {
        return Ok(inactive);
    };
    if revocations::is_revoked(db, &claims.jti).await.map_err(|e| {
        tracing::error!(error = %e, "revocation lookup failed");
        TokenError::ServerError
    })? {
        return Ok(inactive);
    }
    Ok(Introspection { active: true, claims: Some(claims), token_type: Some("Bearer") })
}

/// RFC 7009: revokes `token` if it is one of ours, valid, and issued to
/// `client`. Unknown, malformed or expired tokens need nothing and succeed
/// (§2.2); a token of another client is refused.
pub async fn revoke(
    db: &Db,
    keys: &KeySet,
    issuer: &str,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let Some(claims) = verify_access_token(keys, issuer, token, now) else {
        return Ok(());
    };
    if claims.client_id != client.client_id {
        return Err(TokenError::UnauthorizedClient("the token was not issued to this client".into()));
    }
    let expires_at = Utc.timestamp_opt(claims.exp, 0).single().unwrap_or(now);
    revocations::insert(db, &claims.jti, &claims.client_id, now, expires_at).await.map_err(|e| {
        tracing::error!(error = %e, "recording a revocation failed");
        TokenError::ServerError
    })
}

#[cfg(test)]
mod tests;
