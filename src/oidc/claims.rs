//! Standard claims (OIDC Core §5.1, §5.4) released by scope: `profile`,
//! `email`, `address`, `phone`, and `groups` (the names of the user's
//! groups). Values come from what SCIM or an admin stored; none has been
//! verified with the person, so every `*_verified` claim is false.

use crate::store::Db;
use crate::store::scim::ScimStoreError;
use entity::user_multi_values::Model as MultiValue;
use entity::users::Model as User;
use serde_json::{Map, Value, json};

/// What the claims need beyond the user row, read only for the scopes
/// that release it.
#[derive(Debug, Default)]
pub struct Related {
    pub groups: Vec<String>,
    /// The primary (else first) SCIM `addresses` element.
    pub address: Option<MultiValue>,
    /// The primary (else first) SCIM `phoneNumbers` element.
    pub phone: Option<MultiValue>,
}

impl Related {
    pub async fn load(db: &Db, user_id: &str, scopes: &[&str]) -> Result<Self, ScimStoreError> {
        let mut r = Related::default();
        if scopes.contains(&"groups") {
            r.groups = crate::store::scim::groups::group_names(db, user_id).await?;
        }
        if scopes.contains(&"address") {
            r.address = crate::store::scim::preferred_value(db, user_id, "addresses").await?;
        }
        if scopes.contains(&"phone") {
            r.phone = crate::store::scim::preferred_value(db, user_id, "phoneNumbers").await?;
        }
        Ok(r)
    }
}

/// The scope that releases a standard claim (OIDC Core §5.4); `None` for
/// claims that need none (`sub`, `acr`, …) or that Gatehouse does not know.
pub fn scope_of(claim: &str) -> Option<&'static str> {
    Some(match claim {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "zoneinfo" | "locale" | "updated_at" => "profile",
        "email" | "email_verified" => "email",
        "address" => "address",
        "phone_number" | "phone_number_verified" => "phone",
        "groups" => "groups",
        _ => return None,
    })
}

/// Longest `claims` parameter accepted.
pub const MAX_CLAIMS_REQUEST: usize = 4096;

/// The scopes a `claims` request parameter (OIDC Core §5.5) asks for: each
/// claim named under `userinfo` or `id_token`, essential or voluntary,
/// asks for the scope that releases it, so consent and release stay
/// scope-based (the consent page shows exactly what is released; a claim
/// is then released wherever its scope releases it). Unknown claims are
/// ignored, as the spec allows; a malformed request is an error.
pub fn scopes_requested_by(raw: &str) -> Result<Vec<&'static str>, &'static str> {
    if raw.len() > MAX_CLAIMS_REQUEST {
        return Err("claims is too long");
    }
    let Ok(Value::Object(request)) = serde_json::from_str::<Value>(raw) else {
        return Err("claims must be a JSON object");
    };
    let mut scopes = Vec::new();
    for (member, claims) in &request {
        if member != "userinfo" && member != "id_token" {
            continue;
        }
        let Value::Object(claims) = claims else { return Err("claims.userinfo and claims.id_token must be objects") };
        for (name, ask) in claims {
            // OIDC Core §5.5.1: null, or an object of essential/value/values.
            if !matches!(ask, Value::Null | Value::Object(_)) {
                return Err("each requested claim must be null or an object");
            }
            if let Some(s) = scope_of(name).filter(|s| !scopes.contains(s)) {
                scopes.push(s);
            }
        }
    }
    Ok(scopes)
}

/// The claims `scopes` release about `user`. `sub` is always included.
pub fn for_scopes(user: &User, related: &Related, scopes: &[&str]) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.id));
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            c.insert(k.into(), json!(v));
        }
    };
    if scopes.contains(&"profile") {
        let name = user.display_name.clone().or_else(|| user.name_formatted.clone()).or_else(|| {
            let parts: Vec<&str> =
                [&user.given_name, &user.family_name].into_iter().flatten().map(String::as_str).collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        });
        put("name", &name);
        put("given_name", &user.given_name);
        put("family_name", &user.family_name);
        put("middle_name", &user.middle_name);
        put("nickname", &user.nick_name);
        put("preferred_username", &Some(user.username.clone()));
        put("profile", &user.profile_url);
        put("zoneinfo", &user.timezone);
        put("locale", &user.locale);
        c.insert("updated_at".into(), json!(user.updated_at.timestamp()));
    }
    if scopes.contains(&"email")
        && let Some(email) = &user.email
    {
        c.insert("email".into(), json!(email));
        // Addresses come from administrators and provisioning systems;
        // Gatehouse has not verified them with the person.
        c.insert("email_verified".into(), json!(false));
    }
    if scopes.contains(&"address")
        && let Some(a) = related.address.as_ref().map(address).filter(|a| !a.is_empty())
    {
        c.insert("address".into(), Value::Object(a));
    }
    if scopes.contains(&"phone")
        && let Some(number) = related.phone.as_ref().and_then(|p| p.value.as_deref()).filter(|v| !v.is_empty())
    {
        c.insert("phone_number".into(), json!(number));
        c.insert("phone_number_verified".into(), json!(false));
    }
    if scopes.contains(&"groups") {
        c.insert("groups".into(), json!(related.groups));
    }
    c
}

/// OIDC Core §5.1.1 from a SCIM address (RFC 7643 §4.1.2): the same
/// sub-fields under their OIDC names; empty ones are left out.
fn address(a: &MultiValue) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in [
        ("formatted", &a.formatted),
        ("street_address", &a.street_address),
        ("locality", &a.locality),
        ("region", &a.region),
        ("postal_code", &a.postal_code),
        ("country", &a.country),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            m.insert(k.into(), json!(v));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let now = chrono::Utc::now();
        User {
            id: "u1".into(),
            username: "alice".into(),
            username_normalized: "alice".into(),
            email: Some("alice@example.com".into()),
            display_name: None,
            password_hash: None,
            active: true,
            is_admin: false,
            created_at: now,
            updated_at: now,
            version: 1,
            external_id: None,
            name_formatted: None,
            family_name: Some("Smith".into()),
            given_name: Some("Alice".into()),
            middle_name: None,
            honorific_prefix: None,
            honorific_suffix: None,
            nick_name: None,
            profile_url: None,
            title: None,
            user_type: None,
            preferred_language: None,
            locale: None,
            timezone: None,
            employee_number: None,
            cost_center: None,
            organization: None,
            division: None,
            department: None,
            manager_id: None,
            scim_managed: true,
        }
    }

    fn value(attribute: &str) -> MultiValue {
        MultiValue {
            id: 1,
            user_id: "u1".into(),
            attribute: attribute.into(),
            position: 0,
            value: None,
            value_ci: None,
            display: None,
            r#type: Some("work".into()),
            is_primary: true,
            formatted: None,
            street_address: None,
            locality: None,
            region: None,
            postal_code: None,
            country: None,
        }
    }

    #[test]
    fn a_claims_request_asks_for_the_scopes_that_release_its_claims() {
        let raw = r#"{"userinfo":{"given_name":{"essential":true},"email":null,"x-unknown":null},
                      "id_token":{"phone_number":{"essential":false},"auth_time":{"essential":true},"name":null}}"#;
        assert_eq!(scopes_requested_by(raw).unwrap(), ["profile", "phone", "email"], "id_token first, then by name");
        assert_eq!(scopes_requested_by(r#"{"other":{"email":null}}"#).unwrap(), Vec::<&str>::new());
        for bad in ["", "[]", "\"email\"", r#"{"userinfo":[]}"#, r#"{"userinfo":{"email":true}}"#, "{"] {
            assert!(scopes_requested_by(bad).is_err(), "{bad}");
        }
        assert!(scopes_requested_by(&format!(r#"{{"userinfo":{{"{}":null}}}}"#, "a".repeat(5000))).is_err());
    }

    #[test]
    fn address_and_phone_are_released_only_by_their_scopes() {
        let related = Related {
            groups: vec![],
            address: Some(MultiValue {
                street_address: Some("100 Universal City Plaza".into()),
                locality: Some("Hollywood".into()),
                region: Some("CA".into()),
                postal_code: Some("91608".into()),
                country: Some("USA".into()),
                ..value("addresses")
            }),
            phone: Some(MultiValue { value: Some("+1 (555) 555-5555".into()), ..value("phoneNumbers") }),
        };
        let c = for_scopes(&user(), &related, &["openid", "address", "phone"]);
        assert_eq!(
            c["address"],
            json!({
                "street_address": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postal_code": "91608",
                "country": "USA",
            })
        );
        assert_eq!((&c["phone_number"], &c["phone_number_verified"]), (&json!("+1 (555) 555-5555"), &json!(false)));
        assert!(c.get("email").is_none() && c.get("given_name").is_none());
        let c = for_scopes(&user(), &related, &["openid", "email"]);
        assert!(c.get("address").is_none() && c.get("phone_number").is_none());
        // Nothing stored, nothing released (no empty object).
        let c = for_scopes(&user(), &Related { address: Some(value("addresses")), ..Related::default() }, &["address"]);
        assert!(c.get("address").is_none());
    }
}
