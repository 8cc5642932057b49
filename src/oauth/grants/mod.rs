//! Token grants, one file per flow, plus the client authentication and
//! access-token issuance they share.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use super::access_token::AccessTokenClaims;
use super::client::GrantType;
use super::client::TokenEndpointAuthMethod as M;
use super::client_assertion::{self, AssertionError, Expected};
use super::client_cache::ClientCache;
use super::client_jwks::ClientJwks;
use super::error::TokenError;
use super::registry::{Client, RegistryError};
use super::token_request::{PresentedClient, TokenParams, TokenRequest};
use crate::crypto::SecretHasher;
use crate::keys::KeySet;
use crate::store::Db;
use crate::store::refresh::IssuedAccess;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// What client authentication needs.
pub struct ClientAuth<'a> {
    pub db: &'a Db,
    pub clients: &'a ClientCache,
    pub hasher: &'a SecretHasher,
    pub jwks: &'a ClientJwks,
    /// `aud` values a client assertion may carry.
    pub audiences: &'a [String],
    pub now: DateTime<Utc>,
    /// The database is known to be down: an assertion, whose `jti` must be
    /// recorded, is refused at once with `temporarily_unavailable`.
    pub db_down: bool,
}

/// Checks the presented credentials against the registration: the method
/// must be the registered one, a secret must verify in constant time, an
/// assertion must verify with the client's keys and be new.
pub async fn authenticate_client(
    auth: &ClientAuth<'_>,
    presented: &PresentedClient,
) -> Result<Arc<Client>, TokenError> {
    let invalid = TokenError::InvalidClient { basic: presented.is_basic() };
    let lookup_failed = |e: RegistryError| match e {
        RegistryError::NotFound => invalid.clone(),
        RegistryError::Unavailable => TokenError::TemporarilyUnavailable,
        e => {
            tracing::error!(error = %e, "client lookup failed");
            TokenError::ServerError
        }
    };
    let client = auth.clients.get(auth.db, presented.client_id()).await.map_err(lookup_failed)?;
    if credentials_hold(auth, &client, presented).await? {
        return Ok(client);
    }
    // A secret rotated or a method changed through another instance or the
    // CLI may not have reached the cache yet: re-read once (at most once a
    // second per client, so failed guesses do not become database load).
    let reread =
        auth.clients.reload_if_older(auth.db, &client.client_id, RECHECK_AFTER).await.map_err(lookup_failed)?;
    match reread {
        Some(fresh) if fresh.version != client.version && credentials_hold(auth, &fresh, presented).await? => Ok(fresh),
        _ => Err(invalid),
    }
}

const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

async fn credentials_hold(
    auth: &ClientAuth<'_>,
    client: &Client,
    presented: &PresentedClient,
) -> Result<bool, TokenError> {
    let secret_ok = |secret: &str| client.secret_hash.as_deref().is_some_and(|h| auth.hasher.verify(secret, h));
    Ok(match (client.registration.auth_method, presented) {
        (M::ClientSecretBasic, PresentedClient::Basic { secret, .. }) => secret_ok(secret),
        (M::ClientSecretPost, PresentedClient::Post { secret, .. }) => secret_ok(secret),
        (M::None, PresentedClient::Public { .. }) => true,
        (M::PrivateKeyJwt, PresentedClient::Assertion { assertion, .. }) => {
            let Some(uri) = client.registration.jwks_uri.as_deref() else { return Ok(false) };
            if auth.db_down {
                return Err(TokenError::TemporarilyUnavailable);
            }
            let expected =
                Expected { client_id: &client.client_id, audiences: auth.audiences, now: auth.now.timestamp() };
            match client_assertion::verify(auth.db, auth.jwks, uri, assertion, &expected).await {
                Ok(()) => true,
                Err(AssertionError::Store) => return Err(TokenError::ServerError),
                Err(e) => {
                    // The reason helps the client's operator; it names no secret.
                    tracing::warn!(client_id = %client.client_id, reason = %e, "client assertion refused");
                    false
                }
            }
        }
        _ => false,
    })
}

/// Serves an authenticated client's token request: whether the client may
/// use the grant first, then the grant's own parameters, then the grant.
pub async fn exchange(
    cx: &mut authorization_code::GrantContext<'_>,
    client: &Client,
    grant: GrantType,
    params: &mut TokenParams,
) -> Result<TokenResponse, TokenError> {
    if !client.registration.grant_types.contains(&grant) {
        return Err(TokenError::UnauthorizedClient(format!("this client may not use {grant}")));
    }
    match TokenRequest::parse(grant, params)? {
        TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
            authorization_code::exchange_code(cx, client, &code, &redirect_uri, code_verifier.as_deref()).await
        }
        TokenRequest::RefreshToken { refresh_token, scope } => {
            refresh_token::exchange_refresh_token(cx, client, &refresh_token, scope.as_deref()).await
        }
        TokenRequest::ClientCredentials { scope } => {
            client_credentials::exchange_client_credentials(client, scope.as_deref(), cx.keys, cx.issuer, cx.now)
        }
    }
}

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The access token's id and expiry, for revocation; not sent.
    #[serde(skip)]
    pub jti: String,
    #[serde(skip)]
    pub exp: i64,
}

/// Chooses the `jti` and expiry of an access token before it is signed,
/// so that what will be issued can be on record first.
pub fn plan_access_token(client: &Client, now: DateTime<Utc>) -> Result<IssuedAccess, TokenError> {
    let mut jti = [0u8; 16];
    crate::crypto::fill_random(&mut jti).map_err(|_| TokenError::ServerError)?;
    let expires_at = now + chrono::Duration::seconds(i64::from(client.registration.access_token_ttl));
    Ok(IssuedAccess { jti: URL_SAFE_NO_PAD.encode(jti), expires_at })
}

/// Signs an RFC 9068 JWT access token with the client's algorithm.
#[allow(clippy::too_many_arguments)] // each is a distinct claim source
pub fn issue_access_token(
    keys: &KeySet,
    issuer: &str,
    audience: &str,
    client: &Client,
    subject: &str,
    scope: Option<&str>,
    planned: &IssuedAccess,
    now: DateTime<Utc>,
) -> Result<TokenResponse, TokenError> {
    let reg = &client.registration;
    let Some(signer) = keys.signer(reg.signing_alg) else {
        tracing::error!(alg = %reg.signing_alg, "no current signing key");
        return Err(TokenError::ServerError);
    };
    let iat = now.timestamp();
    let jti = planned.jti.clone();
    let exp = planned.expires_at.timestamp();
    let claims = AccessTokenClaims {
        iss: issuer.to_owned(),
        sub: subject.to_owned(),
        aud: audience.to_owned(),
        client_id: client.client_id.clone(),
        scope: scope.map(str::to_owned),
        jti: jti.clone(),
        iat,
        exp,
    };
    let access_token = super::access_token::sign(signer, &claims).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        TokenError::ServerError
    })?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: u32::try_from(exp - iat).unwrap_or(reg.access_token_ttl),
        scope: scope.map(str::to_owned),
        refresh_token: None,
        id_token: None,
        jti,
        exp,
    })
}
