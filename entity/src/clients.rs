//! OAuth client registrations. List-valued fields are JSON arrays in text
//! columns: the same on every engine, and never queried by element.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    /// The `client_id`: 128 random bits, base64url.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// `confidential` or `public`.
    pub client_type: String,
    /// `client_secret_basic`, `client_secret_post`, `private_key_jwt` or `none`.
    pub auth_method: String,
    /// Keyed hash of the client secret; the secret itself is never stored.
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub jwks_uri: Option<String>,
    pub access_token_ttl: i32,
    pub refresh_token_ttl: i32,
    pub id_token_ttl: i32,
    pub signing_alg: String,
    pub consent_required: bool,
    /// JSON array: audiences whose access tokens this client may introspect.
    pub introspection_audiences: String,
    /// Whether `/authorize` demands an S256 `code_challenge` (RFC 7636).
    pub require_pkce: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
