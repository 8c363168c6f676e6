//! Build script: stamps `gcctl --version` with the commit and the build date,
//! as `GCCTL_COMMIT` (short hash, or `unknown`) and `GCCTL_BUILD_DATE`
//! (`YYYY-MM-DD`, UTC) for `env!`.
//!
//! It never fails the build: without git or outside a repository (a crates
//! tarball, a Docker context without `.git`) the commit is the `GCCTL_COMMIT`
//! environment variable when set, else `unknown`. The date honors
//! `SOURCE_DATE_EPOCH` for reproducible builds. The script reruns only when
//! the checked-out commit changes (`HEAD`, the branch's ref file,
//! `packed-refs`) or one of those two variables does, so ordinary edits do
//! not re-stamp the crate; the date is that of the script's last run.

// Cargo reads a build script's instructions from its stdout.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    // GCCTL_COMMIT names the commit where there is no `.git` (a Docker
    // build context, a source tarball built by a packager).
    let commit = match std::env::var("GCCTL_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_string(),
        _ => is_own_repository(&manifest_dir)
            .then(|| git(&manifest_dir, &["rev-parse", "--short", "HEAD"]))
            .flatten()
            .unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=GCCTL_COMMIT={commit}");
    println!("cargo:rustc-env=GCCTL_BUILD_DATE={}", civil_date(build_epoch()));
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=GCCTL_COMMIT");
    // Without any rerun-if-changed line Cargo would rerun the script on every
    // change in the package. A path that does not exist makes it rerun every
    // time, so only existing files are named; build.rs is always one.
    println!("cargo:rerun-if-changed=build.rs");
    for path in watched_git_files(&manifest_dir) {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// Run git in `dir`; `None` when git is missing, fails or prints nothing.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Whether `dir` is the top of its own checkout, not a crate unpacked inside
/// some other repository (whose commit would be misleading).
fn is_own_repository(dir: &Path) -> bool {
    let Some(top) = git(dir, &["rev-parse", "--show-toplevel"]) else { return false };
    match (Path::new(&top).canonicalize(), dir.canonicalize()) {
        (Ok(top), Ok(dir)) => top == dir,
        _ => false,
    }
}

/// `HEAD`, the ref it points to and `packed-refs`, resolved by git itself so
/// that worktrees (where `.git` is a file) work too.
fn watched_git_files(dir: &Path) -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        names.push(reference);
    }
    names
        .iter()
        .filter_map(|name| git(dir, &["rev-parse", "--git-path", name]))
        // Relative to `dir` in a plain checkout, absolute in a worktree.
        .map(|path| dir.join(path))
        .collect()
}

/// Seconds since the epoch: `SOURCE_DATE_EPOCH` when set and valid, else now.
fn build_epoch() -> i64 {
    std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse().ok()).unwrap_or_else(
        || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
        },
    )
}

/// `YYYY-MM-DD` (UTC) of a Unix time, by Howard Hinnant's `civil_from_days`
/// (a build dependency for one date would cost more than these lines).
pub fn civil_date(epoch_seconds: i64) -> String {
    let days = epoch_seconds.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
