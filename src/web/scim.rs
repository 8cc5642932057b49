//! `/scim/v2`: RFC 7644 over HTTP. Authenticates the bearer token, parses
//! the request, calls `scim::service`, and maps outcomes to SCIM's wire
//! format (`application/scim+json`, the Error schema, weak ETags).

use super::{AppState, peer_ip, read_body_limited};
use crate::abuse::FailureClass;
use crate::audit::AuditEvent;
use crate::scim::auth::{self, Caller};
use crate::scim::error::{ScimError, ScimType};
use crate::scim::resource::{self, etag};
use crate::scim::schema::{ResourceKind, SEARCH_URN};
use crate::scim::service::{AuditAs, Change, ListQuery, Provisioning, wants_members};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

const SCIM_JSON: &str = "application/scim+json";

/// The mount point under the issuer.
pub const PATH: &str = "/scim/v2";

mod discovery;
mod failure;

use discovery::{
    method_not_allowed, not_found, resource_type, resource_types, schema_by_id, schemas, service_provider_config,
};
pub(super) use failure::early_error;
use failure::{Failure, respond_error, scim_json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = web::scope(PATH)
        .route("/ServiceProviderConfig", web::get().to(service_provider_config))
        .route("/ResourceTypes", web::get().to(resource_types))
        .route("/ResourceTypes/{id}", web::get().to(resource_type))
        .route("/Schemas", web::get().to(schemas))
        .route("/Schemas/{id}", web::get().to(schema_by_id))
        .configure(|cfg| resource_routes(cfg, ResourceKind::User))
        .configure(|cfg| resource_routes(cfg, ResourceKind::Group));
    // Any other method on a known path is 405 with the methods it has.
    let mut scope = scope;
    for (path, allow) in [
        ("/ServiceProviderConfig", "GET"),
        ("/ResourceTypes", "GET"),
        ("/ResourceTypes/{id}", "GET"),
        ("/Schemas", "GET"),
        ("/Schemas/{id}", "GET"),
        ("/Users", "GET, POST"),
        ("/Users/.search", "POST"),
        ("/Users/{id}", "GET, PUT, PATCH, DELETE"),
        ("/Groups", "GET, POST"),
        ("/Groups/.search", "POST"),
        ("/Groups/{id}", "GET, PUT, PATCH, DELETE"),
    ] {
        scope = scope.route(path, web::route().to(move |req: HttpRequest| method_not_allowed(req, allow)));
    }
    cfg.service(scope.default_service(web::to(not_found)));
}

/// The routes of `/Users` or `/Groups`.
fn resource_routes(cfg: &mut web::ServiceConfig, kind: ResourceKind) {
    let all = format!("/{}", kind.endpoint());
    let one = format!("/{}/{{id}}", kind.endpoint());
    cfg.route(&all, web::get().to(move |r: HttpRequest, s: web::Data<AppState>| list_resources(r, s, kind)))
        .route(
            &all,
            web::post()
                .to(move |r: HttpRequest, b: web::Payload, s: web::Data<AppState>| change(r, b, s, None, kind, false)),
        )
        .route(
            &format!("/{}/.search", kind.endpoint()),
            web::post().to(move |r: HttpRequest, b: web::Payload, s: web::Data<AppState>| search(r, b, s, kind)),
        )
        .route(
            &one,
            web::get().to(move |r: HttpRequest, s: web::Data<AppState>, id: web::Path<String>| get_one(r, s, id, kind)),
        )
        .route(
            &one,
            web::put().to(move |r: HttpRequest, b: web::Payload, s: web::Data<AppState>, id: web::Path<String>| {
                change(r, b, s, Some(id.into_inner()), kind, false)
            }),
        )
        .route(
            &one,
            web::patch().to(move |r: HttpRequest, b: web::Payload, s: web::Data<AppState>, id: web::Path<String>| {
                change(r, b, s, Some(id.into_inner()), kind, true)
            }),
        )
        .route(
            &one,
            web::delete()
                .to(move |r: HttpRequest, s: web::Data<AppState>, id: web::Path<String>| delete(r, s, id, kind)),
        );
}

async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, Failure> {
    // Every SCIM request needs the database, the token check first.
    if state.db_health.is_down() {
        return Err(Failure::Scim(ScimError::Unavailable));
    }
    let ip = peer_ip(req);
    if let Some(b) = state.failures.blocked(FailureClass::ScimAuth, &ip, "") {
        state.metrics.rate_limited.with_label_values(&[FailureClass::ScimAuth.as_str()]).inc();
        return Err(Failure::RateLimited { limit: b.limit, retry_after: b.retry_after });
    }
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let found = match auth::bearer(header) {
        Some(t) => auth::authenticate(&state.db, &state.secret_hasher, t, state.clock.now()).await?,
        None => None,
    };
    let Some(caller) = found else {
        tracing::warn!(path = req.path(), "SCIM authentication failed");
        state.failures.record_failure(FailureClass::ScimAuth, &ip, "").await;
        return Err(Failure::Unauthorized);
    };
    Ok(caller)
}

fn base(state: &AppState) -> String {
    format!("{}{PATH}", state.settings.issuer.trim_end_matches('/'))
}

fn provisioning<'a>(state: &'a AppState, base: &'a str) -> Provisioning<'a> {
    Provisioning {
        db: &state.db,
        hasher: &state.hasher,
        policy: state.settings.password_policy(),
        now: state.clock.now(),
        revoked: &state.revocations,
        sessions: &state.actors.sessions,
        base,
        unknown_members: state.settings.scim_unknown_members,
        audit: None,
    }
}

/// The same, for a write by `caller`: its audit event commits with it.
fn provisioning_for<'a>(state: &'a AppState, base: &'a str, req: &HttpRequest, caller: &Caller) -> Provisioning<'a> {
    let template = super::with_request(
        AuditEvent::new(state.clock.now(), format!("scim:{}", caller.name), "scim.write", None),
        req,
    );
    let masking =
        crate::audit::Masking { ips: state.settings.audit_mask_ips, emails: state.settings.audit_mask_emails };
    Provisioning { audit: Some(AuditAs { template, masking }), ..provisioning(state, base) }
}

async fn json_body(req: &HttpRequest, payload: web::Payload, state: &AppState) -> Result<Value, Failure> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case(SCIM_JSON) && !mime.eq_ignore_ascii_case("application/json") {
        return Err(Failure::UnsupportedMediaType);
    }
    let body = read_body_limited(payload, state.settings.body_limit_bytes)
        .await
        .map_err(|_| Failure::Scim(ScimError::bad(ScimType::InvalidSyntax, "request body too large or unreadable")))?;
    serde_json::from_slice(&body)
        .map_err(|e| Failure::Scim(ScimError::bad(ScimType::InvalidSyntax, format!("body is not valid JSON: {e}"))))
}

/// `If-Match`: `None` for absent or `*`; a version that cannot be ours
/// fails the precondition.
fn if_match(req: &HttpRequest) -> Result<Option<i64>, Failure> {
    let Some(v) = req.headers().get(header::IF_MATCH) else { return Ok(None) };
    let v = v.to_str().map_err(|_| Failure::Scim(ScimError::PreconditionFailed))?.trim();
    if v == "*" {
        return Ok(None);
    }
    parse_etag(v).map(Some).ok_or(Failure::Scim(ScimError::PreconditionFailed))
}

fn parse_etag(v: &str) -> Option<i64> {
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

fn if_none_match(req: &HttpRequest, version: i64) -> Result<(), Failure> {
    let tag = etag(version);
    let hit = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == "*" || parse_etag(t.trim()) == Some(version)));
    if hit { Err(Failure::NotModified(tag)) } else { Ok(()) }
}

/// Counts the member ids a group write skipped (its audit event names
/// them, written with the change).
fn count_skipped(state: &AppState, skipped: &[String]) {
    if !skipped.is_empty() {
        state.metrics.scim_unknown_members.inc_by(skipped.len() as u64);
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Projection {
    attributes: Option<String>,
    excluded_attributes: Option<String>,
}

fn projection(req: &HttpRequest) -> Result<Projection, Failure> {
    web::Query::<Projection>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| Failure::Scim(ScimError::bad(ScimType::InvalidValue, format!("query: {e}"))))
}

fn resource_response(
    kind: ResourceKind,
    status: StatusCode,
    doc: Value,
    version: i64,
    location: Option<String>,
    p: &Projection,
) -> Result<HttpResponse, Failure> {
    let doc = resource::project(kind, doc, p.attributes.as_deref(), p.excluded_attributes.as_deref())?;
    let mut res = scim_json(status, &doc);
    res.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&etag(version)).map_err(|_| Failure::Scim(ScimError::PreconditionFailed))?,
    );
    if let Some(l) = location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    Ok(res)
}

fn finish(req: &HttpRequest, r: Result<HttpResponse, Failure>) -> HttpResponse {
    r.unwrap_or_else(|f| respond_error(req, f))
}

async fn list(state: &AppState, kind: ResourceKind, q: ListQuery) -> Result<HttpResponse, Failure> {
    let b = base(state);
    let body = provisioning(state, &b).list(kind, &q).await?;
    Ok(scim_json(StatusCode::OK, &body))
}

fn list_query(req: &HttpRequest) -> Result<ListQuery, Failure> {
    web::Query::<ListQuery>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| Failure::Scim(ScimError::bad(ScimType::InvalidValue, format!("query: {e}"))))
}

/// `.search` (RFC 7644 §3.4.3): the query as a `SearchRequest` body.
async fn search_query(req: &HttpRequest, payload: web::Payload, state: &AppState) -> Result<ListQuery, Failure> {
    let body = json_body(req, payload, state).await?;
    if let Some(s) = body.get("schemas")
        && !s.as_array().is_some_and(|l| l.iter().any(|x| x.as_str() == Some(SEARCH_URN)))
    {
        return Err(Failure::Scim(ScimError::bad(
            ScimType::InvalidSyntax,
            format!("schemas must contain {SEARCH_URN}"),
        )));
    }
    let mut body = body;
    if let Value::Object(o) = &mut body {
        o.remove("schemas");
        // Lists of attributes may come as arrays in a SearchRequest.
        for key in ["attributes", "excludedAttributes"] {
            if let Some(Value::Array(items)) = o.get(key) {
                let joined = items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",");
                o.insert(key.into(), Value::String(joined));
            }
        }
    }
    serde_json::from_value(body)
        .map_err(|e| Failure::Scim(ScimError::bad(ScimType::InvalidSyntax, format!("SearchRequest: {e}"))))
}

async fn list_resources(req: HttpRequest, state: web::Data<AppState>, kind: ResourceKind) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        list(&state, kind, list_query(&req)?).await
    };
    finish(&req, r.await)
}

async fn search(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    kind: ResourceKind,
) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        let q = search_query(&req, payload, &state).await?;
        list(&state, kind, q).await
    };
    finish(&req, r.await)
}

fn location(b: &str, kind: ResourceKind, id: &str) -> String {
    format!("{b}/{}/{id}", kind.endpoint())
}

async fn get_one(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    kind: ResourceKind,
) -> HttpResponse {
    let r = async {
        authenticate(&req, &state).await?;
        let p = projection(&req)?;
        let b = base(&state);
        let members =
            kind == ResourceKind::Group && wants_members(p.attributes.as_deref(), p.excluded_attributes.as_deref())?;
        let got = provisioning(&state, &b).fetch(kind, &id, members).await?;
        if_none_match(&req, got.version)?;
        resource_response(kind, StatusCode::OK, got.doc, got.version, None, &p)
    };
    finish(&req, r.await)
}

/// POST (`id` is `None`), PUT and PATCH. Every PATCH answers 200 with the
/// resource (RFC 7644 §3.5.2; Okta and scim-sanity expect it), projected
/// by `attributes`/`excludedAttributes` as a GET is: a group's members are
/// read back only when the projection keeps them, so a provisioning
/// client can spare a large group with `excludedAttributes=members`.
async fn change(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    id: Option<String>,
    kind: ResourceKind,
    patch: bool,
) -> HttpResponse {
    let r = async {
        let caller = authenticate(&req, &state).await?;
        let p = projection(&req)?;
        let want = if_match(&req)?;
        let body = json_body(&req, payload, &state).await?;
        let b = base(&state);
        let op = match (&id, patch) {
            (None, _) => Change::Create,
            (Some(id), false) => Change::Replace(id),
            (Some(id), true) => Change::Patch(id),
        };
        let members =
            kind == ResourceKind::Group && wants_members(p.attributes.as_deref(), p.excluded_attributes.as_deref())?;
        let done = provisioning_for(&state, &b, &req, &caller).write(kind, op, &body, want, members).await?;
        count_skipped(&state, &done.skipped_members);
        let (status, loc) = match op {
            Change::Create => (StatusCode::CREATED, Some(location(&b, kind, &done.id))),
            _ => (StatusCode::OK, None),
        };
        resource_response(kind, status, done.doc, done.version, loc, &p)
    };
    finish(&req, r.await)
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    kind: ResourceKind,
) -> HttpResponse {
    let r = async {
        let caller = authenticate(&req, &state).await?;
        let want = if_match(&req)?;
        let b = base(&state);
        provisioning_for(&state, &b, &req, &caller).delete(kind, &id, want).await?;
        Ok(HttpResponse::NoContent().finish())
    };
    finish(&req, r.await)
}
