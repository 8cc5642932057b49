use super::*;
use proptest::prelude::*;

fn parse(s: &str) -> Result<Filter, FilterError> {
    parse_filter(s, &Limits::default())
}

fn path(name: &str) -> AttrPath {
    AttrPath { urn: None, name: name.into(), sub: None }
}

fn sub_path(name: &str, sub: &str) -> AttrPath {
    AttrPath { urn: None, name: name.into(), sub: Some(sub.into()) }
}

fn cmp(path: AttrPath, op: CompareOp, value: &str) -> Filter {
    Filter::Compare { path, op, value: CompValue::String(value.into()) }
}

/// Every filter example of RFC 7644 §3.4.2.2, parsed and printed back.
#[test]
fn rfc_7644_examples() {
    let examples = [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"title pr"#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ];
    for e in examples {
        let f = parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
        assert_eq!(parse(&f.to_string()).unwrap(), f, "{e} -> {f}");
    }
}

#[test]
fn trees_have_the_rfc_precedence() {
    use Filter::*;
    let f = parse(r#"a eq "1" or b eq "2" and c eq "3""#).unwrap();
    assert_eq!(
        f,
        Or(
            Box::new(cmp(path("a"), CompareOp::Eq, "1")),
            Box::new(And(Box::new(cmp(path("b"), CompareOp::Eq, "2")), Box::new(cmp(path("c"), CompareOp::Eq, "3"))))
        )
    );
    let f = parse(r#"not (a pr) and b pr"#).unwrap();
    assert!(matches!(f, And(l, _) if matches!(*l, Not(_))));
    let f = parse(r#"a pr and b pr and c pr"#).unwrap();
    assert!(matches!(f, And(l, _) if matches!(*l, And(..))), "left-associative");
    let f = parse(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#).unwrap();
    let And(_, r) = f else { panic!() };
    let ValuePath { path: p, filter } = *r else { panic!() };
    assert_eq!(p, path("emails"));
    assert!(matches!(*filter, And(..)));
    let f = parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"").unwrap();
    let Compare { path: p, .. } = f else { panic!() };
    assert_eq!(p.urn.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
    assert_eq!((p.name.as_str(), p.sub.as_deref()), ("manager", Some("value")));
}

#[test]
fn keywords_operators_and_literals_are_case_insensitive() {
    let f = parse(r#"userName EQ "x" AND Title Pr OR NOT (active Eq TRUE)"#).unwrap();
    assert_eq!(f.to_string(), r#"userName eq "x" and Title pr or not (active eq true)"#);
    assert_eq!(
        parse("x eq NULL").unwrap(),
        Filter::Compare { path: path("x"), op: CompareOp::Eq, value: CompValue::Null }
    );
}

#[test]
fn literals() {
    let value = |s: &str| match parse(&format!("x eq {s}")).unwrap() {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(value("false"), CompValue::Bool(false));
    assert_eq!(value("-12"), CompValue::Number((-12).into()));
    assert_eq!(value("1.5e3"), CompValue::Number(serde_json::Number::from_f64(1500.0).unwrap()));
    assert_eq!(value(r#""a\"b\\c\u00e9\n""#), CompValue::String("a\"b\\cé\n".into()));
    assert_eq!(value(r#""\ud83d\ude00""#), CompValue::String("😀".into()));
    assert_eq!(value(r#""""#), CompValue::String(String::new()));
}

#[test]
fn names_with_dollar_ref_hyphens_and_keywords() {
    assert!(parse(r#"members.$ref eq "x""#).is_ok());
    assert!(parse("x-custom_attr2 pr").is_ok());
    assert!(parse(r#"not eq "x""#).is_ok(), "`not` as an attribute name");
    assert!(parse(r#"or pr and and pr"#).is_ok());
}

#[test]
fn malformed_filters_are_refused_with_a_position() {
    let cases: &[(&str, usize)] = &[
        ("", 0),
        ("userName", 8),
        ("userName eq", 11),
        (r#"userName eq "unterminated"#, 12),
        (r#"userName eq "bad \x escape""#, 12),
        ("userName eq bjensen", 12),
        (r#"userName xx "a""#, 9),
        (r#"userName eq "a" and"#, 19),
        (r#"userName eq "a" nand b pr"#, 16),
        (r#"(userName eq "a""#, 16),
        (r#"userName eq "a")"#, 15),
        (r#"emails[type eq "work""#, 21),
        (r#"emails[type[value pr]]"#, 11),
        (r#"emails.type[value pr]"#, 11),
        ("x eq 01", 6),
        ("x eq -", 5),
        ("x eq 1e999", 5),
        ("x eq 1.", 6),
        ("1x pr", 0),
        ("x..y pr", 2),
        ("x.y.z pr", 0),
        (r#"userName eq "a\u0000""#, 12),
        ("not x pr", 4),
        ("x pr extra", 5),
        ("x\u{00e9} pr", 1),
    ];
    let mut wrong = Vec::new();
    for (input, position) in cases {
        let err = parse(input).expect_err(input);
        if err.position != *position {
            wrong.push(format!("{input:?}: expected {position}, got {err}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Raw control characters are not allowed inside strings (JSON rules).
    assert!(parse("x eq \"a\u{1}b\"").is_err());
}

#[test]
fn limits_bound_length_depth_and_terms() {
    let limits = Limits::default();
    assert!(parse(&format!("x eq \"{}\"", "a".repeat(5000))).unwrap_err().message.contains("longer"));
    // A 10 000-deep parenthesis bomb fails fast at the depth limit.
    let bomb = format!("{}x pr{}", "(".repeat(10_000), ")".repeat(10_000));
    let err = parse_filter(&bomb, &Limits { max_len: 100_000, ..limits }).unwrap_err();
    assert!(err.message.contains("deeper"), "{err}");
    assert_eq!(err.position, 32);
    let nots = format!("{}x pr{}", "not (".repeat(5_000), ")".repeat(5_000));
    assert!(parse_filter(&nots, &Limits { max_len: 100_000, ..limits }).is_err());
    let ok_depth = format!("{}x pr{}", "(".repeat(31), ")".repeat(31));
    assert!(parse(&ok_depth).is_ok());
    let many = vec!["x pr"; 65].join(" or ");
    assert!(parse(&many).unwrap_err().message.contains("comparisons"));
    assert!(parse(&vec!["x pr"; 64].join(" and ")).is_ok());
}

#[test]
fn patch_paths() {
    let lim = Limits::default();
    let p = parse_patch_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#, &lim).unwrap();
    assert_eq!(p.attr, path("members"));
    assert!(p.filter.is_some() && p.sub.is_none());
    let p = parse_patch_path(r#"addresses[type eq "work"].streetAddress"#, &lim).unwrap();
    assert_eq!(p.sub.as_deref(), Some("streetAddress"));
    assert_eq!(p.to_string(), r#"addresses[type eq "work"].streetAddress"#);
    let p = parse_patch_path("name.familyName", &lim).unwrap();
    assert_eq!(p.attr, sub_path("name", "familyName"));
    let p =
        parse_patch_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", &lim).unwrap();
    assert_eq!(p.attr.name, "employeeNumber");
    for bad in ["", "members[", "members[value eq 1", "members]", "a b", "emails[type eq \"w\"].", "x[y[z pr]]"] {
        assert!(parse_patch_path(bad, &lim).is_err(), "{bad}");
    }
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        Just("$ref".to_owned()),
        Just("and".to_owned()),
        Just("not".to_owned()),
        Just("pr".to_owned()),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let urn = prop_oneof![
        Just(None),
        Just(Some("urn:ietf:params:scim:schemas:core:2.0:User".to_owned())),
        Just(Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned())),
    ];
    (urn, name(), proptest::option::of(name())).prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(CompValue::Number)),
        any::<String>().prop_map(|s| CompValue::String(s.replace('\0', ""))),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    use CompareOp::*;
    prop_oneof![Just(Eq), Just(Ne), Just(Co), Just(Sw), Just(Ew), Just(Gt), Just(Lt), Just(Ge), Just(Le)]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (attr_path(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        attr_path().prop_map(Filter::Present),
    ]
}

/// Filters without value paths (what may appear inside one).
fn val_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|x| Filter::Not(Box::new(x))),
        ]
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (attr_path().prop_map(|p| AttrPath { sub: None, ..p }), val_filter())
        .prop_map(|(path, f)| Filter::ValuePath { path, filter: Box::new(f) });
    prop_oneof![leaf(), value_path].prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            inner.prop_map(|x| Filter::Not(Box::new(x))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(f in filter()) {
        let printed = f.to_string();
        let limits = Limits { max_len: 1 << 20, max_terms: 1 << 10, ..Limits::default() };
        let parsed = parse_filter(&printed, &limits);
        prop_assert_eq!(parsed, Ok(f), "printed as {}", printed);
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s);
        let _ = parse_patch_path(&s, &Limits::default());
    }
}
