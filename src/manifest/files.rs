//! Which files a set of path arguments means: a file is taken as given; a
//! directory is read recursively for `*.yaml` and `*.yml`, skipping hidden
//! entries (`.git`, `.gcctl`). The list is sorted and deduplicated so that
//! the same tree always loads the same way. (The loader then leaves out
//! YAML files found in directories that are not gcctl manifests, such as CI
//! pipelines; a file named on the command line is always read as one.)

use std::path::{Path, PathBuf};

use crate::manifest::diag::Diagnostic;
use crate::manifest::yaml::Loc;

/// Collect manifest files; unreadable or missing paths become diagnostics.
pub fn collect(paths: &[PathBuf], diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        match fs_err::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, diags),
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

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diags: &mut Vec<Diagnostic>) {
    let entries = match fs_err::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) => {
            diags.push(Diagnostic::new(
                dir,
                Loc::default(),
                format!("cannot read the directory: {}", io_reason(&err)),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        // `gcctl validate .` shows `queue.yaml`, not `./queue.yaml`.
        let path = entry.path();
        let path = path.strip_prefix(".").map_or_else(|_| path.clone(), Path::to_path_buf);
        let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, files, diags),
            Ok(_) if is_manifest(&path) => files.push(path),
            _ => {}
        }
    }
}

fn is_manifest(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

/// fs-err messages repeat the path, which the diagnostic already shows.
fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}
