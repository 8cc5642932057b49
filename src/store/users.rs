//! Repository for users. Usernames are looked up by their normalized form so
//! that uniqueness and lookups agree on every engine.

use super::StoreError;
use super::login_names::{self, ClaimError, Taken};
use chrono::{DateTime, Utc};
use entity::users::{self, ActiveModel, Column, Entity as Users, Model};
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _, SqlErr, TransactionTrait as _,
};

/// Failures specific to the users table.
#[derive(Debug, thiserror::Error)]
pub enum UserStoreError {
    #[error("username already taken")]
    UsernameTaken,
    #[error("email already another account's sign-in name")]
    EmailTaken,
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for UserStoreError {
    fn from(e: sea_orm::DbErr) -> Self {
        UserStoreError::Store(StoreError::Db(e))
    }
}

/// A user row to insert; values are already validated by `accounts`.
#[derive(Clone)]
pub struct NewUserRow {
    pub id: String,
    pub username: String,
    pub username_normalized: String,
    pub email: Option<String>,
    /// The email's sign-in key, when it can be one.
    pub login_email: Option<String>,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub is_admin: bool,
}

/// Inserts the user and claims its sign-in names, in one transaction.
pub async fn insert(db: &DatabaseConnection, row: NewUserRow, now: DateTime<Utc>) -> Result<Model, UserStoreError> {
    let (id, key, login_email) = (row.id.clone(), row.username_normalized.clone(), row.login_email.clone());
    let found_by = super::user_search::search_terms(&key, row.email.as_deref(), &[row.display_name.as_deref()]);
    let model = ActiveModel {
        id: Set(row.id),
        username: Set(row.username),
        username_normalized: Set(row.username_normalized),
        email: Set(row.email),
        display_name: Set(row.display_name),
        password_hash: Set(row.password_hash),
        active: Set(true),
        is_admin: Set(row.is_admin),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    let tx = db.begin().await?;
    let user = Users::insert(model).exec_with_returning(&tx).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => UserStoreError::UsernameTaken,
        _ => e.into(),
    })?;
    login_names::claim(&tx, &id, &key, login_email.as_deref()).await.map_err(|e| match e {
        ClaimError::Taken(Taken::Username) => UserStoreError::UsernameTaken,
        ClaimError::Taken(Taken::Email) => UserStoreError::EmailTaken,
        ClaimError::Db(e) => e.into(),
    })?;
    super::user_search::put_terms(&tx, &id, found_by).await?;
    tx.commit().await?;
    Ok(user)
}

/// The account a sign-in name (a username or a login email, by its key)
/// belongs to.
pub async fn find_by_login_name(db: &DatabaseConnection, key: &str) -> Result<Option<Model>, UserStoreError> {
    match login_names::owner(db, key).await? {
        Some(id) => find_by_id(db, &id).await,
        None => Ok(None),
    }
}

pub async fn find_by_id(db: &DatabaseConnection, id: &str) -> Result<Option<Model>, UserStoreError> {
    Ok(Users::find_by_id(id.to_owned()).one(db).await?)
}

pub async fn find_by_username(db: &DatabaseConnection, normalized: &str) -> Result<Option<Model>, UserStoreError> {
    Ok(Users::find().filter(Column::UsernameNormalized.eq(normalized)).one(db).await?)
}

/// A page of users ordered by creation (then id, for a stable order).
pub async fn list(db: &DatabaseConnection, offset: u64, limit: u64) -> Result<Vec<Model>, UserStoreError> {
    Ok(Users::find()
        .order_by_asc(Column::CreatedAt)
        .order_by_asc(Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?)
}

pub async fn count(db: &DatabaseConnection) -> Result<u64, UserStoreError> {
    Ok(Users::find().count(db).await?)
}

/// Sets `active`, bumping the version only when the value changes.
pub async fn set_active(
    db: &DatabaseConnection,
    id: &str,
    active: bool,
    now: DateTime<Utc>,
) -> Result<Model, UserStoreError> {
    set_active_if(db, id, active, None, now).await.map(|(m, _)| m)
}

/// `set_active`, only while the account is still at `version` (when
/// given): the check and the write are one statement. Answers the account
/// as it now is and whether this call changed it.
pub async fn set_active_if(
    db: &DatabaseConnection,
    id: &str,
    active: bool,
    version: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(Model, bool), UserStoreError> {
    let mut update = Users::update_many()
        .col_expr(Column::Active, Expr::value(active))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Active.ne(active));
    if let Some(v) = version {
        update = update.filter(Column::Version.eq(v));
    }
    let changed = update.exec(db).await?.rows_affected > 0;
    Ok((find_by_id(db, id).await?.ok_or(UserStoreError::NotFound)?, changed))
}

pub async fn set_password_hash(
    db: &DatabaseConnection,
    id: &str,
    hash: String,
    now: DateTime<Utc>,
) -> Result<Model, UserStoreError> {
    let res = Users::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(UserStoreError::NotFound);
    }
    find_by_id(db, id).await?.ok_or(UserStoreError::NotFound)
}

/// Whether any user exists; the bootstrap admin is only made when none does.
pub async fn any_exists(db: &DatabaseConnection) -> Result<bool, UserStoreError> {
    Ok(Users::find().select_only().column(users::Column::Id).limit(1).into_tuple::<String>().one(db).await?.is_some())
}
