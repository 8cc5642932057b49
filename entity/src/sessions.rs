//! Browser login sessions. The cookie holds a random secret; only its
//! SHA-256 is stored, so a copy of the database cannot be replayed as a
//! cookie. `sid` is a separate public id (the ID token's `sid` claim).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// Hex SHA-256 of the cookie secret.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub sid: String,
    pub user_id: String,
    pub auth_time: DateTimeUtc,
    /// Space-separated RFC 8176 values, e.g. `pwd`.
    pub amr: String,
    pub acr: String,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// Absolute end, whatever the activity.
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
