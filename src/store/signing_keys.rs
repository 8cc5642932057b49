//! Repository for signing keys. Writes that must not race across
//! instances run inside [`super::locked_transaction`].

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::signing_keys::{ActiveModel, Column, Entity as SigningKeys, Model};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, IntoActiveModel as _, QueryFilter as _, QueryOrder as _,
};

pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<Model>, StoreError> {
    Ok(SigningKeys::find().order_by_asc(Column::ActivatesAt).order_by_asc(Column::Kid).all(db).await?)
}

pub async fn insert<C: ConnectionTrait>(db: &C, row: Model) -> Result<(), StoreError> {
    let am: ActiveModel = row.into_active_model();
    SigningKeys::insert(am).exec_without_returning(db).await?;
    Ok(())
}

/// Schedules `kid` to stop signing at `retires_at` and leave the JWKS at
/// `expires_at`.
pub async fn schedule_retirement<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    retires_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    SigningKeys::update_many()
        .col_expr(Column::RetiresAt, Expr::value(retires_at))
        .col_expr(Column::ExpiresAt, Expr::value(expires_at))
        .filter(Column::Kid.eq(kid))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a key revoked; returns false when no such (unrevoked) key exists.
pub async fn revoke<C: ConnectionTrait>(db: &C, kid: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let res = SigningKeys::update_many()
        .col_expr(Column::RevokedAt, Expr::value(at))
        .col_expr(Column::AnnouncedState, Expr::value("revoked"))
        .filter(Column::Kid.eq(kid))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Moves `kid`'s announced state from `from` to `to`; false if another
/// instance got there first (it records the audit event, not us).
pub async fn claim_announcement<C: ConnectionTrait>(
    db: &C,
    kid: &str,
    from: Option<&str>,
    to: &str,
) -> Result<bool, StoreError> {
    let from_matches = match from {
        Some(s) => Column::AnnouncedState.eq(s),
        None => Column::AnnouncedState.is_null(),
    };
    let res = SigningKeys::update_many()
        .col_expr(Column::AnnouncedState, Expr::value(to))
        .filter(Column::Kid.eq(kid))
        .filter(from_matches)
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes keys that left the JWKS before `before`.
pub async fn purge_expired<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let res = SigningKeys::delete_many().filter(Column::ExpiresAt.lt(before)).exec(db).await?;
    Ok(res.rows_affected)
}
