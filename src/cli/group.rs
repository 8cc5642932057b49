//! `gatehouse group`: list groups and mark the ones whose members are
//! administrators. SCIM can never change a group marked so.

use super::{CliError, audit, open_db, print_json, require_schema};
use crate::config::Settings;
use crate::store::scim::ScimStoreError;
use crate::store::scim::groups;
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum GroupAction {
    /// List groups.
    List,
    /// Members of this group (id or name) are administrators; SCIM may no
    /// longer change it.
    GrantAdmin { group: String },
    /// Undo grant-admin.
    RevokeAdmin { group: String },
}

fn view(g: &entity::groups::Model) -> serde_json::Value {
    json!({
        "id": g.id,
        "display_name": g.display_name,
        "grants_admin": g.grants_admin,
        "scim_managed": g.scim_managed,
        "external_id": g.external_id,
    })
}

pub async fn run(action: GroupAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    require_schema(&db).await?;
    let result = async {
        match action {
            GroupAction::List => {
                let all = groups::all(&db).await?;
                if json {
                    print_json(&json!(all.iter().map(view).collect::<Vec<_>>()));
                } else {
                    for g in &all {
                        let admin = if g.grants_admin { "grants admin" } else { "" };
                        println!("{}  {:<32} {admin}", g.id, g.display_name);
                    }
                }
            }
            GroupAction::GrantAdmin { group } => set(&db, &group, true, json).await?,
            GroupAction::RevokeAdmin { group } => set(&db, &group, false, json).await?,
        }
        Ok::<_, CliError>(())
    }
    .await;
    db.close_by_ref().await?;
    result
}

async fn set(db: &crate::store::Db, group: &str, grants: bool, json: bool) -> Result<(), CliError> {
    let (g, _) = groups::set_grants_admin(db, group, grants, None, chrono::Utc::now()).await.map_err(|e| match e {
        ScimStoreError::NotFound => CliError(format!("no group {group:?}")),
        other => CliError(other.to_string()),
    })?;
    audit(db, if grants { "group.admin_granted" } else { "group.admin_revoked" }, &g.id).await?;
    if json {
        print_json(&view(&g));
    } else if grants {
        println!("members of {} are administrators; SCIM can no longer change it", g.display_name);
    } else {
        println!("{} no longer grants admin", g.display_name);
    }
    Ok(())
}
