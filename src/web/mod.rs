//! The HTTP edge: handlers grouped by surface, middleware, and the app
//! wiring. Handlers parse, call domain code, and map outcomes to HTTP.

pub mod account;
pub mod admin;
mod admin_actions;
pub mod admin_api;
pub mod admin_audit;
pub mod admin_console;
pub mod admin_directory;
pub mod admin_keys;
pub mod admin_lockouts;
pub mod admin_users;
pub mod assets;
pub mod authorize;
pub mod browser;
pub mod csp_report;
pub mod error;
pub mod export;
pub mod extract;
mod factor_rules;
pub mod health;
pub mod home;
pub mod login;
pub mod logout;
pub mod metrics;
pub mod mfa;
pub mod mfa_account;
pub mod mfa_enrol;
pub mod middleware;
pub mod oauth;
pub mod oidc;
pub mod openapi;
pub mod passkeys;
pub mod password;
pub mod request_id;
pub mod scim;
pub mod sign_in;
mod user_agent;
pub mod userinfo;

use crate::accounts::PasswordHasher;
use crate::actors::Actors;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Db;
use actix_web::error::{JsonPayloadError, PayloadError, UrlencodedError};
use actix_web::{HttpMessage as _, HttpRequest, ResponseError as _, web};
use error::ApiError;
use futures_util::StreamExt as _;
use metrics::Metrics;
use request_id::RequestId;
use std::sync::Arc;

/// Shared, immutable state every handler receives.
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub actors: Actors,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
    pub metrics: Arc<Metrics>,
    /// The OTLP trace exporter; `None` (the default) costs the request path nothing.
    pub traces: Option<Arc<crate::telemetry::otel::Traces>>,
    /// The published signing keys; swapped by the KeyManager actor.
    pub keys: Arc<arc_swap::ArcSwap<crate::keys::KeySet>>,
    pub key_policy: crate::keys::KeyPolicy,
    pub secret_hasher: crate::crypto::SecretHasher,
    /// Seals TOTP seeds at rest.
    pub envelope: Arc<crate::crypto::envelope::Envelope>,
    /// The WebAuthn relying party; `None` when the issuer is an IP address.
    pub passkeys: Option<Arc<crate::mfa::webauthn::Passkeys>>,
    /// RFC 8414 metadata, built once at start.
    pub metadata: oidc::Metadata,
    pub clients: Arc<crate::oauth::client_cache::ClientCache>,
    pub verified_tokens: crate::oauth::token_cache::VerifiedTokens,
    /// Shared with the `RevocationWatcher` actor, which merges other
    /// instances' revocations into it.
    pub revocations: Arc<crate::oauth::revocation_list::RevocationList>,
    pub client_jwks: crate::oauth::client_jwks::ClientJwks,
    /// What a `private_key_jwt` assertion's `aud` may be at each endpoint.
    pub assertion_audiences: crate::oauth::client_assertion::AssertionAudiences,
    /// Per-client token quota (`client_token_quota_per_minute`), if any.
    pub token_quota: Option<crate::abuse::limiter::Limiter>,
    /// Budgets for failed authentications.
    pub failures: Arc<crate::abuse::FailureLimits>,
    /// Budgets for failed password logins (stricter).
    pub login_failures: Arc<crate::abuse::FailureLimits>,
    /// The Redis link every shared failure budget uses, for health and metrics.
    pub redis: Option<Arc<crate::abuse::shared::SharedBudgets>>,
    /// Whether the database answers; requests that need it fail fast while not.
    pub db_health: Arc<crate::store::health::DbHealth>,
    /// Told about every account lockout.
    pub lockout_notifier: Arc<dyn crate::accounts::lockout::LockoutNotifier>,
}

impl AppState {
    /// What introspection and revocation check tokens against.
    pub fn token_check<'a>(&'a self, keys: &'a crate::keys::KeySet) -> crate::oauth::introspection::TokenCheck<'a> {
        crate::oauth::introspection::TokenCheck {
            keys,
            issuer: &self.settings.issuer,
            verified: &self.verified_tokens,
            revoked: &self.revocations,
        }
    }
}

/// Registers every route of the public listener.
pub fn configure(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    let limit = state.settings.body_limit_bytes;
    cfg.app_data(web::PayloadConfig::new(limit))
        .app_data(web::JsonConfig::default().limit(limit).error_handler(move |e, _| json_body_error(e, limit)))
        .app_data(web::FormConfig::default().limit(limit).error_handler(move |e, _| form_body_error(e, limit)))
        .route("/", web::get().to(home::get_home))
        .route("/health/live", web::get().to(health::get_live))
        .route("/jwks.json", web::get().to(oidc::get_jwks))
        .route("/token", web::post().to(oauth::post_token))
        .route("/introspect", web::post().to(oauth::post_introspect))
        .route("/revoke", web::post().to(oauth::post_revoke))
        .route("/.well-known/oauth-authorization-server", web::get().to(oidc::get_oauth_metadata))
        .route("/.well-known/openid-configuration", web::get().to(oidc::get_openid_configuration))
        .route("/health/ready", web::get().to(health::get_ready))
        .route("/csp-report", web::post().to(csp_report::post_csp_report))
        .route("/static/{name}", web::get().to(assets::get_asset))
        .route("/authorize", web::get().to(authorize::get_authorize))
        .route("/authorize", web::post().to(authorize::post_authorize))
        .route("/login", web::get().to(login::get_login))
        .route("/login", web::post().to(login::post_login))
        .route("/login/mfa", web::get().to(mfa::get_challenge))
        .route("/login/mfa", web::post().to(mfa::post_challenge))
        .route("/login/mfa/enrol", web::get().to(mfa_enrol::get_enrol))
        .route("/login/mfa/enrol", web::post().to(mfa_enrol::post_enrol))
        .route("/account/mfa/totp", web::get().to(mfa_account::get_totp))
        .route("/account/mfa/totp", web::post().to(mfa_account::post_totp))
        .route("/account/mfa/totp/remove", web::post().to(mfa_account::post_remove_totp))
        .route("/account/mfa/recovery", web::post().to(mfa_account::post_recovery_codes))
        .route("/account/passkeys/begin", web::post().to(passkeys::begin_registration))
        .route("/account/passkeys/finish", web::post().to(passkeys::finish_registration))
        .route("/account/passkeys/remove", web::post().to(passkeys::post_remove))
        .route("/login/mfa/enrol/passkey/begin", web::post().to(passkeys::begin_enrolment))
        .route("/login/mfa/enrol/passkey/finish", web::post().to(passkeys::finish_enrolment))
        .route("/login/mfa/passkey/begin", web::post().to(passkeys::begin_second_factor))
        .route("/login/mfa/passkey/finish", web::post().to(passkeys::finish_second_factor))
        .route("/login/passkey/begin", web::post().to(passkeys::begin_passwordless))
        .route("/login/passkey/finish", web::post().to(passkeys::finish_passwordless))
        .route("/consent", web::post().to(authorize::post_consent))
        .route("/admin", web::get().to(admin_console::get_index))
        .route("/admin/users", web::get().to(admin_console::get_users))
        .route("/admin/users/bulk", web::post().to(admin_console::post_bulk))
        .route("/admin/users/{user_id}", web::get().to(admin_console::get_user))
        .route("/admin/audit", web::get().to(admin_console::get_audit))
        .route("/admin/audit/live", web::get().to(admin_console::get_live))
        .route("/admin/lockouts", web::get().to(admin_console::get_lockouts))
        .route("/admin/groups", web::get().to(admin_console::get_groups))
        .route("/admin/groups/{group_id}/admin", web::post().to(admin_console::post_group_admin))
        .route("/admin/scim-tokens", web::get().to(admin_console::get_tokens))
        .route("/admin/scim-tokens", web::post().to(admin_console::post_new_token))
        .route("/admin/scim-tokens/{token_id}/revoke", web::post().to(admin_console::post_revoke_token))
        .route("/account", web::get().to(account::get_account))
        .route("/account/sessions/end", web::post().to(account::post_end_sessions))
        .route("/account/consents/revoke", web::post().to(account::post_revoke_consent))
        .route("/account/export", web::get().to(export::account_export))
        .route("/account/password", web::get().to(password::get_password))
        .route("/account/password", web::post().to(password::post_password))
        .route("/end_session", web::get().to(logout::get_end_session))
        .route("/end_session", web::post().to(logout::post_end_session))
        .route("/logout", web::post().to(logout::post_logout))
        .route("/userinfo", web::get().to(userinfo::userinfo))
        .route("/userinfo", web::post().to(userinfo::userinfo_post))
        .configure(scim::configure);
    if state.settings.admin_token.is_some() {
        cfg.route("/admin/api/v1/audit", web::get().to(admin_audit::list));
        cfg.route("/admin/api/v1/lockouts", web::get().to(admin_lockouts::list));
        cfg.route("/admin/api/v1/lockouts/{user_id}", web::delete().to(admin_lockouts::unlock));
        cfg.route("/admin/api/v1/openapi.json", web::get().to(openapi::serve));
        cfg.route("/admin/api/v1/keys", web::get().to(admin_keys::list));
        cfg.route("/admin/api/v1/keys/rotate", web::post().to(admin_keys::rotate));
        cfg.route("/admin/api/v1/keys/{kid}/revoke", web::post().to(admin_keys::revoke));
        cfg.service(
            web::scope("/admin/api/v1/users")
                .route("", web::get().to(admin_users::search))
                .route("/bulk", web::post().to(admin_users::bulk))
                .route("/{user_id}", web::get().to(admin_users::show))
                .route("/{user_id}", web::patch().to(admin_users::update))
                .route("/{user_id}/sessions", web::get().to(admin_users::sessions))
                .route("/{user_id}/sessions", web::delete().to(admin_users::end_sessions))
                .route("/{user_id}/export", web::get().to(export::admin_export)),
        );
        cfg.service(
            web::scope("/admin/api/v1/groups")
                .route("", web::get().to(admin_directory::list_groups))
                .route("/{group_id}", web::get().to(admin_directory::show_group))
                .route("/{group_id}", web::patch().to(admin_directory::update_group)),
        );
        cfg.service(
            web::scope("/admin/api/v1/scim-tokens")
                .route("", web::get().to(admin_directory::list_tokens))
                .route("", web::post().to(admin_directory::create_token))
                .route("/{token_id}", web::delete().to(admin_directory::revoke_token)),
        );
        cfg.service(
            web::scope("/admin/api/v1/clients")
                .route("", web::get().to(admin::list))
                .route("", web::post().to(admin::create))
                .route("/{client_id}", web::get().to(admin::show))
                .route("/{client_id}", web::patch().to(admin::update))
                .route("/{client_id}", web::delete().to(admin::delete))
                .route("/{client_id}/secret", web::post().to(admin::rotate_secret)),
        );
    }
    if state.settings.metrics_enabled && state.settings.metrics_bind.is_none() {
        cfg.route("/metrics", web::get().to(metrics::get_metrics));
    }
}

/// Maps JSON extractor failures: overflow is 413, anything else 400.
fn json_body_error(e: JsonPayloadError, limit: usize) -> actix_web::Error {
    let overflow = matches!(
        e,
        JsonPayloadError::Overflow { .. }
            | JsonPayloadError::OverflowKnownLength { .. }
            | JsonPayloadError::Payload(PayloadError::Overflow)
    );
    body_error(e, overflow, limit)
}

/// Maps form extractor failures: overflow is 413, anything else 400.
fn form_body_error(e: UrlencodedError, limit: usize) -> actix_web::Error {
    let overflow = matches!(e, UrlencodedError::Overflow { .. } | UrlencodedError::Payload(PayloadError::Overflow));
    body_error(e, overflow, limit)
}

fn body_error(
    cause: impl std::fmt::Debug + std::fmt::Display + 'static,
    overflow: bool,
    limit: usize,
) -> actix_web::Error {
    let err =
        if overflow { ApiError::PayloadTooLarge { limit } } else { ApiError::BadRequest("malformed request body") };
    actix_web::error::InternalError::from_response(cause, err.error_response()).into()
}

/// Whether the request's media type (parameters ignored) is `mime`.
pub fn content_type_is(req: &HttpRequest, mime: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(mime))
}

/// The caller's address: the TCP peer, or, when the peer is one of the
/// `trusted_proxies`, the client it reports in `X-Forwarded-For`.
pub fn peer_ip(req: &HttpRequest) -> String {
    let trusted = req.app_data::<web::Data<AppState>>().map_or(&[][..], |s| &s.settings.trusted_proxies[..]);
    let forwarded: Vec<&str> = if trusted.is_empty() {
        Vec::new()
    } else {
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect()
    };
    crate::net::client_ip(req.peer_addr().map(|a| a.ip()), &forwarded, trusted)
        .map(|ip| ip.to_string())
        .unwrap_or_default()
}

/// `Retry-After` and the IETF draft `RateLimit-*` trio on a 429.
pub fn rate_limit_headers(res: &mut actix_web::HttpResponseBuilder, limit: u32, retry_after: u64) {
    use actix_web::http::header::{HeaderName, RETRY_AFTER};
    res.insert_header((RETRY_AFTER, retry_after.to_string()))
        .insert_header((HeaderName::from_static("ratelimit-limit"), limit.to_string()))
        .insert_header((HeaderName::from_static("ratelimit-remaining"), "0"))
        .insert_header((HeaderName::from_static("ratelimit-reset"), retry_after.to_string()));
}

/// The same headers on a built response.
pub fn rate_limit_headers_on(res: &mut actix_web::HttpResponse, limit: u32, retry_after: u64) {
    use actix_web::http::header::{HeaderName, HeaderValue, RETRY_AFTER};
    let h = res.headers_mut();
    for (name, value) in [
        (RETRY_AFTER, retry_after.to_string()),
        (HeaderName::from_static("ratelimit-limit"), limit.to_string()),
        (HeaderName::from_static("ratelimit-remaining"), "0".to_owned()),
        (HeaderName::from_static("ratelimit-reset"), retry_after.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

/// How long an acknowledged change waits for its audit event's commit
/// before it answers with an error instead (the database is failing).
pub const AUDIT_DURABLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Records the event of a change a person or an administrator made (a
/// factor, a consent, a session, a client, a lock) and waits for its
/// commit: a change is not acknowledged before its event is durable. An
/// `Err` is logged here; the caller answers with its own error. (Sign-ins
/// and refusals are batched instead: they come at an attacker's rate.)
pub async fn record_change(
    state: &AppState,
    req: &HttpRequest,
    ev: crate::audit::AuditEvent,
) -> Result<(), crate::actors::audit::AuditNotDurable> {
    let action = ev.action;
    state.actors.audit.record_durable(with_request(ev, req), AUDIT_DURABLE_WITHIN).await.inspect_err(|e| {
        tracing::error!(error = %e, action, "change made, but its audit event is not durable");
    })
}

/// Fills in an audit event's request context: request id, caller
/// address and user agent.
pub fn with_request(mut ev: crate::audit::AuditEvent, req: &HttpRequest) -> crate::audit::AuditEvent {
    ev.request_id = Some(request_id_of(req).to_string());
    ev.ip = Some(peer_ip(req)).filter(|ip| !ip.is_empty());
    ev.user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect());
    ev
}

/// The request id assigned by [`middleware::request_context`].
pub fn request_id_of(req: &HttpRequest) -> RequestId {
    req.extensions().get::<RequestId>().cloned().unwrap_or_else(RequestId::generate)
}

/// Reads a whole body, failing with 413 as soon as it passes `limit` (also
/// for chunked bodies that declared no length).
pub async fn read_body_limited(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest("request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extractor_overflow_is_413_and_other_failures_400() {
        let status = |e: actix_web::Error| e.as_response_error().status_code().as_u16();
        assert_eq!(status(json_body_error(JsonPayloadError::Overflow { limit: 10 }, 10)), 413);
        assert_eq!(status(json_body_error(JsonPayloadError::OverflowKnownLength { length: 11, limit: 10 }, 10)), 413);
        assert_eq!(status(json_body_error(JsonPayloadError::Payload(PayloadError::Overflow), 10)), 413);
        assert_eq!(status(json_body_error(JsonPayloadError::ContentType, 10)), 400);
        assert_eq!(status(form_body_error(UrlencodedError::Overflow { size: 11, limit: 10 }, 10)), 413);
        assert_eq!(status(form_body_error(UrlencodedError::ContentType, 10)), 400);
    }
}
