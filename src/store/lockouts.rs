//! Repository for per-account failed-login counts and lockouts.

use super::StoreError;
use crate::accounts::lockout::LockoutPolicy;
use chrono::{DateTime, Utc};
use entity::account_lockouts::{self as lockouts, Entity as Lockouts, Model};
use entity::users::Entity as Users;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

/// Until when the account is locked, if it is.
pub async fn locked_until(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(Lockouts::find_by_id(user_id.to_owned()).one(db).await?.and_then(|r| r.locked_until).filter(|t| *t > now))
}

/// Counts a failure; returns the lock's end when this failure locked the
/// account. Each write is one conditional statement on the state it read
/// (retried if another failure got there first): no read-then-write
/// transaction, which SQLite would refuse at once under a concurrent writer.
pub async fn record_failure(
    db: &DatabaseConnection,
    user_id: &str,
    now: DateTime<Utc>,
    policy: &LockoutPolicy,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    if policy.threshold == 0 {
        return Ok(None);
    }
    for _ in 0..8 {
        let row = Lockouts::find_by_id(user_id.to_owned()).one(db).await?;
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
        let written = match row {
            Some(old) => {
                Lockouts::update_many()
                    .col_expr(lockouts::Column::Failures, Expr::value(r.failures))
                    .col_expr(lockouts::Column::WindowStart, Expr::value(r.window_start))
                    .col_expr(lockouts::Column::Lockouts, Expr::value(r.lockouts))
                    .col_expr(lockouts::Column::LockedUntil, Expr::value(r.locked_until))
                    .col_expr(lockouts::Column::UpdatedAt, Expr::value(now))
                    .filter(lockouts::Column::UserId.eq(user_id))
                    .filter(lockouts::Column::Failures.eq(old.failures))
                    .filter(lockouts::Column::Lockouts.eq(old.lockouts))
                    .filter(lockouts::Column::WindowStart.eq(old.window_start))
                    .exec(db)
                    .await?
                    .rows_affected
            }
            None => {
                let am = lockouts::ActiveModel {
                    user_id: Set(r.user_id),
                    failures: Set(r.failures),
                    window_start: Set(r.window_start),
                    lockouts: Set(r.lockouts),
                    locked_until: Set(r.locked_until),
                    updated_at: Set(now),
                };
                match Lockouts::insert(am)
                    .on_conflict(OnConflict::column(lockouts::Column::UserId).do_nothing().to_owned())
                    .exec_without_returning(db)
                    .await
                {
                    Ok(n) => n,
                    Err(sea_orm::DbErr::RecordNotInserted) => 0,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        if written == 1 {
            return Ok(locked);
        }
    }
    tracing::warn!(user_id, "failed login not counted toward lockout: too much contention");
    Ok(None)
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
