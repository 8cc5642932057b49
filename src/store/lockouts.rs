//! Repository for per-account failed-login counts and lockouts.

use super::StoreError;
use crate::accounts::lockout::LockoutPolicy;
use chrono::{DateTime, Utc};
use entity::account_lockouts::{self as lockouts, Entity as Lockouts, Model};
use entity::users::Entity as Users;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    TransactionTrait as _,
};

/// Until when the account is locked, if it is.
pub async fn locked_until(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(Lockouts::find_by_id(user_id.to_owned()).one(db).await?.and_then(|r| r.locked_until).filter(|t| *t > now))
}

/// Counts a failure; returns the lock's end when this failure locked the account.
pub async fn record_failure(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
    policy: &LockoutPolicy,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    if policy.threshold == 0 {
        return Ok(None);
    }
    let tx = db.begin().await?;
    let row = Lockouts::find_by_id(user_id.to_owned()).one(&tx).await?;
    let mut r = row.clone().unwrap_or(Model {
        user_id: user_id.to_owned(),
        failures: 0,
        window_start: now,
        lockouts: 0,
        locked_until: None,
        updated_at: now,
    });
    if now - r.window_start > policy.window {
        r.failures = 0;
        r.window_start = now;
    }
    r.failures = r.failures.saturating_add(1);
    r.updated_at = now;
    let mut locked = None;
    if u32::try_from(r.failures).unwrap_or(u32::MAX) >= policy.threshold {
        r.lockouts = r.lockouts.saturating_add(1);
        let until = now + policy.backoff(u32::try_from(r.lockouts).unwrap_or(u32::MAX));
        r.locked_until = Some(until);
        r.failures = 0;
        r.window_start = now;
        locked = Some(until);
    }
    let am = lockouts::ActiveModel {
        user_id: Set(r.user_id),
        failures: Set(r.failures),
        window_start: Set(r.window_start),
        lockouts: Set(r.lockouts),
        locked_until: Set(r.locked_until),
        updated_at: Set(r.updated_at),
    };
    if row.is_some() {
        Lockouts::update(am).exec(&tx).await?;
    } else {
        Lockouts::insert(am).exec_without_returning(&tx).await?;
    }
    tx.commit().await?;
    Ok(locked)
}

/// Forgets failures and lockouts (a successful login or an unlock);
/// returns whether the account was locked.
pub async fn clear(db: &DatabaseConnection, user_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let was = locked_until(db, user_id, now).await?.is_some();
    Lockouts::delete_by_id(user_id.to_owned()).exec(db).await?;
    Ok(was)
}

/// Accounts locked now, with their usernames, soonest unlock first.
pub async fn current(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<(Model, String)>, StoreError> {
    let locked = Lockouts::find()
        .filter(lockouts::Column::LockedUntil.gt(now))
        .order_by_asc(lockouts::Column::LockedUntil)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(locked.len());
    for l in locked {
        let name = Users::find_by_id(l.user_id.clone()).one(db).await?.map(|u| u.username).unwrap_or_default();
        out.push((l, name));
    }
    Ok(out)
}
