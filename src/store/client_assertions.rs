//! Repository for used client assertions (replay protection).

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::client_assertions::{ActiveModel, Column, Entity as Used};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, QueryFilter as _};

/// Records a use; `false` if this (client, jti) was seen before. The
/// primary key decides, so concurrent uses on several instances cannot
/// both win.
pub async fn first_use(
    db: &DatabaseConnection,
    client_id: &str,
    jti_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let row = ActiveModel {
        client_id: Set(client_id.to_owned()),
        jti_hash: Set(jti_hash.to_owned()),
        expires_at: Set(expires_at),
    };
    let inserted = Used::insert(row)
        .on_conflict(OnConflict::columns([Column::ClientId, Column::JtiHash]).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(Used::delete_many().filter(Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected)
}
