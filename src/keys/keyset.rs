//! The immutable snapshot handlers read: the signer per algorithm, the
//! public keys by kid, and the JWKS bytes with their strong ETag, built
//! once per change.

use super::{KeyState, state_at};
use crate::crypto::signing::{SigningAlg, SigningKeyPair};
use chrono::{DateTime, Utc};
use entity::signing_keys::Model as KeyRow;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct KeySet {
    signers: HashMap<SigningAlg, Arc<SigningKeyPair>>,
    rotations: HashMap<SigningAlg, Rotation>,
    published: HashMap<String, Arc<SigningKeyPair>>,
    jwks: bytes::Bytes,
    etag: String,
    /// Changes whenever the set of (kid, state) pairs changes.
    fingerprint: String,
}

impl KeySet {
    /// Builds the set for `now` from rows and their parsed keys (`parsed`
    /// holds every non-revoked, non-expired row's key by kid).
    pub fn build(rows: &[KeyRow], parsed: &HashMap<String, Arc<SigningKeyPair>>, now: DateTime<Utc>) -> Self {
        let mut signers: HashMap<SigningAlg, (&KeyRow, Arc<SigningKeyPair>)> = HashMap::new();
        let mut next = Vec::new();
        let mut published = HashMap::new();
        let mut fingerprint = Sha256::new();
        let mut jwk_list = Vec::new();
        for row in rows {
            let state = state_at(row, now);
            fingerprint.update(row.kid.as_bytes());
            fingerprint.update(state.as_str().as_bytes());
            let Some(key) = parsed.get(&row.kid) else { continue };
            if state.is_published() {
                published.insert(row.kid.clone(), key.clone());
                jwk_list.push(key.public_jwk().clone());
            }
            if state == KeyState::Next {
                next.push(key.alg());
            }
            if state == KeyState::Current {
                let newer = signers.get(&key.alg()).is_none_or(|(r, _)| row.activates_at > r.activates_at);
                if newer {
                    signers.insert(key.alg(), (row, key.clone()));
                }
            }
        }
        let jwks = bytes::Bytes::from(serde_json::json!({ "keys": jwk_list }).to_string());
        let etag = crate::crypto::strong_etag(&jwks);
        let fingerprint = fingerprint.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let rotations = signers
            .iter()
            .map(|(alg, (row, _))| {
                let rotation = Rotation {
                    signing_since: row.activates_at,
                    retires_at: row.retires_at,
                    next_published: next.contains(alg),
                };
                (*alg, rotation)
            })
            .collect();
        Self {
            signers: signers.into_iter().map(|(alg, (_, k))| (alg, k)).collect(),
            rotations,
            published,
            jwks,
            etag,
            fingerprint,
        }
    }

    /// The key that signs new tokens with `alg`.
    pub fn signer(&self, alg: SigningAlg) -> Option<&Arc<SigningKeyPair>> {
        self.signers.get(&alg)
    }

    /// Where `alg`'s signing key is in its rotation; `None` when none signs.
    pub fn rotation(&self, alg: SigningAlg) -> Option<Rotation> {
        self.rotations.get(&alg).copied()
    }

    /// A published key by kid (for verifying tokens we issued).
    pub fn published_key(&self, kid: &str) -> Option<&Arc<SigningKeyPair>> {
        self.published.get(kid)
    }

    /// `{"keys": [...]}` as served (cheap to clone: reference counted).
    pub fn jwks(&self) -> &bytes::Bytes {
        &self.jwks
    }

    /// Strong ETag of [`KeySet::jwks`].
    pub fn etag(&self) -> &str {
        &self.etag
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// One algorithm's rotation, for monitoring: an operator must learn that
/// a successor is missing before the signing key's time is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub signing_since: DateTime<Utc>,
    /// Set once a successor is scheduled (or the key retired early).
    pub retires_at: Option<DateTime<Utc>>,
    /// A successor is in the JWKS, not signing yet.
    pub next_published: bool,
}

impl Rotation {
    /// When the signing key stops signing: its scheduled retirement, else
    /// when the policy rotates it.
    pub fn stops_signing(&self, policy: &super::KeyPolicy) -> DateTime<Utc> {
        self.retires_at.unwrap_or(self.signing_since + policy.rotation)
    }
}
