use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedTokens::Table)
                    .col(ColumnDef::new(RevokedTokens::Jti).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(RevokedTokens::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(RevokedTokens::RevokedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RevokedTokens::ExpiresAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_revoked_tokens_expires_at")
                    .table(RevokedTokens::Table)
                    .col(RevokedTokens::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RevokedTokens::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RevokedTokens {
    Table,
    Jti,
    ClientId,
    RevokedAt,
    ExpiresAt,
}
