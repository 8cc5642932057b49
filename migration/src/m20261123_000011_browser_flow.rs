use sea_orm_migration::prelude::*;

/// The browser flow: login sessions (keyed by a hash of the cookie value),
/// authorization codes and refresh tokens (keyed by hashes; the values
/// exist only in transit), and remembered consents.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Sessions::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(Sessions::Sid).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Sessions::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(Sessions::AuthTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::Amr).string_len(64).not_null())
                    .col(ColumnDef::new(Sessions::Acr).string_len(64).not_null())
                    .col(ColumnDef::new(Sessions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::LastSeenAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Sessions::Ip).string_len(64).null())
                    .col(ColumnDef::new(Sessions::UserAgent).string_len(256).null())
                    .col(ColumnDef::new(Sessions::EndedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuthorizationCodes::Table)
                    .col(ColumnDef::new(AuthorizationCodes::CodeHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(AuthorizationCodes::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(AuthorizationCodes::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(AuthorizationCodes::Sid).string_len(64).not_null())
                    .col(ColumnDef::new(AuthorizationCodes::RedirectUri).text().not_null())
                    .col(ColumnDef::new(AuthorizationCodes::Scope).text().not_null())
                    .col(ColumnDef::new(AuthorizationCodes::Nonce).text().null())
                    .col(ColumnDef::new(AuthorizationCodes::CodeChallenge).string_len(128).null())
                    .col(ColumnDef::new(AuthorizationCodes::AuthTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuthorizationCodes::Amr).string_len(64).not_null())
                    .col(ColumnDef::new(AuthorizationCodes::Acr).string_len(64).not_null())
                    .col(ColumnDef::new(AuthorizationCodes::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuthorizationCodes::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuthorizationCodes::UsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(AuthorizationCodes::AccessJti).string_len(64).null())
                    .col(ColumnDef::new(AuthorizationCodes::AccessExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(AuthorizationCodes::RefreshFamily).string_len(64).null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(ColumnDef::new(RefreshTokens::TokenHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(RefreshTokens::FamilyId).string_len(64).not_null())
                    .col(ColumnDef::new(RefreshTokens::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(RefreshTokens::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshTokens::Sid).string_len(64).null())
                    .col(ColumnDef::new(RefreshTokens::Scope).text().not_null())
                    .col(ColumnDef::new(RefreshTokens::AuthTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RefreshTokens::Amr).string_len(64).not_null())
                    .col(ColumnDef::new(RefreshTokens::Acr).string_len(64).not_null())
                    .col(ColumnDef::new(RefreshTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RefreshTokens::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RefreshTokens::RotatedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(RefreshTokens::RevokedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_family")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_user")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Consents::Table)
                    .col(ColumnDef::new(Consents::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(Consents::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(Consents::Scope).text().not_null())
                    .col(ColumnDef::new(Consents::GrantedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(Consents::UserId).col(Consents::ClientId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Consents::Table, Consents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Consents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RefreshTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AuthorizationCodes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Sessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    Sid,
    UserId,
    AuthTime,
    Amr,
    Acr,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    Ip,
    UserAgent,
    EndedAt,
}

#[derive(DeriveIden)]
enum AuthorizationCodes {
    Table,
    CodeHash,
    ClientId,
    UserId,
    Sid,
    RedirectUri,
    Scope,
    Nonce,
    CodeChallenge,
    AuthTime,
    Amr,
    Acr,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    AccessJti,
    AccessExpiresAt,
    RefreshFamily,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    FamilyId,
    ClientId,
    UserId,
    Sid,
    Scope,
    AuthTime,
    Amr,
    Acr,
    CreatedAt,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Consents {
    Table,
    UserId,
    ClientId,
    Scope,
    GrantedAt,
}
