use sea_orm_migration::prelude::*;

/// Where the audit chain was cut by retention: the id and hash of the last
/// purged event, so the remaining chain still verifies from there.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditCheckpoints::Table)
                    .col(ColumnDef::new(AuditCheckpoints::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(AuditCheckpoints::ThroughId).big_integer().not_null())
                    .col(ColumnDef::new(AuditCheckpoints::ThroughHash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditCheckpoints::PurgedRows).big_integer().not_null())
                    .col(ColumnDef::new(AuditCheckpoints::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Id,
    ThroughId,
    ThroughHash,
    PurgedRows,
    CreatedAt,
}
