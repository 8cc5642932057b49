//! The server half of a WebAuthn ceremony between its two requests.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    /// SHA-256 of the ceremony id the browser holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    /// Whose ceremony (none for a passwordless login, which learns it).
    pub user_id: Option<String>,
    /// `register`, `second_factor` or `passwordless`.
    pub purpose: String,
    /// webauthn-rs's ceremony state as JSON (holds the challenge).
    pub state: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
