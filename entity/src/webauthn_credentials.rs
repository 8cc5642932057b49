//! A registered passkey or security key.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_credentials")]
pub struct Model {
    /// The credential id, base64url.
    #[sea_orm(primary_key, auto_increment = false)]
    pub cred_id: String,
    pub user_id: String,
    /// The owner's name for it ("Work laptop").
    pub name: String,
    /// webauthn-rs's `Passkey` as JSON: public key, counter, backup state.
    pub passkey: String,
    /// Whether it can sign in without a username (a resident key).
    pub discoverable: bool,
    /// Synced (a software key) rather than bound to one device.
    pub backup_eligible: bool,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
