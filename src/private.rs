//! Files only the user may read: secrets written by `apply` and the sandbox's
//! state (it holds the sandbox admin client's secret). They are created with
//! mode 0600 from the first byte: a file is never briefly readable by others,
//! and a leftover temporary file with looser permissions is replaced, not
//! reused. Directories gcctl creates are 0700; a directory that already
//! exists is the user's (`--secrets-dir .` is the project directory,
//! `GCCTL_LOCK_DIR=/tmp/shared` a shared one) and its permissions are left
//! alone: [`create_dir`] says when others can reach into it, and the caller
//! refuses (the secrets directory) or warns (the lock directory). On other
//! systems the platform's defaults apply.
//!
//! Files and directories are durable once these functions return: data is
//! synced, and so is the directory entry of a file or directory they create
//! or rename into place ([`sync_parent`]).

use std::io::Write;
use std::path::{Path, PathBuf};

/// An existing directory that other users can reach into (its group or
/// world permission bits are set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDir {
    pub path: PathBuf,
    /// The permission bits, e.g. `0o755`.
    pub mode: u32,
}

impl std::fmt::Display for OpenDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is open to other users (mode {:04o})", self.path.display(), self.mode)
    }
}

/// Create `dir`, and any missing parent, with mode 0700. An existing
/// directory is left as it is; it is returned as an [`OpenDir`] when other
/// users can reach into it, for the caller to refuse or warn.
pub fn create_dir(dir: &Path) -> std::io::Result<Option<OpenDir>> {
    if dir.is_dir() {
        return open_to_others(dir);
    }
    // Missing ancestors, outermost first: each is one gcctl creates.
    let mut missing: Vec<&Path> =
        dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.exists()).collect();
    missing.reverse();
    for path in missing {
        // `fs_err` has no `DirBuilder`: the error is given its path here.
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(path) {
            Ok(()) => {
                restrict_dir(path)?;
                sync_parent(path)?;
            }
            // Made by someone else in between: theirs, not ours.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(err) => {
                let message = format!("failed to create directory `{}`: {err}", path.display());
                return Err(std::io::Error::new(err.kind(), message));
            }
        }
    }
    Ok(None)
}

/// An existing directory that other users can reach into; `None` when it is
/// private (or on systems without Unix permissions).
pub fn open_to_others(dir: &Path) -> std::io::Result<Option<OpenDir>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs_err::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Ok(Some(OpenDir { path: dir.to_path_buf(), mode }));
        }
    }
    let _ = dir;
    Ok(None)
}

/// A directory gcctl just created is exactly 0700 (the umask cannot add
/// bits, but it can take the owner's away).
fn restrict_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let _ = dir;
    Ok(())
}

/// Write `bytes` to `path` atomically: a fresh private temporary file beside
/// it (any leftover one is removed first), fsync, rename. When the write,
/// sync or rename fails, the temporary file is removed (a full disk leaves
/// no half-written file of secrets or plans behind); `path` is as it was.
pub fn write_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create(tmp)?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    if let Err(err) = written.and_then(|()| fs_err::rename(tmp, path)) {
        let _ = std::fs::remove_file(tmp);
        return Err(err);
    }
    sync_parent(path)
}

/// Open `path` for appending, creating it private; an existing file is made
/// private too.
pub fn append(path: &Path) -> std::io::Result<fs_err::File> {
    let existed = path.exists();
    let mut options = fs_err::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    restrict(path)?;
    if !existed {
        sync_parent(path)?;
    }
    Ok(file)
}

/// Make `path`'s entry in its directory durable: fsync the directory. A
/// file's own fsync covers its bytes, not its name: after a power loss or a
/// kernel crash, a file just created or renamed into place can be missing
/// (or the old one back) though its data was synced. That would lose a
/// client secret written just before `apply` clears the client's
/// unrecorded-secret mark in the org, or a journal that holds the creates
/// a run sent. A file system that cannot sync a directory
/// (`EINVAL`/`ENOTSUP`, some network and FUSE file systems) is taken as
/// having done what it can; other errors are returned.
pub fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        match fs_err::File::open(parent)?.sync_all() {
            Ok(()) => {}
            Err(err)
                if matches!(
                    err.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::Unsupported
                ) => {}
            Err(err) => return Err(err),
        }
    }
    let _ = path;
    Ok(())
}

/// A new private file: a leftover file at `path` is removed first, so its
/// permissions cannot carry over.
fn create(path: &Path) -> std::io::Result<fs_err::File> {
    match fs_err::remove_file(path) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut options = fs_err::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs_err::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_are_private_even_over_leftovers() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("secrets");
        assert_eq!(create_dir(&dir).unwrap(), None);
        assert_eq!(mode(&dir), 0o700);
        let tmp = dir.join(".x.tmp");
        fs_err::write(&tmp, "old").unwrap();
        fs_err::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        let file = dir.join("x.json");
        write_atomic(&file, &tmp, b"new").unwrap();
        assert_eq!((mode(&file), fs_err::read_to_string(&file).unwrap().as_str()), (0o600, "new"));
        let journal = dir.join("j");
        fs_err::write(&journal, "").unwrap();
        fs_err::set_permissions(&journal, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(append(&journal).unwrap());
        assert_eq!(mode(&journal), 0o600);
    }

    #[test]
    fn a_write_that_fails_leaves_no_temporary_file() {
        let root = tempfile::tempdir().unwrap();
        // A directory in the way: the rename fails (the write before it did not).
        let path = root.path().join("x.json");
        fs_err::create_dir(&path).unwrap();
        fs_err::write(path.join("inside"), "kept").unwrap();
        let tmp = root.path().join(".x.json.tmp");
        assert!(write_atomic(&path, &tmp, b"secret").is_err());
        assert!(!tmp.exists(), "the temporary file is left behind");
        assert_eq!(fs_err::read_to_string(path.join("inside")).unwrap(), "kept");
    }

    #[test]
    fn a_name_is_synced_in_any_directory() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("x");
        fs_err::write(&file, "x").unwrap();
        sync_parent(&file).unwrap();
        // A bare file name: its directory is the working directory.
        sync_parent(Path::new("x")).unwrap();
        let missing = root.path().join("gone").join("x");
        assert_eq!(sync_parent(&missing).unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn only_directories_gcctl_creates_are_made_private() {
        let root = tempfile::tempdir().unwrap();
        // The user's directory (`--secrets-dir .`) keeps its mode, and is reported.
        let project = root.path().join("project");
        fs_err::create_dir(&project).unwrap();
        fs_err::set_permissions(&project, std::fs::Permissions::from_mode(0o755)).unwrap();
        let open = create_dir(&project).unwrap().expect("reported as open");
        assert_eq!((open.mode, mode(&project)), (0o755, 0o755));
        assert!(open.to_string().ends_with("is open to other users (mode 0755)"), "{open}");
        // What gcctl creates under it, parents included, is 0700.
        let nested = project.join("a/b");
        assert_eq!(create_dir(&nested).unwrap(), None);
        assert_eq!((mode(&project.join("a")), mode(&nested)), (0o700, 0o700));
        // A private existing directory is not reported.
        assert_eq!(create_dir(&nested).unwrap(), None);
    }
}
