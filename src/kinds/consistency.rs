//! Is every kind everywhere it must be? A kind is declared once (its line in
//! `kinds!` and its `DEF`), but a few places outside the code must follow:
//! the checked-in JSON Schema, the sandbox's resources, the documentation and
//! at least one manifest that exercises it. [`check`] compares the registry
//! with what those places hold; `tests/it/kinds.rs` gathers the places from
//! the repository and a running sandbox, and fails on any problem.

use std::collections::BTreeSet;

use super::Kind;

/// What the registry says about one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: &'static str,
    pub order: u8,
    /// The API collection of a kind that lives in the org.
    pub collection: Option<&'static str>,
    pub export_file: Option<&'static str>,
}

/// Every kind of the registry, in apply order.
pub fn registry() -> Vec<Entry> {
    Kind::all()
        .iter()
        .map(|kind| Entry {
            name: kind.as_str(),
            order: kind.def().order,
            collection: kind.org().map(|org| org.api().collection),
            export_file: kind.def().export_file,
        })
        .collect()
}

/// What the places outside the registry hold.
#[derive(Debug, Clone, Default)]
pub struct Places {
    /// Kinds the checked-in JSON Schema describes.
    pub schema: BTreeSet<String>,
    /// API collections the sandbox serves (a GET answers 200).
    pub sandbox: BTreeSet<String>,
    /// Kinds with a section in the documentation (a `### Kind` heading).
    pub docs: BTreeSet<String>,
    /// Kinds of at least one manifest under `manifests/`, `examples/` or the tests.
    pub manifests: BTreeSet<String>,
}

/// Every place a kind is missing from, one problem a line.
pub fn check(registry: &[Entry], places: &Places) -> Vec<String> {
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    let mut files = BTreeSet::new();
    for entry in registry {
        let name = entry.name;
        if !names.insert(name) {
            problems.push(format!("{name} is declared twice"));
        }
        if !places.schema.contains(name) {
            problems.push(format!(
                "{name} is missing from schemas/gcctl.schema.json (run `cargo run -- schema > schemas/gcctl.schema.json`)"
            ));
        }
        if !places.docs.contains(name) {
            problems.push(format!(
                "{name} has no section (a `#### {name}` heading) in README.md or docs/"
            ));
        }
        if !places.manifests.contains(name) {
            problems.push(format!(
                "no manifest under manifests/, examples/ or tests/ declares a {name}"
            ));
        }
        if let Some(collection) = entry.collection {
            if !places.sandbox.contains(collection) {
                problems.push(format!(
                    "{name}: the sandbox does not serve GET {collection} (add its sandbox resource)"
                ));
            }
            if entry.export_file.is_none() {
                problems.push(format!("{name} lives in the org but has no export file"));
            }
        }
        if let Some(file) = entry.export_file {
            if !files.insert(file) {
                problems.push(format!("{name}: export file {file} is used by another kind"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The places as they must be for `registry`.
    fn complete(registry: &[Entry]) -> Places {
        let names = || registry.iter().map(|e| e.name.to_string()).collect();
        Places {
            schema: names(),
            docs: names(),
            manifests: names(),
            sandbox: registry.iter().filter_map(|e| e.collection.map(str::to_string)).collect(),
        }
    }

    #[test]
    fn the_registry_is_complete_where_it_is_complete() {
        let registry = registry();
        assert!(check(&registry, &complete(&registry)).is_empty());
    }

    #[test]
    fn a_kind_left_out_of_one_place_is_named() {
        let registry = registry();
        for (i, entry) in registry.iter().enumerate() {
            // Each place in turn lacks the kind: schema, docs, manifests, sandbox.
            for place in 0..4 {
                let mut places = complete(&registry);
                let name = entry.name.to_string();
                match place {
                    0 => places.schema.remove(&name),
                    1 => places.docs.remove(&name),
                    2 => places.manifests.remove(&name),
                    _ => match entry.collection {
                        Some(collection) => places.sandbox.remove(collection),
                        None => continue,
                    },
                };
                let problems = check(&registry, &places);
                assert_eq!(problems.len(), 1, "{name} at place {place}: {problems:?}");
                assert!(problems[0].contains(entry.name), "{problems:?}");
            }
            // A registry whose org kind has no export file.
            if entry.collection.is_some() {
                let mut broken = registry.clone();
                broken[i].export_file = None;
                let problems = check(&broken, &complete(&broken));
                assert_eq!(
                    problems,
                    [format!("{} lives in the org but has no export file", entry.name)]
                );
            }
        }
    }

    #[test]
    fn a_registry_missing_an_entry_leaves_places_that_name_it() {
        // The places were made for the whole registry; one entry is gone.
        let registry = registry();
        let places = complete(&registry);
        let partial: Vec<Entry> = registry.iter().skip(1).cloned().collect();
        assert!(check(&partial, &places).is_empty(), "extra places are not problems");
        assert!(!check(&registry, &complete(&partial)).is_empty());
    }
}
