//! The administrator's view of the accounts: search with opaque keyset
//! cursors, and the bulk actions (activate, deactivate, unlock, reset
//! second factors, sign out everywhere) with a per-user outcome. The admin
//! API and console call this; the audit events are theirs to record.

use super::users::{self, AccountError};
pub use crate::store::user_search::UserFilter;
use crate::store::user_search::{self, Flags, search_word};
use crate::store::{Db, StoreError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entity::users::Model as User;

/// Largest page a search returns.
pub const MAX_PAGE: u64 = 200;
/// Most words a query may have; each narrows the result.
pub const MAX_WORDS: usize = 4;
/// Most users one bulk request may name.
pub const MAX_BULK: usize = 500;

/// The query words of a search string: lower-cased, at most `MAX_WORDS`.
pub fn query_words(q: &str) -> Result<Vec<String>, AccountError> {
    let words: Vec<String> = q.split_whitespace().map(search_word).filter(|w| !w.is_empty()).collect();
    if words.len() > MAX_WORDS {
        return Err(AccountError::InvalidQuery("at most 4 words"));
    }
    Ok(words)
}

/// Opaque to callers: where the next page starts.
pub fn encode_cursor(u: &User) -> String {
    URL_SAFE_NO_PAD.encode(format!("u1:{}", u.username_normalized))
}

fn decode_cursor(c: &str) -> Result<String, AccountError> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("u1:").map(str::to_owned))
        .ok_or(AccountError::InvalidCursor)
}

/// One page of a search.
pub struct Page {
    pub users: Vec<User>,
    pub flags: Flags,
    /// Present when more users may follow.
    pub next_cursor: Option<String>,
}

/// The users matching `filter` after `cursor`, `limit` at most.
pub async fn search(
    db: &Db,
    filter: &UserFilter,
    cursor: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> Result<Page, AccountError> {
    let after = cursor.map(decode_cursor).transpose()?;
    let limit = limit.clamp(1, MAX_PAGE);
    // One more than asked tells whether another page exists.
    let mut users =
        user_search::search(db, filter, after.as_deref(), limit + 1, now).await.map_err(StoreError::from)?;
    let more = users.len() as u64 > limit;
    users.truncate(limit as usize);
    let next_cursor = if more { users.last().map(encode_cursor) } else { None };
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let flags = user_search::flags(db, &ids, now).await.map_err(StoreError::from)?;
    Ok(Page { users, flags, next_cursor })
}

/// Locked out now: the account, or one of its devices.
pub async fn locked(db: &Db, user_id: &str, now: DateTime<Utc>) -> Result<bool, AccountError> {
    let flags =
        user_search::flags(db, std::slice::from_ref(&user_id.to_owned()), now).await.map_err(StoreError::from)?;
    Ok(!flags.locked.is_empty())
}

/// The display names of the user's groups, sorted.
pub async fn groups(db: &Db, user_id: &str) -> Result<Vec<String>, AccountError> {
    use crate::store::scim::ScimStoreError;
    crate::store::scim::groups::group_names(db, user_id).await.map_err(|e| match e {
        ScimStoreError::Store(s) => AccountError::Store(s),
        other => AccountError::Store(StoreError::Db(sea_orm::DbErr::Custom(other.to_string()))),
    })
}

/// The newest `limit` audit events by or about the user, newest first.
pub async fn recent_events(
    db: &Db,
    user_id: &str,
    limit: u64,
) -> Result<Vec<entity::audit_events::Model>, AccountError> {
    Ok(crate::store::audit::about_user(db, user_id, limit).await?)
}

/// What a bulk request does to each user it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Activate,
    Deactivate,
    Unlock,
    ResetSecondFactors,
    /// Ends browser sessions and revokes refresh tokens with their access
    /// tokens.
    SignOutEverywhere,
}

impl BulkAction {
    /// The audit action recorded for a user it changed.
    pub fn audit_action(self) -> &'static str {
        match self {
            BulkAction::Activate => "user.enabled",
            BulkAction::Deactivate => "user.disabled",
            BulkAction::Unlock => "account.unlocked",
            BulkAction::ResetSecondFactors => "mfa.reset",
            BulkAction::SignOutEverywhere => "user.signed_out_everywhere",
        }
    }
}

/// What happened to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Changed; its audit event is the caller's to record.
    Changed,
    /// Already so (active, unlocked, no factor): nothing written.
    Unchanged,
    NotFound,
}

/// One user's result, with the access tokens revoked on the way (for the
/// caller's in-memory revocation list).
pub struct Applied {
    pub outcome: Outcome,
    pub revoked: Vec<(String, i64)>,
}

/// Activates or deactivates one user, only while it is still at
/// `if_version` when given (`VersionMismatch` otherwise).
pub async fn set_active(
    db: &Db,
    user_id: &str,
    active: bool,
    if_version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Applied, AccountError> {
    let (user, changed) = crate::store::users::set_active_if(db, user_id, active, if_version, now).await?;
    if changed {
        let revoked = if active { Vec::new() } else { users::sign_out_everywhere(db, user_id, now).await? };
        return Ok(Applied { outcome: Outcome::Changed, revoked });
    }
    if if_version.is_some_and(|v| v != user.version) {
        return Err(AccountError::VersionMismatch);
    }
    Ok(Applied { outcome: Outcome::Unchanged, revoked: Vec::new() })
}

/// Applies `action` to one user.
pub async fn apply(db: &Db, action: BulkAction, user_id: &str, now: DateTime<Utc>) -> Result<Applied, AccountError> {
    use crate::store::sessions::{SessionSelector, end_sessions};
    let Some(user) = users::find(db, user_id).await? else {
        return Ok(Applied { outcome: Outcome::NotFound, revoked: Vec::new() });
    };
    let changed = |revoked| Applied { outcome: Outcome::Changed, revoked };
    let unchanged = Applied { outcome: Outcome::Unchanged, revoked: Vec::new() };
    Ok(match action {
        BulkAction::Activate | BulkAction::Deactivate => {
            set_active(db, &user.id, action == BulkAction::Activate, None, now).await?
        }
        BulkAction::Unlock => {
            if crate::store::lockouts::clear(db, &user.id, now).await? {
                changed(Vec::new())
            } else {
                unchanged
            }
        }
        BulkAction::ResetSecondFactors => {
            let removed = crate::store::mfa::reset(db, &user.id).await?;
            if removed.totp.is_none() && removed.webauthn == 0 && removed.recovery_codes_left == 0 {
                unchanged
            } else {
                // A session that passed the removed factor must not outlive it.
                end_sessions(db, &user.id, SessionSelector::All, now).await?;
                changed(Vec::new())
            }
        }
        BulkAction::SignOutEverywhere => changed(users::sign_out_everywhere(db, &user.id, now).await?),
    })
}
