use sea_orm_migration::prelude::*;

/// The admin API filters the audit log by actor and by target (the person
/// an event is about), and the data export collects both for one person:
/// without these, each was a scan of the whole log. Id last, so a filtered
/// page is a range of the index in cursor order.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in
            [("idx_audit_events_actor", AuditEvents::Actor), ("idx_audit_events_target", AuditEvents::Target)]
        {
            manager
                .create_index(
                    Index::create().name(name).table(AuditEvents::Table).col(col).col(AuditEvents::Id).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["idx_audit_events_actor", "idx_audit_events_target"] {
            manager.drop_index(Index::drop().name(name).table(AuditEvents::Table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Actor,
    Target,
}
