//! Failed logins per trusted device (a device cookie), and lockouts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "device_lockouts")]
pub struct Model {
    /// SHA-256 of the device cookie's nonce.
    #[sea_orm(primary_key, auto_increment = false)]
    pub device_id: String,
    pub user_id: String,
    pub failures: i32,
    pub window_start: DateTimeUtc,
    pub lockouts: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
