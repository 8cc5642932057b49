//! SCIM bearer tokens, stored as keyed hashes.

use super::ScimStoreError;
use chrono::{DateTime, Utc};
use entity::scim_tokens::{self, Entity as ScimTokens};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _, QueryOrder as _};

pub async fn insert_token(db: &DatabaseConnection, row: scim_tokens::Model) -> Result<(), ScimStoreError> {
    ScimTokens::insert(scim_tokens::ActiveModel::from(row)).exec(db).await?;
    Ok(())
}

pub async fn list_tokens(db: &DatabaseConnection) -> Result<Vec<scim_tokens::Model>, ScimStoreError> {
    Ok(ScimTokens::find().order_by_asc(scim_tokens::Column::CreatedAt).all(db).await?)
}

/// Revokes by id or name; returns the token's name and whether this call
/// revoked it (false: it already was).
pub async fn revoke_token(
    db: &DatabaseConnection,
    id_or_name: &str,
    now: DateTime<Utc>,
) -> Result<(String, bool), ScimStoreError> {
    let row = ScimTokens::find()
        .filter(scim_tokens::Column::Id.eq(id_or_name).or(scim_tokens::Column::Name.eq(id_or_name)))
        .one(db)
        .await?
        .ok_or(ScimStoreError::NotFound)?;
    let done = ScimTokens::update_many()
        .col_expr(scim_tokens::Column::RevokedAt, Expr::value(now))
        .filter(scim_tokens::Column::Id.eq(row.id.clone()))
        .filter(scim_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok((row.name, done.rows_affected > 0))
}

/// The live token with this hash.
pub async fn find_token(db: &DatabaseConnection, hash: &str) -> Result<Option<scim_tokens::Model>, ScimStoreError> {
    Ok(ScimTokens::find()
        .filter(scim_tokens::Column::TokenHash.eq(hash))
        .filter(scim_tokens::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

/// Records use. The caller skips it when the recorded use is recent; the
/// condition keeps instances racing on the same token to one write.
pub async fn touch_token(db: &DatabaseConnection, id: &str, now: DateTime<Utc>) -> Result<(), ScimStoreError> {
    let stale = now - chrono::Duration::minutes(1);
    ScimTokens::update_many()
        .col_expr(scim_tokens::Column::LastUsedAt, Expr::value(now))
        .filter(scim_tokens::Column::Id.eq(id))
        .filter(scim_tokens::Column::LastUsedAt.is_null().or(scim_tokens::Column::LastUsedAt.lt(stale)))
        .exec(db)
        .await?;
    Ok(())
}
