//! The names of the org's objects, read once per run: [`Lookups`] (ids by
//! name and names by id, per reference target, and the org facts the kinds
//! read directly), and [`reads_during`], which tells which targets a
//! comparison read so that an early comparison can be checked against the
//! whole read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::FastMap;
use crate::kinds::{Kind, RefTarget};
use crate::permissions::Catalog;

/// Names of org objects by id, and ids by name, read once per run.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    /// Every referenceable org object: target → id → name. Nested, so
    /// that a lookup by `&str` allocates nothing (50,000 queues name their
    /// division 50,000 times).
    names: HashMap<RefTarget, FastMap<String, String>>,
    /// target → name → ids (more than one: ambiguous).
    ids: HashMap<RefTarget, FastMap<String, Vec<String>>>,
    /// Flows other objects refer to, id → name, whatever their type.
    flow_references: FastMap<String, String>,
    /// The org's Home division id.
    pub home_division: Option<String>,
    /// Open messaging recipient id → integration id.
    pub recipient_integration: BTreeMap<String, String>,
    /// Open messaging integration id → recipient id.
    pub integration_recipient: BTreeMap<String, String>,
    /// Recipient id → the id of the flow it routes to.
    pub recipient_flow: BTreeMap<String, String>,
    /// The org default object of each kind that has one, by id.
    pub defaults: BTreeMap<Kind, String>,
    /// The OAuth client (id) gcctl is authenticated with, when known.
    pub own_client_id: Option<String>,
    /// Users found by a declared email whose `state` is not `active`
    /// (lowercase email → state): never resolved, named in plan problems.
    pub inactive_users: BTreeMap<String, String>,
    /// The org's own permission catalog, when a reader has fetched it
    /// (`GET /api/v2/authorization/permissions`); `None` (today, always):
    /// the catalog built into gcctl. Roles compare wildcard permissions
    /// after expanding them through [`Lookups::permission_catalog`].
    pub permission_catalog: Option<Arc<Catalog>>,
}

/// How a name is keyed: users by lowercase email (emails compare
/// case-insensitively), everything else as written.
fn name_key(target: RefTarget, name: &str) -> String {
    if target == RefTarget::User { name.to_lowercase() } else { name.to_string() }
}

impl Lookups {
    pub fn insert(&mut self, target: RefTarget, id: &str, name: &str) {
        let name = name_key(target, name);
        let names = self.names.entry(target).or_default();
        if names.get(id) == Some(&name) {
            return;
        }
        names.insert(id.to_string(), name.clone());
        let ids = self.ids.entry(target).or_default().entry(name).or_default();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }

    /// [`Lookups::insert_named`] of every object of a list, in order. A large
    /// list's two maps (id to name, name to ids) are made on two cores: each
    /// is what inserting the objects one by one makes of it (an insert only
    /// skips the second map when the first already held the same pair, and
    /// then the second holds it too).
    pub fn insert_listed(&mut self, target: RefTarget, objects: &[Value]) {
        use crate::manifest::parallel::{JOIN_FROM, join};
        fn pairs(target: RefTarget, objects: &[Value]) -> impl Iterator<Item = (&str, String)> {
            objects.iter().filter_map(move |o| {
                let name = o.get("name").and_then(Value::as_str)?;
                Some((o.get("id").and_then(Value::as_str)?, name_key(target, name)))
            })
        }
        if objects.len() < JOIN_FROM {
            for object in objects {
                self.insert_named(target, object);
            }
            return;
        }
        let names = self.names.entry(target).or_default();
        let ids = self.ids.entry(target).or_default();
        names.reserve(objects.len());
        ids.reserve(objects.len());
        join(
            true,
            || {
                for (id, name) in pairs(target, objects) {
                    let ids = ids.entry(name).or_default();
                    if !ids.iter().any(|i| i == id) {
                        ids.push(id.to_string());
                    }
                }
            },
            || {
                for (id, name) in pairs(target, objects) {
                    if names.get(id) != Some(&name) {
                        names.insert(id.to_string(), name);
                    }
                }
            },
        );
    }

    /// Index a live object or embedded reference that carries `id` and `name`.
    pub fn insert_named(&mut self, target: RefTarget, object: &Value) {
        if let (Some(id), Some(name)) =
            (object.get("id").and_then(Value::as_str), object.get("name").and_then(Value::as_str))
        {
            self.insert(target, id, name);
        }
    }

    /// A flow of `flow_type` as a flows list (or an object naming the
    /// flow's type) shows it. A flow has one type: a record of its id under
    /// another one ([`Lookups::insert_flow_reference`] assumed its field's
    /// type) is dropped, so that it never makes a name ambiguous there.
    pub fn insert_flow(&mut self, flow_type: &'static str, flow: &Value) {
        self.insert_named(RefTarget::Flow(flow_type), flow);
        let Some(id) = flow.get("id").and_then(Value::as_str) else { return };
        for other in crate::kinds::common::FLOW_TYPES.iter().filter(|t| **t != flow_type) {
            let target = RefTarget::Flow(other);
            let Some(name) = self.names.get_mut(&target).and_then(|names| names.remove(id)) else {
                continue;
            };
            if let Some(ids) = self.ids.get_mut(&target).and_then(|ids| ids.get_mut(&name)) {
                ids.retain(|i| i != id);
            }
        }
    }

    /// A flow another object names in a field for flows of some type (a
    /// queue's in-queue flows): its name, by id, for showing it
    /// ([`Lookups::referenced_flow_name`]), never a flow of the field's type
    /// that a declared reference could resolve to. The field may hold a
    /// flow of another type (the org may take one; a UI edit can make it),
    /// which must not make the field type's flow of that name ambiguous.
    pub fn insert_flow_reference(&mut self, flow: &Value) {
        if let (Some(id), Some(name)) =
            (flow.get("id").and_then(Value::as_str), flow.get("name").and_then(Value::as_str))
        {
            if self.flow_references.get(id).is_none_or(|n| n != name) {
                self.flow_references.insert(id.to_string(), name.to_string());
            }
        }
    }

    /// The name of a flow an object refers to ([`Lookups::insert_flow_reference`]).
    pub fn referenced_flow_name(&self, id: &str) -> Option<&str> {
        // Flow names, read like the others (`reads_during`).
        note_read(RefTarget::Flow(""));
        self.flow_references.get(id).map(String::as_str)
    }

    pub fn name_of(&self, target: RefTarget, id: &str) -> Option<&str> {
        note_read(target);
        self.names.get(&target)?.get(id).map(String::as_str)
    }

    /// The ids of org objects with this exact name.
    pub fn ids_of(&self, target: RefTarget, name: &str) -> &[String] {
        note_read(target);
        let ids = self.ids.get(&target);
        let ids = match target {
            RefTarget::User => ids.and_then(|ids| ids.get(&name_key(target, name))),
            _ => ids.and_then(|ids| ids.get(name)),
        };
        ids.map_or(&[], Vec::as_slice)
    }

    /// The single id of an org object with this name, if exactly one exists.
    pub fn id_of(&self, target: RefTarget, name: &str) -> Option<&str> {
        match self.ids_of(target, name) {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Whether `id` is the org default object of `kind`.
    pub fn is_default(&self, kind: Kind, id: &str) -> bool {
        self.defaults.get(&kind).is_some_and(|d| d == id)
    }

    /// Objects gcctl never deletes and never reports as unmanaged: the
    /// kind's built-ins and the objects no manifest can declare
    /// ([`OrgKind::undeclarable`](crate::kinds::org::OrgKind::undeclarable)),
    /// the org default of the kind, and the OAuth client gcctl is calling
    /// with (ids are unique across kinds).
    pub fn is_protected_live(&self, kind: Kind, live: &Value) -> bool {
        let id = live.get("id").and_then(Value::as_str);
        let own = id.is_some() && id == self.own_client_id.as_deref();
        let default = id.is_some_and(|id| self.is_default(kind, id));
        own || default || kind.org().is_some_and(|org| org.is_kept(live))
    }

    /// The permission catalog to expand wildcards with: the org's when it
    /// was read, else [`Catalog::embedded`] (a lower bound of the org's).
    pub fn permission_catalog(&self) -> &Catalog {
        self.permission_catalog.as_deref().unwrap_or_else(|| Catalog::embedded())
    }

    /// The name of the flow with this id, whatever its type.
    pub fn flow_name(&self, id: &str) -> Option<(&'static str, &str)> {
        crate::kinds::common::FLOW_TYPES
            .iter()
            .find_map(|t| self.name_of(RefTarget::Flow(t), id).map(|n| (*t, n)))
    }
}

impl Lookups {
    /// Whether `self` and `other` hold the same names for every target of
    /// `targets` ([`reads_during`]'s mask) and the same values in every
    /// other field (those are read directly, so always compared).
    pub fn agree_on(&self, other: &Lookups, targets: u64) -> bool {
        fn same<V: PartialEq>(
            a: &HashMap<RefTarget, V>,
            b: &HashMap<RefTarget, V>,
            targets: u64,
        ) -> bool {
            let mut keys = a.keys().chain(b.keys()).filter(|t| target_bit(**t) & targets != 0);
            keys.all(|t| a.get(t) == b.get(t))
        }
        let catalogs = match (&self.permission_catalog, &other.permission_catalog) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        catalogs
            && same(&self.names, &other.names, targets)
            && same(&self.ids, &other.ids, targets)
            && (targets & target_bit(RefTarget::Flow("")) == 0
                || self.flow_references == other.flow_references)
            && self.home_division == other.home_division
            && self.recipient_integration == other.recipient_integration
            && self.integration_recipient == other.integration_recipient
            && self.recipient_flow == other.recipient_flow
            && self.defaults == other.defaults
            && self.own_client_id == other.own_client_id
            && self.inactive_users == other.inactive_users
    }
}

thread_local! {
    /// The targets whose names were read on this thread ([`reads_during`]).
    static READS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The bit of a target in a mask of [`reads_during`]: one per kind, one
/// per other target (every flow type shares one).
pub(crate) fn target_bit(target: RefTarget) -> u64 {
    let index = match target {
        RefTarget::Kind(kind) => kind as u32,
        RefTarget::Division => 56,
        RefTarget::Flow(_) => 57,
        RefTarget::Recipient => 58,
        RefTarget::User => 59,
        RefTarget::Group => 60,
        RefTarget::Team => 61,
        RefTarget::SkillGroup => 62,
    };
    1u64 << index.min(63)
}

fn note_read(target: RefTarget) {
    READS.with(|reads| reads.set(reads.get() | target_bit(target)));
}

/// Run `f`, and the mask of the targets whose names it read through
/// [`Lookups::name_of`] and [`Lookups::ids_of`] (every name read goes
/// through them: the maps are private). A plan that compares objects
/// before the org is fully read checks afterwards that the lookups it used
/// agree with the final ones on these targets ([`Lookups::agree_on`]).
pub fn reads_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let outer = READS.with(|reads| reads.replace(0));
    let result = f();
    let read = READS.with(|reads| reads.replace(outer));
    READS.with(|reads| reads.set(outer | read));
    (result, read)
}

/// Resolves a reference to an id while applying (objects created earlier in
/// the run are included).
pub trait IdResolver {
    fn id(&self, target: RefTarget, name: &str) -> Option<String>;
}

impl IdResolver for Lookups {
    fn id(&self, target: RefTarget, name: &str) -> Option<String> {
        self.id_of(target, name).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A flow has one type: a flows list's record of it drops one made
    /// under another type, and a reference from another object's field
    /// names it without making a name of the field's type ambiguous.
    #[test]
    fn flows_are_named_by_their_own_type_only() {
        let (inbound, in_queue) =
            (RefTarget::Flow("INBOUNDSHORTMESSAGE"), RefTarget::Flow("INQUEUESHORTMESSAGE"));
        let mut lookups = Lookups::default();
        lookups.insert(in_queue, "f1", "Support");
        lookups.insert_flow("INQUEUESHORTMESSAGE", &json!({"id": "f2", "name": "Support"}));
        lookups.insert_flow_reference(&json!({"id": "f1", "name": "Support"}));
        assert_eq!(lookups.ids_of(in_queue, "Support"), ["f1", "f2"]);
        lookups.insert_flow("INBOUNDSHORTMESSAGE", &json!({"id": "f1", "name": "Support"}));
        assert_eq!(lookups.ids_of(in_queue, "Support"), ["f2"]);
        assert_eq!(lookups.ids_of(inbound, "Support"), ["f1"]);
        assert_eq!(lookups.name_of(in_queue, "f1"), None);
        assert_eq!(lookups.flow_name("f1"), Some(("INBOUNDSHORTMESSAGE", "Support")));
        assert_eq!(lookups.referenced_flow_name("f1"), Some("Support"));
    }

    /// Every target has a bit of its own (flow types share one), and what
    /// a call reads is told apart from what the calls around it read.
    #[test]
    fn reads_are_told_by_target() {
        let targets = Kind::all().iter().map(|k| RefTarget::Kind(*k)).chain([
            RefTarget::Division,
            RefTarget::Flow("INBOUNDCALL"),
            RefTarget::Recipient,
            RefTarget::User,
            RefTarget::Group,
            RefTarget::Team,
            RefTarget::SkillGroup,
        ]);
        let bits: Vec<u64> = targets.map(target_bit).collect();
        let mut distinct = bits.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), bits.len(), "one bit per target");
        assert_eq!(target_bit(RefTarget::Flow("A")), target_bit(RefTarget::Flow("B")));

        let mut lookups = Lookups::default();
        lookups.insert(RefTarget::Division, "d1", "Home");
        let ((), outer) = reads_during(|| {
            let (name, inner) = reads_during(|| lookups.name_of(RefTarget::Division, "d1"));
            assert_eq!(name, Some("Home"));
            assert_eq!(inner, target_bit(RefTarget::Division));
            let _ = lookups.id_of(RefTarget::User, "A@Example.com");
        });
        let both = target_bit(RefTarget::Division) | target_bit(RefTarget::User);
        assert_eq!(outer, both, "the outer call saw the inner call's reads too");
    }

    /// Two lookups agree on the targets asked about, whatever the others
    /// hold, and never when a field read directly differs.
    #[test]
    fn lookups_agree_on_the_targets_read() {
        let mut early = Lookups::default();
        early.insert(RefTarget::Division, "d1", "Home");
        let mut last = early.clone();
        last.insert(RefTarget::Kind(Kind::RoutingQueue), "q1", "Queue 1");
        let division = target_bit(RefTarget::Division);
        let queues = target_bit(RefTarget::Kind(Kind::RoutingQueue));
        assert!(last.agree_on(&early, division));
        assert!(last.agree_on(&early, 0));
        assert!(!last.agree_on(&early, queues), "a name only the last lookups hold");
        last.insert(RefTarget::Division, "d1", "Renamed");
        assert!(!last.agree_on(&early, division), "a name that changed");
        let mut moved = early.clone();
        moved.home_division = Some("d2".into());
        assert!(!moved.agree_on(&early, 0), "fields read directly are always compared");
    }

    /// A large list recorded at once (on two cores) answers every question
    /// as the same objects inserted one by one: ids shared by names, a name
    /// shared by ids in list order, an id listed twice, objects without an
    /// id or a name, users keyed by lowercase email.
    #[test]
    fn a_large_list_is_recorded_as_one_object_after_another() {
        let mut objects: Vec<Value> = (0..5_000)
            .map(|i| json!({"id": format!("id-{}", i % 4_000), "name": format!("Name {}", i % 3_000)}))
            .collect();
        objects.push(json!({"id": "no-name"}));
        objects.push(json!({"name": "No Id"}));
        objects.push(json!({"id": "id-7", "name": "Renamed"}));
        objects.push(objects[5].clone());
        for target in [RefTarget::Kind(Kind::RoutingQueue), RefTarget::User] {
            let mut listed = Lookups::default();
            listed.insert(target, "earlier", "Name 1");
            listed.insert_listed(target, &objects);
            let mut one_by_one = Lookups::default();
            one_by_one.insert(target, "earlier", "Name 1");
            for object in &objects {
                one_by_one.insert_named(target, object);
            }
            for i in 0..4_000 {
                let id = format!("id-{i}");
                assert_eq!(listed.name_of(target, &id), one_by_one.name_of(target, &id), "{id}");
            }
            for name in
                (0..3_000).map(|i| format!("Name {i}")).chain(["Renamed".into(), "No Id".into()])
            {
                assert_eq!(
                    listed.ids_of(target, &name),
                    one_by_one.ids_of(target, &name),
                    "{name}"
                );
            }
            assert_eq!(listed.ids_of(target, "Name 1"), ["earlier", "id-1", "id-3001"]);
            assert_eq!(
                listed.name_of(target, "id-7"),
                Some(if target == RefTarget::User { "renamed" } else { "Renamed" })
            );
        }
    }
}
