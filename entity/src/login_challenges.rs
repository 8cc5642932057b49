//! A login that passed its first factor and waits for the second (or for
//! the enrolment of one). Not a session: it grants nothing by itself.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_challenges")]
pub struct Model {
    /// SHA-256 of the challenge cookie.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_hash: String,
    pub user_id: String,
    /// `verify` (use an enrolled factor) or `enrol` (policy demands one).
    pub purpose: String,
    /// Methods already passed, space-separated (RFC 8176 values).
    pub amr: String,
    /// When the first factor was passed.
    pub auth_time: DateTimeUtc,
    /// The authorization request to resume (query string), or empty.
    pub request: String,
    pub failures: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
