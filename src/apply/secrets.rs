//! Secrets during apply: which changes need a secret, resolving them all
//! before the first change, and writing OAuth client secrets to
//! `--secrets-dir` (one JSON file per client, mode 0600) and nowhere else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::kinds::oauth_client::UNRECORDED_MARKER;
use crate::manifest::ManifestSet;
use crate::manifest::check::SetIndex;
use crate::manifest::secret::Secret;
use crate::plan::{Action, Change, FieldChange, Plan};

/// Secrets resolved for this run, by manifest address (`Kind/name`).
#[derive(Debug, Default)]
pub struct RunSecrets {
    sent: BTreeMap<String, Secret>,
}

impl RunSecrets {
    /// The secret a change sends (its kind's `sent_secret_field`), when due.
    pub fn sent_secret(&self, address: &str) -> Option<&Secret> {
        self.sent.get(address)
    }
}

/// Whether a change rotates its write-only value: a create, or a changed
/// rotation counter.
fn rotates(change: &Change) -> bool {
    change.action == Action::Create || change.fields.iter().any(|f| f.sensitive)
}

/// Whether a change sends a secret from the manifests (on create, and when
/// the rotation counter differs).
pub fn sends_secret(change: &Change) -> bool {
    change.kind.org().sent_secret_field().is_some() && rotates(change)
}

/// Whether a change makes the org issue a secret (create or rotation).
pub fn yields_issued_secret(change: &Change) -> bool {
    change.kind.org().issues_secret() && rotates(change)
}

/// Resolve every secret the plan will send. Problems name the object, the
/// field's location and the variable or file, never a value.
pub fn resolve(
    plan: &Plan,
    set: &ManifestSet,
    env: &dyn Fn(&str) -> Option<String>,
    secrets_dir: Option<&Path>,
) -> Result<RunSecrets, Vec<String>> {
    let manifests = SetIndex::new(&set.objects);
    let mut problems = Vec::new();
    let mut secrets = RunSecrets::default();
    for change in &plan.changes {
        let Some(object) =
            change.manifest_name.as_deref().and_then(|n| manifests.get(change.kind.kind(), n))
        else {
            continue;
        };
        if sends_secret(change) {
            match change.kind.org().resolve_sent_secret(object, &manifests, env) {
                Ok(secret) => {
                    // A server that echoes the request must not make gcctl print it.
                    crate::api::untrusted::register_secret(secret.expose());
                    secrets.sent.insert(change.address(), secret);
                }
                Err(problem) => problems.push(problem),
            }
        }
        if yields_issued_secret(change) && secrets_dir.is_none() {
            problems.push(format!(
                "{}: applying creates or rotates a secret that the org issues, and there is nowhere to put it; pass --secrets-dir DIR (the secret is written there, mode 0600, and nowhere else)",
                change.address()
            ));
        }
    }
    let issues = plan.changes.iter().any(yields_issued_secret);
    if let (true, Some(dir)) = (issues, secrets_dir) {
        if let Some(problem) = check_secrets_dir(dir) {
            problems.push(problem);
        }
    }
    if problems.is_empty() { Ok(secrets) } else { Err(problems) }
}

/// A secrets directory that exists must be private. gcctl never changes the
/// permissions of a directory it did not create (`--secrets-dir .` names the
/// user's project directory), so one that other users can reach into is
/// refused before any change rather than tightened. A missing one is created
/// with mode 0700 when the first secret is written.
///
/// It must also take a file: the directory is made (mode 0700) if it is
/// missing, and a file is written in it and removed, before any change. A
/// secret the org issues (a rotation replaces the one before) that cannot
/// be written is a secret lost.
fn check_secrets_dir(dir: &Path) -> Option<String> {
    if dir.exists() && !dir.is_dir() {
        return Some(format!(
            "--secrets-dir {} is not a directory: name a directory (gcctl creates a missing one with mode 0700)",
            dir.display()
        ));
    }
    match crate::private::open_to_others(dir) {
        Ok(None) => {}
        Ok(Some(open)) => {
            return Some(format!(
                "--secrets-dir {open}: gcctl does not write secrets where others can list or replace them, and does not change the permissions of a directory it did not create; run `chmod 700 {}`, or name a directory that does not exist yet (gcctl creates it with mode 0700)",
                dir.display()
            ));
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Some(format!("--secrets-dir {}: {err}", dir.display())),
    }
    let writable = || -> std::io::Result<()> {
        if let Some(open) = crate::private::create_dir(dir)? {
            return Err(std::io::Error::other(format!(
                "{open} was made by someone else meanwhile, and others can reach into it"
            )));
        }
        let probe = dir.join(format!(".gcctl-write-check.{}", std::process::id()));
        crate::private::write_atomic(&probe, &probe.with_extension("tmp"), b"")?;
        fs_err::remove_file(&probe)
    };
    writable().err().map(|err| {
        format!(
            "--secrets-dir {}: gcctl cannot write secrets there ({err}); the secrets this apply makes the org issue would be lost: name a directory gcctl can write",
            dir.display()
        )
    })
}

/// Write an issued secret to `<dir>/<client name>.<client id>.json`: one
/// file per client (two clients whose names differ only in punctuation
/// cannot overwrite each other), mode 0600, written atomically, in a 0700
/// directory (see [`crate::private`]). Returns the file's path.
pub fn write_client_secret(
    dir: &Path,
    org_name: &str,
    client_id: &str,
    secret: &Secret,
    version: u32,
) -> std::io::Result<PathBuf> {
    if let Some(open) = crate::private::create_dir(dir)? {
        return Err(std::io::Error::other(format!(
            "{open}: others can list or replace files there, so no secret is written in it"
        )));
    }
    let stem = format!("{}.{}", file_stem(org_name), file_stem(client_id));
    let file = dir.join(format!("{stem}.json"));
    let tmp = dir.join(format!(".{stem}.json.tmp"));
    let body = json!({
        "name": org_name,
        "clientId": client_id,
        "clientSecret": secret.expose(),
        "secretVersion": version,
    });
    let text = serde_json::to_string_pretty(&body).unwrap_or_default() + "\n";
    crate::private::write_atomic(&file, &tmp, text.as_bytes())?;
    Ok(file)
}

/// A readable file name part: letters, digits, `-` and `_`; anything else
/// becomes `_`. At most [`STEM_CHARS`] of them: a client's name may be 256
/// characters, a file name 255 bytes, and the client id beside it keeps
/// the names of two clients apart.
fn file_stem(name: &str) -> String {
    name.chars()
        .take(STEM_CHARS)
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// The most characters of a name in a secret file's name.
const STEM_CHARS: usize = 180;

/// Whether `dir` holds the secret of client `client_id` (written by
/// [`write_client_secret`]) at `version`, the one declared: a file of
/// another version holds the secret before a rotation (replaced, or about
/// to be), not the one the org marks as unrecorded.
fn is_recorded(dir: &Path, org_name: &str, client_id: &str, version: u64) -> Option<PathBuf> {
    let file = dir.join(format!("{}.{}.json", file_stem(org_name), file_stem(client_id)));
    let text = fs_err::read_to_string(&file).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    let same = value["clientId"] == client_id && value["secretVersion"].as_u64() == Some(version);
    let secret = value["clientSecret"].as_str().is_some_and(|s| !s.trim().is_empty());
    (same && secret).then_some(file)
}

/// Objects of the plan whose secret a create left unrecorded: the org says
/// so (the kind reads its mark as `/secretVersion` 0, see
/// `kinds::oauth_client::UNRECORDED_MARKER`), so every run sees them, with
/// or without the secrets directory of the run that died. Each change
/// gets a note, and one line per object is returned for stderr:
///
/// - the secret is in `dir` after all (the run died after writing it, before
///   clearing the mark): the change only clears the mark;
/// - else, unless `restore` is off, the change regenerates the secret (a
///   rotation) and writes it to `--secrets-dir`;
/// - else the change is dropped (`--no-restore-secrets`), and said so.
pub fn restore_lost_secrets(plan: &mut Plan, dir: Option<&Path>, restore: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for change in &mut plan.changes {
        let unrecorded = |f: &FieldChange| {
            f.pointer == "/secretVersion" && f.before.as_ref().and_then(Value::as_u64) == Some(0)
        };
        let (Some(id), true) = (change.id.clone(), change.fields.iter().any(unrecorded)) else {
            continue;
        };
        if !change.kind.org().issues_secret() || change.action != Action::Update {
            continue;
        }
        let why = format!(
            "a run did not record its secret (the client still carries the mark {UNRECORDED_MARKER} that gcctl sets on a create or a rotation and clears once the secret is written)"
        );
        let declared = change
            .fields
            .iter()
            .find(|f| unrecorded(f))
            .and_then(|f| f.after.as_ref()?.as_u64())
            .unwrap_or(1);
        let recorded = dir.and_then(|dir| is_recorded(dir, &change.org_name, &id, declared));
        let (line, note) = if let Some(file) = recorded {
            for field in change.fields.iter_mut().filter(|f| unrecorded(f)) {
                // Nothing to regenerate: the update only clears the mark.
                field.sensitive = false;
            }
            (
                format!(
                    "{}: its secret is recorded in {}, but the run that wrote it did not clear the org's mark (it died, or the write that clears the mark failed); apply clears the mark",
                    change.address(),
                    file.display()
                ),
                "its secret is recorded; apply clears the org's mark that it is not".to_string(),
            )
        } else if restore {
            let whereto =
                dir.map_or_else(|| "--secrets-dir".to_string(), |d| d.display().to_string());
            (
                format!(
                    "{}: {why}; apply regenerates it and writes it to {whereto}",
                    change.address()
                ),
                "its secret was never recorded: apply regenerates it (a rotation; nobody has the old one)".to_string(),
            )
        } else {
            change.fields.retain(|f| !unrecorded(f));
            if change.fields.is_empty() {
                change.action = Action::NoOp;
            }
            (
                format!(
                    "{}: {why}; left as is (--no-restore-secrets), and so is the declared secretVersion until the secret is restored",
                    change.address()
                ),
                "its secret was never recorded; left as is (--no-restore-secrets), and so is the declared secretVersion".to_string(),
            )
        };
        change.notes.push(note);
        lines.push(line);
    }
    lines.extend(keep_recorded_rotations(plan, dir));
    plan.summary = Plan::summarize(&plan.changes, plan.prune);
    lines
}

/// Rotations the org asks for only because its mark of the applied version
/// is gone: the client's description no longer says `secret-version=N` (an
/// admin edited the description in the UI), so gcctl reads version 1 and
/// plans the declared version as a rotation, which would replace a working
/// secret. When `dir` holds the client's secret at the declared version,
/// the org has that secret already: the change puts the mark back and
/// issues none. (Without the file nothing tells a lost mark from a rotation
/// asked for; see docs/src/secrets.md.)
fn keep_recorded_rotations(plan: &mut Plan, dir: Option<&Path>) -> Vec<String> {
    let Some(dir) = dir else { return Vec::new() };
    let mut lines = Vec::new();
    for change in &mut plan.changes {
        let Some(id) = change.id.clone() else { continue };
        if !change.kind.org().issues_secret() || change.action != Action::Update {
            continue;
        }
        let versions = |f: &FieldChange| {
            let version = |v: &Option<Value>| v.as_ref().and_then(Value::as_u64);
            (f.pointer == "/secretVersion" && f.sensitive)
                .then(|| Some((version(&f.before)?, version(&f.after)?)))
                .flatten()
        };
        let Some((before, declared)) = change.fields.iter().find_map(versions) else { continue };
        if before == 0 || declared <= before {
            continue;
        }
        let Some(file) = is_recorded(dir, &change.org_name, &id, declared) else { continue };
        for field in change.fields.iter_mut().filter(|f| versions(f).is_some()) {
            field.sensitive = false;
        }
        change.notes.push(format!(
            "its secret is recorded at version {declared}, but the org's mark of it is gone (the description edited?): apply puts the mark back and issues no secret"
        ));
        lines.push(format!(
            "{}: the org's mark of its secret version is gone (it reads as version {before}), but {} holds its secret at the declared version {declared}: apply puts the mark back instead of issuing a new secret",
            change.address(),
            file.display()
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_whose_names_differ_in_punctuation_get_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets");
        let a = write_client_secret(&secrets, "Acme Bot", "id-1", &Secret::new("s1".into()), 1);
        let b = write_client_secret(&secrets, "Acme.Bot", "id-2", &Secret::new("s2".into()), 1);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_ne!(a, b);
        assert!(fs_err::read_to_string(&a).unwrap().contains("\"clientSecret\": \"s1\""));
        assert!(fs_err::read_to_string(&b).unwrap().contains("\"clientSecret\": \"s2\""));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(&secrets), mode(&a)), (0o700, 0o600));
        }
    }
}
