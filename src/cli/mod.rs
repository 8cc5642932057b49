//! The command line: `serve` (default), `migrate`, `config check`, `user`,
//! `client`, `group`, `scim-token`, `keys`, `audit`, `backup`, `restore`.
//! Admin commands work directly on the configured database, so they work
//! with or without a running server, and a running server sees their effect
//! at once (it reads the same rows).

mod audit;
mod backup;
mod client;
mod config_check;
mod group;
mod keys;
mod migrate;
mod scim_token;
mod serve;
mod user;

use crate::config::Settings;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about = "OpenID Connect / OAuth 2 identity provider with SCIM 2.0")]
pub struct Cli {
    /// Configuration file (default: $GATEHOUSE_CONFIG, else built-in defaults and environment only).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: migrate::MigrateAction,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        action: config_check::ConfigAction,
    },
    /// Manage OAuth clients.
    Client {
        #[command(subcommand)]
        action: client::ClientAction,
    },
    /// List groups; mark the ones that grant admin.
    Group {
        #[command(subcommand)]
        action: group::GroupAction,
    },
    /// Manage SCIM provisioning tokens.
    ScimToken {
        #[command(subcommand)]
        action: scim_token::ScimTokenAction,
    },
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        action: user::UserAction,
    },
    /// Verify and read the audit log.
    Audit {
        #[command(subcommand)]
        action: audit::AuditAction,
    },
    /// Copy the SQLite database, consistently, while the server runs.
    Backup {
        /// The new file to write (it must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Put a backup in place as the database of an empty data directory
    /// (the server stopped); the master key must open its signing keys.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
}

/// A failed command: its message goes to stderr and the exit code is 1
/// (bad arguments exit 2 through clap).
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let result = actix_rt::System::new().block_on(run(cli));
    crate::telemetry::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            if json {
                eprintln!("{}", serde_json::json!({ "error": message }));
            } else {
                eprintln!("error: {message}");
            }
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let load = || Settings::from_process(cli.config.as_deref());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(load()?).await,
        Command::Config { action } => config_check::run(action, load(), cli.json),
        Command::Migrate { action } => migrate::run(action, load()?, cli.json).await,
        Command::User { action } => user::run(action, load()?, cli.json).await,
        Command::Client { action } => client::run(action, load()?, cli.json).await,
        Command::Group { action } => group::run(action, load()?, cli.json).await,
        Command::ScimToken { action } => scim_token::run(action, load()?, cli.json).await,
        Command::Keys { action } => keys::run(action, load()?, cli.json).await,
        Command::Audit { action } => audit::run(action, load()?, cli.json).await,
        Command::Backup { to } => backup::backup(load()?, to, cli.json).await,
        Command::Restore { from } => backup::restore(load()?, from, cli.json).await,
    }
}

/// Opens the configured database for an admin command, quietly.
async fn open_db(settings: &Settings) -> Result<crate::store::Db, CliError> {
    crate::telemetry::init(settings.log_format, &settings.log_level);
    Ok(crate::store::connect(settings.database_url.expose(), 2).await?)
}

/// The database (schema checked) and the keyed hasher of secrets, for
/// commands that create or check client secrets and tokens.
async fn open_with_hasher(settings: &Settings) -> Result<(crate::store::Db, crate::crypto::SecretHasher), CliError> {
    let db = open_db(settings).await?;
    require_schema(&db).await?;
    let master_key = settings.master_key.as_ref().map(|k| k.expose());
    let (master, _) = crate::crypto::MasterKey::load_or_generate(master_key, &settings.data_dir)?;
    Ok((db, crate::crypto::SecretHasher::new(&master)))
}

/// Prints a value as pretty JSON on stdout.
fn print_json(v: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string()));
}

/// Prints one object: pretty JSON, or `key value` lines. `secret_field`
/// names a field shown only this once.
fn show(json: bool, v: &serde_json::Value, secret_field: Option<&str>) {
    if json {
        print_json(v);
        return;
    }
    if let Some(obj) = v.as_object() {
        for (k, val) in obj {
            let shown = match val {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "-".to_owned(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            println!("{k:<28} {shown}");
        }
    }
    if let Some(field) = secret_field {
        println!("\nThe {field} above is shown only once; store it now.");
    }
}

/// Records an admin action taken from the command line.
async fn audit(db: &crate::store::Db, action: &'static str, target: &str) -> Result<(), CliError> {
    use crate::audit::AuditEvent;
    use crate::store::audit;
    audit::append(db, vec![AuditEvent::new(chrono::Utc::now(), "cli", action, Some(target.to_owned()))]).await?;
    Ok(())
}

/// Fails unless every migration has been applied.
async fn require_schema(db: &crate::store::Db) -> Result<(), CliError> {
    if !crate::store::is_up_to_date(db).await? {
        return Err(CliError("the database schema is not up to date; run `gatehouse migrate up` first".into()));
    }
    Ok(())
}
