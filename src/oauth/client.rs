//! Client registrations: the typed, validated form of what an admin asks
//! for, with the defaults and cross-field rules of RFC 6749 / RFC 8252 /
//! OIDC Dynamic Registration §2 applied once, here.

use super::redirect_uri::{self, RedirectUri, RedirectUriError};
use super::scope::is_scope_token;
use crate::wire::wire_enum;

pub use crate::crypto::signing::SigningAlg;

wire_enum! {
    /// RFC 6749 §2.1.
    pub enum ClientType {
        Confidential = "confidential",
        Public = "public",
    }
}

wire_enum! {
    /// OIDC Core §9 / RFC 7591 `token_endpoint_auth_method`.
    pub enum TokenEndpointAuthMethod {
        ClientSecretBasic = "client_secret_basic",
        ClientSecretPost = "client_secret_post",
        PrivateKeyJwt = "private_key_jwt",
        None = "none",
    }
}

wire_enum! {
    /// The grants Gatehouse implements (no implicit, no password grant).
    pub enum GrantType {
        AuthorizationCode = "authorization_code",
        RefreshToken = "refresh_token",
        ClientCredentials = "client_credentials",
    }
}

pub const MAX_URIS: usize = 32;
pub const MAX_SCOPES: usize = 64;
pub const DEFAULT_ACCESS_TOKEN_TTL: u32 = 300;
pub const DEFAULT_REFRESH_TOKEN_TTL: u32 = 14 * 24 * 3600;
pub const DEFAULT_ID_TOKEN_TTL: u32 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("name must be 1 to 128 characters without control characters")]
    InvalidName,
    #[error("redirect URI `{uri}`: {reason}")]
    RedirectUri { uri: String, reason: RedirectUriError },
    #[error("post-logout redirect URI `{uri}`: {reason}")]
    PostLogoutRedirectUri { uri: String, reason: RedirectUriError },
    #[error("at most {MAX_URIS} redirect URIs of each kind")]
    TooManyUris,
    #[error("scope `{0}` is not a valid scope token (RFC 6749 §3.3)")]
    InvalidScope(String),
    #[error("at most {MAX_SCOPES} scopes")]
    TooManyScopes,
    #[error("public clients authenticate with `none`; `{0}` needs a confidential client")]
    PublicClientAuth(TokenEndpointAuthMethod),
    #[error("confidential clients must authenticate; `none` is for public clients")]
    ConfidentialWithoutAuth,
    #[error("public clients cannot use client_credentials")]
    PublicClientCredentials,
    #[error("authorization_code needs at least one redirect URI")]
    MissingRedirectUri,
    #[error("redirect URIs are only used by the authorization_code grant")]
    RedirectWithoutCode,
    #[error("refresh_token is only issued through authorization_code")]
    RefreshWithoutCode,
    #[error("at least one grant type is required")]
    NoGrantType,
    #[error("private_key_jwt needs a JWKS URI")]
    MissingJwksUri,
    #[error("a JWKS URI is only used with private_key_jwt")]
    JwksUriWithoutPrivateKeyJwt,
    #[error("JWKS URI must be https (or http on a loopback IP literal)")]
    InvalidJwksUri,
    #[error("introspection audience `{0}` must be an absolute http(s) URI without a fragment")]
    InvalidIntrospectionAudience(String),
    #[error("only confidential clients may introspect tokens")]
    PublicIntrospection,
    #[error("public clients must use PKCE; only a confidential client may set require_pkce = false")]
    PublicWithoutPkce,
    #[error("{which} lifetime must be between {min} and {max} seconds")]
    Lifetime { which: &'static str, min: u32, max: u32 },
}

/// What an admin asked for (CLI flags or API JSON); `None` means default.
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub name: String,
    pub client_type: Option<ClientType>,
    pub auth_method: Option<TokenEndpointAuthMethod>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub jwks_uri: Option<String>,
    pub access_token_ttl: Option<u32>,
    pub refresh_token_ttl: Option<u32>,
    pub id_token_ttl: Option<u32>,
    pub signing_alg: Option<SigningAlg>,
    pub consent_required: Option<bool>,
    /// Audiences whose tokens this client, as a resource server, may
    /// introspect (RFC 7662 §4); its own tokens it always may.
    pub introspection_audiences: Vec<String>,
    /// Whether `/authorize` demands an S256 `code_challenge`; default true.
    pub require_pkce: Option<bool>,
}

/// A registration that satisfies every rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ClientRegistration {
    pub name: String,
    pub client_type: ClientType,
    pub auth_method: TokenEndpointAuthMethod,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    pub jwks_uri: Option<String>,
    pub access_token_ttl: u32,
    pub refresh_token_ttl: u32,
    pub id_token_ttl: u32,
    pub signing_alg: SigningAlg,
    pub consent_required: bool,
    pub introspection_audiences: Vec<String>,
    /// False only for a confidential client whose relying party cannot do
    /// PKCE (RFC 9700 §2.1.1: its client authentication binds the code).
    pub require_pkce: bool,
}

impl ClientRegistration {
    /// Confidential clients get a server-generated secret (unless they
    /// authenticate with a key).
    pub fn needs_secret(&self) -> bool {
        matches!(
            self.auth_method,
            TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost
        )
    }
}

impl ClientSpec {
    /// Applies defaults and checks every rule.
    pub fn validate(self) -> Result<ClientRegistration, ClientError> {
        use GrantType::*;
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(ClientError::InvalidName);
        }
        let client_type = self.client_type.unwrap_or(match self.auth_method {
            Some(TokenEndpointAuthMethod::None) => ClientType::Public,
            _ => ClientType::Confidential,
        });
        let auth_method = match (client_type, self.auth_method) {
            (ClientType::Public, None | Some(TokenEndpointAuthMethod::None)) => TokenEndpointAuthMethod::None,
            (ClientType::Public, Some(m)) => return Err(ClientError::PublicClientAuth(m)),
            (ClientType::Confidential, Some(TokenEndpointAuthMethod::None)) => {
                return Err(ClientError::ConfidentialWithoutAuth);
            }
            (ClientType::Confidential, m) => m.unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic),
        };

        let redirect_uris =
            uris(&self.redirect_uris, client_type, |uri, reason| ClientError::RedirectUri { uri, reason })?;
        let post_logout_redirect_uris = uris(&self.post_logout_redirect_uris, client_type, |uri, reason| {
            ClientError::PostLogoutRedirectUri { uri, reason }
        })?;

        let mut grant_types = dedup(self.grant_types);
        if grant_types.is_empty() {
            grant_types = if redirect_uris.is_empty() {
                if client_type == ClientType::Public {
                    return Err(ClientError::MissingRedirectUri);
                }
                vec![ClientCredentials]
            } else {
                vec![AuthorizationCode, RefreshToken]
            };
        }
        let has = |g| grant_types.contains(&g);
        if client_type == ClientType::Public && has(ClientCredentials) {
            return Err(ClientError::PublicClientCredentials);
        }
        if has(AuthorizationCode) && redirect_uris.is_empty() {
            return Err(ClientError::MissingRedirectUri);
        }
        let registers_uris = !redirect_uris.is_empty() || !post_logout_redirect_uris.is_empty();
        if registers_uris && !has(AuthorizationCode) {
            return Err(ClientError::RedirectWithoutCode);
        }
        if has(RefreshToken) && !has(AuthorizationCode) {
            return Err(ClientError::RefreshWithoutCode);
        }

        let mut scopes = dedup(self.scopes);
        if scopes.is_empty() && has(AuthorizationCode) {
            scopes = ["openid", "profile", "email"].map(String::from).to_vec();
            if has(RefreshToken) {
                scopes.push("offline_access".into());
            }
        }
        if scopes.len() > MAX_SCOPES {
            return Err(ClientError::TooManyScopes);
        }
        if let Some(bad) = scopes.iter().find(|s| !is_scope_token(s)) {
            return Err(ClientError::InvalidScope(bad.clone()));
        }

        let jwks_uri = match (auth_method, self.jwks_uri) {
            (TokenEndpointAuthMethod::PrivateKeyJwt, None) => return Err(ClientError::MissingJwksUri),
            (TokenEndpointAuthMethod::PrivateKeyJwt, Some(u)) => {
                // Same transport rules as a redirect URI, minus custom schemes.
                redirect_uri::validate_registered(&u, ClientType::Confidential)
                    .map_err(|_| ClientError::InvalidJwksUri)?;
                Some(u)
            }
            (_, Some(_)) => return Err(ClientError::JwksUriWithoutPrivateKeyJwt),
            (_, None) => None,
        };

        let introspection_audiences = dedup(self.introspection_audiences);
        if introspection_audiences.len() > MAX_URIS {
            return Err(ClientError::TooManyUris);
        }
        if let Some(bad) = introspection_audiences.iter().find(|a| !is_audience(a)) {
            return Err(ClientError::InvalidIntrospectionAudience(bad.clone()));
        }
        if client_type == ClientType::Public && !introspection_audiences.is_empty() {
            return Err(ClientError::PublicIntrospection);
        }
        let require_pkce = self.require_pkce.unwrap_or(true);
        if client_type == ClientType::Public && !require_pkce {
            return Err(ClientError::PublicWithoutPkce);
        }

        Ok(ClientRegistration {
            name,
            client_type,
            auth_method,
            redirect_uris,
            post_logout_redirect_uris,
            grant_types,
            scopes,
            jwks_uri,
            access_token_ttl: lifetime("access token", self.access_token_ttl, DEFAULT_ACCESS_TOKEN_TTL, 60, 86_400)?,
            refresh_token_ttl: lifetime(
                "refresh token",
                self.refresh_token_ttl,
                DEFAULT_REFRESH_TOKEN_TTL,
                300,
                31_536_000,
            )?,
            id_token_ttl: lifetime("ID token", self.id_token_ttl, DEFAULT_ID_TOKEN_TTL, 60, 86_400)?,
            signing_alg: self.signing_alg.unwrap_or(SigningAlg::Es256),
            consent_required: self.consent_required.unwrap_or(true),
            introspection_audiences,
            require_pkce,
        })
    }
}

fn uris(
    raw: &[String],
    ty: ClientType,
    err: impl Fn(String, RedirectUriError) -> ClientError,
) -> Result<Vec<RedirectUri>, ClientError> {
    if raw.len() > MAX_URIS {
        return Err(ClientError::TooManyUris);
    }
    let mut out: Vec<RedirectUri> = Vec::with_capacity(raw.len());
    for u in raw {
        let v = redirect_uri::validate_registered(u, ty).map_err(|reason| err(u.clone(), reason))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// An `aud` value a resource server may be registered for: an absolute
/// http(s) URI (RFC 8707 §2 resource form), no fragment, at most 512 bytes.
fn is_audience(a: &str) -> bool {
    a.len() <= 512
        && url::Url::parse(a)
            .is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.has_host() && u.fragment().is_none())
}

fn dedup<T: PartialEq>(items: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn lifetime(which: &'static str, v: Option<u32>, default: u32, min: u32, max: u32) -> Result<u32, ClientError> {
    match v {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(ClientError::Lifetime { which, min, max }),
    }
}

#[cfg(test)]
mod tests;
