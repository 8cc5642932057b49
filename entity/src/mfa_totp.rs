//! A user's TOTP authenticator: the seed sealed with the master key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mfa_totp")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: String,
    /// Envelope-sealed seed, bound to the user id.
    pub secret_sealed: String,
    pub created_at: DateTimeUtc,
    /// Unset while enrolment waits for the first code.
    pub confirmed_at: Option<DateTimeUtc>,
    /// While pending: the login challenge or session (id hash) that asked
    /// for it; the seed is shown again to that requester only.
    pub pending_for: Option<String>,
    /// The last time step accepted: a code is good once, and never one
    /// older than it (RFC 6238 §5.2).
    pub last_used_step: Option<i64>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
