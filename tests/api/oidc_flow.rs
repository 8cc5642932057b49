//! OpenID Connect for people, end to end: the `openidconnect` crate as the
//! relying party (discovery, PKCE, nonce, ID token signature checked with
//! the served JWKS, at_hash, userinfo) and a cookie-keeping HTTP client as
//! the person's browser on the login and consent pages.

use crate::helpers::{TestApp, spawn_app_at_issuer};
use gatehouse::accounts::PasswordHasher;
use gatehouse::accounts::users::{NewUser, Password, Username, create_user};
use gatehouse::oauth::ClientSpec;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse as _,
};
use reqwest::redirect::Policy;
use zeroize::Zeroizing;

pub const PASSWORD: &str = "a long enough passphrase 42";
pub const REDIRECT: &str = "https://rp.example.com/callback";

/// A person with a password.
pub async fn person(app: &TestApp, username: &str, email: &str) -> String {
    let hasher = PasswordHasher::new(1).unwrap();
    let policy = gatehouse::config::Settings::load(None, Vec::<(String, String)>::new()).unwrap().password_policy();
    let new = NewUser {
        username: Username::parse(username).unwrap(),
        email: Some(email.to_owned()),
        display_name: Some(format!("{username} Example")),
        password: Some(Password::parse(Zeroizing::new(PASSWORD.to_owned())).unwrap()),
        is_admin: false,
    };
    create_user(&app.db, &hasher, &policy, new, chrono::Utc::now()).await.unwrap().id
}

/// A confidential web client with a secret.
pub async fn web_client(app: &TestApp, extra: impl FnOnce(&mut ClientSpec)) -> (String, String) {
    let mut spec = ClientSpec { name: "Example RP".into(), redirect_uris: vec![REDIRECT.into()], ..Default::default() };
    extra(&mut spec);
    let (id, secret) = crate::token::client(app, spec).await;
    (id, secret.unwrap_or_default())
}

/// The person's browser: keeps cookies, never follows redirects by itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

/// The value of a hidden form field.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
    let end = start + html[start..].find('"').unwrap();
    unescape(&html[start..end])
}

/// Undoes HTML escaping (askama writes numeric references: `&#38;`).
pub fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail.find(';').unwrap();
        let entity = &tail[1..end];
        let c = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            e if e.starts_with("#x") => char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap(),
            e => char::from_u32(e[1..].parse().unwrap()).unwrap(),
        };
        out.push(c);
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

pub fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// Signs in on the login page the browser is looking at; returns the
/// redirect the form answered with.
pub async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    login_page: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", field(login_page, "csrf")),
        ("request", field(login_page, "request")),
        ("username", user.to_owned()),
        ("password", password.to_owned()),
    ];
    browser.post(app.url("/login")).form(&form).send().await.unwrap()
}

pub async fn consent(app: &TestApp, browser: &reqwest::Client, page: &str, decision: &str) -> reqwest::Response {
    let form = [
        ("csrf", field(page, "csrf")),
        ("request", field(page, "request")),
        ("decision", decision.to_owned()),
        ("remember", "yes".to_owned()),
    ];
    browser.post(app.url("/consent")).form(&form).send().await.unwrap()
}

/// Query parameters of a redirect back to the client.
pub fn callback_params(loc: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(loc).unwrap();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    url.query_pairs().into_owned().collect()
}

#[actix_web::test]
async fn a_person_logs_into_a_relying_party() {
    let app = spawn_app_at_issuer(&[]).await;
    let user_id = person(&app, "alice", "alice@example.com").await;
    let (client_id, secret) = web_client(&app, |_| {}).await;

    // The relying party, as a certified-strict library does it.
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let meta = CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http).await.unwrap();
    let rp =
        CoreClient::from_provider_metadata(meta, ClientId::new(client_id.clone()), Some(ClientSecret::new(secret)))
            .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, state, nonce) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The person: login page, then consent, then back to the RP.
    let b = browser();
    let res = b.get(auth_url.as_str()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("form-action 'self' https://rp.example.com"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(page.contains("Example RP") && page.contains("autocomplete=\"current-password\""));
    let res = sign_in(&app, &b, &page, "Alice", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let cookie = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let session_cookie = cookie.iter().find(|c| c.starts_with("gh_session=")).unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    let res = b.get(app.url(&location(&res))).send().await.unwrap();
    assert_eq!(res.status(), 200, "consent page");
    let page = res.text().await.unwrap();
    assert!(page.contains("Your email address") && page.contains("Keep access while you are not using it"), "{page}");
    let res = consent(&app, &b, &page, "allow").await;
    assert_eq!(res.status(), 303);
    let params = callback_params(&location(&res));
    assert_eq!(params["state"], *state.secret());
    assert_eq!(params["iss"], app.base, "RFC 9207");
    let code = params["code"].clone();

    // Code → tokens; the library checks the ID token's signature against
    // the JWKS, iss, aud, exp and nonce.
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let verifier = rp.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    assert_eq!(claims.subject().as_str(), user_id);
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    assert_eq!(claims.email().unwrap().as_str(), "alice@example.com");
    assert!(claims.auth_time().is_some());
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let raw: serde_json::Value = decode_payload(&id_token.to_string());
    assert_eq!(raw["amr"], serde_json::json!(["pwd"]));
    assert!(raw["sid"].is_string() && raw["acr"].is_string());
    assert!(tokens.refresh_token().is_some(), "offline_access");

    let info: CoreUserInfoClaims =
        rp.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.unwrap();
    assert_eq!(info.subject().as_str(), user_id);
    assert_eq!(info.email().unwrap().as_str(), "alice@example.com");

    // Consent was remembered: the next authorization goes straight back.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (again, _, _) = rp
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let res = b.get(again.as_str()).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(callback_params(&location(&res)).contains_key("code"));
}

pub fn decode_payload(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
