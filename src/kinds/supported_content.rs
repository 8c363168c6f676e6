//! `SupportedContentProfile`: which media types an open messaging
//! integration accepts and sends (`/api/v2/conversations/messaging/supportedcontent`).
//! Updated with PATCH; one profile per org can be the org default, assigned to
//! integrations created without one.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{check_org_name, is_media_type};
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// A supported content profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SupportedContentProfileSpec {
    /// The profile's name in the org (its natural key).
    pub name: String,
    /// `true` makes this profile the org default (`PUT .../supportedcontent/default`).
    /// `false` is rejected: an org always has a default; mark another profile instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_default: Option<bool>,
    /// Allowed media types, as in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_types: Option<MediaTypes>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaTypes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<MediaTypeAccess>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MediaTypeAccess {
    /// Media types customers may send (RFC 2046, wildcards allowed: `image/*`, `*/*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<Vec<MediaType>>,
    /// Media types agents and bots may send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<Vec<MediaType>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaType {
    /// An RFC 2046 media type such as `image/png`; `*` wildcards allowed.
    #[serde(rename = "type")]
    pub media_type: String,
}

impl Spec for SupportedContentProfileSpec {
    fn kind(&self) -> Kind {
        Kind::SupportedContentProfile
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn org_default(&self) -> Option<bool> {
        self.org_default
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        if self.org_default == Some(false) {
            findings.error_with_hint(
                "/spec/orgDefault",
                "`orgDefault: false` cannot be applied: an org always has a default profile",
                "to change the default, set `orgDefault: true` on another profile; or remove the field",
            );
        }
        let Some(allow) = self.media_types.as_ref().and_then(|m| m.allow.as_ref()) else {
            return;
        };
        for (direction, list) in [("inbound", &allow.inbound), ("outbound", &allow.outbound)] {
            for (i, media) in list.iter().flatten().enumerate() {
                if !is_media_type(&media.media_type) {
                    findings.error_with_hint(
                        format!("/spec/mediaTypes/allow/{direction}/{i}/type"),
                        format!("`{}` is not an RFC 2046 media type", media.media_type),
                        "write type/subtype, for example image/png, image/* or */*",
                    );
                }
            }
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "Media types an open messaging integration accepts and sends.",
    order: 20,
    export_file: Some("supported-content.yaml"),
    parse: parse_spec::<SupportedContentProfileSpec>,
    schema: schema_of::<SupportedContentProfileSpec>,
    org: Some(&Org),
};

/// The writable part of the `SupportedContent` model.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_types: Option<MediaTypes>,
}

/// The org side of `SupportedContentProfile`.
pub struct Org;

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [super::RefTarget] {
        &[]
    }


    fn api(&self) -> ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        ApiPaths::new("/api/v2/conversations/messaging/supportedcontent", UpdateMethod::Patch)
            .paged(100)
            // Once set, there is always a default: no DELETE (validation
            // rejects `orgDefault: false`).
            .default(OrgDefault {
                path: "/api/v2/conversations/messaging/supportedcontent/default",
                id_key: "id",
                unset: false,
            })
    }

    fn live_to_spec(&self, live: &Value, _lookups: &Lookups) -> Value {
        project::<SupportedContentProfileSpec>(live)
    }

    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // POST and PATCH both take the SupportedContent model; `name` is
        // required, so it is always sent.
        let spec: SupportedContentProfileSpec = typed(desired)?;
        let request = Request { name: spec.name, media_types: spec.media_types };
        request_body(&request)
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/mediaTypes/allow/inbound", "/mediaTypes/allow/outbound"]
    }

    /// Media types name the same type in any case (RFC 2046): one the org
    /// holds in another case than declared is no change.
    fn align_live(&self, desired: &Value, live: &mut Value, _lookups: &Lookups) {
        for pointer in self.set_pointers() {
            super::common::align_case_insensitive(desired, live, pointer, Some("type"));
        }
    }
}

use serde_json::Value;

use super::org::{
    ApiPaths, BodyError, IdResolver, Lookups, OrgDefault, OrgKind, UpdateMethod, project, request_body, typed,
};
