//! The signing-key lifecycle: `next` (published, not signing) for a
//! pre-publish window, then `current` (signs), then `retired` (published
//! until every token it signed has expired), then gone; or `revoked` at
//! once. States are derived from timestamps, so every instance agrees.

mod keyset;
pub mod ops;

pub use keyset::{KeySet, Rotation};

use crate::crypto::signing::SigningAlg;
use chrono::{DateTime, Duration, Utc};
use entity::signing_keys::Model as KeyRow;

/// Every algorithm Gatehouse keeps a key for: ES256 signs by default; RS256
/// must exist because OIDC Discovery requires it to be supported.
pub const ALGORITHMS: [SigningAlg; 2] = [SigningAlg::Es256, SigningAlg::Rs256];

/// Timing of the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// How long a key signs before its successor takes over.
    pub rotation: Duration,
    /// How long a successor is published before it signs (caches of the
    /// JWKS must have picked it up by then).
    pub prepublish: Duration,
    /// How long a retired key stays published: the longest token lifetime.
    pub retire_grace: Duration,
}

impl KeyPolicy {
    /// `Cache-Control: max-age` for the JWKS: well inside the pre-publish
    /// window, so a cached JWKS always knows the next key before it signs.
    pub fn jwks_max_age_secs(&self) -> i64 {
        (self.prepublish.num_seconds() / 4).clamp(0, 3600)
    }
}

/// Where a key is in its life at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    Next,
    Current,
    Retired,
    Expired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Retired => "retired",
            KeyState::Expired => "expired",
            KeyState::Revoked => "revoked",
        }
    }

    /// Published in the JWKS.
    pub fn is_published(self) -> bool {
        matches!(self, KeyState::Next | KeyState::Current | KeyState::Retired)
    }
}

pub fn state_at(k: &KeyRow, now: DateTime<Utc>) -> KeyState {
    if k.revoked_at.is_some_and(|r| r <= now) {
        KeyState::Revoked
    } else if k.expires_at.is_some_and(|e| e <= now) {
        KeyState::Expired
    } else if now < k.activates_at {
        KeyState::Next
    } else if k.retires_at.is_none_or(|r| now < r) {
        KeyState::Current
    } else {
        KeyState::Retired
    }
}

/// What maintenance one algorithm's keys need now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    /// More than one key signs (instances that raced at start on an older
    /// version, or clocks apart): all but the newest retire now, staying
    /// published for the grace period. Planned again afterwards.
    RetireExtra {
        retire: Vec<String>,
    },
    /// No key signs: create one that signs at once (first start, or after
    /// an emergency revocation).
    CreateCurrent,
    /// The current key is due for rotation and has no successor: create
    /// one activating at `activates_at`, retiring `retire` then.
    CreateNext {
        retire: String,
        activates_at: DateTime<Utc>,
    },
}

/// Decides what `alg` needs, from its rows alone.
pub fn plan(rows: &[KeyRow], alg: SigningAlg, now: DateTime<Utc>, policy: &KeyPolicy) -> Plan {
    let mine: Vec<&KeyRow> = rows.iter().filter(|k| k.alg == alg.as_str()).collect();
    // Signing now with no end set: exactly one such key may exist.
    let mut open: Vec<&&KeyRow> =
        mine.iter().filter(|k| state_at(k, now) == KeyState::Current && k.retires_at.is_none()).collect();
    if open.len() > 1 {
        open.sort_by(|a, b| (a.activates_at, &a.kid).cmp(&(b.activates_at, &b.kid)));
        let newest = open.len() - 1;
        return Plan::RetireExtra { retire: open[..newest].iter().map(|k| k.kid.clone()).collect() };
    }
    let current =
        mine.iter().filter(|k| state_at(k, now) == KeyState::Current).max_by_key(|k| (k.activates_at, &k.kid));
    let Some(current) = current else {
        // A successor already waiting would only sign after its window;
        // signing must not stop meanwhile.
        return Plan::CreateCurrent;
    };
    let has_successor = mine.iter().any(|k| state_at(k, now) == KeyState::Next);
    if has_successor || current.retires_at.is_some() {
        return Plan::Nothing;
    }
    if now >= current.activates_at + policy.rotation - policy.prepublish {
        return Plan::CreateNext { retire: current.kid.clone(), activates_at: now + policy.prepublish };
    }
    Plan::Nothing
}

#[cfg(test)]
mod tests;
