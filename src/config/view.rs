//! The effective configuration as `gatehouse config check` shows it:
//! every value with where it came from, every secret redacted.

use super::{Secret, Settings};
use crate::net::redact_url;
use std::collections::BTreeMap;

impl Settings {
    /// The effective configuration with every secret redacted, for
    /// `gatehouse config check`. Keys map to `(value, origin)`.
    pub fn redacted(&self) -> BTreeMap<&'static str, (serde_json::Value, String)> {
        use serde_json::{Value, json};
        let secret = |s: &Option<Secret>| s.as_ref().map_or(Value::Null, |_| json!("[redacted]"));
        let entries: [(&'static str, Value); 50] = [
            ("profile", json!(self.profile)),
            ("issuer", json!(self.issuer)),
            ("bind", json!(self.bind.to_string())),
            ("workers", json!(self.workers)),
            ("data_dir", json!(self.data_dir.display().to_string())),
            ("database_url", json!(redact_url(self.database_url.expose()))),
            ("db_max_connections", json!(self.db_max_connections)),
            ("auto_migrate", json!(self.auto_migrate)),
            ("redis_url", self.redis_url.as_ref().map_or(Value::Null, |u| json!(redact_url(u.expose())))),
            ("master_key", secret(&self.master_key)),
            ("bootstrap_admin_password", secret(&self.bootstrap_admin_password)),
            ("log_format", json!(self.log_format)),
            ("log_level", json!(self.log_level)),
            ("body_limit_bytes", json!(self.body_limit_bytes)),
            ("body_read_timeout_secs", json!(self.body_read_timeout_secs)),
            ("shutdown_timeout_secs", json!(self.shutdown_timeout_secs)),
            ("ready_timeout_ms", json!(self.ready_timeout_ms)),
            ("password_hash_concurrency", json!(self.password_hash_concurrency)),
            ("password_min_length", json!(self.password_min_length)),
            ("password_max_bytes", json!(self.password_max_bytes)),
            ("password_history", json!(self.password_history)),
            ("auth_failures_per_minute", json!(self.auth_failures_per_minute)),
            ("login_failures_per_minute", json!(self.login_failures_per_minute)),
            ("lockout_threshold", json!(self.lockout_threshold)),
            ("lockout_base_secs", json!(self.lockout_base_secs)),
            ("lockout_max_secs", json!(self.lockout_max_secs)),
            ("audit_mask_ips", json!(self.audit_mask_ips)),
            ("audit_mask_emails", json!(self.audit_mask_emails)),
            ("audit_retention_days", json!(self.audit_retention_days)),
            ("audit_machine_tokens_secs", json!(self.audit_machine_tokens_secs)),
            ("client_token_quota_per_minute", json!(self.client_token_quota_per_minute)),
            (
                "rate_limit_redis_policy",
                json!(match self.rate_limit_redis_policy {
                    crate::abuse::shared::RedisPolicy::FailOpenLocal => "fail_open_local",
                    crate::abuse::shared::RedisPolicy::FailClosed => "fail_closed",
                }),
            ),
            ("redis_key_prefix", json!(self.redis_key_prefix)),
            ("trusted_proxies", json!(self.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>())),
            ("metrics_enabled", json!(self.metrics_enabled)),
            ("metrics_token", secret(&self.metrics_token)),
            ("metrics_bind", self.metrics_bind.map_or(Value::Null, |b| json!(b.to_string()))),
            ("admin_token", secret(&self.admin_token)),
            ("key_rotation_days", json!(self.key_rotation_days)),
            ("key_prepublish_secs", json!(self.key_prepublish_secs)),
            ("key_retire_grace_secs", json!(self.key_retire_grace_secs)),
            ("key_refresh_secs", json!(self.key_refresh_secs)),
            ("cache_refresh_secs", json!(self.cache_refresh_secs)),
            ("session_idle_secs", json!(self.session_idle_secs)),
            ("admin_reauth_secs", json!(self.admin_reauth_secs)),
            ("refresh_reuse_grace_secs", json!(self.refresh_reuse_grace_secs)),
            ("session_max_age_secs", json!(self.session_max_age_secs)),
            ("mfa", json!(self.mfa)),
            ("scim_unknown_members", json!(self.scim_unknown_members)),
            // Header values are often credentials: only their names show.
            (
                "traces",
                self.tracing.as_ref().map_or(Value::Null, |t| {
                    json!({
                        "endpoint": redact_url(&t.traces_url),
                        "service_name": t.service_name,
                        "headers": t.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
                        "sampler": { "ratio": t.sampler.ratio, "parent_based": t.sampler.parent_based },
                    })
                }),
            ),
        ];
        entries
            .into_iter()
            .map(|(k, v)| {
                let origin = match k {
                    "traces" if self.tracing.is_some() => "environment (OTEL_*)".to_owned(),
                    _ => self.origins.get(k).map_or_else(|| "default".to_owned(), ToString::to_string),
                };
                (k, (v, origin))
            })
            .collect()
    }
}
