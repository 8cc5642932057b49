use sea_orm_migration::prelude::*;

/// The admin user search walks users in username order and checks each
/// against the query (`store::user_search`), so each check must be one
/// index probe: terms by (user, term), and the account flags beside the
/// username so a rare flag (inactive, administrator, SCIM-managed or not)
/// is a range of its own index in page order instead of a directory scan.
#[derive(DeriveMigrationName)]
pub struct Migration;

const FLAGS: [(&str, Users); 3] = [
    ("idx_users_active_username", Users::Active),
    ("idx_users_admin_username", Users::IsAdmin),
    ("idx_users_scim_username", Users::ScimManaged),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("idx_user_search_terms_user").table(UserSearchTerms::Table).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_search_terms_user_term")
                    .table(UserSearchTerms::Table)
                    .col(UserSearchTerms::UserId)
                    .col(UserSearchTerms::Term)
                    .to_owned(),
            )
            .await?;
        for (name, flag) in FLAGS {
            manager
                .create_index(
                    Index::create().name(name).table(Users::Table).col(flag).col(Users::UsernameNormalized).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in FLAGS {
            manager.drop_index(Index::drop().name(name).table(Users::Table).to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("idx_user_search_terms_user_term").table(UserSearchTerms::Table).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_search_terms_user")
                    .table(UserSearchTerms::Table)
                    .col(UserSearchTerms::UserId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    UsernameNormalized,
    Active,
    IsAdmin,
    ScimManaged,
}

#[derive(DeriveIden)]
enum UserSearchTerms {
    Table,
    UserId,
    Term,
}
