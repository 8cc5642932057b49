use sea_orm_migration::prelude::*;

/// The lifecycle state last written to the audit log for each key, so that
/// time-driven transitions (next → current → retired → expired) are audited
/// exactly once however many instances notice them.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(ColumnDef::new(SigningKeys::AnnouncedState).string_len(16).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(SigningKeys::Table).drop_column(SigningKeys::AnnouncedState).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    AnnouncedState,
}
