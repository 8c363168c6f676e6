//! The create journal: which creates a run sent that the org's lists may not
//! show yet, so that the next run does not create those objects again
//! before the lists can show them.
//!
//! A list can lag a create by seconds. A create whose process dies (kill
//! -9, a crash, a lost connection at the very end) may or may not have made
//! the object; one that was answered made it, but a run that dies (or fails)
//! right after and is followed at once by another would have that next run
//! plan the create again from a list that does not show the object yet. So
//! before each create `apply` writes an entry (`<kind>.<name>`, the name
//! encoded injectively). A refused create removes it; a made one keeps it
//! until a list shows the object: the run's own duplicate check lists each
//! kind it created after its creates and removes the entries of what it
//! sees. An entry left behind makes the next run look the object up by
//! name for the whole consistency window before it creates it, and adopt it
//! when it shows up. Entries older than twice the consistency window are
//! pruned at the start of a run: by then a list shows whatever they made.
//!
//! The journal lives beside the org's apply lock ([`super::lock`]), so one
//! run at a time reads and writes it, and it is per org.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::kinds::Kind;

/// The journal directory of one org.
#[derive(Debug, Clone)]
pub struct CreateJournal {
    dir: PathBuf,
}

impl CreateJournal {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CreateJournal { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, kind: Kind, name: &str) -> PathBuf {
        self.dir.join(format!("{kind}.{}", encode(name)))
    }

    /// Record that a create of `kind` named `name` is about to be sent.
    pub fn begin(&self, kind: Kind, name: &str) -> std::io::Result<()> {
        crate::private::create_dir(&self.dir)?;
        let entry = self.entry(kind, name);
        // One temporary file per entry: records are written side by side.
        let tmp = self.dir.join(format!(".{kind}.{}.tmp", encode(name)));
        crate::private::write_atomic(&entry, &tmp, format!("{kind} {name}\n").as_bytes())
    }

    /// The create's outcome is known: forget it.
    pub fn end(&self, kind: Kind, name: &str) {
        let _ = fs_err::remove_file(self.entry(kind, name));
    }

    /// [`CreateJournal::begin`] off the async runtime: the record is
    /// written (and synced) on the blocking pool, so that a thousand
    /// creates record themselves side by side instead of one after another
    /// on the thread that drives every request.
    pub async fn record(&self, kind: Kind, name: &str) -> std::io::Result<()> {
        let (journal, name) = (self.clone(), name.to_string());
        tokio::task::spawn_blocking(move || journal.begin(kind, &name))
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())))
    }

    /// [`CreateJournal::end`] off the async runtime.
    pub async fn forget(&self, kind: Kind, name: &str) {
        let (journal, name) = (self.clone(), name.to_string());
        let _ = tokio::task::spawn_blocking(move || journal.end(kind, &name)).await;
    }

    /// Whether an earlier run sent this create and no list has shown what
    /// it made since (see the module docs).
    pub fn unfinished(&self, kind: Kind, name: &str) -> bool {
        self.entry(kind, name).exists()
    }

    /// Remove the entries written more than `age` ago: a list shows what
    /// their creates made by then. Best effort (a missing directory, or an
    /// entry another process removed, is fine).
    pub fn prune(&self, age: Duration) {
        let Ok(entries) = fs_err::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let written = entry.metadata().and_then(|m| m.modified()).ok();
            let old = written.and_then(|w| w.elapsed().ok()).is_some_and(|a| a > age);
            if old && !entry.file_name().to_string_lossy().starts_with('.') {
                let _ = fs_err::remove_file(path);
            }
        }
    }
}

/// Letters, digits and `-` as they are, any other byte as `_XX` (hex):
/// injective, and a safe file name.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_and_go_per_kind_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let journal = CreateJournal::new(dir.path().join("j"));
        let queue = Kind::parse("RoutingQueue").unwrap();
        let role = Kind::parse("Role").unwrap();
        journal.begin(queue, "Acme Bot").unwrap();
        assert!(journal.unfinished(queue, "Acme Bot"));
        assert!(!journal.unfinished(queue, "Acme.Bot"));
        assert!(!journal.unfinished(role, "Acme Bot"));
        journal.end(queue, "Acme Bot");
        assert!(!journal.unfinished(queue, "Acme Bot"));
        journal.end(queue, "never begun");
    }

    #[test]
    fn old_entries_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let journal = CreateJournal::new(dir.path().join("j"));
        journal.prune(Duration::ZERO);
        let queue = Kind::parse("RoutingQueue").unwrap();
        journal.begin(queue, "Fresh").unwrap();
        journal.prune(Duration::from_secs(60));
        assert!(journal.unfinished(queue, "Fresh"));
        // Age the entry by its modification time (no sleeping in tests).
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(dir.path().join("j")).unwrap().flatten() {
            let file = std::fs::File::options().write(true).open(entry.path()).unwrap();
            file.set_modified(an_hour_ago).unwrap();
        }
        journal.prune(Duration::from_secs(60));
        assert!(!journal.unfinished(queue, "Fresh"));
    }

    #[test]
    fn names_are_encoded_injectively() {
        assert_eq!(encode("Acme Bot"), "Acme_20Bot");
        assert_eq!(encode("Acme.Bot"), "Acme_2EBot");
        assert_eq!(encode("Acme_20Bot"), "Acme_5F20Bot");
        assert_eq!(encode("Zoë/../x"), "Zo_C3_AB_2F_2E_2E_2Fx");
    }
}
