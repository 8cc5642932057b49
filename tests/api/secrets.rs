//! No flow leaks what it handles: the whole product, run against the real
//! binary at `trace` level, checked against every secret it used.

use crate::binary::{json_env, json_out, run_async, serve, text};
use crate::helpers::TestDatabase;
use serde_json::Value;
use std::time::Duration;

/// Every flow of the product, run against the real binary at `trace`
/// level: no password, secret, code, verifier, token or cookie it used may
/// appear in a log line or an audit row.
#[actix_web::test]
async fn no_flow_leaks_its_secrets_into_logs_or_the_audit_log() {
    use crate::oidc_flow::{callback_params, field, location};
    let db = TestDatabase::create().await;
    let env = json_env(&db, &[("GATEHOUSE_ADMIN_TOKEN", "admin-secret-token-0123456789abcdef")]);
    assert!(run_async(&env, &["migrate", "up"], None).await.status.success());
    let mut logs = String::new();
    let user_pw = "flow-secret-password-8";
    let o = run_async(
        &env,
        &["user", "create", "--username", "frank", "--email", "frank@example.com", "--password-stdin"],
        Some(&format!("{user_pw}\n")),
    )
    .await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    logs.push_str(&text(&o.stderr));
    let o = run_async(
        &env,
        &["client", "create", "--name", "web", "--redirect-uri", "https://rp.example.com/callback", "--json"],
        None,
    )
    .await;
    logs.push_str(&text(&o.stderr));
    let c = json_out(&o);
    let (client_id, client_secret) =
        (c["client_id"].as_str().unwrap().to_owned(), c["client_secret"].as_str().unwrap().to_owned());
    let o = run_async(&env, &["scim-token", "create", "--name", "idp", "--json"], None).await;
    logs.push_str(&text(&o.stderr));
    let scim_token = json_out(&o)["token"].as_str().unwrap().to_owned();

    let served = serve(&env);
    let base = format!("http://{}", served.addr);
    let b = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let verifier = "flow-secret-verifier-abcdefghijklmnopqrstuvwxyz0123456789";
    let challenge = gatehouse::oauth::pkce::challenge_of(verifier);
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("client_id", client_id.as_str()),
            ("redirect_uri", "https://rp.example.com/callback"),
            ("response_type", "code"),
            ("scope", "openid profile email offline_access"),
            ("state", "flow-state"),
            ("nonce", "flow-nonce"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    let page = b.get(format!("{base}/authorize?{q}")).send().await.unwrap().text().await.unwrap();
    let wrong_pw = "wrong-secret-password-10";
    let form = |pw: &str| {
        [
            ("csrf", field(&page, "csrf")),
            ("request", field(&page, "request")),
            ("username", "frank".into()),
            ("password", pw.into()),
        ]
    };
    b.post(format!("{base}/login")).form(&form(wrong_pw)).send().await.unwrap();
    let res = b.post(format!("{base}/login")).form(&form(user_pw)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gh_session="))
        .unwrap();
    let session = cookie["gh_session=".len()..].split(';').next().unwrap().to_owned();
    let page = b.get(format!("{base}{}", location(&res))).send().await.unwrap().text().await.unwrap();
    let csrf = field(&page, "csrf");
    let res = b
        .post(format!("{base}/consent"))
        .form(&[("csrf", csrf.as_str()), ("request", &field(&page, "request")), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    let code = callback_params(&location(&res))["code"].clone();
    let http = reqwest::Client::new();
    let tokens: Value = http
        .post(format!("{base}/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://rp.example.com/callback"),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed: Value = http
        .post(format!("{base}/token"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    http.get(format!("{base}/userinfo")).bearer_auth(&access).send().await.unwrap();
    http.post(format!("{base}/introspect"))
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[("token", &access)])
        .send()
        .await
        .unwrap();
    http.post(format!("{base}/token"))
        .basic_auth(&client_id, Some("wrong-client-secret-11"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap();
    let scim_pw = "scim-secret-password-9";
    let res = http
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(&scim_token)
        .header("content-type", "application/scim+json")
        .body(serde_json::json!({"userName": "gina", "password": scim_pw}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // A SCIM token made over the admin API, used once.
    let issued: Value = http
        .post(format!("{base}/admin/api/v1/scim-tokens"))
        .bearer_auth("admin-secret-token-0123456789abcdef")
        .json(&serde_json::json!({"name": "okta"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api_scim_token = issued["token"].as_str().unwrap().to_owned();
    let res = http.get(format!("{base}/scim/v2/Users")).bearer_auth(&api_scim_token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Second factors: the TOTP key, the recovery codes, the login challenge.
    let page = b.get(format!("{base}/account/mfa/totp")).send().await.unwrap().text().await.unwrap();
    let auth = crate::mfa::Authenticator::from_page(&page);
    let totp_key = auth.0.secret().to_base32();
    let res = b
        .post(format!("{base}/account/mfa/totp"))
        .form(&[
            ("csrf", field(&page, "csrf")),
            ("code", auth.code(crate::mfa::Authenticator::step_now())),
            ("password", user_pw.into()),
        ])
        .send()
        .await
        .unwrap();
    let recovery = crate::mfa::recovery_codes(&res.text().await.unwrap());
    let b2 = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = b2.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let res = b2
        .post(format!("{base}/login"))
        .form(&[("csrf", field(&page, "csrf")), ("username", "frank".into()), ("password", user_pw.into())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/login/mfa");
    let challenge_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("gh_login="))
        .unwrap();
    let challenge_cookie = challenge_cookie["gh_login=".len()..].split(';').next().unwrap().to_owned();
    let page = b2.get(format!("{base}/login/mfa")).send().await.unwrap().text().await.unwrap();
    let res = b2
        .post(format!("{base}/login/mfa"))
        .form(&[("csrf", field(&page, "csrf").as_str()), ("method", "recovery"), ("code", &recovery[0])])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/account");
    http.get(format!("{base}/admin/api/v1/audit"))
        .bearer_auth("admin-secret-token-0123456789abcdef")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    served.terminate();
    let (status, lines, _) = served.wait();
    assert!(status.success());
    logs.push_str(&lines.join("\n"));
    assert!(logs.contains("login.failed") || logs.contains("\"path\":\"/login\""), "the flows were logged");

    let conn = gatehouse::store::connect(&db.url, 1).await.unwrap();
    let audit_rows: Vec<String> = gatehouse::store::audit::recent(&conn, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {} {:?} {:?} {:?} {:?}", e.actor, e.action, e.target, e.reason, e.ip, e.user_agent))
        .collect();
    assert!(
        audit_rows.iter().any(|r| r.contains("login.succeeded"))
            && audit_rows.iter().any(|r| r.contains("scim.user.created"))
    );
    let audit = audit_rows.join("\n");
    let secrets = [
        ("user password", user_pw.to_owned()),
        ("wrong password", wrong_pw.to_owned()),
        ("client secret", client_secret.clone()),
        ("wrong client secret", "wrong-client-secret-11".to_owned()),
        ("SCIM token", scim_token.clone()),
        ("SCIM token from the admin API", api_scim_token),
        ("SCIM password", scim_pw.to_owned()),
        ("code", code.clone()),
        ("verifier", verifier.to_owned()),
        ("access token", access.clone()),
        ("refresh token", refresh.clone()),
        ("rotated refresh token", refreshed["refresh_token"].as_str().unwrap().to_owned()),
        ("ID token", tokens["id_token"].as_str().unwrap().to_owned()),
        ("session cookie", session),
        ("CSRF token", csrf),
        ("admin token", "admin-secret-token-0123456789abcdef".to_owned()),
        ("TOTP key", totp_key),
        ("login challenge cookie", challenge_cookie),
    ];
    // As shown (`abcde-fghij`) and as stored before hashing (no dash).
    let recovery = recovery.into_iter().flat_map(|c| [("recovery code", c.replace('-', "")), ("recovery code", c)]);
    for (what, secret) in secrets.into_iter().chain(recovery) {
        assert!(!logs.contains(secret.as_str()), "the {what} appeared in a log line");
        assert!(!audit.contains(secret.as_str()), "the {what} appeared in an audit row");
    }
}
