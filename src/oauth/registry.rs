//! The client registry: create, read, update, delete and rotate secrets.
//! Shared by the CLI and (later) the admin API; validation is
//! [`ClientSpec::validate`], storage is `store::clients`.

use super::client::{
    ClientError, ClientRegistration, ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod,
};
use super::redirect_uri::RedirectUri;
use crate::crypto::SecretHasher;
use crate::crypto::secret_hash::generate_secret;
use crate::store::clients::{self as repo, ClientStoreError};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};
use entity::clients::Model;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Invalid(#[from] ClientError),
    #[error("no such client")]
    NotFound,
    #[error("the client changed concurrently; retry")]
    Conflict,
    #[error("the client is at version {0}, not the one given")]
    VersionMismatch(i64),
    #[error("client {0} does not authenticate with a secret")]
    NoSecret(String),
    #[error("stored client {id} is unreadable: {what}")]
    Corrupt { id: String, what: String },
    #[error("operating system randomness failed")]
    Random,
    #[error(transparent)]
    Store(StoreError),
    /// Not cached, and the database is known to be down.
    #[error("the database is unavailable")]
    Unavailable,
}

impl From<ClientStoreError> for RegistryError {
    fn from(e: ClientStoreError) -> Self {
        match e {
            ClientStoreError::NotFound => RegistryError::NotFound,
            ClientStoreError::Conflict => RegistryError::Conflict,
            // A random 128-bit id colliding is not a realistic event.
            ClientStoreError::Duplicate => RegistryError::Conflict,
            ClientStoreError::Store(s) => RegistryError::Store(s),
        }
    }
}

/// A stored client.
#[derive(Debug, Clone)]
pub struct Client {
    pub client_id: String,
    pub registration: ClientRegistration,
    pub secret_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Client {
    /// The client as the CLI and the admin API show it: RFC 7591 field
    /// names where one exists. The secret appears only when it was just
    /// generated; its hash never appears.
    pub fn view(&self, secret: Option<&str>) -> ClientView {
        let r = &self.registration;
        ClientView {
            client_id: self.client_id.clone(),
            client_name: r.name.clone(),
            client_type: r.client_type,
            token_endpoint_auth_method: r.auth_method,
            redirect_uris: r.redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            post_logout_redirect_uris: r.post_logout_redirect_uris.iter().map(|u| u.as_str().to_owned()).collect(),
            grant_types: r.grant_types.clone(),
            scope: r.scopes.join(" "),
            jwks_uri: r.jwks_uri.clone(),
            access_token_lifetime: r.access_token_ttl,
            refresh_token_lifetime: r.refresh_token_ttl,
            id_token_lifetime: r.id_token_ttl,
            id_token_signed_response_alg: r.signing_alg,
            consent_required: r.consent_required,
            introspection_audiences: r.introspection_audiences.clone(),
            require_pkce: r.require_pkce,
            created_at: self.created_at.to_rfc3339(),
            updated_at: self.updated_at.to_rfc3339(),
            version: self.version,
            client_secret: secret.map(str::to_owned),
        }
    }

    /// RP-initiated logout may return only to a registered post-logout
    /// URI, compared exactly (no prefix or normalisation).
    pub fn post_logout_allowed(&self, uri: &str) -> bool {
        self.registration.post_logout_redirect_uris.iter().any(|r| r.as_str() == uri)
    }
}

/// A client as `client show --json` and the admin API show it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub client_name: String,
    pub client_type: ClientType,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    /// Space-separated.
    pub scope: String,
    pub jwks_uri: Option<String>,
    /// Seconds.
    pub access_token_lifetime: u32,
    pub refresh_token_lifetime: u32,
    pub id_token_lifetime: u32,
    pub id_token_signed_response_alg: SigningAlg,
    pub consent_required: bool,
    pub introspection_audiences: Vec<String>,
    pub require_pkce: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Its ETag is `"v<version>"`.
    pub version: i64,
    /// Only in the answer that generated it: shown once, stored hashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// Changes to a registration; `None` keeps the current value, lists replace.
#[derive(Debug, Clone, Default)]
pub struct ClientChange {
    pub name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<GrantType>>,
    pub scopes: Option<Vec<String>>,
    pub auth_method: Option<TokenEndpointAuthMethod>,
    pub jwks_uri: Option<Option<String>>,
    pub access_token_ttl: Option<u32>,
    pub refresh_token_ttl: Option<u32>,
    pub id_token_ttl: Option<u32>,
    pub signing_alg: Option<SigningAlg>,
    pub consent_required: Option<bool>,
    pub introspection_audiences: Option<Vec<String>>,
    pub require_pkce: Option<bool>,
    /// Apply only if the stored version is this one (HTTP `If-Match`).
    pub if_version: Option<i64>,
}

/// Registers a client; returns the secret (shown once) when it has one.
pub async fn create_client(
    db: &Db,
    hasher: &SecretHasher,
    spec: ClientSpec,
    now: DateTime<Utc>,
) -> Result<(Client, Option<Zeroizing<String>>), RegistryError> {
    let registration = spec.validate()?;
    let client_id = crate::crypto::random_token(16).map_err(|_| RegistryError::Random)?;
    let secret =
        if registration.needs_secret() { Some(generate_secret().map_err(|_| RegistryError::Random)?) } else { None };
    let client = Client {
        client_id,
        secret_hash: secret.as_ref().map(|s| hasher.hash(s)),
        registration,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let stored = repo::insert(db, to_model(&client)).await?;
    Ok((from_model(stored)?, secret))
}

pub async fn get_client(db: &Db, client_id: &str) -> Result<Client, RegistryError> {
    from_model(repo::find(db, client_id).await?)
}

pub async fn list_clients(db: &Db, offset: u64, limit: u64) -> Result<(Vec<Client>, u64), RegistryError> {
    let rows = repo::list(db, offset, limit).await?;
    let total = repo::count(db).await?;
    Ok((rows.into_iter().map(from_model).collect::<Result<_, _>>()?, total))
}

/// Applies a change. A client that starts needing a secret gets a new one
/// (returned, shown once); one that stops needing it loses its hash.
pub async fn update_client(
    db: &Db,
    hasher: &SecretHasher,
    client_id: &str,
    change: ClientChange,
    now: DateTime<Utc>,
) -> Result<(Client, Option<Zeroizing<String>>), RegistryError> {
    let current = get_client(db, client_id).await?;
    if change.if_version.is_some_and(|v| v != current.version) {
        return Err(RegistryError::VersionMismatch(current.version));
    }
    let r = &current.registration;
    let uris = |v: &[RedirectUri]| v.iter().map(|u| u.as_str().to_owned()).collect::<Vec<_>>();
    let spec = ClientSpec {
        name: change.name.unwrap_or_else(|| r.name.clone()),
        client_type: Some(match change.auth_method {
            Some(TokenEndpointAuthMethod::None) => ClientType::Public,
            Some(_) => ClientType::Confidential,
            None => r.client_type,
        }),
        auth_method: Some(change.auth_method.unwrap_or(r.auth_method)),
        redirect_uris: change.redirect_uris.unwrap_or_else(|| uris(&r.redirect_uris)),
        post_logout_redirect_uris: change
            .post_logout_redirect_uris
            .unwrap_or_else(|| uris(&r.post_logout_redirect_uris)),
        grant_types: change.grant_types.unwrap_or_else(|| r.grant_types.clone()),
        scopes: change.scopes.unwrap_or_else(|| r.scopes.clone()),
        jwks_uri: change.jwks_uri.unwrap_or_else(|| r.jwks_uri.clone()),
        access_token_ttl: Some(change.access_token_ttl.unwrap_or(r.access_token_ttl)),
        refresh_token_ttl: Some(change.refresh_token_ttl.unwrap_or(r.refresh_token_ttl)),
        id_token_ttl: Some(change.id_token_ttl.unwrap_or(r.id_token_ttl)),
        signing_alg: Some(change.signing_alg.unwrap_or(r.signing_alg)),
        consent_required: Some(change.consent_required.unwrap_or(r.consent_required)),
        introspection_audiences: change.introspection_audiences.unwrap_or_else(|| r.introspection_audiences.clone()),
        require_pkce: Some(change.require_pkce.unwrap_or(r.require_pkce)),
    };
    let registration = spec.validate()?;
    let (secret_hash, secret) = match (registration.needs_secret(), current.secret_hash) {
        (true, Some(h)) => (Some(h), None),
        (true, None) => {
            let s = generate_secret().map_err(|_| RegistryError::Random)?;
            (Some(hasher.hash(&s)), Some(s))
        }
        (false, _) => (None, None),
    };
    let updated = Client {
        client_id: current.client_id,
        registration,
        secret_hash,
        created_at: current.created_at,
        updated_at: now,
        version: current.version + 1,
    };
    let stored = repo::update(db, to_model(&updated)).await?;
    Ok((from_model(stored)?, secret))
}

/// Replaces the secret; the old one stops working at once.
pub async fn rotate_secret(
    db: &Db,
    hasher: &SecretHasher,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<(Client, Zeroizing<String>), RegistryError> {
    let mut client = get_client(db, client_id).await?;
    if !client.registration.needs_secret() {
        return Err(RegistryError::NoSecret(client.client_id));
    }
    let secret = generate_secret().map_err(|_| RegistryError::Random)?;
    client.secret_hash = Some(hasher.hash(&secret));
    client.updated_at = now;
    client.version += 1;
    let stored = repo::update(db, to_model(&client)).await?;
    Ok((from_model(stored)?, secret))
}

pub async fn delete_client(db: &Db, client_id: &str) -> Result<(), RegistryError> {
    Ok(repo::delete(db, client_id).await?)
}

fn to_model(c: &Client) -> Model {
    let r = &c.registration;
    Model {
        id: c.client_id.clone(),
        name: r.name.clone(),
        client_type: r.client_type.as_str().to_owned(),
        auth_method: r.auth_method.as_str().to_owned(),
        secret_hash: c.secret_hash.clone(),
        redirect_uris: json_list(&r.redirect_uris),
        post_logout_redirect_uris: json_list(&r.post_logout_redirect_uris),
        grant_types: json_list(&r.grant_types),
        scopes: json_list(&r.scopes),
        jwks_uri: r.jwks_uri.clone(),
        access_token_ttl: ttl(r.access_token_ttl),
        refresh_token_ttl: ttl(r.refresh_token_ttl),
        id_token_ttl: ttl(r.id_token_ttl),
        signing_alg: r.signing_alg.as_str().to_owned(),
        consent_required: r.consent_required,
        introspection_audiences: json_list(&r.introspection_audiences),
        require_pkce: r.require_pkce,
        created_at: c.created_at,
        updated_at: c.updated_at,
        version: c.version,
    }
}

/// Rebuilds the typed registration from a row, re-validating it: a row
/// edited by hand into something invalid is reported, not trusted.
fn from_model(m: Model) -> Result<Client, RegistryError> {
    let corrupt = |what: &str| RegistryError::Corrupt { id: m.id.clone(), what: what.to_owned() };
    let list = |text: &str, what: &str| serde_json::from_str::<Vec<String>>(text).map_err(|_| corrupt(what));
    let spec = ClientSpec {
        name: m.name.clone(),
        client_type: Some(m.client_type.parse().map_err(|_| corrupt("client_type"))?),
        auth_method: Some(m.auth_method.parse().map_err(|_| corrupt("auth_method"))?),
        redirect_uris: list(&m.redirect_uris, "redirect_uris")?,
        post_logout_redirect_uris: list(&m.post_logout_redirect_uris, "post_logout_redirect_uris")?,
        grant_types: serde_json::from_str(&m.grant_types).map_err(|_| corrupt("grant_types"))?,
        scopes: list(&m.scopes, "scopes")?,
        jwks_uri: m.jwks_uri.clone(),
        access_token_ttl: u32::try_from(m.access_token_ttl).ok(),
        refresh_token_ttl: u32::try_from(m.refresh_token_ttl).ok(),
        id_token_ttl: u32::try_from(m.id_token_ttl).ok(),
        signing_alg: Some(m.signing_alg.parse().map_err(|_| corrupt("signing_alg"))?),
        consent_required: Some(m.consent_required),
        introspection_audiences: list(&m.introspection_audiences, "introspection_audiences")?,
        require_pkce: Some(m.require_pkce),
    };
    let registration = spec.validate().map_err(|e| corrupt(&e.to_string()))?;
    Ok(Client {
        client_id: m.id,
        registration,
        secret_hash: m.secret_hash,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

fn ttl(v: u32) -> i32 {
    // Validation caps lifetimes at one year, far below i32::MAX.
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Serializes a list column; serializing strings cannot fail.
fn json_list<T: serde::Serialize>(v: &[T]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}
