use super::*;
use crate::oauth::client::ClientSpec;
use crate::oauth::registry::Client;

const GOOD: &str = "https://app.example.com/cb";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(public: bool, uris: &[&str]) -> Arc<Client> {
    let spec = ClientSpec {
        name: "app".into(),
        client_type: Some(if public { ClientType::Public } else { ClientType::Confidential }),
        redirect_uris: uris.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    };
    let now = chrono::Utc::now();
    Arc::new(Client {
        client_id: "c1".into(),
        registration: spec.validate().unwrap(),
        secret_hash: None,
        created_at: now,
        updated_at: now,
        version: 1,
    })
}

fn params(extra: &[(&str, &str)]) -> Params {
    let mut base: Vec<(&str, &str)> = vec![
        ("client_id", "c1"),
        ("redirect_uri", GOOD),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "xyz"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        base.retain(|(bk, _)| bk != k);
        if !v.is_empty() {
            base.push((k, v));
        }
    }
    let q = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(base).finish();
    Params::parse(q.as_bytes()).unwrap()
}

fn redirect_error(r: Result<AuthorizationRequest, AuthorizeError>) -> &'static str {
    match r {
        Err(AuthorizeError::Redirect { error, reply, .. }) => {
            assert_eq!(reply.redirect_uri, GOOD);
            error
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_good_request_validates() {
    let r = validate(
        &params(&[("nonce", "n-0S6_WzA2Mj"), ("max_age", "60"), ("prompt", "login consent")]),
        Some(client(false, &[GOOD])),
    )
    .unwrap();
    assert_eq!(r.scope(), "openid profile");
    assert!(r.is_openid());
    assert_eq!(r.reply, Reply { redirect_uri: GOOD.into(), mode: ResponseMode::Query, state: Some("xyz".into()) });
    assert_eq!(r.max_age, Some(60));
    assert!(r.prompt.login && r.prompt.consent && !r.prompt.none);
    let r = validate(&params(&[("response_mode", "form_post")]), Some(client(false, &[GOOD]))).unwrap();
    assert_eq!(r.reply.mode, ResponseMode::FormPost);
}

/// At least 25 redirect URIs that differ from the registered one in ways
/// attackers use: none of them may be redirected to.
#[test]
fn redirect_uri_variants_never_redirect() {
    let c = client(false, &[GOOD, "https://app.example.com/cb?tenant=1"]);
    let variants = [
        "http://app.example.com/cb",
        "https://app.example.com:443/cb",
        "https://app.example.com:8443/cb",
        "https://evil.example.com/cb",
        "https://app.example.com.evil.com/cb",
        "https://app.example.com/cb/",
        "https://app.example.com/CB",
        "https://APP.example.com/cb",
        "https://app.example.com/cb?x=1",
        "https://app.example.com/cb?tenant=2",
        "https://app.example.com/cb#frag",
        "https://app.example.com/cb#",
        "https://app.example.com@evil.com/cb",
        "https://good@evil.com/cb",
        "https://app.example.com%40evil.com/cb",
        "https://app.example.com/%63b",
        "https://app.example.com/cb%2F..%2Fevil",
        "https://app.example.com/%2563b",
        "https://app.example.com/cb/../cb",
        "https://app.example.com/./cb",
        "https://app.example.com\\@evil.com/cb",
        "https://app.example.com\\cb",
        "https://аpp.example.com/cb",
        "https://app.exаmple.com/cb",
        "javascript:alert(1)//https://app.example.com/cb",
        "data:text/html,<script>alert(1)</script>",
        "//evil.com/cb",
        "/cb",
        "https://app.example.com/cb ",
        " https://app.example.com/cb",
        "https://app.example.com/cb\n",
        "https://app.example.com/cb\u{0}",
        "HTTPS://app.example.com/cb",
        "https://app.example.com./cb",
    ];
    assert!(variants.len() >= 25);
    for v in variants {
        match validate(&params(&[("redirect_uri", v)]), Some(c.clone())) {
            Err(AuthorizeError::Page(_)) => {}
            other => panic!("{v:?} was not refused with an error page: {other:?}"),
        }
    }
    // The second registered URI, exactly, is fine.
    assert!(validate(&params(&[("redirect_uri", "https://app.example.com/cb?tenant=1")]), Some(c)).is_ok());
}

#[test]
fn loopback_tricks_never_redirect() {
    let native = client(true, &["http://127.0.0.1/callback"]);
    assert!(validate(&params(&[("redirect_uri", "http://127.0.0.1:53127/callback")]), Some(native.clone())).is_ok());
    for v in [
        "http://127.0.0.1.evil.com/callback",
        "http://127.0.0.1.evil.com:53127/callback",
        "http://localhost:53127/callback",
        "http://127.0.0.2:53127/callback",
        "http://[::1]:53127/callback",
        "https://127.0.0.1:53127/callback",
        "http://127.0.0.1:53127/callback/",
        "http://127.0.0.1:53127/other",
        "http://127.0.0.1:53127/callback#x",
        "http://0x7f.0.0.1:53127/callback",
        "http://2130706433:53127/callback",
        "http://evil.com@127.0.0.1:53127/callback",
    ] {
        assert!(
            matches!(validate(&params(&[("redirect_uri", v)]), Some(native.clone())), Err(AuthorizeError::Page(_))),
            "{v}"
        );
    }
    // A confidential client's loopback URI does not get the port leeway.
    let web = client(false, &["http://127.0.0.1/callback"]);
    assert!(matches!(
        validate(&params(&[("redirect_uri", "http://127.0.0.1:53127/callback")]), Some(web)),
        Err(AuthorizeError::Page(_))
    ));
}

#[test]
fn unknown_or_missing_client_and_uri_are_error_pages() {
    let c = client(false, &[GOOD]);
    assert!(matches!(validate(&params(&[]), None), Err(AuthorizeError::Page(_))));
    assert!(matches!(validate(&params(&[("client_id", "")]), Some(c.clone())), Err(AuthorizeError::Page(_))));
    assert!(matches!(validate(&params(&[("redirect_uri", "")]), Some(c)), Err(AuthorizeError::Page(_))));
    assert!(Params::parse(b"client_id=a&client_id=b").is_err(), "repeated parameters");
}

#[test]
fn after_the_redirect_uri_holds_errors_go_back_to_the_client() {
    let c = || Some(client(false, &[GOOD]));
    for (extra, want) in [
        (&[("response_type", "")][..], "invalid_request"),
        (&[("response_type", "token")], "unsupported_response_type"),
        (&[("response_type", "code id_token")], "unsupported_response_type"),
        (&[("scope", "")], "invalid_scope"),
        (&[("scope", "profile admin")], "invalid_scope"),
        (&[("scope", "openid \"x")], "invalid_scope"),
        (&[("code_challenge", "")], "invalid_request"),
        (&[("code_challenge_method", "plain")], "invalid_request"),
        (&[("code_challenge_method", "")], "invalid_request"),
        (&[("code_challenge_method", "S512")], "invalid_request"),
        (&[("code_challenge", "tooshort")], "invalid_request"),
        (&[("prompt", "none login")], "invalid_request"),
        (&[("prompt", "bogus")], "invalid_request"),
        (&[("prompt", "select_account")], "account_selection_required"),
        (&[("max_age", "-1")], "invalid_request"),
        (&[("max_age", "soon")], "invalid_request"),
        (&[("response_mode", "fragment")], "invalid_request"),
        (&[("request", "eyJ...")], "request_not_supported"),
        (&[("request_uri", "https://x")], "request_uri_not_supported"),
    ] {
        assert_eq!(redirect_error(validate(&params(extra), c())), want, "{extra:?}");
    }
    // The state travels with the error.
    match validate(&params(&[("response_type", "token")]), c()) {
        Err(AuthorizeError::Redirect { reply, .. }) => assert_eq!(reply.state.as_deref(), Some("xyz")),
        other => panic!("{other:?}"),
    }
}

/// OIDC Core §3.1.2.1: scope values an OpenID request cannot be granted
/// are ignored, not an error; without `openid` they stay invalid_scope.
#[test]
fn an_openid_request_ignores_scopes_it_cannot_grant() {
    let c = || Some(client(false, &[GOOD]));
    let ok = validate(&params(&[("scope", "openid profile address phone admin")]), c()).unwrap();
    assert_eq!(ok.scope(), "openid profile");
    assert_eq!(redirect_error(validate(&params(&[("scope", "profile address")]), c())), "invalid_scope");
    assert_eq!(redirect_error(validate(&params(&[("scope", "openid \"x")]), c())), "invalid_scope", "malformed");
}

#[test]
fn a_machine_client_cannot_start_the_browser_flow() {
    let spec = ClientSpec { name: "svc".into(), ..Default::default() };
    let now = chrono::Utc::now();
    let mut reg = spec.validate().unwrap();
    reg.redirect_uris = client(false, &[GOOD]).registration.redirect_uris.clone();
    let svc = Arc::new(Client {
        client_id: "c1".into(),
        registration: reg,
        secret_hash: None,
        created_at: now,
        updated_at: now,
        version: 1,
    });
    assert_eq!(redirect_error(validate(&params(&[]), Some(svc))), "unauthorized_client");
}

#[test]
fn prompt_values_are_dropped_one_at_a_time() {
    let p = params(&[("prompt", "login consent")]);
    let q = p.without_prompt("login").to_query();
    assert!(q.contains("prompt=consent"), "{q}");
    let q = p.without_prompt("login").without_prompt("consent").to_query();
    assert!(!q.contains("prompt"), "{q}");
}

fn without_pkce(public: bool) -> Arc<Client> {
    let mut c = (*client(public, &[GOOD])).clone();
    c.registration.require_pkce = false;
    Arc::new(c)
}

/// A confidential client registered with `require_pkce = false` may send
/// no challenge; when it sends one, every PKCE rule still holds.
#[test]
fn pkce_is_optional_only_for_a_client_registered_without_it() {
    let bare = params(&[("code_challenge", ""), ("code_challenge_method", "")]);
    assert_eq!(redirect_error(validate(&bare, Some(client(false, &[GOOD])))), "invalid_request");
    let ok = validate(&bare, Some(without_pkce(false))).unwrap();
    assert_eq!(ok.code_challenge, None);
    let sent = validate(&params(&[]), Some(without_pkce(false))).unwrap();
    assert_eq!(sent.code_challenge.as_deref(), Some(CHALLENGE));
    for extra in [
        &[("code_challenge", ""), ("code_challenge_method", "S256")][..],
        &[("code_challenge_method", "plain")],
        &[("code_challenge_method", "")],
        &[("code_challenge", "tooshort")],
    ] {
        assert_eq!(redirect_error(validate(&params(extra), Some(without_pkce(false)))), "invalid_request", "{extra:?}");
    }
}

/// OIDC Core §5.5: a claim asked for by name brings the scope that
/// releases it, if the client is registered for that scope.
#[test]
fn the_claims_parameter_asks_for_the_scopes_of_its_claims() {
    let c = || Some(client(false, &[GOOD]));
    let claims =
        r#"{"userinfo":{"email":{"essential":true}},"id_token":{"phone_number":null,"auth_time":{"essential":true}}}"#;
    let ok = validate(&params(&[("scope", "openid"), ("claims", claims)]), c()).unwrap();
    assert_eq!(ok.scope(), "openid email", "phone is not registered for this client");
    let plain = validate(&params(&[("scope", "profile"), ("claims", claims)]), c()).unwrap();
    assert_eq!(plain.scope(), "profile", "not an OpenID request: claims are ignored");
    assert_eq!(redirect_error(validate(&params(&[("claims", "{nope")]), c())), "invalid_request");
}
