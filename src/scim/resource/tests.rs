use super::*;
use crate::scim::schema::ResourceKind::{Group, User};

fn scim_type(r: Result<Parsed, ScimError>) -> &'static str {
    match r {
        Err(e) => e.scim_type().map_or("", ScimType::as_str),
        Ok(p) => panic!("parsed: {p:?}"),
    }
}

#[test]
fn names_are_case_insensitive_and_read_only_values_are_ignored() {
    let p = parse(
        User,
        &json!({
            "SCHEMAS": [USER_URN],
            "USERNAME": "b",
            "Name": {"GivenName": "B"},
            "id": "chosen-by-client",
            "meta": {"version": "W/\"9\""},
            "groups": [{"value": "admins"}],
            "EMAILS": [{"VALUE": "b@x", "Primary": "true", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Manager": {"value": "m", "displayName": "ignored"}},
            "active": "False",
            "title": null
        }),
    )
    .unwrap();
    assert_eq!(p.name.as_deref(), Some("b"));
    assert_eq!(p.columns.get("given_name").map(String::as_str), Some("B"));
    assert_eq!(p.columns.get("manager_id").map(String::as_str), Some("m"));
    assert!(!p.columns.contains_key("title"));
    assert_eq!(p.active, Some(false));
    assert_eq!(p.multi.len(), 1);
    assert!(p.multi[0].primary);
    assert_eq!(p.multi[0].fields.get("type").map(String::as_str), Some("work"));
}

#[test]
fn wrong_shapes_and_unknown_attributes_are_refused() {
    assert_eq!(scim_type(parse(User, &json!({"userName": "b", "shoeSize": 42}))), "invalidSyntax");
    assert_eq!(
        scim_type(parse(User, &json!({"userName": "b", "emails": [{"value": "x", "label": "y"}]}))),
        "invalidSyntax"
    );
    assert_eq!(scim_type(parse(User, &json!({"userName": ["b"]}))), "invalidValue");
    assert_eq!(scim_type(parse(User, &json!({"userName": "   "}))), "invalidValue");
    assert_eq!(scim_type(parse(User, &json!({"userName": "b", "title": "x".repeat(MAX_STRING + 1)}))), "invalidValue");
    assert_eq!(scim_type(parse(User, &json!({"userName": "b", "title": "a\u{7}b"}))), "invalidValue");
    let many: Vec<Value> = (0..=MAX_VALUES).map(|i| json!({"value": format!("{i}@x")})).collect();
    assert_eq!(scim_type(parse(User, &json!({"userName": "b", "emails": many}))), "invalidValue");
    assert_eq!(
        scim_type(parse(Group, &json!({"displayName": "g", "members": [{"display": "no value"}]}))),
        "invalidValue"
    );
    assert_eq!(scim_type(parse(Group, &json!({"displayName": "g", "department": "x"}))), "invalidSyntax");
    assert_eq!(scim_type(parse(Group, &json!({"members": []}))), "invalidValue");
}

fn sample() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "id": "1",
        "userName": "b",
        "name": {"givenName": "B", "familyName": "J"},
        "emails": [{"value": "b@x", "type": "work"}],
        ENTERPRISE_URN: {"department": "D", "employeeNumber": "7"},
        "meta": {"resourceType": "User"}
    })
}

#[test]
fn attributes_keep_only_what_is_asked_plus_id() {
    let v = project(
        User,
        sample(),
        Some("name.familyName, emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
        None,
    )
    .unwrap();
    assert_eq!(
        v,
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "id": "1",
            "name": {"familyName": "J"},
            "emails": [{"value": "b@x"}],
            ENTERPRISE_URN: {"department": "D"}
        })
    );
    assert!(project(User, sample(), Some("shoeSize"), None).is_err());
}

#[test]
fn excluded_attributes_drop_all_but_always_returned_ones() {
    let v = project(User, sample(), None, Some("id,emails,name.givenName,meta,department")).unwrap();
    assert_eq!(
        v,
        json!({
            "schemas": [USER_URN, ENTERPRISE_URN],
            "id": "1",
            "userName": "b",
            "name": {"familyName": "J"},
            ENTERPRISE_URN: {"employeeNumber": "7"}
        })
    );
    assert!(mentions(Group, "displayName, MEMBERS", "members").unwrap());
    assert!(!mentions(Group, "displayName", "members").unwrap());
}
