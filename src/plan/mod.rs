//! The plan: what would change in the org, as data. Renderers only read it;
//! `apply` executes it; `--out` saves it.
//!
//! A plan is computed from a validated [`ManifestSet`](crate::manifest::ManifestSet) and a [`LiveOrg`] read
//! from the API. Changes are ordered deterministically (kind in dependency
//! order, then manifest name; prunes last), each with field-level before and
//! after values in the manifest's own paths, and a fingerprint of the live
//! object it was computed against so a saved plan can detect staleness.
//! Secret values never enter a plan: write-only fields appear only as
//! rotation counters flagged `sensitive`.

pub mod authz;
pub mod build;
pub mod caller;
pub mod diff;
pub mod early;
pub mod problem;
pub mod read;
pub mod saved;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::kinds::org::Lookups;
use crate::kinds::{Kind, LiveKind};

pub use build::{PlanError, Prepared, build, build_destroy, build_early, build_prepared};
pub use early::Early;
pub use problem::Problem;
pub use read::{
    ListedJob, Prefetched, ReadError, ReadScope, read, read_beside, read_comparing, read_with,
};

/// The version of the plan's JSON format. Bumped on any incompatible change.
pub const FORMAT_VERSION: &str = "1";

/// What the plan was computed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanTarget {
    /// `sandbox` for the built-in sandbox org, else `org`.
    pub kind: String,
    /// The region label or base URL.
    pub location: String,
    /// The org's id (`GET /api/v2/organizations/me`): a saved plan applies
    /// only to the org it was made against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The org's name, for messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
}

impl PlanTarget {
    pub fn new(kind: impl Into<String>, location: impl Into<String>) -> Self {
        PlanTarget { kind: kind.into(), location: location.into(), org_id: None, org_name: None }
    }

    /// The same target, naming the org it reaches.
    #[must_use]
    pub fn with_org(mut self, org: Option<&OrgIdentity>) -> Self {
        if let Some(org) = org {
            self.org_id = Some(org.id.clone());
            self.org_name = Some(org.name.clone());
        }
        self
    }

    /// Whether two targets are the same org: by id when both know it, else
    /// by kind and location.
    pub fn same_org(&self, other: &PlanTarget) -> bool {
        match (&self.org_id, &other.org_id) {
            (Some(a), Some(b)) => a == b,
            _ => self.kind == other.kind && self.location == other.location,
        }
    }

    /// `org "Acme Prod" (id …) at eu-central-1 (mypurecloud.de)`; the
    /// org's text with its control characters and invisible format
    /// characters shown as escapes ([`crate::api::untrusted::visible`]).
    pub fn describe(&self) -> String {
        use crate::api::untrusted::visible;
        match (&self.org_name, &self.org_id) {
            (Some(name), Some(id)) => {
                format!(
                    "{} {} (id {}) at {}",
                    self.kind,
                    crate::api::untrusted::quoted(name),
                    visible(id),
                    self.location
                )
            }
            _ => format!("{} {}", self.kind, self.location),
        }
    }
}

/// The org a run reaches: `GET /api/v2/organizations/me` (which requires no
/// permission; API reference §m).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgIdentity {
    pub id: String,
    pub name: String,
}

/// A computed plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: String,
    pub gcctl_version: String,
    pub target: PlanTarget,
    /// The selected environment, if any.
    pub environment: Option<String>,
    /// Digest of the desired state (manifests with the environment applied).
    pub inputs_digest: String,
    /// Whether prunes are part of the plan (`--prune`). Without it, the
    /// undeclared objects inside prune scopes are still listed (as changes
    /// with `prune: true`), but they are not counted and `apply` does not
    /// delete them.
    #[serde(default)]
    pub prune: bool,
    /// A plan that deletes the declared objects (`gcctl destroy`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub destroy: bool,
    /// Every declared org object (no-ops included) and every prune, in order.
    pub changes: Vec<Change>,
    pub summary: Summary,
    /// What the plan leaves alone on purpose and a reader should know
    /// (see [`PlanNote`]); absent when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<PlanNote>,
    /// The `--select` patterns the plan was narrowed to: a partial plan,
    /// of the selected objects and what they refer to (for a destroy plan,
    /// what refers to them), without prunes. Absent: the whole set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
}

/// A note of the plan: something gcctl deliberately does not change,
/// said once for all the objects it concerns (not a change, not a
/// problem; it never affects the exit code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanNote {
    /// The note in words, naming the objects.
    pub message: String,
    /// `Kind/name` of the objects it concerns: declared objects by their
    /// manifest name, undeclared ones (prunes) by their org name.
    pub objects: Vec<String>,
}

/// One object's planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// A kind whose objects live in the org (a saved plan naming another
    /// kind does not load).
    pub kind: LiveKind,
    /// `metadata.name` of the manifest; `None` for prunes (undeclared objects).
    pub manifest_name: Option<String>,
    /// The org-side name.
    pub org_name: String,
    /// The live object's id; `None` for creates.
    pub id: Option<String>,
    pub action: Action,
    /// For deletes: the object is undeclared and inside a prune scope.
    pub prune: bool,
    /// Field-level changes (empty for no-ops and deletes).
    pub fields: Vec<FieldChange>,
    /// `Kind/name` of the manifest objects this one refers to.
    pub depends_on: Vec<String>,
    /// `Kind/name` of the manifest objects a later step of this change
    /// waits for (an integration's message routing waits for the flow it
    /// routes to; see `OrgKind::late_pointers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late_depends_on: Vec<String>,
    /// Fingerprint of the live object this change was computed against.
    pub live_fingerprint: Option<String>,
    /// What the change does beyond its fields, or what a reader should
    /// know about the live object (a configuration's change publishes
    /// version 4; its draft holds edits nobody published). See
    /// `OrgKind::notes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Change {
    /// The delete of a live object no manifest declares, inside a prune
    /// scope: it has no manifest name, fields or dependencies.
    pub fn prune(kind: LiveKind, org_name: &str, id: Option<String>) -> Change {
        Change {
            kind,
            manifest_name: None,
            org_name: org_name.to_string(),
            id,
            action: Action::Delete,
            prune: true,
            fields: Vec::new(),
            depends_on: Vec::new(),
            late_depends_on: Vec::new(),
            live_fingerprint: None,
            notes: Vec::new(),
        }
    }

    /// `Kind/name` (manifest name, or org name for prunes);
    /// `CallerGrant/<role>` for a grant to the caller.
    pub fn address(&self) -> String {
        if self.action == Action::Grant {
            return format!("CallerGrant/{}", self.org_name);
        }
        format!("{}/{}", self.kind, self.manifest_name.as_deref().unwrap_or(&self.org_name))
    }

    /// The change as messages name it: its [`Change::address`], or, for a
    /// change without a manifest (a prune), the kind and the quoted org name
    /// with control characters and line breaks escaped
    /// (`RoutingQueue "Old\nQueue"`), as the plan shows it.
    pub fn described(&self) -> String {
        if self.manifest_name.is_some() || self.action == Action::Grant {
            return self.address();
        }
        format!("{} {}", self.kind, crate::api::untrusted::quoted(&self.org_name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Delete,
    NoOp,
    /// Grant a role (the change's `kind` is `Role`, `org_name` the role's
    /// name, `id` its id when it exists) to the caller in the divisions of
    /// `/divisions`, so that the caller may grant it to an OAuth client: the
    /// org lets a caller grant only roles it holds. Planned only when the
    /// caller is a user who may grant roles (see [`authz`]).
    Grant,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Grant => "grant",
        }
    }
}

/// One changed field, addressed by JSON pointer into the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub pointer: String,
    /// The live value (`None`: not set).
    pub before: Option<Value>,
    /// The desired value (`None`: removed).
    pub after: Option<Value>,
    /// A write-only field: the values are rotation counters, never secrets,
    /// and the change means the secret will be sent.
    pub sensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub no_op: usize,
}

/// What a plan made with `--prune` adds to its inputs' digest
/// ([`Plan::sealed`]).
pub const PRUNE_DIGEST_MARK: &str = "+prune";

impl Plan {
    /// A plan of `changes` against a sandbox named `x`, for the renderers'
    /// and the saved plan's tests (its summary left at zero).
    #[cfg(test)]
    pub(crate) fn of(changes: Vec<Change>) -> Plan {
        Plan {
            format_version: FORMAT_VERSION.into(),
            gcctl_version: "0".into(),
            target: PlanTarget::new("sandbox", "x"),
            environment: None,
            inputs_digest: String::new(),
            prune: false,
            destroy: false,
            summary: Summary::default(),
            changes,
            notes: Vec::new(),
            select: Vec::new(),
        }
    }

    /// Whether applying the plan would change anything.
    pub fn has_changes(&self) -> bool {
        self.summary.create + self.summary.update + self.summary.delete > 0
    }

    /// The plan with prunes on or off (`--prune`): counted, or only listed.
    #[must_use]
    pub fn with_prune(mut self, prune: bool) -> Plan {
        self.prune = prune;
        self.summary = Plan::summarize(&self.changes, prune);
        self
    }

    /// Prune candidates listed but not planned (the plan is without `--prune`).
    pub fn prunes_left_out(&self) -> usize {
        if self.prune { 0 } else { self.changes.iter().filter(|c| c.prune).count() }
    }

    /// Whether this change runs when the plan is applied (a prune only with `--prune`).
    pub fn runs(&self, change: &Change) -> bool {
        change.action != Action::NoOp && (self.prune || !change.prune)
    }

    /// Totals of the changes; prunes count only when `prune` is on.
    pub fn summarize(changes: &[Change], prune: bool) -> Summary {
        let mut summary = Summary::default();
        for change in changes.iter().filter(|c| prune || !c.prune) {
            match change.action {
                Action::Create => summary.create += 1,
                // A grant changes the caller's grants: an update.
                Action::Update | Action::Grant => summary.update += 1,
                Action::Delete => summary.delete += 1,
                Action::NoOp => summary.no_op += 1,
            }
        }
        summary
    }
}

/// The live org as read for one run: objects per kind (API JSON) and the
/// reference lookups.
#[derive(Debug, Clone, Default)]
pub struct LiveOrg {
    pub objects: BTreeMap<Kind, Vec<Value>>,
    pub lookups: Lookups,
    /// Who gcctl acts as, when it was read (plan and apply read it).
    pub caller: Option<caller::Caller>,
    /// The org itself, when it was read (with the caller).
    pub org: Option<OrgIdentity>,
}

/// The live objects of a [`LiveOrg`] by kind and exact name, built once so
/// that matching declared objects does not scan the org for each one.
///
/// Invariant: each (kind, name) holds every live object of that kind with
/// that name, in the order of the live list (messages list their ids).
#[derive(Debug)]
pub struct LiveNames<'a> {
    /// Per kind, the index in shards: a large list's halves are indexed on
    /// two cores, the first half's shard first (so matches keep live order).
    by_kind: BTreeMap<Kind, Vec<crate::FastMap<&'a str, Vec<&'a Value>>>>,
}

impl<'a> LiveNames<'a> {
    pub fn new(live: &'a LiveOrg) -> Self {
        use crate::manifest::parallel::{JOIN_FROM, join};
        fn index(objects: &[Value]) -> crate::FastMap<&str, Vec<&Value>> {
            let mut by_name: crate::FastMap<&str, Vec<&Value>> = crate::FastMap::default();
            by_name.reserve(objects.len());
            for object in objects {
                if let Some(name) = object.get("name").and_then(Value::as_str) {
                    by_name.entry(name).or_default().push(object);
                }
            }
            by_name
        }
        let mut by_kind = BTreeMap::new();
        for (kind, objects) in &live.objects {
            let shards = if objects.len() < JOIN_FROM {
                vec![index(objects)]
            } else {
                let (first, second) = objects.split_at(objects.len() / 2);
                let (second, first) = join(true, || index(second), || index(first));
                vec![first, second]
            };
            by_kind.insert(*kind, shards);
        }
        LiveNames { by_kind }
    }

    /// Live objects of a kind with exactly this name, in live order.
    pub fn named<'s>(&'s self, kind: Kind, name: &'s str) -> impl Iterator<Item = &'a Value> + 's {
        let shards = self.by_kind.get(&kind).map_or(&[][..], Vec::as_slice);
        shards.iter().filter_map(move |shard| shard.get(name)).flatten().copied()
    }
}

/// A stable fingerprint of a live object (and its message routing, for
/// integrations): any change behind our back changes it.
pub fn fingerprint(live: &Value, extra: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    // serde_json's map is ordered by key, so this text is canonical.
    hasher.update(live.to_string().as_bytes());
    if let Some(extra) = extra {
        hasher.update(b"\0");
        hasher.update(extra.as_bytes());
    }
    format!("sha256:{}", &hex::encode(hasher.finalize())[..32])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind(name: &str) -> Kind {
        Kind::parse(name).expect("a kind")
    }

    /// The org's name heads every plan: a bidirectional override or an
    /// escape sequence in it shows as an escape (it passed raw).
    #[test]
    fn a_targets_org_name_cannot_act_on_the_terminal() {
        let target = PlanTarget {
            kind: "org".into(),
            location: "eu-central-1".into(),
            org_id: Some("o1".into()),
            org_name: Some("Acme \u{202e}dorP\u{1b}[31m".into()),
        };
        let shown = target.describe();
        assert_eq!(shown, "org \"Acme \\u{202e}dorP\\u{1b}[31m\" (id o1) at eu-central-1");
    }

    /// A list large enough to be indexed in two halves still gives every
    /// match of a name in live order, across the halves.
    #[test]
    fn live_names_of_a_large_list_keep_live_order_across_halves() {
        let queue = kind("RoutingQueue");
        let mut live = LiveOrg::default();
        let objects: Vec<Value> = (0..4_001)
            .map(|i| {
                let name = if i % 1_000 == 7 { "Same".to_string() } else { format!("Q{i}") };
                json!({"id": i.to_string(), "name": name})
            })
            .collect();
        live.objects.insert(queue, objects);
        let names = LiveNames::new(&live);
        let ids: Vec<&str> = names.named(queue, "Same").filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(ids, ["7", "1007", "2007", "3007"]);
        let last: Vec<&str> =
            names.named(queue, "Q4000").filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(last, ["4000"]);
        assert_eq!(names.named(queue, "Missing").count(), 0);
    }

    #[test]
    fn live_names_keep_every_match_in_live_order() {
        let (queue, role) = (kind("RoutingQueue"), kind("Role"));
        let mut live = LiveOrg::default();
        live.objects.insert(
            queue,
            vec![
                json!({"id": "3", "name": "Same"}),
                json!({"id": "1", "name": "Other"}),
                json!({"id": "2", "name": "Same"}),
                json!({"id": "4"}),
            ],
        );
        live.objects.insert(role, vec![json!({"id": "5", "name": "Same"})]);
        let names = LiveNames::new(&live);
        let ids = |kind, name| -> Vec<&str> {
            names.named(kind, name).filter_map(|o| o["id"].as_str()).collect()
        };
        assert_eq!(ids(queue, "Same"), ["3", "2"]);
        assert_eq!(ids(queue, "Other"), ["1"]);
        assert_eq!(ids(role, "Same"), ["5"]);
        assert!(ids(queue, "Missing").is_empty());
        assert!(ids(kind("OAuthClient"), "Same").is_empty());
    }
}
