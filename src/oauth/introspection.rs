//! RFC 7662 token introspection and RFC 7009 revocation of the tokens we
//! issue. An access token is active only if its key is still published
//! (revoked keys are not), its signature verifies with that key's own
//! algorithm, it is an `at+jwt` from this issuer, it has not expired, and
//! its `jti` has not been revoked; a refresh token while it is its
//! family's current token. Only entitled clients learn that a token is
//! active.

use super::access_token::Verified;
use super::error::TokenError;
use super::registry::Client;
use super::revocation_list::RevocationList;
use super::token_cache::VerifiedTokens;
use crate::crypto::hash_secret;
use crate::keys::KeySet;
use crate::store::{Db, refresh, revocations};
use chrono::{DateTime, TimeZone as _, Utc};
use std::sync::Arc;

pub use super::access_token::AccessTokenClaims;

fn verify_uncached(keys: &KeySet, issuer: &str, token: &str, now: i64) -> Option<Verified> {
    super::access_token::verify(keys, issuer, token, now)
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

/// The introspection answer: `{"active": false}` for anything not active
/// or not the caller's to know about.
#[derive(Debug, serde::Serialize)]
pub struct Introspection {
    pub active: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<AccessTokenClaims>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

impl Introspection {
    pub const INACTIVE: Introspection = Introspection { active: false, claims: None, token_type: None };
}

/// An access token that verifies and is not revoked, whoever asks.
pub fn active_access_token(check: &TokenCheck<'_>, token: &str, now: DateTime<Utc>) -> Option<Arc<Verified>> {
    check.verify(token, now.timestamp()).filter(|v| !check.revoked.contains(&v.claims.jti))
}

/// RFC 7662 §4: who may learn about an access token. Its own client, and
/// a resource server registered for the token's audience; nobody else.
fn entitled(client: &Client, claims: &AccessTokenClaims) -> bool {
    claims.client_id == client.client_id || client.registration.introspection_audiences.contains(&claims.aud)
}

/// Our access tokens are JWS compact serialisations, our refresh tokens
/// random base64url without a dot: the shape says which store to ask,
/// whatever `token_type_hint` claims (RFC 7009 §2.1 lets us ignore it).
pub fn looks_like_jwt(token: &str) -> bool {
    token.contains('.')
}

/// Answers an authenticated `client` about `token`. A refresh token is
/// described only to its own client (its `exp` is its own, its `iat` when
/// it was issued); an access token to its client or an entitled resource
/// server.
pub async fn introspect(
    db: &Db,
    check: &TokenCheck<'_>,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Introspection, TokenError> {
    if looks_like_jwt(token) {
        return Ok(match active_access_token(check, token, now) {
            Some(v) if entitled(client, &v.claims) => {
                Introspection { active: true, claims: Some(v.claims.clone()), token_type: Some("Bearer") }
            }
            _ => Introspection::INACTIVE,
        });
    }
    let presented = refresh::find(db, &hash_secret(token)).await.map_err(store_failed)?;
    Ok(match presented {
        Some(p) if p.token.client_id == client.client_id && p.is_current(now) => {
            let t = p.token;
            Introspection {
                active: true,
                claims: Some(AccessTokenClaims {
                    iss: check.issuer.to_owned(),
                    sub: t.user_id,
                    aud: check.issuer.to_owned(),
                    client_id: t.client_id,
                    scope: Some(t.scope),
                    // A refresh token has no jti of its own on the wire.
                    jti: String::new(),
                    iat: t.created_at.timestamp(),
                    exp: t.expires_at.timestamp(),
                }),
                token_type: None,
            }
        }
        _ => Introspection::INACTIVE,
    })
}

fn store_failed(e: impl std::fmt::Display) -> TokenError {
    tracing::error!(error = %e, "token store failed");
    TokenError::ServerError
}

/// RFC 7009: revokes `token` if it is one of ours and issued to `client`.
/// An access token by its `jti`; a refresh token (current or spent) with
/// its whole family and every access token the family issued (§2.1).
/// Unknown, malformed, expired or other clients' tokens need nothing and
/// succeed alike (§2.2), so the answer tells no one whether a token
/// exists. The revocation is durable before it is reported, and effective
/// on this instance at once.
pub async fn revoke(
    db: &Db,
    check: &TokenCheck<'_>,
    client: &Client,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), TokenError> {
    if !looks_like_jwt(token) {
        let Some(p) = refresh::find(db, &hash_secret(token)).await.map_err(store_failed)? else { return Ok(()) };
        if p.token.client_id != client.client_id {
            return Ok(());
        }
        let t = &p.token;
        let family = refresh::FamilyRef { id: &t.family_id, client_id: &t.client_id, user_id: &t.user_id };
        for (jti, exp) in refresh::revoke_family(db, family, now).await.map_err(store_failed)? {
            check.revoked.insert(&jti, exp);
        }
        return Ok(());
    }
    let Some(v) = check.verify(token, now.timestamp()) else {
        return Ok(());
    };
    let claims = &v.claims;
    if claims.client_id != client.client_id {
        return Ok(());
    }
    let expires_at = Utc.timestamp_opt(claims.exp, 0).single().unwrap_or(now);
    revocations::insert(db, &claims.jti, &claims.client_id, now, expires_at).await.map_err(store_failed)?;
    check.revoked.insert(&claims.jti, claims.exp);
    Ok(())
}

#[cfg(test)]
mod tests;
