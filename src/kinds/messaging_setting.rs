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
use serde_json::{Value, json};

use super::common::check_org_name;
use super::org::{
    ApiPaths, BodyError, Hook, IdResolver, Lookups, OrgKind, UpdateMethod, project, typed,
};
use super::{Kind, KindDef, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
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

const DEFAULT_PATH: &str = "/api/v2/conversations/messaging/settings/default";

impl OrgKind for Org {
    fn api(&self) -> ApiPaths {
        // Max page size UNVERIFIED (the SDK documents the default, 25); 100
        // is what gcctl asks for, as for the other messaging lists.
        ApiPaths::new("/api/v2/conversations/messaging/settings", UpdateMethod::Patch)
            .paged(100)
            .default(DEFAULT_PATH)
    }

    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value {
        let mut spec = project::<MessagingSettingSpec>(live);
        let id = live.get("id").and_then(Value::as_str);
        spec["orgDefault"] =
            Value::Bool(id.is_some_and(|id| lookups.is_default(Kind::MessagingSetting, id)));
        spec
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
        serde_json::to_value(request).map_err(|e| BodyError::Shape(e.to_string()))
    }

    fn after_create<'a>(
        &'a self,
        op: &'a Op<'a>,
        created: &'a Value,
        _adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            if op.desired.get("orgDefault") == Some(&Value::Bool(true)) {
                let id = created.get("id").and_then(Value::as_str).unwrap_or_default();
                set_default(op, id, true).await?;
            }
            Ok(Vec::new())
        })
    }

    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            if op.changed_outside("/orgDefault") {
                op.write(id, &op.body(None)?).await?;
            }
            if op.changed("/orgDefault") {
                let default = op.desired.get("orgDefault") == Some(&Value::Bool(true));
                set_default(op, id, default).await?;
            }
            Ok(Vec::new())
        })
    }

    fn export(&self, spec: &mut Value, _cx: &mut ExportCx<'_>) -> Result<(), String> {
        // Only the default says so: `false` would unset it when applied.
        if spec.get("orgDefault") == Some(&Value::Bool(false)) {
            spec.as_object_mut().map(|m| m.remove("orgDefault"));
        }
        Ok(())
    }
}

/// Make `id` the org default, or unset the default (it is `id`: the plan
/// saw it so).
async fn set_default(op: &Op<'_>, id: &str, default: bool) -> Result<(), OpError> {
    if default {
        op.put(DEFAULT_PATH, &json!({ "settingId": id }), "making the org default").await?;
    } else {
        op.delete(DEFAULT_PATH, "unsetting the org default").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
