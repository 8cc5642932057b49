use super::*;

fn spec(name: &str) -> ClientSpec {
    ClientSpec { name: name.into(), ..Default::default() }
}

#[test]
fn wire_strings_round_trip() {
    for v in ClientType::ALL {
        assert_eq!(v.as_str().parse::<ClientType>().unwrap(), *v);
        let json = serde_json::to_string(v).unwrap();
        assert_eq!(serde_json::from_str::<ClientType>(&json).unwrap(), *v);
    }
    for v in TokenEndpointAuthMethod::ALL {
        assert_eq!(v.as_str().parse::<TokenEndpointAuthMethod>().unwrap(), *v);
        assert_eq!(serde_json::from_str::<TokenEndpointAuthMethod>(&serde_json::to_string(v).unwrap()).unwrap(), *v);
    }
    for v in GrantType::ALL {
        assert_eq!(v.as_str().parse::<GrantType>().unwrap(), *v);
        assert_eq!(serde_json::from_str::<GrantType>(&serde_json::to_string(v).unwrap()).unwrap(), *v);
    }
    for v in SigningAlg::ALL {
        assert_eq!(v.as_str().parse::<SigningAlg>().unwrap(), *v);
    }
    assert!("implicit".parse::<GrantType>().unwrap_err().contains("authorization_code"));
    assert!("password".parse::<GrantType>().is_err());
}

#[test]
fn machine_client_defaults() {
    let c = spec("billing job").validate().unwrap();
    assert_eq!(c.client_type, ClientType::Confidential);
    assert_eq!(c.auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
    assert_eq!(c.grant_types, [GrantType::ClientCredentials]);
    assert!(c.scopes.is_empty());
    assert!(c.needs_secret());
    assert_eq!(c.access_token_ttl, DEFAULT_ACCESS_TOKEN_TTL);
    assert_eq!(c.signing_alg, SigningAlg::Es256);
}

#[test]
fn web_client_defaults() {
    let c = ClientSpec { redirect_uris: vec!["https://app.example.com/cb".into()], ..spec("web") }.validate().unwrap();
    assert_eq!(c.grant_types, [GrantType::AuthorizationCode, GrantType::RefreshToken]);
    assert_eq!(c.scopes, ["openid", "profile", "email", "offline_access"]);
    assert!(c.consent_required);
}

#[test]
fn public_native_client() {
    let c = ClientSpec {
        client_type: Some(ClientType::Public),
        redirect_uris: vec!["http://127.0.0.1/cb".into(), "com.example.app:/cb".into(), "http://127.0.0.1/cb".into()],
        scopes: vec!["openid".into(), "api:read".into()],
        ..spec("cli app")
    }
    .validate()
    .unwrap();
    assert_eq!(c.auth_method, TokenEndpointAuthMethod::None);
    assert_eq!(c.redirect_uris.len(), 2, "duplicates collapse");
    assert!(!c.needs_secret());
    // `--auth-method none` alone implies a public client.
    let c = ClientSpec {
        auth_method: Some(TokenEndpointAuthMethod::None),
        redirect_uris: vec!["http://[::1]:8000/cb".into()],
        ..spec("x")
    }
    .validate()
    .unwrap();
    assert_eq!(c.client_type, ClientType::Public);
}

#[test]
fn private_key_jwt_needs_and_owns_a_jwks_uri() {
    let c = ClientSpec {
        auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
        jwks_uri: Some("https://svc.example.com/jwks.json".into()),
        ..spec("svc")
    }
    .validate()
    .unwrap();
    assert!(!c.needs_secret());
    let no_uri = ClientSpec { auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt), ..spec("svc") };
    assert_eq!(no_uri.validate(), Err(ClientError::MissingJwksUri));
    let http = ClientSpec {
        auth_method: Some(TokenEndpointAuthMethod::PrivateKeyJwt),
        jwks_uri: Some("http://svc.example.com/jwks".into()),
        ..spec("svc")
    };
    assert_eq!(http.validate(), Err(ClientError::InvalidJwksUri));
    let stray = ClientSpec { jwks_uri: Some("https://svc.example.com/jwks".into()), ..spec("svc") };
    assert_eq!(stray.validate(), Err(ClientError::JwksUriWithoutPrivateKeyJwt));
}

#[test]
fn cross_field_rules() {
    use ClientError as E;
    let cb = || vec!["https://app.example.com/cb".to_owned()];
    let cases: Vec<(ClientSpec, ClientError)> = vec![
        (spec("  "), E::InvalidName),
        (spec(&"n".repeat(129)), E::InvalidName),
        (
            ClientSpec {
                client_type: Some(ClientType::Public),
                auth_method: Some(TokenEndpointAuthMethod::ClientSecretPost),
                redirect_uris: cb(),
                ..spec("x")
            },
            E::PublicClientAuth(TokenEndpointAuthMethod::ClientSecretPost),
        ),
        (
            ClientSpec {
                client_type: Some(ClientType::Confidential),
                auth_method: Some(TokenEndpointAuthMethod::None),
                ..spec("x")
            },
            E::ConfidentialWithoutAuth,
        ),
        (
            ClientSpec {
                client_type: Some(ClientType::Public),
                grant_types: vec![GrantType::ClientCredentials],
                ..spec("x")
            },
            E::PublicClientCredentials,
        ),
        (ClientSpec { client_type: Some(ClientType::Public), ..spec("x") }, E::MissingRedirectUri),
        (ClientSpec { grant_types: vec![GrantType::AuthorizationCode], ..spec("x") }, E::MissingRedirectUri),
        (
            ClientSpec { grant_types: vec![GrantType::ClientCredentials], redirect_uris: cb(), ..spec("x") },
            E::RedirectWithoutCode,
        ),
        (
            ClientSpec { grant_types: vec![GrantType::RefreshToken, GrantType::ClientCredentials], ..spec("x") },
            E::RefreshWithoutCode,
        ),
        (ClientSpec { scopes: vec!["two words".into()], ..spec("x") }, E::InvalidScope("two words".into())),
        (ClientSpec { scopes: (0..65).map(|i| format!("s{i}")).collect(), ..spec("x") }, E::TooManyScopes),
        (
            ClientSpec { redirect_uris: (0..33).map(|i| format!("https://a.example/{i}")).collect(), ..spec("x") },
            E::TooManyUris,
        ),
        (
            ClientSpec { access_token_ttl: Some(10), ..spec("x") },
            E::Lifetime { which: "access token", min: 60, max: 86_400 },
        ),
    ];
    for (s, want) in cases {
        let name = s.name.clone();
        assert_eq!(s.validate(), Err(want), "{name}");
    }
    let bad_uri = ClientSpec { redirect_uris: vec!["https://app.example.com/cb#x".into()], ..spec("x") };
    assert!(matches!(bad_uri.validate(), Err(E::RedirectUri { reason: RedirectUriError::Fragment, .. })));
}

/// PKCE may be waived only where client authentication binds the code.
#[test]
fn only_a_confidential_client_may_go_without_pkce() {
    let web = || ClientSpec { redirect_uris: vec!["https://app.example.com/cb".into()], ..spec("web") };
    assert!(web().validate().unwrap().require_pkce, "on by default");
    assert!(!ClientSpec { require_pkce: Some(false), ..web() }.validate().unwrap().require_pkce);
    let public = ClientSpec { client_type: Some(ClientType::Public), require_pkce: Some(false), ..web() };
    assert_eq!(public.validate().unwrap_err(), ClientError::PublicWithoutPkce);
}
