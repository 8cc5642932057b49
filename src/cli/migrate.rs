//! `gatehouse migrate up|down|status`.

use super::{CliError, open_db, print_json};
use crate::config::Settings;
use crate::store;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the most recent migrations.
    Down {
        /// How many migrations to revert.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

pub async fn run(action: MigrateAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    match action {
        MigrateAction::Up => store::migrate_up(&db).await?,
        MigrateAction::Down { steps } => store::migrate_down(&db, steps).await?,
        MigrateAction::Status => {}
    }
    let status = store::migration_status(&db).await?;
    if json {
        print_json(&serde_json::to_value(&status)?);
    } else {
        for m in &status {
            println!("{:<8} {}", if m.applied { "applied" } else { "pending" }, m.name);
        }
    }
    db.close_by_ref().await?;
    Ok(())
}
