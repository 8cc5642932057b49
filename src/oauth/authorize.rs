//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636,
//! RFC 9207): parsed and validated without HTTP types. The client and the
//! redirect URI are checked before anything else; until both hold, errors
//! are shown to the person (never redirected), after that they go back to
//! the client with `state` and `iss`.

use super::client::{ClientType, GrantType};
use super::redirect_uri::{MAX_REDIRECT_URI_LEN, matches_loopback_ignoring_port};
use super::registry::Client;
use super::scope::is_scope_token;
use std::collections::HashMap;
use std::sync::Arc;

mod decide;
pub use decide::{Fact, Facts, Next, decide};

/// Scopes about the person, understood whatever the client registered.
pub const USER_SCOPES: &[&str] = &["openid", "profile", "email", "address", "phone", "groups", "offline_access"];

/// Longest `state`, `nonce` and `login_hint` accepted.
pub const MAX_PARAM_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Where and how an authorization response goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub redirect_uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Arc<Client>,
    pub reply: Reply,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    /// None only for a client registered with `require_pkce = false` that
    /// sent no challenge.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// Requested authentication context classes, space-separated (may
    /// ask for a step-up to MFA).
    pub acr_values: Option<String>,
}

impl AuthorizationRequest {
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    pub fn is_openid(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }
}

/// Why a request cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// No trustworthy redirect URI: shown on the error page.
    #[error("{0}")]
    Page(String),
    /// Sent back to the client (RFC 6749 §4.1.2.1).
    #[error("{error}: {description}")]
    Redirect { reply: Reply, error: &'static str, description: String },
}

/// The raw parameters, each at most once (RFC 6749 §3.1).
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses a query string or a form body (`oauth::form::AUTHORIZE`
    /// limits); a repeated parameter is an error.
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        super::form::parse(raw, &super::form::AUTHORIZE).map(Self).map_err(|e| e.to_string())
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The parameters as a query string, for carrying a request through the
    /// login and consent pages unchanged (except `prompt`, see `without_prompt`).
    pub fn to_query(&self) -> String {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for k in keys {
            s.append_pair(k, &self.0[k]);
        }
        s.finish()
    }

    /// Drops a parameter (`max_age` once a fresh login satisfied it).
    pub fn without(&self, name: &str) -> Self {
        let mut map = self.0.clone();
        map.remove(name);
        Self(map)
    }

    /// Drops one `prompt` value (after the login or consent it asked for).
    pub fn without_prompt(&self, value: &str) -> Self {
        let mut map = self.0.clone();
        if let Some(p) = map.get("prompt") {
            let rest: Vec<&str> = p.split(' ').filter(|v| !v.is_empty() && *v != value).collect();
            if rest.is_empty() {
                map.remove("prompt");
            } else {
                map.insert("prompt".into(), rest.join(" "));
            }
        }
        Self(map)
    }
}

/// Exact match against the registered list; for loopback redirect URIs of
/// native (public) clients the port may differ (RFC 8252 §7.3).
pub fn redirect_uri_allowed(client: &Client, requested: &str) -> bool {
    let reg = &client.registration;
    reg.redirect_uris.iter().any(|r| r.as_str() == requested)
        || (reg.client_type == ClientType::Public
            && reg.redirect_uris.iter().any(|r| matches_loopback_ignoring_port(r, requested)))
}

/// Validates the request against the (already looked up) client. `client`
/// is `None` when `client_id` named no client.
pub fn validate(params: &Params, client: Option<Arc<Client>>) -> Result<AuthorizationRequest, AuthorizeError> {
    let page = |m: &str| AuthorizeError::Page(m.to_owned());
    if params.get("client_id").is_none() {
        return Err(page("The request does not say which application is asking (client_id is missing)."));
    }
    let client = client.ok_or_else(|| page("The application that sent you here is not registered."))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| page("The request does not say where to send you back (redirect_uri is missing)."))?;
    if redirect_uri.len() > MAX_REDIRECT_URI_LEN || !redirect_uri_allowed(&client, redirect_uri) {
        return Err(page("The address to send you back to is not registered for this application."));
    }
    let state = params.get("state").map(str::to_owned);
    let mode = match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err("response_mode must be query or form_post"),
    };
    let reply =
        Reply { redirect_uri: redirect_uri.to_owned(), mode: *mode.as_ref().unwrap_or(&ResponseMode::Query), state };
    let fail = |error: &'static str, description: &str| AuthorizeError::Redirect {
        reply: reply.clone(),
        error,
        description: description.to_owned(),
    };
    if let Err(m) = mode {
        return Err(fail("invalid_request", m));
    }
    if reply.state.as_ref().is_some_and(|s| s.len() > MAX_PARAM_LEN) {
        return Err(fail("invalid_request", "state is too long"));
    }
    if params.get("request").is_some() {
        return Err(fail("request_not_supported", "request objects are not supported"));
    }
    if params.get("request_uri").is_some() {
        return Err(fail("request_uri_not_supported", "request_uri is not supported"));
    }
    match params.get("response_type") {
        None => return Err(fail("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => return Err(fail("unsupported_response_type", "only response_type=code is supported")),
    }
    let reg = &client.registration;
    if !reg.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(fail("unauthorized_client", "this client may not use the authorization code flow"));
    }
    let mut scopes: Vec<String> = Vec::new();
    let requested = params.get("scope").unwrap_or("");
    let openid = requested.split(' ').any(|s| s == "openid");
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !is_scope_token(s) {
            return Err(fail("invalid_scope", "malformed scope"));
        }
        // `openid` is implied by the flow; everything else must be registered.
        if s != "openid" && !reg.scopes.iter().any(|a| a == s) {
            // OIDC Core §3.1.2.1: an OpenID request ignores scope values it
            // cannot grant (libraries ask for `address phone` by default);
            // the token response then names the scope granted (RFC 6749
            // §3.3). A plain OAuth request keeps the RFC's invalid_scope.
            if openid {
                continue;
            }
            return Err(fail("invalid_scope", &format!("scope `{s}` is not allowed for this client")));
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err(fail("invalid_scope", "scope is missing"));
    }
    // OIDC Core §5.5: claims asked for by name bring the scope that
    // releases them, when this client may be granted it.
    if let Some(raw) = params.get("claims") {
        let wanted = crate::oidc::claims::scopes_requested_by(raw).map_err(|m| fail("invalid_request", m))?;
        if openid {
            for s in wanted {
                if reg.scopes.iter().any(|a| a == s) && !scopes.iter().any(|x| x == s) {
                    scopes.push(s.to_owned());
                }
            }
        }
    }
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        // Only a confidential client registered with `require_pkce = false`
        // may go without; a client that sends PKCE anyway gets it checked.
        (None, None) if !reg.require_pkce => None,
        (None, Some(_)) if !reg.require_pkce => {
            return Err(fail("invalid_request", "code_challenge_method without a code_challenge"));
        }
        (None, _) => {
            return Err(fail("invalid_request", "code_challenge is required (PKCE with S256)"));
        }
        (Some(_), Some("plain")) => {
            return Err(fail("invalid_request", "code_challenge_method plain is not allowed; use S256"));
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(fail("invalid_request", "code_challenge_method must be S256"));
        }
        // RFC 7636 §4.3 defaults the method to plain; plain is refused.
        (Some(_), None) => {
            return Err(fail("invalid_request", "code_challenge_method is required and must be S256"));
        }
        (Some(c), Some(_)) => {
            if !super::pkce::is_challenge(c) {
                return Err(fail("invalid_request", "code_challenge must be 43 base64url characters"));
            }
            Some(c.to_owned())
        }
    };
    let mut prompt = Prompt::default();
    for p in params.get("prompt").unwrap_or("").split(' ').filter(|p| !p.is_empty()) {
        match p {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {
                return Err(fail("account_selection_required", "account selection is not supported"));
            }
            _ => return Err(fail("invalid_request", "prompt must be none, login or consent")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail("invalid_request", "prompt=none cannot be combined with other values"));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => return Err(fail("invalid_request", "max_age must be a non-negative integer")),
        },
    };
    let nonce = params.get("nonce").map(str::to_owned);
    let login_hint = params.get("login_hint").map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_PARAM_LEN) || login_hint.as_ref().is_some_and(|h| h.len() > 256) {
        return Err(fail("invalid_request", "nonce or login_hint is too long"));
    }
    let acr_values = params.get("acr_values").map(str::to_owned);
    if acr_values.as_ref().is_some_and(|a| a.len() > 512) {
        return Err(fail("invalid_request", "acr_values is too long"));
    }
    Ok(AuthorizationRequest { client, reply, scopes, nonce, code_challenge, prompt, max_age, login_hint, acr_values })
}

#[cfg(test)]
mod tests;
