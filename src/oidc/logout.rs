//! RP-Initiated Logout 1.0: the `id_token_hint`, checked without HTTP
//! types (the `post_logout_redirect_uri` is the registry's `Client`'s).

use crate::crypto::signing::parse_jws;
use crate::keys::KeySet;

/// What a verified `id_token_hint` says. Expired hints are accepted (the
/// spec expects them: the person may log out long after logging in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub sub: String,
    pub client_id: String,
    pub sid: Option<String>,
}

#[derive(serde::Deserialize)]
struct HintClaims {
    iss: String,
    sub: String,
    aud: serde_json::Value,
    sid: Option<String>,
}

/// Verifies an ID token we issued: our published key, our issuer, one audience.
pub fn verify_hint(keys: &KeySet, issuer: &str, token: &str) -> Option<Hint> {
    let jws = parse_jws(token)?;
    if jws.header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
        return None;
    }
    let key = keys.published_key(jws.header.kid.as_deref()?)?;
    if !key.verify(&jws) {
        return None;
    }
    let c: HintClaims = serde_json::from_slice(&jws.payload).ok()?;
    let client_id = match c.aud {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(a) if a.len() == 1 => a[0].as_str()?.to_owned(),
        _ => return None,
    };
    (c.iss == issuer).then_some(Hint { sub: c.sub, client_id, sid: c.sid })
}
