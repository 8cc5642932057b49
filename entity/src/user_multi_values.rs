//! One element of a user's multi-valued SCIM attribute (`emails`,
//! `phoneNumbers`, `addresses`), one row each so a value filter is a
//! single-row condition.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_multi_values")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: String,
    /// The SCIM attribute name as the schema spells it, e.g. `emails`.
    pub attribute: String,
    /// Order within the attribute, as the client sent it.
    pub position: i32,
    pub value: Option<String>,
    /// `value` lower-cased: an index for the common `emails.value eq` lookup.
    pub value_ci: Option<String>,
    pub display: Option<String>,
    #[sea_orm(column_name = "type")]
    pub r#type: Option<String>,
    pub is_primary: bool,
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
