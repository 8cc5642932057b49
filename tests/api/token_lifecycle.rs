//! Token lifecycle integrity under attack: parallel refreshes and code
//! redemptions (the race a thief wins must leave nothing alive), a late
//! replay that must also kill the access tokens, RFC 7009 revocation of
//! refresh tokens, and a property test over any sequence of rotations,
//! replays and revocations: a family never regains life.

use crate::helpers::{TestApp, spawn_app_at_issuer};
use crate::oidc_flow::{PASSWORD, REDIRECT, browser, callback_params, consent, location, person, sign_in, web_client};
use futures_util::future::join_all;
use gatehouse::oauth::pkce::challenge_of;
use gatehouse::oauth::{ClientType, TokenEndpointAuthMethod};
use proptest::prelude::*;
use serde_json::Value;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A relying party: confidential (with a secret) or public.
#[derive(Clone)]
pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

impl Rp {
    fn post(&self, app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let req = app.client.post(app.url(path));
        match &self.secret {
            Some(s) => req.basic_auth(&self.id, Some(s)).form(form),
            None => {
                let mut all = form.to_vec();
                all.push(("client_id", &self.id));
                req.form(&all)
            }
        }
    }
}

pub async fn confidential(app: &TestApp) -> Rp {
    let (id, secret) = web_client(app, |_| {}).await;
    Rp { id, secret: Some(secret) }
}

pub async fn public(app: &TestApp) -> Rp {
    let (id, _) = web_client(app, |s| {
        s.client_type = Some(ClientType::Public);
        s.auth_method = Some(TokenEndpointAuthMethod::None);
    })
    .await;
    Rp { id, secret: None }
}

/// A resource server entitled to introspect every token this issuer
/// issues (their audience is the issuer).
pub async fn resource_server(app: &TestApp) -> Rp {
    let issuer = app.base.clone();
    let (id, secret) = crate::token::client(
        app,
        gatehouse::oauth::ClientSpec {
            introspection_audiences: vec![issuer],
            ..crate::token::machine("resource server", &["api"])
        },
    )
    .await;
    Rp { id, secret }
}

pub fn authorize_url(app: &TestApp, rp: &Rp) -> String {
    let challenge = challenge_of(VERIFIER);
    let pairs = [
        ("client_id", rp.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile offline_access"),
        ("state", "st"),
        ("nonce", "n"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    app.url(&format!("/authorize?{q}"))
}

/// A code for alice, signing in and consenting when the browser has not yet.
pub async fn code_for(app: &TestApp, rp: &Rp, b: &reqwest::Client) -> String {
    let mut res = b.get(authorize_url(app, rp)).send().await.unwrap();
    for _ in 0..6 {
        if res.status() == 303 {
            let loc = location(&res);
            if loc.starts_with(REDIRECT) {
                return callback_params(&loc)["code"].clone();
            }
            res = b.get(app.url(&loc)).send().await.unwrap();
            continue;
        }
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        res = if page.contains("name=\"password\"") {
            sign_in(app, b, &page, "alice", PASSWORD).await
        } else {
            consent(app, b, &page, "allow").await
        };
    }
    panic!("no code after signing in and consenting");
}

pub async fn token(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let res = rp.post(app, "/token", form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

pub async fn redeem(app: &TestApp, rp: &Rp, code: &str) -> (u16, Value) {
    let form =
        [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT), ("code_verifier", VERIFIER)];
    token(app, rp, &form).await
}

pub async fn refresh(app: &TestApp, rp: &Rp, refresh_token: &str) -> (u16, Value) {
    token(app, rp, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token)]).await
}

pub async fn introspect(app: &TestApp, who: &Rp, token: &str) -> Value {
    let res = who.post(app, "/introspect", &[("token", token)]).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn active(app: &TestApp, who: &Rp, token: &str) -> bool {
    introspect(app, who, token).await["active"] == true
}

fn field(v: &Value, name: &str) -> String {
    v[name].as_str().unwrap_or_else(|| panic!("no {name} in {v}")).to_owned()
}

async fn parallel_refreshes_leave_nothing_alive(rp: Rp, app: &TestApp, rs: &Rp) {
    let b = browser();
    for trial in 0..20 {
        let (_, first) = redeem(app, &rp, &code_for(app, &rp, &b).await).await;
        let r0 = field(&first, "refresh_token");
        let results = join_all((0..20).map(|_| refresh(app, &rp, &r0))).await;
        let winners: Vec<&Value> = results.iter().filter(|(s, _)| *s == 200).map(|(_, v)| v).collect();
        assert_eq!(winners.len(), 1, "trial {trial}: exactly one rotation wins: {results:?}");
        for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
            assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "trial {trial}");
        }
        let (status, body) = refresh(app, &rp, &field(winners[0], "refresh_token")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "trial {trial}: winner's successor");
        assert!(!active(app, rs, &field(winners[0], "access_token")).await, "trial {trial}: winner's access token");
        assert!(!active(app, rs, &field(&first, "access_token")).await, "trial {trial}: the first access token");
    }
}

#[actix_web::test]
async fn parallel_refreshes_of_a_confidential_client_leave_nothing_alive() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rs = resource_server(&app).await;
    parallel_refreshes_leave_nothing_alive(confidential(&app).await, &app, &rs).await;
}

#[actix_web::test]
async fn parallel_refreshes_of_a_public_client_leave_nothing_alive() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rs = resource_server(&app).await;
    parallel_refreshes_leave_nothing_alive(public(&app).await, &app, &rs).await;
}

#[actix_web::test]
async fn parallel_redemptions_of_a_code_leave_nothing_alive() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    for trial in 0..10 {
        let code = code_for(&app, &rp, &b).await;
        let results = join_all((0..6).map(|_| redeem(&app, &rp, &code))).await;
        let winners: Vec<&Value> = results.iter().filter(|(s, _)| *s == 200).map(|(_, v)| v).collect();
        assert_eq!(winners.len(), 1, "trial {trial}: {results:?}");
        assert!(!active(&app, &rp, &field(winners[0], "access_token")).await, "trial {trial}: access token");
        let (status, _) = refresh(&app, &rp, &field(winners[0], "refresh_token")).await;
        assert_eq!(status, 400, "trial {trial}: the winner's refresh token is dead");
    }
}

#[actix_web::test]
async fn a_late_replay_revokes_every_access_token_of_the_family() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let (_, t1) = refresh(&app, &rp, &field(&t0, "refresh_token")).await;
    let (_, t2) = refresh(&app, &rp, &field(&t1, "refresh_token")).await;
    for t in [&t0, &t1, &t2] {
        assert!(active(&app, &rp, &field(t, "access_token")).await);
    }
    let (status, _) = refresh(&app, &rp, &field(&t0, "refresh_token")).await;
    assert_eq!(status, 400, "replay of the first refresh token");
    for (i, t) in [&t0, &t1, &t2].into_iter().enumerate() {
        assert!(!active(&app, &rp, &field(t, "access_token")).await, "access token {i} of the family");
    }
    assert_eq!(refresh(&app, &rp, &field(&t2, "refresh_token")).await.0, 400, "the current refresh token");
}

#[actix_web::test]
async fn a_narrowed_refresh_keeps_the_grant_scope_on_the_new_refresh_token() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &browser()).await).await;
    let form = [("grant_type", "refresh_token"), ("refresh_token", &field(&t0, "refresh_token")), ("scope", "openid")];
    let (status, t1) = token(&app, &rp, &form).await;
    assert_eq!((status, t1["scope"].as_str()), (200, Some("openid")), "{t1}");
    // RFC 6749 §6: the new refresh token's scope is the one it replaces.
    let (status, t2) = refresh(&app, &rp, &field(&t1, "refresh_token")).await;
    assert_eq!((status, t2["scope"].as_str()), (200, Some("openid profile offline_access")), "{t2}");
}

/// RFC 7009 §2, §2.1: revoking a refresh token revokes its family and the
/// access tokens issued from it, whatever the hint says.
#[actix_web::test]
async fn refresh_tokens_can_be_revoked_with_any_hint() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    for hint in [None, Some("refresh_token"), Some("access_token"), Some("something_else")] {
        let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
        let (_, t1) = refresh(&app, &rp, &field(&t0, "refresh_token")).await;
        let r1 = field(&t1, "refresh_token");
        let seen = introspect(&app, &rp, &r1).await;
        assert_eq!(seen["active"], true, "{hint:?}: a live refresh token introspects active to its client: {seen}");
        assert_eq!(seen["client_id"], rp.id.as_str());
        assert_eq!(seen["scope"], "openid profile offline_access");
        assert!(seen["sub"].is_string() && seen["exp"].is_i64(), "{seen}");
        let mut form = vec![("token", r1.as_str())];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        let res = rp.post(&app, "/revoke", &form).send().await.unwrap();
        assert_eq!(res.status(), 200, "{hint:?}");
        assert_eq!(refresh(&app, &rp, &r1).await.0, 400, "{hint:?}: the revoked refresh token");
        assert_eq!(introspect(&app, &rp, &r1).await, serde_json::json!({"active": false}), "{hint:?}");
        for t in [&t0, &t1] {
            assert!(!active(&app, &rp, &field(t, "access_token")).await, "{hint:?}: the family's access tokens");
        }
    }
}

/// Another client's token: `/revoke` answers as for garbage and does
/// nothing, `/introspect` says only `active: false`.
#[actix_web::test]
async fn another_clients_tokens_are_neither_revoked_nor_revealed() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let (machine_id, machine_secret) = crate::token::client(&app, crate::token::machine("billing", &["api"])).await;
    let other = Rp { id: machine_id, secret: machine_secret };
    let rs = resource_server(&app).await;
    let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &browser()).await).await;
    let (access, refresh_token) = (field(&t0, "access_token"), field(&t0, "refresh_token"));
    for t in [&access, &refresh_token, &"garbage".to_owned()] {
        let res = other.post(&app, "/revoke", &[("token", t)]).send().await.unwrap();
        assert_eq!(res.status(), 200, "no oracle: another client's token answers like garbage");
        assert_eq!(res.text().await.unwrap(), "");
        assert_eq!(introspect(&app, &other, t).await, serde_json::json!({"active": false}));
    }
    assert!(active(&app, &rp, &access).await, "still active for its own client");
    assert!(active(&app, &rs, &access).await, "and for the resource server of its audience");
    assert_eq!(
        introspect(&app, &rs, &refresh_token).await,
        serde_json::json!({"active": false}),
        "not its refresh token"
    );
    assert_eq!(refresh(&app, &rp, &refresh_token).await.0, 200, "the refresh token still works");
}

/// Signing a user out everywhere (also what disabling does) leaves nothing
/// usable: the family is revoked with its access tokens, and a code issued
/// before but redeemed after cannot be redeemed.
#[actix_web::test]
async fn signing_out_everywhere_leaves_no_code_or_family_alive() {
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let (rp, rs) = (confidential(&app).await, resource_server(&app).await);
    let b = browser();
    let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let pending = code_for(&app, &rp, &b).await;
    let claims = introspect(&app, &rs, &field(&t0, "access_token")).await;
    let revoked = gatehouse::accounts::users::sign_out_everywhere(&app.db, &field(&claims, "sub"), chrono::Utc::now())
        .await
        .unwrap();
    assert!(revoked.iter().any(|(jti, _)| *jti == field(&claims, "jti")), "the family's access token is revoked");
    assert_eq!(redeem(&app, &rp, &pending).await.0, 400, "a code issued before cannot be redeemed after");
    assert_eq!(refresh(&app, &rp, &field(&t0, "refresh_token")).await.0, 400, "the family is revoked");
}

/// Every token issued for a person leaves an audit event naming client,
/// subject, session, family, scope and authentication methods (never a
/// token); machine tokens are counted per client, one event per period.
#[actix_web::test]
async fn person_tokens_are_audited_and_machine_tokens_counted() {
    let app = spawn_app_at_issuer(&[("GATEHOUSE_AUDIT_MACHINE_TOKENS_SECS", "1")]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
    let (_, t1) = refresh(&app, &rp, &field(&t0, "refresh_token")).await;
    let (id, secret) = crate::token::client(&app, crate::token::machine("batch job", &["api"])).await;
    let machine_token = || async {
        let res = app
            .client
            .post(app.url("/token"))
            .basic_auth(&id, secret.as_deref())
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    };
    for _ in 0..7 {
        machine_token().await;
    }
    let counted = |events: &[entity::audit_events::Model]| -> u64 {
        events
            .iter()
            .filter(|e| e.action == "oauth.machine_tokens_issued" && e.actor == format!("client:{id}"))
            .map(|e| {
                let reason = e.reason.as_deref().unwrap();
                reason.split("; ").find_map(|p| p.strip_prefix("count=")).unwrap().parse::<u64>().unwrap()
            })
            .sum()
    };
    app.audit_written().await;
    let events = gatehouse::store::audit::recent(&app.db, 500).await.unwrap();
    assert_eq!(counted(&events), 7, "machine tokens are counted, every one of them");
    let machine = events.iter().filter(|e| e.action == "oauth.machine_tokens_issued").count();
    assert!(machine <= 3, "counted in a few events, not written one by one: {machine}");

    let issued: Vec<_> = events.iter().filter(|e| e.action == "oauth.tokens_issued").rev().collect();
    assert_eq!(issued.len(), 2, "one event per person token response");
    let user_id = issued[0].target.clone().unwrap();
    let family = |r: &str| r.split("; ").find_map(|p| p.strip_prefix("family=")).unwrap().to_owned();
    for (e, grant) in issued.iter().zip(["authorization_code", "refresh_token"]) {
        assert_eq!(e.actor, format!("client:{}", rp.id));
        assert_eq!(e.target.as_deref(), Some(user_id.as_str()));
        let reason = e.reason.as_deref().unwrap();
        assert!(reason.starts_with(&format!("grant={grant}; sid=")), "{reason}");
        assert!(reason.contains("scope=openid profile offline_access"), "{reason}");
        assert!(reason.contains("amr=pwd"), "{reason}");
        assert!(!reason.contains("sid=-;"), "a session is named: {reason}");
        for t in [&t0, &t1] {
            for secret in ["access_token", "refresh_token", "id_token"] {
                assert!(!reason.contains(&field(t, secret)), "a token in the audit log");
            }
        }
    }
    let reasons: Vec<&str> = issued.iter().map(|e| e.reason.as_deref().unwrap()).collect();
    assert_eq!(family(reasons[0]), family(reasons[1]), "the refresh continues the code's family");
    let report = gatehouse::store::audit::verify_chain(&app.db).await.unwrap();
    assert!(matches!(report, gatehouse::store::audit::ChainReport::Intact { .. }), "{report:?}");
}

#[derive(Debug, Clone)]
enum Op {
    /// Present the k-th refresh token of the family (modulo how many exist).
    Use(usize),
    /// Present it from `n` requests at once.
    Race(usize, usize),
    /// Revoke it (RFC 7009).
    Revoke(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<usize>().prop_map(Op::Use),
        2 => (any::<usize>(), 2usize..6).prop_map(|(k, n)| Op::Race(k, n)),
        1 => any::<usize>().prop_map(Op::Revoke),
    ]
}

/// A model of the family: alive until a spent token is presented, two
/// requests race, or a token is revoked; once dead, nothing ever works
/// again and no access token it issued introspects active.
#[actix_web::test]
async fn a_family_never_regains_life() {
    use proptest::strategy::ValueTree as _;
    use proptest::test_runner::{Config, TestRunner};
    let app = spawn_app_at_issuer(&[]).await;
    person(&app, "alice", "alice@example.com").await;
    let rp = confidential(&app).await;
    let b = browser();
    let mut runner =
        TestRunner::new(Config { rng_seed: proptest::test_runner::RngSeed::Fixed(13), ..Config::default() });
    let strategy = proptest::collection::vec(op(), 1..8);
    for case in 0..24 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let (_, t0) = redeem(&app, &rp, &code_for(&app, &rp, &b).await).await;
        let mut refresh_tokens = vec![field(&t0, "refresh_token")];
        let mut access_tokens = vec![field(&t0, "access_token")];
        let mut alive = true;
        for op in &ops {
            let pick = |k: usize| refresh_tokens[k % refresh_tokens.len()].clone();
            let current = refresh_tokens.len() - 1;
            match *op {
                Op::Use(k) => {
                    let (status, body) = refresh(&app, &rp, &pick(k)).await;
                    if alive && k % refresh_tokens.len() == current {
                        assert_eq!(status, 200, "case {case} {ops:?}: {body}");
                        refresh_tokens.push(field(&body, "refresh_token"));
                        access_tokens.push(field(&body, "access_token"));
                    } else {
                        assert_eq!(status, 400, "case {case} {ops:?}: {body}");
                        alive = false;
                    }
                }
                Op::Race(k, n) => {
                    let t = pick(k);
                    let results = join_all((0..n).map(|_| refresh(&app, &rp, &t))).await;
                    let won: Vec<&Value> = results.iter().filter(|(s, _)| *s == 200).map(|(_, v)| v).collect();
                    let expected = usize::from(alive && k % refresh_tokens.len() == current);
                    assert_eq!(won.len(), expected, "case {case} {ops:?}: {results:?}");
                    for w in won {
                        refresh_tokens.push(field(w, "refresh_token"));
                        access_tokens.push(field(w, "access_token"));
                    }
                    alive = false;
                }
                Op::Revoke(k) => {
                    let res = rp.post(&app, "/revoke", &[("token", &pick(k))]).send().await.unwrap();
                    assert_eq!(res.status(), 200);
                    alive = false;
                }
            }
            if !alive {
                for (i, a) in access_tokens.iter().enumerate() {
                    assert!(!active(&app, &rp, a).await, "case {case} {ops:?}: access token {i} after the family died");
                }
                let (status, _) = refresh(&app, &rp, refresh_tokens.last().unwrap()).await;
                assert_eq!(status, 400, "case {case} {ops:?}: the newest refresh token after the family died");
            }
        }
    }
}
