//! Repository for WebAuthn credentials and ceremonies in flight. A
//! ceremony is taken (deleted) by the one request that finishes it.

use super::StoreError;
use chrono::{DateTime, Utc};
use entity::webauthn_ceremonies::{self as ceremonies, Entity as Ceremonies};
use entity::webauthn_credentials::{self as creds, Entity as Credentials};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _, PaginatorTrait as _,
    QueryFilter as _, QueryOrder as _,
};

/// `false` if the credential id is registered already (to anyone).
pub async fn insert_credential(db: &DatabaseConnection, row: creds::Model) -> Result<bool, StoreError> {
    match Credentials::insert(row.into_active_model()).exec_without_returning(db).await {
        Ok(_) => Ok(true),
        Err(e) if super::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A user's credentials, oldest first.
pub async fn user_credentials(db: &DatabaseConnection, user_id: &str) -> Result<Vec<creds::Model>, StoreError> {
    Ok(Credentials::find()
        .filter(creds::Column::UserId.eq(user_id))
        .order_by_asc(creds::Column::CreatedAt)
        .all(db)
        .await?)
}

pub async fn count_credentials(db: &DatabaseConnection, user_id: &str) -> Result<u64, StoreError> {
    Ok(Credentials::find().filter(creds::Column::UserId.eq(user_id)).count(db).await?)
}

pub async fn find_credential(db: &DatabaseConnection, cred_id: &str) -> Result<Option<creds::Model>, StoreError> {
    Ok(Credentials::find_by_id(cred_id.to_owned()).one(db).await?)
}

/// Records a use: the updated counter and backup state (when they
/// changed) and the time.
pub async fn record_use(
    db: &DatabaseConnection,
    cred_id: &str,
    passkey: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut q = Credentials::update_many().col_expr(creds::Column::LastUsedAt, Expr::value(now));
    if let Some(p) = passkey {
        q = q.col_expr(creds::Column::Passkey, Expr::value(p));
    }
    q.filter(creds::Column::CredId.eq(cred_id)).exec(db).await?;
    Ok(())
}

/// Removes one of the user's credentials; `false` if it was not theirs.
pub async fn delete_credential(db: &DatabaseConnection, user_id: &str, cred_id: &str) -> Result<bool, StoreError> {
    Ok(Credentials::delete_many()
        .filter(creds::Column::UserId.eq(user_id))
        .filter(creds::Column::CredId.eq(cred_id))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn delete_user_credentials(db: &DatabaseConnection, user_id: &str) -> Result<u64, StoreError> {
    Ceremonies::delete_many().filter(ceremonies::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(Credentials::delete_many().filter(creds::Column::UserId.eq(user_id)).exec(db).await?.rows_affected)
}

pub async fn insert_ceremony(db: &DatabaseConnection, row: ceremonies::Model) -> Result<(), StoreError> {
    Ceremonies::insert(row.into_active_model()).exec_without_returning(db).await?;
    Ok(())
}

/// Takes a live ceremony: only one request gets it.
pub async fn take_ceremony(
    db: &DatabaseConnection,
    id_hash: &str,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Option<ceremonies::Model>, StoreError> {
    let Some(row) = Ceremonies::find_by_id(id_hash.to_owned())
        .filter(ceremonies::Column::Purpose.eq(purpose))
        .filter(ceremonies::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let gone = Ceremonies::delete_by_id(id_hash.to_owned()).exec(db).await?.rows_affected == 1;
    Ok(gone.then_some(row))
}

/// Unexpired ceremonies of one purpose.
pub async fn live_ceremonies(db: &DatabaseConnection, purpose: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(Ceremonies::find()
        .filter(ceremonies::Column::Purpose.eq(purpose))
        .filter(ceremonies::Column::ExpiresAt.gt(now))
        .count(db)
        .await?)
}

pub async fn purge_ceremonies(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(Ceremonies::delete_many().filter(ceremonies::Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected)
}
