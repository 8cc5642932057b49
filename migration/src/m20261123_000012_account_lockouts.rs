use sea_orm_migration::prelude::*;

/// Failed-login counts per account across all source addresses, and the
/// lockout they lead to (credential stuffing on one account from many IPs).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccountLockouts::Table)
                    .col(ColumnDef::new(AccountLockouts::UserId).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(AccountLockouts::Failures).integer().not_null())
                    .col(ColumnDef::new(AccountLockouts::WindowStart).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AccountLockouts::Lockouts).integer().not_null())
                    .col(ColumnDef::new(AccountLockouts::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(AccountLockouts::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(AccountLockouts::Table, AccountLockouts::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AccountLockouts::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum AccountLockouts {
    Table,
    UserId,
    Failures,
    WindowStart,
    Lockouts,
    LockedUntil,
    UpdatedAt,
}
