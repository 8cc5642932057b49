use sea_orm_migration::prelude::*;

/// Passkeys and security keys, and the server side of WebAuthn ceremonies
/// in flight (a ceremony spans two requests, possibly on two instances).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCredentials::Table)
                    .col(ColumnDef::new(WebauthnCredentials::CredId).string_len(1400).not_null().primary_key())
                    .col(ColumnDef::new(WebauthnCredentials::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(WebauthnCredentials::Name).string_len(64).not_null())
                    .col(ColumnDef::new(WebauthnCredentials::Passkey).text().not_null())
                    .col(ColumnDef::new(WebauthnCredentials::Discoverable).boolean().not_null())
                    .col(ColumnDef::new(WebauthnCredentials::BackupEligible).boolean().not_null())
                    .col(ColumnDef::new(WebauthnCredentials::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(WebauthnCredentials::LastUsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebauthnCredentials::Table, WebauthnCredentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_credentials_user_id")
                    .table(WebauthnCredentials::Table)
                    .col(WebauthnCredentials::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    .col(ColumnDef::new(WebauthnCeremonies::IdHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(WebauthnCeremonies::UserId).string_len(36).null())
                    .col(ColumnDef::new(WebauthnCeremonies::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(WebauthnCeremonies::State).text().not_null())
                    .col(ColumnDef::new(WebauthnCeremonies::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(WebauthnCeremonies::ExpiresAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webauthn_ceremonies_expires_at")
                    .table(WebauthnCeremonies::Table)
                    .col(WebauthnCeremonies::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(WebauthnCeremonies::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(WebauthnCredentials::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WebauthnCredentials {
    Table,
    CredId,
    UserId,
    Name,
    Passkey,
    Discoverable,
    BackupEligible,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnCeremonies {
    Table,
    IdHash,
    UserId,
    Purpose,
    State,
    CreatedAt,
    ExpiresAt,
}
