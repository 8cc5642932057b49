//! Token grants, one file per flow, plus the client authentication and
//! access-token issuance they share.

pub mod client_credentials;

use super::client::TokenEndpointAuthMethod as M;
use super::error::TokenError;
use super::registry::{self, Client, RegistryError};
use super::token_request::PresentedClient;
use crate::crypto::SecretHasher;
use crate::keys::KeySet;
use crate::store::Db;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

/// Checks the presented credentials against the registration: the method
/// must be the registered one, and a secret must verify in constant time.
pub async fn authenticate_client(
    db: &Db,
    hasher: &SecretHasher,
    presented: &PresentedClient,
) -> Result<Client, TokenError> {
    let invalid = TokenError::InvalidClient { basic: presented.is_basic() };
    let client = match registry::get_client(db, presented.client_id()).await {
        Ok(c) => c,
        Err(RegistryError::NotFound) => return Err(invalid),
        Err(e) => {
            tracing::error!(error = %e, "client lookup failed");
            return Err(TokenError::ServerError);
        }
    };
    let method: M = client.registration.auth_method;
    let secret_ok = |secret: &str| client.secret_hash.as_deref().is_some_and(|h| hasher.verify(secret, h));
    let ok = match (method, presented) {
        (M::ClientSecretBasic, PresentedClient::Basic { secret, .. }) => secret_ok(secret),
        (M::ClientSecretPost, PresentedClient::Post { secret, .. }) => secret_ok(secret),
        (M::None, PresentedClient::Public { .. }) => true,
        _ => false,
    };
    if ok { Ok(client) } else { Err(invalid) }
}

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// RFC 9068 access token claims.
#[derive(Debug, serde::Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    jti: String,
    iat: i64,
    exp: i64,
}

/// Signs an RFC 9068 JWT access token with the client's algorithm.
pub fn issue_access_token(
    keys: &KeySet,
    issuer: &str,
    audience: &str,
    client: &Client,
    subject: &str,
    scope: Option<&str>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, TokenError> {
    let reg = &client.registration;
    let Some(signer) = keys.signer(reg.signing_alg) else {
        tracing::error!(alg = %reg.signing_alg, "no current signing key");
        return Err(TokenError::ServerError);
    };
    let mut jti = [0u8; 16];
    crate::crypto::fill_random(&mut jti).map_err(|_| TokenError::ServerError)?;
    let iat = now.timestamp();
    let claims = AccessTokenClaims {
        iss: issuer,
        sub: subject,
        aud: audience,
        client_id: &client.client_id,
        scope,
        jti: URL_SAFE_NO_PAD.encode(jti),
        iat,
        exp: iat + i64::from(reg.access_token_ttl),
    };
    let payload = serde_json::to_vec(&claims).map_err(|_| TokenError::ServerError)?;
    let access_token = signer.sign_jws("at+jwt", &payload).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        TokenError::ServerError
    })?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: reg.access_token_ttl,
        scope: scope.map(str::to_owned),
    })
}
