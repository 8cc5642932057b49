//! Authorization codes, stored by hash, single use. A used code remembers
//! what was issued from it so that a replay can revoke it all.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authorization_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub sid: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    /// The S256 challenge (base64url of SHA-256 of the verifier).
    pub code_challenge: Option<String>,
    pub auth_time: DateTimeUtc,
    pub amr: String,
    pub acr: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub access_jti: Option<String>,
    pub access_expires_at: Option<DateTimeUtc>,
    pub refresh_family: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
