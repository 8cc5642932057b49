//! Changing a password from the account page: the current password is
//! required, the policy's problems are listed, a forged form changes
//! nothing, and afterwards the old password is dead and every other
//! session of the account is signed out.

use crate::helpers::TestApp;
use crate::mfa::{audit_actions, password_step, setup, text};
use crate::oidc_flow::{PASSWORD, browser, field, sign_in};

const NEW: &str = "correct horse battery staple 7";

async fn form_page(app: &TestApp, b: &reqwest::Client) -> String {
    let res = b.get(app.url("/account/password")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    text(res).await
}

async fn change(
    app: &TestApp,
    b: &reqwest::Client,
    csrf: &str,
    current: &str,
    new: &str,
    confirm: &str,
) -> (u16, String) {
    let form = [("csrf", csrf), ("current", current), ("new", new), ("confirm", confirm)];
    let res = b.post(app.url("/account/password")).form(&form).send().await.unwrap();
    (res.status().as_u16(), text(res).await)
}

/// Whether a fresh browser can sign in with this password.
async fn signs_in(app: &TestApp, password: &str) -> bool {
    let b = browser();
    let page = text(b.get(app.url("/login")).send().await.unwrap()).await;
    let res = sign_in(app, &b, &page, "alice", password).await;
    res.status() == 303
}

#[actix_web::test]
async fn a_password_change_needs_the_current_one_meets_the_policy_and_signs_out_other_sessions() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    let elsewhere = browser();
    password_step(&app, &elsewhere).await;

    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("href=\"/account/password\""), "{account}");
    let page = form_page(&app, &b).await;
    assert!(page.contains("autocomplete=\"current-password\"") && page.contains("autocomplete=\"new-password\""));
    let csrf = field(&page, "csrf");

    // The two new ones differ.
    let (status, body) = change(&app, &b, &csrf, PASSWORD, NEW, "something else entirely 9").await;
    assert_eq!(status, 400);
    assert!(body.contains("differs from its repetition"), "{body}");
    // A wrong current password.
    let (status, body) = change(&app, &b, &csrf, "not the password at all", NEW, NEW).await;
    assert_eq!(status, 403);
    assert!(body.contains("current password is not right"), "{body}");
    // The policy, every problem listed: too short and containing the
    // username; then the one in use now.
    let (status, body) = change(&app, &b, &csrf, PASSWORD, "alice1", "alice1").await;
    assert_eq!(status, 400);
    assert!(body.contains("id=\"password-problems\""), "{body}");
    assert!(body.contains("must be at least 12 characters"), "{body}");
    assert!(body.contains("contains the username or email address"), "{body}");
    let (status, body) = change(&app, &b, &csrf, PASSWORD, PASSWORD, PASSWORD).await;
    assert_eq!(status, 400);
    assert!(body.contains("used recently"), "{body}");
    assert!(signs_in(&app, PASSWORD).await, "nothing changed yet");

    let (status, body) = change(&app, &b, &csrf, PASSWORD, NEW, NEW).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("id=\"password-changed\""), "{body}");
    assert!(!signs_in(&app, PASSWORD).await, "the old password is dead");
    assert!(signs_in(&app, NEW).await, "the new one works");
    // This browser stays signed in; the other session is over.
    assert_eq!(b.get(app.url("/account")).send().await.unwrap().status(), 200);
    let other = elsewhere.get(app.url("/account")).send().await.unwrap();
    assert_ne!(other.status(), 200, "the other session survived the change");
    let actions = audit_actions(&app).await;
    assert!(actions.iter().any(|a| a == "user.password_changed"), "{actions:?}");
    assert!(actions.iter().any(|a| a == "login.failed"), "the wrong current password counted: {actions:?}");
    // Refused as a password change, not as some other change.
    assert!(actions.iter().any(|a| a == "user.password_change_refused"), "{actions:?}");
    assert!(!actions.iter().any(|a| a == "mfa.add_refused"), "{actions:?}");
}

#[actix_web::test]
async fn a_forged_or_sessionless_password_form_changes_nothing() {
    let (app, _rp) = setup(&[]).await;
    let b = browser();
    password_step(&app, &b).await;
    // No token, and another browser's token: both refused.
    let (status, _) = change(&app, &b, "", PASSWORD, NEW, NEW).await;
    assert_eq!(status, 403);
    let attacker = browser();
    let login = text(attacker.get(app.url("/login")).send().await.unwrap()).await;
    let (status, _) = change(&app, &b, &field(&login, "csrf"), PASSWORD, NEW, NEW).await;
    assert_eq!(status, 403);
    // Without a session there is no form to post to.
    let page = form_page(&app, &b).await;
    let (status, _) = change(&app, &attacker, &field(&page, "csrf"), PASSWORD, NEW, NEW).await;
    assert_ne!(status, 200);
    assert_ne!(attacker.get(app.url("/account/password")).send().await.unwrap().status(), 200);
    assert!(signs_in(&app, PASSWORD).await, "the password is unchanged");
    assert!(!signs_in(&app, NEW).await);
}
