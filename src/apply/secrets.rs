//! Secrets during apply: which changes need a secret, resolving them all
//! before the first change, and writing OAuth client secrets to
//! `--secrets-dir` (one JSON file per client, mode 0600) and nowhere else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

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
fn check_secrets_dir(dir: &Path) -> Option<String> {
    match crate::private::open_to_others(dir) {
        Ok(None) => None,
        Ok(Some(open)) => Some(format!(
            "--secrets-dir {open}: gcctl does not write secrets where others can list or replace them, and does not change the permissions of a directory it did not create; run `chmod 700 {}`, or name a directory that does not exist yet (gcctl creates it with mode 0700)",
            dir.display()
        )),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => Some(format!("--secrets-dir {}: {err}", dir.display())),
    }
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
    crate::private::create_dir(dir)?;
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

/// A readable file name part: letters, digits, `-` and `_`; anything else becomes `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Record, before a create, that the org is about to issue a secret for the
/// object `org_name`: `<dir>/<name>.pending.json`. If the run dies before
/// the secret is written (killed, disk full, lost answer), the next apply
/// finds the record and regenerates the secret ([`restore_lost_secrets`]).
pub fn write_intent(dir: &Path, org_name: &str) -> std::io::Result<()> {
    crate::private::create_dir(dir)?;
    let stem = intent_stem(org_name);
    let body = json!({ "name": org_name, "pending": "create; the secret is not recorded yet" });
    let text = serde_json::to_string_pretty(&body).unwrap_or_default() + "\n";
    let tmp = dir.join(format!(".{stem}.pending.json.tmp"));
    crate::private::write_atomic(&intent_path(dir, org_name), &tmp, text.as_bytes())
}

/// The secret of `org_name` is recorded (or its create surely failed).
pub fn clear_intent(dir: &Path, org_name: &str) -> std::io::Result<()> {
    match fs_err::remove_file(intent_path(dir, org_name)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// `<name>.pending.json`, the name encoded injectively (letters, digits and
/// `-` as they are, any other byte as `_XX` in hex): clients whose names
/// differ only in punctuation (`Acme Bot`, `Acme.Bot`) never share a record.
fn intent_path(dir: &Path, org_name: &str) -> PathBuf {
    dir.join(format!("{}.pending.json", intent_stem(org_name)))
}

fn intent_stem(name: &str) -> String {
    super::journal::encode(name)
}

/// Objects of the plan whose secret a create left unrecorded: an intent
/// record exists, the object exists in the org, and no secret file holds its
/// id. Unless `restore` is off, their change becomes a rotation (a
/// sensitive `/secretVersion` change: the update regenerates the secret and
/// writes it). Returns one line per object, saying what was found and done.
pub fn restore_lost_secrets(plan: &mut Plan, dir: Option<&Path>, restore: bool) -> Vec<String> {
    let Some(dir) = dir else { return Vec::new() };
    let mut lines = Vec::new();
    for change in &mut plan.changes {
        let (Some(id), true) = (change.id.clone(), change.kind.org().issues_secret()) else {
            continue;
        };
        if change.action == Action::Delete || !intent_path(dir, &change.org_name).exists() {
            continue;
        }
        let recorded = dir.join(format!("{}.{}.json", file_stem(&change.org_name), file_stem(&id)));
        if recorded.exists() {
            // It was written; only the record's removal was lost.
            let _ = clear_intent(dir, &change.org_name);
            continue;
        }
        if !restore {
            lines.push(format!(
                "{}: the run that created it did not record its secret (found {}); left as is (--no-restore-secrets)",
                change.address(),
                intent_path(dir, &change.org_name).display()
            ));
            continue;
        }
        let version = change
            .fields
            .iter()
            .find(|f| f.pointer == "/secretVersion")
            .and_then(|f| f.after.clone())
            .unwrap_or_else(|| json!(1));
        change.fields.retain(|f| f.pointer != "/secretVersion");
        change.fields.push(FieldChange {
            pointer: "/secretVersion".into(),
            before: Some(version.clone()),
            after: Some(version),
            sensitive: true,
        });
        change.fields.sort_by(|a, b| a.pointer.cmp(&b.pointer));
        change.action = Action::Update;
        lines.push(format!(
            "{}: the run that created it did not record its secret (found {}); it will be regenerated and written to {}",
            change.address(),
            intent_path(dir, &change.org_name).display(),
            dir.display()
        ));
    }
    plan.summary = Plan::summarize(&plan.changes, plan.prune);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_records_are_named_injectively() {
        assert_eq!(intent_stem("Acme Bot"), "Acme_20Bot");
        assert_eq!(intent_stem("Acme.Bot"), "Acme_2EBot");
        assert_eq!(intent_stem("Acme_20Bot"), "Acme_5F20Bot");
        assert_eq!(intent_stem("Zoë"), "Zo_C3_AB");
    }

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
