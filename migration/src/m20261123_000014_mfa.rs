use sea_orm_migration::prelude::*;

/// Second factors (TOTP, recovery codes) and the half-finished logins that
/// wait for one. A login challenge is not a session: nothing that needs a
/// session can be reached with it.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MfaTotp::Table)
                    .col(ColumnDef::new(MfaTotp::UserId).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(MfaTotp::SecretSealed).text().not_null())
                    .col(ColumnDef::new(MfaTotp::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MfaTotp::ConfirmedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(MfaTotp::PendingFor).string_len(64).null())
                    .col(ColumnDef::new(MfaTotp::LastUsedStep).big_integer().null())
                    .col(ColumnDef::new(MfaTotp::LastUsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaTotp::Table, MfaTotp::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaRecoveryCodes::Table)
                    .col(ColumnDef::new(MfaRecoveryCodes::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(MfaRecoveryCodes::CodeHash).string_len(128).not_null())
                    .col(ColumnDef::new(MfaRecoveryCodes::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MfaRecoveryCodes::UsedAt).timestamp_with_time_zone().null())
                    .primary_key(Index::create().col(MfaRecoveryCodes::UserId).col(MfaRecoveryCodes::CodeHash))
                    .foreign_key(
                        ForeignKey::create()
                            .from(MfaRecoveryCodes::Table, MfaRecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginChallenges::Table)
                    .col(ColumnDef::new(LoginChallenges::IdHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(LoginChallenges::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(LoginChallenges::Purpose).string_len(16).not_null())
                    .col(ColumnDef::new(LoginChallenges::Amr).string_len(64).not_null())
                    .col(ColumnDef::new(LoginChallenges::AuthTime).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(LoginChallenges::Request).text().not_null())
                    .col(ColumnDef::new(LoginChallenges::Failures).integer().not_null())
                    .col(ColumnDef::new(LoginChallenges::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(LoginChallenges::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(LoginChallenges::Ip).string_len(64).null())
                    .col(ColumnDef::new(LoginChallenges::UserAgent).string_len(256).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoginChallenges::Table, LoginChallenges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_challenges_expires_at")
                    .table(LoginChallenges::Table)
                    .col(LoginChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginChallenges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(MfaRecoveryCodes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(MfaTotp::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MfaTotp {
    Table,
    UserId,
    SecretSealed,
    CreatedAt,
    ConfirmedAt,
    PendingFor,
    LastUsedStep,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum MfaRecoveryCodes {
    Table,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum LoginChallenges {
    Table,
    IdHash,
    UserId,
    Purpose,
    Amr,
    AuthTime,
    Request,
    Failures,
    CreatedAt,
    ExpiresAt,
    Ip,
    UserAgent,
}
