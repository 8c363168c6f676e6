//! Checks of the set as a whole: unique names, references, org defaults and
//! dependency cycles. Per-document checks live with each kind.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use crate::kinds::{Kind, RefTarget};
use crate::manifest::Object;
use crate::manifest::diag::{Diagnostic, locate};
use crate::manifest::yaml::Node;
use crate::{FastMap, FastSet};

/// The objects of a set by handle (`metadata.name`) and by org-side name,
/// so that references resolve without scanning the set.
///
/// Invariant: every position held is a valid index into `objects`, and each
/// key maps to the *first* object (in slice order) having that key, so
/// lookups answer exactly as a front-to-back search of the slice would.
#[derive(Debug)]
pub struct SetIndex<'a> {
    objects: &'a [Object],
    by_handle: FastMap<(Kind, &'a str), usize>,
    by_org_name: FastMap<(Kind, &'a str), usize>,
    /// For a target that is not a kind (a flow of a type...), the positions
    /// of the objects that answer to it, in slice order, found on first use:
    /// every queue naming its division must not scan the whole set.
    answering: std::sync::Mutex<HashMap<RefTarget, Vec<usize>>>,
}

impl<'a> SetIndex<'a> {
    pub fn new(objects: &'a [Object]) -> Self {
        let mut by_handle = FastMap::with_capacity_and_hasher(
            objects.len(),
            foldhash::fast::RandomState::default(),
        );
        let mut by_org_name = FastMap::with_capacity_and_hasher(
            objects.len(),
            foldhash::fast::RandomState::default(),
        );
        for (i, object) in objects.iter().enumerate() {
            by_handle.entry((object.kind, object.name.as_str())).or_insert(i);
            if let Some(org_name) = object.org_name() {
                by_org_name.entry((object.kind, org_name)).or_insert(i);
            }
        }
        SetIndex { objects, by_handle, by_org_name, answering: std::sync::Mutex::default() }
    }

    /// The object of `kind` with this `metadata.name`.
    pub fn get(&self, kind: Kind, handle: &str) -> Option<&'a Object> {
        self.by_handle.get(&(kind, handle)).and_then(|&i| self.objects.get(i))
    }

    /// The object of `kind` with this org-side name (never by handle: a
    /// handle may be another object's org name).
    pub fn named(&self, kind: Kind, org_name: &str) -> Option<&'a Object> {
        self.by_org_name.get(&(kind, org_name)).and_then(|&i| self.objects.get(i))
    }

    /// Find the manifest object a reference to `kind` named `name` resolves
    /// to: by `metadata.name` first, then by org-side name (the object the
    /// org will hold under that name once applied).
    pub fn resolve(&self, kind: Kind, name: &str) -> Option<&'a Object> {
        self.position(kind, name).and_then(|i| self.objects.get(i))
    }

    /// The position in the slice of the object [`SetIndex::resolve`] finds.
    pub fn position(&self, kind: Kind, name: &str) -> Option<usize> {
        self.by_handle.get(&(kind, name)).or_else(|| self.by_org_name.get(&(kind, name))).copied()
    }

    /// The object a reference to `target` named `name` resolves to: for a
    /// kind, [`SetIndex::resolve`]; for another target (a flow of a type),
    /// the first object that answers to it, by handle, then by org name.
    pub fn resolve_ref(&self, target: RefTarget, name: &str) -> Option<&'a Object> {
        self.position_ref(target, name).and_then(|i| self.objects.get(i))
    }

    /// The position of the object [`SetIndex::resolve_ref`] finds.
    pub fn position_ref(&self, target: RefTarget, name: &str) -> Option<usize> {
        if let RefTarget::Kind(kind) = target {
            return self.position(kind, name);
        }
        let objects = self.objects;
        let mut answering =
            self.answering.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let positions = answering.entry(target).or_insert_with(|| {
            (0..objects.len()).filter(|&i| objects[i].spec.answers_to(target)).collect()
        });
        let found = |matches: &dyn Fn(&Object) -> bool| {
            positions.iter().copied().find(|&i| objects.get(i).is_some_and(matches))
        };
        found(&|o| o.name == name).or_else(|| found(&|o| o.org_name() == Some(name)))
    }
}

/// Whether `pointer` (`/spec/...`) is under one of the late pointers of the
/// object's kind (see `OrgKind::late_pointers`): such a reference orders a
/// later step of the object's change, not the change.
pub fn is_late(object: &Object, pointer: &str) -> bool {
    let Some(org) = object.kind.org() else { return false };
    let pointer = pointer.trim_start_matches("/spec");
    org.late_pointers().iter().any(|late| {
        pointer == *late || pointer.strip_prefix(late).is_some_and(|rest| rest.starts_with('/'))
    })
}

/// An object's references by what they order: first those that order its
/// own change (its `references`, [`crate::kinds::Spec::references`], but
/// the late ones, and its `soft` references), then the late ones, which
/// order only its late step.
pub fn ordering<'r>(
    object: &Object,
    references: &'r [crate::kinds::Reference],
    soft: &'r [crate::kinds::Reference],
) -> (Vec<&'r crate::kinds::Reference>, Vec<&'r crate::kinds::Reference>) {
    let (late, mut early): (Vec<_>, Vec<_>) =
        references.iter().partition(|r| is_late(object, &r.pointer));
    early.extend(soft);
    (early, late)
}

/// Check the typed objects as a set. `declared` holds the (kind,
/// metadata.name) of every document, including those that failed to type, so
/// a reference to a broken document is not reported a second time.
pub fn check_set(
    objects: &[Object],
    rejected: &[Object],
    declared: &FastSet<(Kind, String)>,
    diags: &mut Vec<Diagnostic>,
) {
    // Independent checks, on two cores for a large set (the diagnostics
    // are sorted afterwards).
    let (mut found, ()) = super::parallel::join(
        objects.len() >= super::parallel::JOIN_FROM,
        || {
            let mut found = Vec::new();
            // With the objects that have errors of their own (a value out of
            // range): their names are read, and a duplicate is another
            // problem, reported in the same run.
            let named =
                rejected.iter().filter(|o| !o.org_name().is_some_and(|n| n.contains("${var.")));
            check_unique(objects.iter().chain(named), &mut found);
            check_org_default(objects, &mut found);
            found
        },
        || {
            let index = SetIndex::new(objects);
            check_references(objects, &index, declared, diags);
            check_cycles(objects, &index, diags);
        },
    );
    diags.append(&mut found);
}

/// `metadata.name` must be unique per kind. Checked on the parsed documents,
/// before typing, so a duplicate is reported even when a document has other errors.
pub fn check_unique_handles(docs: &[(Kind, &Path, &Node)], diags: &mut Vec<Diagnostic>) {
    let mut seen: FastMap<(Kind, &str), (&Path, &Node)> = FastMap::default();
    for (kind, file, node) in docs {
        let Some(name_node) = node.get("metadata").and_then(|m| m.get("name")) else { continue };
        let Some(name) = name_node.as_str() else { continue };
        if let Some((first_file, first)) = seen.insert((*kind, name), (file, node)) {
            diags.push(
                Diagnostic::new(file, name_node.loc, format!("duplicate {kind} named `{name}`"))
                    .with_hint(format!(
                        "the first is at {}:{}; metadata.name must be unique per kind",
                        first_file.display(),
                        locate(first, "/metadata/name")
                    )),
            );
        }
    }
}

/// Org names are unique per kind, with the kind's key beyond the name (two
/// flows of two types may share a name: `Spec::key_beyond_name`).
fn check_unique<'o>(objects: impl Iterator<Item = &'o Object>, diags: &mut Vec<Diagnostic>) {
    let mut org_names: FastMap<(Kind, &str, &str), &Object> = FastMap::default();
    // By look-alike name ([`crate::names::loose_name`]): names that differ
    // only in case, spacing or invisible characters read as one in the UI.
    let mut loosely: FastMap<(Kind, &str, String), &Object> = FastMap::default();
    for object in objects {
        let Some(org_name) = object.org_name() else { continue };
        let beyond = object.spec.key_beyond_name();
        if let Some(first) = org_names.insert((object.kind, org_name, beyond), object) {
            diags.push(
                Diagnostic::new(&object.file, locate(&object.doc, "/spec/name"), format!("two {} manifests have the org name `{org_name}`", object.kind))
                    .with_hint(format!("the other is {} at {}; objects are matched to the org by name, so names must be unique", first.id(), first.location_of("/spec/name"))),
            );
            continue;
        }
        let key = (object.kind, beyond, crate::names::loose_name(org_name));
        let Some(first) = loosely.insert(key, object) else { continue };
        let first_name = first.org_name().unwrap_or_default();
        let visible = crate::api::untrusted::visible;
        diags.push(
            Diagnostic::new(&object.file, locate(&object.doc, "/spec/name"), format!("two {} manifests have org names that differ {}: `{}` and `{}`", object.kind, crate::names::how_alike(first_name, org_name), visible(first_name), visible(org_name)))
                .with_hint(format!("the other is {} at {}; the org may hold only one of them (the sandbox refuses a second queue, role, skill … whose name differs only in case; whether Genesys Cloud does, or takes look-alike names for one, is not verified), and people cannot tell them apart: rename one", first.id(), first.location_of("/spec/name")))
                .as_warning(),
        );
    }
}

fn check_references(
    objects: &[Object],
    index: &SetIndex<'_>,
    declared: &FastSet<(Kind, String)>,
    diags: &mut Vec<Diagnostic>,
) {
    for object in objects {
        for reference in object.references() {
            let RefTarget::Kind(kind) = reference.target else { continue };
            if index.resolve(kind, &reference.name).is_some()
                || declared.contains(&(kind, reference.name.clone()))
                || kind.is_org_object()
            {
                continue;
            }
            let available: Vec<&str> =
                objects.iter().filter(|o| o.kind == kind).map(|o| o.name.as_str()).collect();
            let hint = if available.is_empty() {
                format!("declare a {kind} manifest with metadata.name: {}", reference.name)
            } else {
                format!("{kind} manifests in this set: {}", available.join(", "))
            };
            diags.push(
                Diagnostic::new(
                    &object.file,
                    locate(&object.doc, &reference.pointer),
                    format!("no {kind} named `{}` in the manifests", reference.name),
                )
                .with_hint(hint),
            );
        }
    }
}

fn check_org_default(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    let mut first_default: BTreeMap<Kind, &Object> = BTreeMap::new();
    for object in objects.iter().filter(|o| o.spec.org_default() == Some(true)) {
        let Some(first) = first_default.get(&object.kind) else {
            first_default.insert(object.kind, object);
            continue;
        };
        diags.push(
            Diagnostic::new(
                &object.file,
                locate(&object.doc, "/spec/orgDefault"),
                format!("only one {} can be the org default", object.kind),
            )
            .with_hint(format!("{} is also marked orgDefault", first.id())),
        );
    }
}

/// Objects that depend on each other in a loop can never be created in order.
fn check_cycles(objects: &[Object], index: &SetIndex<'_>, diags: &mut Vec<Diagnostic>) {
    let mut graph = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..objects.len()).map(|i| graph.add_node(i)).collect();
    for (i, object) in objects.iter().enumerate() {
        let (references, soft) = (object.references(), object.spec.soft_references());
        for reference in ordering(object, references, &soft).0 {
            if let Some(j) = index.position_ref(reference.target, &reference.name) {
                graph.add_edge(nodes[i], nodes[j], ());
            }
        }
    }
    for component in tarjan_scc(&graph) {
        let self_loop = component.len() == 1 && graph.contains_edge(component[0], component[0]);
        if component.len() < 2 && !self_loop {
            continue;
        }
        let members: Vec<String> = component.iter().map(|n| objects[graph[*n]].id()).collect();
        let first = &objects[graph[component[0]]];
        let hint = component.iter().find_map(|n| objects[graph[*n]].spec.cycle_hint()).unwrap_or(
            "objects in a cycle cannot be created in any order; remove one of the references",
        );
        diags.push(
            Diagnostic::new(
                &first.file,
                first.loc,
                format!("dependency cycle: {}", members.join(" -> ")),
            )
            .with_hint(hint),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;
    use crate::kinds::Spec;
    use crate::kinds::routing_queue::RoutingQueueSpec;
    use crate::manifest::yaml::{Loc, Value};

    const QUEUE: fn() -> Kind = || RoutingQueueSpec::default().kind();
    const ROLE: fn() -> Kind = || Kind::parse("Role").expect("a kind");

    fn queue(handle: &str, org_name: &str) -> Object {
        let spec = RoutingQueueSpec { name: org_name.to_string(), ..RoutingQueueSpec::default() };
        Object {
            kind: spec.kind(),
            name: handle.to_string(),
            labels: BTreeMap::new(),
            protect: false,
            ignore_differences: Vec::new(),
            spec: Box::new(spec),
            file: PathBuf::from("queues.yaml"),
            loc: Loc::default(),
            doc: Arc::new(Node { value: Value::Null, loc: Loc::default(), plain: false }),
            references: std::sync::OnceLock::new(),
        }
    }

    #[test]
    fn a_handle_wins_over_an_org_name() {
        // `b`'s org name is `a`'s handle: a reference to `a` means `a`.
        let objects = [queue("a", "Alpha"), queue("b", "a")];
        let index = SetIndex::new(&objects);
        assert_eq!(index.position(QUEUE(), "a"), Some(0));
        assert_eq!(index.resolve(QUEUE(), "Alpha").map(|o| o.name.as_str()), Some("a"));
        assert_eq!(index.get(QUEUE(), "b").map(|o| o.name.as_str()), Some("b"));
        assert!(index.get(QUEUE(), "Alpha").is_none(), "get is by handle only");
        assert!(index.named(QUEUE(), "Alpha").is_some());
        assert!(index.named(QUEUE(), "b").is_none(), "named is by org name only");
    }

    #[test]
    fn the_first_of_duplicates_wins_and_kinds_are_apart() {
        let objects = [queue("a", "Same"), queue("b", "Same"), queue("a", "Other")];
        let index = SetIndex::new(&objects);
        assert_eq!(index.position(QUEUE(), "Same"), Some(0));
        assert_eq!(index.position(QUEUE(), "a"), Some(0));
        assert_eq!(index.position(QUEUE(), "Other"), Some(2));
        assert_eq!(index.position(QUEUE(), "missing"), None);
        assert_eq!(index.position(ROLE(), "a"), None);
        assert!(index.named(ROLE(), "Same").is_none());
    }
}
