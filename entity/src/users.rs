//! People who can log in (and, later, be provisioned over SCIM).

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// A UUID in its hyphenated text form: portable across engines and the
    /// same string SCIM and OIDC `sub` expose.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// As given by the person or provisioning system.
    pub username: String,
    /// Lower-cased `username`; its unique index makes usernames unique
    /// case-insensitively on every engine.
    #[sea_orm(unique)]
    pub username_normalized: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// PHC string (argon2id); `None` for users who cannot log in with a password.
    pub password_hash: Option<String>,
    pub active: bool,
    pub is_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Incremented on every change; the ETag of the user.
    pub version: i64,
}

// Hand-written so that a stray `{:?}` can never print the password hash.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("active", &self.active)
            .field("is_admin", &self.is_admin)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
