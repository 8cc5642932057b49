//! What a validated authorization request needs next, given the browser's
//! session: a (fresh) login, a second factor, consent, or the code. A pure
//! function of the request, the session and the facts looked up so far; it
//! names the fact it lacks instead of guessing, so the handler reads only
//! what the decision turns on (no factor lookup for a request that needs
//! no second factor, no consent lookup for a client that needs none).

use super::AuthorizationRequest;
use crate::mfa::{ACR_MFA, satisfies};
use chrono::{DateTime, Utc};
use entity::sessions::Model as Session;

/// What is known about the signed-in person beyond the session itself;
/// `None` is "not looked up yet".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// The `mfa` setting demands a second factor of this person.
    pub mfa_required: Option<bool>,
    /// The person has enrolled a second factor.
    pub has_second_factor: Option<bool>,
    /// The scopes the person remembered granting this client (`Some(None)`:
    /// none remembered).
    pub remembered_scope: Option<Option<String>>,
}

/// A fact `decide` needs before it can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    MfaRequired,
    HasSecondFactor,
    RememberedScope,
}

/// The next step of an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Look this up and decide again.
    Lookup(Fact),
    /// Sign in: no usable session, or `prompt=login` / `max_age` asks for a
    /// fresh one. The login satisfies both, so they are not carried on.
    Login { hint: Option<String> },
    /// A second factor is due and the person has one: challenge it.
    StepUp,
    /// A second factor is due and the person has none: the password again
    /// first (a borrowed session must not enrol a factor of its own).
    Enrol,
    /// Ask the person to approve these scopes (`prompt=consent` is then
    /// satisfied and not carried on).
    Consent { scopes: Vec<String> },
    /// Everything holds: issue the authorization code.
    IssueCode,
    /// Tell the client, at its redirect URI (`prompt=none` could not be met).
    ErrorToClient { error: &'static str, description: &'static str },
}

/// Decides the next step. `session` is the browser's live session whose
/// account is active, if any.
pub fn decide(ar: &AuthorizationRequest, session: Option<&Session>, facts: &Facts, now: DateTime<Utc>) -> Next {
    // max_age=0 is a fresh login every time (OIDC Core §3.1.2.1).
    let fresh_enough = |s: &Session| ar.max_age.is_none_or(|m| m > 0 && (now - s.auth_time).num_seconds() <= m);
    let session = match session {
        Some(s) if !ar.prompt.login && fresh_enough(s) => s,
        _ if ar.prompt.none => return to_client("login_required", "the user must sign in"),
        _ => return Next::Login { hint: ar.login_hint.clone() },
    };
    // Step-up: the client asks for MFA (`acr_values`), or the policy now
    // demands it of this person and the session predates that.
    if session.acr != ACR_MFA {
        let asked = ar.acr_values.as_deref().is_some_and(|a| !satisfies(&session.acr, a));
        let required = asked
            || match facts.mfa_required {
                Some(r) => r,
                None => return Next::Lookup(Fact::MfaRequired),
            };
        if required {
            if ar.prompt.none {
                return to_client("login_required", "the user must use a second factor");
            }
            return match facts.has_second_factor {
                Some(true) => Next::StepUp,
                Some(false) => Next::Enrol,
                None => Next::Lookup(Fact::HasSecondFactor),
            };
        }
    }
    if ar.client.registration.consent_required {
        let Some(remembered) = &facts.remembered_scope else { return Next::Lookup(Fact::RememberedScope) };
        let covered = remembered.as_deref().is_some_and(|g| ar.scopes.iter().all(|s| g.split(' ').any(|x| x == s)));
        if !covered || ar.prompt.consent {
            if ar.prompt.none {
                return to_client("consent_required", "the user must approve this client");
            }
            return Next::Consent { scopes: ar.scopes.clone() };
        }
    }
    Next::IssueCode
}

fn to_client(error: &'static str, description: &'static str) -> Next {
    Next::ErrorToClient { error, description }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn the_table() {
        let pwd = Some(session(100, ACR_PASSWORD));
        let mfa = Some(session(100, ACR_MFA));
        #[rustfmt::skip]
        type Row<'a> = (&'a str, Option<Session>, bool, &'a str, Option<i64>, Option<&'a str>, Facts, Next);
        let rows: Vec<Row> = vec![
            // what, session, consent_required, prompt, max_age, acr_values, facts, next
            ("no session", None, false, "", None, None, facts(false, false, None), login()),
            (
                "no session, prompt=none",
                None,
                false,
                "none",
                None,
                None,
                facts(false, false, None),
                err("login_required", "the user must sign in"),
            ),
            ("signed in", pwd.clone(), false, "", None, None, facts(false, false, None), Next::IssueCode),
            ("prompt=login", pwd.clone(), false, "login", None, None, facts(false, false, None), login()),
            (
                "prompt=login none",
                pwd.clone(),
                false,
                "none login",
                None,
                None,
                facts(false, false, None),
                err("login_required", "the user must sign in"),
            ),
            ("max_age=0", pwd.clone(), false, "", Some(0), None, facts(false, false, None), login()),
            ("max_age met", pwd.clone(), false, "", Some(100), None, facts(false, false, None), Next::IssueCode),
            ("max_age passed", pwd.clone(), false, "", Some(99), None, facts(false, false, None), login()),
            (
                "max_age passed, none",
                pwd.clone(),
                false,
                "none",
                Some(99),
                None,
                facts(false, false, None),
                err("login_required", "the user must sign in"),
            ),
            (
                "acr mfa asked, has factor",
                pwd.clone(),
                false,
                "",
                None,
                Some(ACR_MFA),
                facts(false, true, None),
                Next::StepUp,
            ),
            (
                "acr mfa asked, no factor",
                pwd.clone(),
                false,
                "",
                None,
                Some(ACR_MFA),
                facts(false, false, None),
                Next::Enrol,
            ),
            (
                "acr mfa asked, none",
                pwd.clone(),
                false,
                "none",
                None,
                Some(ACR_MFA),
                facts(false, true, None),
                err("login_required", "the user must use a second factor"),
            ),
            (
                "acr password asked",
                pwd.clone(),
                false,
                "",
                None,
                Some(ACR_PASSWORD),
                facts(false, true, None),
                Next::IssueCode,
            ),
            (
                "password or mfa asked",
                pwd.clone(),
                false,
                "",
                None,
                Some("urn:gatehouse:acr:password urn:gatehouse:acr:mfa"),
                facts(false, true, None),
                Next::IssueCode,
            ),
            (
                "unknown acr asked",
                pwd.clone(),
                false,
                "",
                None,
                Some("urn:other"),
                facts(false, true, None),
                Next::IssueCode,
            ),
            ("policy requires, has factor", pwd.clone(), false, "", None, None, facts(true, true, None), Next::StepUp),
            ("policy requires, no factor", pwd.clone(), false, "", None, None, facts(true, false, None), Next::Enrol),
            (
                "policy requires, none",
                pwd.clone(),
                false,
                "none",
                None,
                None,
                facts(true, true, None),
                err("login_required", "the user must use a second factor"),
            ),
            (
                "mfa session, policy requires",
                mfa.clone(),
                false,
                "",
                None,
                Some(ACR_MFA),
                facts(true, true, None),
                Next::IssueCode,
            ),
            ("consent needed", pwd.clone(), true, "", None, None, facts(false, false, None), consent()),
            ("consent partly remembered", pwd.clone(), true, "", None, None, facts(false, false, PART), consent()),
            ("consent remembered", pwd.clone(), true, "", None, None, facts(false, false, ALL), Next::IssueCode),
            (
                "consent remembered, prompt=consent",
                pwd.clone(),
                true,
                "consent",
                None,
                None,
                facts(false, false, ALL),
                consent(),
            ),
            (
                "consent needed, none",
                pwd.clone(),
                true,
                "none",
                None,
                None,
                facts(false, false, PART),
                err("consent_required", "the user must approve this client"),
            ),
            (
                "consent remembered, none",
                pwd.clone(),
                true,
                "none",
                None,
                None,
                facts(false, false, ALL),
                Next::IssueCode,
            ),
            (
                "consent remembered, none consent",
                pwd.clone(),
                true,
                "none consent",
                None,
                None,
                facts(false, false, ALL),
                err("consent_required", "the user must approve this client"),
            ),
            ("step-up before consent", pwd.clone(), true, "", None, None, facts(true, true, None), Next::StepUp),
            ("mfa session, consent", mfa.clone(), true, "", None, None, facts(true, true, None), consent()),
            (
                "prompt=consent, no consent needed",
                pwd.clone(),
                false,
                "consent",
                None,
                None,
                facts(false, false, None),
                Next::IssueCode,
            ),
        ];
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
                                                Fact::HasSecondFactor => {
                                                    known.has_second_factor = full.has_second_factor
                                                }
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
                                    assert!(
                                        !asked.contains(&Fact::MfaRequired) && !asked.contains(&Fact::HasSecondFactor)
                                    );
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
}
