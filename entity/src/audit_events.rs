//! Append-only record of who did what. Rows are never updated or deleted by
//! application code, and each is chained to the previous one by hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurred_at: DateTimeUtc,
    /// Who: `user:<id>`, `client:<id>`, `cli`, `system`.
    pub actor: String,
    /// What, as a dotted verb: `user.created`, `user.disabled`, ...
    pub action: String,
    pub target: Option<String>,
    /// `success` or `failure`.
    pub outcome: String,
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// Hex SHA-256 of the previous row (`0`×64 for the first); `None` only
    /// on rows written before the chain existed.
    pub prev_hash: Option<String>,
    /// Hex SHA-256 over `prev_hash` and this row's canonical content.
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
