//! Issuing and revoking SCIM bearer tokens, for the CLI and the admin API
//! alike: a token is shown once, at creation, and kept only as a keyed
//! hash; revocation takes effect on the next request (`auth` reads the
//! store every time).

use crate::crypto::SecretHasher;
use crate::store::Db;
use crate::store::StoreError;
use crate::store::scim::ScimStoreError;
use crate::store::scim::tokens as store;
use chrono::{DateTime, Utc};
use entity::scim_tokens::Model as Token;
use zeroize::Zeroizing;

/// Prefix that makes a leaked token recognisable to secret scanners.
pub const PREFIX: &str = "gh_scim_";
/// Longest name, in characters.
pub const MAX_NAME: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a name must be 1 to 128 printable characters")]
    InvalidName,
    #[error("a SCIM token named {0:?} already exists")]
    Taken(String),
    #[error("no such SCIM token")]
    NotFound,
    #[error("no randomness for a token: {0}")]
    Random(#[from] crate::crypto::RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn store_error(e: ScimStoreError) -> TokenError {
    match e {
        ScimStoreError::NotFound => TokenError::NotFound,
        ScimStoreError::Store(s) => TokenError::Store(s),
        other => TokenError::Store(StoreError::Db(sea_orm::DbErr::Custom(other.to_string()))),
    }
}

/// A token just made: the only time its value exists outside the caller.
pub struct Issued {
    pub row: Token,
    pub token: Zeroizing<String>,
}

/// Makes a token for the provisioning client called `name` (trimmed).
pub async fn issue(db: &Db, hasher: &SecretHasher, name: &str, now: DateTime<Utc>) -> Result<Issued, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(TokenError::InvalidName);
    }
    let secret = crate::crypto::secret_hash::generate_secret()?;
    let token = Zeroizing::new(format!("{PREFIX}{}", secret.as_str()));
    let row = Token {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        token_hash: hasher.hash(&token),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    store::insert_token(db, row.clone()).await.map_err(|e| match e {
        ScimStoreError::Taken => TokenError::Taken(name.to_owned()),
        other => store_error(other),
    })?;
    Ok(Issued { row, token })
}

/// Every token, oldest first, revoked ones included.
pub async fn list(db: &Db) -> Result<Vec<Token>, TokenError> {
    store::list_tokens(db).await.map_err(store_error)
}

/// Revokes the token with this id or name; returns its name, and whether
/// it was live until now.
pub async fn revoke(db: &Db, id_or_name: &str, now: DateTime<Utc>) -> Result<(String, bool), TokenError> {
    store::revoke_token(db, id_or_name, now).await.map_err(store_error)
}
