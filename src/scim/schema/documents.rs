//! The discovery documents (`/Schemas`, `/ResourceTypes`,
//! `/ServiceProviderConfig`), generated from the attribute tables.

use super::{Attribute, ENTERPRISE_ATTRIBUTES, ENTERPRISE_URN, GROUP_ATTRIBUTES, GROUP_URN, MAX_PAGE_SIZE};
use super::{Mutability, Returned, Type, USER_ATTRIBUTES, USER_URN};
use serde_json::{Value, json};

impl Attribute {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": match self.ty {
                Type::String => "string",
                Type::Boolean => "boolean",
                Type::DateTime => "dateTime",
                Type::Reference => "reference",
                Type::Complex => "complex",
            },
            "multiValued": self.multi,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": match self.mutability {
                Mutability::ReadOnly => "readOnly",
                Mutability::ReadWrite => "readWrite",
                Mutability::Immutable => "immutable",
                Mutability::WriteOnly => "writeOnly",
            },
            "returned": match self.returned {
                Returned::Always => "always",
                Returned::Default => "default",
                Returned::Never => "never",
            },
            "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.canonical.is_empty() {
            v["canonicalValues"] = json!(self.canonical);
        }
        if !self.reference_types.is_empty() {
            v["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = Value::Array(self.sub.iter().map(Attribute::to_json).collect());
        }
        v
    }
}

fn schema_json(id: &str, name: &str, description: &str, attrs: &[Attribute], base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attrs.iter().map(Attribute::to_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
    })
}

/// The `/Schemas` resources.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_json(USER_URN, "User", "User account", USER_ATTRIBUTES, base),
        schema_json(ENTERPRISE_URN, "EnterpriseUser", "Enterprise User extension", ENTERPRISE_ATTRIBUTES, base),
        schema_json(GROUP_URN, "Group", "Group of users", GROUP_ATTRIBUTES, base),
    ]
}

/// The `/ResourceTypes` resources.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users", "description": "User account",
            "schema": USER_URN,
            "schemaExtensions": [{"schema": ENTERPRISE_URN, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups", "description": "Group of users",
            "schema": GROUP_URN,
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

/// `/ServiceProviderConfig`: exactly what is implemented.
pub fn service_provider_config(base: &str, documentation: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": documentation,
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_PAGE_SIZE},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A token from `gatehouse scim-token create`, sent as `Authorization: Bearer <token>`.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}
