use sea_orm_migration::prelude::*;

/// The audiences whose access tokens a client (a resource server) may
/// introspect besides its own tokens (RFC 7662 §4); a JSON array, empty
/// for every existing client.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Clients::Table)
                    .add_column(ColumnDef::new(Clients::IntrospectionAudiences).text().not_null().default("[]"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Clients::Table).drop_column(Clients::IntrospectionAudiences).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    IntrospectionAudiences,
}
