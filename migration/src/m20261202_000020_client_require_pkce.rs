use sea_orm_migration::prelude::*;

/// Whether a client must use PKCE (RFC 7636) at `/authorize`. True for every
/// existing client: turning it off is an explicit, per-client decision that
/// only a confidential client may take (RFC 9700 §2.1.1).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(ColumnDef::new(Clients::RequirePkce).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Clients::Table).drop_column(Clients::RequirePkce).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequirePkce,
}
