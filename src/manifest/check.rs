//! Checks of the set as a whole: unique names, references, org defaults and
//! dependency cycles. Per-document checks live with each kind.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;

use crate::kinds::supported_content::SupportedContentProfileSpec;
use crate::kinds::{Kind, RefTarget, downcast};
use crate::manifest::Object;
use crate::manifest::diag::{Diagnostic, locate};
use crate::manifest::yaml::Node;

/// Find the manifest object a reference to `kind` named `name` resolves to:
/// by `metadata.name` first, then by org-side name (the object the org will
/// hold under that name once applied).
pub fn resolve_in_set<'a>(objects: &'a [Object], kind: Kind, name: &str) -> Option<&'a Object> {
    objects
        .iter()
        .find(|o| o.kind == kind && o.name == name)
        .or_else(|| objects.iter().find(|o| o.kind == kind && o.org_name() == Some(name)))
}

/// Check the typed objects as a set. `declared` holds the (kind,
/// metadata.name) of every document, including those that failed to type, so
/// a reference to a broken document is not reported a second time.
pub fn check_set(
    objects: &[Object],
    declared: &HashSet<(Kind, String)>,
    diags: &mut Vec<Diagnostic>,
) {
    check_unique(objects, diags);
    check_references(objects, declared, diags);
    check_org_default(objects, diags);
    check_cycles(objects, diags);
}

/// `metadata.name` must be unique per kind. Checked on the parsed documents,
/// before typing, so a duplicate is reported even when a document has other errors.
pub fn check_unique_handles(docs: &[(Kind, &Path, &Node)], diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<(Kind, &str), (&Path, &Node)> = HashMap::new();
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

fn check_unique(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    let mut org_names: HashMap<(Kind, &str), &Object> = HashMap::new();
    for object in objects {
        if let Some(org_name) = object.org_name() {
            if let Some(first) = org_names.insert((object.kind, org_name), object) {
                diags.push(
                    Diagnostic::new(&object.file, locate(&object.doc, "/spec/name"), format!("two {} manifests have the org name `{org_name}`", object.kind))
                        .with_hint(format!("the other is {} at {}; objects are matched to the org by name, so names must be unique", first.id(), first.location_of("/spec/name"))),
                );
            }
        }
    }
}

fn check_references(
    objects: &[Object],
    declared: &HashSet<(Kind, String)>,
    diags: &mut Vec<Diagnostic>,
) {
    for object in objects {
        for reference in object.spec.references() {
            let RefTarget::Kind(kind) = reference.target else { continue };
            if resolve_in_set(objects, kind, &reference.name).is_some()
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
    let defaults: Vec<&Object> = objects
        .iter()
        .filter(|o| {
            downcast::<SupportedContentProfileSpec>(o.spec.as_ref())
                .is_some_and(|s| s.org_default == Some(true))
        })
        .collect();
    for extra in defaults.iter().skip(1) {
        diags.push(
            Diagnostic::new(
                &extra.file,
                locate(&extra.doc, "/spec/orgDefault"),
                "only one SupportedContentProfile can be the org default",
            )
            .with_hint(format!("{} is also marked orgDefault", defaults[0].id())),
        );
    }
}

/// Objects that depend on each other in a loop can never be created in order.
fn check_cycles(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    let mut graph = DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..objects.len()).map(|i| graph.add_node(i)).collect();
    for (i, object) in objects.iter().enumerate() {
        for reference in object.spec.references() {
            let RefTarget::Kind(kind) = reference.target else { continue };
            if let Some(target) = resolve_in_set(objects, kind, &reference.name) {
                if let Some(j) = objects.iter().position(|o| std::ptr::eq(o, target)) {
                    graph.add_edge(nodes[i], nodes[j], ());
                }
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
        diags.push(
            Diagnostic::new(
                &first.file,
                first.loc,
                format!("dependency cycle: {}", members.join(" -> ")),
            )
            .with_hint(
                "objects in a cycle cannot be created in any order; remove one of the references",
            ),
        );
    }
}
