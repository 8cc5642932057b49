//! Fetches and caches the JWKS behind each `private_key_jwt` client's
//! `jwks_uri`. A key set is reused for `FRESH` and re-fetched early when an
//! assertion names a kid it lacks (the client rotated), but at most once per
//! `REFETCH_GAP`, so a stream of bogus kids cannot make us hammer the
//! client's server. Responses are bounded in time and size; redirects are
//! not followed (the registered URI is the one trusted).

use crate::clock::Clock;
use crate::crypto::jwk::PublicJwk;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FRESH: Duration = Duration::from_secs(300);
const REFETCH_GAP: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_BYTES: usize = 64 * 1024;
const MAX_KEYS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching the client's JWKS failed: {0}")]
    Fetch(String),
    #[error("the client's JWKS is not a JSON key set")]
    Malformed,
    #[error("the client's JWKS is larger than {MAX_BYTES} bytes")]
    TooLarge,
}

struct Fetched {
    keys: Arc<Vec<PublicJwk>>,
    at: Instant,
}

pub struct ClientJwks {
    http: reqwest::Client,
    cache: Mutex<HashMap<String, Fetched>>,
    clock: Arc<dyn Clock>,
}

impl ClientJwks {
    pub fn new(clock: Arc<dyn Clock>) -> Result<Self, JwksError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JwksError::Fetch(e.to_string()))?;
        Ok(Self { http, cache: Mutex::new(HashMap::new()), clock })
    }

    /// The keys at `uri`, fetched again if stale or if `kid` is not among
    /// them (and the last fetch is not too recent).
    pub async fn keys(&self, uri: &str, kid: Option<&str>) -> Result<Arc<Vec<PublicJwk>>, JwksError> {
        let cached = self.cache.lock().ok().and_then(|m| m.get(uri).map(|f| (f.keys.clone(), f.at)));
        if let Some((keys, at)) = cached {
            let has_kid = kid.is_none_or(|k| keys.iter().any(|j| j.kid.as_deref() == Some(k)));
            let age = self.clock.instant().duration_since(at);
            if age < FRESH && (has_kid || age < REFETCH_GAP) {
                return Ok(keys);
            }
        }
        let keys = Arc::new(self.fetch(uri).await?);
        if let Ok(mut m) = self.cache.lock() {
            m.insert(uri.to_owned(), Fetched { keys: keys.clone(), at: self.clock.instant() });
        }
        Ok(keys)
    }

    async fn fetch(&self, uri: &str) -> Result<Vec<PublicJwk>, JwksError> {
        let fetch = |e: reqwest::Error| JwksError::Fetch(e.without_url().to_string());
        let mut res = self.http.get(uri).header("accept", "application/json").send().await.map_err(fetch)?;
        if !res.status().is_success() {
            return Err(JwksError::Fetch(format!("HTTP status {}", res.status().as_u16())));
        }
        if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
            return Err(JwksError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(fetch)? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

/// `{"keys": [...]}`; keys we cannot use are skipped, not fatal.
fn parse_jwks(body: &[u8]) -> Result<Vec<PublicJwk>, JwksError> {
    let doc: serde_json::Value = serde_json::from_slice(body).map_err(|_| JwksError::Malformed)?;
    let keys = doc.get("keys").and_then(|k| k.as_array()).ok_or(JwksError::Malformed)?;
    Ok(keys.iter().take(MAX_KEYS).filter_map(|k| PublicJwk::parse(k).ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_keys_are_skipped_and_non_key_sets_refused() {
        let (key, _) =
            crate::crypto::signing::SigningKeyPair::generate(crate::crypto::signing::SigningAlg::Es256).unwrap();
        let doc = serde_json::json!({"keys": [{"kty": "oct", "k": "AA"}, key.public_jwk()]});
        assert_eq!(parse_jwks(doc.to_string().as_bytes()).unwrap().len(), 1);
        assert!(matches!(parse_jwks(b"[]"), Err(JwksError::Malformed)));
        assert!(matches!(parse_jwks(b"{\"keys\": 1}"), Err(JwksError::Malformed)));
        assert!(matches!(parse_jwks(b"not json"), Err(JwksError::Malformed)));
    }
}
