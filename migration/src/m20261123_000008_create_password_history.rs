use sea_orm_migration::prelude::*;

/// Hashes of passwords a user had before, for the no-reuse rule.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PasswordHistory::Table)
                    .col(ColumnDef::new(PasswordHistory::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(PasswordHistory::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(PasswordHistory::PasswordHash).text().not_null())
                    .col(ColumnDef::new(PasswordHistory::ReplacedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(PasswordHistory::Table, PasswordHistory::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_password_history_user")
                    .table(PasswordHistory::Table)
                    .col(PasswordHistory::UserId)
                    .col(PasswordHistory::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PasswordHistory::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum PasswordHistory {
    Table,
    Id,
    UserId,
    PasswordHash,
    ReplacedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
