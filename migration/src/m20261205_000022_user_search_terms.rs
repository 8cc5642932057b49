use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// What the admin user search matches by prefix: one row per (term, user),
/// so a range scan of one index finds the users whose username, email or
/// any word of their names starts with a query word. Kept in byte order
/// (`COLLATE "C"` on PostgreSQL, SQLite's default) so a prefix is a range
/// on every engine. Existing accounts are backfilled.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Longest term kept; a query word is cut to the same length.
pub const TERM_CHARS: usize = 64;
/// Most terms one account contributes.
const MAX_TERMS: usize = 24;

/// Lower-cases and cuts one word the way terms are stored.
pub fn search_word(w: &str) -> String {
    w.trim().to_lowercase().chars().take(TERM_CHARS).collect()
}

/// The terms an account is found by: its normalized username, its email,
/// and every word of its names. The application computes them with this
/// function too (`store::user_search`), so the backfill and later writes
/// agree.
pub fn search_terms(username_normalized: &str, email: Option<&str>, names: &[Option<&str>]) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut push = |t: String| {
        if !t.is_empty() && !terms.contains(&t) && terms.len() < MAX_TERMS {
            terms.push(t);
        }
    };
    push(search_word(username_normalized));
    if let Some(e) = email {
        push(search_word(e));
    }
    for name in names.iter().flatten() {
        for w in name.split(|c: char| c.is_whitespace() || c == ',') {
            push(search_word(w));
        }
    }
    terms
}

const BATCH: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let mut term = ColumnDef::new(UserSearchTerms::Term);
        term.string_len(TERM_CHARS as u32 * 4).not_null();
        if backend == DatabaseBackend::Postgres {
            term.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(UserSearchTerms::Table)
                    .col(&mut term)
                    .col(ColumnDef::new(UserSearchTerms::UserId).string_len(36).not_null())
                    .primary_key(Index::create().col(UserSearchTerms::Term).col(UserSearchTerms::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UserSearchTerms::Table, UserSearchTerms::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_search_terms_user")
                    .table(UserSearchTerms::Table)
                    .col(UserSearchTerms::UserId)
                    .to_owned(),
            )
            .await?;

        // In pages by id, so a large directory is never held in memory.
        let mut after = String::new();
        loop {
            let page = Query::select()
                .columns([
                    Users::Id,
                    Users::UsernameNormalized,
                    Users::Email,
                    Users::DisplayName,
                    Users::NameFormatted,
                    Users::GivenName,
                    Users::FamilyName,
                ])
                .from(Users::Table)
                .and_where(Expr::col(Users::Id).gt(after.as_str()))
                .order_by(Users::Id, Order::Asc)
                .limit(BATCH as u64)
                .to_owned();
            let rows = db.query_all_raw(backend.build(&page)).await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("", "id")?;
            let mut insert = Query::insert();
            insert.into_table(UserSearchTerms::Table).columns([UserSearchTerms::Term, UserSearchTerms::UserId]);
            let mut any = false;
            for row in &rows {
                let id: String = row.try_get("", "id")?;
                let username: String = row.try_get("", "username_normalized")?;
                let email: Option<String> = row.try_get("", "email")?;
                let names: Vec<Option<String>> = ["display_name", "name_formatted", "given_name", "family_name"]
                    .iter()
                    .map(|c| row.try_get::<Option<String>>("", c))
                    .collect::<Result<_, _>>()?;
                let names: Vec<Option<&str>> = names.iter().map(Option::as_deref).collect();
                for t in search_terms(&username, email.as_deref(), &names) {
                    insert.values([t.into(), id.clone().into()]).map_err(|e| DbErr::Custom(e.to_string()))?;
                    any = true;
                }
            }
            if any {
                manager.exec_stmt(insert).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(UserSearchTerms::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum UserSearchTerms {
    Table,
    Term,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    UsernameNormalized,
    Email,
    DisplayName,
    NameFormatted,
    GivenName,
    FamilyName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_cover_username_email_and_name_words() {
        let t = search_terms(
            "alice",
            Some("Alice.Liddell@Example.org"),
            &[Some("Alice  Liddell"), None, Some("Lewis, Carroll")],
        );
        assert_eq!(t, ["alice", "alice.liddell@example.org", "liddell", "lewis", "carroll"]);
    }

    #[test]
    fn terms_are_bounded() {
        let long = "x".repeat(500);
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        let t = search_terms(&long, None, &[Some(&many)]);
        assert_eq!(t[0].chars().count(), TERM_CHARS);
        assert_eq!(t.len(), MAX_TERMS);
        assert_eq!(search_word("  ÉLODIE "), "élodie");
    }
}
