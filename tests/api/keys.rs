//! Signing keys over HTTP and through the CLI.

use crate::binary::{json_out, run_async};
use crate::helpers::{TestDatabase, base_env, spawn_app_with};
use gatehouse::clock::SystemClock;
use gatehouse::crypto::MasterKey;
use gatehouse::crypto::envelope::Envelope;
use gatehouse::keys::{KeyPolicy, KeyState, ops, state_at};
use serde_json::Value;
use std::time::{Duration, Instant};

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[actix_web::test]
async fn jwks_has_both_algorithms_a_strong_etag_and_304() {
    let app = spawn_app_with(&[]).await;
    let res = app.get("/jwks.json").await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "strong: {etag}");
    let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
    assert_eq!(cache, "public, max-age=3600", "a quarter of the default day-long pre-publish window, capped");
    let jwks: Value = res.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    let algs: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    assert!(algs.contains(&"ES256") && algs.contains(&"RS256"), "{algs:?}");
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none() && k.get("p").is_none(), "no private parameters: {k}");
        // Every key is usable by an independent JOSE library.
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(k.clone()).unwrap();
        jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    }

    let res = app.client.get(app.url("/jwks.json")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    let res = app
        .client
        .get(app.url("/jwks.json"))
        .header("if-none-match", "\"other\", W/".to_owned() + &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304, "weak comparison in a list");
    let res = app.client.get(app.url("/jwks.json")).header("if-none-match", "\"other\"").send().await.unwrap();
    assert_eq!(res.status(), 200);
}

async fn wait_for_jwks(app: &crate::helpers::TestApp, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
    let started = Instant::now();
    loop {
        let jwks: Value = app.get("/jwks.json").await.json().await.unwrap();
        let k = kids(&jwks);
        if pred(&k) {
            return k;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{what}: not served within 5 s: {k:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn cli_rotation_and_revocation_reach_a_running_server_within_five_seconds() {
    let app = spawn_app_with(&[("GATEHOUSE_KEY_REFRESH_SECS", "1")]).await;
    let env = base_env(&app.database);
    let before: Value = app.get("/jwks.json").await.json().await.unwrap();
    let old = kids(&before);

    let rotated = json_out(&run_async(&env, &["keys", "rotate", "--now", "--json"], None).await);
    let created: Vec<String> = rotated["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "key.created_current")
        .map(|c| c["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created.len(), 2, "{rotated}");
    let states: Vec<(&str, &str)> = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["kid"].as_str().unwrap(), k["state"].as_str().unwrap()))
        .collect();
    for kid in &old {
        assert!(states.contains(&(kid.as_str(), "retired")), "{states:?}");
    }
    let served = wait_for_jwks(&app, "rotation", |k| created.iter().all(|c| k.contains(c))).await;
    assert!(old.iter().all(|o| served.contains(o)), "retired keys stay published");

    let es256 = rotated["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "ES256" && k["state"] == "current")
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = json_out(&run_async(&env, &["keys", "revoke", &es256, "--json"], None).await);
    assert!(revoked["changes"].as_array().unwrap().iter().any(|c| c["action"] == "key.revoked"));
    let replacement = revoked["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "key.created_current")
        .expect("a replacement signer")["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for_jwks(&app, "revocation", |k| !k.contains(&es256) && k.contains(&replacement)).await;

    let again = run_async(&env, &["keys", "revoke", &es256], None).await;
    assert_eq!(again.status.code(), Some(1), "already revoked");
    let unknown = run_async(&env, &["keys", "revoke", "no-such-kid"], None).await;
    assert_eq!(unknown.status.code(), Some(1));

    let audited: Vec<String> =
        gatehouse::store::audit::recent(&app.db, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(audited.iter().any(|a| a == "key.revoked"), "{audited:?}");
    assert!(audited.iter().any(|a| a == "key.created_current"), "{audited:?}");
}

#[actix_web::test]
async fn instances_starting_together_create_exactly_one_key_per_algorithm() {
    let master = MasterKey::decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let envelope = Envelope::new(&master).unwrap();
    let policy = KeyPolicy {
        rotation: chrono::Duration::days(30),
        prepublish: chrono::Duration::days(1),
        retire_grace: chrono::Duration::hours(25),
    };
    // Many trials: the race is lost only when an instance reads the time
    // before another's first key exists and takes the lock after it does.
    for trial in 0..10 {
        let database = TestDatabase::create().await;
        let setup = gatehouse::store::connect(&database.url, 2).await.unwrap();
        gatehouse::store::migrate_up(&setup).await.unwrap();
        let pools: Vec<_> =
            futures_util::future::join_all((0..4).map(|_| gatehouse::store::connect(&database.url, 2))).await;
        let pools: Vec<_> = pools.into_iter().map(Result::unwrap).collect();
        let results = futures_util::future::join_all(
            pools.iter().map(|db| ops::ensure_keys(db, &envelope, &SystemClock, &policy)),
        )
        .await;
        let created: usize = results.into_iter().map(|r| r.unwrap().len()).sum();
        assert_eq!(created, 2, "trial {trial}: one ES256 and one RS256 key in all");
        let rows = gatehouse::store::signing_keys::all(&setup).await.unwrap();
        let now = gatehouse::clock::Clock::now(&SystemClock);
        assert_eq!(rows.len(), 2, "trial {trial}");
        assert!(rows.iter().all(|k| state_at(k, now) == KeyState::Current), "trial {trial}");
    }
}

/// Two keys signing for one algorithm (instances whose clocks are apart,
/// or a database from before the fix) are repaired: all but the newest
/// retire with an end date, instead of staying published for ever.
#[actix_web::test]
async fn duplicate_current_keys_are_retired() {
    use gatehouse::clock::FixedClock;
    let database = TestDatabase::create().await;
    let db = gatehouse::store::connect(&database.url, 2).await.unwrap();
    gatehouse::store::migrate_up(&db).await.unwrap();
    let master = MasterKey::decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    let envelope = Envelope::new(&master).unwrap();
    let policy = KeyPolicy {
        rotation: chrono::Duration::days(30),
        prepublish: chrono::Duration::days(1),
        retire_grace: chrono::Duration::hours(25),
    };
    // Whole seconds: PostgreSQL keeps microseconds.
    let t = chrono::DateTime::from_timestamp(gatehouse::clock::Clock::now(&SystemClock).timestamp(), 0).unwrap();
    // An instance five seconds ahead creates its keys; one behind sees them
    // as not yet active and creates its own.
    ops::ensure_keys(&db, &envelope, &FixedClock::new(t + chrono::Duration::seconds(5)), &policy).await.unwrap();
    ops::ensure_keys(&db, &envelope, &FixedClock::new(t), &policy).await.unwrap();
    let later = t + chrono::Duration::seconds(10);
    let rows = gatehouse::store::signing_keys::all(&db).await.unwrap();
    assert_eq!(rows.iter().filter(|k| state_at(k, later) == KeyState::Current).count(), 4, "the duplicates");
    let events = ops::ensure_keys(&db, &envelope, &FixedClock::new(later), &policy).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "key.retirement_scheduled").count(), 2, "{events:?}");
    let rows = gatehouse::store::signing_keys::all(&db).await.unwrap();
    for alg in ["ES256", "RS256"] {
        let mine: Vec<_> = rows.iter().filter(|k| k.alg == alg).collect();
        let open: Vec<_> = mine.iter().filter(|k| k.retires_at.is_none()).collect();
        assert_eq!(open.len(), 1, "{alg}: one key signs");
        assert_eq!(open[0].activates_at, t + chrono::Duration::seconds(5), "{alg}: the newest stays");
        let retired: Vec<_> = mine.iter().filter(|k| k.retires_at.is_some()).collect();
        assert!(retired.iter().all(|k| k.expires_at.is_some()), "{alg}: the other leaves the JWKS in time");
    }
    // Nothing more to do.
    assert!(ops::ensure_keys(&db, &envelope, &FixedClock::new(later), &policy).await.unwrap().is_empty());
}

#[actix_web::test]
async fn time_driven_transitions_are_audited_exactly_once_across_instances() {
    let fast = [("GATEHOUSE_KEY_PREPUBLISH_SECS", "2"), ("GATEHOUSE_KEY_REFRESH_SECS", "1")];
    let app = spawn_app_with(&fast).await;
    let _other = crate::helpers::spawn_instance(&app, &fast).await;
    let before: Vec<String> = kids(&app.get("/jwks.json").await.json().await.unwrap());

    // Scheduled (not --now): the successors sign two seconds from now.
    let env = crate::helpers::with(base_env(&app.database), &fast);
    let rotated = json_out(&run_async(&env, &["keys", "rotate", "--json"], None).await);
    let created: Vec<String> = rotated["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "key.created_next")
        .map(|c| c["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(created.len(), 2, "{rotated}");

    let count = |events: &[entity::audit_events::Model], action: &str, kid: &str| {
        events.iter().filter(|e| e.action == action && e.target.as_deref() == Some(kid)).count()
    };
    let started = Instant::now();
    loop {
        let events = gatehouse::store::audit::recent(&app.db, 200).await.unwrap();
        let done = created.iter().all(|k| count(&events, "key.activated", k) > 0)
            && before.iter().all(|k| count(&events, "key.retired", k) > 0);
        if done {
            // Give a slower instance its chance to duplicate, then check it did not.
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let events = gatehouse::store::audit::recent(&app.db, 200).await.unwrap();
            for k in &created {
                assert_eq!(count(&events, "key.activated", k), 1, "{k} activated once");
            }
            for k in &before {
                assert_eq!(count(&events, "key.retired", k), 1, "{k} retired once");
            }
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "transitions not audited");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
