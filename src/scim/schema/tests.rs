use super::*;

#[test]
fn attributes_resolve_case_insensitively_with_and_without_urn() {
    let (urn, a) = ResourceKind::User.find(None, "USERNAME").unwrap();
    assert_eq!((urn, a.name), (Some(USER_URN), "userName"));
    let (urn, a) = ResourceKind::User.find(None, "department").unwrap();
    assert_eq!((urn, a.name), (Some(ENTERPRISE_URN), "department"));
    let (urn, a) = ResourceKind::User.find(Some(&ENTERPRISE_URN.to_lowercase()), "Manager").unwrap();
    assert_eq!((urn, a.name), (Some(ENTERPRISE_URN), "manager"));
    assert!(ResourceKind::User.find(Some(USER_URN), "department").is_none());
    assert!(ResourceKind::Group.find(None, "department").is_none());
    assert_eq!(ResourceKind::Group.find(None, "externalid").unwrap().1.name, "externalId");
    assert_eq!(ResourceKind::User.find(None, "emails").unwrap().1.sub_attribute("VALUE").unwrap().name, "value");
}

#[test]
fn every_stored_attribute_names_a_column_once() {
    let mut cols: Vec<&str> = USER_ATTRIBUTES
        .iter()
        .chain(ENTERPRISE_ATTRIBUTES)
        .flat_map(|a| std::iter::once(a).chain(if a.storage == Storage::Nested { a.sub } else { &[] }))
        .filter_map(|a| match a.storage {
            Storage::Column(c) => Some(c),
            _ => None,
        })
        .collect();
    let n = cols.len();
    cols.sort_unstable();
    cols.dedup();
    assert_eq!(cols.len(), n);
}

#[test]
fn the_store_reads_and_writes_every_text_column_the_schema_names() {
    let mut from_schema: Vec<&str> = std::iter::once(&EXTERNAL_ID)
        .chain(USER_ATTRIBUTES)
        .chain(ENTERPRISE_ATTRIBUTES)
        .flat_map(|a| std::iter::once(a).chain(if a.storage == Storage::Nested { a.sub } else { &[] }))
        .filter(|a| a.ty != Type::Boolean)
        .filter_map(|a| match a.storage {
            Storage::Column(c) => Some(c),
            _ => None,
        })
        .collect();
    let mut stored = crate::store::scim::user_text_column_names();
    from_schema.sort_unstable();
    stored.sort_unstable();
    assert_eq!(from_schema, stored);
}

#[test]
fn the_store_keeps_side_table_rows_for_exactly_the_multi_valued_attributes() {
    let multi: Vec<&str> =
        USER_ATTRIBUTES.iter().filter(|a| matches!(a.storage, Storage::MultiValues)).map(|a| a.name).collect();
    assert_eq!(multi, crate::store::scim::MULTI_VALUED_ATTRIBUTES);
}
