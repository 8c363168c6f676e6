//! Drift: how the live org differs from what the manifests declare, as data.
//! Renderers (text, JSON, Markdown, `JUnit`) only read a [`DriftReport`].
//!
//! A report is derived from a [`Plan`] computed by the same engine as
//! `gcctl plan` (so drift and plan never disagree): updates are drifted
//! objects, creates are missing objects, no-ops are in sync. Live objects
//! that no manifest declares inside a Project prune scope (what `--prune`
//! would delete) are unmanaged, and count as drift. With
//! `include_unmanaged`, undeclared objects outside every scope are listed
//! too, but count only with `fail_on_unmanaged`: an org that is not fully
//! managed does not fail a nightly drift job for objects nobody declared.
//! Built-ins and org defaults that gcctl never deletes (built-in roles, the
//! org default supported content profile) and the OAuth client gcctl
//! authenticates with are not listed as unmanaged.
//!
//! Invariants: ordering is deterministic (declared objects in plan order,
//! unmanaged ones by kind, org name, id); write-only fields are flagged and
//! never carry values, not even rotation counters.

use serde::Serialize;
use serde_json::Value;

use crate::kinds::Kind;
use crate::manifest::ManifestSet;
use crate::plan::{Action, Change, LiveOrg, Plan, PlanTarget};

/// The version of the drift report's JSON format. Bumped on any incompatible change.
pub const FORMAT_VERSION: &str = "1";

/// A drift report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftReport {
    pub format_version: String,
    pub gcctl_version: String,
    pub target: PlanTarget,
    /// The selected environment, if any.
    pub environment: Option<String>,
    /// Digest of the desired state (as in plans).
    pub inputs_digest: String,
    /// Whether undeclared objects outside every prune scope were looked for.
    pub include_unmanaged: bool,
    /// Whether those count as drift.
    pub fail_on_unmanaged: bool,
    /// The `--select` patterns the report was narrowed to: a partial
    /// report, of the selected objects and what they refer to, with no
    /// unmanaged objects (everything left out would look undeclared).
    /// Absent: the whole set.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// Every declared org object, in sync or not, in plan order.
    pub objects: Vec<DeclaredObject>,
    /// Live objects no manifest declares: inside prune scopes always,
    /// outside them with `include_unmanaged`.
    pub unmanaged: Vec<UnmanagedObject>,
    pub summary: DriftSummary,
}

/// A declared object and how the org compares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeclaredObject {
    pub kind: Kind,
    /// `metadata.name` of the manifest.
    pub manifest_name: String,
    /// The org-side name.
    pub org_name: String,
    /// The live object's id; `None` when it is missing.
    pub id: Option<String>,
    pub status: DriftStatus,
    /// Drifted fields, in pointer order (empty unless `drifted`).
    pub fields: Vec<DriftedField>,
    /// What a reader should know about the live object beyond its fields
    /// (a configuration's draft holds edits nobody published): the plan's
    /// notes for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl DeclaredObject {
    /// `Kind/name`.
    pub fn address(&self) -> String {
        format!("{}/{}", self.kind, self.manifest_name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftStatus {
    /// The live object matches every declared field.
    InSync,
    /// The live object differs in at least one declared field.
    Drifted,
    /// No live object has the declared name.
    Missing,
}

impl DriftStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DriftStatus::InSync => "in-sync",
            DriftStatus::Drifted => "drifted",
            DriftStatus::Missing => "missing",
        }
    }
}

/// One drifted field, addressed by JSON pointer into the spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftedField {
    pub pointer: String,
    /// The declared value (`None` for write-only fields).
    pub declared: Option<Value>,
    /// The live value (`None`: not set in the org, or a write-only field).
    pub live: Option<Value>,
    /// A write-only field (a secret's rotation state): values are never shown.
    pub write_only: bool,
}

/// A live object that no manifest declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmanagedObject {
    pub kind: Kind,
    pub org_name: String,
    pub id: Option<String>,
    /// Inside a Project prune scope: `apply --prune` would delete it.
    pub in_prune_scope: bool,
}

impl UnmanagedObject {
    /// `Kind/org name`.
    pub fn address(&self) -> String {
        format!("{}/{}", self.kind, self.org_name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DriftSummary {
    pub in_sync: usize,
    pub drifted: usize,
    pub missing: usize,
    /// Unmanaged objects inside prune scopes (drift).
    pub unmanaged: usize,
    /// Unmanaged objects outside every prune scope (listed with
    /// `include_unmanaged`; drift only with `fail_on_unmanaged`).
    pub unmanaged_outside_scopes: usize,
}

impl DriftReport {
    /// Whether anything differs: drifted or missing objects, unmanaged ones
    /// inside prune scopes, and those outside when they are to fail.
    pub fn has_drift(&self) -> bool {
        let s = &self.summary;
        let outside = if self.fail_on_unmanaged { s.unmanaged_outside_scopes } else { 0 };
        s.drifted + s.missing + s.unmanaged + outside > 0
    }
}

/// What a drift report covers beyond the declared objects.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// List undeclared live objects outside every prune scope too.
    pub include_unmanaged: bool,
    /// Count those as drift.
    pub fail_on_unmanaged: bool,
    /// The OAuth client gcctl authenticates with: never listed as unmanaged
    /// (it is the tool's own credential, like a built-in).
    pub own_client_id: Option<String>,
}

/// Build the report from a plan computed against `live`.
pub fn report(
    set: &ManifestSet,
    live: &LiveOrg,
    plan: &Plan,
    options: &DriftOptions,
) -> DriftReport {
    let include_unmanaged = options.include_unmanaged;
    let objects: Vec<DeclaredObject> = plan.changes.iter().filter_map(declared_object).collect();
    // A partial set would call every declared object left out unmanaged.
    let unmanaged: Vec<UnmanagedObject> = if set.selected.is_empty() {
        unmanaged(set, live, options.own_client_id.as_deref())
            .into_iter()
            .filter(|u| u.in_prune_scope || include_unmanaged)
            .collect()
    } else {
        Vec::new()
    };
    let count = |status| objects.iter().filter(|o| o.status == status).count();
    let summary = DriftSummary {
        in_sync: count(DriftStatus::InSync),
        drifted: count(DriftStatus::Drifted),
        missing: count(DriftStatus::Missing),
        unmanaged: unmanaged.iter().filter(|u| u.in_prune_scope).count(),
        unmanaged_outside_scopes: unmanaged.iter().filter(|u| !u.in_prune_scope).count(),
    };
    DriftReport {
        format_version: FORMAT_VERSION.to_string(),
        gcctl_version: env!("CARGO_PKG_VERSION").to_string(),
        target: plan.target.clone(),
        environment: plan.environment.clone(),
        inputs_digest: plan.inputs_digest.clone(),
        include_unmanaged,
        fail_on_unmanaged: options.fail_on_unmanaged,
        select: set.selected.clone(),
        objects,
        unmanaged,
        summary,
    }
}

/// How a declared object stands, from its change in the plan: in sync, drifted
/// (with its fields, write-only values left out) or missing; `None` for a
/// prune or a grant, which are not about a declared object.
fn declared_object(change: &Change) -> Option<DeclaredObject> {
    let status = match change.action {
        Action::NoOp => DriftStatus::InSync,
        Action::Update => DriftStatus::Drifted,
        Action::Create => DriftStatus::Missing,
        // Prunes are about undeclared objects: see `unmanaged`.
        Action::Delete | Action::Grant => return None,
    };
    let fields = if status == DriftStatus::Drifted {
        change
            .fields
            .iter()
            .map(|f| DriftedField {
                pointer: f.pointer.clone(),
                declared: if f.sensitive { None } else { f.after.clone() },
                live: if f.sensitive { None } else { f.before.clone() },
                write_only: f.sensitive,
            })
            .collect()
    } else {
        Vec::new()
    };
    Some(DeclaredObject {
        kind: change.kind.kind(),
        manifest_name: change.manifest_name.clone()?,
        org_name: change.org_name.clone(),
        id: change.id.clone(),
        status,
        fields,
        notes: change.notes.clone(),
    })
}

/// Live objects of every org kind that no manifest declares (by org name,
/// and the kind's key beyond it: a flow of another type than the declared
/// one of its name is not declared).
fn unmanaged(set: &ManifestSet, live: &LiveOrg, own_client: Option<&str>) -> Vec<UnmanagedObject> {
    let mut declared_as: crate::FastMap<(Kind, &str), Vec<&crate::manifest::Object>> =
        crate::FastMap::default();
    for object in &set.objects {
        if let Some(name) = object.org_name() {
            declared_as.entry((object.kind, name)).or_default().push(object);
        }
    }
    let mut out = Vec::new();
    for kind in crate::kinds::LiveKind::all() {
        for object in live.objects.get(&kind.kind()).into_iter().flatten() {
            let Some(name) = object.get("name").and_then(Value::as_str) else { continue };
            let declared = declared_as
                .get(&(kind.kind(), name))
                .into_iter()
                .flatten()
                .any(|o| kind.org().matches(o.spec.as_ref(), object));
            let kind = kind.kind();
            let id = object.get("id").and_then(Value::as_str);
            // Ids are unique across kinds: only gcctl's own client has this one.
            let own = id.is_some() && id == own_client;
            if declared || own || live.lookups.is_protected_live(kind, object) {
                continue;
            }
            out.push(UnmanagedObject {
                kind,
                org_name: name.to_string(),
                id: id.map(str::to_string),
                in_prune_scope: set.project.in_prune_scope(kind, name),
            });
        }
    }
    out.sort_by(|a, b| (a.kind, &a.org_name, &a.id).cmp(&(b.kind, &b.org_name, &b.id)));
    out
}
