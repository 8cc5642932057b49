//! Remembered consent: the scopes a person approved for a client with
//! "remember this choice", so the consent page is not shown again for them.

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
