//! `gatehouse client create|list|show|update|delete|rotate-secret`.

use super::{CliError, audit, print_json, show};
use crate::config::Settings;
use crate::crypto::SecretHasher;
use crate::oauth::registry::{self, Client, ClientChange};
use crate::oauth::{ClientSpec, ClientType, GrantType, SigningAlg, TokenEndpointAuthMethod};
use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ClientAction {
    /// Register a client. Confidential clients get a secret, shown once.
    Create(CreateArgs),
    /// List clients.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one client.
    Show {
        // Random ids may start with `-`.
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Change a client; list options replace the whole list.
    Update {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[command(flatten)]
        args: UpdateArgs,
    },
    /// Delete a client.
    Delete {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Replace a client's secret (shown once); the old one stops working.
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[arg(long)]
    name: String,
    /// A public client (native or browser app): no secret, PKCE required.
    #[arg(long)]
    public: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct CommonArgs {
    /// Repeat for several; exact match at the authorization endpoint.
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// authorization_code, refresh_token or client_credentials; repeat for several.
    #[arg(long = "grant-type", value_name = "TYPE")]
    grant_types: Vec<GrantType>,
    /// Allowed scope; repeat, or separate with spaces.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// client_secret_basic (default), client_secret_post, private_key_jwt, or none (public).
    #[arg(long, value_name = "METHOD")]
    auth_method: Option<TokenEndpointAuthMethod>,
    /// Where the client publishes its keys (private_key_jwt).
    #[arg(long, value_name = "URI")]
    jwks_uri: Option<String>,
    /// Access token lifetime in seconds.
    #[arg(long, value_name = "SECONDS")]
    access_token_ttl: Option<u32>,
    #[arg(long, value_name = "SECONDS")]
    refresh_token_ttl: Option<u32>,
    #[arg(long, value_name = "SECONDS")]
    id_token_ttl: Option<u32>,
    /// ES256 (default) or RS256.
    #[arg(long, value_name = "ALG")]
    signing_alg: Option<SigningAlg>,
    /// Ask people to consent before sharing their data with this client.
    #[arg(long, value_name = "BOOL")]
    consent_required: Option<bool>,
    /// As a resource server, may introspect access tokens whose `aud` is
    /// URI (repeatable; its own tokens a client always may).
    #[arg(long = "introspect-audience", value_name = "URI")]
    introspection_audiences: Vec<String>,
    /// Demand PKCE (S256) at /authorize (default true); only a confidential
    /// client may turn it off, for a relying party that cannot send it.
    #[arg(long, value_name = "BOOL")]
    require_pkce: Option<bool>,
}

impl CommonArgs {
    fn scopes(&self) -> Vec<String> {
        self.scopes.iter().flat_map(|s| s.split_whitespace()).map(str::to_owned).collect()
    }
}

pub async fn run(action: ClientAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let (db, hasher) = super::open_with_hasher(&settings).await?;
    let result = dispatch(action, &db, &hasher, json).await;
    db.close_by_ref().await?;
    result
}

async fn dispatch(
    action: ClientAction,
    db: &crate::store::Db,
    hasher: &SecretHasher,
    json: bool,
) -> Result<(), CliError> {
    let now = Utc::now();
    match action {
        ClientAction::Create(a) => {
            let c = &a.common;
            let spec = ClientSpec {
                name: a.name.clone(),
                client_type: a.public.then_some(ClientType::Public),
                auth_method: c.auth_method,
                redirect_uris: c.redirect_uris.clone(),
                post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
                grant_types: c.grant_types.clone(),
                scopes: c.scopes(),
                jwks_uri: c.jwks_uri.clone(),
                access_token_ttl: c.access_token_ttl,
                refresh_token_ttl: c.refresh_token_ttl,
                id_token_ttl: c.id_token_ttl,
                signing_alg: c.signing_alg,
                consent_required: c.consent_required,
                introspection_audiences: c.introspection_audiences.clone(),
                require_pkce: c.require_pkce,
            };
            let (client, secret) = registry::create_client(db, hasher, spec, now).await?;
            audit(db, "client.created", &client.client_id).await?;
            print_client(json, &client, secret.as_deref().map(String::as_str));
        }
        ClientAction::List { limit, offset } => {
            let (clients, total) = registry::list_clients(db, offset, limit.min(10_000)).await?;
            if json {
                print_json(
                    &json!({ "total": total, "clients": clients.iter().map(|c| c.view(None)).collect::<Vec<_>>() }),
                );
            } else {
                println!("{:<24}  {:<12}  {:<20}  name", "client_id", "type", "grant types");
                for c in &clients {
                    let r = &c.registration;
                    let grants: Vec<&str> = r.grant_types.iter().map(|g| g.as_str()).collect();
                    println!(
                        "{:<24}  {:<12}  {:<20}  {}",
                        c.client_id,
                        r.client_type.as_str(),
                        grants.join(","),
                        r.name
                    );
                }
            }
        }
        ClientAction::Show { client_id } => print_client(json, &registry::get_client(db, &client_id).await?, None),
        ClientAction::Update { client_id, args } => {
            let c = &args.common;
            let non_empty = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
            let change = ClientChange {
                name: args.name.clone(),
                redirect_uris: non_empty(&c.redirect_uris),
                post_logout_redirect_uris: non_empty(&c.post_logout_redirect_uris),
                grant_types: (!c.grant_types.is_empty()).then(|| c.grant_types.clone()),
                scopes: non_empty(&c.scopes()),
                auth_method: c.auth_method,
                jwks_uri: c.jwks_uri.clone().map(Some),
                access_token_ttl: c.access_token_ttl,
                refresh_token_ttl: c.refresh_token_ttl,
                id_token_ttl: c.id_token_ttl,
                signing_alg: c.signing_alg,
                consent_required: c.consent_required,
                introspection_audiences: non_empty(&c.introspection_audiences),
                require_pkce: c.require_pkce,
                if_version: None,
            };
            let (client, secret) = registry::update_client(db, hasher, &client_id, change, now).await?;
            audit(db, "client.updated", &client.client_id).await?;
            print_client(json, &client, secret.as_deref().map(String::as_str));
        }
        ClientAction::Delete { client_id } => {
            registry::delete_client(db, &client_id).await?;
            audit(db, "client.deleted", &client_id).await?;
            if json {
                print_json(&json!({ "client_id": client_id, "deleted": true }));
            } else {
                println!("deleted client {client_id}");
            }
        }
        ClientAction::RotateSecret { client_id } => {
            let (client, secret) = registry::rotate_secret(db, hasher, &client_id, now).await?;
            audit(db, "client.secret_rotated", &client.client_id).await?;
            print_client(json, &client, Some(secret.as_str()));
        }
    }
    Ok(())
}

fn print_client(json: bool, c: &Client, secret: Option<&str>) {
    show(json, &serde_json::to_value(c.view(secret)).unwrap_or_default(), secret.map(|_| "client_secret"));
}
