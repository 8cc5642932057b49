use super::*;
use crate::scim::filter::{Limits, parse_filter};
use sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

fn sql(kind: ResourceKind, filter: &str, backend: DbBackend) -> Result<String, ScimError> {
    let f = parse_filter(filter, &Limits::default()).unwrap();
    let cond = condition(kind, &f, backend)?;
    let q = Query::select().expr(Expr::val(1)).from(Alias::new(table(kind))).and_where(cond).to_owned();
    Ok(match backend {
        DbBackend::Postgres => q.to_string(PostgresQueryBuilder),
        _ => q.to_string(SqliteQueryBuilder),
    })
}

fn user(filter: &str) -> String {
    sql(ResourceKind::User, filter, DbBackend::Postgres).unwrap()
}

fn refused(kind: ResourceKind, filter: &str) -> String {
    match sql(kind, filter, DbBackend::Sqlite) {
        Err(ScimError::Bad { scim_type: ScimType::InvalidFilter, detail }) => detail,
        other => panic!("{filter}: {other:?}"),
    }
}

#[test]
fn user_name_equality_is_a_lookup_on_the_indexed_lower_cased_column() {
    let s = user(r#"USERNAME eq "Alice@Example.COM""#);
    assert!(s.contains(r#""users"."username_normalized" = 'alice@example.com'"#), "{s}");
    assert!(!s.contains("LOWER"), "no function on the indexed column: {s}");
}

#[test]
fn case_exact_attributes_compare_as_given() {
    let s = user(r#"externalId eq "AbC""#);
    assert!(s.contains(r#""users"."external_id" = 'AbC'"#), "{s}");
    let s = user(r#"title eq "Boss""#);
    assert!(s.contains(r#"LOWER("users"."title") = LOWER('Boss')"#), "{s}");
}

#[test]
fn a_value_path_is_one_exists_over_one_element() {
    let s = user(r#"emails[type eq "work" and value co "@example.com"]"#);
    assert_eq!(s.matches("EXISTS").count(), 1, "{s}");
    assert!(s.contains(r#""user_multi_values"."attribute" = 'emails'"#), "{s}");
    assert!(s.contains(r#"strpos("user_multi_values"."value_ci", '@example.com') > 0"#), "{s}");
    let lite = sql(ResourceKind::User, r#"emails co "X""#, DbBackend::Sqlite).unwrap();
    assert!(lite.contains(r#"instr("user_multi_values"."value_ci", 'x') > 0"#), "{lite}");
}

#[test]
fn comparisons_are_two_valued_so_not_includes_missing_values() {
    let s = user(r#"not (title eq "x")"#);
    assert!(s.contains(r#"NOT (LOWER("users"."title") = LOWER('x') AND "users"."title" IS NOT NULL)"#), "{s}");
    let s = user(r#"title ne "x""#);
    assert!(s.contains(r#"NOT (LOWER("users"."title") = LOWER('x') AND "users"."title" IS NOT NULL)"#), "{s}");
}

#[test]
fn memberships_are_exists_over_the_link_table() {
    let s = sql(ResourceKind::Group, r#"members.value eq "u1" and displayName sw "eng""#, DbBackend::Postgres).unwrap();
    assert!(s.contains(r#""group_members"."group_id" = "groups"."id""#), "{s}");
    assert!(s.contains(r#""group_members"."user_id" IN ('u1')"#), "{s}");
    let s = user(r#"groups[value eq "g1" or value eq "g2"]"#);
    assert!(s.contains(r#""group_members"."group_id" IN ('g1', 'g2')"#), "{s}");
}

#[test]
fn dates_compare_as_instants() {
    let s = sql(ResourceKind::User, r#"meta.lastModified gt "2026-01-01T00:00:00+02:00""#, DbBackend::Sqlite).unwrap();
    assert!(s.contains(r#"julianday("users"."updated_at") > julianday("#), "{s}");
}

#[test]
fn meaningless_filters_are_refused() {
    use ResourceKind::{Group, User};
    for (kind, f, why) in [
        (User, r#"nope eq "x""#, "no attribute"),
        (User, r#"active eq "true""#, "boolean"),
        (User, r#"active co true"#, "eq and ne"),
        (User, r#"userName eq 42"#, "string"),
        (User, r#"meta.created gt "last tuesday""#, "RFC 3339"),
        (User, r#"meta.created co "2026""#, "supports"),
        (User, r#"name eq "x""#, "complex"),
        (User, r#"password eq "x""#, "cannot be filtered"),
        (User, r#"meta.location eq "x""#, "cannot be filtered"),
        (User, r#"emails[nope eq "x"]"#, "no attribute"),
        (User, r#"emails[urn:x:value eq "x"]"#, "sub-attribute only"),
        (User, r#"title[value eq "x"]"#, "not multi-valued"),
        (User, r#"userName gt null"#, "null"),
        (Group, r#"members[display eq "x"]"#, "value eq"),
        (Group, r#"members.display eq "x""#, "by value only"),
        (Group, r#"department eq "x""#, "no attribute"),
    ] {
        let detail = refused(kind, f);
        assert!(detail.contains(why), "{f}: {detail}");
    }
}

#[test]
fn sorting_uses_columns_and_the_primary_email() {
    let p = |s: &str| crate::scim::filter::parse_attr_path(s).unwrap();
    assert!(sort_column(ResourceKind::User, &p("userName")).is_ok());
    assert!(sort_column(ResourceKind::User, &p("name.familyName")).is_ok());
    assert!(sort_column(ResourceKind::User, &p("emails")).is_ok());
    assert!(sort_column(ResourceKind::User, &p("meta.lastModified")).is_ok());
    assert!(sort_column(ResourceKind::User, &p("meta.location")).is_err());
    assert!(sort_column(ResourceKind::User, &p("phoneNumbers")).is_err());
    assert!(sort_column(ResourceKind::Group, &p("displayName")).is_ok());
}
