//! SCIM 2.0 over real HTTP (RFC 7643/7644): authentication, the Users and
//! Groups lifecycles, filters as SQL, pagination, projection, ETags, PATCH
//! (with the Entra ID and Okta quirks), errors and isolation. Runs on
//! SQLite and, in CI, PostgreSQL.

use crate::helpers::{TestApp, spawn_app};
use gatehouse::crypto::{MasterKey, SecretHasher};
use reqwest::Method;
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

pub struct Scim {
    pub app: TestApp,
    pub token: String,
}

/// Stores a SCIM token the way `gatehouse scim-token create` does.
pub async fn add_token(app: &TestApp, name: &str) -> String {
    store_token(&app.database, &app.db, name).await
}

/// The same for a server this process did not start (the real binary).
pub async fn store_token(
    database: &crate::helpers::TestDatabase,
    db: &sea_orm::DatabaseConnection,
    name: &str,
) -> String {
    let (master, _) = MasterKey::load_or_generate(None, &database.dir()).unwrap();
    let token = format!("gh_scim_test_{}", uuid::Uuid::new_v4().simple());
    let row = entity::scim_tokens::Model {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        token_hash: SecretHasher::new(&master).hash(&token),
        created_at: chrono::Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    gatehouse::store::scim::tokens::insert_token(db, row).await.unwrap();
    token
}

impl Scim {
    pub async fn start() -> Self {
        let app = spawn_app().await;
        let token = add_token(&app, "entra").await;
        Self { app, token }
    }

    /// A server started with extra settings.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        let app = crate::helpers::spawn_app_with(env).await;
        let token = add_token(&app, "entra").await;
        Self { app, token }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req =
            self.app.client.request(method, self.app.url(&format!("/scim/v2{path}"))).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        req.send().await.unwrap()
    }

    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let res = self.call(method.clone(), path, body).await;
        let got = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() }
    }

    /// Expects a SCIM error; returns its scimType (or "").
    pub async fn err(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> String {
        let res = self.call(method.clone(), path, body).await;
        assert_eq!(res.headers()["content-type"], "application/scim+json");
        let got = res.status().as_u16();
        let v: Value = res.json().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {v}");
        assert_eq!(v["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]));
        assert_eq!(v["status"], json!(status.to_string()));
        assert!(v["detail"].is_string());
        v["scimType"].as_str().unwrap_or("").to_owned()
    }

    pub async fn create_user(&self, body: Value) -> Value {
        self.ok(Method::POST, "/Users", Some(body), 201).await
    }

    pub async fn list(&self, query: &str) -> Value {
        self.ok(Method::GET, &format!("/Users?{query}"), None, 200).await
    }

    pub async fn patch(&self, path: &str, ops: Value) -> reqwest::Response {
        self.call(Method::PATCH, path, Some(json!({"schemas": [PATCH], "Operations": ops}))).await
    }
}

pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub fn user_names(list: &Value) -> Vec<String> {
    let mut v: Vec<String> =
        list["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

fn barbara() -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "userName": "bjensen@example.com",
        "externalId": "AbC-123",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "active": true,
        "password": "correct horse battery staple 42",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "country": "US"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
        ENTERPRISE: {"employeeNumber": "701984", "department": "Tour Operations"}
    })
}

#[actix_web::test]
async fn a_user_lives_and_dies_over_scim() {
    let s = Scim::start().await;
    let res = s.call(Method::POST, "/Users", Some(barbara())).await;
    assert_eq!(res.status(), 201);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let u: Value = res.json().await.unwrap();
    let id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(etag, "W/\"1\"");
    // Locations are built from the issuer, not from the Host header.
    assert_eq!(location, format!("http://127.0.0.1:8080/scim/v2/Users/{id}"));
    assert_eq!(u["meta"]["location"], json!(location));
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["meta"]["version"], json!(etag));
    assert_eq!(u["schemas"], json!([USER, ENTERPRISE]));
    assert_eq!(u["userName"], "bjensen@example.com");
    assert_eq!(u["externalId"], "AbC-123");
    assert_eq!(u["name"]["givenName"], "Barbara");
    assert_eq!(u["emails"][0], json!({"value": "bjensen@example.com", "type": "work", "primary": true}));
    assert_eq!(u["emails"][1], json!({"value": "babs@jensen.org", "type": "home", "primary": false}));
    assert_eq!(u["addresses"][0]["locality"], "Hollywood");
    assert_eq!(u[ENTERPRISE]["department"], "Tour Operations");
    assert!(u.get("password").is_none(), "password is write-only");
    let text = u.to_string();
    assert!(!text.contains("correct horse"), "{text}");

    // The password was hashed with argon2id; the primary email mirrored for login.
    let row = gatehouse::store::users::find_by_id(&s.app.db, &id).await.unwrap().unwrap();
    assert!(row.password_hash.as_deref().unwrap().starts_with("$argon2id$"));
    assert_eq!(row.email.as_deref(), Some("bjensen@example.com"));
    assert!(row.scim_managed);

    // GET, conditional GET.
    let got = s.ok(Method::GET, &format!("/Users/{id}"), None, 200).await;
    assert_eq!(got, u);
    let res = s
        .app
        .client
        .get(s.app.url(&format!("/scim/v2/Users/{id}")))
        .bearer_auth(&s.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // PUT replaces: what is absent is cleared.
    let mut put = barbara();
    put["name"] = json!({"givenName": "Barb"});
    put.as_object_mut().unwrap().remove("addresses");
    put.as_object_mut().unwrap().remove("password");
    put["active"] = json!(false);
    let res = s.call(Method::PUT, &format!("/Users/{id}"), Some(put)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "W/\"2\"");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["name"], json!({"givenName": "Barb"}));
    assert!(v.get("addresses").is_none());
    assert_eq!(v["active"], false);
    let row2 = gatehouse::store::users::find_by_id(&s.app.db, &id).await.unwrap().unwrap();
    assert_eq!(row2.password_hash, row.password_hash, "PUT without password keeps it");
    assert!(!row2.active, "active=false disables the account");

    // If-Match: stale version → 412, current → applied.
    let put_if = |tag: &str| {
        s.app
            .client
            .put(s.app.url(&format!("/scim/v2/Users/{id}")))
            .bearer_auth(&s.token)
            .header("content-type", "application/scim+json")
            .header("if-match", tag.to_owned())
            .body(json!({"userName": "bjensen@example.com", "name": {"givenName": "B"}}).to_string())
    };
    assert_eq!(put_if("W/\"1\"").send().await.unwrap().status(), 412);
    assert_eq!(put_if("W/\"2\"").send().await.unwrap().status(), 200);

    // DELETE, then it is gone.
    assert_eq!(s.call(Method::DELETE, &format!("/Users/{id}"), None).await.status(), 204);
    s.err(Method::GET, &format!("/Users/{id}"), None, 404).await;
    s.err(Method::DELETE, &format!("/Users/{id}"), None, 404).await;

    // Every write is an audit event naming the token.
    let actions: Vec<(String, String)> = s
        .app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            s.app.db.get_database_backend(),
            "SELECT actor, action FROM audit_events WHERE action LIKE 'scim.%' ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get::<String>("", "actor").unwrap(), r.try_get::<String>("", "action").unwrap()))
        .collect();
    // The audit actor batches; give it a moment.
    let expected = ["scim.user.created", "scim.user.replaced", "scim.user.replaced", "scim.user.deleted"];
    if actions.len() < expected.len() {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    let actions: Vec<(String, String)> = s
        .app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            s.app.db.get_database_backend(),
            "SELECT actor, action FROM audit_events WHERE action LIKE 'scim.%' ORDER BY id",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get::<String>("", "actor").unwrap(), r.try_get::<String>("", "action").unwrap()))
        .collect();
    assert_eq!(actions.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(), expected);
    assert!(actions.iter().all(|(actor, _)| actor == "scim:entra"));
}

pub async fn seed(s: &Scim) -> Vec<String> {
    let people = [
        ("alice", "Alice", "Smith", "alice@example.com", "work", "Engineering", "EXT-1", true),
        ("Bob", "Bob", "Smithers", "bob@EXAMPLE.org", "home", "Sales", "ext-2", true),
        ("carol", "Carol", "Jones", "carol@example.com", "home", "Engineering", "EXT-3", false),
        ("dave", "Dave", "Brown", "dave@corp.example.com", "work", "Support", "EXT-4", true),
    ];
    let mut ids = Vec::new();
    for (user, given, family, email, kind, dept, ext, active) in people {
        let u = s
            .create_user(json!({
                "schemas": [USER],
                "userName": user,
                "externalId": ext,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"value": email, "type": kind, "primary": true}],
                "active": active,
                ENTERPRISE: {"department": dept},
            }))
            .await;
        ids.push(u["id"].as_str().unwrap().to_owned());
    }
    ids
}

#[actix_web::test]
async fn filters_run_in_the_database() {
    let s = Scim::start().await;
    seed(&s).await;
    let cases: &[(&str, &[&str])] = &[
        (r#"userName eq "ALICE""#, &["alice"]),
        (r#"userName eq "bob""#, &["Bob"]),
        (r#"userName ne "alice""#, &["Bob", "carol", "dave"]),
        (r#"userName sw "c""#, &["carol"]),
        (r#"userName ew "E""#, &["alice", "dave"]),
        (r#"userName co "o""#, &["Bob", "carol"]),
        (r#"name.familyName sw "smith""#, &["Bob", "alice"]),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "carol""#, &["carol"]),
        (r#"emails co "example.com""#, &["alice", "carol", "dave"]),
        (r#"emails.value ew "@example.org""#, &["Bob"]),
        (r#"emails[type eq "work" and value co "example.com"]"#, &["alice", "dave"]),
        (r#"emails[type eq "home"] and active eq true"#, &["Bob"]),
        (r#"emails[type eq "work" and value co "@example.org"]"#, &[]),
        (r#"not (emails[type eq "work"])"#, &["Bob", "carol"]),
        (r#"active eq false"#, &["carol"]),
        (r#"not (active eq false) and not (userName eq "dave")"#, &["Bob", "alice"]),
        (r#"externalId eq "ext-1""#, &[]),
        (r#"externalId eq "EXT-1""#, &["alice"]),
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering""#,
            &["alice", "carol"],
        ),
        (r#"department eq "Sales" or userName eq "dave""#, &["Bob", "dave"]),
        (r#"title pr"#, &[]),
        (r#"name pr and emails pr"#, &["Bob", "alice", "carol", "dave"]),
        (r#"title eq null"#, &["Bob", "alice", "carol", "dave"]),
        (r#"meta.created gt "2000-01-01T00:00:00Z""#, &["Bob", "alice", "carol", "dave"]),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, &[]),
        (r#"userName gt "bob" and userName lt "dave""#, &["carol"]),
    ];
    for (filter, want) in cases {
        let list = s.list(&format!("filter={}", enc(filter))).await;
        assert_eq!(user_names(&list), *want, "{filter}");
        assert_eq!(list["totalResults"], json!(want.len()), "{filter}");
    }
    // An empty match is a normal, empty list.
    let none = s.list(&format!("filter={}", enc(r#"userName eq "nobody""#))).await;
    assert_eq!(none["totalResults"], 0);
    assert_eq!(none["Resources"], json!([]));
    assert_eq!(none["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
}

#[actix_web::test]
async fn lists_page_sort_and_project() {
    let s = Scim::start().await;
    seed(&s).await;
    let all = s.list("sortBy=userName").await;
    let names: Vec<&str> =
        all["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "Bob", "carol", "dave"], "case-insensitive order");
    let desc = s.list("sortBy=name.familyName&sortOrder=descending").await;
    let fam: Vec<&str> =
        desc["Resources"].as_array().unwrap().iter().map(|r| r["name"]["familyName"].as_str().unwrap()).collect();
    assert_eq!(fam, ["Smithers", "Smith", "Jones", "Brown"]);

    let page = s.list("sortBy=userName&startIndex=2&count=2").await;
    assert_eq!(page["totalResults"], 4);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    let names: Vec<&str> =
        page["Resources"].as_array().unwrap().iter().map(|r| r["userName"].as_str().unwrap()).collect();
    assert_eq!(names, ["Bob", "carol"]);
    let zero = s.list("count=0").await;
    assert_eq!((zero["totalResults"].clone(), zero["Resources"].clone()), (json!(4), json!([])));
    let low = s.list("startIndex=-5&count=1").await;
    assert_eq!(low["startIndex"], 1, "startIndex below 1 means 1");
    let past = s.list("startIndex=99").await;
    assert_eq!((past["totalResults"].clone(), past["Resources"].clone()), (json!(4), json!([])));

    let p = s.list(&format!("filter={}&attributes=userName,name.givenName", enc(r#"userName eq "alice""#))).await;
    let r = &p["Resources"][0];
    let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);
    assert_eq!(r["name"], json!({"givenName": "Alice"}));
    let p = s.list(&format!("filter={}&excludedAttributes=emails,meta,id", enc(r#"userName eq "alice""#))).await;
    let r = &p["Resources"][0];
    assert!(r.get("emails").is_none() && r.get("meta").is_none());
    assert!(r.get("id").is_some(), "id is returned always");
    let p = s.list(&format!("attributes={}", enc(&format!("{ENTERPRISE}:department")))).await;
    assert!(p["Resources"].as_array().unwrap().iter().all(|r| r[ENTERPRISE]["department"].is_string()));

    // .search takes the same query as a body.
    let found = s
        .ok(
            Method::POST,
            "/Users/.search",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "department eq \"Engineering\"",
                "attributes": ["userName"],
                "sortBy": "userName",
                "startIndex": 1,
                "count": 10
            })),
            200,
        )
        .await;
    assert_eq!(user_names(&found), ["alice", "carol"]);
    assert!(found["Resources"][0].get("emails").is_none());
}

#[actix_web::test]
async fn bad_requests_get_the_right_scim_type() {
    let s = Scim::start().await;
    let id = s.create_user(barbara()).await["id"].as_str().unwrap().to_owned();
    let u = |p: &str| format!("/Users{p}");

    for filter in [
        r#"userName eq"#,
        r#"userName xx "a""#,
        r#"((userName eq "a")"#,
        r#"nope eq "a""#,
        r#"active eq "yes""#,
        r#"meta.created gt "yesterday""#,
        r#"emails[nope eq "a"]"#,
        r#"password eq "x""#,
        r#"name eq "x""#,
    ] {
        let t = s.err(Method::GET, &u(&format!("?filter={}", enc(filter))), None, 400).await;
        assert_eq!(t, "invalidFilter", "{filter}");
    }
    // A 10 000-deep parenthesis bomb is refused quickly, not a stack overflow.
    let bomb = format!("{}userName eq \"a\"{}", "(".repeat(10_000), ")".repeat(10_000));
    let t = s.err(Method::POST, "/Users/.search", Some(json!({"filter": bomb})), 400).await;
    assert_eq!(t, "invalidFilter");

    let mut dup = barbara();
    dup["userName"] = json!("BJENSEN@example.com");
    assert_eq!(s.err(Method::POST, &u(""), Some(dup), 409).await, "uniqueness");
    for (body, want) in [
        (json!({"userName": "x", "favouriteColour": "blue"}), "invalidSyntax"),
        (json!({"userName": 42}), "invalidValue"),
        (json!({"displayName": "no user name"}), "invalidValue"),
        (json!({"userName": "x", "active": "maybe"}), "invalidValue"),
        (json!({"userName": "x", "emails": "a@b"}), "invalidValue"),
        (
            json!({"userName": "x", "emails": [{"value": "a@b", "primary": true}, {"value": "c@d", "primary": true}]}),
            "invalidValue",
        ),
        (json!({"userName": "x", "name": {"nickName": "x"}}), "invalidSyntax"),
        (json!({"userName": "x", "schemas": ["urn:example:unknown"]}), "invalidValue"),
        (json!({"userName": "x", "password": "short"}), "invalidValue"),
        (json!({"userName": "x", "emails": [{"value": "not an email"}]}), "invalidValue"),
        (json!(["not", "an", "object"]), "invalidSyntax"),
    ] {
        assert_eq!(s.err(Method::POST, &u(""), Some(body.clone()), 400).await, want, "{body}");
    }
    let res = s
        .app
        .client
        .post(s.app.url("/scim/v2/Users"))
        .bearer_auth(&s.token)
        .header("content-type", "text/plain")
        .body(barbara().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let res = s
        .app
        .client
        .post(s.app.url("/scim/v2/Users"))
        .bearer_auth(&s.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let p = |ops: Value| Some(json!({"schemas": [PATCH], "Operations": ops}));
    let target = u(&format!("/{id}"));
    for (ops, want) in [
        (json!([{"op": "replace", "path": "id", "value": "x"}]), "mutability"),
        (json!([{"op": "replace", "path": "meta.created", "value": "x"}]), "mutability"),
        (json!([{"op": "add", "path": "groups", "value": [{"value": "x"}]}]), "mutability"),
        (json!([{"op": "replace", "path": "favouriteColour", "value": "x"}]), "invalidPath"),
        (json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]), "invalidPath"),
        (json!([{"op": "replace", "path": "name.nope", "value": "x"}]), "invalidPath"),
        (json!([{"op": "replace", "path": "title[value eq \"x\"]", "value": "x"}]), "invalidPath"),
        (json!([{"op": "remove", "path": "emails[type eq \"fax\"]"}]), "noTarget"),
        (json!([{"op": "replace", "path": "emails[value co \"nothing\"].type", "value": "x"}]), "noTarget"),
        (json!([{"op": "remove"}]), "noTarget"),
        (json!([{"op": "move", "path": "title"}]), "invalidSyntax"),
        (json!([{"op": "replace", "path": "active", "value": "perhaps"}]), "invalidValue"),
        (json!([{"op": "replace", "path": "userName", "value": ""}]), "invalidValue"),
        (json!([]), "invalidSyntax"),
    ] {
        assert_eq!(s.err(Method::PATCH, &target, p(ops.clone()), 400).await, want, "{ops}");
    }
    let t = s.err(Method::PATCH, &target, Some(json!({"schemas": ["urn:x"], "Operations": []})), 400).await;
    assert_eq!(t, "invalidSyntax");
    // Nothing above changed the user.
    let after = s.ok(Method::GET, &target, None, 200).await;
    assert_eq!(after["meta"]["version"], "W/\"1\"");

    s.err(Method::GET, "/Users/not-a-user", None, 404).await;
    s.err(Method::GET, "/Nope", None, 404).await;
    assert_eq!(s.err(Method::POST, "/Bulk", Some(json!({})), 501).await, "");
    assert_eq!(s.err(Method::GET, "/Me", None, 501).await, "");
}

#[actix_web::test]
async fn patch_handles_the_rfc_and_provider_dialects() {
    let s = Scim::start().await;
    let id = s.create_user(barbara()).await["id"].as_str().unwrap().to_owned();
    let path = format!("/Users/{id}");
    let patch_ok = |ops: Value| {
        let s = &s;
        let path = path.clone();
        async move {
            let res = s.patch(&path, ops).await;
            let status = res.status();
            let v: Value = res.json().await.unwrap();
            assert_eq!(status, 200, "{v}");
            v
        }
    };

    // RFC 7644 §3.5.2: add/replace/remove with and without paths and filters.
    let v =
        patch_ok(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"}]))
            .await;
    assert_eq!(v["emails"][0]["value"], "barbara@example.com");
    assert_eq!(v["emails"][1]["value"], "babs@jensen.org", "only the matching value changed");
    let v =
        patch_ok(json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"}]))
            .await;
    assert_eq!(v["addresses"][0]["streetAddress"], "1 Main St");
    assert_eq!(v["addresses"][0]["locality"], "Hollywood");
    let v = patch_ok(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).await;
    assert_eq!(v["emails"].as_array().unwrap().len(), 1);
    let v = patch_ok(json!([{"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "other", "primary": true}]}])).await;
    let emails = v["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails.iter().filter(|e| e["primary"] == true).count(), 1, "a new primary demotes the old");
    let row = gatehouse::store::users::find_by_id(&s.app.db, &id).await.unwrap().unwrap();
    assert_eq!(row.email.as_deref(), Some("new@example.com"), "the login email follows the primary");
    let v =
        patch_ok(json!([{"op": "add", "path": "name.middleName", "value": "Jane"}, {"op": "remove", "path": "title"}]))
            .await;
    assert_eq!(v["name"]["middleName"], "Jane");
    assert!(v.get("title").is_none());
    let v = patch_ok(json!([{"op": "replace", "value": {"nickName": "Babs", "name": {"familyName": "Jensen-Smith"}}}]))
        .await;
    assert_eq!(
        (v["nickName"].clone(), v["name"]["familyName"].clone(), v["name"]["givenName"].clone()),
        (json!("Babs"), json!("Jensen-Smith"), json!("Barbara")),
        "complex replace merges"
    );

    // Entra ID: capitalised ops, string booleans, dotted and URN keys, add through an eq filter.
    let v = patch_ok(json!([
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Replace", "value": {
            "name.givenName": "Barbie",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Marketing",
            "urn:ietf:params:scim:schemas:core:2.0:User:title": "Director"
        }},
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
        {"op": "Add", "value": {ENTERPRISE: {"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}}},
    ]))
    .await;
    assert_eq!(v["active"], false);
    assert_eq!(v["name"]["givenName"], "Barbie");
    assert_eq!(v[ENTERPRISE]["department"], "Marketing");
    assert_eq!(v[ENTERPRISE]["employeeNumber"], "701984", "other extension values kept");
    assert_eq!(v[ENTERPRISE]["manager"]["value"], "26118915-6090-4610-87e4-49d8ca9f808d");
    assert_eq!(v["title"], "Director");
    let phones = v["phoneNumbers"].as_array().unwrap();
    assert!(phones.contains(&json!({"value": "+1 555 0100", "type": "mobile", "primary": false})), "{phones:?}");

    // Okta: a path-less replace of active.
    let v = patch_ok(json!([{"op": "replace", "value": {"active": true}}])).await;
    assert_eq!(v["active"], true);

    // Password through PATCH: policy applies, hash changes, never echoed.
    let before = gatehouse::store::users::find_by_id(&s.app.db, &id).await.unwrap().unwrap().password_hash;
    let t = s
        .err(
            Method::PATCH,
            &path,
            Some(
                json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "password", "value": "password"}]}),
            ),
            400,
        )
        .await;
    assert_eq!(t, "invalidValue");
    let v = patch_ok(json!([{"op": "replace", "path": "password", "value": "a much better passphrase 7"}])).await;
    assert!(!v.to_string().contains("passphrase"));
    let after = gatehouse::store::users::find_by_id(&s.app.db, &id).await.unwrap().unwrap().password_hash;
    assert_ne!(before, after);
}

#[actix_web::test]
async fn discovery_describes_what_is_implemented() {
    let s = Scim::start().await;
    let spc = s.ok(Method::GET, "/ServiceProviderConfig", None, 200).await;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], 1000);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["sort"]["supported"], true);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");

    // Known paths answer other methods with 405 and what they allow.
    let res = s.call(Method::DELETE, "/ServiceProviderConfig", None).await;
    assert_eq!((res.status().as_u16(), res.headers()["allow"].to_str().unwrap()), (405, "GET"));
    let res = s.call(Method::PUT, "/Users", Some(json!({}))).await;
    assert_eq!((res.status().as_u16(), res.headers()["allow"].to_str().unwrap()), (405, "GET, POST"));
    s.err(Method::POST, "/Schemas", Some(json!({})), 405).await;
    // Searching across resource types is not offered (RFC 7644 §3.12: 501).
    s.err(Method::POST, "/.search", Some(json!({})), 501).await;

    let types = s.ok(Method::GET, "/ResourceTypes", None, 200).await;
    assert_eq!(types["totalResults"], 2);
    let user = s.ok(Method::GET, "/ResourceTypes/User", None, 200).await;
    assert_eq!(user["schemaExtensions"][0]["schema"], ENTERPRISE);
    s.err(Method::GET, "/ResourceTypes/Printer", None, 404).await;

    let schemas = s.ok(Method::GET, "/Schemas", None, 200).await;
    assert_eq!(schemas["totalResults"], 3);
    let core = s.ok(Method::GET, &format!("/Schemas/{USER}"), None, 200).await;
    let attrs = core["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!((user_name["uniqueness"].clone(), user_name["caseExact"].clone()), (json!("server"), json!(false)));
    let password = attrs.iter().find(|a| a["name"] == "password").unwrap();
    assert_eq!((password["mutability"].clone(), password["returned"].clone()), (json!("writeOnly"), json!("never")));
    let emails = attrs.iter().find(|a| a["name"] == "emails").unwrap();
    assert_eq!(emails["multiValued"], true);
    assert!(attrs.iter().all(|a| a["name"] != "x509Certificates"), "only what is implemented");
    let ent = s.ok(Method::GET, &format!("/Schemas/{ENTERPRISE}"), None, 200).await;
    let names: Vec<&str> = ent["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"manager") && names.contains(&"employeeNumber") && names.contains(&"department"));
}
