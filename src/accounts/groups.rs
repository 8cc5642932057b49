//! Groups as administrators see them: every group (SCIM-provisioned or
//! made here) with its size, its members a page at a time, and the
//! admin-granting mark.

use super::users::AccountError;
use crate::store::scim::{ScimStoreError, groups as store};
use crate::store::{Db, StoreError};
use chrono::{DateTime, Utc};
use entity::groups::Model as Group;

/// Largest page of members.
pub const MAX_MEMBERS_PAGE: u64 = 1000;

fn failure(e: ScimStoreError) -> AccountError {
    match e {
        ScimStoreError::NotFound => AccountError::NotFound,
        ScimStoreError::Conflict => AccountError::VersionMismatch,
        ScimStoreError::Store(s) => AccountError::Store(s),
        other => AccountError::Store(StoreError::Db(sea_orm::DbErr::Custom(other.to_string()))),
    }
}

/// Every group by name, with its member count.
pub async fn list(db: &Db) -> Result<Vec<(Group, u64)>, AccountError> {
    let groups = store::all(db).await.map_err(failure)?;
    let counts = store::member_counts(db).await.map_err(failure)?;
    Ok(groups.into_iter().map(|g| (g.clone(), counts.get(&g.id).copied().unwrap_or(0))).collect())
}

/// One group by id, with its member count.
pub async fn find(db: &Db, id: &str) -> Result<Option<(Group, u64)>, AccountError> {
    let Some(group) = store::find_any(db, id).await.map_err(failure)? else { return Ok(None) };
    let members = store::member_count(db, &group.id).await.map_err(failure)?;
    Ok(Some((group, members)))
}

/// Members after the member id `after`, in id order: (id, username).
pub async fn members(
    db: &Db,
    group_id: &str,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<(String, String)>, AccountError> {
    store::members_page(db, group_id, after, limit.clamp(1, MAX_MEMBERS_PAGE)).await.map_err(failure)
}

/// Sets or clears the admin-granting mark (SCIM can no longer change a
/// marked group); `if_version` makes it conditional.
/// Returns the group as it now is and whether this call changed it.
pub async fn set_grants_admin(
    db: &Db,
    id: &str,
    grants: bool,
    if_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Group, bool), AccountError> {
    let group = store::find_any(db, id).await.map_err(failure)?.ok_or(AccountError::NotFound)?;
    store::set_grants_admin(db, &group.id, grants, if_version, now).await.map_err(failure)
}
