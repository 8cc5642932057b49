//! Verified access tokens, remembered by the SHA-256 of the whole token so
//! that introspecting the same token again skips the signature check (which
//! bounds introspection throughput otherwise). Only tokens that passed every
//! check are stored; a hit is re-checked for what can change since: expiry,
//! and whether the signing key is still published (a revoked key is not).
//! The caller still consults the revocation list.

pub use super::access_token::Verified;
use crate::keys::KeySet;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const SHARDS: usize = 8;
/// Per shard; bounds memory at a few MB whatever the traffic.
const SHARD_CAPACITY: usize = 2048;

type Shard = Mutex<HashMap<[u8; 32], Arc<Verified>>>;

pub struct VerifiedTokens {
    shards: Vec<Shard>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl VerifiedTokens {
    /// `verify` runs only on a miss; its success is remembered.
    pub fn get_or_verify(
        &self,
        keys: &KeySet,
        token: &str,
        now: i64,
        verify: impl FnOnce() -> Option<Verified>,
    ) -> Option<Arc<Verified>> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let shard = &self.shards[usize::from(digest[0]) % SHARDS];
        let hit = shard.lock().ok().and_then(|m| m.get(&digest).cloned());
        if let Some(v) = hit {
            if v.claims.exp > now && keys.published_key(&v.kid).is_some() {
                return Some(v);
            }
            if let Ok(mut m) = shard.lock() {
                m.remove(&digest);
            }
            return None;
        }
        let verified = Arc::new(verify()?);
        if let Ok(mut m) = shard.lock() {
            if m.len() >= SHARD_CAPACITY {
                m.retain(|_, v| v.claims.exp > now);
                if m.len() >= SHARD_CAPACITY {
                    m.clear();
                }
            }
            m.insert(digest, verified.clone());
        }
        Some(verified)
    }
}
