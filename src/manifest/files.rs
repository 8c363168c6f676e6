//! Which files a set of path arguments means: a file is taken as given; a
//! directory is read recursively for `*.yaml` and `*.yml`, skipping hidden
//! entries (`.git`, `.gcctl`) and following links (to files and to
//! directories, each directory read once, so a link back up is no loop). An
//! entry that cannot be read or followed is an error, never left out: its
//! objects would be missing from the set, where a prune deletes them. The
//! list is sorted and deduplicated so that
//! the same tree always loads the same way. (The loader then leaves out
//! YAML files found in directories that are not gcctl manifests, such as CI
//! pipelines; a file named on the command line is always read as one.)

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::manifest::diag::Diagnostic;
use crate::manifest::yaml::Loc;

/// Collect manifest files; unreadable or missing paths become diagnostics.
pub fn collect(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    // Shared by every argument: a directory two of them reach (one through
    // a link) is read once.
    let mut visited = HashSet::new();
    for path in paths {
        match fs_err::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, diags, &mut visited),
            Ok(_) => files.push(path.clone()),
            Err(err) => diags.push(
                Diagnostic::new(
                    path,
                    Loc::default(),
                    format!("cannot read this path: {}", io_reason(&err)),
                )
                .with_hint("pass manifest files or directories that contain *.yaml files"),
            ),
        }
    }
    files.sort();
    files.dedup();
    // A file reached by two paths (an argument inside another one, a link
    // to it) is one file: its objects once, under its first path.
    let mut seen = HashSet::new();
    files.retain(|file| fs_err::canonicalize(file).map_or(true, |real| seen.insert(real)));
    if files.is_empty() && diags.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        diags.push(
            Diagnostic::new(
                Path::new(&shown.join(" ")),
                Loc::default(),
                "no manifest files (*.yaml, *.yml) found",
            )
            .with_hint("pass the files or directories that hold your manifests"),
        );
    }
    files
}

fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    visited: &mut HashSet<PathBuf>,
) {
    // Each directory once, however many links lead to it.
    if let Ok(real) = fs_err::canonicalize(dir) {
        if !visited.insert(real) {
            return;
        }
    }
    let unreadable = |path: &Path, what: &str, err: &std::io::Error| {
        Diagnostic::new(path, Loc::default(), format!("{what}: {}", io_reason(err)))
            .with_hint("fix or remove it: objects in a part of the tree gcctl cannot read would be missing from the set (and a prune would delete them)")
    };
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diags.push(unreadable(dir, "cannot read the directory", &err));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                diags.push(unreadable(dir, "cannot read an entry of the directory", &err));
                continue;
            }
        };
        // `gcctl validate .` shows `queue.yaml`, not `./queue.yaml`.
        let path = entry.path();
        let path = path.strip_prefix(".").map_or_else(|_| path.clone(), Path::to_path_buf);
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(err) => {
                diags.push(unreadable(&path, "cannot read this entry", &err));
                continue;
            }
        };
        let is_dir = if file_type.is_symlink() {
            // A link is followed: to a directory, as a directory.
            match fs_err::metadata(&path) {
                Ok(meta) => meta.is_dir(),
                Err(err) => {
                    diags.push(unreadable(&path, "cannot follow this link", &err));
                    continue;
                }
            }
        } else {
            file_type.is_dir()
        };
        if is_dir {
            walk(&path, files, diags, visited);
        } else if is_manifest(&path) {
            files.push(path);
        }
    }
}

/// The largest manifest file gcctl reads. Real manifest files are a few
/// kilobytes; a generated set of 10,000 queues is about 2 MiB.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A file of `bytes` is one gcctl reads: at most [`MAX_FILE_BYTES`]. What
/// [`read_manifest`] asks of a file on disk, and a set loaded from memory of
/// each of its files, so that an export's check refuses what `gcctl
/// validate` would.
pub fn within_size(file: &Path, bytes: u64) -> Result<(), Box<Diagnostic>> {
    if bytes <= MAX_FILE_BYTES {
        return Ok(());
    }
    let message = format!("the file has {bytes} bytes, more than the {MAX_FILE_BYTES} gcctl reads");
    Err(Box::new(
        Diagnostic::new(file, Loc::default(), message)
            .with_hint("split the manifests into several files"),
    ))
}

/// Read one manifest file: a regular file (a FIFO would block forever and
/// `/dev/zero` would fill memory), at most [`MAX_FILE_BYTES`], in UTF-8 (the
/// first bad byte is reported at its line and column).
pub fn read_manifest(file: &Path) -> Result<String, Box<Diagnostic>> {
    let error = |loc: Loc, message: String, hint: &str| {
        Box::new(Diagnostic::new(file, loc, message).with_hint(hint.to_string()))
    };
    let cannot_read = |err: std::io::Error| {
        let message = format!("cannot read the file: {}", io_reason(&err));
        Box::new(Diagnostic::new(file, Loc::default(), message))
    };
    // `metadata` follows links: a link to a regular file is fine.
    let meta = fs_err::metadata(file).map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(error(
            Loc::default(),
            "not a regular file (a directory, pipe, socket or device)".into(),
            "manifests are read from regular *.yaml files only",
        ));
    }
    within_size(file, meta.len())?;
    let mut bytes = Vec::new();
    let opened = fs_err::File::open(file).map_err(cannot_read)?;
    // The file may grow after `metadata`: never read more than the cap.
    opened.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot_read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(error(
            Loc::default(),
            format!("the file has more than the {MAX_FILE_BYTES} bytes gcctl reads"),
            "split the manifests into several files",
        ));
    }
    String::from_utf8(bytes).map_err(|err| Box::new(not_utf8(file, &err)))
}

/// Where a file stops being UTF-8: the line and column of its first bad byte.
fn not_utf8(file: &Path, err: &std::string::FromUtf8Error) -> Diagnostic {
    let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
    let line = valid.split(|b| *b == b'\n').count();
    let start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&valid[start..]).chars().count() + 1;
    let loc = Loc {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    };
    Diagnostic::new(file, loc, "the file is not valid UTF-8 (this is the first bad byte)")
        .with_hint("save the file as UTF-8")
}

/// A YAML file by its extension, in any case: `queues.YAML` left out of
/// the set would have a prune delete its objects.
pub(crate) fn is_manifest(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str());
    extension.is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// fs-err messages repeat the path, which the diagnostic already shows.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::NotADirectory => {
            "a part of the path is a file, not a folder (a trailing `/`?)".to_string()
        }
        // fs-err's text names the call and the path again: the kind alone.
        kind => kind.to_string(),
    }
}
