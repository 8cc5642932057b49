//! Service URLs as logs and errors may show them: the host and database
//! stay, so operators see which server is meant; passwords go.

/// Redacts the password of a `scheme://user:password@host/...` URL and keeps
/// the rest, so operators can still see which database or Redis is meant.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            // set_password only fails for URLs that cannot have one, which
            // cannot be the case when one was parsed.
            let _ = u.set_password(Some("redacted"));
            strip_secret_query(u).to_string()
        }
        Ok(u) => strip_secret_query(u).to_string(),
        Err(_) => "[unparseable, redacted]".to_owned(),
    }
}

fn strip_secret_query(mut u: url::Url) -> url::Url {
    let pairs: Vec<(String, String)> = u
        .query_pairs()
        .map(|(k, v)| {
            let lk = k.to_ascii_lowercase();
            if lk.contains("password") || lk.contains("secret") || lk.contains("token") {
                (k.into_owned(), "redacted".to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    if pairs.is_empty() {
        return u;
    }
    u.query_pairs_mut().clear().extend_pairs(pairs);
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_redacted_but_host_kept() {
        let r = redact_url("postgres://app:s3cr3t@db.internal:5432/gh?sslmode=require&password=x2");
        assert!(!r.contains("s3cr3t"), "{r}");
        assert!(!r.contains("x2"), "{r}");
        assert!(r.contains("db.internal:5432/gh"), "{r}");
        assert!(r.contains("sslmode=require"), "{r}");
    }

    #[test]
    fn url_without_password_is_unchanged() {
        assert_eq!(redact_url("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
    }
}
