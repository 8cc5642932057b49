use sea_orm_migration::prelude::*;

/// Failed logins per trusted device (OWASP "device cookies"): a browser
/// that completed a sign-in for an account has its own failure budget, so
/// guessing from unknown devices (which lock only unknown devices, in
/// `account_lockouts`) cannot lock the owner out.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DeviceLockouts::Table)
                    .col(ColumnDef::new(DeviceLockouts::DeviceId).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(DeviceLockouts::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(DeviceLockouts::Failures).integer().not_null())
                    .col(ColumnDef::new(DeviceLockouts::WindowStart).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(DeviceLockouts::Lockouts).integer().not_null())
                    .col(ColumnDef::new(DeviceLockouts::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(DeviceLockouts::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(DeviceLockouts::Table, DeviceLockouts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_device_lockouts_user")
                    .table(DeviceLockouts::Table)
                    .col(DeviceLockouts::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DeviceLockouts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DeviceLockouts {
    Table,
    DeviceId,
    UserId,
    Failures,
    WindowStart,
    Lockouts,
    LockedUntil,
    UpdatedAt,
}
