//! Attacks on the second factor: guessing codes (per challenge, across
//! challenges, in parallel), a seed planted by someone with only the
//! password, and an account disabled half-way through a login.

use crate::mfa::{
    Authenticator, audit_actions, enrol_from_account, password_step, recovery_codes, second_step, setup, text,
};
use crate::oidc_flow::{PASSWORD, browser, field, location, sign_in};

#[actix_web::test]
async fn guessing_the_code_is_cut_short_by_the_challenge_and_the_budget() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let (auth, used_step, _) = enrol_from_account(&app, &b).await;

    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa");
    let mut last = 0;
    for guess in 0..5 {
        let res = second_step(&app, &b, "totp", &format!("{:06}", 111_111 * (guess % 9 + 1))).await;
        last = res.status().as_u16();
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "five wrong codes end the challenge");
    // The challenge is gone: even the right code no longer helps.
    let res = second_step(&app, &b, "totp", &auth.code(used_step + 1)).await;
    assert_ne!(res.status(), 303);

    // A new password step: the per-(IP, user) budget is spent for now.
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa");
    let res = second_step(&app, &b, "totp", &auth.code(used_step + 1)).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    // Four here; the budget's fifth failure was the wrong code at enrolment.
    let audit = audit_actions(&app).await;
    assert!(audit.iter().filter(|a| *a == "mfa.totp.failed").count() >= 4, "{audit:?}");
}

#[actix_web::test]
async fn wrong_second_factors_count_toward_the_account_lockout() {
    // Three failures from unknown devices lock. The wrong password at
    // enrolment came from the signed-in browser, a trusted device with a
    // budget of its own (device cookies), so it is not one of them.
    let (app, _rp) =
        setup(&[("GATEHOUSE_LOCKOUT_THRESHOLD", "3"), ("GATEHOUSE_LOGIN_FAILURES_PER_MINUTE", "1000")]).await;
    let owner = browser();
    password_step(&app, &owner).await;
    let (auth, used_step, _) = enrol_from_account(&app, &owner).await;

    let b = browser();
    password_step(&app, &b).await;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(second_step(&app, &b, "totp", "999999").await.status().as_u16());
    }
    // The right password again does not reset the count: the third wrong
    // code, in a new challenge, locks the account.
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa");
    statuses.push(second_step(&app, &b, "totp", "999999").await.status().as_u16());
    assert_eq!(statuses, [200, 200, 429], "the third failure locks the account for unknown devices");
    // Locked: the password step now fails like any wrong password.
    let b = browser();
    let page = text(b.get(app.url("/login")).send().await.unwrap()).await;
    let res = sign_in(&app, &b, &page, "alice", PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert!(text(res).await.contains("Incorrect username or password"));
    // The owner's browser, a trusted device, still signs in, both factors.
    assert_eq!(password_step(&app, &owner).await, "/login/mfa");
    let res = second_step(&app, &owner, "totp", &auth.code(used_step + 1)).await;
    assert_eq!(res.status(), 303, "the owner's second factor on a trusted device");
}

#[actix_web::test]
async fn concurrent_guesses_share_the_challenges_five_attempts() {
    let (app, _rp) =
        setup(&[("GATEHOUSE_LOCKOUT_THRESHOLD", "0"), ("GATEHOUSE_LOGIN_FAILURES_PER_MINUTE", "1000")]).await;
    let b = browser();
    password_step(&app, &b).await;
    enrol_from_account(&app, &b).await;
    let b = browser();
    password_step(&app, &b).await;
    let page = text(b.get(app.url("/login/mfa")).send().await.unwrap()).await;
    let csrf = field(&page, "csrf");
    let guesses = (0..12).map(|i| {
        let (b, url, csrf) = (b.clone(), app.url("/login/mfa"), csrf.clone());
        async move {
            let code = format!("{:06}", 100_000 + i);
            let form = [("csrf", csrf.as_str()), ("method", "totp"), ("code", code.as_str())];
            b.post(url).form(&form).send().await.unwrap().status().as_u16()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    // 200: checked and wrong; 429: no attempt left; 403: the challenge was
    // already gone when the request looked it up.
    assert!(statuses.iter().all(|s| [200, 403, 429].contains(s)), "{statuses:?}");
    let audit = audit_actions(&app).await;
    let checked = audit.iter().filter(|a| *a == "mfa.totp.failed").count();
    assert!(checked <= 5, "at most five answers checked, not {checked}: {statuses:?}");
}

#[actix_web::test]
async fn a_pending_seed_is_shown_to_one_sign_in_only() {
    let (app, _rp) = setup(&[("GATEHOUSE_MFA", "required")]).await;
    // Someone with the password starts an enrolment and keeps its page...
    let attacker = browser();
    assert_eq!(password_step(&app, &attacker).await, "/login/mfa/enrol");
    let theirs = text(attacker.get(app.url("/login/mfa/enrol")).send().await.unwrap()).await;
    // ...the owner signs in and gets a seed of their own.
    let owner = browser();
    assert_eq!(password_step(&app, &owner).await, "/login/mfa/enrol");
    let mine = text(owner.get(app.url("/login/mfa/enrol")).send().await.unwrap()).await;
    let (a, o) = (Authenticator::from_page(&theirs), Authenticator::from_page(&mine));
    assert_ne!(a.0.secret(), o.0.secret(), "never the same seed for two sign-ins");
    // The owner's seed confirms; whoever opens the page last holds the only
    // live seed, so an attacker can delay an enrolment but never share it.
    let res = owner
        .post(app.url("/login/mfa/enrol"))
        .form(&[("csrf", field(&mine, "csrf")), ("code", o.code(Authenticator::step_now()))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    recovery_codes(&text(res).await);
    // And the attacker's old enrolment challenge cannot add a second factor now.
    let res = attacker
        .post(app.url("/login/mfa/enrol"))
        .form(&[("csrf", field(&theirs, "csrf")), ("code", a.code(Authenticator::step_now()))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[actix_web::test]
async fn an_account_disabled_during_the_second_step_gets_no_session() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let (auth, step, _) = enrol_from_account(&app, &b).await;
    let b = browser();
    assert_eq!(password_step(&app, &b).await, "/login/mfa");
    let alice = gatehouse::store::users::find_by_username(&app.db, "alice").await.unwrap().unwrap();
    gatehouse::accounts::users::set_active(&app.db, &alice, false, chrono::Utc::now()).await.unwrap();
    let res = second_step(&app, &b, "totp", &auth.code(step + 1)).await;
    assert_eq!(res.status(), 403);
    assert_eq!(location(&b.get(app.url("/account")).send().await.unwrap()), "/login");
}
