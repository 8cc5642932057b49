//! `gatehouse user create|list|show|disable|enable|unlock|lockouts|set-password|mfa list|mfa reset`.

use super::{CliError, audit, open_db, print_json, show};
use crate::accounts::PasswordHasher;
use crate::accounts::password_policy::PasswordPolicy;
use crate::accounts::users::{self, NewUser, Password, Username, parse_display_name, parse_email};
use crate::config::Settings;
use crate::store::{Db, users as repo};
use chrono::Utc;
use clap::Subcommand;
use entity::users::Model as User;
use serde_json::json;
use std::io::Read as _;
use zeroize::Zeroizing;

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user. Without --password-stdin a random password is generated and shown once.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Grant administrator rights.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List {
        #[arg(long, default_value_t = 100)]
        limit: u64,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// Show one user (by id or username).
    Show { user: String },
    /// Everything held about a user as one JSON document (GDPR access and
    /// portability); audited. Never includes a secret.
    Export { user: String },
    /// Disable a user: they can no longer log in.
    Disable { user: String },
    /// Enable a disabled user.
    Enable { user: String },
    /// End a lockout after failed logins now, instead of waiting for it.
    Unlock { user: String },
    /// List accounts locked now.
    Lockouts,
    /// Second factors: list a user's, or reset them.
    Mfa {
        #[command(subcommand)]
        action: MfaAction,
    },
    /// Set a user's password, read from standard input.
    SetPassword {
        user: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MfaAction {
    /// What the user has enrolled.
    List {
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Remove all of the user's second factors (for a lost device) and end
    /// their sessions; where policy requires one, they enrol again at login.
    Reset {
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
}

pub async fn run(action: UserAction, settings: Settings, json: bool) -> Result<(), CliError> {
    let db = open_db(&settings).await?;
    super::require_schema(&db).await?;
    let hasher = PasswordHasher::new(1)?;
    let result = dispatch(action, &db, &hasher, &settings.password_policy(), json).await;
    db.close_by_ref().await?;
    result
}

async fn dispatch(
    action: UserAction,
    db: &Db,
    hasher: &PasswordHasher,
    policy: &PasswordPolicy,
    json: bool,
) -> Result<(), CliError> {
    match action {
        UserAction::Create { username, email, display_name, admin, password_stdin } => {
            let (password, generated) = if password_stdin {
                (Password::parse(read_password_stdin()?)?, None)
            } else {
                let token = Zeroizing::new(crate::crypto::random_token(18)?);
                (Password::parse(token.clone())?, Some(token))
            };
            let new = NewUser {
                username: Username::parse(&username)?,
                email: email.as_deref().map(parse_email).transpose()?,
                display_name: display_name.as_deref().map(parse_display_name).transpose()?,
                password: Some(password),
                is_admin: admin,
            };
            let user = users::create_user(db, hasher, policy, new, Utc::now()).await?;
            audit(db, "user.created", &user.id).await?;
            let mut out = user_json(&user);
            if let Some(pw) = &generated {
                out["password"] = json!(pw.as_str());
            }
            show(json, &out, generated.is_some().then_some("password"));
        }
        UserAction::List { limit, offset } => {
            let list = repo::list(db, offset, limit.min(10_000)).await?;
            if json {
                print_json(
                    &json!({ "total": repo::count(db).await?, "users": list.iter().map(user_json).collect::<Vec<_>>() }),
                );
            } else {
                println!("{:<36}  {:<24}  {:<6}  {:<5}  email", "id", "username", "active", "admin");
                for u in &list {
                    println!(
                        "{:<36}  {:<24}  {:<6}  {:<5}  {}",
                        u.id,
                        u.username,
                        u.active,
                        u.is_admin,
                        u.email.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        UserAction::Show { user } => show(json, &user_json(&users::find_user(db, &user).await?), None),
        UserAction::Export { user } => {
            let u = users::find_user(db, &user).await?;
            // Disclosed only once the disclosure is on record.
            audit(db, "user.exported", &u.id).await?;
            print_json(&crate::accounts::export::export(db, &u.id, Utc::now()).await?);
        }
        UserAction::Disable { user } => {
            let u = users::set_active(db, &users::find_user(db, &user).await?, false, Utc::now()).await?;
            audit(db, "user.disabled", &u.id).await?;
            show(json, &user_json(&u), None);
        }
        UserAction::Enable { user } => {
            let u = users::set_active(db, &users::find_user(db, &user).await?, true, Utc::now()).await?;
            audit(db, "user.enabled", &u.id).await?;
            show(json, &user_json(&u), None);
        }
        UserAction::Unlock { user } => {
            let u = users::find_user(db, &user).await?;
            let was = crate::store::lockouts::clear(db, &u.id, Utc::now()).await?;
            if was {
                audit(db, "account.unlocked", &u.id).await?;
            }
            let v = serde_json::json!({"id": u.id, "username": u.username, "was_locked": was});
            if json {
                super::print_json(&v);
            } else if was {
                println!("unlocked {}", u.username);
            } else {
                println!("{} was not locked", u.username);
            }
        }
        UserAction::Lockouts => {
            let rows = crate::store::lockouts::current(db, Utc::now()).await?;
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(l, name)| {
                    serde_json::json!({
                        "id": l.user_id,
                        "username": name,
                        "locked_until": l.locked_until.map(|t| t.to_rfc3339()),
                        "lockouts": l.lockouts,
                    })
                })
                .collect();
            if json {
                super::print_json(&serde_json::json!(list));
            } else {
                for (l, name) in &rows {
                    let until = l.locked_until.map(|t| t.to_rfc3339()).unwrap_or_default();
                    println!("{}  {:<24} until {until}", l.user_id, name);
                }
            }
        }
        UserAction::Mfa { action: MfaAction::List { user } } => {
            let u = users::find_user(db, &user).await?;
            let f = crate::store::mfa::factors(db, &u.id).await?;
            let keys = crate::store::webauthn::user_credentials(db, &u.id).await?;
            let mut v = mfa_json(&u, &f);
            v["passkeys"] = json!(
                keys.iter()
                    .map(|k| json!({
                        "name": k.name,
                        "created_at": k.created_at.to_rfc3339(),
                        "last_used_at": k.last_used_at.map(|t| t.to_rfc3339()),
                        "synced": k.backup_eligible,
                        "discoverable": k.discoverable,
                    }))
                    .collect::<Vec<_>>()
            );
            if json {
                print_json(&v);
            } else {
                for k in &keys {
                    println!(
                        "passkey         {} (added {}{})",
                        k.name,
                        k.created_at.to_rfc3339(),
                        k.last_used_at.map(|l| format!(", last used {}", l.to_rfc3339())).unwrap_or_default()
                    );
                }
                match &f.totp {
                    Some(t) => println!(
                        "totp            enrolled {}{}",
                        t.confirmed_at.map(|c| c.to_rfc3339()).unwrap_or_default(),
                        t.last_used_at.map(|l| format!(", last used {}", l.to_rfc3339())).unwrap_or_default()
                    ),
                    None => println!("totp            not enrolled"),
                }
                println!("recovery codes  {} left", f.recovery_codes_left);
            }
        }
        UserAction::Mfa { action: MfaAction::Reset { user } } => {
            let u = users::find_user(db, &user).await?;
            let now = Utc::now();
            let removed = crate::store::mfa::reset(db, &u.id).await?;
            let ended =
                crate::store::sessions::end_sessions(db, &u.id, crate::store::sessions::SessionSelector::All, now)
                    .await?;
            audit(db, "mfa.reset", &u.id).await?;
            let mut v = mfa_json(&u, &removed);
            v["sessions_ended"] = json!(ended.len());
            if json {
                print_json(&v);
            } else {
                println!(
                    "reset {}: removed {}, {} passkeys and {} recovery codes; ended {} sessions",
                    u.username,
                    if removed.totp.is_some() { "the authenticator app" } else { "no authenticator app" },
                    removed.webauthn,
                    removed.recovery_codes_left,
                    ended.len()
                );
            }
        }
        UserAction::SetPassword { user, .. } => {
            let target = users::find_user(db, &user).await?;
            let password = Password::parse(read_password_stdin()?)?;
            let u = users::set_password(db, hasher, policy, &target, password, Utc::now()).await?;
            audit(db, "user.password_set", &u.id).await?;
            show(json, &user_json(&u), None);
        }
    }
    Ok(())
}

/// Reads one password from stdin; a single trailing newline is not part of it.
fn read_password_stdin() -> Result<Zeroizing<String>, CliError> {
    let mut buf = Zeroizing::new(String::new());
    std::io::stdin()
        .take(crate::accounts::password_policy::MAX_PASSWORD_INPUT_BYTES as u64 + 2)
        .read_to_string(&mut buf)
        .map_err(|e| CliError(format!("cannot read the password from stdin: {e}")))?;
    let trimmed = buf.strip_suffix('\n').map(|s| s.strip_suffix('\r').unwrap_or(s)).unwrap_or(&buf);
    Ok(Zeroizing::new(trimmed.to_owned()))
}

/// A user's second factors (never a seed or a code).
fn mfa_json(u: &User, f: &crate::store::mfa::Factors) -> serde_json::Value {
    json!({
        "id": u.id,
        "username": u.username,
        "totp": f.totp.as_ref().map(|t| json!({
            "confirmed_at": t.confirmed_at.map(|c| c.to_rfc3339()),
            "last_used_at": t.last_used_at.map(|l| l.to_rfc3339()),
        })),
        "webauthn_credentials": f.webauthn,
        "recovery_codes_left": f.recovery_codes_left,
    })
}

/// The public view of a user: never the password hash.
fn user_json(u: &User) -> serde_json::Value {
    json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "display_name": u.display_name,
        "active": u.active,
        "admin": u.is_admin,
        "created_at": u.created_at.to_rfc3339(),
        "updated_at": u.updated_at.to_rfc3339(),
        "version": u.version,
    })
}
