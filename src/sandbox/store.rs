//! The org: one collection of JSON objects per kind, keyed by id, plus its
//! persistence.
//!
//! Invariants:
//! - Stored objects hold only what the API may return. Write-only values
//!   (OAuth client secrets, open messaging signature tokens) live in the
//!   separate `secrets` collection, hashed, so a renderer cannot leak them.
//! - References are stored as `{"id": ...}`; names are resolved when rendering.
//! - Persistence is a snapshot (`FILE`, the org as JSON, replaced atomically:
//!   temporary file, fsync, rename) plus an append-only journal (`FILE.journal`,
//!   one JSON line per changed entry). Every successful change is appended
//!   before the HTTP answer is sent, so killing the server loses at most the
//!   request in flight. Journal entries are idempotent (whole entry or
//!   removal), so replaying a journal over a newer snapshot is harmless; a torn
//!   last line is ignored. The journal is folded into the snapshot at start, on
//!   shutdown and every [`COMPACT_EVERY`] entries.
//! - Creation instants are kept in memory only: they drive the consistency
//!   window and async `createStatus`; an org loaded from disk is settled.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::SandboxError;

/// Version of the snapshot format (`formatVersion`).
pub const FORMAT_VERSION: u32 = 1;
/// Journal entries after which the snapshot is rewritten.
const COMPACT_EVERY: usize = 2_000;

/// Objects of one kind, by id.
pub type Collection = BTreeMap<String, Value>;

/// Declare the collections: the `Kind` enum, [`Kind::ALL`] (snapshot order)
/// and [`Kind::name`] (the snapshot key and journal `kind`) from one list.
macro_rules! kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The collections of an org, also the names used in the snapshot format.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Kind {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl Kind {
            /// Every collection, in snapshot order.
            pub const ALL: &[Kind] = &[$(Kind::$variant,)*];

            /// The collection's key in the snapshot and the journal.
            pub fn name(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }
        }
    };
}

kinds! {
    Divisions = "divisions",
    Roles = "roles",
    Flows = "flows",
    Queues = "queues",
    OpenIntegrations = "openIntegrations",
    SupportedContent = "supportedContent",
    MessagingSettings = "messagingSettings",
    Recipients = "recipients",
    OauthClients = "oauthClients",
    /// Wrap-up codes (`/api/v2/routing/wrapupcodes`).
    WrapupCodes = "wrapupCodes",
    /// Routing skills; soft-deleted ones stay, `state: "deleted"`.
    Skills = "skills",
    /// Routing languages; soft-deleted ones stay, `state: "deleted"`.
    Languages = "languages",
    /// Users of the org (read-only through the API; seeded).
    Users = "users",
    /// Groups of users (read-only through the API; seeded).
    Groups = "groups",
    /// Teams (read-only through the API; seeded; `routes::teams`).
    Teams = "teams",
    /// Skill groups (read-only through the API; seeded; `routes::teams`).
    SkillGroups = "skillGroups",
    /// Members of groups, teams and skill groups, keyed by the group's id:
    /// `{"groupId", "userIds": [...]}`. Server-side only (their models have
    /// no member list); it makes the group-derived members of queues whose
    /// `memberGroups` name them.
    GroupMembers = "groupMembers",
    /// Direct members of queues, keyed by queue id: `{"queueId", "members":
    /// [{"userId", "ringNumber", "joined", "visibleAt", "removedAt"}]}`.
    /// `visibleAt` / `removedAt` (Unix milliseconds) emulate asynchronous
    /// processing: an add shows from `visibleAt` on, a remove hides the
    /// member from `removedAt` on. Server-side only: read through
    /// `/api/v2/routing/queues/{queueId}/members`.
    QueueMembers = "queueMembers",
    /// Wrap-up codes queues offer, keyed by queue id: `{"queueId",
    /// "codeIds": [...]}`. Read through `…/queues/{queueId}/wrapupcodes`.
    QueueWrapupCodes = "queueWrapupCodes",
    /// Users' routing skills, keyed by user id: `{"userId", "entries":
    /// [{"id", "proficiency"}]}`. Read through `/api/v2/users/{userId}/routingskills`.
    UserSkills = "userSkills",
    /// Users' routing languages, keyed by user id, as `UserSkills`.
    UserLanguages = "userLanguages",
    /// Role grants of users, keyed by user id: `{"subjectId", "grants":
    /// [{"roleId", "divisionId", "grantMadeAt"}]}` (OAuth clients keep theirs
    /// in their own `roleDivisions`). Server-side only: read through
    /// `/api/v2/authorization/subjects/...`.
    Grants = "grants",
    /// Flow import jobs (`POST /api/v2/flows/jobs`), with the uploaded YAML
    /// until the job has run (see `routes::flow_jobs`).
    FlowJobs = "flowJobs",
    /// Flow export jobs (`POST /api/v2/flows/export/jobs`).
    FlowExportJobs = "flowExportJobs",
    /// Published flow versions, keyed `<flowId>/<number>`: the `FlowVersion`,
    /// its YAML and the queues it names (for dependency tracking).
    FlowVersions = "flowVersions",
    /// Web messaging (Messenger) configurations, keyed by configuration id:
    /// the draft (`version: "DRAFT"`), which every edit replaces.
    WebConfigurations = "webConfigurations",
    /// Published configuration versions, keyed `<configurationId>/<n>`
    /// (`version` the integer string `n`), immutable once published.
    WebConfigurationVersions = "webConfigurationVersions",
    /// Web messaging deployments.
    WebDeployments = "webDeployments",
    /// SHA-256 hex of write-only values, keyed `<kind>:<id>`.
    Secrets = "secrets",
    /// Org-wide settings: `supportedContent`, `messagingSetting` (default ids),
    /// `adminClientId`, `adminClientSecret`, `adminUserId`, `orgId`.
    Defaults = "defaults",
}

/// The org snapshot, as written to the state file and read from a seed file:
/// `{"formatVersion": 1, "<collection>": {id: object}, ...}` with every
/// collection of `Kind::ALL` written in that order, missing ones read as
/// empty and unknown keys refused (what `deny_unknown_fields` on a struct
/// with one field per collection gave, which this replaced).
#[derive(Debug, Clone, Default)]
pub struct Org {
    pub format_version: u32,
    collections: BTreeMap<Kind, Collection>,
}

impl Serialize for Org {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let empty = Collection::new();
        let mut map = serializer.serialize_map(Some(Kind::ALL.len() + 1))?;
        map.serialize_entry("formatVersion", &self.format_version)?;
        for kind in Kind::ALL {
            map.serialize_entry(kind.name(), self.collections.get(kind).unwrap_or(&empty))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Org {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Org;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a sandbox org snapshot (a JSON object)")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Org, A::Error> {
                use serde::de::Error as _;
                let mut version = None;
                let mut collections = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "formatVersion" {
                        if version.replace(map.next_value()?).is_some() {
                            return Err(A::Error::duplicate_field("formatVersion"));
                        }
                        continue;
                    }
                    let Some(&kind) = Kind::ALL.iter().find(|k| k.name() == key) else {
                        return Err(A::Error::custom(format!("unknown field `{key}`")));
                    };
                    if collections.insert(kind, map.next_value()?).is_some() {
                        return Err(A::Error::custom(format!("duplicate field `{key}`")));
                    }
                }
                let format_version =
                    version.ok_or_else(|| A::Error::missing_field("formatVersion"))?;
                Ok(Org { format_version, collections })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Org {
    /// An empty org of the current format.
    pub fn new() -> Org {
        Org { format_version: FORMAT_VERSION, collections: BTreeMap::new() }
    }

    pub fn collection(&self, kind: Kind) -> &Collection {
        static EMPTY: Collection = Collection::new();
        self.collections.get(&kind).unwrap_or(&EMPTY)
    }

    fn collection_mut(&mut self, kind: Kind) -> &mut Collection {
        self.collections.entry(kind).or_default()
    }

    /// Read an org snapshot (state or seed file).
    pub fn load(path: &Path) -> Result<Org, SandboxError> {
        let text = fs_err::read_to_string(path)?;
        let org: Org = serde_json::from_str(&text)
            .map_err(|source| SandboxError::Corrupt { path: path.to_path_buf(), source })?;
        check_shape(&org, path)?;
        if org.format_version != FORMAT_VERSION {
            return Err(SandboxError::FormatVersion {
                path: path.to_path_buf(),
                found: org.format_version,
                expected: FORMAT_VERSION,
            });
        }
        Ok(org)
    }

    /// A default setting (`Kind::Defaults`) as a string.
    pub fn default_str(&self, key: &str) -> Option<&str> {
        self.collection(Kind::Defaults).get(key).and_then(Value::as_str)
    }
}

/// Every stored object must be a JSON object (renderers rely on it).
fn check_shape(org: &Org, path: &Path) -> Result<(), SandboxError> {
    // Secrets and defaults hold plain strings.
    let objects = Kind::ALL.iter().filter(|k| !matches!(k, Kind::Secrets | Kind::Defaults));
    for &kind in objects {
        if let Some((id, _)) = org.collection(kind).iter().find(|(_, v)| !v.is_object()) {
            return Err(SandboxError::Invalid {
                path: path.to_path_buf(),
                message: format!("entry {id} of {} is not a JSON object", kind.name()),
            });
        }
    }
    Ok(())
}

/// One journal line: the new value of an entry, or `null` for a removal.
#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    kind: Kind,
    id: String,
    value: Value,
}

#[derive(Debug)]
struct Persister {
    snapshot: PathBuf,
    journal: PathBuf,
    entries: usize,
    /// The exclusive lock on `FILE.lock`, held while the store lives (the
    /// operating system releases it when the process ends, even on kill -9).
    _lock: fs_err::File,
}

/// The live org with its change tracking and persistence.
#[derive(Debug)]
pub struct Store {
    org: Org,
    created: HashMap<(Kind, String), Instant>,
    consistency_delay: Duration,
    pending: Vec<JournalEntry>,
    persister: Option<Persister>,
    /// A kind's ids in name order, computed on the first listing after a
    /// change of that kind (every write drops it): paging through 10,000
    /// queues sorts them once, not once per page, and a page looks up only
    /// its own objects.
    name_order: Mutex<HashMap<Kind, Arc<[String]>>>,
    /// A kind's ids by ASCII-lowercased name, built on the first look-up
    /// by name and kept up to date by every write after it: a create checks
    /// that its name is free, and scanning the whole kind under the store's
    /// lock made a thousand creates quadratic.
    by_name: Mutex<HashMap<Kind, HashMap<String, Vec<String>>>>,
}

impl Store {
    /// An in-memory store (no persistence).
    pub fn new(org: Org, consistency_delay: Duration) -> Store {
        Store {
            org,
            created: HashMap::new(),
            consistency_delay,
            pending: Vec::new(),
            persister: None,
            name_order: Mutex::new(HashMap::new()),
            by_name: Mutex::new(HashMap::new()),
        }
    }

    /// Open the state file: load snapshot and journal if present, else use
    /// `initial()`; then compact, so the file on disk is a full snapshot.
    pub fn open(
        path: &Path,
        consistency_delay: Duration,
        initial: impl FnOnce() -> Result<Org, SandboxError>,
    ) -> Result<Store, SandboxError> {
        // A directory made for the state is private; an existing one (the
        // user's) is left as it is: the files themselves are 0600.
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            crate::private::create_dir(parent)?;
        }
        let lock = lock_state(path)?;
        let journal = journal_path(path);
        let mut org = if path.exists() { Org::load(path)? } else { initial()? };
        if journal.exists() {
            replay(&mut org, &journal)?;
        }
        let mut store = Store::new(org, consistency_delay);
        store.persister =
            Some(Persister { snapshot: path.to_path_buf(), journal, entries: 0, _lock: lock });
        store.compact()?;
        Ok(store)
    }

    pub fn org(&self) -> &Org {
        &self.org
    }

    /// An object by id, ignoring the consistency window.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.org.collection(kind).get(id)
    }

    /// An object by id as a reader sees it (hidden inside the consistency window).
    pub fn visible(&self, kind: Kind, id: &str) -> Option<&Value> {
        self.get(kind, id).filter(|_| self.settled(kind, id))
    }

    /// The objects of a kind that readers see, in id order.
    pub fn list(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        self.org
            .collection(kind)
            .iter()
            .filter(move |(id, _)| self.settled(kind, id))
            .map(|(_, v)| v)
    }

    /// The objects of a kind that readers see, by name (case-insensitively,
    /// then by id), as listings return them.
    pub fn list_by_name(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        let order = self.name_order(kind);
        let collection = self.org.collection(kind);
        (0..order.len())
            .filter_map(move |i| collection.get_key_value(&order[i]))
            .filter(move |(id, _)| self.settled(kind, id))
            .map(|(_, v)| v)
    }

    /// One page of a kind's objects, `(skip, take)` in id or name order
    /// (reversed when `desc`), and how many there are: touches only the
    /// page's objects (and, in id order, the ids before them). `None` while
    /// objects are still inside their consistency window (some are not
    /// visible yet: see [`Store::list`]).
    pub fn window(
        &self,
        kind: Kind,
        by_name: bool,
        desc: bool,
        (skip, take): (usize, usize),
    ) -> Option<(usize, Vec<&Value>)> {
        if !self.consistency_delay.is_zero() {
            return None;
        }
        let collection = self.org.collection(kind);
        let total = collection.len();
        let page = if by_name {
            let order = self.name_order(kind);
            let positions = (0..total).map(|i| if desc { total - 1 - i } else { i });
            let at = |i: usize| order.get(i).and_then(|id| collection.get(id));
            positions.skip(skip).take(take).filter_map(at).collect()
        } else if desc {
            collection.values().rev().skip(skip).take(take).collect()
        } else {
            collection.values().skip(skip).take(take).collect()
        };
        Some((total, page))
    }

    /// A kind's ids sorted by name (ASCII-lowercased), then by id.
    fn name_order(&self, kind: Kind) -> Arc<[String]> {
        let mut cache = self.name_order.lock().unwrap_or_else(PoisonError::into_inner);
        let order = cache.entry(kind).or_insert_with(|| {
            let mut keyed: Vec<(String, &String)> =
                self.org.collection(kind).iter().map(|(id, v)| (name_key(v), id)).collect();
            keyed.sort_unstable();
            keyed.into_iter().map(|(_, id)| id.clone()).collect()
        });
        Arc::clone(order)
    }

    /// The objects of a kind whose name equals `name` ignoring ASCII case,
    /// including those inside the consistency window (as [`Store::all`]).
    pub fn named(&self, kind: Kind, name: &str) -> Vec<&Value> {
        let mut cache = self.by_name.lock().unwrap_or_else(PoisonError::into_inner);
        let index = cache.entry(kind).or_insert_with(|| {
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            for (id, value) in self.org.collection(kind) {
                index.entry(lowercase_name(value)).or_default().push(id.clone());
            }
            index
        });
        let ids = index.get(&name.to_ascii_lowercase()).cloned().unwrap_or_default();
        drop(cache);
        ids.iter().filter_map(|id| self.get(kind, id)).collect()
    }

    /// Keep the name index of `kind` (when built) in step with a write of
    /// object `id`: `old` leaves it, `new` joins it.
    fn index_names(&mut self, kind: Kind, id: &str, old: Option<&Value>, new: Option<&Value>) {
        let Some(index) =
            self.by_name.get_mut().unwrap_or_else(PoisonError::into_inner).get_mut(&kind)
        else {
            return;
        };
        if let Some(old) = old {
            let key = lowercase_name(old);
            if let Some(ids) = index.get_mut(&key) {
                ids.retain(|other| other != id);
                if ids.is_empty() {
                    index.remove(&key);
                }
            }
        }
        if let Some(new) = new {
            index.entry(lowercase_name(new)).or_default().push(id.to_string());
        }
    }

    /// Every object of a kind, including those inside the consistency window
    /// (for uniqueness and reference checks, which the server does on its side).
    pub fn all(&self, kind: Kind) -> impl Iterator<Item = &Value> {
        self.org.collection(kind).values()
    }

    /// Time since the object was created in this process, if it was.
    pub fn age(&self, kind: Kind, id: &str) -> Option<Duration> {
        self.created.get(&(kind, id.to_string())).map(Instant::elapsed)
    }

    fn settled(&self, kind: Kind, id: &str) -> bool {
        self.consistency_delay.is_zero()
            || self.age(kind, id).is_none_or(|age| age >= self.consistency_delay)
    }

    /// Add a new object and start its consistency window.
    pub fn insert(&mut self, kind: Kind, id: &str, value: Value) {
        self.created.insert((kind, id.to_string()), Instant::now());
        self.put(kind, id, value);
    }

    /// Set an entry (create or replace).
    pub fn put(&mut self, kind: Kind, id: &str, value: Value) {
        self.name_order.get_mut().unwrap_or_else(PoisonError::into_inner).remove(&kind);
        let old = self.org.collection_mut(kind).insert(id.to_string(), value.clone());
        self.index_names(kind, id, old.as_ref(), Some(&value));
        self.pending.push(JournalEntry { kind, id: id.to_string(), value });
    }

    /// Remove an entry, returning it.
    pub fn remove(&mut self, kind: Kind, id: &str) -> Option<Value> {
        self.name_order.get_mut().unwrap_or_else(PoisonError::into_inner).remove(&kind);
        let old = self.org.collection_mut(kind).remove(id)?;
        self.index_names(kind, id, Some(&old), None);
        self.created.remove(&(kind, id.to_string()));
        self.pending.push(JournalEntry { kind, id: id.to_string(), value: Value::Null });
        Some(old)
    }

    /// Make the pending changes durable (append them to the journal).
    pub fn commit(&mut self) -> Result<(), SandboxError> {
        let pending = std::mem::take(&mut self.pending);
        let Some(persister) = self.persister.as_mut() else { return Ok(()) };
        if pending.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for entry in &pending {
            text.push_str(&serde_json::to_string(entry).map_err(SandboxError::Serialize)?);
            text.push('\n');
        }
        // The journal holds what the snapshot holds: private like it.
        let mut file = crate::private::append(&persister.journal)?;
        file.write_all(text.as_bytes())?;
        persister.entries += pending.len();
        if persister.entries >= COMPACT_EVERY {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrite the snapshot atomically and empty the journal.
    pub fn compact(&mut self) -> Result<(), SandboxError> {
        self.pending.clear();
        let Some(persister) = self.persister.as_mut() else { return Ok(()) };
        write_atomic(&persister.snapshot, &self.org)?;
        if persister.journal.exists() {
            fs_err::remove_file(&persister.journal)?;
        }
        persister.entries = 0;
        Ok(())
    }

    /// Let go of the state file without a final snapshot, as a killed
    /// process does (the journal keeps what was answered; the next open
    /// replays it).
    pub fn abandon(&mut self) {
        self.persister = None;
    }

    /// Write the final snapshot and let go of the state file (its lock
    /// included): another sandbox may open it now. The store stays usable
    /// in memory; nothing more is persisted.
    pub fn close(&mut self) -> Result<(), SandboxError> {
        let result = self.compact();
        self.persister = None;
        result
    }
}

/// The name as [`Store::named`] matches it (ASCII case folded, as the
/// uniqueness checks compare names).
fn lowercase_name(v: &Value) -> String {
    v.get("name").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase()
}

/// Listing order: the name, lowercased (ties broken by id).
fn name_key(v: &Value) -> String {
    v.get("name").and_then(Value::as_str).unwrap_or_default().to_lowercase()
}

fn journal_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".journal");
    path.with_file_name(name)
}

fn replay(org: &mut Org, journal: &Path) -> Result<(), SandboxError> {
    let text = fs_err::read_to_string(journal)?;
    let lines: Vec<&str> = text.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        let entry: JournalEntry = match serde_json::from_str(line) {
            Ok(entry) => entry,
            // A torn final line is a write cut short by a kill: drop it.
            Err(_) if index + 1 == lines.len() && !text.ends_with('\n') => break,
            Err(source) => {
                return Err(SandboxError::CorruptJournal {
                    path: journal.to_path_buf(),
                    line: index + 1,
                    source,
                });
            }
        };
        let coll = org.collection_mut(entry.kind);
        if entry.value.is_null() {
            coll.remove(&entry.id);
        } else {
            coll.insert(entry.id, entry.value);
        }
    }
    Ok(())
}

/// Take the exclusive lock of the state file `path` (`FILE.lock`, holding
/// the owner's process id), or say who holds it. One writer per state file:
/// `--sandbox` runs and `sandbox serve --state` on the same file refuse each
/// other instead of losing writes.
fn lock_state(path: &Path) -> Result<fs_err::File, SandboxError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let file = crate::private::append(&lock_path)?;
    // Through fs4's trait (flock): `File::try_lock` of std needs Rust 1.89.
    match fs4::FileExt::try_lock(file.file()) {
        Ok(()) => {
            // Record who holds it, for the message another process shows.
            let _ = file.file().set_len(0);
            let _ = (&mut file.file()).write_all(format!("{}\n", std::process::id()).as_bytes());
            Ok(file)
        }
        Err(fs4::TryLockError::WouldBlock) => {
            let pid = fs_err::read_to_string(&lock_path).unwrap_or_default();
            let pid = pid.trim();
            let holder = if pid.is_empty() { String::new() } else { format!(" (pid {pid})") };
            Err(SandboxError::Locked { path: path.to_path_buf(), holder })
        }
        Err(fs4::TryLockError::Error(err)) => Err(SandboxError::Io(err)),
    }
}

/// Write `org` to `path` via a temporary file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, org: &Org) -> Result<(), SandboxError> {
    let bytes = serde_json::to_vec_pretty(org).map_err(SandboxError::Serialize)?;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(name);
    // The state holds the sandbox admin client's secret: mode 0600.
    crate::private::write_atomic(path, &tmp, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The name index follows every write made after it was built: creates,
    /// renames and removes, names compared ignoring ASCII case.
    #[test]
    fn names_are_found_after_creates_renames_and_removes() {
        let mut store = Store::new(Org::new(), Duration::ZERO);
        store.insert(Kind::Queues, "q1", json!({"id": "q1", "name": "Support"}));
        let ids = |store: &Store, name: &str| -> Vec<String> {
            store
                .named(Kind::Queues, name)
                .iter()
                .map(|v| v["id"].as_str().unwrap().into())
                .collect()
        };
        assert_eq!(ids(&store, "SUPPORT"), ["q1"], "built on first use");
        store.insert(Kind::Queues, "q2", json!({"id": "q2", "name": "support"}));
        assert_eq!(ids(&store, "Support"), ["q1", "q2"]);
        store.put(Kind::Queues, "q1", json!({"id": "q1", "name": "Sales"}));
        assert_eq!(ids(&store, "support"), ["q2"], "a rename leaves the old name");
        assert_eq!(ids(&store, "sales"), ["q1"]);
        store.remove(Kind::Queues, "q2");
        assert!(ids(&store, "support").is_empty());
        assert!(store.named(Kind::Flows, "Support").is_empty(), "other kinds apart");
    }

    /// A page in id or name order, both ways, touches only its own objects
    /// and agrees with the whole listing; the name order follows writes.
    #[test]
    fn pages_in_every_order_match_the_whole_listing() {
        let mut store = Store::new(Org::new(), Duration::ZERO);
        for (id, name) in
            [("a", "delta"), ("b", "Alpha"), ("c", "charlie"), ("d", "alpha"), ("e", "Bravo")]
        {
            store.insert(Kind::Flows, id, json!({"id": id, "name": name}));
        }
        let ids = |values: &[&Value]| -> Vec<String> {
            values.iter().map(|v| v["id"].as_str().unwrap().into()).collect()
        };
        let page = |store: &Store, by_name, desc, window| {
            let (total, values) = store.window(Kind::Flows, by_name, desc, window).unwrap();
            (total, ids(&values))
        };
        assert_eq!(page(&store, false, false, (1, 2)), (5, vec!["b".into(), "c".into()]));
        assert_eq!(page(&store, false, true, (0, 2)), (5, vec!["e".into(), "d".into()]));
        // Equal names ignoring case stay in id order.
        assert_eq!(
            page(&store, true, false, (0, 3)),
            (5, vec!["b".into(), "d".into(), "e".into()])
        );
        assert_eq!(page(&store, true, true, (3, 10)), (5, vec!["d".into(), "b".into()]));
        assert_eq!(page(&store, true, false, (5, 2)), (5, vec![]), "past the end: empty");
        let whole: Vec<&Value> = store.list_by_name(Kind::Flows).collect();
        assert_eq!(ids(&whole), ["b", "d", "e", "c", "a"]);
        store.put(Kind::Flows, "a", json!({"id": "a", "name": "Aardvark"}));
        store.remove(Kind::Flows, "e");
        assert_eq!(page(&store, true, false, (0, 2)), (4, vec!["a".into(), "b".into()]));
        let whole: Vec<&Value> = store.list_by_name(Kind::Flows).collect();
        assert_eq!(ids(&whole), ["a", "b", "d", "c"]);
    }
}
