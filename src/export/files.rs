//! Where an export goes: the file layout, the single stdout stream, the
//! atomic directory write, and the self-check that the output validates
//! (loaded from memory, before it is written).
//!
//! Layout of `--out DIR`: one file per kind (its `export_file`, such as
//! `roles.yaml` or `queues.yaml`; only kinds with objects), or, when a
//! kind's manifests take more than [`PART_BYTES`], several (`queues-1.yaml`,
//! `queues-2.yaml`, …), each starting with a `# yaml-language-server:
//! $schema=gcctl.schema.json` comment, the schema itself beside them, and
//! `secrets.env.example` listing the secret variables when there are any. A
//! directory is written whole or not at all: files go to a temporary sibling
//! that is renamed into place.

use std::path::{Path, PathBuf};

use super::Export;
use crate::kinds::Kind;
use crate::manifest::files::MAX_FILE_BYTES;
use crate::manifest::{self, Diagnostic, ManifestSet, MemoryFiles};

/// One file of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub name: String,
    pub content: String,
}

/// The file that holds each kind's manifests (its `export_file`), in apply order.
pub fn layout() -> impl Iterator<Item = (Kind, &'static str)> {
    Kind::all().iter().filter_map(|kind| Some((*kind, kind.def().export_file?)))
}
pub const SCHEMA_FILE: &str = "gcctl.schema.json";
pub const SECRETS_FILE: &str = "secrets.env.example";
/// Between two documents of a file.
const SEPARATOR: &str = "---\n";

/// The most a kind's file holds before its manifests go on in the next:
/// half of what gcctl reads ([`MAX_FILE_BYTES`]), so that a file edited by
/// hand keeps room to grow. 10,000 queues with their media settings set
/// take some 18 MB.
pub const PART_BYTES: usize = (MAX_FILE_BYTES / 2) as usize;

/// The files of `--out DIR`, in layout order.
pub fn files(export: &Export) -> Vec<ExportFile> {
    files_in_parts(export, PART_BYTES)
}

/// [`files`], a kind's manifests in files of at most `part_bytes` each.
fn files_in_parts(export: &Export, part_bytes: usize) -> Vec<ExportFile> {
    let header = format!("# yaml-language-server: $schema={SCHEMA_FILE}\n");
    let mut out = Vec::new();
    for (kind, name) in layout() {
        let documents: Vec<&str> =
            export.documents.iter().filter(|d| d.kind == kind).map(|d| d.yaml.as_str()).collect();
        let parts = split(&documents, header.len(), part_bytes);
        for (name, documents) in part_names(name, parts.len()).into_iter().zip(parts) {
            out.push(ExportFile { name, content: joined(&header, documents) });
        }
    }
    out.extend(export.attachments.iter().cloned());
    if !export.secrets.is_empty() {
        out.push(ExportFile { name: SECRETS_FILE.to_string(), content: secrets_file(export) });
    }
    if !out.is_empty() {
        out.push(ExportFile {
            name: SCHEMA_FILE.to_string(),
            content: crate::manifest::schema::render(),
        });
    }
    out
}

/// `documents` in consecutive runs whose file (the header, the documents
/// and their separators) takes at most `part_bytes`; a document larger
/// than that alone is a run of its own. None for no documents.
fn split<'d>(documents: &'d [&'d str], header: usize, part_bytes: usize) -> Vec<&'d [&'d str]> {
    let mut parts = Vec::new();
    let (mut start, mut size) = (0, header);
    for (i, document) in documents.iter().enumerate() {
        let more = document.len() + if i > start { SEPARATOR.len() } else { 0 };
        if i > start && size + more > part_bytes {
            parts.push(&documents[start..i]);
            (start, size) = (i, header + document.len());
        } else {
            size += more;
        }
    }
    if start < documents.len() {
        parts.push(&documents[start..]);
    }
    parts
}

/// The names of a kind's `count` files: its `export_file` alone, else
/// numbered from 1 before the extension, zero-padded so that they sort in
/// order (`queues-01.yaml` … `queues-12.yaml`).
fn part_names(name: &str, count: usize) -> Vec<String> {
    if count <= 1 {
        return vec![name.to_string(); count];
    }
    let (stem, extension) = name.rsplit_once('.').unwrap_or((name, "yaml"));
    let width = count.to_string().len();
    (1..=count).map(|n| format!("{stem}-{n:0width$}.{extension}")).collect()
}

/// A kind's file: the header, then the documents with separators between
/// them, written once into a buffer of the right size (megabytes).
fn joined(header: &str, documents: &[&str]) -> String {
    let size = documents.iter().map(|d| d.len() + SEPARATOR.len()).sum::<usize>();
    let mut content = String::with_capacity(header.len() + size);
    content.push_str(header);
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            content.push_str(SEPARATOR);
        }
        content.push_str(document);
    }
    content
}

fn secrets_file(export: &Export) -> String {
    let mut out = String::from(
        "# Secret variables the exported manifests reference with `fromEnv`. gcctl never\n\
         # exports secret values: set each variable before `gcctl apply`, to the secret the\n\
         # receiver verifies with (webhook signature secrets: at least 16 characters).\n",
    );
    for secret in &export.secrets {
        let what = one_line(&secret.what);
        out.push_str(&format!("\n# {}: {what}\n{}=\n", secret.used_by, secret.name));
    }
    out
}

/// `text` (an org name, in a sentence) fit for a comment line of a file a
/// shell may source: a line break in a name the org allows would end the
/// comment and make the rest of the name a command. Control characters
/// (line breaks among them) and the Unicode line and paragraph separators
/// show as escapes.
fn one_line(text: &str) -> String {
    crate::api::untrusted::visible(text)
        .replace('\u{2028}', "\\u{2028}")
        .replace('\u{2029}', "\\u{2029}")
}

/// Every manifest as one multi-document YAML stream (stdout), kinds in
/// layout order, the secret variables listed in a leading comment.
pub fn stream(export: &Export) -> String {
    let mut out = String::from("# Exported with `gcctl export`.\n");
    if !export.secrets.is_empty() {
        out.push_str(
            "# Set these secret variables before `gcctl apply` (values are never exported):\n",
        );
        for secret in &export.secrets {
            out.push_str(&format!("#   {}  ({})\n", secret.name, secret.used_by));
        }
    }
    for (kind, _) in layout() {
        for document in export.documents.iter().filter(|d| d.kind == kind) {
            out.push_str("---\n");
            out.push_str(document.streamed());
        }
    }
    out
}

/// Why an export directory could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("`{}` exists and is not empty", .0.display())]
    NotEmpty(PathBuf),
    #[error("`{}` exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error("refusing to replace `{}`: {}", .0.display(), .1)]
    Unsafe(PathBuf, &'static str),
    #[error("refusing to replace `{}`: it holds `{}`, which an export does not write", .0.display(), .1.display())]
    Foreign(PathBuf, PathBuf),
    #[error("cannot write the export to `{}`", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl WriteError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            WriteError::NotEmpty(_) => Some(
                "pass --force to replace the directory with the new export, or choose an empty or new directory"
                    .into(),
            ),
            WriteError::Unsafe(..) => {
                Some("export to a directory of its own, such as `--out exported`".into())
            }
            WriteError::Foreign(..) => Some(
                "--force replaces only an earlier export (its YAML files, the schema and the secrets list): move that file away, or export to a directory of its own"
                    .into(),
            ),
            WriteError::NotADirectory(_) | WriteError::Io { .. } => None,
        }
    }
}

/// The first entry of `dir` that an export does not write, if any: `--force`
/// replaces only what looks like an earlier export (its `*.yaml` and `*.yml`
/// files, in subdirectories too, the schema and the secrets list), never a
/// sandbox org's state, a `.gcctl` directory or anyone's other files.
fn not_an_export(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let mut todo = vec![(dir.to_path_buf(), true)];
    while let Some((at, top)) = todo.pop() {
        for entry in fs_err::read_dir(&at)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type()?;
            let exported = if name.starts_with('.') {
                false
            } else if kind.is_dir() {
                todo.push((path.clone(), false));
                true
            } else if kind.is_file() {
                let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase());
                let yaml = matches!(extension.as_deref(), Some("yaml" | "yml"));
                yaml || (top && (name == SCHEMA_FILE || name == SECRETS_FILE))
            } else {
                false
            };
            if !exported {
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io { path: path.to_path_buf(), source }
}

/// Write `files` as the directory `out`, atomically: into a temporary
/// sibling, then renamed into place. A non-empty `out` is refused unless
/// `force`, which replaces it as a whole (so files of objects that no longer
/// exist disappear), and only a directory that holds nothing but an
/// earlier export's files (`not_an_export`; so never `.git`, gcctl's
/// state or anyone's other files), never the working directory.
pub fn write_dir(out: &Path, files: &[ExportFile], force: bool) -> Result<(), WriteError> {
    // The new directory is renamed into place: a link would be replaced by
    // it, and the directory it led to kept the old export, unsaid.
    // `link/` and `link/.` name the link too.
    let named: PathBuf = out.components().collect();
    if fs_err::symlink_metadata(&named).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(WriteError::Unsafe(
            out.to_path_buf(),
            "it is a symbolic link, which the export would replace (pass the directory it leads to)",
        ));
    }
    let exists = match fs_err::metadata(out) {
        Ok(meta) if !meta.is_dir() => return Err(WriteError::NotADirectory(out.to_path_buf())),
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(out)(e)),
    };
    let non_empty = exists && fs_err::read_dir(out).map_err(io(out))?.next().is_some();
    if non_empty {
        if !force {
            return Err(WriteError::NotEmpty(out.to_path_buf()));
        }
        if out.join(".git").exists() {
            return Err(WriteError::Unsafe(out.to_path_buf(), "it holds a git repository"));
        }
        if let Some(foreign) = not_an_export(out).map_err(io(out))? {
            return Err(WriteError::Foreign(out.to_path_buf(), foreign));
        }
        let here = std::env::current_dir().and_then(fs_err::canonicalize).map_err(io(out))?;
        if here.starts_with(fs_err::canonicalize(out).map_err(io(out))?) {
            return Err(WriteError::Unsafe(out.to_path_buf(), "it holds the working directory"));
        }
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs_err::create_dir_all(&parent).map_err(io(&parent))?;
    let base = out.file_name().map_or_else(|| "export".into(), |n| n.to_string_lossy().to_string());
    let temp = parent.join(format!(".{base}.gcctl-export-{}", std::process::id()));
    let old = parent.join(format!(".{base}.gcctl-old-{}", std::process::id()));
    for leftover in [&temp, &old] {
        if leftover.exists() {
            fs_err::remove_dir_all(leftover).map_err(io(leftover))?;
        }
    }
    let result = write_files(&temp, files).and_then(|()| swap(out, &temp, &old, exists));
    if result.is_err() && temp.exists() {
        let _ = fs_err::remove_dir_all(&temp);
    }
    result
}

fn write_files(dir: &Path, files: &[ExportFile]) -> Result<(), WriteError> {
    fs_err::create_dir(dir).map_err(io(dir))?;
    for file in files {
        let path = dir.join(&file.name);
        // Attachments live in folders (`flows/…`).
        if let Some(parent) = path.parent().filter(|p| *p != dir) {
            fs_err::create_dir_all(parent).map_err(io(parent))?;
        }
        fs_err::write(&path, &file.content).map_err(io(&path))?;
    }
    Ok(())
}

/// Put `temp` in the place of `out`, keeping the old one until it is done.
fn swap(out: &Path, temp: &Path, old: &Path, exists: bool) -> Result<(), WriteError> {
    if !exists {
        return fs_err::rename(temp, out).map_err(io(out));
    }
    fs_err::rename(out, old).map_err(io(out))?;
    if let Err(e) = fs_err::rename(temp, out) {
        let _ = fs_err::rename(old, out);
        return Err(io(out)(e));
    }
    fs_err::remove_dir_all(old).map_err(io(old))
}

/// Load the export as `gcctl validate` would load it written to a
/// directory, without writing it: the loaded set, or its problems, with
/// file names relative to the export.
pub fn check(files: &[ExportFile]) -> Result<ManifestSet, Vec<Diagnostic>> {
    let memory: MemoryFiles<'_> =
        files.iter().map(|f| (PathBuf::from(&f.name), f.content.as_str())).collect();
    manifest::load_memory(&memory).map_err(|err| err.diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::Document;
    use serde_json::json;

    /// A kind of the layout whose manifest is valid with a name alone, and
    /// its file: the split does not depend on the kind.
    fn plain_kind() -> (Kind, &'static str) {
        layout()
            .find(|(kind, _)| {
                let document = Document::new(*kind, "x", &json!({"name": "X"}));
                check(&files(&Export { documents: vec![document], ..Export::default() })).is_ok()
            })
            .expect("a kind whose manifest needs only a name")
    }

    /// An export of `n` objects of `kind`, each document some 60 bytes.
    fn objects(kind: Kind, n: usize) -> Export {
        let documents = (1..=n)
            .map(|i| {
                Document::new(
                    kind,
                    &format!("object-{i:03}"),
                    &json!({"name": format!("Object {i:03}")}),
                )
            })
            .collect();
        Export { documents, ..Export::default() }
    }

    #[test]
    fn a_kind_too_large_for_one_file_goes_on_in_numbered_files_that_load_whole() {
        let (kind, file) = plain_kind();
        let stem = file.trim_end_matches(".yaml");
        let export = objects(kind, 30);
        let whole = files(&export);
        let names: Vec<&str> = whole.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, [file, SCHEMA_FILE]);
        let parts = files_in_parts(&export, 400);
        let names: Vec<&str> = parts.iter().map(|f| f.name.as_str()).collect();
        let kind_files: Vec<&&str> = names.iter().filter(|n| n.starts_with(stem)).collect();
        assert!(kind_files.len() >= 4, "{names:?}");
        // Numbered from 1, zero-padded, in name order, the schema after them.
        let width = kind_files.len().to_string().len();
        assert_eq!(*kind_files[0], format!("{stem}-{:0width$}.yaml", 1));
        assert!(kind_files.windows(2).all(|w| w[0] < w[1]), "{names:?}");
        assert_eq!(names.last(), Some(&SCHEMA_FILE));
        for file in parts.iter().filter(|f| f.name.starts_with(stem)) {
            assert!(file.content.len() <= 400, "{}: {}", file.name, file.content.len());
            assert!(file.content.starts_with("# yaml-language-server: $schema="), "{}", file.name);
        }
        // The same documents, split between documents.
        let handles = |files: &[ExportFile]| -> Vec<String> {
            let set = check(files).unwrap_or_else(|d| panic!("{d:?}"));
            let mut handles: Vec<String> = set.objects.iter().map(|o| o.name.clone()).collect();
            handles.sort();
            handles
        };
        assert_eq!(handles(&parts).len(), 30);
        assert_eq!(handles(&parts), handles(&whole));
    }

    #[test]
    fn a_document_larger_than_a_part_is_a_file_of_its_own() {
        let documents = ["a".repeat(50), "b".repeat(500), "c".repeat(50), "d".repeat(50)];
        let documents: Vec<&str> = documents.iter().map(String::as_str).collect();
        let parts = split(&documents, 10, 200);
        let sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(sizes, [1, 1, 2]);
        assert_eq!(parts.concat(), documents);
        assert!(split(&[], 10, 200).is_empty());
    }

    /// A name with line breaks (the org allows them) stays in its comment
    /// line: the file is one a shell sources once filled in.
    #[test]
    fn org_names_in_the_secrets_file_cannot_make_lines_of_their_own() {
        let secret = crate::export::SecretVariable {
            name: "EVIL_WEBHOOK_SECRET".into(),
            used_by: "Webhook/evil-webhook".into(),
            what: "the signature secret of integration \"Evil\nexport GENESYSCLOUD_REGION=https://attacker.example\r\u{2028}\u{85}#\"".into(),
        };
        let export = Export { secrets: vec![secret], ..Export::default() };
        let text = secrets_file(&export);
        for line in text.lines() {
            assert!(
                line.is_empty() || line.starts_with('#') || line == "EVIL_WEBHOOK_SECRET=",
                "{line:?}"
            );
        }
        assert!(!text.contains(['\r', '\u{2028}', '\u{85}']), "{text:?}");
        assert!(text.contains("\"Evil\\nexport GENESYSCLOUD_REGION"), "{text}");
    }

    #[test]
    fn part_names_sort_in_order() {
        assert!(part_names("queues.yaml", 0).is_empty());
        assert_eq!(part_names("queues.yaml", 1), ["queues.yaml"]);
        assert_eq!(
            part_names("queues.yaml", 3),
            ["queues-1.yaml", "queues-2.yaml", "queues-3.yaml"]
        );
        let twelve = part_names("roles.yaml", 12);
        assert_eq!((twelve[0].as_str(), twelve[11].as_str()), ("roles-01.yaml", "roles-12.yaml"));
        assert!(twelve.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_check_refuses_a_file_larger_than_gcctl_reads() {
        let bytes = usize::try_from(MAX_FILE_BYTES).unwrap() + 1;
        let file = ExportFile { name: "queues.yaml".into(), content: "#".repeat(bytes) };
        let problems = check(&[file]).expect_err("too large");
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|t| t.contains(&format!("more than the {MAX_FILE_BYTES} gcctl reads"))),
            "{text:?}"
        );
    }
}
