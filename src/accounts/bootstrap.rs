//! First start: when there is no user at all, create an administrator so
//! that someone can log in. Idempotent, and safe when instances race.

use super::password::PasswordHasher;
use super::users::{AccountError, NewUser, Password, Username, create_user};
use crate::store::Db;
use crate::store::users as repo;
use chrono::{DateTime, Utc};
use entity::users::Model as User;
use zeroize::Zeroizing;

pub const BOOTSTRAP_USERNAME: &str = "admin";

/// What the bootstrap did.
#[derive(Debug)]
pub enum Bootstrap {
    /// Users exist; nothing was created.
    NotNeeded,
    /// The admin was created with the configured password.
    CreatedWithConfiguredPassword(User),
    /// The admin was created with this generated password, which the caller
    /// must show exactly once (stderr, never a log line).
    CreatedWithGeneratedPassword(User, Zeroizing<String>),
}

pub async fn ensure_admin(
    db: &Db,
    hasher: &PasswordHasher,
    policy: &super::password_policy::PasswordPolicy,
    configured_password: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Bootstrap, AccountError> {
    if repo::any_exists(db).await? {
        return Ok(Bootstrap::NotNeeded);
    }
    let (password, generated) = match configured_password {
        Some(p) => (Password::parse(Zeroizing::new(p.to_owned()))?, false),
        None => {
            let token = crate::crypto::random_token(18)
                .map_err(|e| AccountError::Password(super::PasswordError::Hash(e.to_string())))?;
            (Password::parse(Zeroizing::new(token))?, true)
        }
    };
    let shown = generated.then(|| password_copy(&password));
    let new = NewUser {
        username: Username::parse(BOOTSTRAP_USERNAME)?,
        email: None,
        display_name: Some("Administrator".to_owned()),
        password: Some(password),
        is_admin: true,
    };
    match create_user(db, hasher, policy, new, now).await {
        Ok(user) => Ok(match shown {
            Some(pw) => Bootstrap::CreatedWithGeneratedPassword(user, pw),
            None => Bootstrap::CreatedWithConfiguredPassword(user),
        }),
        // Another instance won the race between our check and our insert.
        Err(AccountError::UsernameTaken) => Ok(Bootstrap::NotNeeded),
        Err(e) => Err(e),
    }
}

fn password_copy(p: &Password) -> Zeroizing<String> {
    Zeroizing::new(p.expose().to_owned())
}
