//! JWS signing keys. Their lifecycle state is derived from the timestamps,
//! so every instance computes the same state from the same rows.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// RFC 7638 thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// PKCS#8, sealed with the master key (AES-256-GCM, kid as AAD).
    pub private_key: String,
    pub public_jwk: String,
    pub created_at: DateTimeUtc,
    /// Signs from this instant (published before it: the pre-publish window).
    pub activates_at: DateTimeUtc,
    /// Stops signing at this instant; `None` while no successor is scheduled.
    pub retires_at: Option<DateTimeUtc>,
    /// Leaves the JWKS at this instant (after every token it signed expired).
    pub expires_at: Option<DateTimeUtc>,
    /// Emergency revocation: out of the JWKS at once, its tokens inactive.
    pub revoked_at: Option<DateTimeUtc>,
    /// The state last recorded in the audit log (see `keys::ops::announce`).
    pub announced_state: Option<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
