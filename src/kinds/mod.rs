//! The resource kinds, one file each. A kind defines its spec type (the
//! manifest surface, with Genesys API JSON names), its natural key (the
//! org-side name), its references to other objects, its secrets and its
//! offline checks. Adding a kind means adding a file here and one entry in
//! [`KINDS`]; the loader, validator and schema generator only go through the
//! [`Spec`] trait and the registry.

use std::any::Any;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::manifest::diag::Findings;
use crate::manifest::secret::SecretInput;

pub mod common;
pub mod oauth_client;
pub mod open_messaging;
pub mod org;
pub mod project;
pub mod role;
pub mod routing_queue;
pub mod supported_content;
pub mod webhook;

/// The kinds gcctl manages, in the order they are listed and applied.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Kind {
    Project,
    Role,
    SupportedContentProfile,
    Webhook,
    OpenMessagingIntegration,
    RoutingQueue,
    #[serde(rename = "OAuthClient")]
    OAuthClient,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Project,
        Kind::Role,
        Kind::SupportedContentProfile,
        Kind::Webhook,
        Kind::OpenMessagingIntegration,
        Kind::RoutingQueue,
        Kind::OAuthClient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Project => "Project",
            Kind::Role => "Role",
            Kind::SupportedContentProfile => "SupportedContentProfile",
            Kind::Webhook => "Webhook",
            Kind::OpenMessagingIntegration => "OpenMessagingIntegration",
            Kind::RoutingQueue => "RoutingQueue",
            Kind::OAuthClient => "OAuthClient",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether objects of this kind exist in the org (a `Webhook` and the
    /// `Project` exist only in manifests).
    pub fn is_org_object(self) -> bool {
        !matches!(self, Kind::Project | Kind::Webhook)
    }

    pub fn def(self) -> &'static KindDef {
        KINDS.iter().find(|d| d.kind == self).expect("every kind is registered")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference from one object to another, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// JSON pointer of the referencing field within the document.
    pub pointer: String,
    /// The kind referred to.
    pub target: RefTarget,
    /// The name: a manifest `metadata.name` of that kind, or else an org-side name.
    pub name: String,
}

/// What a reference points at. Manifest kinds resolve first in the manifest
/// set and then in the org; org-only lookups (divisions, flows, messaging
/// settings) are resolved in the org at plan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefTarget {
    Kind(Kind),
    Division,
    MessagingSetting,
    /// A flow of the given type (uppercase `Flow.type`, e.g. `INBOUNDSHORTMESSAGE`).
    Flow(&'static str),
    /// The message routing recipient of an open messaging integration, by
    /// the integration's org name (resolved at apply time only).
    Recipient,
}

impl fmt::Display for RefTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefTarget::Kind(k) => write!(f, "{k}"),
            RefTarget::Division => f.write_str("division"),
            RefTarget::MessagingSetting => f.write_str("messaging setting"),
            RefTarget::Flow(t) => write!(f, "{t} flow"),
            RefTarget::Recipient => f.write_str("message recipient of the integration"),
        }
    }
}

/// What every kind's spec provides to the generic stages.
pub trait Spec: fmt::Debug + Send + Sync + Any {
    fn kind(&self) -> Kind;

    /// The natural key in the org (`spec.name`); `None` for manifest-only kinds.
    fn org_name(&self) -> Option<&str>;

    /// Names this object refers to, with the pointer of each field.
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// Secret fields, with their pointers.
    fn secrets(&self) -> Vec<(String, &SecretInput)> {
        Vec::new()
    }

    /// Offline checks of Genesys limits and field combinations. Pointers are
    /// relative to the document (`/spec/...`).
    fn check(&self, _findings: &mut Findings) {}

    /// The spec as JSON, exactly as declared (used for digests and rendering).
    fn to_json(&self) -> serde_json::Value;

    fn as_any(&self) -> &dyn Any;
}

/// The result of deserializing a spec: the spec, or the error with its field path.
pub type ParseResult = Result<Box<dyn Spec>, serde_path_to_error::Error<serde_json::Error>>;

/// Registry entry of a kind.
pub struct KindDef {
    pub kind: Kind,
    /// One line on what the kind is, for the schema and docs.
    pub summary: &'static str,
    /// Deserialize a spec; errors carry the path of the offending field.
    pub parse: fn(serde_json::Value) -> ParseResult,
    /// JSON Schema of the spec.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// How objects of the kind live in the org; `None` for manifest-only kinds.
    pub org: Option<&'static dyn org::OrgMapping>,
}

/// Deserialize a concrete spec type, keeping the error's field path.
pub fn parse_spec<S: Spec + DeserializeOwned>(value: serde_json::Value) -> ParseResult {
    serde_path_to_error::deserialize(value).map(|s: S| Box::new(s) as Box<dyn Spec>)
}

pub fn schema_of<S: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<S>()
}

/// Every kind, in [`Kind::ALL`] order.
pub static KINDS: &[KindDef] = &[
    project::DEF,
    role::DEF,
    supported_content::DEF,
    webhook::DEF,
    open_messaging::DEF,
    routing_queue::DEF,
    oauth_client::DEF,
];

/// Downcast a spec to its concrete type.
pub fn downcast<S: Spec>(spec: &dyn Spec) -> Option<&S> {
    spec.as_any().downcast_ref::<S>()
}

/// Implements the boilerplate `Spec` methods for a serializable spec type.
macro_rules! spec_boilerplate {
    () => {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }

        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    };
}
pub(crate) use spec_boilerplate;
