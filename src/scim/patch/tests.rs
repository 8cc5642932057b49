use super::*;
use crate::scim::filter::parse_filter;
use crate::scim::schema::USER_ATTRIBUTES;
use serde_json::json;

fn ops(v: Value) -> Vec<Operation> {
    parse_request(&json!({"schemas": [PATCH_URN], "Operations": v})).unwrap()
}

fn user_doc() -> Value {
    json!({
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ]
    })
}

fn apply_user(v: Value) -> Result<Value, ScimError> {
    let mut doc = user_doc();
    let changes = apply(ResourceKind::User, &mut doc, ops(v))?;
    assert!(changes.is_empty());
    Ok(doc)
}

fn scim_type(r: Result<Value, ScimError>) -> &'static str {
    match r {
        Err(e) => e.scim_type().map_or("", ScimType::as_str),
        Ok(v) => panic!("applied: {v}"),
    }
}

#[test]
fn requests_are_checked_and_ops_are_case_insensitive() {
    let o = ops(json!([{"op": "Replace", "path": "title", "value": "x"}, {"OP": "ADD", "Value": {"a": 1}}]));
    assert_eq!((o[0].op, o[1].op), (Op::Replace, Op::Add));
    for bad in [
        json!({"Operations": [{"op": "copy", "path": "x"}]}),
        json!({"Operations": []}),
        json!({"Operations": {}}),
        json!({"schemas": ["urn:other"], "Operations": [{"op": "add", "value": {}}]}),
        json!({"Operations": [{"op": "add", "path": 7, "value": 1}]}),
        json!([1]),
    ] {
        assert!(parse_request(&bad).is_err(), "{bad}");
    }
    let many: Vec<Value> = (0..=MAX_OPERATIONS).map(|_| json!({"op": "remove", "path": "title"})).collect();
    let e = parse_request(&json!({"Operations": many})).unwrap_err();
    assert_eq!(e.scim_type(), Some(ScimType::TooMany));
}

#[test]
fn rfc_7644_examples_apply() {
    // §3.5.2.1: add an email.
    let d =
        apply_user(json!([{"op": "add", "path": "emails", "value": [{"value": "b@x.org", "type": "other"}]}])).unwrap();
    assert_eq!(d["emails"].as_array().unwrap().len(), 3);
    // §3.5.2.2: remove by value filter, and a sub-attribute of filtered values.
    let d =
        apply_user(json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}])).unwrap();
    assert_eq!(d["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
    let d = apply_user(json!([{"op": "remove", "path": "emails[type eq \"home\"].type"}])).unwrap();
    assert_eq!(d["emails"][1], json!({"value": "babs@jensen.org"}));
    // §3.5.2.3: replace a filtered value's sub-attribute, and a whole attribute.
    let d =
        apply_user(json!([{"op": "replace", "path": "emails[type eq \"WORK\"].value", "value": "new@x.org"}])).unwrap();
    assert_eq!(d["emails"][0]["value"], "new@x.org", "filter values compare case-insensitively");
    let d = apply_user(json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}])).unwrap();
    assert_eq!(d["name"], json!({"givenName": "Babs", "familyName": "Jensen"}), "complex replace keeps the rest");
    let d = apply_user(json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x.org"}]}])).unwrap();
    assert_eq!(d["emails"], json!([{"value": "only@x.org"}]));
}

#[test]
fn targets_that_do_not_exist_fail_as_the_rfc_says() {
    assert_eq!(scim_type(apply_user(json!([{"op": "remove", "path": "emails[type eq \"fax\"]"}]))), "noTarget");
    assert_eq!(
        scim_type(apply_user(json!([{"op": "replace", "path": "emails[value sw \"zz\"].type", "value": "x"}]))),
        "noTarget"
    );
    assert_eq!(scim_type(apply_user(json!([{"op": "remove"}]))), "noTarget");
    assert_eq!(scim_type(apply_user(json!([{"op": "add", "path": "nope", "value": 1}]))), "invalidPath");
    assert_eq!(scim_type(apply_user(json!([{"op": "add", "path": "name.givenName.x", "value": 1}]))), "invalidPath");
    assert_eq!(
        scim_type(apply_user(json!([{"op": "add", "path": "emails[type eq \"a\"].value.x", "value": 1}]))),
        "invalidPath"
    );
    assert_eq!(scim_type(apply_user(json!([{"op": "replace", "path": "id", "value": "x"}]))), "mutability");
    assert_eq!(scim_type(apply_user(json!([{"op": "replace", "path": "title"}]))), "invalidValue");
    assert_eq!(scim_type(apply_user(json!([{"op": "add", "value": "not an object"}]))), "invalidValue");
    // An eq-only filter that matches nothing describes the element to add (Entra ID).
    let d = apply_user(json!([{"op": "add", "path": "emails[type eq \"other\"].value", "value": "o@x.org"}])).unwrap();
    assert_eq!(d["emails"][2], json!({"type": "other", "value": "o@x.org"}));
}

#[test]
fn path_less_values_take_dotted_urn_and_extension_keys() {
    let d = apply_user(json!([{"op": "replace", "value": {
        "name.givenName": "B",
        "urn:ietf:params:scim:schemas:core:2.0:User:title": "T",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "D",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"},
        "active": "False"
    }}]))
    .unwrap();
    assert_eq!(d["name"]["givenName"], "B");
    assert_eq!(d["title"], "T");
    assert_eq!(d[ENTERPRISE_URN], json!({"department": "D", "employeeNumber": "7"}));
    assert_eq!(d["active"], "False", "coerced later, by the schema-aware parser");
}

#[test]
fn member_operations_fold_in_order() {
    let mut doc = json!({"displayName": "g"});
    let c = apply(
        ResourceKind::Group,
        &mut doc,
        ops(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"a\" or value eq \"c\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "d"}]},
            {"op": "add", "value": {"members": [{"value": "d"}]}}
        ])),
    )
    .unwrap();
    assert_eq!(
        c,
        MemberChanges { replace: None, add: vec!["b".into(), "d".into()], remove: vec!["a".into(), "c".into()] }
    );
    let c = apply(
        ResourceKind::Group,
        &mut doc,
        ops(json!([{"op": "remove", "path": "members"}, {"op": "add", "path": "members", "value": {"value": "z"}}])),
    )
    .unwrap();
    assert_eq!(c.replace, Some(vec!["z".to_owned()]));
    for bad in [
        json!([{"op": "remove", "path": "members[display eq \"x\"]"}]),
        json!([{"op": "replace", "path": "members[value eq \"x\"]", "value": []}]),
        json!([{"op": "replace", "path": "members.display", "value": "x"}]),
        json!([{"op": "add", "path": "members", "value": [{"value": "g", "type": "Group"}]}]),
        json!([{"op": "add", "path": "members", "value": "x"}]),
    ] {
        assert!(apply(ResourceKind::Group, &mut doc, ops(bad.clone())).is_err(), "{bad}");
    }
}

#[test]
fn value_filters_evaluate_like_the_sql_translation() {
    let emails = USER_ATTRIBUTES.iter().find(|a| a.name == "emails").unwrap();
    let elem = json!({"value": "Babs@Jensen.org", "type": "home", "primary": "True"});
    let elem = elem.as_object().unwrap();
    let m = |f: &str| matches(emails, &parse_filter(f, &Limits::default()).unwrap(), elem);
    for (f, want) in [
        (r#"value eq "babs@jensen.org""#, true),
        (r#"value co "JENSEN""#, true),
        (r#"value sw "babs" and type ne "work""#, true),
        (r#"display pr"#, false),
        (r#"display ne "x""#, true),
        (r#"display eq null"#, true),
        (r#"primary eq true"#, true),
        (r#"not (type eq "home") or value ew ".org""#, true),
        (r#"value gt "c""#, false),
    ] {
        assert_eq!(m(f).unwrap(), want, "{f}");
    }
    assert!(m(r#"nope eq "x""#).is_err());
    assert!(m(r#"primary eq "yes""#).is_err());
    assert!(m(r#"value eq true"#).is_err());
}
