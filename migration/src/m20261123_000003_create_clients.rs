use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(ColumnDef::new(Clients::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Clients::Name).string_len(256).not_null())
                    .col(ColumnDef::new(Clients::ClientType).string_len(16).not_null())
                    .col(ColumnDef::new(Clients::AuthMethod).string_len(32).not_null())
                    .col(ColumnDef::new(Clients::SecretHash).string_len(128).null())
                    .col(ColumnDef::new(Clients::RedirectUris).text().not_null())
                    .col(ColumnDef::new(Clients::PostLogoutRedirectUris).text().not_null())
                    .col(ColumnDef::new(Clients::GrantTypes).text().not_null())
                    .col(ColumnDef::new(Clients::Scopes).text().not_null())
                    .col(ColumnDef::new(Clients::JwksUri).text().null())
                    .col(ColumnDef::new(Clients::AccessTokenTtl).integer().not_null())
                    .col(ColumnDef::new(Clients::RefreshTokenTtl).integer().not_null())
                    .col(ColumnDef::new(Clients::IdTokenTtl).integer().not_null())
                    .col(ColumnDef::new(Clients::SigningAlg).string_len(16).not_null())
                    .col(ColumnDef::new(Clients::ConsentRequired).boolean().not_null())
                    .col(ColumnDef::new(Clients::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Clients::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Clients::Version).big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Clients::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Name,
    ClientType,
    AuthMethod,
    SecretHash,
    RedirectUris,
    PostLogoutRedirectUris,
    GrantTypes,
    Scopes,
    JwksUri,
    AccessTokenTtl,
    RefreshTokenTtl,
    IdTokenTtl,
    SigningAlg,
    ConsentRequired,
    CreatedAt,
    UpdatedAt,
    Version,
}
