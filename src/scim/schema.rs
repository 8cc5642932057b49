//! What Gatehouse supports of RFC 7643, as data: the filter translator, the
//! PATCH engine, the resource parser and the `/Schemas` endpoint all read
//! these tables, so what is advertised is what is implemented.

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Default,
    Never,
}

/// Where an attribute lives in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A column of the resource's table (or, for sub-attributes of a
    /// multi-valued attribute, of its side table).
    Column(&'static str),
    /// Compared through a lower-cased copy kept in another column.
    Normalized { column: &'static str, normalized: &'static str },
    /// A complex attribute whose sub-attributes say where they live.
    Nested,
    /// Multi-valued, one row per element in `user_multi_values`.
    MultiValues,
    /// Group membership (`group_members`): `members` of a group, `groups` of a user.
    Membership,
    /// Not stored (password is hashed; readOnly values computed on output).
    None,
}

#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub unique: bool,
    pub description: &'static str,
    pub canonical: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub: &'static [Attribute],
    pub storage: Storage,
}

const fn attr(name: &'static str, description: &'static str, storage: Storage) -> Attribute {
    Attribute {
        name,
        ty: Type::String,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        description,
        canonical: &[],
        reference_types: &[],
        sub: &[],
        storage,
    }
}

const fn col(name: &'static str, column: &'static str, description: &'static str) -> Attribute {
    attr(name, description, Storage::Column(column))
}

const TYPE_VALUES: &[&str] = &["work", "home", "other"];

const EMAIL_SUB: &[Attribute] = &[
    col("value", "value", "The email address."),
    col("display", "display", "A human-readable name."),
    Attribute { canonical: TYPE_VALUES, ..col("type", "type", "work, home or other.") },
    Attribute { ty: Type::Boolean, ..col("primary", "is_primary", "The preferred address; at most one.") },
];

const PHONE_SUB: &[Attribute] = &[
    col("value", "value", "The phone number."),
    col("display", "display", "A human-readable name."),
    Attribute {
        canonical: &["work", "home", "mobile", "fax", "pager", "other"],
        ..col("type", "type", "The kind of number.")
    },
    Attribute { ty: Type::Boolean, ..col("primary", "is_primary", "The preferred number; at most one.") },
];

const ADDRESS_SUB: &[Attribute] = &[
    col("formatted", "formatted", "The full mailing address."),
    col("streetAddress", "street_address", "Street, house number, etc."),
    col("locality", "locality", "City or locality."),
    col("region", "region", "State or region."),
    col("postalCode", "postal_code", "Zip or postal code."),
    col("country", "country", "ISO 3166-1 alpha-2 country code."),
    Attribute { canonical: TYPE_VALUES, ..col("type", "type", "work, home or other.") },
    Attribute { ty: Type::Boolean, ..col("primary", "is_primary", "The preferred address; at most one.") },
];

const NAME_SUB: &[Attribute] = &[
    col("formatted", "name_formatted", "The full name."),
    col("familyName", "family_name", "Family name."),
    col("givenName", "given_name", "Given name."),
    col("middleName", "middle_name", "Middle name(s)."),
    col("honorificPrefix", "honorific_prefix", "Title prefix, e.g. Ms."),
    col("honorificSuffix", "honorific_suffix", "Suffix, e.g. III."),
];

const fn multi(name: &'static str, description: &'static str, sub: &'static [Attribute]) -> Attribute {
    Attribute { multi: true, ty: Type::Complex, sub, ..attr(name, description, Storage::MultiValues) }
}

const READ_ONLY_REF: &[Attribute] = &[
    Attribute { case_exact: true, mutability: Mutability::ReadOnly, ..col("value", "group_id", "The group's id.") },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::ReadOnly,
        reference_types: &["Group"],
        ..attr("$ref", "The group's URI.", Storage::None)
    },
    Attribute { mutability: Mutability::ReadOnly, ..attr("display", "The group's displayName.", Storage::None) },
    Attribute {
        mutability: Mutability::ReadOnly,
        canonical: &["direct"],
        ..attr("type", "Always direct.", Storage::None)
    },
];

/// The common attributes (RFC 7643 §3.1) as filterable paths.
const META_SUB: &[Attribute] = &[
    Attribute {
        mutability: Mutability::ReadOnly,
        case_exact: true,
        ..attr("resourceType", "User or Group.", Storage::None)
    },
    Attribute {
        ty: Type::DateTime,
        mutability: Mutability::ReadOnly,
        ..col("created", "created_at", "When the resource was created.")
    },
    Attribute {
        ty: Type::DateTime,
        mutability: Mutability::ReadOnly,
        ..col("lastModified", "updated_at", "When the resource last changed.")
    },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::ReadOnly,
        case_exact: true,
        ..attr("location", "The resource's URI.", Storage::None)
    },
    Attribute { mutability: Mutability::ReadOnly, case_exact: true, ..attr("version", "Weak ETag.", Storage::None) },
];

pub const ID: Attribute = Attribute {
    case_exact: true,
    mutability: Mutability::ReadOnly,
    returned: Returned::Always,
    unique: true,
    ..col("id", "id", "Unique, stable identifier assigned by Gatehouse.")
};
pub const EXTERNAL_ID: Attribute =
    Attribute { case_exact: true, ..col("externalId", "external_id", "The provisioning client's identifier.") };
pub const META: Attribute = Attribute {
    ty: Type::Complex,
    mutability: Mutability::ReadOnly,
    sub: META_SUB,
    ..attr("meta", "Resource metadata.", Storage::Nested)
};

pub const USER_ATTRIBUTES: &[Attribute] = &[
    Attribute {
        required: true,
        unique: true,
        ..attr(
            "userName",
            "Unique (case-insensitively) login name.",
            Storage::Normalized { column: "username", normalized: "username_normalized" },
        )
    },
    Attribute { ty: Type::Complex, sub: NAME_SUB, ..attr("name", "The person's name.", Storage::Nested) },
    col("displayName", "display_name", "Name shown to people."),
    col("nickName", "nick_name", "Casual name."),
    Attribute {
        ty: Type::Reference,
        reference_types: &["external"],
        ..col("profileUrl", "profile_url", "Profile URL.")
    },
    col("title", "title", "Job title."),
    col("userType", "user_type", "Organisation-defined kind of user."),
    col("preferredLanguage", "preferred_language", "Preferred language, e.g. en-GB."),
    col("locale", "locale", "Locale for formatting, e.g. en-GB."),
    col("timezone", "timezone", "IANA time zone, e.g. Europe/Paris."),
    Attribute {
        ty: Type::Boolean,
        ..col("active", "active", "false disables login and ends the user's sessions and tokens.")
    },
    Attribute {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..attr("password", "Write-only; checked against the password policy and stored hashed.", Storage::None)
    },
    multi("emails", "Email addresses; the primary one (or first) is used for login and claims.", EMAIL_SUB),
    multi("phoneNumbers", "Phone numbers.", PHONE_SUB),
    multi("addresses", "Physical mailing addresses.", ADDRESS_SUB),
    Attribute {
        multi: true,
        ty: Type::Complex,
        mutability: Mutability::ReadOnly,
        sub: READ_ONLY_REF,
        ..attr(
            "groups",
            "Groups the user is a direct member of (change them through Group members).",
            Storage::Membership,
        )
    },
];

/// Only `value` is stored; `$ref` and `displayName` are accepted and
/// ignored (the manager may not be provisioned here), never returned.
const MANAGER_SUB: &[Attribute] = &[
    Attribute { case_exact: true, ..col("value", "manager_id", "The manager's id.") },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::ReadOnly,
        returned: Returned::Never,
        reference_types: &["User"],
        ..attr("$ref", "Ignored: not stored.", Storage::None)
    },
    Attribute {
        mutability: Mutability::ReadOnly,
        returned: Returned::Never,
        ..attr("displayName", "Ignored: not stored.", Storage::None)
    },
];

pub const ENTERPRISE_ATTRIBUTES: &[Attribute] = &[
    col("employeeNumber", "employee_number", "Employee number."),
    col("costCenter", "cost_center", "Cost center."),
    col("organization", "organization", "Organization."),
    col("division", "division", "Division."),
    col("department", "department", "Department."),
    Attribute { ty: Type::Complex, sub: MANAGER_SUB, ..attr("manager", "The user's manager.", Storage::Nested) },
];

const MEMBER_SUB: &[Attribute] = &[
    Attribute { case_exact: true, mutability: Mutability::Immutable, ..col("value", "user_id", "The member's id.") },
    Attribute {
        ty: Type::Reference,
        mutability: Mutability::Immutable,
        reference_types: &["User"],
        ..attr("$ref", "The member's URI.", Storage::None)
    },
    Attribute {
        mutability: Mutability::ReadOnly,
        returned: Returned::Never,
        ..attr("display", "Accepted and ignored; never returned.", Storage::None)
    },
    Attribute {
        mutability: Mutability::Immutable,
        canonical: &["User"],
        ..attr("type", "Only users can be members.", Storage::None)
    },
];

pub const GROUP_ATTRIBUTES: &[Attribute] = &[
    Attribute {
        required: true,
        unique: true,
        ..attr(
            "displayName",
            "Unique (case-insensitively) group name.",
            Storage::Normalized { column: "display_name", normalized: "display_name_normalized" },
        )
    },
    Attribute {
        multi: true,
        ty: Type::Complex,
        returned: Returned::Default,
        sub: MEMBER_SUB,
        ..attr("members", "Users in the group.", Storage::Membership)
    },
];

/// The two kinds of resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
        }
    }

    pub fn core_urn(self) -> &'static str {
        match self {
            ResourceKind::User => USER_URN,
            ResourceKind::Group => GROUP_URN,
        }
    }

    fn core(self) -> &'static [Attribute] {
        match self {
            ResourceKind::User => USER_ATTRIBUTES,
            ResourceKind::Group => GROUP_ATTRIBUTES,
        }
    }

    /// The extension schema URN, if the resource has one.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            ResourceKind::User => Some(ENTERPRISE_URN),
            ResourceKind::Group => None,
        }
    }

    /// The attributes of one of this resource's schemas.
    pub fn attributes(self, urn: &str) -> Option<&'static [Attribute]> {
        if urn.eq_ignore_ascii_case(self.core_urn()) {
            Some(self.core())
        } else if self == ResourceKind::User && urn.eq_ignore_ascii_case(ENTERPRISE_URN) {
            Some(ENTERPRISE_ATTRIBUTES)
        } else {
            None
        }
    }

    /// Finds a top-level attribute by name (case-insensitively): the common
    /// ones, then the core schema, then the extension. Returns the schema
    /// URN the attribute belongs to (`None` for the common ones).
    pub fn find(self, urn: Option<&str>, name: &str) -> Option<(Option<&'static str>, &'static Attribute)> {
        let common = [&ID, &EXTERNAL_ID, &META];
        if urn.is_none_or(|u| u.eq_ignore_ascii_case(self.core_urn()))
            && let Some(a) = common.into_iter().find(|a| a.name.eq_ignore_ascii_case(name))
        {
            return Some((None, a));
        }
        let schemas: Vec<&str> = match (urn, self.extension()) {
            (Some(u), _) => vec![u],
            (None, Some(_)) => vec![USER_URN, ENTERPRISE_URN],
            (None, None) => vec![GROUP_URN],
        };
        for s in schemas {
            let Some(attrs) = self.attributes(s) else { continue };
            if let Some(a) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name)) {
                let canonical = if s.eq_ignore_ascii_case(self.core_urn()) { self.core_urn() } else { ENTERPRISE_URN };
                return Some((Some(canonical), a));
            }
        }
        None
    }
}

impl Attribute {
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.sub.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The most resources one list response returns.
pub const MAX_PAGE_SIZE: u64 = 1000;

mod documents;
pub use documents::{resource_types, schemas, service_provider_config};

#[cfg(test)]
mod tests;
