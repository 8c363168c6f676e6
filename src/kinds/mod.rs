//! The resource kinds, one file each. A kind defines its spec type (the
//! manifest surface, with Genesys API JSON names), its natural key (the
//! org-side name), its references to other objects, its secrets, its offline
//! checks and, for kinds whose objects live in the org, its [`org::OrgKind`]
//! (how it is read, compared, written and exported).
//!
//! The list of kinds is the one `kinds!` invocation below; everything else
//! about a kind (summary, apply order, export file, org mapping) is its
//! `DEF` in its own file. Nothing else in the code enumerates kinds: the
//! loader, validator, schema generator, planner, executor and exporter only
//! go through [`Spec`], [`KindDef`] and [`org::OrgKind`]. Adding a kind is
//! one file here, one line in `kinds!`, and its sandbox resource
//! (`crate::sandbox`); `tests/it/kinds.rs` fails when a place is missed.

use std::any::Any;
use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::manifest::diag::Findings;
use crate::manifest::secret::{Secret, SecretInput};

pub mod common;
pub mod consistency;
mod lenient;
pub mod org;
pub(crate) mod strict;

/// Declares the kinds: one `Variant => module` line each. Generates the
/// modules, the [`Kind`] enum (its spelling in manifests is the variant's
/// name) and [`Kind::def`]. A variant's position means nothing: order comes
/// from [`KindDef::order`].
macro_rules! kinds {
    ($($variant:ident => $module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// A kind of manifest object.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum Kind {
            $($variant),+
        }

        impl Kind {
            /// Every kind, in declaration order (see [`Kind::all`] for apply order).
            const DECLARED: &'static [Kind] = &[$(Kind::$variant),+];

            /// The kind's registry entry.
            pub fn def(self) -> &'static KindDef {
                match self {
                    $(Kind::$variant => &$module::DEF),+
                }
            }

            /// The kind's name, as manifests spell it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => stringify!($variant)),+
                }
            }
        }
    };
}

kinds! {
    Project => project,
    Role => role,
    MessagingSetting => messaging_setting,
    SupportedContentProfile => supported_content,
    Webhook => webhook,
    OpenMessagingIntegration => open_messaging,
    RoutingQueue => routing_queue,
    OAuthClient => oauth_client,
    RoutingWrapupCode => routing_wrapup_code,
    RoutingSkill => routing_skill,
    RoutingLanguage => routing_language,
    UserRoutingProfile => user_routing_profile,
    Flow => flow,
    WebMessagingConfiguration => web_messaging_configuration,
    WebMessagingDeployment => web_messaging_deployment,
}

impl Kind {
    /// Every kind, in apply order ([`KindDef::order`], then name).
    pub fn all() -> &'static [Kind] {
        static ALL: LazyLock<Vec<Kind>> = LazyLock::new(|| {
            let mut all = Kind::DECLARED.to_vec();
            all.sort();
            all
        });
        &ALL
    }

    /// The kinds whose objects live in the org, in apply order.
    pub fn in_org() -> &'static [Kind] {
        static IN_ORG: LazyLock<Vec<Kind>> =
            LazyLock::new(|| Kind::all().iter().copied().filter(|k| k.is_org_object()).collect());
        &IN_ORG
    }

    /// The kind named `name` (exact spelling).
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::all().iter().copied().find(|k| k.as_str() == name)
    }

    /// Whether objects of this kind exist in the org (a `Webhook` and the
    /// `Project` exist only in manifests).
    pub fn is_org_object(self) -> bool {
        self.def().org.is_some()
    }

    /// How objects of this kind live in the org, if they do.
    pub fn org(self) -> Option<&'static dyn org::OrgKind> {
        self.def().org
    }

    /// The top-level fields a plan compares for this kind: its spec's (from
    /// its JSON Schema) and the field that says who made what is live
    /// ([`org::OrgKind::provenance_pointer`]), sorted.
    pub fn compared_fields(self) -> &'static [String] {
        static FIELDS: LazyLock<std::collections::BTreeMap<Kind, Vec<String>>> =
            LazyLock::new(|| {
                Kind::all()
                    .iter()
                    .map(|&kind| {
                        let mut generator = SchemaGenerator::default();
                        let schema = (kind.def().schema)(&mut generator);
                        let root = schema
                            .get("$ref")
                            .and_then(serde_json::Value::as_str)
                            .and_then(|r| r.rsplit('/').next())
                            .and_then(|name| generator.definitions().get(name).cloned())
                            .unwrap_or_else(|| schema.as_value().clone());
                        let mut fields: Vec<String> = root
                            .get("properties")
                            .and_then(serde_json::Value::as_object)
                            .map(|p| p.keys().cloned().collect())
                            .unwrap_or_default();
                        let provenance = kind.org().and_then(org::OrgKind::provenance_pointer);
                        fields.extend(provenance.map(|p| p.trim_start_matches('/').to_string()));
                        fields.sort();
                        (kind, fields)
                    })
                    .collect()
            });
        FIELDS.get(&self).map_or(&[], Vec::as_slice)
    }

    /// Why an `ignoreDifferences` pointer for this kind ignores nothing, if
    /// it does: a `~` that is not `~0` or `~1`, or a first field the kind
    /// does not compare (a typo: `/descriptio`, with the likely one). The
    /// message and a hint, for a warning.
    pub fn pointer_ignores_nothing(self, pointer: &str) -> Option<(String, String)> {
        let bad_escape = pointer
            .match_indices('~')
            .any(|(i, _)| !matches!(pointer.as_bytes().get(i + 1), Some(b'0' | b'1')));
        if bad_escape {
            return Some((
                format!(
                    "`{pointer}` is not a JSON pointer: `~` is written `~0`, and `/` inside a name `~1`"
                ),
                "it ignores nothing as written".into(),
            ));
        }
        let fields = self.compared_fields();
        let first = pointer.trim_start_matches('/').split('/').next().unwrap_or_default();
        let first = crate::json_pointer::unescape(first);
        if !self.is_org_object() || fields.is_empty() || fields.iter().any(|f| *f == *first) {
            return None;
        }
        let names: Vec<&str> = fields.iter().map(String::as_str).collect();
        let hint = match crate::suggest::closest(&first, names.iter().copied()) {
            Some(close) => format!("did you mean `/{close}`?"),
            None => format!("the fields of a {self} are {}", names.join(", ")),
        };
        Some((format!("`{pointer}` names no field of a {self}: it ignores nothing"), hint))
    }

    /// The kind's names joined for messages (`Role, RoutingQueue, ...`).
    pub fn names() -> String {
        Kind::all().iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }
}

/// Kinds sort in apply order: what others refer to comes first.
impl Ord for Kind {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.def().order, self.as_str()).cmp(&(other.def().order, other.as_str()))
    }
}

impl PartialOrd for Kind {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind whose objects live in the org: what a planned change is about.
/// Holding one proves the kind has an [`org::OrgKind`], so the planner and
/// executor never ask "is there a mapping?". A saved plan naming a kind that
/// does not live in the org fails to load.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Kind", into = "Kind")]
pub struct LiveKind {
    kind: Kind,
    #[serde(skip)]
    org: OrgRef,
}

/// The org mapping of a [`LiveKind`]; compared by nothing (the kind decides).
#[derive(Clone, Copy)]
struct OrgRef(&'static dyn org::OrgKind);

impl PartialEq for OrgRef {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for OrgRef {}
impl PartialOrd for OrgRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrgRef {
    fn cmp(&self, _: &Self) -> Ordering {
        Ordering::Equal
    }
}
impl std::hash::Hash for OrgRef {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl LiveKind {
    pub fn new(kind: Kind) -> Option<LiveKind> {
        kind.org().map(|org| LiveKind { kind, org: OrgRef(org) })
    }

    pub fn kind(self) -> Kind {
        self.kind
    }

    pub fn org(self) -> &'static dyn org::OrgKind {
        self.org.0
    }

    /// Every kind that lives in the org, in apply order.
    pub fn all() -> impl Iterator<Item = LiveKind> {
        Kind::in_org().iter().filter_map(|k| LiveKind::new(*k))
    }
}

impl TryFrom<Kind> for LiveKind {
    type Error = String;

    fn try_from(kind: Kind) -> Result<Self, Self::Error> {
        LiveKind::new(kind).ok_or_else(|| format!("{kind} objects do not live in the org"))
    }
}

impl From<LiveKind> for Kind {
    fn from(kind: LiveKind) -> Kind {
        kind.kind
    }
}

impl PartialEq<Kind> for LiveKind {
    fn eq(&self, other: &Kind) -> bool {
        self.kind == *other
    }
}

impl fmt::Debug for LiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.kind, f)
    }
}

impl fmt::Display for LiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
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
/// set and then in the org; org-only lookups (divisions, flows) are resolved
/// in the org at plan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefTarget {
    Kind(Kind),
    Division,
    /// A flow of the given type (uppercase `Flow.type`, e.g. `INBOUNDSHORTMESSAGE`).
    Flow(&'static str),
    /// The message routing recipient of an open messaging integration, by
    /// the integration's org name.
    Recipient,
    /// A user of the org, by email (compared case-insensitively). Users are
    /// only ever looked up: gcctl never creates or changes them.
    User,
    /// A group of users, by name (a queue's `memberGroups`).
    Group,
    /// A team, by name (a queue's `memberGroups` of type `TEAM`).
    Team,
    /// A skill group, by name (a queue's `memberGroups` of type `SKILLGROUP`).
    SkillGroup,
}

impl RefTarget {
    /// The kind of the declared objects a reference to this target can name
    /// (for a flow of a type, a `Flow` of that type: see `Spec::answers_to`);
    /// `None` for what is only ever looked up in the org.
    pub fn declared_kind(self) -> Option<Kind> {
        match self {
            RefTarget::Kind(kind) => Some(kind),
            RefTarget::Flow(_) => Some(Kind::Flow),
            RefTarget::Division
            | RefTarget::Recipient
            | RefTarget::User
            | RefTarget::Group
            | RefTarget::Team
            | RefTarget::SkillGroup => None,
        }
    }

    /// What a reference to this target knows of the object's natural key
    /// beyond its name ([`org::OrgKind::key_beyond_name`]): a flow's type;
    /// empty where the name is the whole key.
    pub fn key_beyond_name(self) -> &'static str {
        match self {
            RefTarget::Flow(flow_type) => flow_type,
            _ => "",
        }
    }
}

impl fmt::Display for RefTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefTarget::Kind(k) => write!(f, "{k}"),
            RefTarget::Division => f.write_str("division"),
            RefTarget::Flow(t) => write!(f, "{t} flow"),
            RefTarget::Recipient => f.write_str("message recipient of the integration"),
            RefTarget::User => f.write_str("user"),
            RefTarget::Group => f.write_str("group"),
            RefTarget::Team => f.write_str("team"),
            RefTarget::SkillGroup => f.write_str("skill group"),
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

    /// Names this object uses that order the apply when they name an
    /// object of the set, and are otherwise left to the org (a queue named
    /// inside a flow's YAML: the import job says whether it exists). Never
    /// checked against the org by gcctl, never rewritten.
    fn soft_references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// How to break a dependency cycle this object is part of, when its kind
    /// knows a better way than removing a reference (a flow transferring to
    /// the queue whose in-queue flow it is). `None`: the generic hint.
    fn cycle_hint(&self) -> Option<&'static str> {
        None
    }

    /// Whether a reference to `target` may name this object (by handle or
    /// org name): its own kind, and for flows the flow type too.
    fn answers_to(&self, target: RefTarget) -> bool {
        target == RefTarget::Kind(self.kind())
    }

    /// The object's natural key beyond its org name, as the kind's
    /// `OrgKind::key_beyond_name` reads it from a live object (a flow's
    /// type: two flows of two types may share a name). Empty: the name is
    /// the whole key.
    fn key_beyond_name(&self) -> &'static str {
        ""
    }

    /// The files the spec read (see [`Spec::resolve_files`]): not manifests,
    /// and not reported as skipped when a directory holds them.
    fn named_files(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }

    /// Read the files the spec names, relative to its manifest (a flow's
    /// definition), after `${var.NAME}` substitution; every problem is a
    /// diagnostic at its `file:line:column`. Called once, after parsing.
    fn resolve_files(
        &mut self,
        _cx: &crate::manifest::FileContext<'_>,
    ) -> Vec<crate::manifest::Diagnostic> {
        Vec::new()
    }

    /// Secret fields, with their pointers.
    fn secrets(&self) -> Vec<(String, &SecretInput)> {
        Vec::new()
    }

    /// Register for redaction what the manifest writes that carries a
    /// credential all the same (a webhook's `Authorization` header, its
    /// URL's `?code=`), so that it is never printed, as secrets are not
    /// ([`crate::manifest::register_secrets`]).
    fn register_credentials(&self) {}

    /// Offline checks of Genesys limits and field combinations. Pointers are
    /// relative to the document (`/spec/...`).
    fn check(&self, _findings: &mut Findings) {}

    /// Checks of a resolved secret's value (its length, say) at `pointer`:
    /// `Some((message, hint))` when Genesys would refuse it. Never include
    /// the value in the message.
    fn check_secret(&self, _pointer: &str, _secret: &Secret) -> Option<(String, String)> {
        None
    }

    /// What the object declares about being the org default of its kind
    /// (`orgDefault`); at most one object of a kind may say `true`.
    fn org_default(&self) -> Option<bool> {
        None
    }

    /// The spec as JSON, exactly as declared (used for digests and rendering).
    fn to_json(&self) -> serde_json::Value;

    fn as_any(&self) -> &dyn Any;
}

/// The result of deserializing a spec: the spec, or the error with its field path.
pub type ParseResult = Result<Box<dyn Spec>, serde_path_to_error::Error<serde_json::Error>>;

/// What a spec is read from.
pub enum SpecInput<'a> {
    /// Its JSON value.
    Json(serde_json::Value),
    /// Its node in a parsed manifest, read without copying it into JSON
    /// unless it cannot be read (then the error comes from the JSON).
    Node(&'a crate::manifest::yaml::Node),
}

/// Registry entry of a kind: everything the generic stages know about it.
pub struct KindDef {
    /// One line on what the kind is, for the schema and docs.
    pub summary: &'static str,
    /// Apply order: kinds of lower order are created first and deleted last.
    /// A kind orders after every kind it can refer to (`tests/it/kinds.rs`
    /// checks that against the examples).
    pub order: u8,
    /// The file of an export directory that holds the kind's manifests;
    /// `None` for the Project, which export never writes.
    pub export_file: Option<&'static str>,
    /// Deserialize a spec; errors carry the path of the offending field.
    pub parse: fn(SpecInput<'_>) -> ParseResult,
    /// JSON Schema of the spec.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// How objects of the kind live in the org; `None` for manifest-only kinds.
    pub org: Option<&'static dyn org::OrgKind>,
}

/// Deserialize a concrete spec type, keeping the error's field path.
///
/// Tracking the path of every field read (`serde_path_to_error`) made typing
/// a manifest some 40 % slower, and the path is only needed for an error: a
/// spec is read without it first, from the borrowed value, and read again
/// with it only when that fails (then the error is the tracked reading's, as
/// before). Debug builds (the tests) read every spec both ways and compare.
///
/// A spec in a parsed manifest is read from its node first
/// ([`crate::manifest::yaml::de`]), and through JSON only when that fails.
pub fn parse_spec<S: Spec + DeserializeOwned>(input: SpecInput<'_>) -> ParseResult {
    let value = match input {
        SpecInput::Json(value) => value,
        SpecInput::Node(node) => {
            let read = crate::manifest::yaml::de::read::<S>(node);
            #[cfg(debug_assertions)]
            {
                let through_json = parse_json::<S>(&node.to_json());
                debug_assert_eq!(
                    read.as_ref().map(Spec::to_json),
                    through_json.ok().map(|spec| spec.to_json()),
                    "a spec read from its node differs from its reading through JSON"
                );
            }
            match read {
                Some(spec) => return Ok(Box::new(spec)),
                None => node.to_json(),
            }
        }
    };
    parse_json::<S>(&value)
}

/// [`parse_spec`] of a JSON value.
fn parse_json<S: Spec + DeserializeOwned>(value: &serde_json::Value) -> ParseResult {
    let Ok(spec) = S::deserialize(strict::Strict(value)) else {
        return serde_path_to_error::deserialize(strict::Strict(value))
            .map(|s: S| Box::new(s) as Box<dyn Spec>);
    };
    #[cfg(debug_assertions)]
    {
        let tracked: Result<S, _> = serde_path_to_error::deserialize(strict::Strict(value));
        debug_assert_eq!(
            tracked.ok().map(|tracked| tracked.to_json()),
            Some(spec.to_json()),
            "a spec read from a borrowed value differs from its tracked reading"
        );
    }
    Ok(Box::new(spec))
}

pub fn schema_of<S: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<S>()
}

/// Downcast a spec to its concrete type. Only kinds do this: the stages
/// outside `kinds` go through the traits.
pub(in crate::kinds) fn downcast<S: Spec>(spec: &dyn Spec) -> Option<&S> {
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
