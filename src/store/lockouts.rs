//! Repository for failed-login counts and lockouts: one budget for the
//! devices an account has never signed in from, one per trusted device.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::account_lockouts::{self as lockouts, Entity as Lockouts, Model};
use entity::device_lockouts::{self as devices, Entity as Devices};
use entity::users::Entity as Users;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _,
};

/// Whose failures a sign-in attempt counts toward (OWASP device cookies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget<'a> {
    /// Every device that has not completed a sign-in to the account: what
    /// an attacker guesses from. Its lock is "the account is locked".
    Unknown { user_id: &'a str },
    /// One device that has (a valid device cookie), with its own budget.
    Device { user_id: &'a str, device_id: &'a str },
}

/// A budget's stored state; `accounts::lockout` decides the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub failures: i32,
    pub window_start: DateTime<Utc>,
    pub lockouts: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl From<&Model> for Counter {
    fn from(m: &Model) -> Self {
        Self { failures: m.failures, window_start: m.window_start, lockouts: m.lockouts, locked_until: m.locked_until }
    }
}

impl From<&devices::Model> for Counter {
    fn from(m: &devices::Model) -> Self {
        Self { failures: m.failures, window_start: m.window_start, lockouts: m.lockouts, locked_until: m.locked_until }
    }
}

/// The budget's state, if it has recorded anything.
pub async fn read(db: &DatabaseConnection, budget: Budget<'_>) -> Result<Option<Counter>, StoreError> {
    Ok(match budget {
        Budget::Unknown { user_id } => {
            Lockouts::find_by_id(user_id.to_owned()).one(db).await?.as_ref().map(Counter::from)
        }
        Budget::Device { device_id, .. } => {
            Devices::find_by_id(device_id.to_owned()).one(db).await?.as_ref().map(Counter::from)
        }
    })
}

/// Until when the budget is locked, if it is.
pub async fn locked_until(
    db: &DatabaseConnection,
    budget: Budget<'_>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(read(db, budget).await?.and_then(|r| r.locked_until).filter(|t| *t > now))
}

/// Writes `new` if the row still holds `old` (or, with no `old`, does not
/// exist yet); false if another writer got there first. One conditional
/// statement on the state read, not a read-then-write transaction, which
/// SQLite would refuse at once under a concurrent writer.
pub async fn write_if_unchanged(
    db: &DatabaseConnection,
    budget: Budget<'_>,
    old: Option<&Counter>,
    new: &Counter,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    macro_rules! cas {
        ($old:ident, $entity:ident, $m:ident, $key:ident, $id:expr) => {
            $entity::update_many()
                .col_expr($m::Column::Failures, Expr::value(new.failures))
                .col_expr($m::Column::WindowStart, Expr::value(new.window_start))
                .col_expr($m::Column::Lockouts, Expr::value(new.lockouts))
                .col_expr($m::Column::LockedUntil, Expr::value(new.locked_until))
                .col_expr($m::Column::UpdatedAt, Expr::value(now))
                .filter($m::Column::$key.eq($id))
                .filter($m::Column::Failures.eq($old.failures))
                .filter($m::Column::Lockouts.eq($old.lockouts))
                .filter($m::Column::WindowStart.eq($old.window_start))
                .exec(db)
                .await?
                .rows_affected
        };
    }
    if let Some(old) = old {
        let updated = match budget {
            Budget::Unknown { user_id } => cas!(old, Lockouts, lockouts, UserId, user_id),
            Budget::Device { device_id, .. } => cas!(old, Devices, devices, DeviceId, device_id),
        };
        return Ok(updated == 1);
    }
    let inserted = match budget {
        Budget::Unknown { user_id } => {
            let am = lockouts::ActiveModel {
                user_id: Set(user_id.to_owned()),
                failures: Set(new.failures),
                window_start: Set(new.window_start),
                lockouts: Set(new.lockouts),
                locked_until: Set(new.locked_until),
                updated_at: Set(now),
            };
            Lockouts::insert(am)
                .on_conflict(OnConflict::column(lockouts::Column::UserId).do_nothing().to_owned())
                .exec_without_returning(db)
                .await
        }
        Budget::Device { user_id, device_id } => {
            let am = devices::ActiveModel {
                device_id: Set(device_id.to_owned()),
                user_id: Set(user_id.to_owned()),
                failures: Set(new.failures),
                window_start: Set(new.window_start),
                lockouts: Set(new.lockouts),
                locked_until: Set(new.locked_until),
                updated_at: Set(now),
            };
            Devices::insert(am)
                .on_conflict(OnConflict::column(devices::Column::DeviceId).do_nothing().to_owned())
                .exec_without_returning(db)
                .await
        }
    };
    match inserted {
        Ok(n) => Ok(n == 1),
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Forgets one budget's failures and lockouts (a completed sign-in from
/// it): a success on a trusted device leaves the unknown devices' lock in
/// place, or the attacker could resume as soon as the owner signs in.
pub async fn clear_budget(db: &DatabaseConnection, budget: Budget<'_>) -> Result<(), StoreError> {
    match budget {
        Budget::Unknown { user_id } => Lockouts::delete_by_id(user_id.to_owned()).exec(db).await?,
        Budget::Device { device_id, .. } => Devices::delete_by_id(device_id.to_owned()).exec(db).await?,
    };
    Ok(())
}

/// Forgets every failure and lockout of the account, on every device (an
/// administrator's unlock); returns whether the account was locked.
pub async fn clear(db: &DatabaseConnection, user_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    use sea_orm::PaginatorTrait as _;
    let locked_devices = Devices::find()
        .filter(devices::Column::UserId.eq(user_id))
        .filter(devices::Column::LockedUntil.gt(now))
        .count(db)
        .await?;
    let was = locked_until(db, Budget::Unknown { user_id }, now).await?.is_some() || locked_devices > 0;
    Lockouts::delete_by_id(user_id.to_owned()).exec(db).await?;
    Devices::delete_many().filter(devices::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(was)
}

/// Accounts locked now, with their usernames, soonest unlock first (two
/// queries, however many are locked).
pub async fn current(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<Vec<(Model, String)>, StoreError> {
    use entity::users::Column as UserColumn;
    let locked = Lockouts::find()
        .filter(lockouts::Column::LockedUntil.gt(now))
        .order_by_asc(lockouts::Column::LockedUntil)
        .all(db)
        .await?;
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    let names: std::collections::HashMap<String, String> = Users::find()
        .filter(UserColumn::Id.is_in(locked.iter().map(|l| l.user_id.clone())))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    Ok(locked
        .into_iter()
        .map(|l| {
            let name = names.get(&l.user_id).cloned().unwrap_or_default();
            (l, name)
        })
        .collect())
}
