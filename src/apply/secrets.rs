//! Secrets during apply: which changes need a secret, resolving them all
//! before the first change, and writing OAuth client secrets to
//! `--secrets-dir` (one JSON file per client, mode 0600) and nowhere else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::manifest::ManifestSet;
use crate::manifest::check::SetIndex;
use crate::manifest::secret::Secret;
use crate::plan::{Action, Change, Plan};

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
    if problems.is_empty() { Ok(secrets) } else { Err(problems) }
}

/// Write an OAuth client's secret to `<dir>/<client name>.json` (mode 0600,
/// written atomically). Returns the file's path.
pub fn write_client_secret(
    dir: &Path,
    org_name: &str,
    client_id: &str,
    secret: &Secret,
    version: u32,
) -> std::io::Result<PathBuf> {
    fs_err::create_dir_all(dir)?;
    let file = dir.join(format!("{}.json", file_stem(org_name)));
    let tmp = dir.join(format!(".{}.json.tmp", file_stem(org_name)));
    let body = json!({
        "name": org_name,
        "clientId": client_id,
        "clientSecret": secret.expose(),
        "secretVersion": version,
    });
    write_private(&tmp, &(serde_json::to_string_pretty(&body).unwrap_or_default() + "\n"))?;
    fs_err::rename(&tmp, &file)?;
    Ok(file)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use fs_err::os::unix::fs::OpenOptionsExt;
    use std::io::Write;
    let mut file = fs_err::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    fs_err::write(path, text)
}

/// A file name for a client: letters, digits, `-` and `_`; anything else becomes `_`.
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}
