use sea_orm_migration::prelude::*;

/// SCIM provisioning: the User attributes RFC 7643 defines (singular ones as
/// columns of `users`, so filters and sorting are plain column conditions),
/// one row per element of the multi-valued ones (`user_multi_values`: a
/// filter like `emails[type eq "work"]` is an `EXISTS` over one row),
/// groups with a membership table (large groups change one row at a time),
/// and the bearer tokens provisioning clients use.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Nullable text columns added to `users`.
const USER_TEXT_COLUMNS: &[&str] = &[
    "external_id",
    "name_formatted",
    "family_name",
    "given_name",
    "middle_name",
    "honorific_prefix",
    "honorific_suffix",
    "nick_name",
    "profile_url",
    "title",
    "user_type",
    "preferred_language",
    "locale",
    "timezone",
    "employee_number",
    "cost_center",
    "organization",
    "division",
    "department",
    "manager_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one column per ALTER TABLE.
        for col in USER_TEXT_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(ColumnDef::new(Alias::new(*col)).text().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::ScimManaged).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_users_external_id").table(Users::Table).col(Users::ExternalId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserMultiValues::Table)
                    .col(ColumnDef::new(UserMultiValues::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(UserMultiValues::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(UserMultiValues::Attribute).string_len(32).not_null())
                    .col(ColumnDef::new(UserMultiValues::Position).integer().not_null())
                    .col(ColumnDef::new(UserMultiValues::Value).text().null())
                    .col(ColumnDef::new(UserMultiValues::ValueCi).text().null())
                    .col(ColumnDef::new(UserMultiValues::Display).text().null())
                    .col(ColumnDef::new(UserMultiValues::Type).text().null())
                    .col(ColumnDef::new(UserMultiValues::IsPrimary).boolean().not_null().default(false))
                    .col(ColumnDef::new(UserMultiValues::Formatted).text().null())
                    .col(ColumnDef::new(UserMultiValues::StreetAddress).text().null())
                    .col(ColumnDef::new(UserMultiValues::Locality).text().null())
                    .col(ColumnDef::new(UserMultiValues::Region).text().null())
                    .col(ColumnDef::new(UserMultiValues::PostalCode).text().null())
                    .col(ColumnDef::new(UserMultiValues::Country).text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserMultiValues::Table, UserMultiValues::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_multi_values_user")
                    .table(UserMultiValues::Table)
                    .col(UserMultiValues::UserId)
                    .col(UserMultiValues::Attribute)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_multi_values_value")
                    .table(UserMultiValues::Table)
                    .col(UserMultiValues::Attribute)
                    .col(UserMultiValues::ValueCi)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Groups::Table)
                    .col(ColumnDef::new(Groups::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(Groups::DisplayName).text().not_null())
                    .col(ColumnDef::new(Groups::DisplayNameNormalized).string_len(256).not_null().unique_key())
                    .col(ColumnDef::new(Groups::ExternalId).text().null())
                    .col(ColumnDef::new(Groups::ScimManaged).boolean().not_null().default(false))
                    .col(ColumnDef::new(Groups::GrantsAdmin).boolean().not_null().default(false))
                    .col(ColumnDef::new(Groups::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Groups::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Groups::Version).big_integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupMembers::Table)
                    .col(ColumnDef::new(GroupMembers::GroupId).string_len(36).not_null())
                    .col(ColumnDef::new(GroupMembers::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(GroupMembers::AddedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(GroupMembers::GroupId).col(GroupMembers::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::GroupId)
                            .to(Groups::Table, Groups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(GroupMembers::Table, GroupMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_members_user")
                    .table(GroupMembers::Table)
                    .col(GroupMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScimTokens::Table)
                    .col(ColumnDef::new(ScimTokens::Id).string_len(36).not_null().primary_key())
                    .col(ColumnDef::new(ScimTokens::Name).string_len(128).not_null().unique_key())
                    .col(ColumnDef::new(ScimTokens::TokenHash).string_len(128).not_null().unique_key())
                    .col(ColumnDef::new(ScimTokens::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ScimTokens::LastUsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ScimTokens::RevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ScimTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(GroupMembers::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Groups::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(UserMultiValues::Table).to_owned()).await?;
        manager.drop_index(Index::drop().name("idx_users_external_id").table(Users::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::ScimManaged).to_owned()).await?;
        for col in USER_TEXT_COLUMNS.iter().rev() {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(Alias::new(*col)).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    ExternalId,
    ScimManaged,
}

#[derive(DeriveIden)]
enum UserMultiValues {
    Table,
    Id,
    UserId,
    Attribute,
    Position,
    Value,
    ValueCi,
    Display,
    Type,
    IsPrimary,
    Formatted,
    StreetAddress,
    Locality,
    Region,
    PostalCode,
    Country,
}

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    DisplayName,
    DisplayNameNormalized,
    ExternalId,
    ScimManaged,
    GrantsAdmin,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum GroupMembers {
    Table,
    GroupId,
    UserId,
    AddedAt,
}

#[derive(DeriveIden)]
enum ScimTokens {
    Table,
    Id,
    Name,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}
