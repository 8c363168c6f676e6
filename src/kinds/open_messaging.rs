//! `OpenMessagingIntegration`: an open messaging integration
//! (`/api/v2/conversations/messaging/integrations/open`) with its webhook and
//! its message routing. Creation is asynchronous (`createStatus`); updates are
//! PATCH (with `name`). The integration's `recipient` is attached to an
//! inbound message flow with `PUT /api/v2/routing/message/recipients/{id}`:
//! that wiring is part of this kind's spec (`inboundFlow`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::check_org_name;
use super::{Kind, KindDef, RefTarget, Reference, Spec, parse_spec, schema_of, spec_boilerplate};
use crate::manifest::diag::Findings;

/// The Architect flow type that can receive messages from a recipient.
pub const INBOUND_MESSAGE_FLOW: &str = "INBOUNDSHORTMESSAGE";

/// An open messaging integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenMessagingIntegrationSpec {
    /// The integration's name in the org (its natural key).
    pub name: String,
    /// The `SupportedContentProfile` to use: a manifest name, or else the name
    /// of a profile in the org. Left out: the org default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_content: Option<String>,
    /// The messaging setting to use, by its name in the org. Left out: the org default applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_setting: Option<String>,
    /// The `Webhook` (manifest name) that receives outbound messages.
    pub webhook: String,
    /// The inbound message flow that handles messages to this integration's
    /// address (Admin > Message Routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_flow: Option<FlowRef>,
}

/// An Architect flow, by name and type (flow names repeat across types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FlowRef {
    /// The flow's name in the org.
    pub name: String,
    /// The flow type; message routing needs an inbound message flow.
    #[serde(rename = "type", default = "default_inbound_type")]
    pub flow_type: InboundFlowType,
}

/// Flow types that can be attached to a message recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum InboundFlowType {
    /// An Architect inbound message flow.
    #[serde(rename = "INBOUNDSHORTMESSAGE")]
    InboundShortMessage,
}

fn default_inbound_type() -> InboundFlowType {
    InboundFlowType::InboundShortMessage
}

impl Spec for OpenMessagingIntegrationSpec {
    fn kind(&self) -> Kind {
        Kind::OpenMessagingIntegration
    }

    fn org_name(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn references(&self) -> Vec<Reference> {
        let mut refs = vec![Reference {
            pointer: "/spec/webhook".into(),
            target: RefTarget::Kind(Kind::Webhook),
            name: self.webhook.clone(),
        }];
        if let Some(name) = &self.supported_content {
            refs.push(Reference {
                pointer: "/spec/supportedContent".into(),
                target: RefTarget::Kind(Kind::SupportedContentProfile),
                name: name.clone(),
            });
        }
        if let Some(name) = &self.messaging_setting {
            refs.push(Reference {
                pointer: "/spec/messagingSetting".into(),
                target: RefTarget::MessagingSetting,
                name: name.clone(),
            });
        }
        if let Some(flow) = &self.inbound_flow {
            refs.push(Reference {
                pointer: "/spec/inboundFlow/name".into(),
                target: RefTarget::Flow(INBOUND_MESSAGE_FLOW),
                name: flow.name.clone(),
            });
        }
        refs
    }

    fn check(&self, findings: &mut Findings) {
        check_org_name(findings, "/spec/name", &self.name);
        if let Some(flow) = &self.inbound_flow {
            check_org_name(findings, "/spec/inboundFlow/name", &flow.name);
        }
    }

    spec_boilerplate!();
}

pub const DEF: KindDef = KindDef {
    kind: Kind::OpenMessagingIntegration,
    summary: "An open messaging integration, its webhook and the inbound flow its address routes to.",
    parse: parse_spec::<OpenMessagingIntegrationSpec>,
    schema: schema_of::<OpenMessagingIntegrationSpec>,
    org: Some(&Org),
};

/// The org side of `OpenMessagingIntegration`.
pub struct Org;

impl super::org::OrgMapping for Org {
    fn paths(&self) -> super::org::ApiPaths {
        // Max page size UNVERIFIED; 100 is what the Terraform provider uses.
        super::org::ApiPaths {
            collection: "/api/v2/conversations/messaging/integrations/open",
            page_size: Some(100),
            update: super::org::UpdateMethod::Patch,
        }
    }

    fn live_to_spec(
        &self,
        live: &serde_json::Value,
        lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        use super::org::ref_name;
        let mut spec = serde_json::json!({ "name": live.get("name") });
        if let Some(name) = ref_name(
            live,
            "supportedContent",
            lookups,
            RefTarget::Kind(Kind::SupportedContentProfile),
        ) {
            spec["supportedContent"] = name;
        }
        if let Some(name) = ref_name(live, "messagingSetting", lookups, RefTarget::MessagingSetting)
        {
            spec["messagingSetting"] = name;
        }
        let mut webhook = serde_json::json!({});
        if let Some(url) = live.get("outboundNotificationWebhookUrl").filter(|u| !u.is_null()) {
            webhook["url"] = url.clone();
        }
        let mut headers =
            live.get("webhookHeaders").and_then(|h| h.as_object()).cloned().unwrap_or_default();
        let version = headers
            .keys()
            .find(|k| k.eq_ignore_ascii_case(SECRET_VERSION_HEADER))
            .cloned()
            .and_then(|k| headers.remove(&k))
            .and_then(|v| v.as_str().and_then(|s| s.parse::<u32>().ok()));
        webhook["headers"] = serde_json::Value::Object(headers);
        // Without the header (an integration made outside gcctl, then
        // adopted) the secret it holds counts as version 1: secrets are sent
        // on create and on explicit rotation only, never on adoption, so the
        // receiver's current secret is not replaced behind its back.
        webhook["signatureSecretVersion"] = version.unwrap_or(1).into();
        spec["webhook"] = webhook;
        let recipient = live.pointer("/recipient/id").and_then(|r| r.as_str());
        if let Some(flow_id) = recipient.and_then(|r| lookups.recipient_flow.get(r)) {
            let flow = match lookups.name_of(RefTarget::Flow(INBOUND_MESSAGE_FLOW), flow_id) {
                Some(name) => serde_json::json!({ "name": name, "type": INBOUND_MESSAGE_FLOW }),
                None => match lookups.flow_name(flow_id) {
                    Some((flow_type, name)) => {
                        serde_json::json!({ "name": name, "type": flow_type })
                    }
                    None => serde_json::json!({
                        "name": super::org::name_or_id(None, flow_id),
                        "type": INBOUND_MESSAGE_FLOW,
                    }),
                },
            };
            spec["inboundFlow"] = flow;
        }
        spec
    }

    fn desired(
        &self,
        mut spec: serde_json::Value,
        object: &crate::manifest::Object,
        manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &super::org::Lookups,
    ) -> serde_json::Value {
        // The webhook is another manifest: inline what the org will hold.
        let handle = super::downcast::<OpenMessagingIntegrationSpec>(object.spec.as_ref())
            .map(|s| s.webhook.clone());
        let webhook = handle
            .and_then(|h| manifests.resolve(Kind::Webhook, &h))
            .and_then(|o| super::downcast::<WebhookSpec>(o.spec.as_ref()));
        if let Some(webhook) = webhook {
            spec["webhook"] = serde_json::json!({
                "url": webhook.url,
                "headers": webhook.headers,
                "signatureSecretVersion": webhook.secret_version(),
            });
        }
        spec
    }

    fn body(
        &self,
        desired: &serde_json::Value,
        _live: Option<&serde_json::Value>,
        ids: &dyn super::org::IdResolver,
    ) -> Result<serde_json::Value, super::org::UnresolvedRef> {
        use super::org::{id_ref, require_id};
        // POST and PATCH: PATCH changes only what is sent, and needs `name`.
        let mut body = serde_json::json!({ "name": desired["name"] });
        if let Some(name) = desired.get("supportedContent").and_then(|v| v.as_str()) {
            let target = RefTarget::Kind(Kind::SupportedContentProfile);
            body["supportedContent"] = id_ref(&require_id(ids, target, name, "/supportedContent")?);
        }
        if let Some(name) = desired.get("messagingSetting").and_then(|v| v.as_str()) {
            body["messagingSetting"] =
                id_ref(&require_id(ids, RefTarget::MessagingSetting, name, "/messagingSetting")?);
        }
        if let Some(webhook) = desired.get("webhook") {
            body["outboundNotificationWebhookUrl"] = webhook["url"].clone();
            let mut headers =
                webhook.get("headers").and_then(|h| h.as_object()).cloned().unwrap_or_default();
            let version = webhook
                .get("signatureSecretVersion")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(1);
            headers.insert(SECRET_VERSION_HEADER.into(), version.to_string().into());
            body["webhookHeaders"] = serde_json::Value::Object(headers);
        }
        Ok(body)
    }

    fn write_only_pointers(&self) -> &'static [&'static str] {
        &["/webhook/signatureSecretVersion"]
    }
}

use super::webhook::{SECRET_VERSION_HEADER, WebhookSpec};
