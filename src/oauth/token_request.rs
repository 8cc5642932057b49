//! Parsing of token endpoint requests (RFC 6749 §3.2, §2.3.1): form
//! parameters that may appear once, and the client's credentials from
//! either HTTP Basic or the body, never both.

use super::client::GrantType;
use super::client_assertion::{JWT_BEARER, claimed_client_id};
use super::error::TokenError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::HashMap;
use zeroize::Zeroizing;

/// `application/x-www-form-urlencoded` parameters, each present once.
#[derive(Debug, Default)]
pub struct TokenParams(HashMap<String, String>);

impl TokenParams {
    /// Parses the body. Repeated parameters are an error (RFC 6749 §3.2),
    /// an empty one included (`scope=&scope=x` is a repetition, not one
    /// scope); an empty value otherwise counts as absent.
    pub fn parse(body: &[u8]) -> Result<Self, TokenError> {
        super::form::parse(body, &super::form::TOKEN).map(Self).map_err(|e| TokenError::InvalidRequest(e.to_string()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// Removes a parameter (secrets are taken out so they are not kept around).
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name).filter(|v| !v.is_empty())
    }
}

/// A token request's grant and its parameters, parsed once (RFC 6749
/// §4.1.3, §4.4.2, §6); which grant a client may use is checked first.
#[derive(Debug)]
pub enum TokenRequest {
    AuthorizationCode { code: Zeroizing<String>, redirect_uri: String, code_verifier: Option<String> },
    RefreshToken { refresh_token: Zeroizing<String>, scope: Option<String> },
    ClientCredentials { scope: Option<String> },
}

/// The `grant_type`: required, and one we implement.
pub fn grant_type(params: &TokenParams) -> Result<GrantType, TokenError> {
    let raw = params.get("grant_type").ok_or_else(|| TokenError::InvalidRequest("grant_type is required".into()))?;
    raw.parse().map_err(|_| {
        let shown: String = raw.chars().take(64).filter(|c| !c.is_control()).collect();
        TokenError::UnsupportedGrantType(format!("grant_type `{shown}` is not supported"))
    })
}

impl TokenRequest {
    /// The parameters `grant` needs; a missing one is `invalid_request`.
    pub fn parse(grant: GrantType, params: &mut TokenParams) -> Result<Self, TokenError> {
        let required = |name: &str, value: Option<String>| {
            value.ok_or_else(|| TokenError::InvalidRequest(format!("{name} is required")))
        };
        Ok(match grant {
            GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
                code: Zeroizing::new(required("code", params.take("code"))?),
                redirect_uri: required("redirect_uri", params.take("redirect_uri"))?,
                code_verifier: params.take("code_verifier"),
            },
            GrantType::RefreshToken => TokenRequest::RefreshToken {
                refresh_token: Zeroizing::new(required("refresh_token", params.take("refresh_token"))?),
                scope: params.take("scope"),
            },
            GrantType::ClientCredentials => TokenRequest::ClientCredentials { scope: params.take("scope") },
        })
    }
}

/// How the client presented itself.
#[derive(Debug)]
pub enum PresentedClient {
    /// `Authorization: Basic` (client_secret_basic).
    Basic { client_id: String, secret: Zeroizing<String> },
    /// `client_id` and `client_secret` in the body (client_secret_post).
    Post { client_id: String, secret: Zeroizing<String> },
    /// Only `client_id`: a public client (`none`).
    Public { client_id: String },
    /// `client_assertion` (private_key_jwt); `client_id` is the assertion's
    /// unverified `sub` until the signature has been checked.
    Assertion { client_id: String, assertion: Zeroizing<String> },
}

impl PresentedClient {
    pub fn client_id(&self) -> &str {
        match self {
            PresentedClient::Basic { client_id, .. }
            | PresentedClient::Post { client_id, .. }
            | PresentedClient::Public { client_id }
            | PresentedClient::Assertion { client_id, .. } => client_id,
        }
    }

    pub fn is_basic(&self) -> bool {
        matches!(self, PresentedClient::Basic { .. })
    }
}

/// Extracts the client's credentials. `authorization` is the raw header.
pub fn presented_client(authorization: Option<&str>, params: &mut TokenParams) -> Result<PresentedClient, TokenError> {
    let body_secret = params.take("client_secret").map(Zeroizing::new);
    let body_id = params.get("client_id").map(str::to_owned);
    let assertion = params.take("client_assertion").map(Zeroizing::new);
    let assertion_type = params.take("client_assertion_type");
    if assertion.is_some() || assertion_type.is_some() {
        if authorization.is_some() || body_secret.is_some() {
            return Err(TokenError::InvalidRequest("use one client authentication method, not two".into()));
        }
        if assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(TokenError::InvalidRequest(format!("client_assertion_type must be {JWT_BEARER}")));
        }
        let assertion = assertion.ok_or_else(|| TokenError::InvalidRequest("client_assertion is required".into()))?;
        let client_id = claimed_client_id(&assertion).ok_or(TokenError::InvalidClient { basic: false })?;
        if body_id.as_deref().is_some_and(|b| b != client_id) {
            return Err(TokenError::InvalidRequest("client_id differs from the assertion's subject".into()));
        }
        return Ok(PresentedClient::Assertion { client_id, assertion });
    }
    match authorization {
        Some(header) => {
            if body_secret.is_some() {
                return Err(TokenError::InvalidRequest("use one client authentication method, not two".into()));
            }
            let (client_id, secret) = parse_basic(header).ok_or(TokenError::InvalidClient { basic: true })?;
            if body_id.as_deref().is_some_and(|b| b != client_id) {
                return Err(TokenError::InvalidRequest("client_id differs from the authenticated client".into()));
            }
            Ok(PresentedClient::Basic { client_id, secret })
        }
        None => match (body_id, body_secret) {
            (Some(client_id), Some(secret)) => Ok(PresentedClient::Post { client_id, secret }),
            (Some(client_id), None) => Ok(PresentedClient::Public { client_id }),
            (None, _) => Err(TokenError::InvalidClient { basic: false }),
        },
    }
}

/// RFC 6749 §2.3.1: `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(header: &str) -> Option<(String, Zeroizing<String>)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(STANDARD.decode(value.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let id = url_decode(id)?;
    let secret = Zeroizing::new(url_decode(secret)?);
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

fn url_decode(s: &str) -> Option<String> {
    // form-urlencoding: `+` is a space.
    let replaced = s.replace('+', " ");
    percent_decode(&replaced)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let v = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            out.push(v);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn repeated_and_empty_parameters() {
        let e = TokenParams::parse(b"grant_type=client_credentials&grant_type=client_credentials").unwrap_err();
        assert_eq!(e, TokenError::InvalidRequest("parameter `grant_type` is repeated".into()));
        let p = TokenParams::parse(b"grant_type=client_credentials&scope=").unwrap();
        assert_eq!(p.get("scope"), None, "empty means absent");
        for dup in [&b"scope=&scope=x"[..], b"scope=x&scope=", b"scope=&scope="] {
            let e = TokenParams::parse(dup).unwrap_err();
            assert_eq!(e, TokenError::InvalidRequest("parameter `scope` is repeated".into()), "{dup:?}");
        }
        let mut p = TokenParams::parse(b"client_secret=").unwrap();
        assert_eq!(p.take("client_secret"), None, "empty means absent when taken too");
        let many: String = (0..40).map(|i| format!("p{i}=x&")).collect();
        assert!(TokenParams::parse(many.as_bytes()).is_err());
        let long = format!("scope={}", "a".repeat(9000));
        assert!(TokenParams::parse(long.as_bytes()).is_err());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut p = TokenParams::default();
        let c = presented_client(Some(&basic("my%20client", "s%3Acret+x")), &mut p).unwrap();
        match c {
            PresentedClient::Basic { client_id, secret } => {
                assert_eq!(client_id, "my client");
                assert_eq!(secret.as_str(), "s:cret x");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credential_sources_are_exclusive_and_well_formed() {
        let mut p = TokenParams::parse(b"client_id=a&client_secret=b").unwrap();
        assert!(matches!(presented_client(Some(&basic("a", "b")), &mut p), Err(TokenError::InvalidRequest(_))));
        let mut p = TokenParams::parse(b"client_id=other").unwrap();
        assert!(matches!(presented_client(Some(&basic("a", "b")), &mut p), Err(TokenError::InvalidRequest(_))));
        for bad in ["Basic !!!", "Bearer abc", "Basic", &format!("Basic {}", STANDARD.encode("nocolon"))] {
            let mut p = TokenParams::default();
            assert_eq!(
                presented_client(Some(bad), &mut p).unwrap_err(),
                TokenError::InvalidClient { basic: true },
                "{bad}"
            );
        }
        let mut p = TokenParams::parse(b"client_id=a&client_secret=b").unwrap();
        assert!(matches!(presented_client(None, &mut p).unwrap(), PresentedClient::Post { .. }));
        assert_eq!(p.get("client_secret"), None, "the secret is taken out of the parameters");
        let mut p = TokenParams::parse(b"client_id=a").unwrap();
        assert!(matches!(presented_client(None, &mut p).unwrap(), PresentedClient::Public { .. }));
        let mut p = TokenParams::default();
        assert_eq!(presented_client(None, &mut p).unwrap_err(), TokenError::InvalidClient { basic: false });
    }
}
