//! Repository for client registrations.

use super::StoreError;
use entity::clients::{ActiveModel, Column, Entity as Clients, Model};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, IntoActiveModel as _,
    PaginatorTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _, SqlErr,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientStoreError {
    #[error("no such client")]
    NotFound,
    #[error("client_id already exists")]
    Duplicate,
    #[error("the client changed concurrently; retry")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for ClientStoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ClientStoreError::Duplicate,
            _ => ClientStoreError::Store(StoreError::Db(e)),
        }
    }
}

pub async fn insert(db: &DatabaseConnection, row: Model) -> Result<Model, ClientStoreError> {
    Ok(Clients::insert(row.into_active_model()).exec_with_returning(db).await?)
}

pub async fn find(db: &DatabaseConnection, id: &str) -> Result<Model, ClientStoreError> {
    Clients::find_by_id(id.to_owned()).one(db).await?.ok_or(ClientStoreError::NotFound)
}

pub async fn list(db: &DatabaseConnection, offset: u64, limit: u64) -> Result<Vec<Model>, ClientStoreError> {
    // The driver binds signed 64-bit integers and panics past them; no
    // table has that many rows anyway.
    let (offset, limit) = (offset.min(i64::MAX as u64), limit.min(i64::MAX as u64));
    Ok(Clients::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn count(db: &DatabaseConnection) -> Result<u64, ClientStoreError> {
    Ok(Clients::find().count(db).await?)
}

/// Replaces every mutable column if the row is still at `row.version - 1`
/// (optimistic concurrency: two admins cannot silently overwrite each other).
pub async fn update(db: &DatabaseConnection, row: Model) -> Result<Model, ClientStoreError> {
    let expected = row.version - 1;
    let id = row.id.clone();
    // Every mutable column explicitly (a converted Model would be
    // "unchanged" and update nothing); id and created_at never change.
    let am = ActiveModel {
        name: Set(row.name),
        client_type: Set(row.client_type),
        auth_method: Set(row.auth_method),
        secret_hash: Set(row.secret_hash),
        redirect_uris: Set(row.redirect_uris),
        post_logout_redirect_uris: Set(row.post_logout_redirect_uris),
        grant_types: Set(row.grant_types),
        scopes: Set(row.scopes),
        jwks_uri: Set(row.jwks_uri),
        access_token_ttl: Set(row.access_token_ttl),
        refresh_token_ttl: Set(row.refresh_token_ttl),
        id_token_ttl: Set(row.id_token_ttl),
        signing_alg: Set(row.signing_alg),
        consent_required: Set(row.consent_required),
        introspection_audiences: Set(row.introspection_audiences),
        require_pkce: Set(row.require_pkce),
        updated_at: Set(row.updated_at),
        version: Set(row.version),
        ..Default::default()
    };
    let res = Clients::update_many()
        .set(am)
        .filter(Column::Id.eq(id.as_str()))
        .filter(Column::Version.eq(expected))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        find(db, &id).await?;
        return Err(ClientStoreError::Conflict);
    }
    find(db, &id).await
}

pub async fn delete(db: &DatabaseConnection, id: &str) -> Result<(), ClientStoreError> {
    let res = Clients::delete_by_id(id.to_owned()).exec(db).await?;
    if res.rows_affected == 0 {
        return Err(ClientStoreError::NotFound);
    }
    Ok(())
}
