use super::*;
use crate::crypto::signing::SigningKeyPair;
use chrono::TimeZone as _;
use std::collections::HashMap;
use std::sync::Arc;

fn t(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::hours(h)
}

fn policy() -> KeyPolicy {
    KeyPolicy { rotation: Duration::hours(100), prepublish: Duration::hours(10), retire_grace: Duration::hours(5) }
}

fn row(kid: &str, alg: SigningAlg, activates: i64) -> KeyRow {
    KeyRow {
        kid: kid.into(),
        alg: alg.as_str().into(),
        private_key: String::new(),
        public_jwk: String::new(),
        created_at: t(activates),
        activates_at: t(activates),
        retires_at: None,
        expires_at: None,
        revoked_at: None,
        announced_state: None,
    }
}

#[test]
fn states_follow_the_timestamps() {
    let mut k = row("a", SigningAlg::Es256, 10);
    assert_eq!(state_at(&k, t(9)), KeyState::Next);
    assert_eq!(state_at(&k, t(10)), KeyState::Current);
    k.retires_at = Some(t(20));
    k.expires_at = Some(t(25));
    assert_eq!(state_at(&k, t(19)), KeyState::Current);
    assert_eq!(state_at(&k, t(20)), KeyState::Retired);
    assert_eq!(state_at(&k, t(25)), KeyState::Expired);
    k.revoked_at = Some(t(12));
    assert_eq!(state_at(&k, t(11)), KeyState::Current);
    assert_eq!(state_at(&k, t(12)), KeyState::Revoked);
    assert!(KeyState::Next.is_published() && KeyState::Retired.is_published());
    assert!(!KeyState::Revoked.is_published() && !KeyState::Expired.is_published());
}

#[test]
fn plan_creates_a_current_key_when_none_signs() {
    let p = policy();
    assert_eq!(plan(&[], SigningAlg::Es256, t(0), &p), Plan::CreateCurrent);
    // Another algorithm's key does not count.
    assert_eq!(plan(&[row("r", SigningAlg::Rs256, 0)], SigningAlg::Es256, t(1), &p), Plan::CreateCurrent);
    // A revoked signer is replaced at once, even with a successor waiting.
    let mut revoked = row("a", SigningAlg::Es256, 0);
    revoked.revoked_at = Some(t(5));
    let waiting = row("b", SigningAlg::Es256, 50);
    assert_eq!(plan(&[revoked, waiting], SigningAlg::Es256, t(6), &p), Plan::CreateCurrent);
}

#[test]
fn plan_publishes_a_successor_one_window_before_rotation() {
    let p = policy();
    let rows = [row("a", SigningAlg::Es256, 0)];
    assert_eq!(plan(&rows, SigningAlg::Es256, t(89), &p), Plan::Nothing);
    assert_eq!(
        plan(&rows, SigningAlg::Es256, t(90), &p),
        Plan::CreateNext { retire: "a".into(), activates_at: t(100) }
    );
    let mut scheduled = rows.clone();
    scheduled[0].retires_at = Some(t(100));
    assert_eq!(plan(&scheduled, SigningAlg::Es256, t(95), &p), Plan::Nothing, "already scheduled");
}

#[test]
fn keyset_publishes_next_current_retired_and_signs_with_current() {
    let mut parsed = HashMap::new();
    let mut rows = Vec::new();
    for (i, activates) in [(0, 0), (1, 20), (2, 40), (3, 5)] {
        let (key, _) = SigningKeyPair::generate(SigningAlg::Es256).unwrap();
        let mut r = row(key.kid(), SigningAlg::Es256, activates);
        match i {
            0 => {
                r.retires_at = Some(t(20));
                r.expires_at = Some(t(25));
            }
            3 => r.revoked_at = Some(t(6)),
            _ => {}
        }
        parsed.insert(r.kid.clone(), Arc::new(key));
        rows.push(r);
    }
    let at = |h| KeySet::build(&rows, &parsed, t(h));
    let set = at(22);
    // retired (0), current (1), next (2) published; revoked (3) not.
    let jwks: serde_json::Value = serde_json::from_slice(set.jwks()).unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, [rows[0].kid.as_str(), rows[1].kid.as_str(), rows[2].kid.as_str()]);
    assert_eq!(set.signer(SigningAlg::Es256).unwrap().kid(), rows[1].kid);
    assert!(set.signer(SigningAlg::Rs256).is_none());
    assert!(set.published_key(&rows[3].kid).is_none());
    assert!(set.etag().starts_with('"') && set.etag().ends_with('"'));

    assert_eq!(at(22).etag(), set.etag(), "same inputs, same ETag");
    assert_eq!(at(23).fingerprint(), set.fingerprint());
    assert_ne!(at(26).etag(), set.etag(), "the retired key expired");
    assert_ne!(at(40).fingerprint(), at(39).fingerprint(), "next became current");

    // What monitoring sees: the signer's rotation and whether a successor waits.
    let r = set.rotation(SigningAlg::Es256).unwrap();
    assert_eq!((r.signing_since, r.retires_at, r.next_published), (t(20), None, true));
    assert_eq!(r.stops_signing(&policy()), t(20) + policy().rotation, "unscheduled: the policy's rotation");
    let later = at(41).rotation(SigningAlg::Es256).unwrap();
    assert_eq!((later.signing_since, later.next_published), (t(40), false));
    assert!(set.rotation(SigningAlg::Rs256).is_none(), "no RS256 key signs");
    let mut scheduled = rows[0].clone();
    scheduled.retires_at = Some(t(30));
    let one = KeySet::build(&[scheduled], &parsed, t(10)).rotation(SigningAlg::Es256).unwrap();
    assert_eq!(one.stops_signing(&policy()), t(30), "a scheduled retirement wins");
}

#[test]
fn jwks_cache_lifetime_is_inside_the_prepublish_window() {
    let p = policy();
    assert!(p.jwks_max_age_secs() < p.prepublish.num_seconds());
    let short = KeyPolicy { prepublish: Duration::seconds(60), ..p };
    assert_eq!(short.jwks_max_age_secs(), 15);
}

#[test]
fn two_signing_keys_retire_all_but_the_newest() {
    let rows = [row("old", SigningAlg::Es256, 1), row("new", SigningAlg::Es256, 2), row("rsa", SigningAlg::Rs256, 1)];
    assert_eq!(plan(&rows, SigningAlg::Es256, t(3), &policy()), Plan::RetireExtra { retire: vec!["old".into()] });
    assert_eq!(plan(&rows, SigningAlg::Rs256, t(3), &policy()), Plan::Nothing, "one key per algorithm is fine");
    // One already on its way out is not a duplicate.
    let mut leaving = rows.clone();
    leaving[0].retires_at = Some(t(4));
    assert_eq!(plan(&leaving, SigningAlg::Es256, t(3), &policy()), Plan::Nothing);
}
