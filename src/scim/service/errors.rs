//! How storage and account failures read on the SCIM wire.

use crate::accounts::users::AccountError;
use crate::scim::error::{ScimError, ScimType};
use crate::store::scim::ScimStoreError;

impl From<ScimStoreError> for ScimError {
    fn from(e: ScimStoreError) -> Self {
        match e {
            ScimStoreError::Taken => ScimError::bad(ScimType::Uniqueness, "the name is already taken"),
            ScimStoreError::LoginTaken(crate::store::login_names::Taken::Username) => {
                ScimError::bad(ScimType::Uniqueness, "userName is already another account's sign-in name")
            }
            ScimStoreError::LoginTaken(crate::store::login_names::Taken::Email) => {
                ScimError::bad(ScimType::Uniqueness, "the primary email is already another account's sign-in name")
            }
            ScimStoreError::NotFound => ScimError::NotFound,
            ScimStoreError::Conflict => ScimError::PreconditionFailed,
            ScimStoreError::Store(s) => ScimError::internal(s),
        }
    }
}

pub(super) fn account_error(e: AccountError) -> ScimError {
    match e {
        AccountError::InvalidUsername(m) => ScimError::bad(ScimType::InvalidValue, format!("userName {m}")),
        AccountError::InvalidEmail => {
            ScimError::bad(ScimType::InvalidValue, "the primary email is not an email address")
        }
        AccountError::InvalidDisplayName(m) => ScimError::bad(ScimType::InvalidValue, format!("displayName {m}")),
        AccountError::PasswordTooLong => ScimError::bad(ScimType::InvalidValue, e.to_string()),
        AccountError::PasswordPolicy(problems) => ScimError::bad(
            ScimType::InvalidValue,
            format!(
                "password refused: {}",
                problems.iter().map(|p| format!("{} ({})", p.message, p.code)).collect::<Vec<_>>().join("; ")
            ),
        ),
        AccountError::UsernameTaken => ScimError::bad(ScimType::Uniqueness, "userName is already taken"),
        AccountError::EmailTaken => {
            ScimError::bad(ScimType::Uniqueness, "the primary email is already another account's sign-in name")
        }
        AccountError::NotFound => ScimError::NotFound,
        other => ScimError::internal(other),
    }
}
