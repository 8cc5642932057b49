use sea_orm_migration::prelude::*;

/// A refresh token family's life as one row: which token is current, and
/// whether the family was revoked. Rotation is a compare-and-swap on
/// `current_hash`, revocation a state of the family, so a successor
/// written after a revocation is born dead. Every access token issued from
/// a family is listed, so that revoking the family revokes them too.
/// Existing families are carried over: their live token becomes current;
/// a family without one starts revoked.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefreshFamilies::Table)
                    .col(ColumnDef::new(RefreshFamilies::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(RefreshFamilies::ClientId).string_len(64).not_null())
                    .col(ColumnDef::new(RefreshFamilies::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(RefreshFamilies::CurrentHash).string_len(64).null())
                    .col(ColumnDef::new(RefreshFamilies::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RefreshFamilies::RotatedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(RefreshFamilies::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(RefreshFamilies::RevokedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_families_user")
                    .table(RefreshFamilies::Table)
                    .col(RefreshFamilies::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FamilyAccessTokens::Table)
                    .col(ColumnDef::new(FamilyAccessTokens::Jti).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(FamilyAccessTokens::FamilyId).string_len(64).not_null())
                    .col(ColumnDef::new(FamilyAccessTokens::ExpiresAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_family_access_tokens_family")
                    .table(FamilyAccessTokens::Table)
                    .col(FamilyAccessTokens::FamilyId)
                    .to_owned(),
            )
            .await?;
        // The same SQL on SQLite and PostgreSQL. A family with any revoked
        // token was revoked (the old code revoked row by row, and a
        // successor racing the revocation could stay live: that is the bug
        // this table fixes, so such a family is revoked, not revived).
        // Otherwise its live token, if any, is current; none means spent.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO refresh_families (id, client_id, user_id, current_hash, created_at, rotated_at, expires_at, revoked_at) \
                 SELECT family_id, MIN(client_id), MIN(user_id), \
                        CASE WHEN MAX(revoked_at) IS NULL \
                             THEN MAX(CASE WHEN rotated_at IS NULL THEN token_hash END) END, \
                        MIN(created_at), MAX(rotated_at), MAX(expires_at), \
                        CASE WHEN MAX(revoked_at) IS NOT NULL THEN MAX(revoked_at) \
                             WHEN MAX(CASE WHEN rotated_at IS NULL THEN token_hash END) IS NULL \
                             THEN MAX(COALESCE(rotated_at, created_at)) END \
                 FROM refresh_tokens GROUP BY family_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The older code reads liveness from each token row: write the
        // families' state back first, or a rollback would revive every
        // token rotated or revoked since (a missing family means dead).
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE refresh_tokens SET revoked_at = COALESCE( \
                 (SELECT f.revoked_at FROM refresh_families f WHERE f.id = refresh_tokens.family_id), created_at) \
             WHERE revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM refresh_families f \
                 WHERE f.id = refresh_tokens.family_id AND f.revoked_at IS NULL)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE refresh_tokens SET rotated_at = COALESCE( \
                 (SELECT f.rotated_at FROM refresh_families f WHERE f.id = refresh_tokens.family_id), created_at) \
             WHERE rotated_at IS NULL AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM refresh_families f \
                 WHERE f.id = refresh_tokens.family_id AND f.current_hash = refresh_tokens.token_hash)",
        )
        .await?;
        manager.drop_table(Table::drop().table(FamilyAccessTokens::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RefreshFamilies::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RefreshFamilies {
    Table,
    Id,
    ClientId,
    UserId,
    CurrentHash,
    CreatedAt,
    RotatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum FamilyAccessTokens {
    Table,
    Jti,
    FamilyId,
    ExpiresAt,
}
