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
};
