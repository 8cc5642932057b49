//! Standard claims (OIDC Core §5.1, §5.4) released by scope: `profile`,
//! `email`, and `groups` (the names of the user's groups).

use entity::users::Model as User;
use serde_json::{Map, Value, json};

/// The claims `scopes` release about `user`. `sub` is always included.
pub fn for_scopes(user: &User, groups: &[String], scopes: &[&str]) -> Map<String, Value> {
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
    if scopes.contains(&"groups") {
        c.insert("groups".into(), json!(groups));
    }
    c
}
