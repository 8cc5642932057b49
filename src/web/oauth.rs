//! OAuth 2 endpoints at the HTTP edge: parse, call the grant, map the
//! outcome to RFC 6749 §5.1/§5.2.

use super::{AppState, read_body_limited};
use crate::abuse::FailureClass;
use crate::oauth::client::GrantType;
use crate::oauth::client_assertion::Endpoint;
use crate::oauth::error::TokenError;
use crate::oauth::grants::{self, authorization_code};
use crate::oauth::introspection;
use crate::oauth::token_request::{self, TokenParams, presented_client};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;

/// `POST /token`.
pub async fn post_token(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    match token(&req, payload, &state).await {
        Ok(body) => no_store(HttpResponse::Ok()).json(body),
        Err(e) => token_error(&e),
    }
}

/// Parses a form body and authenticates the client: the common start of
/// the token, introspection and revocation endpoints.
async fn authenticated_form(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    endpoint: Endpoint,
) -> Result<(TokenParams, Arc<crate::oauth::registry::Client>), TokenError> {
    if !super::content_type_is(req, "application/x-www-form-urlencoded") {
        return Err(TokenError::InvalidRequest("content type must be application/x-www-form-urlencoded".into()));
    }
    let body = read_body_limited(payload, state.settings.body_limit_bytes)
        .await
        .map_err(|_| TokenError::InvalidRequest("request body too large or unreadable".into()))?;
    let mut params = TokenParams::parse(&body)?;
    let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or(""));
    // Authenticate before looking at anything else, so that an
    // unauthenticated caller learns nothing about what a client may do.
    let presented = presented_client(authorization, &mut params);
    let ip = super::peer_ip(req);
    let identity = presented.as_ref().map(|p| p.client_id().to_owned()).unwrap_or_default();
    if let Some(b) = state.failures.blocked(FailureClass::ClientAuth, &ip, &identity) {
        state.metrics.rate_limited.with_label_values(&[FailureClass::ClientAuth.as_str()]).inc();
        tracing::warn!(endpoint = req.path(), retry_after = b.retry_after, "client authentication rate limited");
        return Err(TokenError::RateLimited { limit: b.limit, retry_after: b.retry_after });
    }
    let client = match presented {
        Ok(presented) => {
            let auth = grants::ClientAuth {
                db: &state.db,
                clients: &state.clients,
                hasher: &state.secret_hasher,
                jwks: &state.client_jwks,
                audiences: state.assertion_audiences.at(endpoint),
                now: state.clock.now(),
                db_down: state.db_health.is_down(),
            };
            grants::authenticate_client(&auth, &presented).await
        }
        Err(e) => Err(e),
    };
    if let Err(TokenError::InvalidClient { .. }) = &client {
        // Guessing client secrets is brute force too: worth a log line
        // (never the credentials themselves).
        tracing::warn!(endpoint = req.path(), "client authentication failed");
        state.failures.record_failure(FailureClass::ClientAuth, &ip, &identity).await;
    }
    Ok((params, client?))
}

async fn token(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<grants::TokenResponse, TokenError> {
    let (mut params, client) = authenticated_form(req, payload, state, Endpoint::Token).await?;
    if let Some(quota) = &state.token_quota
        && let Err(b) = quota.try_spend(&client.client_id)
    {
        return Err(TokenError::QuotaExceeded { limit: b.limit, retry_after: b.retry_after });
    }
    let grant = token_request::grant_type(&params)?;
    // Only client_credentials is served from memory alone.
    if grant != GrantType::ClientCredentials && state.db_health.is_down() {
        return Err(TokenError::TemporarilyUnavailable);
    }
    let now = state.clock.now();
    let keys = state.keys.load();
    let mut audit = Vec::new();
    let mut cx = authorization_code::GrantContext {
        db: &state.db,
        keys: &keys,
        issuer: &state.settings.issuer,
        revoked: &state.revocations,
        now,
        refresh_reuse_grace: chrono::Duration::seconds(i64::from(state.settings.refresh_reuse_grace_secs)),
        audit: &mut audit,
    };
    let result = grants::exchange(&mut cx, &client, grant, &mut params).await;
    if grant == GrantType::ClientCredentials && result.is_ok() {
        // Machine tokens are audited as a periodic tally per client.
        state.actors.audit.tally.count(&client.client_id);
    }
    for ev in audit {
        state.actors.audit.record(super::with_request(ev, req));
    }
    result
}

/// `POST /introspect` (RFC 7662), for confidential clients.
pub async fn post_introspect(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        let (params, client) = authenticated_form(&req, payload, &state, Endpoint::Introspect).await?;
        if client.registration.client_type != crate::oauth::ClientType::Confidential {
            return Err(TokenError::UnauthorizedClient("only confidential clients may introspect".into()));
        }
        let token = params.get("token").ok_or_else(|| TokenError::InvalidRequest("token is required".into()))?;
        // Access tokens are checked in memory; refresh tokens need the database.
        if !introspection::looks_like_jwt(token) && state.db_health.is_down() {
            return Err(TokenError::TemporarilyUnavailable);
        }
        let keys = state.keys.load();
        introspection::introspect(&state.db, &state.token_check(&keys), &client, token, state.clock.now()).await
    }
    .await;
    match result {
        Ok(body) => no_store(HttpResponse::Ok()).json(body),
        Err(e) => token_error(&e),
    }
}

/// `POST /revoke` (RFC 7009): 200 for every well-formed request by an
/// authenticated client, whether or not the token was active or its own.
pub async fn post_revoke(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let result = async {
        let (params, client) = authenticated_form(&req, payload, &state, Endpoint::Revoke).await?;
        let token = params.get("token").ok_or_else(|| TokenError::InvalidRequest("token is required".into()))?;
        if state.db_health.is_down() {
            return Err(TokenError::TemporarilyUnavailable);
        }
        let keys = state.keys.load();
        introspection::revoke(&state.db, &state.token_check(&keys), &client, token, state.clock.now()).await
    }
    .await;
    match result {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(e) => token_error(&e),
    }
}

fn no_store(mut b: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    b.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    b
}

/// RFC 6749 §5.2: JSON `error` + `error_description`; `invalid_client` is
/// 401 with a Basic challenge when Basic was tried.
fn token_error(e: &TokenError) -> HttpResponse {
    let status = match e {
        TokenError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        TokenError::RateLimited { .. } | TokenError::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
        TokenError::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        TokenError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut res = no_store(HttpResponse::build(status));
    if let TokenError::InvalidClient { basic: true } = e {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"gatehouse\", charset=\"UTF-8\""));
    }
    if let TokenError::TemporarilyUnavailable = e {
        res.insert_header((header::RETRY_AFTER, "1"));
    }
    let mut body = serde_json::json!({ "error": e.code(), "error_description": e.to_string() });
    if let TokenError::RateLimited { limit, retry_after } | TokenError::QuotaExceeded { limit, retry_after } = *e {
        super::rate_limit_headers(&mut res, limit, retry_after);
        body["retry_after"] = retry_after.into();
    }
    res.json(body)
}
