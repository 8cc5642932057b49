//! The data export of one person (GDPR art. 15 access, art. 20
//! portability): everything held about them as one JSON document — profile,
//! groups, sessions, applications, second-factor metadata, lockout state and
//! the audit events by or about them. Never a secret: no password hash,
//! TOTP seed, passkey key, recovery code, session or token value; the
//! document lists what it leaves out and why.

use super::users::AccountError;
use crate::store::export::{self, PersonRows};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

/// Names the document's shape, so a reader can tell versions apart.
pub const FORMAT: &str = "gatehouse.person-export/1";

/// The export of the user with this id, as of `now`.
pub async fn export(db: &crate::store::Db, user_id: &str, now: DateTime<Utc>) -> Result<Value, AccountError> {
    let rows = export::person(db, user_id).await?.ok_or(AccountError::NotFound)?;
    Ok(document(&rows, now))
}

fn time(t: DateTime<Utc>) -> Value {
    json!(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, time)
}

/// Built field by field from the rows, so a column added later is left
/// out until someone decides it belongs here.
pub fn document(r: &PersonRows, now: DateTime<Utc>) -> Value {
    let u = &r.user;
    json!({
        "format": FORMAT,
        "generated_at": time(now),
        "subject": u.id,
        "profile": {
            "id": u.id,
            "username": u.username,
            "email": u.email,
            "display_name": u.display_name,
            "active": u.active,
            "administrator": u.is_admin,
            "provisioned_by_scim": u.scim_managed,
            "external_id": u.external_id,
            "name": {
                "formatted": u.name_formatted,
                "family_name": u.family_name,
                "given_name": u.given_name,
                "middle_name": u.middle_name,
                "honorific_prefix": u.honorific_prefix,
                "honorific_suffix": u.honorific_suffix,
            },
            "nick_name": u.nick_name,
            "profile_url": u.profile_url,
            "title": u.title,
            "user_type": u.user_type,
            "preferred_language": u.preferred_language,
            "locale": u.locale,
            "timezone": u.timezone,
            "enterprise": {
                "employee_number": u.employee_number,
                "cost_center": u.cost_center,
                "organization": u.organization,
                "division": u.division,
                "department": u.department,
                "manager_id": u.manager_id,
            },
            "created_at": time(u.created_at),
            "updated_at": time(u.updated_at),
        },
        "multi_valued_attributes": r.multi_values.iter().map(|m| json!({
            "attribute": m.attribute,
            "value": m.value,
            "display": m.display,
            "type": m.r#type,
            "primary": m.is_primary,
            "formatted": m.formatted,
            "street_address": m.street_address,
            "locality": m.locality,
            "region": m.region,
            "postal_code": m.postal_code,
            "country": m.country,
        })).collect::<Vec<_>>(),
        "groups": r.groups.iter().map(|g| json!({
            "id": g.id,
            "display_name": g.display_name,
            "provisioned_by_scim": g.scim_managed,
            "grants_admin": g.grants_admin,
        })).collect::<Vec<_>>(),
        "sessions": r.sessions.iter().map(|s| json!({
            "signed_in_at": time(s.auth_time),
            "created_at": time(s.created_at),
            "last_seen_at": time(s.last_seen_at),
            "expires_at": time(s.expires_at),
            "ended_at": opt_time(s.ended_at),
            "methods": s.amr.split(' ').filter(|m| !m.is_empty()).collect::<Vec<_>>(),
            "acr": s.acr,
            "ip": s.ip,
            "user_agent": s.user_agent,
        })).collect::<Vec<_>>(),
        "applications": {
            "consents": r.consents.iter().map(|c| json!({
                "client_id": c.client_id,
                "scope": c.scope.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
                "granted_at": time(c.granted_at),
            })).collect::<Vec<_>>(),
            "refresh_grants": r.refresh_families.iter().map(|f| json!({
                "client_id": f.client_id,
                "created_at": time(f.created_at),
                "last_rotated_at": opt_time(f.rotated_at),
                "expires_at": time(f.expires_at),
                "revoked_at": opt_time(f.revoked_at),
            })).collect::<Vec<_>>(),
        },
        "second_factors": {
            "totp": r.totp.as_ref().map(|t| json!({
                "created_at": time(t.created_at),
                "confirmed_at": opt_time(t.confirmed_at),
                "last_used_at": opt_time(t.last_used_at),
            })),
            "passkeys": r.passkeys.iter().map(|p| json!({
                "name": p.name,
                "created_at": time(p.created_at),
                "last_used_at": opt_time(p.last_used_at),
                "discoverable": p.discoverable,
                "backup_eligible": p.backup_eligible,
            })).collect::<Vec<_>>(),
            "recovery_codes_left": r.recovery_codes_left,
        },
        "lockout": r.lockout.as_ref().map(|l| json!({
            "failures_in_window": l.failures,
            "lockouts": l.lockouts,
            "locked_until": opt_time(l.locked_until),
            "updated_at": time(l.updated_at),
        })),
        "audit_events": r.audit_events.iter().map(|e| json!({
            "id": e.id,
            "occurred_at": time(e.occurred_at),
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "outcome": e.outcome,
            "reason": e.reason,
            "request_id": e.request_id,
            "ip": e.ip,
            "user_agent": e.user_agent,
        })).collect::<Vec<_>>(),
        "not_included": {
            "password": "only a one-way hash is kept, and it is not exported",
            "totp_seed": "a secret: exporting it would let the reader generate your codes",
            "passkey_keys": "public keys bound to this server; they identify no one elsewhere",
            "recovery_codes": "only hashes are kept; the codes were shown to you once",
            "session_and_token_values": "secrets that would let the reader act as you",
        },
    })
}
