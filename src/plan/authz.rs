//! What the caller may do, checked before any change.
//!
//! With the caller read ([`super::caller`]), a plan:
//!
//! - **checks role grants:** the org lets a caller grant an OAuth client only
//!   roles the caller itself holds (API reference Summary item 16; the
//!   Terraform provider: "The roles must also already be assigned to the
//!   OAuth Client used by Terraform"; the division is part of the grant, so
//!   gcctl requires the role in that division, the stricter reading, as the
//!   sandbox does). A grant the caller could not make is a plan problem
//!   naming the client, the role, the division, the caller and the fix,
//!   unless the caller is a user who may grant roles
//!   (`authorization:grant:add`): then the plan first grants the role to
//!   that user, as its own change (`CallerGrant/<role>`, action `grant`),
//!   which the OAuth client's change depends on. Under client credentials
//!   nothing is granted to the caller: the plan stops before any change
//!   (exit 1), and a run after the fix (the role granted to the client gcctl
//!   runs as, or a run as such a user) converges. When the role is declared
//!   in the manifests and does not exist yet, the fix starts with creating
//!   it alone: the hint names `gcctl apply --select Role/<name> ...` (see
//!   [`ApplyFirst`]; the CLI completes it with the run's paths and options).
//! - **checks permissions:** each planned change's API calls
//!   ([`crate::kinds::org::OrgKind::calls`]) require permissions
//!   ([`crate::permissions::required`]); those the caller lacks are one
//!   problem per change, naming the permissions and the calls. A
//!   division-aware permission (`routing:queue:add`, see
//!   [`crate::permissions::DIVISION_AWARE`]) is needed in the division of
//!   the object the change touches (or in all divisions, `*`), as a real
//!   org checks it: `routing:queue:add` held in Home only does not create a
//!   queue in another division. A grant to the caller needs
//!   `authorization:grant:add` in the divisions it grants. When the
//!   caller's permissions could not be read, this check is skipped.
//!
//! Only grants a change adds are checked: a grant the client already has is
//! sent again by a read-merge PUT, and whether a real org re-checks those is
//! UNVERIFIED (the sandbox does not).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::caller::{ALL_DIVISIONS, Caller, SubjectKind};
use super::problem::{ApplyFirst, Problem};
use super::{Action, Change, FieldChange, LiveOrg};
use crate::FastMap;
use crate::kinds::org::DefaultDivision;
use crate::kinds::{Kind, RefTarget};
use crate::manifest::Object;
use crate::manifest::check::SetIndex;
use crate::permissions::{Mode, Requirement};

/// A role an OAuth client change gives: its org name, its division's name,
/// and the manifest pointer of the grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenRole {
    /// The kind of the role (the one the granting kind refers to).
    pub kind: Kind,
    pub role: String,
    pub division: String,
    pub pointer: String,
}

/// Check the plan's changes against the caller; adds the grants to the
/// caller that the plan needs, and returns the problems.
pub fn check(changes: &mut Vec<Change>, manifests: &SetIndex<'_>, live: &LiveOrg) -> Vec<Problem> {
    let Some(caller) = &live.caller else { return Vec::new() };
    let object_of = |change: &Change| {
        change.manifest_name.as_deref().and_then(|n| manifests.get(change.kind.kind(), n))
    };
    let mut problems = Vec::new();
    // role org name -> (divisions to hold, addresses of the changes that need it)
    // (role kind, role org name) -> (divisions to hold, changes that need it)
    let mut grants: Grants = BTreeMap::new();
    for (index, change) in changes.iter().enumerate() {
        if !matches!(change.action, Action::Create | Action::Update) {
            continue;
        }
        for given in change.kind.org().roles_given(change) {
            let role_id = live.lookups.id_of(RefTarget::Kind(given.kind), &given.role);
            let division_id = live.lookups.id_of(RefTarget::Division, &given.division);
            let held = matches!((role_id, division_id), (Some(r), Some(d)) if caller.holds(r, d));
            if held {
                continue;
            }
            if caller.can_grant_to_self() {
                let entry = grants.entry((given.kind, given.role.clone())).or_default();
                entry.0.insert(given.division.clone());
                entry.1.push(index);
                continue;
            }
            let message = format!(
                "granting role `{}` in division `{}` would be refused: the caller, {}, does not hold that role there, and the org lets a caller grant only roles it holds",
                given.role,
                given.division,
                caller.describe()
            );
            let problem = match object_of(change) {
                Some(object) => Problem::at(object, &given.pointer, message),
                None => Problem::new(change.address(), message),
            };
            // A role declared here that the org does not have yet cannot be
            // granted to the client first: it must be created on its own.
            let declared = manifests.named(given.kind, &given.role);
            let problem = match declared {
                Some(role) if role_id.is_none() && caller.kind == SubjectKind::Client => problem
                    .with_apply_first(ApplyFirst {
                        select: role.id(),
                        role: given.role.clone(),
                        division: given.division.clone(),
                    }),
                _ => problem.with_hint(grant_hint(caller, &given)),
            };
            problems.push(problem);
        }
    }
    add_caller_grants(changes, &grants, manifests, live, caller);
    problems.extend(missing_permissions(changes, caller, manifests, live));
    problems
}

fn grant_hint(caller: &Caller, given: &GivenRole) -> String {
    match caller.kind {
        super::caller::SubjectKind::Client => format!(
            "grant role `{}` in `{}` to the OAuth client gcctl runs as (Admin > Integrations > OAuth), or run gcctl as a user who holds authorization:grant:add (GENESYSCLOUD_ACCESS_TOKEN): it then grants the role to that user first; then plan again",
            given.role, given.division
        ),
        super::caller::SubjectKind::User => format!(
            "grant role `{}` in `{}` to this user, or the permission authorization:grant:add so that gcctl grants it; then plan again",
            given.role, given.division
        ),
    }
}

/// Roles the caller must hold first: (role kind, role org name) ->
/// (divisions, indexes of the changes that need it).
type Grants = BTreeMap<(Kind, String), (BTreeSet<String>, Vec<usize>)>;

/// One `grant` change per role the caller must hold first, placed before
/// the first change that needs it, which then depends on it.
fn add_caller_grants(
    changes: &mut Vec<Change>,
    grants: &Grants,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
    caller: &Caller,
) {
    let mut inserts: Vec<(usize, Change)> = Vec::new();
    for ((kind, role), (divisions, needers)) in grants {
        let Some(role_kind) = crate::kinds::LiveKind::new(*kind) else { continue };
        let grant = grant_change(role_kind, role, divisions, manifests, live, caller);
        let first = needers.iter().copied().min().unwrap_or(changes.len());
        inserts.push((first, grant));
    }
    for (_, grant) in &inserts {
        let address = grant.address();
        for (index, change) in changes.iter_mut().enumerate() {
            let key = (grant.kind.kind(), grant.org_name.clone());
            let needs = grants.get(&key).is_some_and(|(_, n)| n.contains(&index));
            if needs && !change.depends_on.contains(&address) {
                change.depends_on.push(address.clone());
                change.depends_on.sort();
            }
        }
    }
    // Insert from the back so earlier positions stay valid.
    inserts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.org_name.cmp(&a.1.org_name)));
    for (position, grant) in inserts {
        changes.insert(position, grant);
    }
}

/// The `grant` change that gives the caller `role` in `divisions` too (it
/// keeps the divisions it holds the role in), after the declared Role of
/// that name when this run creates or updates it.
fn grant_change(
    role_kind: crate::kinds::LiveKind,
    role: &str,
    divisions: &BTreeSet<String>,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
    caller: &Caller,
) -> Change {
    let kind = role_kind.kind();
    let role_id = live.lookups.id_of(RefTarget::Kind(kind), role).map(str::to_string);
    let held: BTreeSet<String> = role_id
        .as_deref()
        .map(|id| {
            caller
                .grants
                .iter()
                .filter(|g| g.role_id == id)
                .filter_map(|g| live.lookups.name_of(RefTarget::Division, &g.division_id))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let after: BTreeSet<String> = held.union(divisions).cloned().collect();
    let to_list =
        |set: &BTreeSet<String>| Value::Array(set.iter().cloned().map(Value::String).collect());
    let declared = manifests.named(kind, role).map(Object::id);
    Change {
        kind: role_kind,
        manifest_name: None,
        org_name: role.to_string(),
        id: role_id,
        action: Action::Grant,
        prune: false,
        fields: vec![FieldChange {
            pointer: "/divisions".into(),
            before: Some(to_list(&held)),
            after: Some(to_list(&after)),
            sensitive: false,
        }],
        depends_on: declared.into_iter().collect(),
        late_depends_on: Vec::new(),
        live_fingerprint: None,
        notes: Vec::new(),
    }
}

/// One problem per change whose calls need permissions the caller lacks.
/// A division-aware permission (the kind's
/// [`DivisionScope`](crate::kinds::org::DivisionScope) entity, or
/// `authorization:grant` for a grant to the caller) is needed in the
/// divisions the change touches ([`places`]); the others in any division.
fn missing_permissions(
    changes: &[Change],
    caller: &Caller,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
) -> Vec<Problem> {
    // Unchanged objects make no calls (most of a plan of a large org).
    if caller.permissions.is_none() || changes.iter().all(|c| c.action == Action::NoOp) {
        return Vec::new();
    }
    let held = Held::new(caller);
    let by_id = divided_by_id(live);
    // Unchanged objects make no calls (most of a plan of a large org).
    changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .filter_map(|change| lacking_problem(change, caller, &held, manifests, live, &by_id))
        .collect()
}

/// The live objects of the kinds whose division matters, by id: an update
/// or delete needs its object's current division (a scan of the kind per
/// change made a plan of thousands of updates quadratic).
fn divided_by_id(live: &LiveOrg) -> FastMap<(Kind, &str), &Value> {
    live.objects
        .iter()
        .filter(|(kind, _)| {
            crate::kinds::LiveKind::new(**kind).is_some_and(|k| k.org().division_scope().is_some())
        })
        .flat_map(|(kind, objects)| {
            objects.iter().filter_map(move |o| Some(((*kind, o.get("id")?.as_str()?), o)))
        })
        .collect()
}

/// The problem of one change whose calls need permissions the caller
/// lacks ([`missing_permissions`]); `None` when it holds them all.
fn lacking_problem(
    change: &Change,
    caller: &Caller,
    held: &Held,
    manifests: &SetIndex<'_>,
    live: &LiveOrg,
    by_id: &FastMap<(Kind, &str), &Value>,
) -> Option<Problem> {
    let object = change.manifest_name.as_deref().and_then(|n| manifests.get(change.kind.kind(), n));
    let desired =
        object.map_or(Value::Null, |o| super::build::desired_of(o, manifests, &live.lookups));
    let (calls, entity): (Vec<(&str, &str)>, Option<&str>) = match change.action {
        Action::NoOp => return None,
        Action::Grant => {
            (vec![("POST", crate::permissions::SUBJECT_GRANT)], Some("authorization:grant"))
        }
        _ => (
            change.kind.org().calls(change, &desired),
            change.kind.org().division_scope().map(|s| s.entity),
        ),
    };
    let places = places(change, &desired, live, by_id, caller);
    let mut lacking: BTreeSet<String> = BTreeSet::new();
    let mut needing: Vec<String> = Vec::new();
    for (method, path) in calls {
        if let Some(missing) = lacking_for(method, path, entity, &places, held) {
            lacking.insert(missing);
            needing.push(format!("{method} {path}"));
        }
    }
    if lacking.is_empty() {
        return None;
    }
    let message = format!(
        "the caller, {}, lacks {} (needed for {})",
        caller.describe(),
        lacking.into_iter().collect::<Vec<_>>().join(", "),
        needing.join(", ")
    );
    let hint = "grant the caller a role with these permissions, in these divisions (or run as a caller that holds them), then plan again; nothing was changed";
    let problem = match object {
        Some(object) => Problem::at(object, "/kind", message),
        None => Problem::new(change.address(), message),
    };
    Some(problem.with_hint(hint))
}

/// What the caller lacks for one call, in words (`a or b`, `p in division
/// X`); `None` when it holds enough or the call needs no permission gcctl
/// knows of. A permission of the division-aware `entity` is needed in every
/// one of `places`; any other, in any division.
fn lacking_for(
    method: &str,
    path: &str,
    entity: Option<&str>,
    places: &[Place],
    held: &Held<'_>,
) -> Option<String> {
    let requirement = match (path, entity) {
        (crate::permissions::DIVISION_MOVE, Some(entity)) => Cow::Owned(Requirement {
            method: method.into(),
            path: path.into(),
            mode: Mode::Any,
            permissions: vec![crate::permissions::move_permission(entity)],
        }),
        _ => Cow::Borrowed(crate::permissions::required(method, path)?),
    };
    let holds = |p: &str| {
        let scoped =
            entity.is_some_and(|e| p.strip_prefix(e).is_some_and(|rest| rest.starts_with(':')));
        if scoped && !places.is_empty() {
            places.iter().all(|place| held.within(p, &place.id))
        } else {
            held.anywhere(p)
        }
    };
    if requirement.satisfied_by(holds) {
        return None;
    }
    let missing: Vec<String> = requirement
        .permissions
        .iter()
        .filter(|p| !holds(p))
        .map(|p| match places.iter().find(|place| !held.within(p, &place.id)) {
            Some(place) if held.anywhere(p) => format!("{p} in {}", place.name),
            _ => p.clone(),
        })
        .collect();
    let joiner = if requirement.mode == Mode::Any { " or " } else { " and " };
    Some(missing.join(joiner))
}

/// What the caller holds, each answer remembered: the changes of a plan
/// ask about the same few permissions (a thousand queue creates, one
/// permission in one division), and each answer scans every permission
/// of the caller's roles.
struct Held<'a> {
    caller: &'a Caller,
    anywhere: RefCell<FastMap<String, bool>>,
    within: RefCell<FastMap<(String, String), bool>>,
}

impl<'a> Held<'a> {
    fn new(caller: &'a Caller) -> Self {
        Held { caller, anywhere: RefCell::default(), within: RefCell::default() }
    }

    /// [`Caller::has_permission`], known to be true.
    fn anywhere(&self, permission: &str) -> bool {
        if let Some(known) = self.anywhere.borrow().get(permission) {
            return *known;
        }
        let holds = self.caller.has_permission(permission) == Some(true);
        self.anywhere.borrow_mut().insert(permission.to_string(), holds);
        holds
    }

    /// [`Caller::has_permission_in`], known to be true.
    fn within(&self, permission: &str, division_id: &str) -> bool {
        let key = (permission.to_string(), division_id.to_string());
        if let Some(known) = self.within.borrow().get(&key) {
            return *known;
        }
        let holds = self.caller.has_permission_in(permission, division_id) == Some(true);
        self.within.borrow_mut().insert(key, holds);
        holds
    }
}

/// A division a change touches, for division-aware permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    /// The division id (`""` for a Home division whose id is unknown: then
    /// only a grant in every division counts there).
    id: String,
    /// How messages name it: "division `Operations`".
    name: String,
}

/// The divisions a change touches: for a kind with a
/// [`DivisionScope`](crate::kinds::org::DivisionScope), the
/// live object's division (update, delete) and the desired one (create,
/// update; a create without one lands where the kind's default says); for a
/// grant to the caller, the divisions it adds. An object in every division
/// (`*`) touches none in particular: its permissions count in any (UNVERIFIED).
fn places(
    change: &Change,
    desired: &Value,
    live: &LiveOrg,
    by_id: &FastMap<(Kind, &str), &Value>,
    caller: &Caller,
) -> Vec<Place> {
    let lookups = &live.lookups;
    let named = |id: &str| {
        let name = lookups.name_of(RefTarget::Division, id).unwrap_or(id);
        Place { id: id.to_string(), name: format!("division `{name}`") }
    };
    let by_name = |name: &str| lookups.id_of(RefTarget::Division, name).map(named);
    let home = || {
        let id = lookups.home_division.clone().or_else(|| caller.home_division.clone());
        Place { id: id.unwrap_or_default(), name: "the Home division".into() }
    };
    if change.action == Action::Grant {
        let listed = |value: Option<&Value>| -> BTreeSet<String> {
            value
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let field = change.fields.iter().find(|f| f.pointer == "/divisions");
        let before = listed(field.and_then(|f| f.before.as_ref()));
        let after = listed(field.and_then(|f| f.after.as_ref()));
        return after.difference(&before).filter_map(|name| by_name(name)).collect();
    }
    let Some(scope) = change.kind.org().division_scope() else { return Vec::new() };
    let mut places = Vec::new();
    let current = change.id.as_deref().and_then(|id| by_id.get(&(change.kind.kind(), id)).copied());
    if let Some(id) = current.and_then(|o| o.pointer("/division/id")).and_then(Value::as_str) {
        if id != ALL_DIVISIONS {
            places.push(named(id));
        }
    }
    if matches!(change.action, Action::Create | Action::Update) {
        match desired.get("division").and_then(Value::as_str) {
            Some(ALL_DIVISIONS) => {}
            Some(name) => places.extend(by_name(name)),
            None if change.action == Action::Create && scope.default == DefaultDivision::Home => {
                places.push(home());
            }
            None => {}
        }
    }
    places.dedup_by(|a, b| a.id == b.id);
    places
}
