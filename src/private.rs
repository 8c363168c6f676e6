//! Files only the user may read: secrets written by `apply` and the sandbox's
//! state (it holds the sandbox admin client's secret). They are created with
//! mode 0600, in directories of mode 0700, from the first byte: a file is
//! never briefly readable by others, and a leftover temporary file with
//! looser permissions is replaced, not reused. On other systems the
//! platform's defaults apply.

use std::io::Write;
use std::path::Path;

/// Create `dir` (and its parents) and make it private (0700). An existing
/// directory is tightened too: it holds secrets.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    fs_err::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Write `bytes` to `path` atomically: a fresh private temporary file beside
/// it (any leftover one is removed first), fsync, rename.
pub fn write_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = create(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs_err::rename(tmp, path)
}

/// Open `path` for appending, creating it private; an existing file is made
/// private too.
pub fn append(path: &Path) -> std::io::Result<fs_err::File> {
    let mut options = fs_err::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    restrict(path)?;
    Ok(file)
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
    fn files_and_directories_are_private_even_over_leftovers() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("secrets");
        fs_err::create_dir(&dir).unwrap();
        fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&dir).unwrap();
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
}
