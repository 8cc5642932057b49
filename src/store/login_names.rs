//! Repository for sign-in names: one row per key, whatever kind, so the
//! primary key is the login namespace's uniqueness on every engine. Written
//! in the same transaction as the account it names.

use super::is_unique_violation;
use entity::login_names::{self as names, Entity as LoginNames};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _};

/// Which of an account's names another account holds already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Username,
    Email,
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("the name is another account's")]
    Taken(Taken),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Makes `username` (and `email`, when it is a sign-in name other than the
/// username) the account's sign-in names, replacing any it had. Run inside
/// the transaction that writes the account: a failure must undo it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    user_id: &str,
    username: &str,
    email: Option<&str>,
) -> Result<(), ClaimError> {
    LoginNames::delete_many().filter(names::Column::UserId.eq(user_id)).exec(db).await?;
    insert(db, user_id, username, "username").await.map_err(|e| taken(e, Taken::Username))?;
    if let Some(email) = email.filter(|e| *e != username) {
        insert(db, user_id, email, "email").await.map_err(|e| taken(e, Taken::Email))?;
    }
    Ok(())
}

async fn insert<C: ConnectionTrait>(db: &C, user_id: &str, name: &str, kind: &str) -> Result<(), DbErr> {
    let row =
        names::ActiveModel { name: Set(name.to_owned()), user_id: Set(user_id.to_owned()), kind: Set(kind.into()) };
    LoginNames::insert(row).exec_without_returning(db).await.map(|_| ())
}

fn taken(e: DbErr, which: Taken) -> ClaimError {
    if is_unique_violation(&e) { ClaimError::Taken(which) } else { ClaimError::Db(e) }
}

/// The account a sign-in name belongs to.
pub async fn owner<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<String>, DbErr> {
    Ok(LoginNames::find_by_id(key.to_owned()).one(db).await?.map(|n| n.user_id))
}
