use sea_orm_migration::prelude::*;

/// `private_key_jwt` assertions already used, kept until they expire so a
/// replayed one is refused on every instance.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClientAssertions::Table)
                    .col(ColumnDef::new(ClientAssertions::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(ClientAssertions::JtiHash).string_len(64).not_null())
                    .col(ColumnDef::new(ClientAssertions::ExpiresAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(ClientAssertions::ClientId).col(ClientAssertions::JtiHash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_client_assertions_expires_at")
                    .table(ClientAssertions::Table)
                    .col(ClientAssertions::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ClientAssertions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ClientAssertions {
    Table,
    ClientId,
    JtiHash,
    ExpiresAt,
}
