//! Saved plans (`plan --out FILE`, `apply --plan FILE`): the plan plus what
//! `apply` needs to re-create exactly the same desired state (the manifest
//! paths and environment) and to detect that the plan went stale (the inputs
//! digest and each live object's fingerprint, inside the plan). No secret
//! value is ever in it: secrets stay references in the manifests.
//!
//! A saved plan is checked, never trusted: [`SavedPlan::check`] accepts it
//! only when its target and its change list equal those of a plan computed
//! afresh from the same manifests and the live org (same changes, in the same
//! order, with the same actions, fields, ids and dependencies). `apply` then
//! executes the fresh plan, so nothing edited into the file reaches the org.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Change, FORMAT_VERSION, Plan};
use crate::api::untrusted::quoted;
use crate::kinds::Kind;

/// How many differences a refusal names (the rest are counted).
const SHOWN: usize = 3;

/// The saved-plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: String,
    /// The manifest paths the plan was computed from, as given.
    pub paths: Vec<PathBuf>,
    /// The `--secrets-dir` the plan looked in for secrets that a crashed
    /// run left unrecorded (their restoration is part of the plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_dir: Option<PathBuf>,
    /// The `--select` patterns the plan was narrowed to (none: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub select: Vec<String>,
    /// Planned with `--no-restore-secrets`: a secret nobody recorded is
    /// left as is, and the apply of this plan must say so too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_restore_secrets: bool,
    pub plan: Plan,
}

/// The largest plan file `apply --plan` reads (a plan of 50,000 changes
/// with their fields is tens of megabytes).
pub const MAX_PLAN_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("cannot write the plan to {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the plan file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a gcctl plan file")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path} has plan format {found}; this gcctl reads format {FORMAT_VERSION}")]
    Version { path: PathBuf, found: String },
    #[error("{path} names no manifest paths to plan from")]
    NoPaths { path: PathBuf },
    /// The targets are `KIND LOCATION` (`org eu-central-1 (mypurecloud.de)`).
    #[error("{path} was planned against {saved}; this run targets {now}")]
    Target { path: PathBuf, saved: String, now: String, replan: String },
    #[error("plan is stale: {}", .reasons.join("; "))]
    Stale { path: PathBuf, reasons: Vec<String>, replan: String },
    #[error("{path} differs from the plan computed now: {}", shown(.differences))]
    Edited { path: PathBuf, differences: Vec<String>, replan: String },
}

impl SavedPlanError {
    /// How to get a plan that applies: plan again, exactly as the saved one was made.
    pub fn hint(&self) -> Option<String> {
        match self {
            SavedPlanError::Target { replan, .. }
            | SavedPlanError::Stale { replan, .. }
            | SavedPlanError::Edited { replan, .. } => Some(format!(
                "nothing was changed; plan again with `{replan}`, review the new plan, then apply it"
            )),
            _ => None,
        }
    }
}

/// Whether the file at `path` (`len` bytes) is a plan `plan --out` wrote, of
/// any format version: a JSON object with `format_version` and `plan`. Only
/// such a file is written over: `--out` naming a manifest or a secret's file
/// by mistake replaced it, and the next prune deleted what it declared.
pub(crate) fn is_saved_plan(path: &Path, len: u64) -> bool {
    /// What tells a plan file, read without building the plan (`IgnoredAny`).
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "format_version")]
        _format_version: String,
        #[serde(rename = "plan")]
        _plan: serde::de::IgnoredAny,
    }
    if len > MAX_PLAN_BYTES {
        return false;
    }
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut reader = std::io::BufReader::new(file);
    // A byte-order mark before the JSON (an editor's) is no reason to miss it.
    if let Ok(head) = std::io::BufRead::fill_buf(&mut reader) {
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            std::io::BufRead::consume(&mut reader, 3);
        }
    }
    serde_json::from_reader::<_, Head>(reader).is_ok()
}

/// The first few differences, then how many more there are.
fn shown(differences: &[String]) -> String {
    let mut text = differences.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if differences.len() > SHOWN {
        text.push_str(&format!("; and {} more", differences.len() - SHOWN));
    }
    text
}

impl SavedPlan {
    pub fn new(paths: &[PathBuf], secrets_dir: Option<&Path>, plan: Plan) -> Self {
        SavedPlan {
            format_version: FORMAT_VERSION.to_string(),
            paths: paths.to_vec(),
            secrets_dir: secrets_dir.map(Path::to_path_buf),
            select: Vec::new(),
            no_restore_secrets: false,
            plan,
        }
    }

    /// Record that the plan was made with `--no-restore-secrets`.
    #[must_use]
    pub fn with_no_restore_secrets(mut self, no_restore: bool) -> Self {
        self.no_restore_secrets = no_restore;
        self
    }

    /// The same plan, narrowed by `--select`.
    #[must_use]
    pub fn with_select(mut self, select: &[String]) -> Self {
        self.select = select.to_vec();
        self
    }

    /// Write atomically (temporary file, then rename), over nothing but a
    /// regular file: a rename would replace a device (`/dev/stdout`), a
    /// pipe or a symbolic link itself. A failed write leaves no temporary
    /// file behind, and never an empty plan where one was.
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        let failed = |source| SavedPlanError::Write { path: path.to_path_buf(), source };
        if let Ok(meta) = fs_err::symlink_metadata(path) {
            if !meta.file_type().is_file() {
                return Err(failed(std::io::Error::other(
                    "it is not a regular file (a directory, a device, a pipe or a symbolic link): name a file to write",
                )));
            }
            if meta.len() > 0 && !is_saved_plan(path, meta.len()) {
                return Err(failed(std::io::Error::other(
                    "it exists and is not a saved plan (a manifest, a secret's file, …), and gcctl writes a plan over nothing but an earlier plan: name another file, or remove this one if it is yours to lose",
                )));
            }
        }
        // A path that is not UTF-8 has no place in the plan's JSON. A secret
        // known in this run that the org also holds in a plain field (a
        // webhook header's credential) is written `[redacted]`: no secret is
        // ever on disk in a plan. `check` compares a fresh plan as it would
        // be written, and the fresh plan is what runs.
        let text = serde_json::to_string_pretty(self).map(|t| crate::api::untrusted::redact_json(&t)).map_err(|err| {
            failed(std::io::Error::other(format!(
                "the plan cannot be written as JSON ({err}); a manifest path that is not UTF-8 cannot be saved in a plan"
            )))
        })? + "\n";
        // A temporary name of this process's own beside it, made afresh
        // (whatever stood there, a link or a pipe, is removed, not opened),
        // synced, then renamed (`private::write_atomic`; mode 0600).
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.{}.tmp-gcctl", std::process::id()));
        crate::private::write_atomic(path, &tmp, text.as_bytes()).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            failed(source)
        })
    }

    pub fn read(path: &Path) -> Result<Self, SavedPlanError> {
        let unreadable = |source| SavedPlanError::Read { path: path.to_path_buf(), source };
        let meta = fs_err::metadata(path).map_err(unreadable)?;
        if !meta.is_file() {
            return Err(unreadable(std::io::Error::other("it is not a regular file")));
        }
        if meta.len() > MAX_PLAN_BYTES {
            return Err(unreadable(std::io::Error::other(format!(
                "it is {} bytes, more than a plan of gcctl holds ({MAX_PLAN_BYTES} at most)",
                meta.len()
            ))));
        }
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut std::io::Read::take(
                fs_err::File::open(path).map_err(unreadable)?,
                MAX_PLAN_BYTES + 1,
            ),
            &mut text,
        )
        .map_err(unreadable)?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|source| SavedPlanError::Parse { path: path.to_path_buf(), source })?;
        let found =
            value.get("format_version").and_then(|v| v.as_str()).unwrap_or("unknown").to_string();
        if found != FORMAT_VERSION {
            return Err(SavedPlanError::Version { path: path.to_path_buf(), found });
        }
        let saved: SavedPlan = serde_json::from_value(value)
            .map_err(|source| SavedPlanError::Parse { path: path.to_path_buf(), source })?;
        if saved.plan.format_version != FORMAT_VERSION {
            let found = saved.plan.format_version;
            return Err(SavedPlanError::Version { path: path.to_path_buf(), found });
        }
        if saved.paths.is_empty() {
            return Err(SavedPlanError::NoPaths { path: path.to_path_buf() });
        }
        Ok(saved)
    }

    /// Accept the saved plan (read from `path`) only if it is the plan
    /// computed now: same target, same desired state, no live object changed
    /// since, and the same change list as `fresh`.
    pub fn check(&self, path: &Path, fresh: &Plan) -> Result<(), SavedPlanError> {
        let path = path.to_path_buf();
        let replan = self.replan_command(&path);
        if !self.plan.target.same_org(&fresh.target) {
            let (saved, now) = (self.plan.target.describe(), fresh.target.describe());
            return Err(SavedPlanError::Target { path, saved, now, replan });
        }
        // As a fresh plan would be written: a secret in a plain field (or a
        // note) reads `[redacted]` in both (what runs is the fresh plan,
        // secrets and all).
        let written = as_written(fresh);
        let reasons = stale(&self.plan, written.as_ref().unwrap_or(fresh));
        if !reasons.is_empty() {
            return Err(SavedPlanError::Stale { path, reasons, replan });
        }
        let mut differences =
            differences(&self.plan.changes, &written.as_ref().unwrap_or(fresh).changes);
        // The file says its selection twice: the run takes the outer one.
        if self.plan.select != self.select {
            differences.push(format!(
                "the plan's `select` ({}) is not the file's ({})",
                self.plan.select.join(" "),
                self.select.join(" ")
            ));
        }
        if !differences.is_empty() {
            return Err(SavedPlanError::Edited { path, differences, replan });
        }
        Ok(())
    }

    /// How the plan was asked for, to write commands that run as shown.
    pub fn run_command(&self) -> RunCommand {
        RunCommand {
            sandbox: self.plan.target.kind == "sandbox",
            paths: self.paths.clone(),
            environment: self.plan.environment.clone(),
            select: self.select.clone(),
            secrets_dir: self.secrets_dir.clone(),
            no_restore_secrets: self.no_restore_secrets,
            prune: self.plan.prune,
            destroy: self.plan.destroy,
        }
    }

    /// The command that applies this plan once saved to `path`, runnable as
    /// shown (with the `--secrets-dir` it was planned with).
    pub fn apply_command(&self, path: &Path) -> String {
        self.run_command().apply_saved(path)
    }

    /// The command that makes this plan again, runnable as shown: the same
    /// manifest paths, environment and target (`--sandbox`), saved to `path`.
    pub fn replan_command(&self, path: &Path) -> String {
        self.run_command().plan(Some(path))
    }
}

/// What a run was asked for (target, manifests, environment, selection,
/// secrets directory, prune or destroy), to write the commands that hints
/// tell the user to run: each runs as shown, for the same org and set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunCommand {
    /// The built-in sandbox org (`--sandbox`).
    pub sandbox: bool,
    pub paths: Vec<PathBuf>,
    pub environment: Option<String>,
    pub select: Vec<String>,
    pub secrets_dir: Option<PathBuf>,
    /// `--no-restore-secrets`: a secret nobody recorded is left as is
    /// (a command without it would issue a new one).
    pub no_restore_secrets: bool,
    pub prune: bool,
    pub destroy: bool,
}

impl RunCommand {
    /// `gcctl plan` for this run, saved to `out` if given.
    pub fn plan(&self, out: Option<&Path>) -> String {
        let mut words = self.start("plan");
        if let Some(out) = out {
            words.push(option("--out", &out.display().to_string()));
        }
        self.push_set(&mut words);
        if let Some(dir) = &self.secrets_dir {
            words.push(option("--secrets-dir", &dir.display().to_string()));
        }
        if self.no_restore_secrets && !self.destroy {
            words.push("--no-restore-secrets".into());
        }
        if self.prune {
            words.push("--prune".into());
        }
        if self.destroy {
            words.push("--destroy".into());
        }
        words.join(" ")
    }

    /// `gcctl apply` (or `gcctl destroy`) for this run, without asking.
    pub fn apply(&self) -> String {
        let mut words = self.start(if self.destroy { "destroy" } else { "apply" });
        self.push_set(&mut words);
        // `destroy` has neither: it deletes, and issues no secret.
        if !self.destroy {
            if let Some(dir) = &self.secrets_dir {
                words.push(option("--secrets-dir", &dir.display().to_string()));
            }
            if self.no_restore_secrets {
                words.push("--no-restore-secrets".into());
            }
            if self.prune {
                words.push("--prune".into());
            }
        }
        words.push("--auto-approve".into());
        words.join(" ")
    }

    /// `gcctl apply --select PATTERN` of this run's manifests, asking
    /// before it changes anything: what to apply first when a later step
    /// needs an object to exist (a role to grant to the caller).
    pub fn apply_first(&self, pattern: &str) -> String {
        let only = RunCommand {
            select: vec![pattern.to_string()],
            secrets_dir: None,
            prune: false,
            destroy: false,
            ..self.clone()
        };
        let mut words = only.start("apply");
        only.push_set(&mut words);
        words.join(" ")
    }

    /// `gcctl apply --plan FILE` for this run's plan saved to `path`.
    pub fn apply_saved(&self, path: &Path) -> String {
        let mut words = self.start("apply");
        words.push(option("--plan", &path.display().to_string()));
        if let Some(dir) = &self.secrets_dir {
            words.push(option("--secrets-dir", &dir.display().to_string()));
        }
        if self.no_restore_secrets && !self.destroy {
            words.push("--no-restore-secrets".into());
        }
        words.join(" ")
    }

    fn start(&self, command: &str) -> Vec<String> {
        let mut words = vec!["gcctl".to_string()];
        if self.sandbox {
            words.push("--sandbox".into());
        }
        words.push(command.into());
        words
    }

    /// The manifest paths, `--env` and `--select`.
    fn push_set(&self, words: &mut Vec<String>) {
        words.extend(self.paths.iter().map(|p| quote_path(p)));
        if let Some(env) = &self.environment {
            words.push(option("--env", env));
        }
        for pattern in &self.select {
            words.push(option("--select", pattern));
        }
    }
}

/// `--name VALUE` as one shell word, `--name=VALUE`: a value starting with
/// `-` (an environment named `-rf`) would otherwise be read as a flag.
fn option(name: &str, value: &str) -> String {
    if value.starts_with('-') {
        quote(&format!("{name}={value}"))
    } else {
        format!("{name} {}", quote(value))
    }
}

/// A manifest path as a shell word that is never read as a flag (`./-x`).
fn quote_path(path: &Path) -> String {
    let text = path.display().to_string();
    if text.starts_with('-') { quote(&format!("./{text}")) } else { quote(&text) }
}

/// A word for a POSIX shell: as it is when it is safe, else single-quoted.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Which object a change is about: its manifest for declared objects, its
/// org name and id for prunes.
type Key<'a> = (Kind, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn key(change: &Change) -> Key<'_> {
    match &change.manifest_name {
        Some(name) => (change.kind.kind(), Some(name), None, None),
        None => (change.kind.kind(), None, Some(&change.org_name), change.id.as_deref()),
    }
}

/// The first change per object, found without scanning for each.
fn by_key(changes: &[Change]) -> HashMap<Key<'_>, &Change> {
    let mut map = HashMap::new();
    for change in changes {
        map.entry(key(change)).or_insert(change);
    }
    map
}

/// What changed since the plan was made: the manifests, or live objects
/// (appeared, disappeared, edited behind gcctl's back).
fn stale(saved: &Plan, fresh: &Plan) -> Vec<String> {
    let mut reasons = Vec::new();
    let inputs = |plan: &Plan| {
        let digest = plan.inputs_digest.as_str();
        digest.strip_suffix(super::PRUNE_DIGEST_MARK).unwrap_or(digest).to_string()
    };
    if inputs(saved) != inputs(fresh) || saved.environment != fresh.environment {
        // The live objects behind the changes are then other objects: told
        // apart by key, they would read as changed in the org when only the
        // manifests were.
        return vec!["the manifests (or the environment) changed".to_string()];
    }
    if saved.inputs_digest != fresh.inputs_digest {
        return vec![format!(
            "the plan was made {} --prune and now says it {}: a saved plan prunes only as it was made",
            if fresh.prune { "without" } else { "with" },
            if fresh.prune { "prunes" } else { "does not" },
        )];
    }
    let now = by_key(&fresh.changes);
    for change in &saved.changes {
        let then = change.live_fingerprint.as_deref();
        let what = match now.get(&key(change)).map(|c| c.live_fingerprint.as_deref()) {
            // The object is as it was, and the manifests too: a note that
            // changed is about the org around it (another object named
            // like it, a flow's lock), not a hand edit.
            Some(same) if same == then && now[&key(change)].notes != change.notes => {
                let new = now[&key(change)].notes.iter().find(|n| !change.notes.contains(n));
                reasons.push(match new {
                    Some(note) => format!(
                        "{}: the org changed around it, and the plan now notes: {}",
                        described(change),
                        crate::api::untrusted::sanitize(note)
                    ),
                    None => format!(
                        "{}: the org changed around it, and a note of the saved plan no longer holds",
                        described(change)
                    ),
                });
                continue;
            }
            Some(now) if now == then => continue,
            Some(None) => "no longer exists in the org",
            Some(Some(_)) if then.is_none() => "now exists in the org",
            Some(Some(_)) => "was changed in the org",
            // A prune the org no longer calls for; other unknown changes are edits.
            None if change.prune && then.is_some() => "is no longer in the org as planned",
            None => continue,
        };
        reasons.push(format!("{} {what}", described(change)));
    }
    let then = by_key(&saved.changes);
    for change in fresh.changes.iter().filter(|c| c.prune && !then.contains_key(&key(c))) {
        reasons.push(format!(
            "{} is a prune now, and was not in the saved plan (it appeared in the org inside a prune scope, or what kept it no longer does: a rename, or `protect: true` in an environment that no longer loads)",
            described(change)
        ));
    }
    reasons
}

/// A change named for a reason: `Kind/handle "Org Name"`, or a prune's
/// `Kind "Org Name"` (it has no manifest).
fn described(change: &Change) -> String {
    match change.manifest_name {
        Some(_) => format!("{} {}", change.address(), quoted(&change.org_name)),
        None => change.described(),
    }
}

/// `plan` as [`SavedPlan::write`] writes it (its secrets `[redacted]`), or
/// `None` when nothing in it is redacted (or it does not read back).
fn as_written(plan: &Plan) -> Option<Plan> {
    let text = serde_json::to_string(plan).ok()?;
    let redacted = crate::api::untrusted::redact_json(&text);
    if redacted == text {
        return None;
    }
    serde_json::from_str(&redacted).ok()
}

/// How the saved change list differs from the fresh one, in plan order.
fn differences(saved: &[Change], fresh: &[Change]) -> Vec<String> {
    let now = by_key(fresh);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for change in saved {
        let what = format!("{} {}", change.address(), quoted(&change.org_name));
        if !seen.insert(key(change)) {
            out.push(format!("{what} appears more than once in the saved plan"));
            continue;
        }
        match now.get(&key(change)) {
            None => out.push(format!("{what} is in the saved plan but not in a fresh plan")),
            Some(fresh) if *fresh != change => {
                out.push(format!("{what}: {}", how_it_differs(change, fresh)));
            }
            Some(_) => {}
        }
    }
    for change in fresh.iter().filter(|c| !seen.contains(&key(c))) {
        out.push(format!(
            "{} {} ({}) is in a fresh plan but not in the saved plan",
            change.address(),
            quoted(&change.org_name),
            change.action.as_str()
        ));
    }
    if out.is_empty() && saved != fresh {
        out.push("the changes are in another order than a fresh plan's".to_string());
    }
    out
}

/// What differs between two changes to the same object, the first thing first.
fn how_it_differs(saved: &Change, fresh: &Change) -> String {
    if saved.action != fresh.action {
        return format!(
            "the saved plan says {}, a fresh plan says {}",
            saved.action.as_str(),
            fresh.action.as_str()
        );
    }
    if saved.fields != fresh.fields {
        let pointers = |changes: &[super::FieldChange]| -> Vec<String> {
            changes.iter().map(|f| f.pointer.clone()).collect()
        };
        let mut differing: Vec<String> = saved
            .fields
            .iter()
            .filter(|f| !fresh.fields.contains(f))
            .chain(fresh.fields.iter().filter(|f| !saved.fields.contains(f)))
            .map(|f| f.pointer.clone())
            .collect();
        differing.dedup();
        if differing.is_empty() {
            // Same field changes, listed in another order.
            differing = pointers(&saved.fields);
        }
        return format!("field {} differs from a fresh plan", differing.join(", "));
    }
    let mut parts = Vec::new();
    if saved.id != fresh.id {
        parts.push("id");
    }
    if saved.org_name != fresh.org_name {
        parts.push("org_name");
    }
    if saved.prune != fresh.prune {
        parts.push("prune");
    }
    if saved.depends_on != fresh.depends_on {
        parts.push("depends_on");
    }
    if saved.late_depends_on != fresh.late_depends_on {
        parts.push("late_depends_on");
    }
    if parts.is_empty() {
        return "differs from a fresh plan".to_string();
    }
    format!("{} differs from a fresh plan", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_run_as_shown() {
        assert_eq!(quote("set/dir"), "set/dir");
        assert_eq!(quote("my plan.json"), "'my plan.json'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        // Nothing a flag parser would take for a flag.
        let odd = Plan { environment: Some("-rf".into()), ..Plan::of(Vec::new()) };
        let odd = SavedPlan::new(&[PathBuf::from("-x")], Some(Path::new("-s")), odd);
        assert_eq!(
            odd.replan_command(Path::new("-p.json")),
            "gcctl --sandbox plan --out=-p.json ./-x --env=-rf --secrets-dir=-s"
        );
        assert_eq!(
            odd.apply_command(Path::new("-p.json")),
            "gcctl --sandbox apply --plan=-p.json --secrets-dir=-s"
        );
        let plan = Plan { environment: Some("prod eu".into()), ..Plan::of(Vec::new()) };
        let saved = SavedPlan::new(&[PathBuf::from("a"), PathBuf::from("b c")], None, plan);
        assert_eq!(
            saved.replan_command(Path::new("p.json")),
            "gcctl --sandbox plan --out p.json a 'b c' --env 'prod eu'"
        );
        assert_eq!(saved.apply_command(Path::new("p.json")), "gcctl --sandbox apply --plan p.json");
        let mut saved = saved.with_select(&["Role/*".to_string()]);
        saved.secrets_dir = Some(PathBuf::from("my secrets"));
        assert_eq!(
            saved.apply_command(Path::new("p.json")),
            "gcctl --sandbox apply --plan p.json --secrets-dir 'my secrets'"
        );
        let run = saved.run_command();
        assert_eq!(
            run.plan(None),
            "gcctl --sandbox plan a 'b c' --env 'prod eu' --select 'Role/*' --secrets-dir 'my secrets'"
        );
        assert_eq!(
            run.apply(),
            "gcctl --sandbox apply a 'b c' --env 'prod eu' --select 'Role/*' --secrets-dir 'my secrets' --auto-approve"
        );
        let destroy = RunCommand { destroy: true, ..run };
        assert_eq!(
            destroy.apply(),
            "gcctl --sandbox destroy a 'b c' --env 'prod eu' --select 'Role/*' --auto-approve"
        );
    }
}
