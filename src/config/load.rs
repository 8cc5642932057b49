//! The layering itself: built-in defaults < `gatehouse.toml` < `GATEHOUSE_*`
//! environment, each key remembering which layer set it so that errors can
//! name the exact file key or variable to fix.

use super::ConfigError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every setting Gatehouse knows. Anything else in the file or the
/// environment's `GATEHOUSE_*` namespace is an error: a typo must not be
/// silently ignored in an identity provider.
pub const KEYS: &[&str] = &[
    "profile",
    "issuer",
    "bind",
    "workers",
    "data_dir",
    "database_url",
    "db_max_connections",
    "auto_migrate",
    "redis_url",
    "master_key",
    "bootstrap_admin_password",
    "log_format",
    "log_level",
    "body_limit_bytes",
    "body_read_timeout_secs",
    "shutdown_timeout_secs",
    "ready_timeout_ms",
    "password_hash_concurrency",
    "password_min_length",
    "password_max_bytes",
    "password_history",
    "auth_failures_per_minute",
    "client_token_quota_per_minute",
    "trusted_proxies",
    "rate_limit_redis_policy",
    "redis_key_prefix",
    "metrics_enabled",
    "metrics_token",
    "metrics_bind",
    "admin_token",
    "key_rotation_days",
    "key_prepublish_secs",
    "key_retire_grace_secs",
    "key_refresh_secs",
    "cache_refresh_secs",
    "session_idle_secs",
    "admin_reauth_secs",
    "refresh_reuse_grace_secs",
    "session_max_age_secs",
    "login_failures_per_minute",
    "lockout_threshold",
    "lockout_base_secs",
    "lockout_max_secs",
    "audit_mask_ips",
    "audit_mask_emails",
    "audit_retention_days",
    "audit_machine_tokens_secs",
    "mfa",
    "scim_unknown_members",
];

/// `GATEHOUSE_*` variables that are not settings (the config file path, and
/// the test suite's database).
const NON_SETTING_VARS: &[&str] = &["GATEHOUSE_CONFIG", "GATEHOUSE_TEST_DATABASE_URL"];

/// Where a value came from; printed by `config check` and in every error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// A raw value before it is typed: TOML gives types, the environment gives
/// strings that are parsed by the typed getters.
#[derive(Debug, Clone)]
pub struct RawValue {
    pub value: toml::Value,
    pub origin: Origin,
}

/// The merged layers, key → last value set.
#[derive(Debug, Default)]
pub struct Layers {
    values: BTreeMap<String, RawValue>,
    /// The `OTEL_*` variables Gatehouse reads (see [`super::otel`]).
    otel: BTreeMap<String, String>,
}

impl Layers {
    /// Reads the file (if any) and then the environment over it.
    pub fn gather(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layers = Layers::default();
        if let Some(path) = file {
            layers.apply_file(path)?;
        }
        layers.apply_env(env)?;
        Ok(layers)
    }

    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.values.get(key)
    }

    pub fn otel(&self) -> &BTreeMap<String, String> {
        &self.otel
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File { path: path.to_owned(), message: e.to_string() })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::File { path: path.to_owned(), message: e.to_string() })?;
        let mut layer = BTreeMap::new();
        for (key, value) in table {
            let origin = Origin::File(path.to_owned());
            let (key, value) = resolve_key(&key, value, &origin)?;
            insert_once(&mut layer, key, RawValue { value, origin })?;
        }
        self.values.extend(layer);
        Ok(())
    }

    fn apply_env(&mut self, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
        let mut layer = BTreeMap::new();
        for (var, value) in env {
            if super::otel::VARS.contains(&var.as_str()) {
                self.otel.insert(var, value);
                continue;
            }
            let Some(suffix) = var.strip_prefix("GATEHOUSE_") else {
                continue;
            };
            if NON_SETTING_VARS.contains(&var.as_str()) || suffix.starts_with("TEST_") {
                continue;
            }
            let origin = Origin::Env(var.clone());
            let key = suffix.to_ascii_lowercase();
            let (key, value) = resolve_key(&key, toml::Value::String(value), &origin)?;
            insert_once(&mut layer, key, RawValue { value, origin })?;
        }
        self.values.extend(layer);
        Ok(())
    }
}

/// Maps `key` or `key_file` to the setting and its value; `*_file` reads the
/// value from the named file (for container secrets).
fn resolve_key(key: &str, value: toml::Value, origin: &Origin) -> Result<(String, toml::Value), ConfigError> {
    if KEYS.contains(&key) {
        return Ok((key.to_owned(), value));
    }
    if let Some(base) = key.strip_suffix("_file").filter(|b| KEYS.contains(b)) {
        let toml::Value::String(path) = value else {
            return Err(ConfigError::invalid(base, origin, "a *_file setting must be a path string"));
        };
        let content = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError::invalid(base, origin, format!("cannot read secret file {path}: {e}")))?;
        // Files written by `echo` or editors end with a newline that is not
        // part of the secret.
        let trimmed = content.trim_end_matches(['\n', '\r']).to_owned();
        return Ok((base.to_owned(), toml::Value::String(trimmed)));
    }
    Err(ConfigError::UnknownKey { key: key.to_owned(), origin: origin.clone() })
}

fn insert_once(layer: &mut BTreeMap<String, RawValue>, key: String, raw: RawValue) -> Result<(), ConfigError> {
    if let Some(prev) = layer.get(&key) {
        return Err(ConfigError::invalid(
            &key,
            &raw.origin,
            format!("also set by {}; set either the value or its *_file, not both", prev.origin),
        ));
    }
    layer.insert(key, raw);
    Ok(())
}
