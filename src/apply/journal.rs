//! The create journal: which creates a run sent that the org's lists may not
//! show yet, so that the next run does not create those objects again
//! before the lists can show them.
//!
//! A list can lag a create by seconds. A create whose process dies (kill
//! -9, a crash, a lost connection at the very end) may or may not have made
//! the object; one that was answered made it, but a run that dies (or fails)
//! right after and is followed at once by another would have that next run
//! plan the create again from a list that does not show the object yet. So
//! before each create `apply` records it (its kind and name), durably: the
//! POST goes out only once the record is synced to disk. A refused create
//! ends its record; a made one keeps it until a list shows the object: the
//! run's own duplicate check lists each kind it created after its creates
//! and ends the records of what it sees. A record left behind makes the
//! next run look the object up by name for the whole consistency window
//! before it creates it, and adopt it when it shows up. Records older than
//! twice the consistency window are dropped when a run opens the journal:
//! by then a list shows whatever they made.
//!
//! **One append-only file, group-committed.** The journal is one file of
//! lines, `+ <unix ms> <kind> <name>` when a create is about to be sent and
//! `- <kind> <name>` when its outcome is known (the name encoded by
//! [`encode`]: no spaces, no line breaks). Records that arrive while a write
//! is on disk wait and go out together in the next one, with one `fsync`
//! for all of them: a thousand creates cost a handful of syncs, not a
//! thousand files each created, synced and renamed in one directory (which
//! kept the first create of a 1,000-queue apply waiting half a second). A
//! run opening the journal reads it, drops what ended or is too old, and
//! rewrites it (temporary file, fsync, rename) when that changes anything,
//! which also drops a torn last line: a line is torn only if its process
//! died before the write returned, so before its create was sent. The
//! one-file-per-record directory of earlier versions (`<digest>.creates/`)
//! is folded in and removed when a run opens the journal.
//!
//! The journal lives beside the org's apply lock ([`super::lock`]), so one
//! run at a time reads and writes it, and it is per org.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use crate::kinds::Kind;

/// The journal of one org: a file (see the module docs). Clones share the
/// open journal.
#[derive(Debug, Clone)]
pub struct CreateJournal {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The unfinished creates and when each was recorded (unix ms), once
    /// the journal is opened ([`CreateJournal::open`]); `None` before: then
    /// [`CreateJournal::unfinished`] reads the file.
    open: Option<HashMap<(Kind, String), u64>>,
    /// Lines waiting for the next write, with whoever waits for them.
    pending: Vec<u8>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    /// A write is under way: new records join `pending` and go out with the
    /// next write of the same writer.
    writing: bool,
    /// The file, open for appending, once a writer opened it.
    file: Option<fs_err::File>,
    /// The last write failed (see [`CreateJournal::write_pending`]).
    torn: bool,
}

impl CreateJournal {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let shared = Shared { path: path.into(), state: Mutex::new(State::default()) };
        CreateJournal { shared: Arc::new(shared) }
    }

    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The directory of earlier versions' one-file-per-record journal.
    fn legacy_dir(&self) -> PathBuf {
        self.shared.path.with_extension("creates")
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Open the journal for a run: read it (and an earlier version's
    /// directory), drop the records that ended or are older than `age`
    /// (a list shows whatever they made by then), and rewrite the file
    /// when that changes anything. Best effort: a journal that cannot be
    /// read is taken as empty and left as it is (the first record that
    /// cannot be written says so).
    pub fn open(&self, age: Duration) {
        let now = unix_ms(SystemTime::now());
        let cutoff = now.saturating_sub(u64::try_from(age.as_millis()).unwrap_or(u64::MAX));
        let (text, readable) = match fs_err::read(self.path()) {
            Ok(text) => (text, true),
            Err(err) => (Vec::new(), err.kind() == std::io::ErrorKind::NotFound),
        };
        let (mut records, clean) = replay(&text);
        let legacy = self.read_legacy();
        let migrated = !legacy.is_empty();
        for (key, at) in legacy {
            records.entry(key).or_insert(at);
        }
        let before = records.len();
        records.retain(|_, at| *at >= cutoff);
        let mut rewritten = false;
        if readable && (!clean || migrated || records.len() != before) {
            let tmp = self.path().with_extension("journal.tmp");
            let mut lines = Vec::new();
            for ((kind, name), at) in &records {
                lines.extend_from_slice(begin_line(*kind, name, *at).as_bytes());
            }
            rewritten = crate::private::write_atomic(self.path(), &tmp, &lines).is_ok();
            if rewritten && migrated {
                let _ = fs_err::remove_dir_all(self.legacy_dir());
            }
        }
        let mut state = self.state();
        // A torn last line that could not be rewritten away must not swallow
        // the next record: it starts on a line of its own.
        state.torn = !rewritten && text.last().is_some_and(|b| *b != b'\n');
        state.open = Some(records);
    }

    /// The entries of an earlier version's journal directory
    /// (`<kind>.<encoded name>` files, written when their mtime says).
    fn read_legacy(&self) -> Vec<((Kind, String), u64)> {
        let Ok(entries) = fs_err::read_dir(self.legacy_dir()) else { return Vec::new() };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let file = entry.file_name();
            let Some((kind, name)) = file.to_str().and_then(|f| f.split_once('.')) else {
                continue;
            };
            let (Some(kind), Some(name)) = (Kind::parse(kind), decode(name)) else { continue };
            let written = entry.metadata().and_then(|m| m.modified()).map_or(0, unix_ms);
            found.push(((kind, name), written));
        }
        found
    }

    /// Record that a create of `kind` named `name` is about to be sent, and
    /// return once the record is on disk. Records made meanwhile by other
    /// tasks are written and synced together.
    pub async fn record(&self, kind: Kind, name: &str) -> std::io::Result<()> {
        let at = unix_ms(SystemTime::now());
        let line = begin_line(kind, name, at);
        let written = self.append(line, |open| {
            open.insert((kind, name.to_string()), at);
        });
        written.await.map_err(std::io::Error::other)
    }

    /// The create's outcome is known: forget it.
    pub async fn forget(&self, kind: Kind, name: &str) {
        self.forget_all(kind, [name]).await;
    }

    /// [`CreateJournal::forget`] of many creates, in one write.
    pub async fn forget_all<'n>(&self, kind: Kind, names: impl IntoIterator<Item = &'n str>) {
        let names: Vec<&str> = names.into_iter().collect();
        if names.is_empty() {
            return;
        }
        let mut lines = String::new();
        for name in &names {
            lines.push_str(&format!("- {kind} {}\n", encode(name)));
        }
        // A lost end only makes the next run look the object up first.
        let _ = self
            .append(lines, |open| {
                for name in names {
                    open.remove(&(kind, name.to_string()));
                }
            })
            .await;
    }

    /// [`CreateJournal::record`] for a caller without a runtime (tests): the
    /// record is appended and synced at once.
    pub fn begin(&self, kind: Kind, name: &str) -> std::io::Result<()> {
        let at = unix_ms(SystemTime::now());
        if let Some(open) = self.state().open.as_mut() {
            open.insert((kind, name.to_string()), at);
        }
        let mut file = self.open_file()?;
        file.write_all(begin_line(kind, name, at).as_bytes())?;
        file.sync_data()
    }

    /// Whether an earlier run sent this create and no list has shown what
    /// it made since (see the module docs). Before [`CreateJournal::open`],
    /// the file is read for the answer.
    pub fn unfinished(&self, kind: Kind, name: &str) -> bool {
        let key = (kind, name.to_string());
        if let Some(open) = &self.state().open {
            return open.contains_key(&key);
        }
        let text = fs_err::read(self.path()).unwrap_or_default();
        replay(&text).0.contains_key(&key)
    }

    fn open_file(&self) -> std::io::Result<fs_err::File> {
        if let Some(parent) = self.path().parent() {
            crate::private::create_dir(parent)?;
        }
        crate::private::append(self.path())
    }

    /// Queue `line` (applying `change` to the open records) and wait until
    /// a write carried it. The first caller that finds no write under way
    /// becomes the writer: it writes what is queued, syncs, wakes those it
    /// carried, and goes on while more is queued.
    async fn append(
        &self,
        line: String,
        change: impl FnOnce(&mut HashMap<(Kind, String), u64>),
    ) -> Result<(), String> {
        let (sender, receiver) = oneshot::channel();
        let lead = {
            let mut state = self.state();
            if let Some(open) = state.open.as_mut() {
                change(open);
            }
            state.pending.extend_from_slice(line.as_bytes());
            state.waiters.push(sender);
            !std::mem::replace(&mut state.writing, true)
        };
        if lead {
            let journal = self.clone();
            // Off the async runtime: the writes and syncs block.
            tokio::task::spawn_blocking(move || journal.write_pending());
        }
        receiver.await.unwrap_or_else(|_| Err("the journal's writer stopped".to_string()))
    }

    /// Write and sync what is queued until nothing is (see
    /// [`CreateJournal::append`]).
    fn write_pending(&self) {
        loop {
            let (lines, waiters, file) = {
                let mut state = self.state();
                if state.pending.is_empty() {
                    state.writing = false;
                    return;
                }
                (
                    std::mem::take(&mut state.pending),
                    std::mem::take(&mut state.waiters),
                    state.file.take(),
                )
            };
            // After a failed write the file may end in a torn line: the
            // next records start on a line of their own.
            let separate = std::mem::take(&mut self.state().torn);
            let result = (|| {
                let mut file = match file {
                    Some(file) => file,
                    None => self.open_file()?,
                };
                if separate {
                    file.write_all(b"\n")?;
                }
                file.write_all(&lines)?;
                file.sync_data()?;
                Ok::<_, std::io::Error>(file)
            })();
            let outcome = match result {
                Ok(file) => {
                    self.state().file = Some(file);
                    Ok(())
                }
                Err(err) => {
                    self.state().torn = true;
                    Err(err.to_string())
                }
            };
            for waiter in waiters {
                let _ = waiter.send(outcome.clone());
            }
        }
    }
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn begin_line(kind: Kind, name: &str, at: u64) -> String {
    format!("+ {at} {kind} {}\n", encode(name))
}

/// The unfinished records of a journal file, and whether the file held
/// nothing else (no ended record, no torn or unknown line).
fn replay(text: &[u8]) -> (HashMap<(Kind, String), u64>, bool) {
    let mut records = HashMap::new();
    let mut clean = true;
    let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |end| end + 1);
    if complete < text.len() {
        // A torn last line: its create was never sent.
        clean = false;
    }
    for line in text[..complete].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let fields: Vec<&str> =
            std::str::from_utf8(line).map(|l| l.split(' ').collect()).unwrap_or_default();
        let key = |kind: &str, name: &str| Some((Kind::parse(kind)?, decode(name)?));
        match fields.as_slice() {
            ["+", at, kind, name] => match (at.parse::<u64>(), key(kind, name)) {
                (Ok(at), Some(key)) => {
                    records.insert(key, at);
                }
                _ => clean = false,
            },
            ["-", kind, name] => {
                // An ended record is dropped by the next rewrite.
                clean = false;
                if let Some(key) = key(kind, name) {
                    records.remove(&key);
                }
            }
            _ => clean = false,
        }
    }
    (records, clean)
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

/// The name [`encode`] made `encoded` from; `None` for anything it cannot
/// have made.
pub fn decode(encoded: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else if first.is_ascii_alphanumeric() || first == b'-' {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> Kind {
        Kind::parse("RoutingQueue").unwrap()
    }

    #[test]
    fn records_come_and_go_per_kind_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let journal = CreateJournal::new(dir.path().join("locks/org.journal"));
        let role = Kind::parse("Role").unwrap();
        journal.begin(queue(), "Acme Bot").unwrap();
        assert!(journal.unfinished(queue(), "Acme Bot"));
        assert!(!journal.unfinished(queue(), "Acme.Bot"));
        assert!(!journal.unfinished(role, "Acme Bot"));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(journal.forget(queue(), "Acme Bot"));
        assert!(!journal.unfinished(queue(), "Acme Bot"));
        runtime.block_on(journal.forget(queue(), "never begun"));
        // Another process sees what this one wrote.
        journal.begin(queue(), "Kept").unwrap();
        let other = CreateJournal::new(journal.path());
        assert!(other.unfinished(queue(), "Kept"));
        assert!(!other.unfinished(queue(), "Acme Bot"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_records_are_all_on_disk_when_they_return() {
        let dir = tempfile::tempdir().unwrap();
        let journal = CreateJournal::new(dir.path().join("org.journal"));
        journal.open(Duration::from_secs(60));
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let journal = journal.clone();
                tokio::spawn(async move { journal.record(queue(), &format!("q {i}")).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        journal.forget(queue(), "q 7").await;
        journal.forget_all(queue(), ["q 8", "q 9"]).await;
        let text = std::fs::read_to_string(journal.path()).unwrap();
        assert_eq!(text.lines().count(), 203, "{text}");
        let other = CreateJournal::new(journal.path());
        assert!(other.unfinished(queue(), "q 199") && !other.unfinished(queue(), "q 7"));
        // Opening again keeps only the unfinished records.
        other.open(Duration::from_secs(60));
        let text = std::fs::read_to_string(journal.path()).unwrap();
        assert_eq!(text.lines().count(), 197, "{text}");
        assert!(other.unfinished(queue(), "q 0") && !other.unfinished(queue(), "q 7"));
        assert!(!other.unfinished(queue(), "q 9"));
    }

    #[test]
    fn opening_drops_old_records_and_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org.journal");
        let now = unix_ms(SystemTime::now());
        let an_hour_ago = now - 3_600_000;
        std::fs::write(
            &path,
            format!("+ {an_hour_ago} RoutingQueue Old\n+ {now} RoutingQueue Fresh\n+ {now} Routi"),
        )
        .unwrap();
        let journal = CreateJournal::new(&path);
        assert!(journal.unfinished(queue(), "Old") && journal.unfinished(queue(), "Fresh"));
        journal.open(Duration::from_secs(60));
        assert!(!journal.unfinished(queue(), "Old"));
        assert!(journal.unfinished(queue(), "Fresh"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("+ {now} RoutingQueue Fresh\n")
        );
        // A record appended after the rewrite starts on a line of its own.
        journal.begin(queue(), "Next").unwrap();
        assert!(CreateJournal::new(&path).unfinished(queue(), "Next"));
        assert!(CreateJournal::new(&path).unfinished(queue(), "Fresh"));
    }

    #[test]
    fn a_torn_line_that_cannot_be_rewritten_does_not_swallow_the_next_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("org.journal");
        let now = unix_ms(SystemTime::now());
        std::fs::write(&path, format!("+ {now} RoutingQueue Fresh\n+ {now} Routi")).unwrap();
        // The rewrite's temporary file cannot be made: the torn line stays.
        std::fs::create_dir(path.with_extension("journal.tmp")).unwrap();
        let journal = CreateJournal::new(&path);
        journal.open(Duration::from_secs(60));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(journal.record(queue(), "Next")).unwrap();
        let again = CreateJournal::new(&path);
        assert!(again.unfinished(queue(), "Fresh") && again.unfinished(queue(), "Next"));
    }

    #[test]
    fn an_earlier_versions_directory_is_folded_in() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("org.creates");
        std::fs::create_dir(&legacy).unwrap();
        std::fs::write(legacy.join(format!("RoutingQueue.{}", encode("Acme Bot"))), "").unwrap();
        std::fs::write(legacy.join(".RoutingQueue.x.tmp"), "").unwrap();
        let journal = CreateJournal::new(dir.path().join("org.journal"));
        journal.open(Duration::from_secs(60));
        assert!(journal.unfinished(queue(), "Acme Bot"));
        assert!(!legacy.exists());
        assert!(CreateJournal::new(journal.path()).unfinished(queue(), "Acme Bot"));
    }

    #[test]
    fn names_are_encoded_injectively_and_decoded() {
        assert_eq!(encode("Acme Bot"), "Acme_20Bot");
        assert_eq!(encode("Acme.Bot"), "Acme_2EBot");
        assert_eq!(encode("Acme_20Bot"), "Acme_5F20Bot");
        assert_eq!(encode("Zoë/../x"), "Zo_C3_AB_2F_2E_2E_2Fx");
        for name in ["Acme Bot", "Zoë/../x", "a\nb c", "_", ""] {
            assert_eq!(decode(&encode(name)).as_deref(), Some(name));
        }
        assert_eq!(decode("a b"), None);
        assert_eq!(decode("_4"), None);
        assert_eq!(decode("_ZZ"), None);
    }
}
