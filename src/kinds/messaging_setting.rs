//! `MessagingSetting`: a messaging setting of the org
//! (`/api/v2/conversations/messaging/settings`), what hand-over guides call a
//! "platform config": typing indicators and Facebook/Instagram story mention
//! and reply handling for the open messaging integrations that use it.
//!
//! Created with POST (`MessagingSettingRequest`, `name` required), updated
//! with PATCH (`MessagingSettingPatchRequest`: only what is sent changes;
//! there is no PUT). `version` is a read-only *string*. One setting may be
//! the org default (`PUT …/settings/default` with `{settingId}`, unset with
//! `DELETE …/settings/default`); integrations created without a setting get
//! it. The API answers 400 to a DELETE of the default setting, so gcctl never
//! plans one. The model has no read-receipt setting (SDK models of
//! `ContentSetting` and `EventSetting`), so neither does the spec.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, IdResolver, Lookups, OrgDefault, OrgKind, UpdateMethod, project, request_body, typed,
};
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// A messaging setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessagingSettingSpec {
    /// The setting's name in the org (its natural key).
    pub name: String,
    /// `true` makes this setting the org default (`PUT .../settings/default`):
    /// integrations created without a setting get it. `false` on the current
    /// default unsets it (`DELETE .../settings/default`; the global default
    /// then applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_default: Option<bool>,
    /// Settings of message contents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentSetting>,
    /// Settings of events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventSetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContentSetting {
    /// Facebook and Instagram stories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<StorySetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorySetting {
    /// Messages that mention the business in a story.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<InboundOnlySetting>,
    /// Replies to the business's stories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<InboundOnlySetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundOnlySetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<Toggle>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSetting {
    /// Typing indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typing: Option<TypingSetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypingSetting {
    /// Whether typing indicators are passed on, per direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<SettingDirection>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingDirection {
    /// From the customer to Genesys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<Toggle>,
    /// From Genesys to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<Toggle>,
}

/// The API's switch values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Toggle {
    Enabled,
    Disabled,
}

/// The body of POST (`MessagingSettingRequest`) and PATCH
/// (`MessagingSettingPatchRequest`): the writable fields only.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<ContentSetting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<EventSetting>,
}

impl Spec for MessagingSettingSpec {
    fn kind(&self) -> Kind {
        Kind::MessagingSetting
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn org_default(&self) -> Option<bool> {
        self.org_default
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    summary: "A messaging setting (typing indicators, story mentions and replies), optionally the org default.",
    order: 20,
    export_file: Some("messaging-settings.yaml"),
    parse: parse_spec::<MessagingSettingSpec>,
    schema: schema_of::<MessagingSettingSpec>,
    org: Some(&Org),
};

/// The org side of `MessagingSetting`.
pub struct Org;

impl OrgKind for Org {
    fn export_refers_to(&self) -> &'static [super::RefTarget] {
        &[]
    }


    fn api(&self) -> ApiPaths {
        // Max page size UNVERIFIED (the SDK documents the default, 25); 100
        // is what gcctl asks for, as for the other messaging lists.
        ApiPaths::new("/api/v2/conversations/messaging/settings", UpdateMethod::Patch)
            .paged(100)
            .default(OrgDefault {
                path: "/api/v2/conversations/messaging/settings/default",
                id_key: "settingId",
                unset: true,
            })
    }

    fn live_to_spec(&self, live: &Value, _lookups: &Lookups) -> Value {
        project::<MessagingSettingSpec>(live)
    }

    fn body(
        &self,
        desired: &Value,
        _live: Option<&Value>,
        _ids: &dyn IdResolver,
    ) -> Result<Value, BodyError> {
        // The desired value is spec-shaped: the request takes its writable part.
        let spec: MessagingSettingSpec = typed(desired)?;
        let request = Request { name: spec.name, content: spec.content, event: spec.event };
        request_body(&request)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn requests_carry_only_writable_fields() {
        let desired = json!({
            "name": "Bots",
            "orgDefault": true,
            "event": {"typing": {"on": {"inbound": "Enabled", "outbound": "Disabled"}}},
        });
        let body = Org.body(&desired, None, &Lookups::default()).expect("a body");
        assert_eq!(
            body,
            json!({"name": "Bots", "event": {"typing": {"on": {"inbound": "Enabled", "outbound": "Disabled"}}}})
        );
    }
}
