use precis_core::profile::PrecisFastInvocation as _;
use precis_profiles::UsernameCaseMapped;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::Statement;

/// One login namespace: every sign-in name (a username or a login email)
/// under one key, unique across all accounts, so a provisioned account
/// can never take over another's email or username. Existing accounts are
/// backfilled usernames first, then emails in creation order: where two
/// accounts shared an email (sign-in by it was refused as ambiguous), the
/// oldest keeps it as a sign-in name and the others keep it as data only.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The key of a sign-in name: RFC 8265 UsernameCaseMapped per
/// space-separated part. Must agree with `accounts::identifiers` (a test
/// there checks it does).
pub fn login_name_key(s: &str) -> Option<String> {
    let parts: Option<Vec<String>> = s
        .trim()
        .split(' ')
        .filter(|p| !p.is_empty())
        .map(|p| UsernameCaseMapped::enforce(p).ok().map(|k| k.into_owned()))
        .collect();
    parts.filter(|p| !p.is_empty()).map(|p| p.join(" "))
}

const BATCH: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginNames::Table)
                    .col(ColumnDef::new(LoginNames::Name).string_len(320).not_null().primary_key())
                    .col(ColumnDef::new(LoginNames::UserId).string_len(36).not_null())
                    .col(ColumnDef::new(LoginNames::Kind).string_len(16).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoginNames::Table, LoginNames::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_names_user")
                    .table(LoginNames::Table)
                    .col(LoginNames::UserId)
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, username, username_normalized, email FROM users ORDER BY created_at, id",
            ))
            .await?;
        let mut names: Vec<(String, String, &'static str)> = Vec::new();
        let mut emails = Vec::new();
        for row in &rows {
            let id: String = row.try_get("", "id")?;
            let username: String = row.try_get("", "username")?;
            let legacy: String = row.try_get("", "username_normalized")?;
            // A legacy name the profile refuses keeps its old key.
            let key = login_name_key(&username).unwrap_or(legacy);
            if let Some(email) = row.try_get::<Option<String>>("", "email")?
                && let Some(ekey) = login_name_key(&email)
                && ekey != key
            {
                emails.push((ekey, id.clone(), "email"));
            }
            names.push((key, id, "username"));
        }
        names.extend(emails);
        for chunk in names.chunks(BATCH) {
            let mut insert = Query::insert();
            insert.into_table(LoginNames::Table).columns([LoginNames::Name, LoginNames::UserId, LoginNames::Kind]);
            for (name, id, kind) in chunk {
                insert
                    .values([name.clone().into(), id.clone().into(), (*kind).into()])
                    .map_err(|e| DbErr::Custom(e.to_string()))?;
            }
            insert.on_conflict(OnConflict::column(LoginNames::Name).do_nothing().to_owned());
            manager.exec_stmt(insert).await?;
        }
        // Usernames are looked up (SCIM filters, the CLI) by the same key as
        // sign-in: move each to its new key, unless another account holds
        // that key already (two old names that are now one: the younger
        // keeps its old key and must be renamed to sign in by name).
        db.execute_unprepared(
            "UPDATE users SET username_normalized = \
                 (SELECT ln.name FROM login_names ln WHERE ln.user_id = users.id AND ln.kind = 'username') \
             WHERE EXISTS (SELECT 1 FROM login_names ln WHERE ln.user_id = users.id AND ln.kind = 'username' \
                     AND ln.name <> users.username_normalized) \
               AND NOT EXISTS (SELECT 1 FROM users u2 WHERE u2.id <> users.id AND u2.username_normalized = \
                     (SELECT ln.name FROM login_names ln WHERE ln.user_id = users.id AND ln.kind = 'username'))",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginNames::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum LoginNames {
    Table,
    Name,
    UserId,
    Kind,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
