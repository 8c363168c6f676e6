//! Manifests: from files on disk to a validated, ordered [`ManifestSet`].
//!
//! The path of a manifest: files are collected ([`files`]), each YAML
//! document is parsed into a located tree ([`yaml`]), the `Project` (if any)
//! supplies variables for the selected environment, `${var.NAME}` is
//! substituted ([`vars`]), each document is deserialized into its kind's spec
//! ([`crate::kinds`]), and the set is checked as a whole ([`check`]).
//!
//! Invariants: loading never panics and never stops at the first problem:
//! every problem becomes a [`Diagnostic`] at `file:line:column`. A set with
//! any diagnostic is not returned, so nothing downstream ever sees a
//! half-valid set. The resulting objects are ordered by kind, then
//! `metadata.name`, independent of file order.

pub mod check;
pub mod diag;
pub mod files;
mod hint;
pub(crate) mod parallel;
pub mod reference;
pub mod schema;
pub mod secret;
pub mod select;
mod typing;
pub mod vars;
pub mod yaml;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use crate::kinds::project::ProjectSpec;
use crate::kinds::{Kind, Reference, Spec};
pub use diag::Diagnostic;
use diag::locate;
pub use hint::{DeclaredHint, declared_hint};
use typing::{check_envelope, type_document, type_node};
use yaml::{Loc, Node, Text};

/// The only manifest format version.
pub const API_VERSION: &str = "gcctl/v1";

/// One manifest document, parsed and typed.
#[derive(Debug)]
pub struct Object {
    pub kind: Kind,
    /// `metadata.name`: the handle other manifests use to refer to this object.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Refuse to delete this object, even under `--prune`.
    pub protect: bool,
    /// JSON pointers into the spec whose differences are ignored.
    pub ignore_differences: Vec<String>,
    /// The typed spec, never changed once loaded: [`Object::references`]
    /// keeps what it refers to from the first time they are asked for.
    pub spec: Box<dyn Spec>,
    pub file: PathBuf,
    /// Location of the document's start.
    pub loc: Loc,
    /// The located tree, after substitution, for pointing at fields later.
    pub doc: Arc<Node>,
    /// `spec.references()`, made on first use: the set's checks, the plan's
    /// read and its build each walk them (five times an object, where a
    /// plan of 50,000 queues spent 2 % of its CPU making them).
    references: OnceLock<Vec<Reference>>,
}

impl Object {
    /// `Kind/name`, the way objects are named in messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// The objects this one refers to by name (its spec's
    /// [`Spec::references`]).
    pub fn references(&self) -> &[Reference] {
        self.references.get_or_init(|| self.spec.references())
    }

    /// The org-side name (`spec.name`), for kinds that exist in the org.
    pub fn org_name(&self) -> Option<&str> {
        self.spec.org_name()
    }

    /// `file:line:column` of a field of this document.
    pub fn location_of(&self, pointer: &str) -> String {
        format!("{}:{}", self.file.display(), locate(&self.doc, pointer))
    }
}

/// What a spec reading the files its manifest names gets
/// ([`crate::kinds::Spec::resolve_files`]).
pub struct FileContext<'a> {
    /// The manifest file: paths in the spec are relative to its folder.
    pub manifest: &'a Path,
    /// The document, after substitution (to locate fields).
    pub doc: &'a Node,
    /// The variables of the selected environment.
    pub vars: &'a BTreeMap<String, String>,
    /// The files of a set loaded from memory ([`load_memory`]); `None`: the disk.
    pub memory: Option<&'a MemoryFiles<'a>>,
}

impl FileContext<'_> {
    /// Read a file the manifest names (paths as [`FileContext::manifest`]
    /// gives them): from the set's files when it is loaded from memory,
    /// else from the disk, with the checks of [`files::read_manifest`].
    pub fn read(&self, path: &Path) -> Result<String, Box<Diagnostic>> {
        let Some(memory) = self.memory else { return files::read_manifest(path) };
        let text = memory.get(path).ok_or_else(|| {
            Box::new(Diagnostic::new(path, Loc::default(), "cannot read the file: no such file"))
        })?;
        files::within_size(path, text.len() as u64)?;
        Ok((*text).to_string())
    }
}

/// Manifest files held in memory, by path, with their text: what an export
/// checks before it writes them ([`load_memory`]), borrowed from their
/// owner (an export's files are megabytes).
pub type MemoryFiles<'a> = BTreeMap<PathBuf, &'a str>;

/// A validated set of manifests.
#[derive(Debug, Default)]
pub struct ManifestSet {
    pub objects: Vec<Object>,
    pub project: ProjectSpec,
    pub env: Option<String>,
    pub files: Vec<PathBuf>,
    /// (kind, org name) of every `protect: true` object, in every environment.
    pub protected: BTreeSet<(Kind, String)>,
    /// The Project's environments whose `protect: true` names are not
    /// known because they do not load, each with its first problem
    /// (`environment staging does not load (FILE:LINE:COL: ...)`). While
    /// one is listed, an apply or a destroy that would delete anything
    /// refuses (`apply::preflight`): whether the object is protected under
    /// that environment's name cannot be told.
    pub protection_unknown: Vec<String>,
    /// YAML files found in directories that are not gcctl manifests (their
    /// first document has neither `apiVersion` nor `kind`: CI pipelines and
    /// the like), left out of the set.
    pub skipped: Vec<PathBuf>,
    /// Problems that do not stop the load (an empty file named on the
    /// command line), for the commands to show.
    pub warnings: Vec<Diagnostic>,
    /// The `--select` patterns the set was narrowed to (see [`select`]);
    /// empty: the whole set.
    pub selected: Vec<String>,
}

impl ManifestSet {
    pub fn of_kind(&self, kind: Kind) -> impl Iterator<Item = &Object> {
        self.objects.iter().filter(move |o| o.kind == kind)
    }

    /// A digest of the desired state: every object's kind, name, spec,
    /// protection and ignored fields, and the environment. Secrets are
    /// references here, so no secret value enters the digest.
    pub fn digest(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.env.as_deref().unwrap_or("").as_bytes());
        for object in &self.objects {
            let entry = serde_json::json!({
                "kind": object.kind,
                "name": object.name,
                "spec": object.spec.to_json(),
                "protect": object.protect,
                "ignoreDifferences": object.ignore_differences,
            });
            hasher.update(entry.to_string().as_bytes());
            hasher.update(b"\n");
        }
        hex::encode(hasher.finalize())
    }

    /// Count objects per kind, for summaries.
    pub fn counts(&self) -> BTreeMap<Kind, usize> {
        let mut counts = BTreeMap::new();
        for object in &self.objects {
            *counts.entry(object.kind).or_insert(0) += 1;
        }
        counts
    }
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The environment selected with `--env`.
    pub env: Option<String>,
}

/// Loading failed: every problem found, sorted by file and position.
#[derive(Debug, thiserror::Error)]
#[error("{} problem{} found in the manifests", .diagnostics.len(), if .diagnostics.len() == 1 { "" } else { "s" })]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
    /// Every object whose spec could be read, those with problems too (a
    /// webhook whose URL is wrong), for the checks that still apply to
    /// them: `validate --require-secrets` reports an unresolvable secret
    /// in the same run as the other problems (see [`check_secrets`]).
    pub objects: Vec<Object>,
}

/// A parsed document before typing.
struct RawDoc {
    file: PathBuf,
    node: Node,
    kind: Kind,
}

/// Load, substitute and validate a manifest set.
pub fn load(paths: &[PathBuf], options: &LoadOptions) -> Result<ManifestSet, LoadError> {
    let mut set = load_one(paths, options)?;
    (set.protected, set.protection_unknown) = protected_names(&set, paths, options);
    Ok(set)
}

/// The org names that `protect: true` objects have in *every* environment
/// of the Project, and without one (the project-wide variables alone): when
/// environments share one org under different names, a prune in one
/// environment must not delete another's protected object. With them, the
/// declared environments that fail to load (their names are unknown: a
/// delete must not guess, see [`ManifestSet::protection_unknown`]). A load
/// without an environment that fails adds nothing and is not listed: where
/// the manifests need an environment's variables, no run can name objects
/// without one.
fn protected_names(
    set: &ManifestSet,
    paths: &[PathBuf],
    options: &LoadOptions,
) -> (BTreeSet<(Kind, String)>, Vec<String>) {
    let collect = |set: &ManifestSet| -> Vec<(Kind, String)> {
        set.objects
            .iter()
            .filter(|o| o.protect)
            .filter_map(|o| Some((o.kind, o.org_name()?.to_string())))
            .collect()
    };
    let mut names: BTreeSet<(Kind, String)> = collect(set).into_iter().collect();
    let mut unknown = Vec::new();
    // Nothing to look for when no object says `protect` at all. One that
    // says it, even `false` here, may be protected in another environment
    // (`protect: ${var.p}`): a run in this one must not delete it.
    if !set.objects.iter().any(|o| o.protect || o.doc.get("protect").is_some()) {
        return (names, unknown);
    }
    let environments = set.project.environments.keys().map(|e| Some(e.clone()));
    for env in std::iter::once(None).chain(environments) {
        if env.as_deref() == options.env.as_deref() {
            continue;
        }
        match load_one(paths, &LoadOptions { env: env.clone() }) {
            Ok(other) => names.extend(collect(&other)),
            Err(err) => {
                let Some(env) = env else { continue };
                let first = err.diagnostics.first().map(ToString::to_string).unwrap_or_default();
                let first = first.lines().next().unwrap_or_default();
                unknown.push(format!("environment {env} does not load ({first})"));
            }
        }
    }
    (names, unknown)
}

fn load_one(paths: &[PathBuf], options: &LoadOptions) -> Result<ManifestSet, LoadError> {
    let mut diags = Vec::new();
    let files = files::collect(paths, &mut diags);
    let parsed = parallel::map(files.iter().collect(), |file: &PathBuf| {
        // Files named on the command line are manifests, or errors.
        let walked = !paths.contains(file);
        let (mut raw, mut diags) = (Vec::new(), Vec::new());
        let parsed = match files::read_manifest(file) {
            Ok(text) => parse_text(file, &text, walked, &mut raw, &mut diags),
            Err(diag) => {
                diags.push(*diag);
                Parsed::Manifest
            }
        };
        (parsed, raw, diags)
    });
    finish(files, parsed, diags, options, None)
}

/// Load a set from files held in memory, as [`load`] would load the same
/// files written to a directory and passed as it (their paths relative to
/// it; a path with a component starting with `.` is hidden, as a walk skips
/// it): the `*.yaml` and `*.yml` files are the manifests (those whose first document is not one are
/// skipped), and a file a manifest names (a flow's definition) is one of
/// `files`. An export checks its output with it before writing it. The set
/// has no `--env`, and its protected names are its own.
pub fn load_memory(files: &MemoryFiles<'_>) -> Result<ManifestSet, LoadError> {
    let hidden = |path: &Path| {
        path.components().any(|c| c.as_os_str().to_str().is_some_and(|c| c.starts_with('.')))
    };
    let manifests: Vec<(&PathBuf, &&str)> =
        files.iter().filter(|(path, _)| files::is_manifest(path) && !hidden(path)).collect();
    let names: Vec<PathBuf> = manifests.iter().map(|(path, _)| (*path).clone()).collect();
    let mut diags = Vec::new();
    if names.is_empty() {
        diags.push(Diagnostic::new(
            Path::new(""),
            Loc::default(),
            "no manifest files (*.yaml, *.yml)",
        ));
    }
    // An export has one file per kind: they are handed out one at a time
    // to every core, this thread among them (and a large one is parsed in
    // pieces on every core, by `yaml::parse_documents`).
    let parsed = parallel::map_large(manifests, |(path, text)| {
        let (mut raw, mut diags) = (Vec::new(), Vec::new());
        // As large a file as `load` reads from disk, no larger.
        let parsed = match files::within_size(path, text.len() as u64) {
            Ok(()) => parse_text(path, text, true, &mut raw, &mut diags),
            Err(diag) => {
                diags.push(*diag);
                Parsed::Manifest
            }
        };
        (parsed, raw, diags)
    });
    let options = LoadOptions::default();
    let mut set = finish(names, parsed, diags, &options, Some(files))?;
    set.protected = set
        .objects
        .iter()
        .filter(|o| o.protect)
        .filter_map(|o| Some((o.kind, o.org_name()?.to_string())))
        .collect();
    Ok(set)
}

/// What [`parse_text`] made of each file.
type ParsedFile = (Parsed, Vec<RawDoc>, Vec<Diagnostic>);

/// The rest of loading once every file is parsed: handles, the Project and
/// its environment, typing every document, the checks across the set.
fn finish(
    files: Vec<PathBuf>,
    parsed: Vec<ParsedFile>,
    mut diags: Vec<Diagnostic>,
    options: &LoadOptions,
    memory: Option<&MemoryFiles<'_>>,
) -> Result<ManifestSet, LoadError> {
    // Every file's documents in one list, allocated once (10,000 documents
    // appended file by file grew it by doubling, copying each time).
    let mut raw = Vec::with_capacity(parsed.iter().map(|(_, docs, _)| docs.len()).sum());
    // A file that did not parse may hold the Project (see below).
    let unparsed = parsed
        .iter()
        .any(|(_, _, problems)| problems.iter().any(|d| d.severity == diag::Severity::Error));
    let mut skipped = Vec::new();
    for (file, (parsed, mut docs, mut problems)) in files.iter().zip(parsed) {
        if parsed == Parsed::NotAManifest {
            skipped.push(file.clone());
        }
        raw.append(&mut docs);
        diags.append(&mut problems);
    }
    let files: Vec<PathBuf> = files.into_iter().filter(|f| !skipped.contains(f)).collect();
    let (mut duplicates, declared) = handles(&raw);
    diags.append(&mut duplicates);
    let (projects, documents): (Vec<RawDoc>, Vec<RawDoc>) =
        raw.into_iter().partition(|d| d.kind == Kind::Project);
    let project = load_project(&projects, memory, &mut diags);
    // A Project that did not load has variables nobody can know: its own
    // problems are reported, not every reference to them as unknown. So
    // has one that may be in a file that did not parse (a syntax error).
    let project_broken = project.is_none() && (!projects.is_empty() || unparsed);
    let vars = match &project {
        None if project_broken => BTreeMap::new(),
        _ => select_environment(&documents, project.as_ref(), options.env.as_deref(), &mut diags),
    };
    let mut typed = Vec::new();
    let (mut objects, mut rejected) = type_all(documents, &vars, memory, &mut typed);
    if project_broken {
        // Nor every value that a reference left as its text, which then
        // fails its field (`${var.host}` is not a domain name).
        typed.retain(|d| {
            !d.message.starts_with("unknown variable `") && !d.message.contains("${var.")
        });
    }
    diags.append(&mut typed);
    let project_spec = project.as_ref().map(|(_, spec)| spec.clone()).unwrap_or_default();
    if let Some((object, _)) = project {
        objects.push(object);
    }
    objects.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    // Files a manifest reads (a flow's definition) are not "skipped".
    let canonical = |p: &Path| match memory {
        Some(_) => p.to_path_buf(),
        None => fs_err::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()),
    };
    let named: Vec<PathBuf> =
        objects.iter().flat_map(|o| o.spec.named_files()).map(|p| canonical(&p)).collect();
    skipped.retain(|f| !named.contains(&canonical(f)));
    check::check_set(&objects, &rejected, &declared, &mut diags);
    diags.sort();
    diags.dedup();
    let (warnings, errors): (Vec<Diagnostic>, Vec<Diagnostic>) =
        diags.into_iter().partition(|d| d.severity == diag::Severity::Warning);
    if !errors.is_empty() {
        objects.append(&mut rejected);
        let diagnostics = errors.into_iter().chain(warnings).collect();
        return Err(LoadError { diagnostics, objects });
    }
    Ok(ManifestSet {
        objects,
        project: project_spec,
        env: options.env.clone(),
        files,
        protected: BTreeSet::new(),
        protection_unknown: Vec::new(),
        skipped,
        warnings,
        selected: Vec::new(),
    })
}

/// The documents' handles, in two passes over every document (on two cores
/// for a large set): the diagnostics of handles declared twice, and every
/// declared `(kind, metadata.name)`.
fn handles(raw: &[RawDoc]) -> (Vec<Diagnostic>, crate::FastSet<(Kind, String)>) {
    parallel::join(
        raw.len() >= parallel::JOIN_FROM,
        || {
            let mut duplicates = Vec::new();
            check::check_unique_handles(
                &raw.iter().map(|d| (d.kind, d.file.as_path(), &d.node)).collect::<Vec<_>>(),
                &mut duplicates,
            );
            duplicates
        },
        || {
            raw.iter()
                .filter_map(|d| {
                    Some((d.kind, d.node.get("metadata")?.get("name")?.as_str()?.to_string()))
                })
                .collect()
        },
    )
}

/// Type every document on every core ([`type_document`]): the objects
/// without errors, and those whose spec was read despite them (`rejected`,
/// for the secrets check of a set that fails); the problems go to `diags`.
fn type_all(
    documents: Vec<RawDoc>,
    vars: &BTreeMap<String, String>,
    memory: Option<&MemoryFiles<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Object>, Vec<Object>) {
    let typed = parallel::map(documents, |doc| {
        let (mut problems, mut refused) = (Vec::new(), Vec::new());
        let object = type_document(doc, vars, memory, &mut problems, &mut refused);
        (object, problems, refused)
    });
    let mut objects = Vec::new();
    let mut rejected = Vec::new();
    for (object, mut problems, mut refused) in typed {
        objects.extend(object);
        diags.append(&mut problems);
        rejected.append(&mut refused);
    }
    (objects, rejected)
}

#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Manifest,
    /// A YAML file found in a directory whose first document has neither
    /// `apiVersion` nor `kind`.
    NotAManifest,
}

/// Parse the text of the manifest file `file` into `raw`. A `walked` file
/// (found in a directory, not named) whose first document is not a manifest
/// is [`Parsed::NotAManifest`].
fn parse_text(
    file: &Path,
    text: &str,
    walked: bool,
    raw: &mut Vec<RawDoc>,
    diags: &mut Vec<Diagnostic>,
) -> Parsed {
    let docs = match yaml::parse_documents(text) {
        Ok(docs) => docs,
        Err(err) => {
            diags.push(Diagnostic::new(file, err.loc, err.message));
            return Parsed::Manifest;
        }
    };
    if docs.is_empty() && !walked {
        // Named on purpose, yet declares nothing: likely the wrong file.
        diags.push(
            Diagnostic::new(file, Loc::default(), "the file holds no manifest")
                .with_hint("it is empty or only comments; check the path")
                .as_warning(),
        );
    }
    if walked && !docs.is_empty() && !docs.iter().any(manifest_like) {
        return Parsed::NotAManifest;
    }
    for node in docs {
        if let Some(kind) = check_envelope(file, &node, diags) {
            raw.push(RawDoc { file: file.to_path_buf(), node, kind });
        }
    }
    Parsed::Manifest
}

/// Whether a document says it is a gcctl manifest (`apiVersion` or `kind`).
fn is_manifest(doc: &yaml::Node) -> bool {
    doc.get("apiVersion").is_some() || doc.get("kind").is_some()
}

/// Whether a document is one, or one with its keys mistyped: `apiversion`,
/// `Kind`, `api_version`, or `metadata` with `spec` (or a list holding one).
/// A file found in a directory is skipped as someone else's YAML only when
/// none of its documents is any of these: a typo must not leave a file's
/// objects out of the set unnoticed (a prune would delete them).
fn manifest_like(doc: &yaml::Node) -> bool {
    if let yaml::Value::Seq(items) = &doc.value {
        // Manifests written as a YAML list are not read as such: an error.
        return items.iter().any(manifest_like);
    }
    if is_manifest(doc) || (doc.get("metadata").is_some() && doc.get("spec").is_some()) {
        return true;
    }
    let folded = |key: &str| key.to_ascii_lowercase().replace(['_', '-'], "");
    doc.keys().any(|key| matches!(folded(key).as_str(), "apiversion" | "kind"))
}

/// Type the Project document (at most one per set: `projects` are the
/// set's Project documents); no substitution in it.
fn load_project(
    projects: &[RawDoc],
    memory: Option<&MemoryFiles<'_>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Object, ProjectSpec)> {
    let mut projects = projects.iter();
    let first = projects.next()?;
    for extra in projects {
        diags.push(
            Diagnostic::new(&extra.file, extra.node.loc, "a manifest set has at most one Project")
                .with_hint(format!("another Project is defined in {}", first.file.display())),
        );
    }
    numbers_not_as_written(first, memory, diags);
    let object = type_node(&first.file, first.node.clone(), first.kind, diags)?;
    let spec = crate::kinds::project::project_spec(&object)?.clone();
    Some((object, spec))
}

/// Variables written as unquoted numbers that YAML does not keep as
/// written (`1.10` is 1.1, `0049` is 49, `0x1F` is 31, `1e3` is 1000):
/// substituted, their text would not be what the file says, silently (a
/// name `Skill v${var.ver}` would become `Skill v1.1`), so each is an error
/// asking for quotes. A number written as YAML writes it back (`30`, `1.5`)
/// is fine. The file is read again for the written text; a file that cannot
/// be is not checked (its problems are reported where it is read).
fn numbers_not_as_written(
    project: &RawDoc,
    memory: Option<&MemoryFiles<'_>>,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(spec) = project.node.get("spec") else { return };
    let environments = spec.get("environments").into_iter().flat_map(|envs| match &envs.value {
        yaml::Value::Map(entries) => {
            entries.iter().filter_map(|(_, env)| env.get("variables")).collect()
        }
        _ => Vec::new(),
    });
    let maps: Vec<&Node> = spec.get("variables").into_iter().chain(environments).collect();
    let numbers: Vec<(&Text, &Node)> = maps
        .iter()
        .filter_map(|map| match &map.value {
            yaml::Value::Map(entries) => {
                Some(entries.iter().map(|(key, value)| (&key.name, value)))
            }
            _ => None,
        })
        .flatten()
        .filter(|(_, value)| {
            value.plain
                && matches!(
                    value.value,
                    yaml::Value::Int(_) | yaml::Value::Float(_) | yaml::Value::Bool(_)
                )
        })
        .collect();
    if numbers.is_empty() {
        return;
    }
    let text = match memory {
        Some(files) => files.get(&project.file).map(|text| (*text).to_string()),
        None => files::read_manifest(&project.file).ok(),
    };
    let Some(text) = text else { return };
    let lines: Vec<&str> = text.lines().collect();
    for (name, node) in numbers {
        let (what, shown) = match &node.value {
            yaml::Value::Int(i) => ("number", i.to_string()),
            yaml::Value::Float(f) => ("number", f.to_string()),
            yaml::Value::Bool(b) => ("boolean", b.to_string()),
            _ => continue,
        };
        let line = usize::try_from(node.loc.line).ok().and_then(|l| lines.get(l.checked_sub(1)?));
        let column = usize::try_from(node.loc.column).unwrap_or(1).saturating_sub(1);
        let token = |line: &&str| -> String {
            let number = |c: &char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-');
            line.chars().skip(column).take_while(number).collect()
        };
        let Some(written) = line.map(token) else { continue };
        if written == shown {
            continue;
        }
        diags.push(
            Diagnostic::new(
                &project.file,
                node.loc,
                format!("variable `{name}` is written `{written}`, which YAML reads as the {what} {shown}: `${{var.{name}}}` would be {shown}"),
            )
            .with_hint(format!("quote it to keep the text (`{name}: \"{written}\"`), or write {shown}")),
        );
    }
}

/// The variables for `--env`, with diagnostics for an unknown environment
/// (`documents`: the set's other documents, to place a missing Project).
fn select_environment(
    documents: &[RawDoc],
    project: Option<&(Object, ProjectSpec)>,
    env: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let Some(env) = env else {
        return project.map(|(_, p)| p.variables_for(None)).unwrap_or_default();
    };
    match project {
        Some((_, spec)) if spec.environments.contains_key(env) => spec.variables_for(Some(env)),
        Some((object, spec)) => {
            let known: Vec<&str> = spec.environments.keys().map(String::as_str).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            diags.push(
                Diagnostic::new(
                    &object.file,
                    locate(&object.doc, "/spec/environments"),
                    format!("environment `{env}` is not defined"),
                )
                .with_hint(format!("defined environments: {known}")),
            );
            // The project-wide variables still apply: the one mistake is
            // the environment's name, not every reference to a variable.
            spec.variables_for(None)
        }
        None => {
            let file = documents.first().map_or_else(|| PathBuf::from("--env"), |d| d.file.clone());
            diags.push(
                Diagnostic::new(
                    &file,
                    Loc::default(),
                    format!("--env {env} was given, but no Project defines environments"),
                )
                .with_hint("add a Project manifest with spec.environments, or drop --env"),
            );
            BTreeMap::new()
        }
    }
}

/// Resolve every secret the objects reference: unresolvable ones are
/// diagnostics when `require` is set; resolvable ones are checked against the
/// kind's limits (webhook secrets need at least 16 characters). Messages name
/// the variable or file, never the value.
pub fn check_secrets(
    objects: &[Object],
    env: &dyn Fn(&str) -> Option<String>,
    require: bool,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for object in objects {
        let base = object.file.parent().unwrap_or_else(|| Path::new("."));
        for (pointer, input) in object.spec.secrets() {
            // A literal is an error of the load already (it never resolves here).
            if let secret::SecretInput::Literal(_) = input {
                continue;
            }
            let loc = locate(&object.doc, &pointer);
            match input.resolve(base, env) {
                Ok(secret) => {
                    if let Some((message, hint)) = object.spec.check_secret(&pointer, &secret) {
                        diags.push(Diagnostic::new(&object.file, loc, message).with_hint(hint));
                    }
                }
                Err(err) if require => diags.push(
                    Diagnostic::new(&object.file, loc, format!("cannot resolve the secret: {err}"))
                        .with_hint(err.hint()),
                ),
                Err(_) => {}
            }
        }
    }
    diags.sort();
    diags
}

/// Register every secret the objects reference that resolves here (its
/// variable set, its file readable) for redaction
/// ([`crate::api::untrusted::register_secret`]), so that a run that does
/// not send it (a plan, a drift report) never prints it either, wherever
/// the org might echo it (a webhook URL holding it as a query parameter).
/// One that does not resolve is left alone: a plan needs no secret.
pub fn register_secrets(objects: &[Object], env: &dyn Fn(&str) -> Option<String>) {
    for object in objects {
        object.spec.register_credentials();
        let secrets = object.spec.secrets();
        if secrets.is_empty() {
            continue;
        }
        let base = object.file.parent().unwrap_or_else(|| Path::new("."));
        for (_, input) in secrets {
            if let Ok(secret) = input.resolve(base, env) {
                crate::api::untrusted::register_secret(secret.expose());
            }
        }
    }
}

/// metadata.name: letters, digits, `-`, `_`, `.`; starts with a letter or digit.
pub fn is_handle(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = "apiVersion: gcctl/v1
kind: RoutingQueue
metadata:
  name: support
spec:
  name: Support
---
apiVersion: gcctl/v1
kind: Flow
metadata:
  name: inbound
spec:
  name: Inbound
  type: INBOUNDSHORTMESSAGE
  file: flows/inbound.yaml
";

    const FLOW: &str = "inboundShortMessage:
  name: Inbound
  defaultLanguage: en-us
  startUpRef: \"/inboundShortMessage/states/state[Start_1]\"
  states:
    - state:
        name: Start
        refId: Start_1
        actions:
          - transferToAcd:
              name: Transfer
              targetQueue:
                lit:
                  name: Support
";

    /// A secret a manifest references and the run can resolve is redacted
    /// from every text gcctl shows from then on, sent or not (a plan sends
    /// none); one that does not resolve is no problem.
    #[test]
    fn resolvable_secrets_are_registered_for_redaction() {
        let webhooks = "apiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: hook}\nspec:\n  url: https://bot.example.com/hook\n  signatureSecret: {fromEnv: HOOK_SECRET}\n---\napiVersion: gcctl/v1\nkind: Webhook\nmetadata: {name: other}\nspec:\n  url: https://bot.example.com/other\n  signatureSecret: {fromEnv: UNSET_SECRET}\n";
        let set = load_memory(&memory(&[("webhooks.yaml", webhooks)])).unwrap();
        let canary = "registered-canary-5f1e9a0c7d";
        let echoed = format!("https://bot.example.com/hook?token={canary}");
        assert_eq!(crate::api::untrusted::visible(&echoed), echoed, "not known before");
        let env = |key: &str| (key == "HOOK_SECRET").then(|| canary.to_string());
        register_secrets(&set.objects, &env);
        let shown = crate::api::untrusted::visible(&echoed);
        assert_eq!(shown, "https://bot.example.com/hook?token=[redacted]");
        let inline = crate::render::inline(Some(&serde_json::json!(echoed)));
        assert!(!inline.contains(canary), "{inline}");
    }

    /// A variable written as an unquoted number that YAML does not keep
    /// as written is an error at its place, in every variables map; one
    /// written as YAML writes it back, or quoted, is fine.
    #[test]
    fn numeric_variables_not_kept_as_written_are_errors() {
        let project = "apiVersion: gcctl/v1\nkind: Project\nmetadata: {name: p}\nspec:\n  variables:\n    ver: 1.10\n    timeout: 30\n    rate: 1.5\n    quoted: \"0049\"\n    area: 0049   # a comment\n  environments:\n    prod:\n      variables: {hex: 0x1F, big: 12345678901234567890, neg: -3, yes: True, no: false}\n";
        let err = load_memory(&memory(&[("project.yaml", project)])).unwrap_err();
        let found: Vec<String> = err
            .diagnostics
            .iter()
            .map(|d| format!("{}:{} {}", d.loc.line, d.loc.column, d.message))
            .collect();
        // `big`, beyond 64 bits, is its text (YAML keeps it as written).
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[3].starts_with(
                "13:71 variable `yes` is written `True`, which YAML reads as the boolean true"
            ),
            "{found:#?}"
        );
        assert!(
            found[0].starts_with(
                "6:10 variable `ver` is written `1.10`, which YAML reads as the number 1.1"
            ),
            "{found:#?}"
        );
        assert!(found[1].starts_with("10:11 variable `area` is written `0049`"), "{found:#?}");
        assert!(
            found[2].starts_with(
                "13:24 variable `hex` is written `0x1F`, which YAML reads as the number 31"
            ),
            "{found:#?}"
        );
        assert!(err.diagnostics[0].hint.as_deref().unwrap_or_default().contains("ver: \"1.10\""));
    }

    fn memory<'a>(files: &[(&str, &'a str)]) -> MemoryFiles<'a> {
        files.iter().map(|(path, text)| (PathBuf::from(path), *text)).collect()
    }

    /// What a loaded set holds, to compare two loads.
    fn summary(set: &ManifestSet) -> Vec<(String, serde_json::Value)> {
        set.objects.iter().map(|o| (o.id(), o.spec.to_json())).collect()
    }

    #[test]
    fn a_set_in_memory_loads_as_the_same_files_in_a_directory_would() {
        let files = [
            ("set.yaml", SET),
            ("flows/inbound.yaml", FLOW),
            ("notes.yaml", "owner: the contact-center team\n"),
            (".draft.yaml", "not: [valid"),
            ("gcctl.schema.json", "{}"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        let on_disk = load(&[dir.path().to_path_buf()], &LoadOptions::default()).unwrap();
        let in_memory = load_memory(&memory(&files)).unwrap();
        assert_eq!(summary(&in_memory), summary(&on_disk));
        assert_eq!(summary(&in_memory).len(), 2);
        let flow = in_memory.objects.iter().find(|o| o.kind == Kind::Flow).unwrap();
        assert_eq!(flow.spec.to_json()["definition"], FLOW, "the flow file is read from memory");
        let relative = |paths: &[PathBuf]| -> Vec<PathBuf> {
            paths.iter().map(|p| p.strip_prefix(dir.path()).unwrap_or(p).to_path_buf()).collect()
        };
        assert_eq!(in_memory.files, relative(&on_disk.files));
        assert_eq!(in_memory.files, [PathBuf::from("set.yaml")]);
        assert_eq!(in_memory.skipped, relative(&on_disk.skipped));
        assert_eq!(in_memory.skipped, [PathBuf::from("notes.yaml")]);
    }

    #[test]
    fn a_set_in_memory_reads_no_file_from_the_disk() {
        // The flow file exists on disk, where the working directory would
        // resolve it, but not among the files: it is missing.
        // (`tempdir` names start with a dot: hidden, as a walk would skip.)
        let dir = tempfile::Builder::new().prefix("gcctl-memory-").tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("flows")).unwrap();
        fs_err::write(dir.path().join("flows/inbound.yaml"), FLOW).unwrap();
        let files = memory(&[(dir.path().join("set.yaml").to_str().unwrap(), SET)]);
        let err = load_memory(&files).unwrap_err();
        let [problem] = err.diagnostics.as_slice() else { panic!("{:?}", err.diagnostics) };
        assert!(problem.message.contains("cannot read the file: no such file"), "{problem:?}");
        assert!(problem.message.contains("the flow file of Inbound"), "{problem:?}");
        assert_eq!(problem.file, dir.path().join("flows/inbound.yaml"));
    }

    #[test]
    fn a_variable_spelled_with_an_escape_is_substituted_as_written_out() {
        // `\u0024` is `$`: the variable is the string's, however it is written.
        let project = "apiVersion: gcctl/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n  variables:\n    TEAM: Support\n";
        let queues = "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: q\nspec:\n  name: \"\\u0024{var.TEAM} queue\"\n";
        let set = load_memory(&memory(&[("project.yaml", project), ("queues.yaml", queues)]))
            .unwrap_or_else(|err| panic!("{:?}", err.diagnostics));
        let queue = set.objects.iter().find(|o| o.name == "q").unwrap();
        assert_eq!(queue.spec.to_json()["name"], "Support queue");
    }

    #[test]
    fn no_manifest_in_memory_is_a_problem_as_on_disk() {
        let err = load_memory(&memory(&[("gcctl.schema.json", "{}")])).unwrap_err();
        assert!(
            err.diagnostics[0].message.starts_with("no manifest files"),
            "{:?}",
            err.diagnostics
        );
    }

    #[test]
    fn a_large_set_finds_the_problems_a_small_one_does() {
        // From `parallel::JOIN_FROM` documents the set's checks run on two
        // cores: each problem is still found, once, at its place.
        // The same queue twice: a duplicate handle and a duplicate org name.
        let twin = "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: twin\nspec:\n  name: Same\n";
        let problems = format!(
            "{twin}---\n{twin}---\napiVersion: gcctl/v1
kind: OpenMessagingIntegration
metadata:
  name: bot
spec:
  name: Bot
  webhook: missing-hook
"
        );
        let found = |padding: usize| {
            let queues: Vec<String> = (0..padding)
                .map(|i| {
                    format!(
                        "apiVersion: gcctl/v1\nkind: RoutingQueue\nmetadata:\n  name: q{i}\nspec:\n  name: Q{i}\n"
                    )
                })
                .collect();
            let queues = queues.join("---\n");
            let err =
                load_memory(&memory(&[("problems.yaml", &problems), ("queues.yaml", &queues)]))
                    .unwrap_err();
            err.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>()
        };
        let small = found(3);
        assert_eq!(small.len(), 3, "{small:#?}");
        assert!(small.iter().any(|d| d.contains("duplicate RoutingQueue named `twin`")));
        assert!(small.iter().any(|d| d.contains("have the org name `Same`")));
        assert!(small.iter().any(|d| d.contains("no Webhook named `missing-hook`")));
        assert_eq!(found(parallel::JOIN_FROM), small);
    }

    #[test]
    fn problems_in_memory_name_the_file_line_and_column() {
        let broken = SET.replace("  name: Support\n", "  name: Support\n  bogus: 1\n");
        let err = load_memory(&memory(&[("queues.yaml", &broken), ("flows/inbound.yaml", FLOW)]))
            .unwrap_err();
        let [problem] = err.diagnostics.as_slice() else { panic!("{:?}", err.diagnostics) };
        assert_eq!(problem.file, PathBuf::from("queues.yaml"));
        assert_eq!((problem.loc.line, problem.loc.column), (7, 3), "{problem:?}");
    }
}
