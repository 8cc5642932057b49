//! Registered redirect URIs (RFC 6749 §3.1.2, RFC 8252, OAuth 2.0 Security
//! BCP): absolute, no fragment, no wildcard, https, with RFC 8252's
//! exceptions for loopback and private-use schemes. Matching at the
//! authorization endpoint is exact string comparison against these.

use super::ClientType;

/// Longest redirect URI accepted.
pub const MAX_REDIRECT_URI_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUriError {
    #[error("longer than {MAX_REDIRECT_URI_LEN} bytes")]
    TooLong,
    #[error("not an absolute URI")]
    NotAbsolute,
    #[error("must not contain a fragment")]
    Fragment,
    #[error("wildcards are not allowed; register each URI exactly")]
    Wildcard,
    #[error("must not contain user information")]
    UserInfo,
    #[error("must not contain whitespace or control characters")]
    Whitespace,
    #[error("plain http is only allowed for loopback IP literals (127.0.0.1 or [::1]); use https")]
    InsecureHttp,
    #[error("use the loopback IP literal 127.0.0.1 or [::1] instead of `localhost` (RFC 8252 §8.3)")]
    LocalhostName,
    #[error("write the loopback address in its canonical form (127.0.0.1 or [::1], lower-case, with a path)")]
    NonCanonicalLoopback,
    #[error(
        "scheme `{0}` is not allowed; use https, loopback http, or (public clients) a reverse-domain private-use scheme"
    )]
    Scheme(String),
}

/// A redirect URI that passed registration rules; compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a URI a client wants to register.
pub fn validate_registered(raw: &str, client_type: ClientType) -> Result<RedirectUri, RedirectUriError> {
    if raw.len() > MAX_REDIRECT_URI_LEN {
        return Err(RedirectUriError::TooLong);
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(RedirectUriError::Whitespace);
    }
    if raw.contains('#') {
        return Err(RedirectUriError::Fragment);
    }
    if raw.contains('*') {
        return Err(RedirectUriError::Wildcard);
    }
    let url = url::Url::parse(raw).map_err(|_| RedirectUriError::NotAbsolute)?;
    // `https:host/path` parses (the URL standard is forgiving) but is not
    // the hierarchical form RFC 3986 requires for http(s).
    let web = matches!(url.scheme(), "https" | "http");
    if web && !raw.get(url.scheme().len()..).is_some_and(|rest| rest.starts_with("://")) {
        return Err(RedirectUriError::NotAbsolute);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RedirectUriError::UserInfo);
    }
    match url.scheme() {
        "https" if url.host_str().is_some_and(|h| !h.is_empty()) => {}
        "https" => return Err(RedirectUriError::NotAbsolute),
        // Loopback URIs are compared with the port ignored (RFC 8252 §7.3),
        // which needs one spelling: `127.1` or `0x7f.0.0.1` parse as
        // 127.0.0.1 but would never match a request byte for byte.
        "http" if url.as_str() != raw && url.host().is_some_and(is_loopback) => {
            return Err(RedirectUriError::NonCanonicalLoopback);
        }
        "http" => match url.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => {}
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => {}
            Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                return Err(RedirectUriError::LocalhostName);
            }
            _ => return Err(RedirectUriError::InsecureHttp),
        },
        // RFC 8252 §7.1: private-use schemes are reverse domain names
        // (`com.example.app:/cb`), for native (public) clients only. This
        // also keeps out `javascript:`, `data:`, `file:` and friends.
        scheme if client_type == ClientType::Public && scheme.contains('.') => {}
        scheme => return Err(RedirectUriError::Scheme(scheme.to_owned())),
    }
    Ok(RedirectUri(raw.to_owned()))
}

fn is_loopback(h: url::Host<&str>) -> bool {
    match h {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(_) => false,
    }
}

/// For loopback redirect URIs the port may vary per request (RFC 8252
/// §7.3): true when `requested` equals `registered` except for the port.
pub fn matches_loopback_ignoring_port(registered: &RedirectUri, requested: &str) -> bool {
    let (Ok(mut reg), Ok(mut req)) = (url::Url::parse(registered.as_str()), url::Url::parse(requested)) else {
        return false;
    };
    let loopback = |u: &url::Url| {
        u.scheme() == "http"
            && (matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
                || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback()))
    };
    // The requested string must already be in canonical form: the parser
    // would turn `0x7f.0.0.1` or `2130706433` into `127.0.0.1`, and only
    // the port may differ from what was registered, byte for byte.
    if !loopback(&reg) || !loopback(&req) || requested.contains('#') || req.as_str() != requested {
        return false;
    }
    // set_port cannot fail on http URLs with a host.
    let _ = reg.set_port(None);
    let _ = req.set_port(None);
    reg == req
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientType::{Confidential, Public};

    #[test]
    fn accepted_uris() {
        for (uri, ty) in [
            ("https://app.example.com/callback", Confidential),
            ("https://app.example.com/cb?tenant=1", Confidential),
            ("http://127.0.0.1:8765/callback", Public),
            ("http://127.0.0.1/callback", Confidential),
            ("http://[::1]:9000/cb", Public),
            ("com.example.app:/oauth2redirect", Public),
        ] {
            let r = validate_registered(uri, ty).unwrap_or_else(|e| panic!("{uri}: {e}"));
            assert_eq!(r.as_str(), uri, "stored exactly as given");
        }
    }

    #[test]
    fn refused_uris() {
        use RedirectUriError as E;
        for (uri, ty, want) in [
            ("/callback", Confidential, E::NotAbsolute),
            ("app.example.com/cb", Confidential, E::NotAbsolute),
            ("https:app.example.com/cb", Confidential, E::NotAbsolute),
            ("https:/app.example.com/cb", Confidential, E::NotAbsolute),
            ("https://app.example.com/cb#frag", Confidential, E::Fragment),
            ("https://app.example.com/cb#", Confidential, E::Fragment),
            ("https://*.example.com/cb", Confidential, E::Wildcard),
            ("https://app.example.com/*", Confidential, E::Wildcard),
            ("https://user:pw@app.example.com/cb", Confidential, E::UserInfo),
            ("https://app.example.com/c b", Confidential, E::Whitespace),
            ("http://app.example.com/cb", Confidential, E::InsecureHttp),
            ("http://10.0.0.1/cb", Public, E::InsecureHttp),
            ("http://localhost:8080/cb", Public, E::LocalhostName),
            ("http://127.1/cb", Public, E::NonCanonicalLoopback),
            ("http://0x7f.0.0.1/cb", Public, E::NonCanonicalLoopback),
            ("http://2130706433/cb", Confidential, E::NonCanonicalLoopback),
            ("http://127.0.0.1", Public, E::NonCanonicalLoopback),
            ("javascript:alert(1)", Public, E::Scheme("javascript".into())),
            ("data:text/html,x", Public, E::Scheme("data".into())),
            ("com.example.app:/cb", Confidential, E::Scheme("com.example.app".into())),
            ("myapp://cb", Public, E::Scheme("myapp".into())),
        ] {
            assert_eq!(validate_registered(uri, ty), Err(want), "{uri}");
        }
        assert_eq!(validate_registered(&format!("https://a.example/{}", "x".repeat(2048)), Public), Err(E::TooLong));
    }

    #[test]
    fn loopback_port_may_vary_but_nothing_else() {
        let reg = validate_registered("http://127.0.0.1/callback", Public).unwrap();
        assert!(matches_loopback_ignoring_port(&reg, "http://127.0.0.1:51004/callback"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://127.0.0.1:51004/other"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://127.0.0.2:51004/callback"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://127.0.0.1:51004/callback#x"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://0x7f.0.0.1:51004/callback"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://2130706433:51004/callback"));
        assert!(!matches_loopback_ignoring_port(&reg, "http://127.000.000.001:51004/callback"));
        let https = validate_registered("https://app.example.com/cb", Confidential).unwrap();
        assert!(!matches_loopback_ignoring_port(&https, "https://app.example.com:444/cb"));
    }
}
