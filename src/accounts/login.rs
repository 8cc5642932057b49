//! Password login: the same answer, in about the same time, for a wrong
//! password, an unknown account and a disabled one (no user enumeration).

use super::password::{PasswordError, PasswordHasher, Verification};
use crate::store::Db;
use crate::store::users as repo;
use entity::users::Model as User;
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Shown to the person as one message whatever the reason; the reason
    /// is for the audit log.
    #[error("invalid credentials ({0})")]
    Invalid(&'static str),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("storage failure: {0}")]
    Store(String),
}

/// Checks `login` (a username, or an email address that belongs to exactly
/// one account) and `password`.
pub async fn authenticate(
    db: &Db,
    hasher: &PasswordHasher,
    login: &str,
    password: Zeroizing<String>,
) -> Result<User, LoginError> {
    let login = login.trim();
    let user = find(db, login).await?;
    let Some(user) = user else {
        hasher.burn(password).await?;
        return Err(LoginError::Invalid("unknown account"));
    };
    let Some(phc) = user.password_hash.clone() else {
        hasher.burn(password).await?;
        return Err(LoginError::Invalid("no password set"));
    };
    match hasher.verify(password, phc).await? {
        Verification::Valid { .. } if user.active => Ok(user),
        Verification::Valid { .. } => Err(LoginError::Invalid("account disabled")),
        Verification::Invalid => Err(LoginError::Invalid("wrong password")),
    }
}

async fn find(db: &Db, login: &str) -> Result<Option<User>, LoginError> {
    if login.is_empty() || login.len() > 320 {
        return Ok(None);
    }
    let by_name =
        repo::find_by_username(db, &login.to_lowercase()).await.map_err(|e| LoginError::Store(e.to_string()))?;
    if by_name.is_some() || !login.contains('@') {
        return Ok(by_name);
    }
    let mut by_email = repo::find_by_email(db, login).await.map_err(|e| LoginError::Store(e.to_string()))?;
    Ok(if by_email.len() == 1 { by_email.pop() } else { None })
}
