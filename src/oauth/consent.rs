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

/// A consent the person gave, for the account page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
}

/// The person's remembered consents, by client id; a client deleted since
/// is left out (its consent can no longer be used).
pub async fn granted(db: &Db, clients: &ClientCache, user_id: &str) -> Result<Vec<Granted>, RegistryError> {
    let mut out = Vec::new();
    for c in store::user_consents(db, user_id).await.map_err(RegistryError::Store)? {
        let client_name = match clients.get(db, &c.client_id).await {
            Ok(client) => client.registration.name.clone(),
            Err(RegistryError::NotFound) => continue,
            Err(e) => return Err(e),
        };
        out.push(Granted { client_id: c.client_id, client_name, scope: c.scope });
    }
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
