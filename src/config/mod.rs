//! Settings: built-in defaults < `gatehouse.toml` (from `--config` or
//! `GATEHOUSE_CONFIG`) < `GATEHOUSE_*` environment variables, secrets also via
//! `*_FILE`. Everything is validated once, at start, and an error names the
//! setting and where its value came from.

pub mod load;
pub mod otel;
mod policies;
mod resolve;
mod secret;
mod view;

use load::{Layers, Origin};
use resolve::Resolver;
pub use secret::Secret;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("unknown setting `{key}` (from {origin}); see gatehouse.example.toml for the valid keys")]
    UnknownKey { key: String, origin: Origin },
    #[error("setting `{key}` (from {origin}): {message}")]
    Invalid { key: String, origin: Origin, message: String },
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, origin: &Origin, message: impl Into<String>) -> Self {
        ConfigError::Invalid { key: key.to_owned(), origin: origin.clone(), message: message.into() }
    }
}

/// `dev` favours a one-command start; `production` refuses unsafe choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Dev,
    Production,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Dev => "dev",
            Profile::Production => "production",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

/// The validated, typed configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub profile: Profile,
    /// The issuer identifier, without a trailing slash (OIDC Discovery §4.3
    /// compares it as a string).
    pub issuer: String,
    pub bind: SocketAddr,
    pub workers: usize,
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub db_max_connections: u32,
    pub auto_migrate: bool,
    pub redis_url: Option<Secret>,
    pub master_key: Option<Secret>,
    pub bootstrap_admin_password: Option<Secret>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub body_limit_bytes: usize,
    /// Longest a client may take to send a request body once its headers
    /// arrived: a trickled body is answered 408 and the connection closed.
    pub body_read_timeout_secs: u64,
    pub shutdown_timeout_secs: u64,
    pub ready_timeout_ms: u64,
    pub password_hash_concurrency: usize,
    pub password_min_length: usize,
    pub password_max_bytes: usize,
    pub password_history: usize,
    /// Failed authentications allowed per minute per (IP, client or
    /// identity), five times that per IP; 0 turns the limits off.
    pub auth_failures_per_minute: u32,
    /// Failed logins per minute per (source IP, username) before `429`.
    pub login_failures_per_minute: u32,
    /// Failed logins on one account (from anywhere) within 15 minutes that
    /// lock it; 0 turns lockout off.
    pub lockout_threshold: u32,
    /// The first lockout's length; each next one doubles, up to the max.
    pub lockout_base_secs: u64,
    pub lockout_max_secs: u64,
    /// Store only the /24 (IPv4) or /48 (IPv6) of addresses in audit events.
    pub audit_mask_ips: bool,
    /// Store `a***@example.com` for email addresses in audit events.
    pub audit_mask_emails: bool,
    /// Audit events older than this many days are purged; 0 keeps them.
    pub audit_retention_days: u64,
    /// How often the per-client count of `client_credentials` tokens is
    /// written to the audit log (one event per client per period).
    pub audit_machine_tokens_secs: u64,
    /// Tokens each client may obtain per minute (burst the same); 0 = no quota.
    pub client_token_quota_per_minute: u32,
    /// Under Redis trouble: keep local budgets, or refuse failure-path checks.
    pub rate_limit_redis_policy: crate::abuse::shared::RedisPolicy,
    /// Prepended to every Redis key (several deployments, one Redis).
    pub redis_key_prefix: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::net::IpNet>,
    pub metrics_enabled: bool,
    pub metrics_token: Option<Secret>,
    pub metrics_bind: Option<SocketAddr>,
    /// Bearer credential for `/admin/api/v1`; unset, the admin API is not served.
    pub admin_token: Option<Secret>,
    pub key_rotation_days: u64,
    pub key_prepublish_secs: u64,
    pub key_retire_grace_secs: u64,
    pub key_refresh_secs: u64,
    /// How stale a cached client registration or revocation list may be:
    /// changes made by another instance or the CLI arrive within this.
    pub cache_refresh_secs: u64,
    /// A browser login session unused for this long ends.
    pub session_idle_secs: u64,
    /// Admin console changes take the password again once the sign-in is older (sudo mode).
    pub admin_reauth_secs: u64,
    /// How long after a rotation the spent refresh token may be presented
    /// once more (its response was lost) without revoking the family; 0 is
    /// strict.
    pub refresh_reuse_grace_secs: u32,
    /// A browser login session ends this long after login, however active.
    pub session_max_age_secs: u64,
    /// Who must use a second factor at login.
    pub mfa: crate::mfa::MfaPolicy,
    /// What a SCIM group write does with member ids it does not know.
    pub scim_unknown_members: crate::scim::service::UnknownMembers,
    /// Trace export, from the standard `OTEL_*` variables; `None`: off.
    pub tracing: Option<otel::Tracing>,
    /// Where each setting came from, for `config check`.
    pub origins: BTreeMap<&'static str, Origin>,
}

const MAX_BODY_LIMIT: u64 = 16 * 1024 * 1024;

impl Settings {
    /// Loads from the optional file and the given environment (the process
    /// environment in production; a fixed list in tests).
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let layers = Layers::gather(file, env)?;
        Self::resolve(&layers)
    }

    /// Loads from `--config`/`GATEHOUSE_CONFIG` and the process environment.
    pub fn from_process(config_flag: Option<&Path>) -> Result<Self, ConfigError> {
        let env_path = std::env::var_os("GATEHOUSE_CONFIG").map(PathBuf::from);
        let file = config_flag.map(Path::to_path_buf).or(env_path);
        Self::load(file.as_deref(), std::env::vars())
    }

    fn resolve(layers: &Layers) -> Result<Self, ConfigError> {
        let mut r = Resolver { layers, origins: BTreeMap::new() };
        let profile = match r.string("profile")?.as_deref() {
            None | Some("dev") => Profile::Dev,
            Some("production") => Profile::Production,
            Some(other) => return Err(r.error("profile", format!("expected `dev` or `production`, got `{other}`"))),
        };
        let dev = profile == Profile::Dev;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());

        let issuer = r.string("issuer")?.unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
        validate_issuer(&issuer, profile).map_err(|m| r.error("issuer", m))?;

        let bind = r.socket_addr("bind")?.unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = PathBuf::from(r.string("data_dir")?.unwrap_or_else(|| "data".to_owned()));
        let database_url = match r.string("database_url")? {
            Some(url) => url,
            None => format!("sqlite://{}/gatehouse.db?mode=rwc", data_dir.display()),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(r.error("database_url", "must start with sqlite:, postgres:// or postgresql://"));
        }
        let sqlite = database_url.starts_with("sqlite:");
        let redis_url = r.string("redis_url")?;
        if let Some(u) = &redis_url
            && !u.starts_with("redis://")
        {
            return Err(r.error("redis_url", "must start with redis:// (TLS, rediss://, is not supported yet)"));
        }

        let master_key = r.string("master_key")?;
        match &master_key {
            Some(k) => {
                crate::crypto::MasterKey::decode(k).map_err(|e| r.error("master_key", e.to_string()))?;
            }
            None if !dev => {
                return Err(r.error(
                    "master_key",
                    "required in production (32 random bytes, base64; e.g. `openssl rand -base64 32`), \
                     preferably via GATEHOUSE_MASTER_KEY_FILE",
                ));
            }
            None => {}
        }
        let bootstrap_admin_password = r.string("bootstrap_admin_password")?;

        let log_format = match r.string("log_format")?.as_deref() {
            None if dev => LogFormat::Pretty,
            None => LogFormat::Json,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => return Err(r.error("log_format", format!("expected `json` or `pretty`, got `{other}`"))),
        };
        let log_level = r.string("log_level")?.unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_level)
            .map_err(|e| r.error("log_level", format!("not a valid filter: {e}")))?;

        let metrics_enabled = r.boolean("metrics_enabled")?.unwrap_or(true);
        let metrics_token = r.string("metrics_token")?;
        if let Some(t) = &metrics_token
            && t.len() < 16
        {
            return Err(r.error("metrics_token", "must be at least 16 characters"));
        }
        let trusted_proxies = match r.string("trusted_proxies")? {
            None => Vec::new(),
            Some(s) => crate::net::parse_list(&s).map_err(|m| r.error("trusted_proxies", m))?,
        };
        let rate_limit_redis_policy = match r.string("rate_limit_redis_policy")?.as_deref() {
            None | Some("fail_open_local") => crate::abuse::shared::RedisPolicy::FailOpenLocal,
            Some("fail_closed") => crate::abuse::shared::RedisPolicy::FailClosed,
            Some(other) => {
                return Err(r.error(
                    "rate_limit_redis_policy",
                    format!("expected `fail_open_local` or `fail_closed`, got `{other}`"),
                ));
            }
        };
        let scim_unknown_members = match r.string("scim_unknown_members")? {
            None => crate::scim::service::UnknownMembers::Ignore,
            Some(v) => v.parse().map_err(|m: String| r.error("scim_unknown_members", m))?,
        };
        let mfa = match r.string("mfa")? {
            None => crate::mfa::MfaPolicy::Optional,
            Some(v) => v.parse().map_err(|m: String| r.error("mfa", m))?,
        };
        let redis_key_prefix = r.string("redis_key_prefix")?.unwrap_or_else(|| "gatehouse:".to_owned());
        let password_min_length = r.int("password_min_length", 8, 256)?.map_or(12, |v| v as usize);
        let password_max_bytes = r
            .int("password_max_bytes", 64, crate::accounts::password_policy::MAX_PASSWORD_INPUT_BYTES as u64)?
            .map_or(1024, |v| v as usize);
        if password_min_length > password_max_bytes {
            return Err(r.error("password_min_length", "must not exceed password_max_bytes"));
        }
        let admin_token = r.string("admin_token")?;
        if admin_token.as_ref().is_some_and(|t| t.trim().len() < 32 || t.trim() != t) {
            return Err(r.error("admin_token", "must be at least 32 characters, without surrounding whitespace"));
        }
        let metrics_bind = r.socket_addr("metrics_bind")?;
        if metrics_enabled && !dev && metrics_token.is_none() && metrics_bind.is_none() {
            return Err(r.error(
                "metrics_enabled",
                "in production /metrics needs `metrics_token` or a separate `metrics_bind` (or set metrics_enabled = false)",
            ));
        }
        if metrics_bind.is_some_and(|m| m == bind && m.port() != 0) {
            return Err(r.error("metrics_bind", "must differ from `bind`"));
        }

        let key_rotation_days = r.int("key_rotation_days", 1, 365)?.unwrap_or(30);
        let key_prepublish_secs = r.int("key_prepublish_secs", 0, 30 * 86_400)?.unwrap_or(86_400);
        if key_prepublish_secs >= key_rotation_days * 86_400 {
            return Err(r.error("key_prepublish_secs", "must be shorter than the rotation period (key_rotation_days)"));
        }

        Ok(Settings {
            profile,
            issuer,
            bind,
            workers: r.int("workers", 1, 256)?.map_or(cpus, |v| v as usize),
            data_dir,
            database_url: Secret::new(database_url),
            db_max_connections: r
                .int("db_max_connections", 1, 1000)?
                .map_or_else(|| default_pool_size(sqlite, cpus), |v| v as u32),
            auto_migrate: r.boolean("auto_migrate")?.unwrap_or(dev),
            redis_url: redis_url.map(Secret::new),
            master_key: master_key.map(Secret::new),
            bootstrap_admin_password: bootstrap_admin_password.map(Secret::new),
            log_format,
            log_level,
            body_limit_bytes: r.int("body_limit_bytes", 1024, MAX_BODY_LIMIT)?.map_or(64 * 1024, |v| v as usize),
            body_read_timeout_secs: r.int("body_read_timeout_secs", 1, 300)?.unwrap_or(10),
            shutdown_timeout_secs: r.int("shutdown_timeout_secs", 0, 3600)?.unwrap_or(30),
            ready_timeout_ms: r.int("ready_timeout_ms", 10, 60_000)?.unwrap_or(2000),
            password_hash_concurrency: r.int("password_hash_concurrency", 1, 256)?.map_or(cpus, |v| v as usize),
            // NIST SP 800-63B: at least 8; the input bound caps the maximum.
            password_min_length,
            password_max_bytes,
            password_history: r.int("password_history", 0, 24)?.map_or(5, |v| v as usize),
            trusted_proxies,
            rate_limit_redis_policy,
            redis_key_prefix,
            client_token_quota_per_minute: r
                .int("client_token_quota_per_minute", 0, 10_000_000)?
                .map_or(0, |v| v as u32),
            auth_failures_per_minute: r.int("auth_failures_per_minute", 0, 10_000)?.map_or(20, |v| v as u32),
            login_failures_per_minute: r.int("login_failures_per_minute", 0, 10_000)?.map_or(5, |v| v as u32),
            lockout_threshold: r.int("lockout_threshold", 0, 1000)?.map_or(10, |v| v as u32),
            lockout_base_secs: r.int("lockout_base_secs", 1, 86_400)?.unwrap_or(60),
            lockout_max_secs: r.int("lockout_max_secs", 1, 30 * 86_400)?.unwrap_or(3600),
            audit_mask_ips: r.boolean("audit_mask_ips")?.unwrap_or(false),
            audit_mask_emails: r.boolean("audit_mask_emails")?.unwrap_or(false),
            audit_retention_days: r.int("audit_retention_days", 0, 36_500)?.unwrap_or(0),
            audit_machine_tokens_secs: r.int("audit_machine_tokens_secs", 1, 3600)?.unwrap_or(60),
            metrics_enabled,
            metrics_token: metrics_token.map(Secret::new),
            metrics_bind,
            admin_token: admin_token.map(Secret::new),
            key_rotation_days,
            key_prepublish_secs,
            // Tokens live at most a day (client lifetimes are capped there).
            key_retire_grace_secs: r.int("key_retire_grace_secs", 86_400, 365 * 86_400)?.unwrap_or(90_000),
            key_refresh_secs: r.int("key_refresh_secs", 1, 60)?.unwrap_or(2),
            cache_refresh_secs: r.int("cache_refresh_secs", 1, 60)?.unwrap_or(2),
            session_idle_secs: r.int("session_idle_secs", 60, 30 * 86_400)?.unwrap_or(8 * 3600),
            admin_reauth_secs: r.int("admin_reauth_secs", 0, 3600)?.unwrap_or(300),
            refresh_reuse_grace_secs: r.int("refresh_reuse_grace_secs", 0, 300)?.map_or(0, |v| v as u32),
            session_max_age_secs: r.int("session_max_age_secs", 300, 365 * 86_400)?.unwrap_or(7 * 86_400),
            mfa,
            scim_unknown_members,
            tracing: otel::resolve(layers.otel())?,
            origins: r.origins,
        })
    }

    /// The issuer uses TLS, so cookies get `Secure` and responses HSTS.
    pub fn issuer_is_https(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

/// SQLite runs one writer and readers in parallel up to the cores; each
/// connection has its own worker thread and page cache, so more of them
/// only add switching and cold caches (measured on 2 cores with
/// `bench/memory.sh`: 2 connections served SCIM lookups and tokens at 2.5x
/// less CPU per request than 10, and stay ~30 MB smaller). PostgreSQL
/// connections are cheap to share; 10 is the usual pool.
fn default_pool_size(sqlite: bool, cpus: usize) -> u32 {
    if sqlite { u32::try_from(cpus.max(2)).unwrap_or(u32::MAX) } else { 10 }
}

/// OIDC Discovery §3: an `https` URL with no query or fragment. Plain `http`
/// is allowed in production only on loopback (for local proxies and tests).
fn validate_issuer(issuer: &str, profile: Profile) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("`{issuer}` is not an absolute URL: {e}"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("scheme must be https (or http on loopback), got `{}`", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host".to_owned());
    }
    if url.query().is_some() || issuer.contains('?') {
        return Err("must not contain a query".to_owned());
    }
    if url.fragment().is_some() || issuer.contains('#') {
        return Err("must not contain a fragment".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain user information".to_owned());
    }
    if issuer.ends_with('/') {
        return Err("must not end with `/` (clients compare the issuer as an exact string)".to_owned());
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && profile == Profile::Production && !loopback {
        return Err("plain http is only allowed on loopback in production; use https".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
