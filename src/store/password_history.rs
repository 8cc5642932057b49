//! Repository for password history (the no-reuse rule).

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::password_history::{ActiveModel, Column, Entity as History};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};

/// The `limit` newest replaced hashes of a user, newest first.
pub async fn recent(db: &DatabaseConnection, user_id: &str, limit: u64) -> Result<Vec<String>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let rows =
        History::find().filter(Column::UserId.eq(user_id)).order_by_desc(Column::Id).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(|r| r.password_hash).collect())
}

/// Records a replaced hash and keeps only the `keep` newest.
pub async fn push(
    db: &DatabaseConnection,
    user_id: &str,
    hash: &str,
    now: DateTime<Utc>,
    keep: u64,
) -> Result<(), StoreError> {
    if keep > 0 {
        let row = ActiveModel {
            id: NotSet,
            user_id: Set(user_id.to_owned()),
            password_hash: Set(hash.to_owned()),
            replaced_at: Set(now),
        };
        History::insert(row).exec_without_returning(db).await?;
    }
    let kept: Vec<i64> = History::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::UserId.eq(user_id))
        .order_by_desc(Column::Id)
        .limit(keep)
        .into_tuple()
        .all(db)
        .await?;
    History::delete_many().filter(Column::UserId.eq(user_id)).filter(Column::Id.is_not_in(kept)).exec(db).await?;
    Ok(())
}
