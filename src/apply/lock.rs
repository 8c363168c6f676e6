//! One `apply` per org at a time, on this machine: an advisory lock per org.
//!
//! Two applies that interleave on one org can both decide to create the same
//! object (each lists the org before the other's create is visible). So an
//! apply takes an exclusive lock named after the org it targets (the org's id
//! from `GET /api/v2/organizations/me`, which needs no permission, and the
//! API host) before it reads the org, and holds it until the run ends; the
//! operating system releases it when the process ends, even on kill -9.
//!
//! A second apply on the same org waits up to `--lock-timeout` (default 0:
//! it refuses at once, like `terraform apply`) and names the holder: its
//! process id, host, start time and command line, read from the lock file.
//!
//! The lock files live in `GCCTL_LOCK_DIR`, else
//! `$XDG_STATE_HOME/gcctl/locks`, else `~/.local/state/gcctl/locks`, else
//! the system's temporary directory (one file per org, mode 0600, named by a
//! digest of the org key, with the org's create journal beside it in
//! `<digest>.journal`; a directory gcctl creates is 0700, an existing one
//! keeps its permissions, with a warning when others can reach into it). The lock covers the runs of one user on one
//! machine; runners on different machines need the CI system's own
//! serialization (GitHub Actions `concurrency`, GitLab `resource_group`; see
//! the CI recipes), which is documented beside this.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The environment variable that overrides the lock directory.
pub const LOCK_DIR_VAR: &str = "GCCTL_LOCK_DIR";

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct OrgLock {
    _file: fs_err::File,
    pub path: PathBuf,
    /// The lock directory, when it existed and other users can reach into
    /// it (a shared `GCCTL_LOCK_DIR`): gcctl leaves its permissions alone,
    /// and the caller warns (see [`OrgLock::warning`]).
    pub open_dir: Option<crate::private::OpenDir>,
}

impl OrgLock {
    /// What to tell the user about a lock directory open to others.
    pub fn warning(&self) -> Option<String> {
        self.open_dir.as_ref().map(|open| {
            format!(
                "the apply lock directory {open}; gcctl leaves it as it is (its lock files and create journals are private), but another user could remove them; set {LOCK_DIR_VAR} to a private directory"
            )
        })
    }

    /// The org's create journal, beside the lock (see [`super::journal`]).
    pub fn journal(&self) -> super::journal::CreateJournal {
        super::journal::CreateJournal::new(self.path.with_extension("journal"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another gcctl apply is running against {org}{holder}; it holds {path}",
        holder = holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default(),
        path = path.display()
    )]
    Held { org: String, holder: Option<String>, path: PathBuf, waited: Duration },
    #[error("cannot take the apply lock {}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl LockError {
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Held { waited, .. } if waited.is_zero() => Some(
                "wait for it to finish, or pass --lock-timeout SECONDS to wait for it; two applies on one org could both create the same objects".into(),
            ),
            LockError::Held { waited, .. } => Some(format!(
                "it did not finish within {}s (--lock-timeout); try again once it has",
                waited.as_secs()
            )),
            LockError::Io { .. } => Some(format!(
                "set {LOCK_DIR_VAR} to a writable directory, e.g. {LOCK_DIR_VAR}=.gcctl/locks"
            )),
        }
    }
}

/// The default lock directory (see the module docs).
pub fn lock_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let set = |key: &str| env(key).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(LOCK_DIR_VAR) {
        return dir;
    }
    if let Some(state) = set("XDG_STATE_HOME") {
        return state.join("gcctl").join("locks");
    }
    if let Some(home) = set("HOME") {
        return home.join(".local").join("state").join("gcctl").join("locks");
    }
    std::env::temp_dir().join("gcctl-locks")
}

/// The lock file of `org_key` in `dir` (its journal is beside it, see
/// [`OrgLock::journal`]).
pub fn lock_path(dir: &Path, org_key: &str) -> PathBuf {
    let digest = hex::encode(Sha256::digest(org_key.as_bytes()));
    dir.join(format!("{}.lock", &digest[..24]))
}

/// Take the lock of `org_key` in `dir`, waiting up to `timeout` (polling);
/// `org` names the org in messages; `on_wait` is called once when waiting
/// starts, with the holder.
pub async fn acquire(
    dir: &Path,
    org_key: &str,
    org: &str,
    timeout: Duration,
    on_wait: &dyn Fn(&str),
) -> Result<OrgLock, LockError> {
    let path = lock_path(dir, org_key);
    let io = |source| LockError::Io { path: path.clone(), source };
    let open_dir = crate::private::create_dir(dir).map_err(io)?;
    let file = crate::private::append(&path).map_err(io)?;
    let started = Instant::now();
    let mut told = false;
    let mut wait = Duration::from_millis(50);
    loop {
        match fs4::FileExt::try_lock(file.file()) {
            Ok(()) => {
                let _ = file.file().set_len(0);
                let _ = (&mut file.file()).write_all(holder_record(org).as_bytes());
                return Ok(OrgLock { _file: file, path, open_dir });
            }
            Err(fs4::TryLockError::WouldBlock) => {
                let holder = fs_err::read_to_string(&path).ok().map(|t| describe_holder(&t));
                let holder = holder.filter(|h| !h.is_empty());
                if started.elapsed() >= timeout {
                    return Err(LockError::Held {
                        org: org.to_string(),
                        holder,
                        path,
                        waited: timeout,
                    });
                }
                if !told {
                    told = true;
                    let who = holder.as_deref().unwrap_or("another gcctl apply");
                    on_wait(&format!(
                        "waiting up to {}s for the apply lock of {org}, held by {who}",
                        timeout.as_secs()
                    ));
                }
                // Poll with backoff, never past the deadline.
                wait = wait.min(timeout.saturating_sub(started.elapsed()));
                super::ops::poll_backoff(&mut wait).await;
            }
            Err(fs4::TryLockError::Error(source)) => return Err(io(source)),
        }
    }
}

/// What the holder writes into the lock file: one JSON object.
fn holder_record(org: &str) -> String {
    // Arguments need not be UTF-8 (a path): shown, not parsed.
    let command: Vec<String> =
        std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| fs_err::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let record = serde_json::json!({
        "pid": std::process::id(),
        "host": host,
        "started": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "org": org,
        "command": command.join(" "),
    });
    format!("{record}\n")
}

/// The holder as a phrase: `pid 42 on build-7 since 2026-12-02T01:02:03Z:
/// gcctl apply …`. The file is written by another process (possibly an
/// older or a broken one): anything unexpected is shown sanitized or not at all.
fn describe_holder(text: &str) -> String {
    let Ok(record) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
        return String::new();
    };
    let field = |key: &str| match &record[key] {
        serde_json::Value::String(s) => crate::api::untrusted::sanitize(s),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let mut out = format!("pid {}", field("pid"));
    if !field("host").is_empty() {
        out.push_str(&format!(" on {}", field("host")));
    }
    if !field("started").is_empty() {
        out.push_str(&format!(" since {}", field("started")));
    }
    if !field("command").is_empty() {
        out.push_str(&format!(": `{}`", field("command")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_lock_on_one_org_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "org-1", "org X", Duration::ZERO, &|_| {}).await.unwrap();
        let err = acquire(dir.path(), "org-1", "org X", Duration::ZERO, &|_| {}).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("another gcctl apply is running against org X"), "{text}");
        assert!(text.contains(&format!("pid {}", std::process::id())), "{text}");
        assert!(err.hint().unwrap().contains("--lock-timeout"));
        // Another org is not blocked.
        acquire(dir.path(), "org-2", "org Y", Duration::ZERO, &|_| {}).await.unwrap();
        drop(first);
        acquire(dir.path(), "org-1", "org X", Duration::ZERO, &|_| {}).await.unwrap();
    }

    #[tokio::test]
    async fn a_waiting_lock_is_told_once_and_gives_up_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let _held = acquire(dir.path(), "org", "org X", Duration::ZERO, &|_| {}).await.unwrap();
        let told = std::cell::Cell::new(0);
        let err = acquire(dir.path(), "org", "org X", Duration::from_millis(450), &|m| {
            assert!(m.contains("waiting up to 0s"), "{m}");
            told.set(told.get() + 1);
        })
        .await
        .unwrap_err();
        assert_eq!(told.get(), 1);
        assert!(err.hint().unwrap().contains("did not finish"), "{:?}", err.hint());
    }

    #[test]
    fn holder_records_are_untrusted() {
        assert_eq!(describe_holder("garbage"), "");
        let hostile = r#"{"pid": 7, "host": "h\u001b[31m", "command": "x\ny"}"#;
        let described = describe_holder(hostile);
        assert!(!described.contains('\u{1b}') && !described.contains('\n'), "{described:?}");
        assert!(described.starts_with("pid 7 on h"), "{described}");
    }

    #[test]
    fn the_lock_directory_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| v.to_string())
        };
        assert_eq!(lock_dir(&env(&[(LOCK_DIR_VAR, "/l"), ("HOME", "/h")])), PathBuf::from("/l"));
        assert_eq!(lock_dir(&env(&[("XDG_STATE_HOME", "/s")])), PathBuf::from("/s/gcctl/locks"));
        assert_eq!(lock_dir(&env(&[("HOME", "/h")])), PathBuf::from("/h/.local/state/gcctl/locks"));
    }
}
