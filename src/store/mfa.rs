//! Repository for second factors (TOTP, recovery codes) and login
//! challenges. Every "use once" rule is a single conditional UPDATE or
//! DELETE whose affected-row count decides: two concurrent requests with
//! the same code cannot both win.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::login_challenges::{self as challenges, Entity as Challenges};
use entity::mfa_recovery_codes::{self as recovery, Entity as RecoveryCodes};
use entity::mfa_totp::{self as totp, Entity as Totp};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, DatabaseConnection, EntityTrait as _, IntoActiveModel as _,
    PaginatorTrait as _, QueryFilter as _, TransactionTrait as _,
};

/// What a user has enrolled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Factors {
    /// A confirmed TOTP authenticator.
    pub totp: Option<totp::Model>,
    /// Passkeys and security keys.
    pub webauthn: u64,
    pub recovery_codes_left: u64,
}

impl Factors {
    /// Whether the user has a factor to be asked for (recovery codes alone
    /// are a way back in, not a factor one enrols).
    pub fn any(&self) -> bool {
        self.totp.is_some() || self.webauthn > 0
    }
}

pub async fn factors(db: &DatabaseConnection, user_id: &str) -> Result<Factors, StoreError> {
    let totp = Totp::find_by_id(user_id.to_owned()).filter(totp::Column::ConfirmedAt.is_not_null()).one(db).await?;
    Ok(Factors {
        totp,
        webauthn: super::webauthn::count_credentials(db, user_id).await?,
        recovery_codes_left: recovery_codes_left(db, user_id).await?,
    })
}

/// The TOTP row, confirmed or still pending.
pub async fn find_totp(db: &DatabaseConnection, user_id: &str) -> Result<Option<totp::Model>, StoreError> {
    Ok(Totp::find_by_id(user_id.to_owned()).one(db).await?)
}

/// Starts (or restarts) a TOTP enrolment with a new sealed seed. `false`
/// if the user already has a confirmed authenticator (remove it first).
pub async fn begin_totp(
    db: &DatabaseConnection,
    user_id: &str,
    secret_sealed: &str,
    pending_for: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Totp::delete_many()
        .filter(totp::Column::UserId.eq(user_id))
        .filter(totp::Column::ConfirmedAt.is_null())
        .exec(db)
        .await?;
    let row = totp::Model {
        user_id: user_id.to_owned(),
        secret_sealed: secret_sealed.to_owned(),
        created_at: now,
        confirmed_at: None,
        pending_for: Some(pending_for.to_owned()),
        last_used_step: None,
        last_used_at: None,
    };
    match Totp::insert(row.into_active_model()).exec_without_returning(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Confirms a pending enrolment with the step its first code matched;
/// only the seed that code was checked against (a restarted enrolment
/// replaces it).
pub async fn confirm_totp(
    db: &DatabaseConnection,
    user_id: &str,
    secret_sealed: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let res = Totp::update_many()
        .col_expr(totp::Column::ConfirmedAt, Expr::value(now))
        .col_expr(totp::Column::PendingFor, Expr::value(Option::<String>::None))
        .col_expr(totp::Column::LastUsedStep, Expr::value(step))
        .col_expr(totp::Column::LastUsedAt, Expr::value(now))
        .filter(totp::Column::UserId.eq(user_id))
        .filter(totp::Column::ConfirmedAt.is_null())
        .filter(totp::Column::SecretSealed.eq(secret_sealed))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Spends a time step: `false` if this step or a later one was used
/// already (a replayed or older code).
pub async fn use_totp_step(
    db: &DatabaseConnection,
    user_id: &str,
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let res = Totp::update_many()
        .col_expr(totp::Column::LastUsedStep, Expr::value(step))
        .col_expr(totp::Column::LastUsedAt, Expr::value(now))
        .filter(totp::Column::UserId.eq(user_id))
        .filter(totp::Column::ConfirmedAt.is_not_null())
        .filter(Condition::any().add(totp::Column::LastUsedStep.is_null()).add(totp::Column::LastUsedStep.lt(step)))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Removes the authenticator app; the recovery codes go with it when no
/// passkey is left for them to back up.
pub async fn remove_totp(db: &DatabaseConnection, user_id: &str) -> Result<bool, StoreError> {
    let removed = Totp::delete_by_id(user_id.to_owned()).exec(db).await?.rows_affected > 0;
    drop_orphaned_recovery_codes(db, user_id).await?;
    Ok(removed)
}

/// Recovery codes back up a factor; with none left they would be a
/// password-equivalent second secret, so they go.
pub async fn drop_orphaned_recovery_codes(db: &DatabaseConnection, user_id: &str) -> Result<(), StoreError> {
    if !factors(db, user_id).await?.any() {
        RecoveryCodes::delete_many().filter(recovery::Column::UserId.eq(user_id)).exec(db).await?;
    }
    Ok(())
}

/// Replaces the user's recovery codes with a new set (hashes).
pub async fn replace_recovery_codes(
    db: &DatabaseConnection,
    user_id: &str,
    hashes: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    RecoveryCodes::delete_many().filter(recovery::Column::UserId.eq(user_id)).exec(&txn).await?;
    let rows = hashes.iter().map(|h| recovery::ActiveModel {
        user_id: Set(user_id.to_owned()),
        code_hash: Set(h.clone()),
        created_at: Set(now),
        used_at: Set(None),
    });
    RecoveryCodes::insert_many(rows).exec_without_returning(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Spends a recovery code: `true` exactly once per code.
pub async fn use_recovery_code(
    db: &DatabaseConnection,
    user_id: &str,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let res = RecoveryCodes::update_many()
        .col_expr(recovery::Column::UsedAt, Expr::value(now))
        .filter(recovery::Column::UserId.eq(user_id))
        .filter(recovery::Column::CodeHash.eq(code_hash))
        .filter(recovery::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn recovery_codes_left(db: &DatabaseConnection, user_id: &str) -> Result<u64, StoreError> {
    Ok(RecoveryCodes::find()
        .filter(recovery::Column::UserId.eq(user_id))
        .filter(recovery::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Removes every factor and pending login of a user (admin reset, or the
/// user removing their last factor). Returns what was removed.
pub async fn reset(db: &DatabaseConnection, user_id: &str) -> Result<Factors, StoreError> {
    let before = factors(db, user_id).await?;
    Totp::delete_many().filter(totp::Column::UserId.eq(user_id)).exec(db).await?;
    RecoveryCodes::delete_many().filter(recovery::Column::UserId.eq(user_id)).exec(db).await?;
    Challenges::delete_many().filter(challenges::Column::UserId.eq(user_id)).exec(db).await?;
    super::webauthn::delete_user_credentials(db, user_id).await?;
    Ok(before)
}

pub async fn insert_challenge(db: &DatabaseConnection, row: challenges::Model) -> Result<(), StoreError> {
    Challenges::insert(row.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// The live challenge with this id hash.
pub async fn find_challenge(
    db: &DatabaseConnection,
    id_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<challenges::Model>, StoreError> {
    Ok(Challenges::find_by_id(id_hash.to_owned()).filter(challenges::Column::ExpiresAt.gt(now)).one(db).await?)
}

/// Reserves one attempt at a challenge before the answer is checked, so
/// that concurrent requests cannot exceed `max_attempts` between them.
/// `false` if the challenge is gone, expired or used up.
pub async fn reserve_attempt(
    db: &DatabaseConnection,
    id_hash: &str,
    max_attempts: i32,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let res = Challenges::update_many()
        .col_expr(challenges::Column::Failures, Expr::col(challenges::Column::Failures).add(1))
        .filter(challenges::Column::IdHash.eq(id_hash))
        .filter(challenges::Column::Failures.lt(max_attempts))
        .filter(challenges::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// After a wrong answer: ends the challenge if its attempts are used up
/// (the password is then asked again). Returns whether it survives.
pub async fn survives_failure(db: &DatabaseConnection, id_hash: &str, max_attempts: i32) -> Result<bool, StoreError> {
    let res = Challenges::delete_many()
        .filter(challenges::Column::IdHash.eq(id_hash))
        .filter(challenges::Column::Failures.gte(max_attempts))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 0)
}

/// Consumes a challenge: `true` for the one request that completes it.
pub async fn take_challenge(db: &DatabaseConnection, id_hash: &str) -> Result<bool, StoreError> {
    Ok(Challenges::delete_by_id(id_hash.to_owned()).exec(db).await?.rows_affected == 1)
}

/// Expired login challenges, and TOTP enrolments abandoned for a day
/// (their seeds were shown but never confirmed).
pub async fn purge_challenges(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let challenges =
        Challenges::delete_many().filter(challenges::Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected;
    let pending = Totp::delete_many()
        .filter(totp::Column::ConfirmedAt.is_null())
        .filter(totp::Column::CreatedAt.lt(now - chrono::Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected;
    Ok(challenges + pending)
}
