//! Every sign-in name (a username or a login email) by its normalised key,
//! unique across all accounts: one login namespace.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_names")]
pub struct Model {
    /// The key (RFC 8265 UsernameCaseMapped, see `accounts::identifiers`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub user_id: String,
    /// `username` or `email`.
    pub kind: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
