//! `gatehouse scim-token`: bearer tokens for SCIM provisioning clients.
//! A token is shown once at creation and stored as a keyed hash.

use super::{CliError, audit, print_json, show};
use crate::config::Settings;
use crate::crypto::SecretHasher;
use crate::scim::tokens::{self, TokenError};
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ScimTokenAction {
    /// Create a token; it is printed once.
    Create {
        /// A unique name for the provisioning client (e.g. "entra").
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their values).
    List,
    /// Revoke a token by id or name; requests with it fail at once.
    Revoke { token: String },
}

pub async fn run(action: ScimTokenAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let (db, hasher) = super::open_with_hasher(&settings).await?;
    let result = dispatch(action, &db, &hasher, json).await;
    db.close_by_ref().await?;
    result
}

async fn dispatch(
    action: ScimTokenAction,
    db: &crate::store::Db,
    hasher: &SecretHasher,
    json: bool,
) -> Result<(), CliError> {
    let now = chrono::Utc::now();
    match action {
        ScimTokenAction::Create { name } => {
            let issued = tokens::issue(db, hasher, &name, now).await.map_err(|e| CliError(e.to_string()))?;
            audit(db, "scim_token.created", &issued.row.name).await?;
            let out = json!({"id": issued.row.id, "name": issued.row.name, "token": issued.token.as_str()});
            show(json, &out, Some("token"));
        }
        ScimTokenAction::List => {
            let rows = tokens::list(db).await.map_err(|e| CliError(e.to_string()))?;
            let list: Vec<_> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id,
                        "name": r.name,
                        "created_at": r.created_at.to_rfc3339(),
                        "last_used_at": r.last_used_at.map(|t| t.to_rfc3339()),
                        "revoked_at": r.revoked_at.map(|t| t.to_rfc3339()),
                    })
                })
                .collect();
            if json {
                print_json(&json!(list));
            } else {
                for r in &rows {
                    let state = if r.revoked_at.is_some() { "revoked" } else { "active" };
                    println!("{}  {:<24} {state}", r.id, r.name);
                }
            }
        }
        ScimTokenAction::Revoke { token } => {
            let (name, was_live) = tokens::revoke(db, &token, now).await.map_err(|e| match e {
                TokenError::NotFound => CliError(format!("no SCIM token {token:?}")),
                other => CliError(other.to_string()),
            })?;
            if was_live {
                audit(db, "scim_token.revoked", &name).await?;
            }
            if json {
                print_json(&json!({"revoked": name}));
            } else {
                println!("revoked {name}");
            }
        }
    }
    Ok(())
}
