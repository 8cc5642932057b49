//! RFC 7662 token introspection and RFC 7009 revocation of the access
//! tokens we issue. A token is active only if its key is still published
//! (revoked keys are not), its signature verifies with that key's own
//! algorithm, it is an `at+jwt` from this issuer, it has not expired, and
//! its `jti` has not been revoked.

use super::error::TokenError;
use super::registry::Client;
use super::revocation_list::RevocationList;
use super::token_cache::{Verified, VerifiedTokens};
use crate::crypto::signing::parse_jws;
use crate::keys::KeySet;
use crate::store::{Db, revocations};
use chrono::{DateTime, TimeZone as _, Utc};
use std::sync::Arc;

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
    verify_uncached(keys, issuer, token, now.timestamp()).map(|v| v.claims)
}

fn verify_uncached(keys: &KeySet, issuer: &str, token: &str, now: i64) -> Option<Verified> {
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

/// What introspection and revocation read: the published keys, the cache
/// of tokens that already verified, and the revocation list.
pub struct TokenCheck<'a> {
    pub keys: &'a KeySet,
    pub issuer: &'a str,
    pub verified: &'a VerifiedTokens,
    pub revoked: &'a RevocationList,
}

impl TokenCheck<'_> {
    fn verify(&self, token: &str, now: i64) -> Option<Arc<Verified>> {
        self.verified.get_or_verify(self.keys, token, now, || verify_uncached(self.keys, self.issuer, token, now))
    }
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

pub fn introspect(check: &TokenCheck<'_>, token: &str, now: DateTime<Utc>) -> Introspection {
    match check.verify(token, now.timestamp()) {
        Some(v) if !check.revoked.contains(&v.claims.jti) => {
            Introspection { active: true, claims: Some(v.claims.clone()), token_type: Some("Bearer") }
        }
        _ => Introspection { active: false, claims: None, token_type: None },
    }
}

/// RFC 7009: revokes `token` if it is one of ours, valid, and issued to
/// `client`. Unknown, malformed or expired tokens need nothing and succeed
/// (§2.2); a token of another client is refused. The revocation is durable
/// before it is reported, and effective on this instance at once.
pub async fn revoke(
    db: &Db,
    check: &TokenCheck<'_>,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    let Some(v) = check.verify(token, now.timestamp()) else {
        return Ok(());
    };
    let claims = &v.claims;
    if claims.client_id != client.client_id {
        return Err(TokenError::UnauthorizedClient("the token was not issued to this client".into()));
    }
    let expires_at = Utc.timestamp_opt(claims.exp, 0).single().unwrap_or(now);
    revocations::insert(db, &claims.jti, &claims.client_id, now, expires_at).await.map_err(|e| {
        tracing::error!(error = %e, "recording a revocation failed");
        TokenError::ServerError
    })?;
    check.revoked.insert(&claims.jti, claims.exp);
    Ok(())
}

#[cfg(test)]
mod tests;
