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
    kind: Kind::SupportedContentProfile,
    summary: "Media types an open messaging integration accepts and sends.",
    parse: parse_spec::<SupportedContentProfileSpec>,
    schema: schema_of::<SupportedContentProfileSpec>,
    org: Some(&Org),
};

/// The org side of `SupportedContentProfile`.
pub struct Org;

impl super::org::OrgMapping for Org {
    fn paths(&self) -> super::org::ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        super::org::ApiPaths {
            collection: "/api/v2/conversations/messaging/supportedcontent",
            page_size: Some(100),
            update: super::org::UpdateMethod::Patch,
        }
    }

    fn live_to_spec(
        &self,
        live: &serde_json::Value,
        lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        let mut spec = super::org::project::<SupportedContentProfileSpec>(live);
        let id = live.get("id").and_then(|i| i.as_str());
        let is_default = id.is_some() && lookups.default_supported_content.as_deref() == id;
        spec["orgDefault"] = serde_json::Value::Bool(is_default);
        spec
    }

    fn body(
        &self,
        desired: &serde_json::Value,
        _live: Option<&serde_json::Value>,
        _ids: &dyn super::org::IdResolver,
    ) -> Result<serde_json::Value, super::org::UnresolvedRef> {
        // PATCH and POST both take the SupportedContent model; `name` is required.
        let mut body = serde_json::json!({ "name": desired["name"] });
        if let Some(media) = desired.get("mediaTypes") {
            body["mediaTypes"] = media.clone();
        }
        Ok(body)
    }

    fn set_pointers(&self) -> &'static [&'static str] {
        &["/mediaTypes/allow/inbound", "/mediaTypes/allow/outbound"]
    }
}
