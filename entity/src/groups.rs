//! Groups of users; provisioned over SCIM and the source of the `groups` claim.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub display_name: String,
    /// Lower-cased `display_name`; unique, so names are unique case-insensitively.
    #[sea_orm(unique)]
    pub display_name_normalized: String,
    pub external_id: Option<String>,
    pub scim_managed: bool,
    /// Members are administrators: SCIM may never change such a group.
    pub grants_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
