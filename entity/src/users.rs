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
    // SCIM (RFC 7643 §4.1 and the enterprise extension §4.3); `scim::user`
    // maps each to its attribute.
    pub external_id: Option<String>,
    pub name_formatted: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
    pub nick_name: Option<String>,
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub manager_id: Option<String>,
    /// Created over SCIM: the only accounts a SCIM token may change.
    pub scim_managed: bool,
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
