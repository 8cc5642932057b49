//! Remembered consent: the scopes a person approved for a client with
//! "remember this choice", so the consent page is not shown again for them;
//! the account page lists them and withdraws them.

use super::client_cache::ClientCache;
use super::registry::RegistryError;
use crate::store::sessions as store;
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};

/// The scopes remembered for this person and client, space-separated.
pub async fn remembered_scope(db: &Db, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
    Ok(store::find_consent(db, user_id, client_id).await?.map(|c| c.scope))
}

/// Remembers `scope` (replacing what was remembered before).
pub async fn remember(
    db: &Db,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    store::save_consent(db, user_id, client_id, scope, now).await
}

/// An application connected to the person's account, for the account
/// page: a remembered consent, a live refresh grant (it can act while the
/// person is away), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub client_id: String,
    pub client_name: String,
    /// The remembered scopes, space-separated; empty without a consent.
    pub scope: String,
    /// Holds a refresh token that is neither revoked nor expired.
    pub offline: bool,
}

/// The person's connected applications, by name; a client deleted since
/// is left out (its consent and grants can no longer be used).
pub async fn granted(
    db: &Db,
    clients: &ClientCache,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Granted>, RegistryError> {
    let consents = store::user_consents(db, user_id).await.map_err(RegistryError::Store)?;
    let live = crate::store::refresh::live_grant_clients(db, user_id, now).await.map_err(RegistryError::Store)?;
    let mut ids: Vec<&str> = consents.iter().map(|c| c.client_id.as_str()).collect();
    ids.extend(live.iter().map(String::as_str).filter(|c| !consents.iter().any(|k| k.client_id == *c)));
    let mut out = Vec::new();
    for id in ids {
        let client_name = match clients.get(db, id).await {
            Ok(client) => client.registration.name.clone(),
            Err(RegistryError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        let consent = consents.iter().find(|c| c.client_id == id);
        out.push(Granted {
            client_id: id.to_owned(),
            client_name,
            scope: consent.map(|c| c.scope.clone()).unwrap_or_default(),
            offline: live.iter().any(|c| c == id),
        });
    }
    out.sort_by_key(|g| g.client_name.to_lowercase());
    Ok(out)
}

/// Withdraws the person's consent for a client: forgets it and revokes the
/// client's refresh token families for them, with their access tokens.
/// Returns the revoked access tokens (`jti`, `exp`) for the in-memory list.
pub async fn withdraw(
    db: &Db,
    user_id: &str,
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    store::delete_consent(db, user_id, client_id).await?;
    crate::store::refresh::revoke_user_families(db, user_id, Some(client_id), now).await
}
