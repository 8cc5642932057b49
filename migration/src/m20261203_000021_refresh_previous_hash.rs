use sea_orm_migration::prelude::*;

/// The hash of the token a family's last rotation spent: with
/// `refresh_reuse_grace_secs`, that token presented again soon after (its
/// response was lost) rotates once more instead of revoking the family.
/// Null for existing families: no grace for a rotation made before.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RefreshFamilies::Table)
                    .add_column(ColumnDef::new(RefreshFamilies::PreviousHash).string_len(64).null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(RefreshFamilies::Table).drop_column(RefreshFamilies::PreviousHash).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RefreshFamilies {
    Table,
    PreviousHash,
}
