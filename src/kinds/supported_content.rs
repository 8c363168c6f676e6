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
    /// Make this profile the org default (`PUT .../supportedcontent/default`).
    /// Setting it to false never unsets a default: choose another default instead.
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
};
