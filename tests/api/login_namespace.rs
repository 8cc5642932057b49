//! One login namespace (issue: account isolation): a username and a login
//! email are sign-in names of one table, unique across every account after
//! RFC 8265 normalisation, on every write path; and names carry nothing
//! invisible or direction-changing.

use crate::helpers::TestApp;
use crate::oidc_flow::{PASSWORD, browser, person, sign_in};
use crate::scim::Scim;
use gatehouse::accounts::users::{NewUser, Password, Username, create_user};
use gatehouse::accounts::{AccountError, PasswordHasher};
use reqwest::Method;
use serde_json::{Value, json};
use zeroize::Zeroizing;

const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ATTACKER_PASSWORD: &str = "quiet orbit lantern 4711";

fn user(name: &str, email: &str) -> Value {
    json!({
        "schemas": [SCHEMA], "userName": name, "password": ATTACKER_PASSWORD,
        "emails": [{"value": email, "primary": true}],
    })
}

/// A full replacement that keeps the password.
fn replacement(name: &str, email: &str) -> Value {
    json!({"schemas": [SCHEMA], "userName": name, "emails": [{"value": email, "primary": true}]})
}

/// Signs in from a fresh browser; true when the password was accepted.
async fn signs_in(app: &TestApp, login: &str, password: &str) -> bool {
    let b = browser();
    let page = b.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
    sign_in(app, &b, &page, login, password).await.status() == 303
}

async fn local(app: &TestApp, username: &str, email: &str) -> Result<String, AccountError> {
    let hasher = PasswordHasher::new(1).unwrap();
    let policy = gatehouse::config::Settings::load(None, Vec::<(String, String)>::new()).unwrap().password_policy();
    let new = NewUser {
        username: Username::parse(username).unwrap(),
        email: Some(email.to_owned()),
        display_name: None,
        password: Some(Password::parse(Zeroizing::new(PASSWORD.to_owned())).unwrap()),
        is_admin: false,
    };
    create_user(&app.db, &hasher, &policy, new, chrono::Utc::now()).await.map(|u| u.id)
}

/// The attack: a SCIM token holder names an account after a local user's
/// email (or gives it her email) to sign in as her, or to lock her out of
/// email sign-in. Every write path refuses, and Dana keeps signing in.
#[actix_web::test]
async fn a_provisioned_account_cannot_take_a_local_accounts_sign_in_name() {
    let s = Scim::start().await;
    person(&s.app, "dana", "dana@corp.example").await;

    for (name, email) in [
        ("Dana@Corp.Example", "attacker@evil.example"),
        ("ｄａｎａ@corp.example", "attacker@evil.example"),
        ("eve", "DANA@corp.example"),
        ("DANA", "eve@evil.example"),
    ] {
        let t = s.err(Method::POST, "/Users", Some(user(name, email)), 409).await;
        assert_eq!(t, "uniqueness", "{name} / {email}");
    }
    // PUT and PATCH: a harmless account then reaching for her email.
    let eve = s.create_user(user("eve", "eve@evil.example")).await;
    let path = format!("/Users/{}", eve["id"].as_str().unwrap());
    let t = s.err(Method::PUT, &path, Some(replacement("eve", "Dana@corp.EXAMPLE")), 409).await;
    assert_eq!(t, "uniqueness", "PUT");
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "userName", "value": "dana@corp.example"}],
    });
    assert_eq!(s.err(Method::PATCH, &path, Some(patch), 409).await, "uniqueness", "PATCH userName");
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails", "value": [{"value": "dana@corp.example", "primary": true}]}],
    });
    assert_eq!(s.err(Method::PATCH, &path, Some(patch), 409).await, "uniqueness", "PATCH emails");

    // The local write path (CLI, bootstrap) holds the same rule.
    assert!(matches!(local(&s.app, "dana@corp.example", "x@y.example").await, Err(AccountError::UsernameTaken)));
    assert!(matches!(local(&s.app, "frank", "Dana@Corp.Example").await, Err(AccountError::EmailTaken)));
    assert!(matches!(local(&s.app, "eve@evil.example", "z@y.example").await, Err(AccountError::UsernameTaken)));

    assert!(signs_in(&s.app, "Dana@Corp.Example", PASSWORD).await, "Dana signs in with her email");
    assert!(signs_in(&s.app, "dana", PASSWORD).await, "and with her username");
    assert!(!signs_in(&s.app, "dana@corp.example", ATTACKER_PASSWORD).await, "the attacker's password does not");
    assert!(signs_in(&s.app, "EVE@evil.example", ATTACKER_PASSWORD).await, "eve's own email signs eve in");
    // Giving up a name frees it: eve changes her email, frank takes the old one.
    s.ok(Method::PUT, &path, Some(replacement("eve", "eve@elsewhere.example")), 200).await;
    assert!(local(&s.app, "frank", "eve@evil.example").await.is_ok());
}

/// U+202E and friends never reach a name: refused on every SCIM text
/// attribute and in local accounts; fullwidth usernames are mapped.
#[actix_web::test]
async fn invisible_and_direction_changing_characters_are_refused() {
    let s = Scim::start().await;
    let with = |k: &str, v: Value| {
        let mut u = user("mallory", "mallory@example.com");
        u[k] = v;
        u
    };
    for (why, body) in [
        ("bidi override in userName", with("userName", json!("\u{202E}nimda"))),
        ("zero-width space in userName", with("userName", json!("ad\u{200B}min"))),
        ("soft hyphen in displayName", with("displayName", json!("Mal\u{00AD}lory"))),
        ("BOM in nickName", with("nickName", json!("\u{FEFF}boss"))),
        ("isolate in name.givenName", with("name", json!({"givenName": "Mal\u{2067}lory"}))),
        ("override in an email", with("emails", json!([{"value": "\u{202E}moc.elpmaxe@m"}]))),
    ] {
        assert_eq!(s.err(Method::POST, "/Users", Some(body), 400).await, "invalidValue", "{why}");
    }
    // Fullwidth letters are the same name as their ASCII forms.
    let created = s.create_user(user("ＭＡＬＬＯＲＹ", "mallory@example.com")).await;
    assert_eq!(created["userName"], "MALLORY");
    let found = s.ok(Method::GET, "/Users?filter=userName%20eq%20%22mallory%22", None, 200).await;
    assert_eq!(found["totalResults"], 1);
    assert!(signs_in(&s.app, "Mallory", ATTACKER_PASSWORD).await);
    // The local path refuses them too.
    assert!(Username::parse("\u{202E}admin").is_err());
    assert!(gatehouse::accounts::users::parse_display_name("Ad\u{200B}min").is_err());
}
