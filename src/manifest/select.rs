//! `--select`: a manifest set narrowed to some objects and to those that
//! must come with them.
//!
//! Which ones must come depends on the direction of the run. Creating or
//! updating an object needs what it refers to (plan, apply, drift): the
//! selection reaches its [`Reach::Dependencies`]. Deleting an object takes
//! away what refers to it (destroy): the selection reaches its
//! [`Reach::Dependents`], so that a partial destroy never deletes something
//! that an object left out of the selection still uses.
//!
//! Both directions are transitive and follow every reference that resolves
//! to a declared object (a flow named by type and name included), soft ones
//! (a queue named inside a flow) too. The Project's
//! settings stay; its prune scopes do not, since everything left out would
//! look undeclared.

use std::collections::{BTreeMap, BTreeSet};

use super::check::SetIndex;
use super::{ManifestSet, Object};
use crate::kinds::Kind;
use crate::kinds::project::glob_match;

/// Which objects come with the selected ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// What the selected objects refer to (plan, apply, drift).
    Dependencies,
    /// What refers to the selected objects (destroy).
    Dependents,
}

/// A `--select` pattern that selects nothing.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("--select {pattern}: there is no kind `{kind}`")]
    UnknownKind {
        pattern: String,
        kind: String,
        /// The pattern with the closest kind, when one is close.
        suggestion: Option<String>,
    },
    #[error("--select {pattern} matches no declared object")]
    NoMatch {
        pattern: String,
        /// The closest `Kind/name` declared, when one is close.
        suggestion: Option<String>,
    },
    #[error("--select {patterns} selects no object that lives in the org")]
    NothingInOrg { patterns: String },
}

impl SelectError {
    /// A pattern that would select something, or the kinds there are.
    pub fn hint(&self) -> Option<String> {
        match self {
            SelectError::UnknownKind { suggestion: Some(s), .. }
            | SelectError::NoMatch { suggestion: Some(s), .. } => {
                Some(format!("did you mean {s}?"))
            }
            SelectError::UnknownKind { suggestion: None, .. } => {
                Some(format!("the kinds are: {}", Kind::names()))
            }
            SelectError::NoMatch { suggestion: None, .. } => None,
            SelectError::NothingInOrg { .. } => Some(
                "a Project holds settings, and a Webhook lives only inside the integrations that use it (none uses the ones selected): select objects of a kind the org holds, such as RoutingQueue/*".to_string(),
            ),
        }
    }
}

impl ManifestSet {
    /// The set narrowed to the objects matching `patterns` (`Kind/name`,
    /// `*` and `?` globs in either part, the kind case-insensitive) and
    /// those that `reach` brings along, transitively.
    pub fn select(mut self, patterns: &[String], reach: Reach) -> Result<ManifestSet, SelectError> {
        if patterns.is_empty() {
            return Ok(self);
        }
        let mut todo: Vec<usize> = Vec::new();
        for pattern in patterns {
            todo.extend(matching(&self.objects, pattern)?);
        }
        let index = SetIndex::new(&self.objects);
        // For each object, the objects it refers to (by position).
        let edges: Vec<Vec<usize>> = self
            .objects
            .iter()
            .map(|object| {
                let soft = object.spec.soft_references();
                let references = object.references().iter().chain(&soft);
                references.filter_map(|r| index.position_ref(r.target, &r.name)).collect()
            })
            .collect();
        let mut dependents: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (from, targets) in edges.iter().enumerate() {
            for &to in targets {
                dependents.entry(to).or_default().push(from);
            }
        }
        let next: BTreeMap<usize, Vec<usize>> = match reach {
            Reach::Dependencies => {
                // A selected object that does not live in the org on its own
                // (a webhook lives inside the integrations that use it) brings
                // them along: selected alone, it would plan nothing and say the
                // org matches. Only a selected one: a webhook reached from an
                // integration does not bring the other integrations using it.
                let selected: Vec<usize> = todo
                    .iter()
                    .filter(|&&i| !self.objects[i].kind.is_org_object())
                    .flat_map(|i| dependents.get(i).into_iter().flatten().copied())
                    .collect();
                todo.extend(selected);
                edges.into_iter().enumerate().collect()
            }
            Reach::Dependents => dependents,
        };
        let mut keep = BTreeSet::new();
        while let Some(i) = todo.pop() {
            if keep.insert(i) {
                todo.extend(next.get(&i).into_iter().flatten());
            }
        }
        if !keep.iter().any(|&i| self.objects[i].kind.is_org_object()) {
            return Err(SelectError::NothingInOrg { patterns: patterns.join(" ") });
        }
        let mut position = 0;
        self.objects.retain(|_| {
            position += 1;
            keep.contains(&(position - 1))
        });
        self.project.prune.clear();
        self.selected = patterns.to_vec();
        Ok(self)
    }
}

impl ManifestSet {
    /// For a destroy narrowed by `--select` ([`Reach::Dependents`]): the ids
    /// of the objects still to delete once those in `kept` (what protection
    /// keeps) are not. They are the selected objects that are not kept, and
    /// what refers to them, transitively, through objects not kept. An
    /// object the selection reached only through a kept one is left out: it
    /// came along to free that object, which stays. `None` without a
    /// selection.
    pub fn deletable_beside(&self, kept: &BTreeSet<String>) -> Option<BTreeSet<String>> {
        if self.selected.is_empty() {
            return None;
        }
        let index = SetIndex::new(&self.objects);
        let mut dependents: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (from, object) in self.objects.iter().enumerate() {
            let soft = object.spec.soft_references();
            for reference in object.references().iter().chain(&soft) {
                if let Some(to) = index.position_ref(reference.target, &reference.name) {
                    dependents.entry(to).or_default().push(from);
                }
            }
        }
        let free = |i: &usize| !kept.contains(&self.objects[*i].id());
        let mut todo: Vec<usize> = Vec::new();
        for pattern in &self.selected {
            todo.extend(
                matching(&self.objects, pattern).unwrap_or_default().into_iter().filter(free),
            );
        }
        let mut reached = BTreeSet::new();
        while let Some(i) = todo.pop() {
            if reached.insert(i) {
                todo.extend(dependents.get(&i).into_iter().flatten().filter(|d| free(d)));
            }
        }
        Some(reached.into_iter().map(|i| self.objects[i].id()).collect())
    }
}

/// The positions of the objects one pattern matches; an error naming the
/// closest kind or object when it matches none.
fn matching(objects: &[Object], pattern: &str) -> Result<Vec<usize>, SelectError> {
    let (kind, name) = pattern.split_once('/').unwrap_or(("*", pattern));
    let kind_lower = kind.to_lowercase();
    let kind_matches = |k: Kind| glob_match(&kind_lower, &k.as_str().to_lowercase());
    if !Kind::all().iter().any(|&k| kind_matches(k)) {
        let names: Vec<&str> = Kind::all().iter().map(|k| k.as_str()).collect();
        let suggestion = crate::suggest::closest(kind, names.iter().copied())
            .or_else(|| crate::suggest::containing(kind, &names))
            .map(|k| format!("{k}/{name}"));
        return Err(SelectError::UnknownKind {
            pattern: pattern.to_string(),
            kind: kind.to_string(),
            suggestion,
        });
    }
    let matched: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| kind_matches(o.kind) && glob_match(name, &o.name))
        .map(|(i, _)| i)
        .collect();
    if matched.is_empty() {
        // A pattern without `/` is a name, of any kind: a kind's name alone
        // was meant as all of that kind.
        let a_kind = Kind::all().iter().find(|k| k.as_str().eq_ignore_ascii_case(pattern));
        if let Some(kind) = a_kind.filter(|_| !pattern.contains('/')) {
            let suggestion =
                Some(format!("{kind}/* (a pattern without `/` is a name, of any kind)"));
            return Err(SelectError::NoMatch { pattern: pattern.to_string(), suggestion });
        }
        let ids: Vec<String> = objects.iter().map(Object::id).collect();
        let suggestion =
            crate::suggest::closest(pattern, ids.iter().map(String::as_str)).map(str::to_string);
        return Err(SelectError::NoMatch { pattern: pattern.to_string(), suggestion });
    }
    Ok(matched)
}
