//! Reading the live org cheaply: each needed kind with its list endpoint at
//! the largest page size it accepts (pages after the first fetched
//! concurrently by the client), plus reference lookups made once per run.
//! No per-object GETs: list entities are full objects for every kind we
//! manage, and names embedded in references (`division`, `queueFlow`,
//! recipient `flow`) fill the lookups without extra calls.
//!
//! What is read depends on what is declared: a kind is listed when it is
//! declared, inside a prune scope, or the target of a declared reference
//! (queues naming integrations, integrations naming supported content
//! profiles, OAuth clients naming roles). Lookups (divisions, messaging
//! settings, recipients, flows, groups) are made only when a declared field
//! needs them. Only declared fields are compared, so the live side of an
//! undeclared reference never needs naming.
//!
//! Users are found by email: every declared email at once, through the
//! users search API in batches ([`USER_BATCH`] emails a request). Then, as
//! soon as a kind's list is in (and the other reads but the lists are: the
//! users), the sub-resources a declared object's fields need and its
//! list entity lacks ([`OrgKind::details_needed`]: a queue's members and
//! wrap-up codes, a flow's published YAML when its marker cannot tell) are
//! read for the live objects the declared ones match, and only for those,
//! without waiting for the other kinds' lists;
//! export asks for them for every object of the kinds it exports
//! ([`ReadScope::export`]). Details that another object's details already
//! hold (a deployment's latest configuration version, in its
//! configuration's) are made from those when the same read reads them
//! (`OrgKind::details_source`), not read twice.
//!
//! [`OrgKind::details_needed`]: crate::kinds::org::OrgKind::details_needed

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures::future::try_join_all;
use serde_json::Value;

use super::LiveOrg;
use super::early::Early;
use crate::api::{ApiError, Client, EntityKeys};
use crate::kinds::org::Lookups;
use crate::kinds::{Kind, LiveKind, RefTarget};
use crate::manifest::ManifestSet;

mod calls;
mod others;
use calls::{list, optional};
pub use calls::{list_kind, list_kind_expecting, read_org};
use others::{Needs, OtherReads};

/// A failed read, naming what was being read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} from the org")]
pub struct ReadError {
    pub what: String,
    #[source]
    pub source: ApiError,
}

/// What to read beyond the manifest set's needs.
#[derive(Debug, Clone, Default)]
pub struct ReadScope {
    /// Read every org kind (drift with `--include-unmanaged`, export).
    pub all_kinds: bool,
    /// Read who gcctl acts as, to check grants and permissions (plan, apply).
    pub caller: bool,
    /// Exporting these kinds: read the per-object details
    /// ([`OrgKind::details_needed`]) of every live object of those that
    /// need them to be exported ([`OrgKind::export_reads_details`]: a
    /// flow's published YAML), not only of declared ones.
    ///
    /// [`OrgKind::details_needed`]: crate::kinds::org::OrgKind::details_needed
    /// [`OrgKind::export_reads_details`]: crate::kinds::org::OrgKind::export_reads_details
    pub export: Option<Vec<Kind>>,
    /// With `export`: the details export reads only on request too
    /// (`export --queue-members`).
    pub details_of_all: bool,
    /// With `export`: the details are read of the objects whose name this
    /// glob matches only (`export --name-glob`), the ones exported.
    pub export_glob: Option<String>,
    /// Decode of each listed object only what planning the declared fields
    /// needs, for the kinds that say what that is
    /// ([`ApiPaths::listed_keys`]): for a plan whose live objects are not
    /// fingerprinted (no saved plan, no JSON output), which compares the
    /// declared fields only. A plan of 10,000 configured queues then peaks
    /// at half the memory (228 -> 110 MiB) and uses 0.23 s of CPU, not 0.41.
    ///
    /// [`ApiPaths::listed_keys`]: crate::kinds::org::ApiPaths::listed_keys
    pub lean: bool,
    /// Deleting the declared objects (`destroy`): the org default of each
    /// declared kind that has one is read, so that the destroy keeps it.
    pub destroy: bool,
}

const DIVISIONS: &str = "/api/v2/authorization/divisions";
const RECIPIENTS: &str = "/api/v2/routing/message/recipients";
const FLOWS: &str = "/api/v2/flows";
const USER_SEARCH: &str = "/api/v2/users/search";
/// Emails per users search request. The search's largest page size is
/// UNVERIFIED (100 is asked for); 50 emails leave room for users that share
/// an email (an active and a deleted one).
pub const USER_BATCH: usize = 50;

/// Reads started before the manifest set was loaded: `gcctl plan` starts
/// listing the kinds its files appear to declare
/// ([`crate::manifest::declared_hint`]) as soon as it has a token, while the
/// set is parsed on every core, with the division list when the files seem
/// to name a division, and the caller's identity and org (which a plan
/// always reads); [`read_with`] takes what it needs from here instead of
/// starting it. What the loaded set does not need (the hint was wrong: a
/// kind only in a document with errors, a `division:` key inside a block
/// scalar) is aborted when this is dropped; its requests were wasted.
#[derive(Default)]
pub struct Prefetched {
    /// Each list, with the keys of its objects it decodes (`None`: all).
    lists: crate::FastMap<Kind, (Task<Vec<Value>>, Option<EntityKeys>)>,
    divisions: Option<Task<Vec<Value>>>,
    caller: Option<Task<CallerAndOrg>>,
    /// When the first read started; `None` when none did.
    started: Option<std::time::Instant>,
}

/// The caller and the org, as [`read_with`] reads them with
/// [`ReadScope::caller`].
type CallerAndOrg = (Option<super::caller::Caller>, Option<super::OrgIdentity>);

/// A read running in a task of its own, aborted when dropped.
struct Task<T>(tokio::task::JoinHandle<Result<T, ReadError>>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T: Send + 'static> Task<T> {
    fn spawn(read: impl Future<Output = Result<T, ReadError>> + Send + 'static) -> Self {
        Task(tokio::spawn(read))
    }
}

/// The answer of `task` if there is one, else of `read` (run now).
async fn take<T>(
    task: Option<Task<T>>,
    read: impl Future<Output = Result<T, ReadError>>,
) -> Result<T, ReadError> {
    if let Some(mut task) = task {
        match (&mut task.0).await {
            Ok(answer) => return answer,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // Cancelled (the runtime is shutting down): as if never started.
            Err(_) => {}
        }
    }
    read.await
}

impl Prefetched {
    /// Start, each in a task of its own on the current runtime: the list of
    /// each listed org kind of `hint`, the division list if the hint names
    /// a division, and with `caller` the caller's identity and org.
    ///
    /// A list asks at once for the pages that the objects the files declare
    /// of its kind fill ([`list_kind_expecting`]): an org usually holds
    /// what its manifests declare, and the list then takes one round trip,
    /// not two (page 1 for the page count, then the others). When the org
    /// holds fewer (a first apply into an empty org), the pages beyond come
    /// back empty: at most the declared objects' pages minus one, wasted.
    ///
    /// With `early`, each page is handed to it as it arrives. With `lean`
    /// ([`ReadScope::lean`]), a list decodes the keys of its objects that
    /// the fields the files appear to declare need; [`read_with`] lists
    /// again, all the same, a kind whose loaded manifests declare more.
    pub fn start(
        client: &Client,
        hint: &crate::manifest::DeclaredHint,
        caller: bool,
        early: Option<&Arc<Early>>,
        lean: bool,
    ) -> Self {
        let mut lists = crate::FastMap::default();
        for (&kind, &declared) in &hint.kinds {
            let Some(kind) = LiveKind::new(kind).filter(|k| k.org().api().listed) else {
                continue;
            };
            let keys = if lean { hint_keys(hint, kind) } else { None };
            let client = client.clone();
            let early = early.cloned();
            let decoded = keys.clone();
            let list = async move {
                let sink = early.as_ref().map(|early| early.sink(kind.kind()));
                let sink = sink.as_ref().map(|s| s as &dyn crate::api::PageSink);
                let how = crate::api::Pages { keys: decoded.as_ref(), sink };
                list_kind_expecting(&client, kind, declared, how).await
            };
            lists.insert(kind.kind(), (Task::spawn(list), keys));
        }
        let divisions = hint.names_divisions.then(|| {
            let client = client.clone();
            Task::spawn(async move { list(&client, DIVISIONS, Some(100), "divisions").await })
        });
        let caller = caller.then(|| {
            let client = client.clone();
            Task::spawn(async move { read_caller(&client).await })
        });
        let any = !lists.is_empty() || divisions.is_some() || caller.is_some();
        Prefetched { lists, divisions, caller, started: any.then(std::time::Instant::now) }
    }

    /// When reading the org began: the first read's start, if any started.
    pub fn started(&self) -> Option<std::time::Instant> {
        self.started
    }
}

/// The keys a lean read decodes of `kind`'s listed objects for `set`: the
/// kind's own ([`ApiPaths::listed_keys`]) and the top-level spec fields
/// its manifests declare. `None`: every key.
///
/// [`ApiPaths::listed_keys`]: crate::kinds::org::ApiPaths::listed_keys
fn read_keys(set: &ManifestSet, kind: LiveKind) -> Option<EntityKeys> {
    let declared = set.of_kind(kind.kind()).filter_map(|object| object.doc.get("spec"));
    let declared = declared
        .flat_map(crate::manifest::yaml::Node::keys)
        .map(crate::manifest::yaml::Text::as_str);
    kind.org().api().entity_keys(declared)
}

/// [`read_keys`] as the files appear to declare them
/// ([`crate::manifest::DeclaredHint::spec_keys`]); `None` (every key) when
/// the hint cannot tell.
fn hint_keys(hint: &crate::manifest::DeclaredHint, kind: LiveKind) -> Option<EntityKeys> {
    let declared = hint.spec_keys(kind.kind())?;
    kind.org().api().entity_keys(declared)
}

/// Whether a list that decoded `decoded` of each object serves a reader
/// that needs `needed` (`None`: every key).
fn serves(decoded: Option<EntityKeys>, needed: Option<&EntityKeys>) -> bool {
    match (decoded, needed) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(decoded), Some(needed)) => decoded.covers(needed),
    }
}

/// The caller's identity and the org, at once.
async fn read_caller(client: &Client) -> Result<CallerAndOrg, ReadError> {
    futures::try_join!(super::caller::read(client), read_org(client))
}

/// Read what planning `set` needs.
pub async fn read(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
) -> Result<LiveOrg, ReadError> {
    read_with(client, set, scope, Prefetched::default()).await
}

/// [`read`], taking the lists `prefetched` holds from there.
pub async fn read_with(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    prefetched: Prefetched,
) -> Result<LiveOrg, ReadError> {
    read_comparing(client, set, scope, prefetched, None).await
}

/// [`read_with`], handing `early` every page and telling it what else it
/// needs to compare the last list's objects as they arrive (see [`Early`]).
pub async fn read_comparing(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    prefetched: Prefetched,
    early: Option<&Early>,
) -> Result<LiveOrg, ReadError> {
    read_inner(client, set, scope, prefetched, early, None).await
}

/// Work on the listed objects (every listed kind's, before their details
/// are added and before the kinds derived from the lookups are made) that
/// needs no lookup: run on a core of its own while the lists' names are
/// recorded as lookups, the last step on one core before the read ends
/// (one after the other for a read of fewer than `parallel::JOIN_FROM`
/// objects, where a thread costs more than it saves).
pub type ListedJob<'a> = &'a mut (dyn FnMut(&BTreeMap<Kind, Vec<Value>>) + Send);

/// [`read`], running `beside` on the listed objects while their names are
/// recorded (`gcctl export` selects the objects and names their manifests
/// there).
pub async fn read_beside(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    beside: ListedJob<'_>,
) -> Result<LiveOrg, ReadError> {
    read_inner(client, set, scope, Prefetched::default(), None, Some(beside)).await
}

async fn read_inner(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    mut prefetched: Prefetched,
    early: Option<&Early>,
    beside: Option<ListedJob<'_>>,
) -> Result<LiveOrg, ReadError> {
    let (kinds, derived): (Vec<LiveKind>, Vec<LiveKind>) =
        kinds_to_read(set, scope).into_iter().partition(|k| k.org().api().listed);
    if let Some(early) = early {
        early.expect(kinds.iter().map(|k| k.kind()), candidate(set, &kinds));
    }
    let needs = Needs::of(set, scope);
    // Each kind's details are read as soon as its list is in and the other
    // reads have found what they need (`base`, below), not after every list:
    // a flow's export job need not wait for the second page of the queues.
    let (bases, base_receivers): (Vec<_>, Vec<_>) =
        kinds.iter().map(|_| futures::channel::oneshot::channel::<Arc<Lookups>>()).unzip();
    let lists = try_join_all(kinds.iter().zip(base_receivers).map(|(kind, base)| {
        let kind = *kind;
        let list = list_for(client, set, scope, kind, prefetched.lists.remove(&kind.kind()), early);
        read_kind(client, set, scope, kind, list, base, early)
    }));
    let prefetched_divisions = prefetched.divisions.take();
    let prefetched_caller = prefetched.caller.take();
    // What the set does not need is not waited for.
    drop(prefetched);
    // Boxed, as `others`: each adds its state to this future, which callers
    // hold across awaits.
    let caller = Box::pin(optional(scope.caller, take(prefetched_caller, read_caller(client))));
    // Everything but the kinds' lists, made into the lookups those lists
    // then add to, and handed to the kinds' details reads.
    // Not the caller: it names nothing the lookups hold, and the lists'
    // details and early comparisons need not wait for it.
    let others = Box::pin(async {
        let found = OtherReads::read(client, &needs, prefetched_divisions).await?;
        let lookups = Arc::new(found.lookups(client, &needs));
        // Before any kind is told its list is complete (they wait for `base`).
        if let Some(early) = early {
            early.others(&lookups);
        }
        for base in bases {
            // A kind that reads no details has dropped its receiver.
            let _ = base.send(Arc::clone(&lookups));
        }
        Ok(lookups)
    });
    let (lookups, caller, lists) = futures::try_join!(others, caller, lists)?;
    let (caller, org) = caller.unzip();
    let live = LiveOrg {
        caller: caller.flatten(),
        org: org.flatten(),
        // The kinds' reads are over: no other holder is left.
        lookups: Arc::try_unwrap(lookups).unwrap_or_else(|shared| (*shared).clone()),
        ..LiveOrg::default()
    };
    let (mut live, read_early) = assemble(live, set, &kinds, &derived, lists, beside);
    read_details(client, set, scope, &mut live, &read_early).await?;
    Ok(live)
}

/// `kind`'s list as `scope` reads it: the one started early when it decoded
/// enough of each object (dropped, so aborted, otherwise), else a new one.
fn list_for<'a>(
    client: &'a Client,
    set: &ManifestSet,
    scope: &ReadScope,
    kind: LiveKind,
    prefetched: Option<(Task<Vec<Value>>, Option<EntityKeys>)>,
    early: Option<&'a Early>,
) -> impl Future<Output = Result<Vec<Value>, ReadError>> + 'a {
    let keys = if scope.lean { read_keys(set, kind) } else { None };
    if let Some(keys) = &keys {
        tracing::debug!(kind = %kind, keys = ?keys, "listing decodes only these keys of each object");
    }
    let prefetched = prefetched.and_then(|(task, decoded)| {
        // A page the dropped list handed `early` was counted there, so the
        // kind's early comparison is not taken (`Speculation::usable`); none
        // was compared: comparing starts after the other reads, which start
        // after this.
        let serves = serves(decoded, keys.as_ref());
        if !serves {
            tracing::debug!(kind = %kind, "listing again: the list started early decodes fewer keys than the manifests declare");
        }
        serves.then_some(task)
    });
    let list = async move {
        let sink = early.map(|early| early.sink(kind.kind()));
        let sink = sink.as_ref().map(|s| s as &dyn crate::api::PageSink);
        list_kind_expecting(client, kind, 0, crate::api::Pages { keys: keys.as_ref(), sink }).await
    };
    take(prefetched, list)
}

/// The org as the kinds' lists and the other reads found it: each listed
/// kind's objects with the details read as its list came in (their
/// `(kind, index)`, returned, are not read again), the lists' names
/// recorded as lookups (beside `beside`, when given), and the kinds made
/// from the lookups ([`OrgKind::live_from_lookups`]).
///
/// [`OrgKind::live_from_lookups`]: crate::kinds::org::OrgKind::live_from_lookups
fn assemble(
    mut live: LiveOrg,
    set: &ManifestSet,
    kinds: &[LiveKind],
    derived: &[LiveKind],
    lists: Vec<ListedKind>,
    beside: Option<ListedJob<'_>>,
) -> (LiveOrg, BTreeSet<(Kind, usize)>) {
    let mut details_read = Vec::with_capacity(kinds.len());
    for (kind, (objects, details)) in kinds.iter().zip(lists) {
        live.objects.insert(kind.kind(), objects);
        details_read.push(details);
    }
    let LiveOrg { objects, lookups, .. } = &mut live;
    let objects = &*objects;
    match beside {
        Some(beside) => {
            use crate::manifest::parallel::{JOIN_FROM, join};
            let large = objects.values().map(Vec::len).sum::<usize>() >= JOIN_FROM;
            let record = || record_lists(lookups, kinds, objects);
            join(large, || beside(objects), record);
        }
        None => record_lists(lookups, kinds, objects),
    }
    let mut read_early: BTreeSet<(Kind, usize)> = BTreeSet::new();
    for (kind, details) in kinds.iter().zip(details_read) {
        for (index, extra) in details {
            add_details(&mut live, kind.kind(), index, extra);
            read_early.insert((kind.kind(), index));
        }
    }
    for kind in derived {
        let declared: Vec<&dyn crate::kinds::Spec> =
            set.objects.iter().filter(|o| o.kind == kind.kind()).map(|o| o.spec.as_ref()).collect();
        let objects = kind.org().live_from_lookups(&declared, &live.lookups);
        for object in &objects {
            live.lookups.insert_named(RefTarget::Kind(kind.kind()), object);
        }
        live.objects.insert(kind.kind(), objects);
    }
    (live, read_early)
}

/// Record the names of the `kinds` listed in `objects` as lookups, kind by
/// kind in that order ([`record_list`]).
fn record_lists(lookups: &mut Lookups, kinds: &[LiveKind], objects: &BTreeMap<Kind, Vec<Value>>) {
    for kind in kinds {
        if let Some(objects) = objects.get(&kind.kind()) {
            record_list(lookups, *kind, objects);
        }
    }
}

/// Record the names of `kind`'s complete list as lookups: the kind's own
/// names, then what its objects embed (`record_live` names other kinds'
/// objects, never its own: the order is the one object by object would
/// give).
pub(super) fn record_list(lookups: &mut Lookups, kind: LiveKind, objects: &[Value]) {
    lookups.insert_listed(RefTarget::Kind(kind.kind()), objects);
    for object in objects {
        kind.org().record_live(object, lookups);
    }
}

/// The kind whose pages wait to be compared early ([`Early`]): of the
/// listed kinds none of whose declared objects has details read after the
/// list (a list that waits would hold those reads back), the one with the
/// most declared objects; of two, the later one.
fn candidate(set: &ManifestSet, kinds: &[LiveKind]) -> Option<Kind> {
    let mut declared: crate::FastMap<Kind, (usize, bool)> = crate::FastMap::default();
    for object in &set.objects {
        let Some(kind) = LiveKind::new(object.kind) else { continue };
        let entry = declared.entry(object.kind).or_default();
        entry.0 += 1;
        entry.1 |= kind.org().details_needed(Some(object.spec.as_ref()));
    }
    kinds
        .iter()
        .map(|k| k.kind())
        .filter_map(|k| match declared.get(&k) {
            Some(&(count, false)) => Some((count, k)),
            _ => None,
        })
        .max()
        .map(|(_, kind)| kind)
}

/// One listed kind's objects, and the details of those whose details can
/// be read as soon as the list is in: every object [`wanted`] whose
/// details come from no other object's (`OrgKind::details_source`, read
/// once every kind's details are). They are read with `base`, the lookups
/// of every read but the kinds' lists (the users found by email): what
/// [`OrgKind::read_details`] is given.
///
/// [`OrgKind::read_details`]: crate::kinds::org::OrgKind::read_details
///
/// With `comparing`, the complete list is told to it ([`Early::listed`])
/// once `base` is in.
/// What [`read_kind`] returns: the kind's objects, and the details read
/// for some of them as soon as the list was in (by index).
type ListedKind = (Vec<Value>, Vec<(usize, serde_json::Map<String, Value>)>);

async fn read_kind(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    kind: LiveKind,
    list: impl Future<Output = Result<Vec<Value>, ReadError>>,
    base: futures::channel::oneshot::Receiver<Arc<Lookups>>,
    comparing: Option<&Early>,
) -> Result<ListedKind, ReadError> {
    let objects = list.await?;
    let early: Vec<(usize, Option<&dyn crate::kinds::Spec>)> = wanted(kind, &objects, set, scope)
        .into_iter()
        .filter(|(index, _)| kind.org().details_source(&objects[*index]).is_none())
        .collect();
    if early.is_empty() && comparing.is_none() {
        return Ok((objects, Vec::new()));
    }
    // Gone only when the other reads failed: their error ends the read.
    let Ok(lookups) = base.await else { return Ok((objects, Vec::new())) };
    if let Some(comparing) = comparing {
        comparing.listed(kind, &objects);
    }
    if early.is_empty() {
        return Ok((objects, Vec::new()));
    }
    let reads = early
        .iter()
        .map(|(index, spec)| kind.org().read_details(client, &objects[*index], *spec, &lookups));
    let details = try_join_all(reads).await?;
    drop(lookups);
    let read = early.into_iter().map(|(index, _)| index).zip(details).collect();
    Ok((objects, read))
}

/// The live objects of `kind` (`objects`, its live list) whose details to
/// read, by index, with the declared spec each matches: those that declared
/// objects needing details match, then, when exporting the kind, every
/// other one that is not built in.
fn wanted<'s>(
    kind: LiveKind,
    objects: &[Value],
    set: &'s ManifestSet,
    scope: &ReadScope,
) -> Vec<(usize, Option<&'s dyn crate::kinds::Spec>)> {
    let mut wanted: Vec<(usize, Option<&'s dyn crate::kinds::Spec>)> = Vec::new();
    for object in set.objects.iter().filter(|o| o.kind == kind.kind()) {
        if !kind.org().details_needed(Some(object.spec.as_ref())) {
            continue;
        }
        let name = object.org_name().unwrap_or(&object.name);
        let matched = |o: &Value| {
            o.get("name").and_then(Value::as_str) == Some(name)
                && kind.org().matches(object.spec.as_ref(), o)
        };
        for (index, _) in objects.iter().enumerate().filter(|(_, o)| matched(o)) {
            wanted.push((index, Some(object.spec.as_ref())));
        }
    }
    let exported = scope.export.as_ref().is_some_and(|exported| {
        exported.contains(&kind.kind())
            && kind.org().details_needed(None)
            && (scope.details_of_all || kind.org().export_reads_details())
    });
    if exported {
        for (index, object) in objects.iter().enumerate() {
            // Built-ins (system flows), and what no manifest can declare
            // (flows of other types), are never exported.
            if kind.org().is_kept(object) {
                continue;
            }
            let name = object.get("name").and_then(Value::as_str).unwrap_or_default();
            if scope
                .export_glob
                .as_deref()
                .is_some_and(|glob| !crate::kinds::project::glob_match(glob, name))
            {
                continue;
            }
            if !wanted.iter().any(|(i, _)| *i == index) {
                wanted.push((index, None));
            }
        }
    }
    wanted
}

/// Read the per-object details of the live objects that need them (see the
/// module docs) and add them to those objects, so that they take part in
/// comparisons and fingerprints; `read_early` are those [`read_kind`]
/// already read.
async fn read_details(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
    live: &mut LiveOrg,
    read_early: &BTreeSet<(Kind, usize)>,
) -> Result<(), ReadError> {
    let mut wanted: Vec<Wanted<'_>> = Vec::new();
    for kind in LiveKind::all() {
        let Some(objects) = live.objects.get(&kind.kind()) else { continue };
        for (index, spec) in self::wanted(kind, objects, set, scope) {
            wanted.push((kind, index, spec));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    // Details another wanted object's details hold are made from them once
    // those are read (`OrgKind::details_source`), not read twice.
    let (derived, read_now): (Vec<Wanted<'_>>, Vec<Wanted<'_>>) = {
        let objects = &live.objects;
        let id_of = |kind: LiveKind, index: usize| {
            objects[&kind.kind()][index].get("id").and_then(Value::as_str)
        };
        let read: BTreeSet<(Kind, &str)> =
            wanted.iter().filter_map(|(k, i, _)| Some((k.kind(), id_of(*k, *i)?))).collect();
        wanted.into_iter().partition(|(kind, index, _)| {
            let source = kind.org().details_source(&objects[&kind.kind()][*index]);
            source.is_some_and(|(k, id)| read.contains(&(k, id.as_str())))
        })
    };
    let read_now = read_now.into_iter().filter(|(k, i, _)| !read_early.contains(&(k.kind(), *i)));
    read_into(client, live, read_now.collect()).await?;
    let mut unread = Vec::new();
    let mut made = Vec::new();
    if !derived.is_empty() {
        let objects = &live.objects;
        let source_kinds: BTreeSet<Kind> = derived
            .iter()
            .filter_map(|(k, i, _)| k.org().details_source(&objects[&k.kind()][*i]))
            .map(|(kind, _)| kind)
            .collect();
        let sources: HashMap<(Kind, &str), &Value> = objects
            .iter()
            .filter(|(kind, _)| source_kinds.contains(kind))
            .flat_map(|(kind, list)| {
                list.iter().filter_map(move |o| Some(((*kind, o.get("id")?.as_str()?), o)))
            })
            .collect();
        for (kind, index, spec) in derived {
            let object = &objects[&kind.kind()][index];
            let source = kind
                .org()
                .details_source(object)
                .and_then(|(k, id)| sources.get(&(k, id.as_str())).copied());
            match source.and_then(|source| kind.org().details_from(object, source)) {
                Some(extra) => made.push((kind.kind(), index, extra)),
                None => unread.push((kind, index, spec)),
            }
        }
    }
    for (kind, index, extra) in made {
        add_details(live, kind, index, extra);
    }
    read_into(client, live, unread).await
}

/// An object whose details to read: its kind, its index in the kind's live
/// list, its declared spec if any.
type Wanted<'s> = (LiveKind, usize, Option<&'s dyn crate::kinds::Spec>);

/// Read the details of `wanted` (all at once) and add them to their objects.
async fn read_into(
    client: &Client,
    live: &mut LiveOrg,
    wanted: Vec<Wanted<'_>>,
) -> Result<(), ReadError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let objects = &live.objects;
    let lookups = &live.lookups;
    let reads = wanted.iter().map(|(kind, index, spec)| {
        let object = &objects[&kind.kind()][*index];
        kind.org().read_details(client, object, *spec, lookups)
    });
    let details = try_join_all(reads).await?;
    for ((kind, index, _), extra) in wanted.into_iter().zip(details) {
        add_details(live, kind.kind(), index, extra);
    }
    Ok(())
}

fn add_details(
    live: &mut LiveOrg,
    kind: Kind,
    index: usize,
    extra: serde_json::Map<String, Value>,
) {
    if let Some(Value::Object(map)) =
        live.objects.get_mut(&kind).and_then(|objects| objects.get_mut(index))
    {
        map.extend(extra);
    }
}

/// Org kinds to list: declared, pruned, or referenced by a declared object
/// (to check that the target exists and to name the live side of the
/// reference: a queue's recipient, an integration's profile, a client's
/// roles). A kind that is only referenced by undeclared fields is not read.
fn kinds_to_read(set: &ManifestSet, scope: &ReadScope) -> Vec<LiveKind> {
    let mut kinds: BTreeSet<LiveKind> = declared_or_pruned(set);
    if scope.all_kinds {
        kinds.extend(LiveKind::all());
    }
    for kind in scope.export.iter().flatten() {
        kinds.extend(LiveKind::new(*kind));
    }
    for target in export_targets(scope) {
        kinds.extend(target.declared_kind().and_then(LiveKind::new));
    }
    for reference in declared_references(set) {
        if let RefTarget::Kind(kind) = reference.target {
            kinds.extend(LiveKind::new(kind));
        }
    }
    kinds.into_iter().collect()
}

/// What the objects of the kinds an export reads refer to
/// ([`OrgKind::export_refers_to`]): a kind (a flow of a type: the flows) is
/// listed, and a division, recipient or group looked up, so that the export
/// can name them.
///
/// [`OrgKind::export_refers_to`]: crate::kinds::org::OrgKind::export_refers_to
fn export_targets(scope: &ReadScope) -> impl Iterator<Item = RefTarget> + '_ {
    let kinds = scope.export.iter().flatten().filter_map(|kind| LiveKind::new(*kind));
    kinds.flat_map(|kind| {
        let org = kind.org();
        let details = scope.details_of_all || org.export_reads_details();
        let of_details = if details { org.export_details_refer_to() } else { &[] };
        org.export_refers_to().iter().chain(of_details).copied()
    })
}

/// The org kinds the set declares or prunes.
fn declared_or_pruned(set: &ManifestSet) -> BTreeSet<LiveKind> {
    let declared = set.objects.iter().map(|o| o.kind);
    let pruned = set.project.prune.iter().map(|p| p.kind);
    declared.chain(pruned).filter_map(LiveKind::new).collect()
}

/// The references of every declared org object.
fn declared_references(set: &ManifestSet) -> impl Iterator<Item = &crate::kinds::Reference> + '_ {
    set.objects
        .iter()
        .filter(|o| o.kind.is_org_object())
        .flat_map(crate::manifest::Object::references)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_serves_a_reader_when_it_decoded_at_least_what_the_reader_needs() {
        let keys = |names: &[&str]| Some(EntityKeys::new(names.iter().copied()));
        // Decoded whole: serves anyone.
        assert!(serves(None, None));
        assert!(serves(None, keys(&["id"]).as_ref()));
        // Lean: not a reader of every key, nor one that needs a key it skipped.
        assert!(!serves(keys(&["id", "name"]), None));
        assert!(!serves(keys(&["id", "name"]), keys(&["id", "acwSettings"]).as_ref()));
        assert!(serves(
            keys(&["id", "name", "acwSettings"]),
            keys(&["id", "acwSettings"]).as_ref()
        ));
    }
}
