//! Repository for revoked access tokens.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::revoked_tokens::{ActiveModel, Column, Entity as Revoked};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};

/// Records a revocation; revoking twice is not an error.
pub async fn insert(
    db: &DatabaseConnection,
    jti: &str,
    client_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = ActiveModel {
        jti: Set(jti.to_owned()),
        client_id: Set(client_id.to_owned()),
        revoked_at: Set(now),
        expires_at: Set(expires_at),
    };
    Revoked::insert(row)
        .on_conflict(OnConflict::column(Column::Jti).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Revokes many tokens at once: `(jti, client_id, expires_at)` each.
/// Already revoked ones are left as they are.
pub async fn insert_many(
    db: &impl sea_orm::ConnectionTrait,
    tokens: &[(String, String, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    let rows = tokens.iter().map(|(jti, client_id, expires_at)| ActiveModel {
        jti: Set(jti.clone()),
        client_id: Set(client_id.clone()),
        revoked_at: Set(now),
        expires_at: Set(*expires_at),
    });
    Revoked::insert_many(rows)
        .on_conflict(OnConflict::column(Column::Jti).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn is_revoked(db: &DatabaseConnection, jti: &str) -> Result<bool, StoreError> {
    Ok(Revoked::find_by_id(jti.to_owned()).one(db).await?.is_some())
}

/// `(jti, exp as unix seconds)` of unexpired tokens revoked at or after
/// `since` (pass `None` for all of them).
pub async fn revoked_since(
    db: &DatabaseConnection,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut q = Revoked::find().filter(Column::ExpiresAt.gt(now));
    if let Some(since) = since {
        q = q.filter(Column::RevokedAt.gte(since));
    }
    Ok(q.all(db).await?.into_iter().map(|r| (r.jti, r.expires_at.timestamp())).collect())
}

/// Deletes revocations of tokens that have expired anyway.
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(Revoked::delete_many().filter(Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected)
}
