use super::*;
use crate::store::DatabaseKind;
use std::io::Write;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn file(contents: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(contents.as_bytes()).unwrap();
    f
}

fn err(file_text: Option<&str>, vars: &[(&str, &str)]) -> String {
    let f = file_text.map(file);
    let e = Settings::load(f.as_ref().map(|f| f.path()), env(vars)).unwrap_err();
    e.to_string()
}

#[test]
fn defaults_are_a_working_dev_setup() {
    let s = Settings::load(None, env(&[])).unwrap();
    assert_eq!(s.profile, Profile::Dev);
    assert_eq!(s.issuer, "http://127.0.0.1:8080");
    assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database_url.expose(), "sqlite://data/gatehouse.db?mode=rwc");
    assert_eq!(s.database_kind(), DatabaseKind::Sqlite);
    assert!(s.auto_migrate);
    assert_eq!(s.log_format, LogFormat::Pretty);
    assert!(s.master_key.is_none());
    assert!(s.origins.is_empty());
}

#[test]
fn env_overrides_file_which_overrides_defaults() {
    let f = file("issuer = \"https://id.example.com\"\nbind = \"0.0.0.0:9000\"\nbody_limit_bytes = 2048\n");
    let s = Settings::load(Some(f.path()), env(&[("GATEHOUSE_BIND", "127.0.0.1:9100"), ("UNRELATED", "x")])).unwrap();
    assert_eq!(s.issuer, "https://id.example.com");
    assert_eq!(s.bind.to_string(), "127.0.0.1:9100");
    assert_eq!(s.body_limit_bytes, 2048);
    assert_eq!(s.origins["bind"], load::Origin::Env("GATEHOUSE_BIND".into()));
    assert_eq!(s.origins["issuer"], load::Origin::File(f.path().to_owned()));
    assert_eq!(s.shutdown_timeout_secs, 30, "untouched keys keep their default");
}

#[test]
fn env_strings_are_typed_like_file_values() {
    let s = Settings::load(
        None,
        env(&[
            ("GATEHOUSE_AUTO_MIGRATE", "false"),
            ("GATEHOUSE_BODY_LIMIT_BYTES", "4096"),
            ("GATEHOUSE_LOG_FORMAT", "json"),
        ]),
    )
    .unwrap();
    assert!(!s.auto_migrate);
    assert_eq!(s.body_limit_bytes, 4096);
    assert_eq!(s.log_format, LogFormat::Json);
}

#[test]
fn secrets_can_come_from_files_with_trailing_newline_trimmed() {
    let key_file = file(&format!("{KEY}\n"));
    let path = key_file.path().to_str().unwrap();
    let s = Settings::load(None, env(&[("GATEHOUSE_MASTER_KEY_FILE", path)])).unwrap();
    assert_eq!(s.master_key.unwrap().expose(), KEY);

    let cfg = file(&format!("metrics_token_file = \"{}\"\n", file("0123456789abcdef0123\n").path().display()));
    // the inner temp file is dropped (deleted) before load: the error names the setting
    let e = Settings::load(Some(cfg.path()), env(&[])).unwrap_err().to_string();
    assert!(e.contains("`metrics_token`") && e.contains("cannot read secret file"), "{e}");
}

#[test]
fn value_and_its_file_together_are_refused() {
    let e = err(None, &[("GATEHOUSE_MASTER_KEY", KEY), ("GATEHOUSE_MASTER_KEY_FILE", "/nonexistent")]);
    assert!(e.contains("master_key"), "{e}");
}

#[test]
fn unknown_file_key_is_refused() {
    let e = err(Some("isuer = \"http://127.0.0.1:1\"\n"), &[]);
    assert!(e.contains("unknown setting `isuer`"), "{e}");
}

#[test]
fn unknown_env_var_is_refused_but_non_settings_are_not() {
    let e = err(None, &[("GATEHOUSE_ISUER", "x")]);
    assert!(e.contains("`isuer`") && e.contains("GATEHOUSE_ISUER"), "{e}");
    Settings::load(None, env(&[("GATEHOUSE_CONFIG", "x"), ("GATEHOUSE_TEST_DATABASE_URL", "postgres://x")])).unwrap();
}

#[test]
fn malformed_toml_names_the_file() {
    let e = err(Some("issuer = \n"), &[]);
    assert!(e.contains("configuration file"), "{e}");
}

#[test]
fn wrong_types_are_refused_with_the_setting_named() {
    for (vars, key) in [
        (&[("GATEHOUSE_BODY_LIMIT_BYTES", "abc")][..], "body_limit_bytes"),
        (&[("GATEHOUSE_BODY_LIMIT_BYTES", "0")][..], "body_limit_bytes"),
        (&[("GATEHOUSE_BODY_LIMIT_BYTES", "999999999")][..], "body_limit_bytes"),
        (&[("GATEHOUSE_AUTO_MIGRATE", "perhaps")][..], "auto_migrate"),
        (&[("GATEHOUSE_BIND", "localhost")][..], "bind"),
        (&[("GATEHOUSE_PROFILE", "staging")][..], "profile"),
        (&[("GATEHOUSE_LOG_FORMAT", "xml")][..], "log_format"),
        (&[("GATEHOUSE_LOG_LEVEL", "info,[[[")][..], "log_level"),
        (&[("GATEHOUSE_DATABASE_URL", "mysql://x")][..], "database_url"),
        (&[("GATEHOUSE_REDIS_URL", "http://x")][..], "redis_url"),
        (&[("GATEHOUSE_MASTER_KEY", "too-short")][..], "master_key"),
        (&[("GATEHOUSE_METRICS_TOKEN", "short")][..], "metrics_token"),
        (&[("GATEHOUSE_METRICS_BIND", "127.0.0.1:8080")][..], "metrics_bind"),
        (&[("GATEHOUSE_ISSUER", "")][..], "issuer"),
        (
            &[("GATEHOUSE_KEY_ROTATION_DAYS", "1"), ("GATEHOUSE_KEY_PREPUBLISH_SECS", "86400")][..],
            "key_prepublish_secs",
        ),
        (&[("GATEHOUSE_KEY_RETIRE_GRACE_SECS", "60")][..], "key_retire_grace_secs"),
        (&[("GATEHOUSE_KEY_REFRESH_SECS", "0")][..], "key_refresh_secs"),
        (&[("GATEHOUSE_CACHE_REFRESH_SECS", "61")][..], "cache_refresh_secs"),
        (&[("GATEHOUSE_TRUSTED_PROXIES", "10.0.0.0/33")][..], "trusted_proxies"),
        (&[("GATEHOUSE_AUTH_FAILURES_PER_MINUTE", "-1")][..], "auth_failures_per_minute"),
        (&[("GATEHOUSE_PASSWORD_MIN_LENGTH", "6")][..], "password_min_length"),
        (
            &[("GATEHOUSE_PASSWORD_MIN_LENGTH", "100"), ("GATEHOUSE_PASSWORD_MAX_BYTES", "64")][..],
            "password_min_length",
        ),
        (&[("GATEHOUSE_ADMIN_TOKEN", "too-short-for-an-admin-token")][..], "admin_token"),
        (&[("GATEHOUSE_ADMIN_TOKEN", " padded-admin-token-0123456789abcdef ")][..], "admin_token"),
    ] {
        let e = err(None, vars);
        assert!(e.contains(&format!("`{key}`")), "{vars:?}: {e}");
    }
    let e = err(Some("workers = \"many\"\n"), &[]);
    assert!(e.contains("`workers`"), "{e}");
    let e = err(Some("issuer = 5\n"), &[]);
    assert!(e.contains("`issuer`") && e.contains("expected a string"), "{e}");
}

#[test]
fn issuer_must_be_an_absolute_url_without_query_or_fragment() {
    for bad in [
        "example.com",
        "/relative",
        "ftp://example.com",
        "https://example.com?x=1",
        "https://example.com#frag",
        "https://user:pw@example.com",
        "https://example.com/",
    ] {
        let e = err(None, &[("GATEHOUSE_ISSUER", bad)]);
        assert!(e.contains("`issuer`"), "{bad}: {e}");
    }
    let s = Settings::load(None, env(&[("GATEHOUSE_ISSUER", "https://example.com/tenant1")])).unwrap();
    assert_eq!(s.issuer, "https://example.com/tenant1");
}

fn production(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v = env(&[
        ("GATEHOUSE_PROFILE", "production"),
        ("GATEHOUSE_ISSUER", "https://id.example.com"),
        ("GATEHOUSE_MASTER_KEY", KEY),
        ("GATEHOUSE_METRICS_TOKEN", "0123456789abcdef"),
    ]);
    for (k, val) in extra {
        v.retain(|(key, _)| key != k);
        v.push(((*k).to_owned(), (*val).to_owned()));
    }
    v
}

#[test]
fn production_is_strict() {
    let s = Settings::load(None, production(&[])).unwrap();
    assert_eq!(s.log_format, LogFormat::Json);
    assert!(!s.auto_migrate);

    let e = Settings::load(None, production(&[("GATEHOUSE_ISSUER", "http://id.example.com")])).unwrap_err().to_string();
    assert!(e.contains("`issuer`") && e.contains("loopback"), "{e}");
    Settings::load(None, production(&[("GATEHOUSE_ISSUER", "http://localhost:8080")])).unwrap();
    Settings::load(None, production(&[("GATEHOUSE_ISSUER", "http://[::1]:8080")])).unwrap();

    let mut no_key = production(&[]);
    no_key.retain(|(k, _)| k != "GATEHOUSE_MASTER_KEY");
    let e = Settings::load(None, no_key).unwrap_err().to_string();
    assert!(e.contains("`master_key`") && e.contains("required in production"), "{e}");

    let mut open_metrics = production(&[]);
    open_metrics.retain(|(k, _)| k != "GATEHOUSE_METRICS_TOKEN");
    let e = Settings::load(None, open_metrics.clone()).unwrap_err().to_string();
    assert!(e.contains("metrics"), "{e}");
    open_metrics.push(("GATEHOUSE_METRICS_BIND".into(), "127.0.0.1:9464".into()));
    Settings::load(None, open_metrics).unwrap();
}

#[test]
fn redacted_view_hides_every_secret() {
    let s = Settings::load(
        None,
        production(&[
            ("GATEHOUSE_DATABASE_URL", "postgres://gh:pg-pass-123@db/gh"),
            ("GATEHOUSE_REDIS_URL", "redis://:redis-pass-456@cache:6379"),
            ("GATEHOUSE_BOOTSTRAP_ADMIN_PASSWORD", "admin-pass-789"),
        ]),
    )
    .unwrap();
    let shown = serde_json::to_string(&s.redacted()).unwrap();
    for secret in [KEY, "0123456789abcdef", "pg-pass-123", "redis-pass-456", "admin-pass-789"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(shown.contains("db/gh"), "{shown}");
    assert!(!format!("{s:?}").contains("pg-pass-123"));
}

#[test]
fn example_file_is_valid_and_documents_every_key() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("gatehouse.example.toml");
    Settings::load(Some(&path), env(&[])).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for key in load::KEYS {
        assert!(
            text.contains(&format!("{key} =")) || text.contains(&format!("{key}_file =")),
            "gatehouse.example.toml does not document `{key}`"
        );
    }
}

#[test]
fn redacted_view_lists_every_key() {
    let s = Settings::load(None, env(&[])).unwrap();
    let shown: Vec<&str> = s.redacted().keys().copied().collect();
    let mut keys = load::KEYS.to_vec();
    keys.push("traces"); // not a key: the OTEL_* variables
    keys.sort_unstable();
    assert_eq!(shown, keys);
}

#[test]
fn the_pool_defaults_to_the_cores_on_sqlite_and_ten_on_postgres() {
    assert_eq!(default_pool_size(true, 1), 2);
    assert_eq!(default_pool_size(true, 2), 2);
    assert_eq!(default_pool_size(true, 16), 16);
    assert_eq!(default_pool_size(false, 2), 10);
    assert_eq!(default_pool_size(false, 64), 10);
}
