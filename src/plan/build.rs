//! Building a plan from a manifest set and the live org: match each declared
//! object to the org by exact name, resolve references, diff, and add
//! prunes. Pure: no I/O, so it is tested without HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::diff::{DiffOptions, diff};
use super::early::{Compared, Speculation};
use super::problem::Problem;
use super::{Action, Change, LiveNames, LiveOrg, Plan, PlanTarget, fingerprint};
use crate::kinds::org::{Lookups, OrgKind, comparing, live_spec, tidy};
use crate::kinds::{LiveKind, RefTarget, Reference};
use crate::manifest::check::SetIndex;
use crate::manifest::{ManifestSet, Object};

/// Why a plan cannot be computed. Every problem is collected; each renders
/// on its own line(s) at its manifest location (see [`Problem`]).
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot plan: {} problem{} found",
    .problems.len(),
    if .problems.len() == 1 { "" } else { "s" }
)]
pub struct PlanError {
    pub problems: Vec<Problem>,
}

/// Compute the plan. Undeclared live objects inside the Project's prune
/// scopes become deletes marked as prunes: listed in every plan, counted and
/// executed only with prune on ([`Plan::with_prune`], `--prune`). The plan
/// is returned with prune off.
pub fn build(set: &ManifestSet, live: &LiveOrg, target: PlanTarget) -> Result<Plan, PlanError> {
    build_prepared(Prepared::new(set), live, target)
}

/// What a plan takes from the manifest set alone, made before the org is
/// read or while it is (`gcctl plan` prepares while its pages are in
/// flight), so that once the last page lands only the comparison is left.
pub struct Prepared<'s> {
    set: &'s ManifestSet,
    manifests: SetIndex<'s>,
    declared: Vec<Declared<'s>>,
}

/// A declared object of a kind that lives in the org, prepared.
struct Declared<'s> {
    object: &'s Object,
    /// Its org name (else its handle), looked up once.
    org_name: &'s str,
    kind: LiveKind,
    /// The object's references ([`Object::references`]).
    references: &'s [Reference],
    depends_on: Vec<String>,
    late_depends_on: Vec<String>,
    /// The spec as JSON, references resolved: [`desired_of`]'s start.
    /// Taken by the first comparison (an early one made while the org is
    /// read, which the plan may not use: then it is made again).
    spec: std::sync::Mutex<Option<Value>>,
    /// The pointers whose differences are ignored.
    ignore: Vec<String>,
    /// The change compared while the org was read, where it still holds
    /// ([`Speculation::usable`]).
    early: Option<Compared>,
}

impl<'s> Prepared<'s> {
    pub fn new(set: &'s ManifestSet) -> Self {
        let manifests = SetIndex::new(&set.objects);
        let objects: Vec<(&Object, LiveKind)> =
            set.objects.iter().filter_map(|o| Some((o, LiveKind::new(o.kind)?))).collect();
        let declared = crate::manifest::parallel::map(objects, |(object, kind)| {
            let references = object.references();
            let (depends_on, late_depends_on) = dependencies(object, references, &manifests);
            Declared {
                org_name: object.org_name().unwrap_or(&object.name),
                early: None,
                spec: std::sync::Mutex::new(Some(resolved_spec(object, references, &manifests))),
                ignore: ignored(object, set),
                object,
                kind,
                references,
                depends_on,
                late_depends_on,
            }
        });
        Prepared { set, manifests, declared }
    }
}

/// [`build`] of a prepared set.
pub fn build_prepared(
    prepared: Prepared<'_>,
    live: &LiveOrg,
    target: PlanTarget,
) -> Result<Plan, PlanError> {
    build_compared(prepared, None, live, target)
}

/// [`build_prepared`] of a set prepared for comparing early, taking the
/// changes [`Early`](super::early::Early) made while the org was read where
/// they still hold ([`Speculation::usable`]).
pub fn build_early(
    prepared: Arc<Prepared<'_>>,
    early: Option<Speculation>,
    live: &LiveOrg,
    target: PlanTarget,
) -> Result<Plan, PlanError> {
    // Every holder let go once the read was over; if one did not, the set
    // is prepared again rather than copied.
    let prepared = Arc::try_unwrap(prepared).unwrap_or_else(|shared| Prepared::new(shared.set));
    build_compared(prepared, early, live, target)
}

fn build_compared(
    prepared: Prepared<'_>,
    early: Option<Speculation>,
    live: &LiveOrg,
    target: PlanTarget,
) -> Result<Plan, PlanError> {
    let Prepared { set, manifests, mut declared } = prepared;
    let live_names = LiveNames::new(live);
    let mut problems = Vec::new();
    let mut changes = Vec::with_capacity(declared.len());
    if let Some(early) = early {
        let usable = early.usable(live, declared.len());
        for (declared, early) in declared.iter_mut().zip(usable) {
            declared.early = early;
        }
    }
    let planned = plan_each(declared, &manifests, live, &live_names);
    // Each declared object that matches one live object, by kind: what the
    // kinds' notes are about (`OrgKind::plan_notes`).
    let mut matched: BTreeMap<LiveKind, Vec<(&Object, &Value)>> = BTreeMap::new();
    let mut following = Vec::new();
    for Planned { object, kind, result, single, follows } in planned {
        if let Some(live) = single {
            matched.entry(kind).or_default().push((object, live));
        }
        match result {
            Ok(change) => {
                if !follows.is_empty() {
                    following.push((changes.len(), follows));
                }
                changes.push(change);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    follow(&mut changes, following, &manifests, live);
    note_case_twins(&mut changes, live, &manifests);
    let (pruned, held, kept) = prunes(set, live, &matched);
    changes.extend(pruned);
    problems.extend(held);
    if problems.is_empty() {
        // What the caller may do is checked on a plan that is otherwise sound.
        problems.extend(super::authz::check(&mut changes, &manifests, live));
    }
    if !problems.is_empty() {
        return Err(PlanError { problems });
    }
    let summary = Plan::summarize(&changes, false);
    let protection = protection_notes(set, &changes);
    let beyond = deleting_also_notes(&changes);
    Ok(Plan {
        format_version: super::FORMAT_VERSION.to_string(),
        gcctl_version: env!("CARGO_PKG_VERSION").to_string(),
        target,
        environment: set.env.clone(),
        inputs_digest: String::new(),
        prune: false,
        destroy: false,
        changes,
        summary,
        notes: matched
            .into_iter()
            .flat_map(|(kind, declared)| kind.org().plan_notes(&declared))
            .chain(kept)
            .chain(protection)
            .chain(beyond)
            .collect(),
        select: set.selected.clone(),
    })
}

/// One declared object planned: its change or its problems, the live
/// object it matches when it matches exactly one, and what an existing
/// object follows ([`OrgKind::follows`]).
struct Planned<'s, 'a> {
    object: &'s Object,
    kind: LiveKind,
    result: Result<Change, Vec<Problem>>,
    single: Option<&'a Value>,
    follows: Vec<Reference>,
}

/// Plan each declared object on its own: on every core, in order.
fn plan_each<'s, 'a>(
    declared: Vec<Declared<'s>>,
    manifests: &SetIndex<'_>,
    live: &'a LiveOrg,
    live_names: &LiveNames<'a>,
) -> Vec<Planned<'s, 'a>> {
    crate::manifest::parallel::map(declared, |mut declared| {
        let (object, kind) = (declared.object, declared.kind);
        let early = declared.early.take();
        let (result, single) = plan_object(&declared, early, manifests, live, live_names);
        // Usually nothing: no allocation.
        let follows = match &result {
            Ok(change) if matches!(change.action, Action::NoOp | Action::Update) => {
                kind.org().follows(object.spec.as_ref())
            }
            _ => Vec::new(),
        };
        Planned { object, kind, result, single, follows }
    })
}

/// The plan that deletes every declared object the org has (`gcctl
/// destroy`), in reverse dependency order, keeping objects declared with
/// `protect: true` (under their name in any environment) and what they
/// refer to, org defaults, built-ins and the OAuth client gcctl runs as. A declared name with
/// several live objects is a problem, as in [`build`].
pub fn build_destroy(
    set: &ManifestSet,
    live: &LiveOrg,
    target: PlanTarget,
) -> Result<Plan, PlanError> {
    let live_names = LiveNames::new(live);
    let manifests = SetIndex::new(&set.objects);
    let kept = kept_by_protection(set, &manifests);
    // With `--select`: what is still to delete once protection keeps its own.
    let deletable = set.deletable_beside(&kept);
    let mut problems = Vec::new();
    let mut changes = Vec::new();
    // Declared objects the org holds that the destroy keeps, by reason.
    let mut kept_live: BTreeMap<Kept, Vec<String>> = BTreeMap::new();
    for (object, kind) in set.objects.iter().filter_map(|o| Some((o, LiveKind::new(o.kind)?))) {
        if !kind.org().destroyable() {
            kept_live.entry(Kept::NotDestroyable).or_default().push(object.id());
            continue;
        }
        let org_name = object.org_name().unwrap_or(&object.name).to_string();
        let matches = live_matches(object, kind.org(), &org_name, &live_names);
        let matches = matches.as_slice();
        if kept.contains(&object.id()) {
            if !matches.is_empty() {
                kept_live.entry(Kept::Protected).or_default().push(object.id());
            }
            continue;
        }
        if deletable.as_ref().is_some_and(|d| !d.contains(&object.id())) {
            if !matches.is_empty() {
                kept_live.entry(Kept::FreesNothing).or_default().push(object.id());
            }
            continue;
        }
        if matches.len() > 1 {
            problems.push(duplicate_problem(object, kind.org(), &org_name, matches));
            continue;
        }
        let Some(live_object) = matches.first() else { continue };
        let protected = set.protected.contains(&(object.kind, org_name.clone()));
        let id = live_object.get("id").and_then(Value::as_str).map(str::to_string);
        let own = id.is_some() && id == live.lookups.own_client_id;
        let default = id.as_deref().is_some_and(|id| live.lookups.is_default(object.kind, id));
        let reason = if protected {
            Some(Kept::Protected)
        } else if own {
            Some(Kept::Own)
        } else if default {
            Some(Kept::Default)
        } else if live.lookups.is_protected_live(object.kind, live_object) {
            Some(Kept::BuiltIn)
        } else {
            None
        };
        if let Some(reason) = reason {
            kept_live.entry(reason).or_default().push(object.id());
            continue;
        }
        changes.push(Change {
            kind,
            manifest_name: Some(object.name.clone()),
            org_name,
            id,
            action: Action::Delete,
            prune: false,
            fields: Vec::new(),
            depends_on: Vec::new(),
            late_depends_on: Vec::new(),
            live_fingerprint: None,
            notes: Vec::new(),
        });
    }
    if !problems.is_empty() {
        return Err(PlanError { problems });
    }
    // Dependents first: the reverse of the apply order.
    changes.sort_by(|a, b| b.kind.cmp(&a.kind).then_with(|| a.org_name.cmp(&b.org_name)));
    wait_for_referrers(&mut changes, &manifests);
    let summary = Plan::summarize(&changes, false);
    Ok(Plan {
        format_version: super::FORMAT_VERSION.to_string(),
        gcctl_version: env!("CARGO_PKG_VERSION").to_string(),
        target,
        environment: set.env.clone(),
        inputs_digest: String::new(),
        prune: false,
        destroy: true,
        notes: protection_notes(set, &changes)
            .into_iter()
            .chain(kept_notes(kept_live))
            .chain(deleting_also_notes(&changes))
            .collect(),
        changes,
        summary,
        select: set.selected.clone(),
    })
}

/// A destroy's delete depends on the deletes of the declared objects that
/// refer to its object (the reverse of apply's order: an OAuth client's
/// delete before its role's): when one of those fails, the object is still
/// in use, and its delete is skipped as upstream failed rather than sent
/// to be refused.
fn wait_for_referrers(changes: &mut [Change], manifests: &SetIndex<'_>) {
    let deleting: std::collections::BTreeSet<String> =
        changes.iter().map(Change::address).collect();
    let mut referrers: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for change in changes.iter() {
        let Some(object) =
            change.manifest_name.as_deref().and_then(|n| manifests.get(change.kind.kind(), n))
        else {
            continue;
        };
        let (early, late) = dependencies(object, object.references(), manifests);
        for referred in early.into_iter().chain(late).filter(|d| deleting.contains(d)) {
            referrers.entry(referred).or_default().insert(change.address());
        }
    }
    for change in changes.iter_mut() {
        if let Some(by) = referrers.remove(&change.address()) {
            change.depends_on = by.into_iter().collect();
        }
    }
}

/// Why a destroy keeps a declared object the org holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kept {
    /// `protect: true` (in any environment), or referred to by such an object.
    Protected,
    /// The OAuth client gcctl runs as.
    Own,
    /// The org default of its kind.
    Default,
    /// A built-in of the org.
    BuiltIn,
    /// Reached by `--select` only through an object that is kept: deleting
    /// it would free nothing.
    FreesNothing,
    /// Of a kind destroy never deletes (`OrgKind::destroyable`).
    NotDestroyable,
}

/// A destroy's notes on the declared objects the org holds that it keeps,
/// one per reason, so that a destroy that deletes less than the manifests
/// declare says why ("Nothing to destroy" alone read as if the org held none).
fn kept_notes(kept: BTreeMap<Kept, Vec<String>>) -> Vec<super::PlanNote> {
    kept.into_iter()
        .map(|(reason, objects)| {
            let why = match reason {
                Kept::Protected => {
                    "`protect: true` on them or on their org name in another environment, or an object so protected refers to them"
                }
                Kept::Own => "the OAuth client gcctl runs as",
                Kept::Default => {
                    "the org default of its kind (make another the default in Genesys Cloud, then destroy again)"
                }
                Kept::BuiltIn => "a built-in of the org",
                Kept::FreesNothing => {
                    "--select reached them only through objects that are kept, so deleting them would free nothing"
                }
                Kept::NotDestroyable => {
                    "destroy never deletes objects of their kind (a user's routing profile: the user is not gcctl's to delete)"
                }
            };
            let shown = objects.iter().take(5).map(String::as_str).collect::<Vec<_>>().join(", ");
            let more = objects.len().saturating_sub(5);
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            super::PlanNote {
                message: format!("not deleted: {shown}{more}: {why}"),
                objects,
            }
        })
        .collect()
}

/// One note per kind whose deletes change more than the objects deleted
/// ([`OrgKind::deleting_also`]), naming the deletes (prunes included, asked
/// for or not), the first five by name.
fn deleting_also_notes(changes: &[Change]) -> Vec<super::PlanNote> {
    let mut deletes: BTreeMap<LiveKind, Vec<&Change>> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.action == Action::Delete) {
        deletes.entry(change.kind).or_default().push(change);
    }
    deletes
        .into_iter()
        .filter_map(|(kind, deletes)| {
            let also = kind.org().deleting_also()?;
            let shown: Vec<String> = deletes
                .iter()
                .take(5)
                .map(|c| crate::api::untrusted::quoted(&c.org_name))
                .collect();
            let more = match deletes.len().saturating_sub(5) {
                0 => String::new(),
                more => format!(" and {more} more"),
            };
            Some(super::PlanNote {
                message: format!(
                    "deleting {kind} {}{more} takes {} {also}",
                    shown.join(", "),
                    if deletes.len() == 1 { "it" } else { "each" }
                ),
                objects: deletes.iter().map(|c| c.address()).collect(),
            })
        })
        .collect()
}

/// A plan that deletes (prunes included, asked for or not) while an
/// environment's `protect: true` names are unknown
/// ([`ManifestSet::protection_unknown`]) says that an apply refuses its
/// deletes, so that a reviewer sees it before the apply does.
fn protection_notes(set: &ManifestSet, changes: &[Change]) -> Vec<super::PlanNote> {
    if !changes.iter().any(|c| c.action == Action::Delete) {
        return Vec::new();
    }
    set.protection_unknown
        .iter()
        .map(|unknown| super::PlanNote {
            message: format!(
                "{unknown}: `protect: true` may cover the objects this plan deletes under the names that environment gives them, so an apply or destroy refuses to delete anything until it loads (`gcctl validate --env NAME`)"
            ),
            objects: Vec::new(),
        })
        .collect()
}

/// The objects a destroy keeps because of `protect: true`: the protected
/// ones and, transitively, what they refer to (the org would refuse to
/// delete a role a kept client holds), by [`Object::id`].
fn kept_by_protection(
    set: &ManifestSet,
    manifests: &SetIndex<'_>,
) -> std::collections::BTreeSet<String> {
    let mut kept = std::collections::BTreeSet::new();
    let mut todo: Vec<&Object> = set
        .objects
        .iter()
        .filter(|o| {
            let name = o.org_name().unwrap_or(&o.name).to_string();
            set.protected.contains(&(o.kind, name))
        })
        .collect();
    while let Some(object) = todo.pop() {
        if kept.insert(object.id()) {
            for reference in object.references() {
                if let RefTarget::Kind(kind) = reference.target {
                    todo.extend(manifests.resolve(kind, &reference.name));
                }
            }
        }
    }
    kept
}

/// The desired spec-shaped value of a declared object: references resolved to
/// org names, the kind's adjustments applied, nulls dropped, whole numbers
/// as integers. `manifests` indexes the set the object belongs to.
///
/// Objects of kinds that do not live in the org have no desired value: `Null`.
pub fn desired_of(object: &Object, manifests: &SetIndex<'_>, lookups: &Lookups) -> Value {
    if object.kind.org().is_none() {
        return Value::Null;
    }
    let spec = resolved_spec(object, object.references(), manifests);
    desired_from(spec, object, manifests, lookups)
}

/// The object's spec as JSON, each of its `references` that the set
/// declares replaced by the org name of the object it resolves to.
fn resolved_spec(object: &Object, references: &[Reference], manifests: &SetIndex<'_>) -> Value {
    let mut spec = object.spec.to_json();
    for reference in references {
        if let Some(target) =
            manifests.resolve_ref(reference.target, &reference.name).and_then(Object::org_name)
        {
            let pointer = reference.pointer.trim_start_matches("/spec");
            if let Some(slot) = crate::json_pointer::get_mut(&mut spec, pointer) {
                *slot = Value::String(target.to_string());
            }
        }
    }
    spec
}

/// [`desired_of`] from the object's [`resolved_spec`].
fn desired_from(
    spec: Value,
    object: &Object,
    manifests: &SetIndex<'_>,
    lookups: &Lookups,
) -> Value {
    let Some(org) = object.kind.org() else { return Value::Null };
    let mut desired = org.desired(spec, object, manifests, lookups);
    tidy(&mut desired);
    desired
}

/// The change of one declared object, or its problems, and the live object
/// it matches when it matches exactly one. `early` is the change compared
/// while the org was read, if one still holds: it is taken when the object
/// matches exactly the live object it was compared with.
fn plan_object<'a>(
    declared: &Declared<'_>,
    early: Option<Compared>,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
    live_names: &LiveNames<'a>,
) -> (Result<Change, Vec<Problem>>, Option<&'a Value>) {
    let object = declared.object;
    let matches = live_matches(object, declared.kind.org(), declared.org_name, live_names);
    let single = match matches.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let id = single.and_then(|one| one.get("id")).and_then(Value::as_str);
    if let Some(early) = early.filter(|early| id == Some(early.id.as_str())) {
        return (*early.change, single);
    }
    (change_of(declared, manifests, &live.lookups, &matches), single)
}

/// The declared objects of `kind` that [`Early`](super::early::Early) may
/// compare as their live pages arrive, by org name: every one whose live
/// object gets no details read after the list (those change it).
pub(super) fn early_candidates<'s>(
    prepared: &Prepared<'s>,
    kind: LiveKind,
) -> crate::FastMap<&'s str, usize> {
    let org = kind.org();
    prepared
        .declared
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == kind && !org.details_needed(Some(d.object.spec.as_ref())))
        .map(|(index, d)| (d.org_name, index))
        .collect()
}

/// Compare the declared object `index` of `prepared` with `live_object`,
/// which has its org name, as [`plan_object`] will if it turns out to be
/// the only match, with the lookups made so far. `None` when the kind does
/// not match it ([`OrgKind::matches`]).
pub(super) fn compare_early(
    prepared: &Prepared<'_>,
    index: usize,
    live_object: &Value,
    lookups: &Lookups,
) -> Option<Result<Change, Vec<Problem>>> {
    let declared = prepared.declared.get(index)?;
    if !declared.kind.org().matches(declared.object.spec.as_ref(), live_object) {
        return None;
    }
    Some(change_of(declared, &prepared.manifests, lookups, &[live_object]))
}

fn change_of(
    declared: &Declared<'_>,
    manifests: &SetIndex<'_>,
    lookups: &Lookups,
    matches: &[&Value],
) -> Result<Change, Vec<Problem>> {
    let Declared { object, kind, references, depends_on, late_depends_on, spec, ignore, .. } =
        declared;
    let (object, kind) = (*object, *kind);
    let taken = spec.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    let spec = taken.unwrap_or_else(|| resolved_spec(object, references, manifests));
    let org = kind.org();
    let org_name = object.org_name().unwrap_or(&object.name).to_string();
    let problems = problems_of(declared, &org_name, manifests, lookups, matches);
    if !problems.is_empty() {
        return Err(problems);
    }
    let desired = desired_from(spec, object, manifests, lookups);
    let Some(live_object) = matches.first() else {
        let fields = diff(&desired, &Value::Null, &options(org, &[]));
        return Ok(Change {
            kind,
            manifest_name: Some(object.name.clone()),
            org_name,
            id: None,
            action: Action::Create,
            prune: false,
            notes: org.notes(&desired, None, &fields, lookups),
            fields,
            depends_on: depends_on.clone(),
            late_depends_on: late_depends_on.clone(),
            live_fingerprint: None,
        });
    };
    // Only what is declared is compared, so only that is projected.
    let mut live_spec = comparing(&desired, || live_spec(kind, live_object, lookups));
    org.align_live(&desired, &mut live_spec, lookups);
    let ignore = &*crate::kinds::org::align_ignored(org, &desired, ignore);
    let mut fields = diff(&desired, &live_spec, &options(org, ignore));
    let provenance = provenance_only(org, &mut fields);
    let id = live_object.get("id").and_then(Value::as_str).map(str::to_string);
    let mut notes = org.notes(&desired, Some(live_object), &fields, lookups);
    notes.extend(provenance);
    notes.extend(ignored_differences(org, &desired, &live_spec, ignore));
    Ok(Change {
        notes,
        kind,
        manifest_name: Some(object.name.clone()),
        org_name,
        action: if fields.is_empty() { Action::NoOp } else { Action::Update },
        prune: false,
        fields,
        depends_on: depends_on.clone(),
        late_depends_on: late_depends_on.clone(),
        live_fingerprint: None,
        id,
    })
}

/// A note for each declared field that differs from the org's but that
/// `ignoreDifferences` ignores: "no changes" must not read as "the org
/// holds what the manifest says" (the declared value is written only by a
/// create). No values: the note says where, the manifest and the org what.
fn ignored_differences(
    org: &dyn OrgKind,
    desired: &Value,
    live_spec: &Value,
    ignore: &[String],
) -> Vec<String> {
    if ignore.is_empty() {
        return Vec::new();
    }
    let under = |pointer: &str, ignored: &str| {
        pointer == ignored
            || pointer.strip_prefix(ignored).is_some_and(|rest| rest.starts_with('/'))
    };
    let mut pointers: Vec<&str> = Vec::new();
    let all = diff(desired, live_spec, &options(org, &[]));
    for field in &all {
        if let Some(ignored) = ignore.iter().find(|i| under(&field.pointer, i)) {
            if !pointers.contains(&ignored.as_str()) {
                pointers.push(ignored);
            }
        }
    }
    pointers
        .into_iter()
        .map(|pointer| {
            format!(
                "`{pointer}` is declared otherwise than the org holds it, and ignored (ignoreDifferences): the declared value is not written"
            )
        })
        .collect()
}

/// When the only difference is who made what is live
/// ([`OrgKind::provenance_pointer`]), no change: the fields are emptied, and
/// the note says who it was.
fn provenance_only(org: &dyn OrgKind, fields: &mut Vec<super::FieldChange>) -> Option<String> {
    let pointer = org.provenance_pointer()?;
    let [only] = fields.as_slice() else { return None };
    // No live value: nothing was ever published, a change to make.
    if only.pointer != pointer || only.before.is_none() {
        return None;
    }
    let who = only.before.as_ref().and_then(Value::as_str).unwrap_or("published by someone else");
    let note = format!(
        "{}; what is live is what the manifest declares, so nothing is published again (gcctl publishes it, with its mark, at the next declared change)",
        crate::api::untrusted::visible(who)
    );
    fields.clear();
    Some(note)
}

/// What stops a declared object from being planned: references that do not
/// resolve, a name more than one live object holds, and the kind's own
/// problems with the org and with the live objects it matched.
fn problems_of(
    declared: &Declared<'_>,
    org_name: &str,
    manifests: &SetIndex<'_>,
    lookups: &Lookups,
    matches: &[&Value],
) -> Vec<Problem> {
    let (object, org) = (declared.object, declared.kind.org());
    let mut problems = check_references(object, declared.references, manifests, lookups);
    if matches.len() > 1 {
        problems.push(duplicate_problem(object, org, org_name, matches));
    }
    for (pointer, message, hint) in org.org_problems(object.spec.as_ref(), lookups) {
        let problem = Problem::at(object, &pointer, message);
        problems.push(match hint {
            Some(hint) => problem.with_hint(hint),
            None => problem,
        });
    }
    for (message, hint) in matches.iter().filter_map(|m| org.live_problem(m)) {
        problems.push(
            Problem::at(object, "/spec/name", message)
                .seen_in("GET", org.api().collection, None)
                .with_hint(hint),
        );
    }
    problems
}

/// Objects that follow others beyond their names ([`OrgKind::follows`]: a
/// deployment pinned to its configuration's latest version) change with
/// what they follow: once every declared object is planned, each gets the
/// field changes its kind derives from the planned changes of the objects
/// it follows, and becomes an update if it was unchanged.
///
/// `following` is each existing object's change (its position in
/// `changes`) with the references it follows ([`OrgKind::follows`]), as
/// each object was planned: usually none, so nothing else is built.
fn follow(
    changes: &mut [Change],
    following: Vec<(usize, Vec<Reference>)>,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
) {
    if following.is_empty() {
        return;
    }
    let by_address: std::collections::HashMap<String, usize> =
        changes.iter().enumerate().map(|(i, c)| (c.address(), i)).collect();
    let mut added: Vec<(usize, Vec<super::FieldChange>, Vec<String>)> = Vec::new();
    for (index, follows) in following {
        let change = &changes[index];
        let live_object = change.id.as_deref().and_then(|id| {
            live.objects
                .get(&change.kind.kind())?
                .iter()
                .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
        });
        let Some(live_object) = live_object else { continue };
        let live_spec = live_spec(change.kind, live_object, &live.lookups);
        for reference in follows {
            let Some(target) = manifests.resolve_ref(reference.target, &reference.name) else {
                continue;
            };
            let Some(followed) = by_address.get(&target.id()).map(|i| &changes[*i]) else {
                continue;
            };
            let (fields, notes) = change.kind.org().followed(&live_spec, &reference, followed);
            if !fields.is_empty() || !notes.is_empty() {
                added.push((index, fields, notes));
            }
        }
    }
    for (index, fields, notes) in added {
        let change = &mut changes[index];
        for field in fields {
            if !change.fields.iter().any(|f| f.pointer == field.pointer) {
                change.fields.push(field);
            }
        }
        change.notes.extend(notes);
        if !change.fields.is_empty() {
            change.action = Action::Update;
        }
    }
}

/// The live objects a declared object matches: its org name, and what
/// else its kind's natural key holds (a flow's type).
fn live_matches<'a>(
    object: &Object,
    org: &dyn OrgKind,
    org_name: &str,
    live_names: &LiveNames<'a>,
) -> Vec<&'a Value> {
    live_names
        .named(object.kind, org_name)
        .filter(|live| org.matches(object.spec.as_ref(), live))
        .collect()
}

/// A declared name that several live objects have: gcctl will not choose.
fn duplicate_problem(
    object: &Object,
    org: &dyn OrgKind,
    org_name: &str,
    matches: &[&Value],
) -> Problem {
    let ids: Vec<&str> =
        matches.iter().filter_map(|m| m.get("id").and_then(Value::as_str)).collect();
    let message = format!(
        "{} live {} objects are named `{org_name}` (ids {})",
        matches.len(),
        object.kind,
        crate::api::untrusted::visible(&ids.join(", "))
    );
    Problem::at(object, "/spec/name", message)
        .seen_in("GET", org.api().collection, None)
        .with_hint(duplicate_fix(org, matches))
}

/// How to resolve a duplicated name: keep the object created first (by
/// `dateCreated` where the kind has it, else the first listed), delete the
/// others; gcctl then adopts the one left.
fn duplicate_fix(org: &dyn OrgKind, matches: &[&Value]) -> String {
    let collection = org.api().collection;
    let created = |o: &Value| o.get("dateCreated").and_then(Value::as_str).map(str::to_string);
    let mut ordered: Vec<&Value> = matches.to_vec();
    // Stable: objects without a date keep their list order, after dated ones.
    ordered.sort_by_key(|o| created(o).map_or((1, String::new()), |d| (0, d)));
    let id = |o: &Value| o.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
    let keep = ordered.first().map(|o| id(o)).unwrap_or_default();
    let deletes: Vec<String> =
        ordered.iter().skip(1).map(|o| format!("DELETE {collection}/{}", id(o))).collect();
    let why = if ordered.first().is_some_and(|o| created(o).is_some()) {
        "created first"
    } else {
        "listed first"
    };
    let first = org.before_delete_by_hand().map(|first| format!("; {first}")).unwrap_or_default();
    format!(
        "keep one and delete the others in the org, e.g. keep {keep} ({why}) and {}{first}; gcctl then adopts the one left (rename it instead if both are wanted)",
        deletes.join(", ")
    )
}

fn options<'a>(org: &'a dyn OrgKind, ignore: &'a [String]) -> DiffOptions<'a> {
    DiffOptions { sets: org.set_pointers(), write_only: org.write_only_pointers(), ignore }
}

/// The object's own ignored pointers plus the Project's for its kind.
fn ignored(object: &Object, set: &ManifestSet) -> Vec<String> {
    let mut ignore = object.ignore_differences.clone();
    for rule in set.project.ignore_differences.iter().filter(|r| r.kind == object.kind) {
        ignore.extend(rule.json_pointers.iter().cloned());
    }
    ignore
}

impl Plan {
    /// Fill in what only saved plans and JSON output carry: the digest of
    /// the inputs and the fingerprint of the live object behind each change,
    /// by which a saved plan is found stale. [`build`] leaves them out: a
    /// plan of 50,000 objects would spend a tenth of its CPU on them.
    #[must_use]
    pub fn sealed(mut self, set: &ManifestSet, live: &LiveOrg) -> Plan {
        // Whether the plan prunes is an input too: every plan lists its
        // prunes, planned or not, so a saved plan edited to prune would
        // otherwise match the fresh plan made with its edited setting.
        self.inputs_digest = set.digest();
        if self.prune {
            self.inputs_digest.push_str(super::PRUNE_DIGEST_MARK);
        }
        let kinds: std::collections::BTreeSet<crate::kinds::Kind> =
            self.changes.iter().filter(|c| c.id.is_some()).map(|c| c.kind.kind()).collect();
        let mut by_id: std::collections::HashMap<(crate::kinds::Kind, &str), &Value> =
            std::collections::HashMap::new();
        for kind in kinds {
            for object in live.objects.get(&kind).into_iter().flatten() {
                if let Some(id) = object.get("id").and_then(Value::as_str) {
                    by_id.entry((kind, id)).or_insert(object);
                }
            }
        }
        for change in &mut self.changes {
            let live_object =
                change.id.as_deref().and_then(|id| by_id.get(&(change.kind.kind(), id)));
            change.live_fingerprint = live_object.map(|o| live_fingerprint(o, &live.lookups));
        }
        self
    }
}

/// The fingerprint of a live object, including where its address routes.
pub fn live_fingerprint(live: &Value, lookups: &Lookups) -> String {
    let flow = crate::json_pointer::get(live, "/recipient/id")
        .and_then(Value::as_str)
        .and_then(|r| lookups.recipient_flow.get(r))
        .map(String::as_str);
    fingerprint(live, flow)
}

/// `Kind/name` of every manifest object this one references (its soft
/// references included), and apart those only its late step waits for.
/// `references` are the object's own (`Spec::references`), ordered as
/// [`crate::manifest::check::ordering`] says.
fn dependencies(
    object: &Object,
    references: &[Reference],
    manifests: &SetIndex<'_>,
) -> (Vec<String>, Vec<String>) {
    let resolve = |references: Vec<&Reference>| -> Vec<String> {
        let mut deps: Vec<String> = references
            .into_iter()
            .filter_map(|r| manifests.resolve_ref(r.target, &r.name))
            .filter(|o| o.kind.is_org_object() && !std::ptr::eq(*o, object))
            .map(Object::id)
            .collect();
        deps.sort();
        deps.dedup();
        deps
    };
    let soft = object.spec.soft_references();
    let (early, late) = crate::manifest::check::ordering(object, references, &soft);
    let early = resolve(early);
    let late = resolve(late).into_iter().filter(|d| !early.contains(d)).collect();
    (early, late)
}

/// References to org objects must resolve to exactly one live object.
fn check_references(
    object: &Object,
    references: &[Reference],
    manifests: &SetIndex<'_>,
    lookups: &Lookups,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for reference in references {
        if manifests.resolve_ref(reference.target, &reference.name).is_some() {
            continue;
        }
        if let RefTarget::Kind(kind) = reference.target {
            if !kind.is_org_object() {
                continue;
            }
        }
        let ids = lookups.ids_of(reference.target, &reference.name);
        let at = |message: String| Problem::at(object, &reference.pointer, message);
        match ids.len() {
            1 => {}
            0 if reference.target == RefTarget::User => {
                problems.push(unknown_user(object, reference, lookups));
            }
            0 => problems.push(at(format!(
                "{} `{}` is neither declared in the manifests nor present in the org",
                reference.target, reference.name
            ))),
            n => problems.push(
                at(format!(
                    "{n} {} objects in the org are named `{}` (ids {}); the reference is ambiguous",
                    reference.target,
                    reference.name,
                    crate::api::untrusted::visible(&ids.join(", "))
                ))
                .with_hint("rename all but one in the org"),
            ),
        }
    }
    problems
}

/// A user referenced by email that the org does not have, or has only
/// inactive: gcctl never creates or changes users.
fn unknown_user(
    object: &Object,
    reference: &crate::kinds::Reference,
    lookups: &Lookups,
) -> Problem {
    let email = &reference.name;
    let at = |message: String| Problem::at(object, &reference.pointer, message);
    match lookups.inactive_users.get(&email.to_lowercase()) {
        Some(state) => at(format!(
            "the user `{email}` is {state} in the org: only active users can be queue members or hold routing skills"
        ))
        .with_hint("reactivate the user in Genesys Cloud, or remove it from the manifest"),
        None => at(format!("no user in the org has the email `{email}`"))
            .seen_in("POST", "/api/v2/users/search", None)
            .with_hint(
                "gcctl never creates users: create the user in Genesys Cloud first, or fix the email; a user created moments ago may not be found yet, because the users search index lags behind",
            ),
    }
}

/// A create whose name the org holds in another case or look-alike form
/// ([`crate::names::loose_name`]: renamed in the UI from `Acme Support` to
/// `acme support`, say) gets a note naming that object: the org may refuse
/// the create as a duplicate (the sandbox does for case; whether Genesys
/// Cloud does is not verified), and the plan would otherwise not show why.
fn note_case_twins(changes: &mut [Change], live: &LiveOrg, manifests: &SetIndex<'_>) {
    let creates = |c: &&mut Change| c.action == Action::Create;
    let kinds: std::collections::BTreeSet<LiveKind> =
        changes.iter_mut().filter(creates).map(|c| c.kind).collect();
    for kind in kinds {
        let Some(objects) = live.objects.get(&kind.kind()) else { continue };
        let mut by_folded: crate::FastMap<String, Vec<(&str, &str, &Value)>> =
            crate::FastMap::default();
        for object in objects {
            let Some(name) = object.get("name").and_then(Value::as_str) else { continue };
            let id = object.get("id").and_then(Value::as_str).unwrap_or("?");
            by_folded.entry(crate::names::loose_name(name)).or_default().push((name, id, object));
        }
        for change in changes.iter_mut().filter(creates).filter(|c| c.kind == kind) {
            let Some(twins) = by_folded.get(&crate::names::loose_name(&change.org_name)) else {
                continue;
            };
            // Only a live object the declared one could be taken for: the
            // kind's key beyond the name too (a flow of another type is not).
            let declared =
                change.manifest_name.as_deref().and_then(|h| manifests.get(kind.kind(), h));
            let twin = twins.iter().find(|(name, _, live)| {
                *name != change.org_name
                    && declared.is_none_or(|o| kind.org().matches(o.spec.as_ref(), live))
            });
            if let Some((name, id, _)) = twin {
                let how = crate::names::how_alike(name, &change.org_name);
                change.notes.push(format!(
                    "the org holds {kind} {} (id {}), whose name differs {how}: the org may refuse this create as a duplicate, and people cannot tell the two apart; rename one of them (in the manifest, or in Genesys Cloud)",
                    crate::api::untrusted::quoted(name),
                    crate::api::untrusted::visible(id)
                ));
            }
        }
    }
}

/// Deletes for undeclared live objects inside a prune scope. Org defaults and
/// built-ins are never candidates, and neither is an id a declared object
/// holds (`matched`): the org listing that id under another name as well is
/// a problem at the declared object, never a delete of it. Nor is an object
/// a declared one refers to by its org name (a queue's wrap-up code, a
/// flow's queue): it is kept, and a plan note says so.
fn prunes(
    set: &ManifestSet,
    live: &LiveOrg,
    matched: &BTreeMap<LiveKind, Vec<(&Object, &Value)>>,
) -> (Vec<Change>, Vec<Problem>, Vec<super::PlanNote>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut kept: BTreeMap<(crate::kinds::Kind, String), Vec<String>> = BTreeMap::new();
    if set.project.prune.is_empty() {
        return (out, problems, Vec::new());
    }
    // What declared objects refer to, by kind and name, in the scoped kinds
    // only (the references of a large set are not made for nothing).
    let scoped = |kind: crate::kinds::Kind| set.project.prune.iter().any(|s| s.kind == kind);
    // A reference that names a declared object by its handle refers to
    // that object, not to a live one of that name.
    let handles: crate::FastSet<(crate::kinds::Kind, &str)> =
        set.objects.iter().map(|o| (o.kind, o.name.as_str())).collect();
    let mut used: crate::FastMap<(crate::kinds::Kind, String), Vec<String>> =
        crate::FastMap::default();
    for object in &set.objects {
        // The soft ones too: the queues, codes and flows a flow's YAML names.
        let soft = object.spec.soft_references();
        for reference in object.references().iter().chain(&soft) {
            let Some(kind) = reference.target.declared_kind().filter(|k| scoped(*k)) else {
                continue;
            };
            if handles.contains(&(kind, reference.name.as_str())) {
                continue;
            }
            used.entry((kind, reference.name.clone())).or_default().push(object.id());
        }
    }
    // Declared objects by kind and org name, all of them: kinds whose
    // natural key goes beyond the name (a flow's type) may declare a name
    // twice, and scanning the set per live object made large prunes quadratic.
    let mut declared_as: crate::FastMap<(crate::kinds::Kind, &str), Vec<&Object>> =
        crate::FastMap::default();
    for object in &set.objects {
        if let Some(name) = object.org_name() {
            declared_as.entry((object.kind, name)).or_default().push(object);
        }
    }
    // The names of declared objects the org does not hold (creates), and of
    // protected ones no live object has, as an org may take them to be the
    // same ([`crate::names::loose_name`]): a live object so named (of the same flow type)
    // is the declared one renamed in the UI, or one whose create the org
    // refuses as a duplicate, never an undeclared one to delete. (Beside a
    // declared object the org holds, such a live object is another one,
    // and pruned.) Key: kind, loose name, key beyond the name (`None` for
    // a protected name: any). Value: the declared name, and `Kind/name`.
    let holding: crate::FastSet<String> = matched.values().flatten().map(|(o, _)| o.id()).collect();
    let mut loosely: crate::FastMap<LooseKey<'_>, (&str, Option<&Object>)> =
        crate::FastMap::default();
    for object in set.objects.iter().filter(|o| scoped(o.kind) && !holding.contains(&o.id())) {
        if let Some(name) = object.org_name() {
            let key =
                (object.kind, crate::names::loose_name(name), Some(object.spec.key_beyond_name()));
            loosely.insert(key, (name, Some(object)));
        }
    }
    let live_names = |kind: crate::kinds::Kind| -> crate::FastSet<&str> {
        let objects = live.objects.get(&kind).into_iter().flatten();
        objects.filter_map(|o| o.get("name").and_then(Value::as_str)).collect()
    };
    let mut held_names: crate::FastMap<crate::kinds::Kind, crate::FastSet<&str>> =
        crate::FastMap::default();
    // `protect: true` names of every environment.
    for (kind, name) in set.protected.iter().filter(|(kind, _)| scoped(*kind)) {
        let held = held_names.entry(*kind).or_insert_with(|| live_names(*kind));
        if !held.contains(name.as_str()) {
            loosely
                .entry((*kind, crate::names::loose_name(name), None))
                .or_insert((name.as_str(), None));
        }
    }
    let mut like_declared: Vec<super::PlanNote> = Vec::new();
    for kind in LiveKind::all() {
        if !set.project.prune.iter().any(|s| kind == s.kind) {
            continue;
        }
        let held: crate::FastMap<&str, &Object> = matched
            .get(&kind)
            .into_iter()
            .flatten()
            .filter_map(|(object, live)| Some((live.get("id")?.as_str()?, *object)))
            .collect();
        for object in live.objects.get(&kind.kind()).into_iter().flatten() {
            let Some(name) = object.get("name").and_then(Value::as_str) else { continue };
            let declared = declared_as
                .get(&(kind.kind(), name))
                .into_iter()
                .flatten()
                .any(|o| kind.org().matches(o.spec.as_ref(), object));
            // `protect: true` guards the object's name in every environment.
            let protected = set.protected.contains(&(kind.kind(), name.to_string()));
            if declared
                || protected
                || !set.project.in_prune_scope(kind.kind(), name)
                || live.lookups.is_protected_live(kind.kind(), object)
            {
                continue;
            }
            if let Some(users) = used.get(&(kind.kind(), name.to_string())) {
                kept.insert((kind.kind(), name.to_string()), users.clone());
                continue;
            }
            let loose = crate::names::loose_name(name);
            let beyond = kind.org().key_beyond_name(object);
            let alike = loosely
                .get(&(kind.kind(), loose.clone(), Some(beyond)))
                .or_else(|| loosely.get(&(kind.kind(), loose, None)))
                .filter(|(declared, _)| *declared != name);
            if let Some((declared, object)) = alike {
                like_declared.push(super::PlanNote {
                    message: format!(
                        "{kind} {} is inside a prune scope and not declared, but its name differs from the declared {} only in letter case, spacing or look-alike characters: it is kept, never pruned (an org may take the two for one name; rename it in Genesys Cloud, or declare it as it is named)",
                        crate::api::untrusted::quoted(name),
                        crate::api::untrusted::quoted(declared),
                    ),
                    objects: object.iter().map(|o| o.id()).collect(),
                });
                continue;
            }
            let id = object.get("id").and_then(Value::as_str);
            if let Some((id, holder)) = id.and_then(|id| Some((id, *held.get(id)?))) {
                let message = format!(
                    "the org lists its id {} under another name too, {}, inside a prune scope: gcctl deletes no id a declared object holds",
                    crate::api::untrusted::visible(id),
                    crate::api::untrusted::quoted(name)
                );
                problems.push(
                    Problem::at(holder, "/spec/name", message)
                        .seen_in("GET", kind.org().api().collection, None)
                        .with_hint("the org's answer is inconsistent (an object renamed while gcctl read it?): run again, and if it persists, check the object in Genesys Cloud"),
                );
                continue;
            }
            let id = object.get("id").and_then(Value::as_str).map(str::to_string);
            out.push(Change::prune(kind, name, id));
        }
    }
    out.sort_by(|a, b| (a.kind, &a.org_name, &a.id).cmp(&(b.kind, &b.org_name, &b.id)));
    let kept = kept
        .into_iter()
        .map(|((kind, name), mut users)| {
            users.sort();
            users.dedup();
            super::PlanNote {
                message: format!(
                    "{kind} {} is inside a prune scope and not declared, but {} refer{} to it: it is kept (declare it, or stop referring to it, to manage it)",
                    crate::api::untrusted::quoted(&name),
                    users.join(", "),
                    if users.len() == 1 { "s" } else { "" }
                ),
                objects: users,
            }
        })
        .chain(like_declared)
        .collect();
    (out, problems, kept)
}

/// A declared or protected name in [`prunes`]' loose comparison: its kind,
/// [`crate::names::loose_name`], and its key beyond the name (`None`: any).
type LooseKey<'a> = (crate::kinds::Kind, String, Option<&'a str>);
