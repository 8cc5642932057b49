//! A refresh token family: the chain of tokens one authorization grant
//! rotates through. The family, not the token row, says what is live.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_families")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub client_id: String,
    pub user_id: String,
    /// Hash of the one refresh token that may be used now; `None` once the
    /// grant continues without one (scope narrowed below `offline_access`).
    pub current_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub rotated_at: Option<DateTimeUtc>,
    /// Hash of the token the last rotation spent (for the reuse grace).
    pub previous_hash: Option<String>,
    /// The current token's expiry: after it the row is purged.
    pub expires_at: DateTimeUtc,
    /// Set once, never cleared: a revoked family never regains life.
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
