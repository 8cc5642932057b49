use sea_orm_migration::prelude::*;

/// Makes the audit log tamper-evident: each row carries the hash of the
/// previous row and its own hash over that and its content.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [AuditEvents::PrevHash, AuditEvents::Hash] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(ColumnDef::new(col).string_len(64).null())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [AuditEvents::Hash, AuditEvents::PrevHash] {
            manager.alter_table(Table::alter().table(AuditEvents::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEvents {
    Table,
    PrevHash,
    Hash,
}
