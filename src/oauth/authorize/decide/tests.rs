use super::*;
use crate::mfa::ACR_PASSWORD;
use crate::oauth::authorize::{Prompt, Reply, ResponseMode};
use crate::oauth::client::ClientSpec;
use crate::oauth::registry::Client;
use std::sync::Arc;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn request(
    consent_required: bool,
    prompt: &str,
    max_age: Option<i64>,
    acr_values: Option<&str>,
) -> AuthorizationRequest {
    let spec = ClientSpec {
        name: "app".into(),
        redirect_uris: vec!["https://app.example/cb".into()],
        consent_required: Some(consent_required),
        ..Default::default()
    };
    let client = Client {
        client_id: "c1".into(),
        registration: spec.validate().unwrap(),
        secret_hash: None,
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    let has = |p: &str| prompt.split(' ').any(|x| x == p);
    AuthorizationRequest {
        client: Arc::new(client),
        reply: Reply { redirect_uri: "https://app.example/cb".into(), mode: ResponseMode::Query, state: None },
        scopes: vec!["openid".into(), "email".into()],
        nonce: None,
        code_challenge: None,
        prompt: Prompt { none: has("none"), login: has("login"), consent: has("consent") },
        max_age,
        login_hint: Some("alice".into()),
        acr_values: acr_values.map(str::to_owned),
    }
}

/// A session that signed in `age` seconds ago with `acr`.
fn session(age: i64, acr: &str) -> Session {
    let t = now() - chrono::Duration::seconds(age);
    Session {
        id: "h".into(),
        sid: "s".into(),
        user_id: "u1".into(),
        auth_time: t,
        amr: if acr == ACR_MFA { "pwd otp mfa".into() } else { "pwd".into() },
        acr: acr.into(),
        created_at: t,
        last_seen_at: t,
        expires_at: now() + chrono::Duration::hours(1),
        ip: None,
        user_agent: None,
        ended_at: None,
    }
}

fn facts(mfa_required: bool, has_factor: bool, remembered: Option<&str>) -> Facts {
    Facts {
        mfa_required: Some(mfa_required),
        has_second_factor: Some(has_factor),
        remembered_scope: Some(remembered.map(str::to_owned)),
    }
}

const ALL: Option<&str> = Some("openid email profile");
const PART: Option<&str> = Some("openid");

fn login() -> Next {
    Next::Login { hint: Some("alice".into()) }
}

fn err(error: &'static str, description: &'static str) -> Next {
    Next::ErrorToClient { error, description }
}

fn consent() -> Next {
    Next::Consent { scopes: vec!["openid".into(), "email".into()] }
}

type Row = (&'static str, Option<Session>, bool, &'static str, Option<i64>, Option<&'static str>, Facts, Next);

/// What the current code does for each combination that matters, one row each.
#[rustfmt::skip]
fn rows() -> Vec<Row> {
    let pwd = Some(session(100, ACR_PASSWORD));
    let mfa = Some(session(100, ACR_MFA));
    vec![
        // what, session, consent_required, prompt, max_age, acr_values, facts, next
        ("no session", None, false, "", None, None, facts(false, false, None), login()),
        ("no session, prompt=none", None, false, "none", None, None, facts(false, false, None), err("login_required", "the user must sign in")),
        ("signed in", pwd.clone(), false, "", None, None, facts(false, false, None), Next::IssueCode),
        ("prompt=login", pwd.clone(), false, "login", None, None, facts(false, false, None), login()),
        ("prompt=login none", pwd.clone(), false, "none login", None, None, facts(false, false, None), err("login_required", "the user must sign in")),
        ("max_age=0", pwd.clone(), false, "", Some(0), None, facts(false, false, None), login()),
        ("max_age met", pwd.clone(), false, "", Some(100), None, facts(false, false, None), Next::IssueCode),
        ("max_age passed", pwd.clone(), false, "", Some(99), None, facts(false, false, None), login()),
        ("max_age passed, none", pwd.clone(), false, "none", Some(99), None, facts(false, false, None), err("login_required", "the user must sign in")),
        ("acr mfa asked, has factor", pwd.clone(), false, "", None, Some(ACR_MFA), facts(false, true, None), Next::StepUp),
        ("acr mfa asked, no factor", pwd.clone(), false, "", None, Some(ACR_MFA), facts(false, false, None), Next::Enrol),
        ("acr mfa asked, none", pwd.clone(), false, "none", None, Some(ACR_MFA), facts(false, true, None), err("login_required", "the user must use a second factor")),
        ("acr password asked", pwd.clone(), false, "", None, Some(ACR_PASSWORD), facts(false, true, None), Next::IssueCode),
        ("password or mfa asked", pwd.clone(), false, "", None, Some("urn:gatehouse:acr:password urn:gatehouse:acr:mfa"), facts(false, true, None), Next::IssueCode),
        ("unknown acr asked", pwd.clone(), false, "", None, Some("urn:other"), facts(false, true, None), Next::IssueCode),
        ("policy requires, has factor", pwd.clone(), false, "", None, None, facts(true, true, None), Next::StepUp),
        ("policy requires, no factor", pwd.clone(), false, "", None, None, facts(true, false, None), Next::Enrol),
        ("policy requires, none", pwd.clone(), false, "none", None, None, facts(true, true, None), err("login_required", "the user must use a second factor")),
        ("mfa session, policy requires", mfa.clone(), false, "", None, Some(ACR_MFA), facts(true, true, None), Next::IssueCode),
        ("consent needed", pwd.clone(), true, "", None, None, facts(false, false, None), consent()),
        ("consent partly remembered", pwd.clone(), true, "", None, None, facts(false, false, PART), consent()),
        ("consent remembered", pwd.clone(), true, "", None, None, facts(false, false, ALL), Next::IssueCode),
        ("consent remembered, prompt=consent", pwd.clone(), true, "consent", None, None, facts(false, false, ALL), consent()),
        ("consent needed, none", pwd.clone(), true, "none", None, None, facts(false, false, PART), err("consent_required", "the user must approve this client")),
        ("consent remembered, none", pwd.clone(), true, "none", None, None, facts(false, false, ALL), Next::IssueCode),
        ("consent remembered, none consent", pwd.clone(), true, "none consent", None, None, facts(false, false, ALL), err("consent_required", "the user must approve this client")),
        ("step-up before consent", pwd.clone(), true, "", None, None, facts(true, true, None), Next::StepUp),
        ("mfa session, consent", mfa.clone(), true, "", None, None, facts(true, true, None), consent()),
        ("prompt=consent, no consent needed", pwd.clone(), false, "consent", None, None, facts(false, false, None), Next::IssueCode),
    ]
}

#[test]
fn the_table() {
    let rows = rows();
    for (what, s, consent_required, prompt, max_age, acr_values, f, want) in rows {
        let ar = request(consent_required, prompt, max_age, acr_values);
        assert_eq!(decide(&ar, s.as_ref(), &f, now()), want, "{what}");
    }
}

/// Every combination of request, session and facts: looking facts up
/// one at a time, as the handler does, reaches the answer that knowing
/// them all gives, and only facts the answer turns on are asked for.
#[test]
fn lookups_are_lazy_and_change_nothing() {
    let prompts = ["", "none", "login", "consent", "none login", "none consent", "login consent"];
    let sessions =
        [None, Some(session(10, ACR_PASSWORD)), Some(session(10_000, ACR_PASSWORD)), Some(session(10, ACR_MFA))];
    let mut cases = 0;
    for prompt in prompts {
        for consent_required in [false, true] {
            for max_age in [None, Some(0), Some(60)] {
                for acr_values in [None, Some(ACR_MFA), Some(ACR_PASSWORD)] {
                    let ar = request(consent_required, prompt, max_age, acr_values);
                    for s in &sessions {
                        for (mfa_required, has_factor, remembered) in fact_combinations() {
                            let full = facts(mfa_required, has_factor, remembered);
                            let want = decide(&ar, s.as_ref(), &full, now());
                            let mut known = Facts::default();
                            let mut asked = Vec::new();
                            let got = loop {
                                match decide(&ar, s.as_ref(), &known, now()) {
                                    Next::Lookup(f) => {
                                        assert!(!asked.contains(&f), "{f:?} asked twice");
                                        asked.push(f);
                                        match f {
                                            Fact::MfaRequired => known.mfa_required = full.mfa_required,
                                            Fact::HasSecondFactor => known.has_second_factor = full.has_second_factor,
                                            Fact::RememberedScope => {
                                                known.remembered_scope = full.remembered_scope.clone()
                                            }
                                        }
                                    }
                                    next => break next,
                                }
                            };
                            assert_eq!(got, want);
                            assert!(!matches!(want, Next::Lookup(_)));
                            if !consent_required {
                                assert!(!asked.contains(&Fact::RememberedScope));
                            }
                            if s.as_ref().is_none_or(|s| s.acr == ACR_MFA) {
                                assert!(!asked.contains(&Fact::MfaRequired) && !asked.contains(&Fact::HasSecondFactor));
                            }
                            if prompt.contains("none") {
                                assert!(
                                    matches!(got, Next::IssueCode | Next::ErrorToClient { .. }),
                                    "prompt=none must not show a page: {got:?}"
                                );
                            }
                            if got == Next::IssueCode {
                                let s = s.as_ref().unwrap();
                                assert!(!prompt.contains("login") && max_age != Some(0));
                                assert!(s.acr == ACR_MFA || (!mfa_required && acr_values != Some(ACR_MFA)));
                                assert!(!consent_required || (remembered == ALL && !prompt.contains("consent")));
                            }
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 7 * 2 * 3 * 3 * 4 * 12);
}

fn fact_combinations() -> Vec<(bool, bool, Option<&'static str>)> {
    let mut v = Vec::new();
    for m in [false, true] {
        for h in [false, true] {
            for r in [None, PART, ALL] {
                v.push((m, h, r));
            }
        }
    }
    v
}
