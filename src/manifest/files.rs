//! Which files a set of path arguments means: a file is taken as given; a
//! directory is read recursively for `*.yaml` and `*.yml`, skipping hidden
//! entries (`.git`, `.gcctl`). The list is sorted and deduplicated so that
//! the same tree always loads the same way. (The loader then leaves out
//! YAML files found in directories that are not gcctl manifests, such as CI
//! pipelines; a file named on the command line is always read as one.)

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::kinds::Kind;
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

pub(crate) fn is_manifest(path: &Path) -> bool {
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

/// What the manifest files under `paths` appear to declare, found by
/// scanning their text, without parsing (a few milliseconds where loading
/// 50,000 objects takes half a second): a hint for starting work early,
/// never a substitute for loading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredHint {
    /// The kinds of the top-level `kind: Name` lines of the files that have
    /// a top-level `apiVersion:` line, each with its number of such lines
    /// (documents). A kind written in flow style (`{kind: ...}`) is missed,
    /// and a document the load rejects still counts.
    pub kinds: std::collections::BTreeMap<Kind, u64>,
    /// Whether an indented `division:` or `divisions:` key appears in those
    /// files (a queue's or flow's division, an OAuth client's role
    /// divisions): the set likely names a division. Text that only looks
    /// like one (inside a block scalar) counts too.
    pub names_divisions: bool,
}

/// [`DeclaredHint`] of the manifest files under `paths`.
pub fn declared_hint(paths: &[PathBuf]) -> DeclaredHint {
    let mut hint = DeclaredHint::default();
    for file in collect(paths, &mut Vec::new()) {
        let Ok(text) = read_manifest(&file) else { continue };
        if !text.lines().any(|line| line.starts_with("apiVersion:")) {
            continue;
        }
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("kind:") {
                let name =
                    name.split('#').next().unwrap_or_default().trim().trim_matches(['"', '\'']);
                if let Some(kind) = Kind::parse(name) {
                    *hint.kinds.entry(kind).or_default() += 1;
                }
            } else if !hint.names_divisions && line.starts_with([' ', '\t']) {
                let key = line.trim_start().trim_start_matches("- ").trim_start();
                hint.names_divisions =
                    key.starts_with("division:") || key.starts_with("divisions:");
            }
        }
    }
    hint
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_reads_top_level_kind_lines_of_manifest_files() {
        let dir = tempfile::Builder::new().prefix("gcctl-hint-").tempdir().unwrap();
        let write = |name: &str, text: &str| fs_err::write(dir.path().join(name), text).unwrap();
        write(
            "queues.yaml",
            "apiVersion: gcctl/v1\nkind: RoutingQueue  # a comment\nmetadata:\n  name: a\n---\napiVersion: gcctl/v1\nkind: \"Role\"\n",
        );
        // Not a manifest file (no top-level apiVersion): a walk skips it.
        write("values.yaml", "kind: OAuthClient\n");
        // Flow style is missed (a hint, not a parse); an indented `kind:` is not top-level.
        write(
            "flow.yaml",
            "{apiVersion: gcctl/v1, kind: Flow}\n---\napiVersion: gcctl/v1\nkind: Webhook\nspec:\n  kind: SupportedContentProfile\n",
        );
        write("notes.txt", "apiVersion: x\nkind: RoutingSkill\n");
        let hint = declared_hint(&[dir.path().to_path_buf()]);
        // `kind:` under `spec` is indented: neither a kind nor a division.
        assert!(!hint.names_divisions);
        assert_eq!(hint.kinds.values().sum::<u64>(), 3);
        let kinds: Vec<&str> = hint.kinds.into_keys().map(Kind::as_str).collect();
        let mut expected = vec!["RoutingQueue", "Role", "Webhook"];
        expected.sort_by_key(|name| Kind::parse(name));
        assert_eq!(kinds, expected);
    }

    #[test]
    fn the_hint_sees_division_keys_in_manifest_files_only() {
        let dir = tempfile::Builder::new().prefix("gcctl-hint-").tempdir().unwrap();
        let hint_of = |name: &str, text: &str| {
            fs_err::write(dir.path().join(name), text).unwrap();
            declared_hint(&[dir.path().join(name)]).names_divisions
        };
        let queue = "apiVersion: gcctl/v1\nkind: RoutingQueue\nspec:\n  name: a\n";
        assert!(!hint_of("a.yaml", queue));
        assert!(hint_of("b.yaml", &format!("{queue}  division: Home\n")));
        let grants = "  roles:\n    - role: r\n      divisions:\n        - Home\n";
        assert!(hint_of("c.yaml", &format!("{queue}{grants}")));
        assert!(hint_of("d.yaml", &format!("{queue}  roles:\n    - divisions: [Home]\n")));
        // Not a manifest file; a top-level key; a key that only starts alike.
        assert!(!hint_of("e.yaml", "spec:\n  division: Home\n"));
        assert!(!hint_of("f.yaml", &format!("division: x\n{queue}  divisionName: x\n")));
    }
}
