//! `GET|POST /userinfo` (OIDC Core §5.3): the claims the access token's
//! scopes release about its user. Bearer errors per RFC 6750 §3.

use super::AppState;
use crate::oauth::introspection;
use crate::oidc::claims;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

fn bearer_error(status: StatusCode, error: Option<(&str, &str)>) -> HttpResponse {
    let challenge = match error {
        None => "Bearer realm=\"gatehouse\"".to_owned(),
        Some((code, description)) => {
            format!("Bearer realm=\"gatehouse\", error=\"{code}\", error_description=\"{description}\"")
        }
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((header::WWW_AUTHENTICATE, challenge)).insert_header((header::CACHE_CONTROL, "no-store"));
    match error {
        Some((code, description)) => res.json(serde_json::json!({"error": code, "error_description": description})),
        None => res.finish(),
    }
}

/// The token from `Authorization: Bearer` (RFC 6750 §2.1). The form-body
/// variant (§2.2) is read by [`userinfo_post`]; the query variant is not
/// accepted (it leaks into logs and histories).
fn bearer(req: &HttpRequest) -> Result<Option<&str>, ()> {
    let Some(v) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let v = v.to_str().map_err(|_| ())?;
    match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim()))
        }
        _ => Err(()),
    }
}

/// `GET /userinfo`: the token in the `Authorization` header.
pub async fn userinfo(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    match bearer(&req) {
        Ok(Some(t)) => respond(&state, t).await,
        Ok(None) => bearer_error(StatusCode::UNAUTHORIZED, None),
        Err(()) => bearer_error(StatusCode::BAD_REQUEST, Some(("invalid_request", "malformed Authorization header"))),
    }
}

/// `POST /userinfo`: the token in the header, or as `access_token` in a
/// form-encoded body (RFC 6750 §2.2) — never both (§2: one method only).
pub async fn userinfo_post(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let malformed = |why| bearer_error(StatusCode::BAD_REQUEST, Some(("invalid_request", why)));
    let header_token = match bearer(&req) {
        Ok(t) => t.map(str::to_owned),
        Err(()) => return malformed("malformed Authorization header"),
    };
    let mut body_token = None;
    if super::content_type_is(&req, "application/x-www-form-urlencoded") {
        let Ok(body) = super::read_body_limited(payload, state.settings.body_limit_bytes).await else {
            return malformed("request body too large or unreadable");
        };
        for (k, v) in url::form_urlencoded::parse(&body) {
            if k == "access_token" {
                if body_token.is_some() {
                    return malformed("access_token is repeated");
                }
                body_token = Some(v.into_owned());
            }
        }
    }
    match (header_token, body_token) {
        (Some(_), Some(_)) => malformed("the access token was sent in more than one way"),
        (Some(t), None) | (None, Some(t)) if !t.is_empty() => respond(&state, &t).await,
        (None, None) => bearer_error(StatusCode::UNAUTHORIZED, None),
        _ => malformed("the access token is empty"),
    }
}

async fn respond(state: &AppState, token: &str) -> HttpResponse {
    let keys = state.keys.load();
    let verified = introspection::active_access_token(&state.token_check(&keys), token, state.clock.now());
    let invalid = || bearer_error(StatusCode::UNAUTHORIZED, Some(("invalid_token", "the access token is not valid")));
    let Some(verified) = verified else { return invalid() };
    let at = &verified.claims;
    let scopes: Vec<&str> = at.scope.as_deref().unwrap_or("").split(' ').filter(|s| !s.is_empty()).collect();
    if !scopes.contains(&"openid") {
        return bearer_error(
            StatusCode::FORBIDDEN,
            Some(("insufficient_scope", "the access token lacks the openid scope")),
        );
    }
    if state.db_health.is_down() {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::RETRY_AFTER, "1"))
            .json(serde_json::json!({
                "error": "temporarily_unavailable",
                "error_description": "the service is temporarily unavailable; retry shortly",
            }));
    }
    // Machine tokens (client_credentials) have a client as subject: no user.
    let user = match crate::accounts::users::find_active(&state.db, &at.sub).await {
        Ok(Some(u)) => u,
        Ok(None) => return invalid(),
        Err(e) => {
            tracing::error!(error = %e, "userinfo: user lookup failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    let related = match claims::Related::load(&state.db, &user.id, &scopes).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "userinfo: claim lookup failed");
            return HttpResponse::InternalServerError().finish();
        }
    };
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(claims::for_scopes(&user, &related, &scopes))
}
