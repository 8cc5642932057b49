//! The admin console over real HTTP with a browser's cookies: who gets in
//! (administrators by flag or by group; a second factor when the policy
//! asks it of administrators), the search with its filters and pages, the
//! bulk actions (CSRF, sudo mode, per-user outcomes, audited under the
//! administrator) and a user's page.

use crate::helpers::{TestApp, spawn_app_with};
use crate::oidc_flow::{PASSWORD, browser, field, location, person, sign_in};
use sea_orm::{ActiveModelTrait as _, ActiveValue::Set, EntityTrait as _, IntoActiveModel as _};

async fn text(res: reqwest::Response) -> String {
    res.text().await.unwrap()
}

/// A browser signed in as `username` (who has the tests' password).
pub async fn signed_in(app: &TestApp, username: &str) -> reqwest::Client {
    let b = browser();
    let page = text(b.get(app.url("/login")).send().await.unwrap()).await;
    let res = sign_in(app, &b, &page, username, PASSWORD).await;
    assert_eq!(res.status(), 303, "{username} signs in");
    b
}

pub async fn set_admin(app: &TestApp, user_id: &str) {
    let u = entity::users::Entity::find_by_id(user_id.to_owned()).one(&app.db).await.unwrap().unwrap();
    let mut am = u.into_active_model();
    am.is_admin = Set(true);
    am.update(&app.db).await.unwrap();
}

/// Puts the user in a group marked as granting admin.
pub async fn admin_group(app: &TestApp, user_id: &str) -> String {
    group(app, "Operators", true, user_id).await
}

/// A group (not from SCIM) with one member; returns its id.
pub async fn group(app: &TestApp, name: &str, grants_admin: bool, user_id: &str) -> String {
    let now = chrono::Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    entity::groups::ActiveModel {
        id: Set(id.clone()),
        display_name: Set(name.into()),
        display_name_normalized: Set(name.to_lowercase()),
        external_id: Set(None),
        scim_managed: Set(false),
        grants_admin: Set(grants_admin),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&app.db)
    .await
    .unwrap();
    entity::group_members::ActiveModel {
        group_id: Set(id.clone()),
        user_id: Set(user_id.to_owned()),
        added_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    id
}

fn rows(page: &str) -> Vec<String> {
    page.split("name=\"user_id\" value=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_owned()).collect()
}

async fn events_by(app: &TestApp, actor: &str, action: &str) -> usize {
    app.audit_written().await;
    gatehouse::store::audit::recent(&app.db, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor == actor && e.action == action)
        .count()
}

#[actix_web::test]
async fn the_console_is_for_administrators_by_flag_or_group_with_the_mfa_policy_applied() {
    let app = spawn_app_with(&[("GATEHOUSE_MFA", "required_for_admins")]).await;
    let anonymous = browser();
    let res = anonymous.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/login".to_owned()));

    let alice = person(&app, "alice", "alice@example.com").await;
    let b = signed_in(&app, "alice").await;
    let res = b.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(location(&res), "/admin/users");
    let res = b.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(text(res).await.contains("Administrators only"));
    let account = text(b.get(app.url("/account")).send().await.unwrap()).await;
    assert!(!account.contains("id=\"admin-console\""), "no console link for others");
    let res = b.get(app.url(&format!("/admin/users/{alice}"))).send().await.unwrap();
    assert_eq!(res.status(), 403, "every page checks");

    // Made an administrator mid-session through a group: the policy now
    // asks her for a second factor this session never passed.
    admin_group(&app, &alice).await;
    let res = b.get(app.url("/admin/users")).send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(text(res).await.contains("Sign in again"));

    // Without that policy, the group is enough.
    let open = spawn_app_with(&[]).await;
    let carol = person(&open, "carol", "carol@example.com").await;
    admin_group(&open, &carol).await;
    let b = signed_in(&open, "carol").await;
    let res = b.get(open.url("/admin/users")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"), "{csp}");
    let page = text(res).await;
    assert!(page.contains(&carol), "lists users: {page}");
    let account = text(b.get(open.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("id=\"admin-console\" href=\"/admin\""), "the account page links the console");
}

#[actix_web::test]
async fn search_filters_and_pages_through_every_user_once() {
    let app = spawn_app_with(&[]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    for i in 0..60 {
        let display = if i % 3 == 0 { "Ann Smith" } else { "Bob Jones" };
        crate::admin_users::user(&app, &format!("person{i:02}"), &format!("p{i:02}@example.org"), display).await;
    }
    let b = signed_in(&app, "root").await;

    // Fifty a page, in username order, each user once (with root and the
    // bootstrap admin: 62).
    let first = text(b.get(app.url("/admin/users")).send().await.unwrap()).await;
    let mut all = rows(&first);
    assert_eq!(all.len(), 50);
    let next = field(&first.replace("href=\"/admin/users?", "name=\"next\" value=\"/admin/users?"), "next");
    let second = text(b.get(app.url(&next)).send().await.unwrap()).await;
    assert!(!second.contains("id=\"next-page\""), "the last page");
    all.extend(rows(&second));
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((all.len(), unique.len()), (62, 62));

    // Words and filters; the next link keeps them.
    let smith = text(b.get(app.url("/admin/users?q=smith")).send().await.unwrap()).await;
    assert_eq!(rows(&smith).len(), 20);
    assert!(smith.contains("value=\"smith\""), "the box keeps the query");
    let admins = text(b.get(app.url("/admin/users?administrator=yes")).send().await.unwrap()).await;
    assert_eq!(rows(&admins).len(), 2, "root and the bootstrap admin");
    assert!(admins.contains("<option value=\"yes\" selected>"));
    for bad in ["active=maybe", "colour=red", "cursor=not-a-cursor", "q=a+b+c+d+e"] {
        let res = b.get(app.url(&format!("/admin/users?{bad}"))).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }

    // A fresh sign-in changes without the password again.
    let picked: Vec<String> = rows(&smith).into_iter().take(3).collect();
    let mut form = vec![("csrf", field(&smith, "csrf")), ("action", "deactivate".to_owned())];
    form.extend(picked.iter().map(|id| ("user_id", id.clone())));
    let res = b.post(app.url("/admin/users/bulk")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let done = text(res).await;
    assert!(done.contains("Deactivate: 3 changed"), "{done}");
    let inactive = text(b.get(app.url("/admin/users?active=no")).send().await.unwrap()).await;
    let mut got = rows(&inactive);
    got.sort();
    let mut want = picked.clone();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(events_by(&app, &format!("user:{root}"), "user.disabled").await, 3);
}

#[actix_web::test]
async fn bulk_actions_take_the_csrf_token_and_the_password_and_say_what_happened_to_each() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_REAUTH_SECS", "0")]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    let u1 = person(&app, "uma", "uma@example.com").await;
    let u2 = person(&app, "vic", "vic@example.com").await;
    let b = signed_in(&app, "root").await;
    let page = text(b.get(app.url("/admin/users")).send().await.unwrap()).await;
    assert!(page.contains("name=\"password\""), "sudo mode asks for the password");
    let csrf = field(&page, "csrf");
    let post = |form: Vec<(&'static str, String)>| {
        let b = b.clone();
        let url = app.url("/admin/users/bulk");
        async move { b.post(url).form(&form).send().await.unwrap() }
    };
    let base = |action: &str| {
        vec![
            ("action", action.to_owned()),
            ("user_id", u1.clone()),
            ("user_id", u2.clone()),
            ("user_id", "nobody".into()),
        ]
    };
    let active = |id: String| {
        let db = app.db.clone();
        async move { entity::users::Entity::find_by_id(id).one(&db).await.unwrap().unwrap().active }
    };

    // CSRF: no token, and a token from another administrator's session.
    let mut form = base("deactivate");
    form.push(("password", PASSWORD.into()));
    assert_eq!(post(form.clone()).await.status(), 403);
    let other = signed_in(&app, "root").await;
    let theirs = field(&text(other.get(app.url("/admin/users")).send().await.unwrap()).await, "csrf");
    let mut forged = form.clone();
    forged.push(("csrf", theirs));
    assert_eq!(post(forged).await.status(), 403);
    assert!(active(u1.clone()).await, "nothing changed");

    // Sudo mode: the password, right.
    let mut no_password = base("deactivate");
    no_password.push(("csrf", csrf.clone()));
    let res = post(no_password).await;
    assert_eq!(res.status(), 403);
    assert!(text(res).await.contains("Confirm it is you"));
    let mut wrong = base("deactivate");
    wrong.extend([("csrf", csrf.clone()), ("password", "not the password at all".into())]);
    assert_eq!(post(wrong).await.status(), 403);
    assert!(active(u1.clone()).await);
    app.audit_written().await;
    let refused = gatehouse::store::audit::recent(&app.db, 100).await.unwrap();
    assert!(refused.iter().any(|e| e.action == "admin.confirm_refused" && e.outcome == "failure"));

    let mut right = base("deactivate");
    right.extend([("csrf", csrf.clone()), ("password", PASSWORD.into())]);
    let res = post(right.clone()).await;
    assert_eq!(res.status(), 200);
    let done = text(res).await;
    assert!(done.contains("Deactivate: 2 changed"), "{done}");
    assert!(done.contains("no such user") && done.contains("uma") && done.contains("vic"));
    assert!(!active(u1.clone()).await && !active(u2.clone()).await);
    assert_eq!(events_by(&app, &format!("user:{root}"), "user.disabled").await, 2);
    let again = text(post(right).await).await;
    assert!(again.contains("Deactivate: 0 changed") && again.contains("already so"), "{again}");

    // Refused outright: an unknown action, nobody selected, oneself.
    for (action, ids) in [("explode", vec![u1.clone()]), ("unlock", vec![]), ("deactivate", vec![root.clone()])] {
        let mut form = vec![("csrf", csrf.clone()), ("password", PASSWORD.into()), ("action", action.into())];
        form.extend(ids.into_iter().map(|id| ("user_id", id)));
        assert_eq!(post(form).await.status(), 400, "{action}");
    }
    assert!(active(root.clone()).await);
}

#[actix_web::test]
async fn a_users_page_shows_groups_sessions_factors_and_recent_events() {
    let app = spawn_app_with(&[]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    let dora = person(&app, "dora", "dora@example.com").await;
    admin_group(&app, &dora).await;
    let _dora_browser = signed_in(&app, "dora").await;
    let b = signed_in(&app, "root").await;
    // Sign-ins are audited in the background.
    app.audit_written().await;
    let res = b.get(app.url(&format!("/admin/users/{dora}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = text(res).await;
    for want in ["dora@example.com", "Operators", "id=\"sessions\"", "login.succeeded", "0 passkey(s)"] {
        assert!(page.contains(want), "{want}: {page}");
    }
    // Its actions post to the bulk form with this one user.
    let form = [
        ("csrf", field(&page, "csrf")),
        ("action", "sign_out_everywhere".into()),
        ("user_id", field(&page, "user_id")),
    ];
    let done = text(b.post(app.url("/admin/users/bulk")).form(&form).send().await.unwrap()).await;
    assert!(done.contains("Sign out everywhere: 1 changed"), "{done}");
    let page = text(b.get(app.url(&format!("/admin/users/{dora}"))).send().await.unwrap()).await;
    assert!(page.contains("No live sessions") && page.contains("user.signed_out_everywhere"), "{page}");
    let res = b.get(app.url("/admin/users/nobody")).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn groups_and_scim_tokens_change_from_the_console_under_sudo_and_csrf() {
    let app = spawn_app_with(&[("GATEHOUSE_ADMIN_REAUTH_SECS", "0")]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    let alice = person(&app, "alice", "alice@example.com").await;
    let gid = group(&app, "Support", false, &alice).await;
    let b = signed_in(&app, "root").await;
    let page = text(b.get(app.url("/admin/groups")).send().await.unwrap()).await;
    assert!(page.contains("Support") && page.contains("Grant admin to the members of Support"), "{page}");
    let csrf = field(&page, "csrf");
    let path = format!("/admin/groups/{gid}/admin");
    let grant = |password: &str, version: &str, csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("grants", "yes".to_owned()),
            ("version", version.to_owned()),
            ("password", password.to_owned()),
        ]
    };
    // Another session's token, no password, a wrong one: nothing changes.
    let alice_browser = signed_in(&app, "alice").await;
    let theirs = field(&text(alice_browser.get(app.url("/account")).send().await.unwrap()).await, "csrf");
    assert_eq!(b.post(app.url(&path)).form(&grant(PASSWORD, "1", &theirs)).send().await.unwrap().status(), 403);
    assert_eq!(b.post(app.url(&path)).form(&grant("", "1", &csrf)).send().await.unwrap().status(), 403);
    assert_eq!(b.post(app.url(&path)).form(&grant("wrong password", "1", &csrf)).send().await.unwrap().status(), 403);
    assert_eq!(alice_browser.get(app.url("/admin/users")).send().await.unwrap().status(), 403);
    // Granted from the version shown: Alice is an administrator now.
    let res = b.post(app.url(&path)).form(&grant(PASSWORD, "1", &csrf)).send().await.unwrap();
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/admin/groups".to_owned()));
    assert_eq!(alice_browser.get(app.url("/admin/users")).send().await.unwrap().status(), 200);
    // A decision from the stale page is refused, not applied blind.
    let mut stale = grant(PASSWORD, "1", &csrf);
    stale[1].1 = "no".into();
    assert_eq!(b.post(app.url(&path)).form(&stale).send().await.unwrap().status(), 409);
    assert_eq!(alice_browser.get(app.url("/admin/users")).send().await.unwrap().status(), 200);
    assert_eq!(events_by(&app, &format!("user:{root}"), "group.admin_granted").await, 1);

    // A SCIM token: shown once, works at once, revoked at once.
    let page = text(b.get(app.url("/admin/scim-tokens")).send().await.unwrap()).await;
    let csrf = field(&page, "csrf");
    let make = |name: &str| vec![("csrf", csrf.clone()), ("name", name.to_owned()), ("password", PASSWORD.to_owned())];
    let res = b.post(app.url("/admin/scim-tokens")).form(&make("okta")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let shown = text(res).await;
    let token = shown.split("<code id=\"issued-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(token.starts_with("gh_scim_"), "{token}");
    let scim = |token: String| {
        let (client, url) = (app.client.clone(), app.url("/scim/v2/Users"));
        async move { client.get(url).bearer_auth(token).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(scim(token.clone()).await, 200);
    let listed = text(b.get(app.url("/admin/scim-tokens")).send().await.unwrap()).await;
    assert!(listed.contains("okta") && !listed.contains(&token), "listed without its value");
    assert_eq!(b.post(app.url("/admin/scim-tokens")).form(&make("okta")).send().await.unwrap().status(), 400);
    let id = listed.split("action=\"/admin/scim-tokens/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let revoke = format!("/admin/scim-tokens/{id}/revoke");
    let form = [("csrf", csrf.clone()), ("password", PASSWORD.to_owned())];
    let res = b.post(app.url(&revoke)).form(&form).send().await.unwrap();
    assert_eq!((res.status().as_u16(), location(&res)), (303, "/admin/scim-tokens".to_owned()));
    assert_eq!(scim(token).await, 401);
    assert_eq!(events_by(&app, &format!("user:{root}"), "scim_token.created").await, 1);
    assert_eq!(events_by(&app, &format!("user:{root}"), "scim_token.revoked").await, 1);
}

#[actix_web::test]
async fn the_lockouts_page_says_who_until_when_and_from_where_and_unlocks() {
    let app = spawn_app_with(&[]).await;
    let root = person(&app, "root", "root@example.com").await;
    set_admin(&app, &root).await;
    let vic = person(&app, "vic", "vic@example.com").await;
    let now = chrono::Utc::now();
    entity::account_lockouts::ActiveModel {
        user_id: Set(vic.clone()),
        failures: Set(0),
        window_start: Set(now),
        lockouts: Set(2),
        locked_until: Set(Some(now + chrono::Duration::minutes(30))),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let mut locked = gatehouse::audit::AuditEvent::new(now, "system", "account.locked", Some(vic.clone()));
    locked.ip = Some("198.51.100.7".into());
    locked.reason = Some("repeated failed logins".into());
    gatehouse::store::audit::append(&app.db, vec![locked]).await.unwrap();

    let b = signed_in(&app, "root").await;
    let page = text(b.get(app.url("/admin/lockouts")).send().await.unwrap()).await;
    for want in ["vic", "198.51.100.7", "repeated failed logins", "Unlock vic"] {
        assert!(page.contains(want), "{want}: {page}");
    }
    let form = [("csrf", field(&page, "csrf")), ("action", "unlock".into()), ("user_id", vic.clone())];
    let done = text(b.post(app.url("/admin/users/bulk")).form(&form).send().await.unwrap()).await;
    assert!(done.contains("Unlock: 1 changed"), "{done}");
    let page = text(b.get(app.url("/admin/lockouts")).send().await.unwrap()).await;
    assert!(page.contains("Nobody is locked out"), "{page}");
    person(&app, "eve", "eve@example.com").await;
    let other = signed_in(&app, "eve").await;
    assert_eq!(other.get(app.url("/admin/lockouts")).send().await.unwrap().status(), 403);
}
