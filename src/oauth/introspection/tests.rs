//! Property: for any interleaving of issuing, revoking tokens, rotating
//! and revoking keys and letting time pass, a token that is revoked, past
//! its `exp`, or signed by a revoked key is never active — and every other
//! token stays active (rotation must not break live tokens). Checks go
//! through the verified-token cache and revocation list, kept across steps,
//! so a cached verification can never outlive what made it valid.

use super::{TokenCheck, active_access_token};
use crate::crypto::signing::{SigningAlg, SigningKeyPair};
use crate::keys::{KeyPolicy, KeySet, KeyState, Plan, plan, state_at};
use crate::oauth::revocation_list::RevocationList;
use crate::oauth::token_cache::VerifiedTokens;
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use entity::signing_keys::Model as KeyRow;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

const ISS: &str = "https://id.example.test";
const TTL: i64 = 300;

static POOL: LazyLock<Vec<Arc<SigningKeyPair>>> =
    LazyLock::new(|| (0..48).map(|_| Arc::new(SigningKeyPair::generate(SigningAlg::Es256).unwrap().0)).collect());

#[derive(Debug, Clone)]
enum Op {
    Issue,
    RevokeToken(usize),
    Rotate { immediate: bool },
    RevokeSigningKey,
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Issue),
        2 => any::<usize>().prop_map(Op::RevokeToken),
        1 => any::<bool>().prop_map(|immediate| Op::Rotate { immediate }),
        1 => Just(Op::RevokeSigningKey),
        3 => (0i64..400).prop_map(Op::Advance),
    ]
}

struct Model {
    now: DateTime<Utc>,
    policy: KeyPolicy,
    rows: Vec<KeyRow>,
    parsed: HashMap<String, Arc<SigningKeyPair>>,
    next_key: usize,
    tokens: Vec<(String, String, i64, String)>, // token, jti, exp, kid
    revoked_jtis: HashSet<String>,
    verified: VerifiedTokens,
    revoked: RevocationList,
}

impl Model {
    fn add_key(&mut self, activates_at: DateTime<Utc>) -> Option<String> {
        let key = POOL.get(self.next_key)?.clone();
        self.next_key += 1;
        self.parsed.insert(key.kid().to_owned(), key.clone());
        self.rows.push(KeyRow {
            kid: key.kid().to_owned(),
            alg: "ES256".into(),
            private_key: String::new(),
            public_jwk: String::new(),
            created_at: self.now,
            activates_at,
            retires_at: None,
            expires_at: None,
            revoked_at: None,
            announced_state: None,
        });
        Some(key.kid().to_owned())
    }

    fn retire_current(&mut self, at: DateTime<Utc>) {
        let now = self.now;
        let grace = self.policy.retire_grace;
        for r in self.rows.iter_mut().filter(|r| state_at(r, now) == KeyState::Current) {
            r.retires_at = Some(at);
            r.expires_at = Some(at + grace);
        }
    }

    /// What ensure_keys does, driven by the real `plan`.
    fn maintain(&mut self) {
        match plan(&self.rows, SigningAlg::Es256, self.now, &self.policy) {
            Plan::Nothing => {}
            Plan::RetireExtra { retire } => {
                let (now, grace) = (self.now, self.policy.retire_grace);
                for r in self.rows.iter_mut().filter(|r| retire.contains(&r.kid)) {
                    r.retires_at = Some(now);
                    r.expires_at = Some(now + grace);
                }
            }
            Plan::CreateCurrent => {
                self.add_key(self.now);
            }
            Plan::CreateNext { retire, activates_at } => {
                if self.add_key(activates_at).is_some() {
                    let grace = self.policy.retire_grace;
                    if let Some(r) = self.rows.iter_mut().find(|r| r.kid == retire) {
                        r.retires_at = Some(activates_at);
                        r.expires_at = Some(activates_at + grace);
                    }
                }
            }
        }
    }

    fn keyset(&self) -> KeySet {
        KeySet::build(&self.rows, &self.parsed, self.now)
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Issue => {
                let set = self.keyset();
                let Some(signer) = set.signer(SigningAlg::Es256) else { return };
                let jti = format!("jti-{}", self.tokens.len());
                let iat = self.now.timestamp();
                let claims = serde_json::json!({
                    "iss": ISS, "sub": "c", "aud": ISS, "client_id": "c", "jti": jti, "iat": iat, "exp": iat + TTL,
                });
                let token = signer.sign_jws("at+jwt", claims.to_string().as_bytes()).unwrap();
                self.tokens.push((token, jti, iat + TTL, signer.kid().to_owned()));
            }
            Op::RevokeToken(i) => {
                if !self.tokens.is_empty() {
                    let (_, jti, exp, _) = &self.tokens[i % self.tokens.len()];
                    self.revoked.insert(jti, *exp);
                    self.revoked_jtis.insert(jti.clone());
                }
            }
            Op::Rotate { immediate } => {
                let scheduled = self.rows.iter().any(|r| state_at(r, self.now) == KeyState::Next);
                if scheduled && !immediate {
                    return;
                }
                let at = if immediate { self.now } else { self.now + self.policy.prepublish };
                self.retire_current(at);
                self.add_key(at);
            }
            Op::RevokeSigningKey => {
                let signer = self.keyset().signer(SigningAlg::Es256).map(|k| k.kid().to_owned());
                if let Some(kid) = signer {
                    let now = self.now;
                    if let Some(r) = self.rows.iter_mut().find(|r| r.kid == kid) {
                        r.revoked_at = Some(now);
                    }
                }
                self.maintain();
            }
            Op::Advance(secs) => {
                self.now += Duration::seconds(secs);
                self.maintain();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn revoked_or_expired_tokens_are_never_active_and_live_ones_stay_active(ops in proptest::collection::vec(op(), 1..40)) {
        let mut m = Model {
            now: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            policy: KeyPolicy {
                rotation: Duration::seconds(1000),
                prepublish: Duration::seconds(100),
                retire_grace: Duration::seconds(TTL + 100),
            },
            rows: Vec::new(),
            parsed: HashMap::new(),
            next_key: 0,
            tokens: Vec::new(),
            revoked_jtis: HashSet::new(),
            verified: VerifiedTokens::default(),
            revoked: RevocationList::default(),
        };
        m.maintain();
        for op in &ops {
            m.apply(op);
            let set = m.keyset();
            let now = m.now.timestamp();
            for (token, jti, exp, kid) in &m.tokens {
                let check = TokenCheck { keys: &set, issuer: ISS, verified: &m.verified, revoked: &m.revoked };
                let active = active_access_token(&check, token, m.now).is_some();
                let key_revoked = m.rows.iter().any(|r| &r.kid == kid && r.revoked_at.is_some());
                let dead = m.revoked_jtis.contains(jti) || now >= *exp || key_revoked;
                prop_assert_eq!(active, !dead, "after {:?}: token {} (exp {}, now {}, key revoked {})", op, jti, exp, now, key_revoked);
            }
        }
    }
}
