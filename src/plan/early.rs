//! Comparing declared objects with their live objects while the org is
//! still being read, so that when the last page of a large list lands, only
//! that page is left to compare (`gcctl plan`).
//!
//! [`Early`] is handed every page of every listed kind as it arrives
//! ([`Early::sink`]). Once
//! 1. the set is prepared ([`Early::prepared`]),
//! 2. every read but the kinds' lists is in ([`Early::others`]), and
//! 3. every listed kind but one, K, is complete ([`Early::listed`]),
//!
//! the lookups made so far are frozen, and each page of K is compared: each
//! live object with the declared object of its name, as the plan would
//! compare them. A page of K that arrives before then waits for it (only
//! that page's part of the listing waits: the other pages are in flight
//! already), then is compared on whichever core is free. Only one kind's
//! pages wait, the one with the most declared objects among those that
//! read no details after their list (a list that waits would hold those
//! reads back); the other kinds' pages pass uncompared, so no list waits
//! for another.
//!
//! Nothing compared early is trusted without proof. The plan takes an early
//! change ([`Speculation::usable`]) only when
//! - the final lookups agree with the frozen ones on every target the
//!   comparison read ([`reads_during`], [`Lookups::agree_on`]): the names of
//!   K itself, recorded after its list, or of an object a later list
//!   embeds, make it compare again;
//! - K's final list holds as many live objects as its pages did (no copy of
//!   an object that moved between pages was dropped);
//! - the declared object was compared once, and matches exactly the live
//!   object it was compared with.
//!
//! Anything else is compared again once the org is read, as without this
//! module. Declared objects whose live objects get details after the list
//! (queue members) are never compared early: the details change them.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::BoxFuture;
use serde_json::Value;

use super::build::{compare_early, early_candidates};
use super::problem::Problem;
use super::{Change, LiveOrg, Prepared};
use crate::FastMap;
use crate::kinds::org::{Lookups, reads_during};
use crate::kinds::{Kind, LiveKind};

/// What a plan compares while the org is read; shared by the read's tasks.
pub struct Early {
    inner: Mutex<Inner>,
    /// Bumped on every change a waiting page may be waiting for.
    changed: tokio::sync::watch::Sender<u64>,
}

impl Default for Early {
    fn default() -> Self {
        Early { inner: Mutex::default(), changed: tokio::sync::watch::Sender::new(0) }
    }
}

/// [`Early`]'s [`PageSink`](crate::api::PageSink) for one kind's list.
pub struct Sink<'a> {
    early: &'a Early,
    kind: Kind,
}

impl crate::api::PageSink for Sink<'_> {
    fn page(&self, entities: Vec<Value>) -> BoxFuture<'_, Vec<Value>> {
        Box::pin(self.early.page(self.kind, entities))
    }
}

/// What a page of a kind does now.
enum Turn {
    Compare(Arc<Comparer>),
    Wait,
    Pass,
}

#[derive(Default)]
struct Inner {
    prepared: Option<Arc<Prepared<'static>>>,
    /// The lookups of the other reads, then of each kind whose list is
    /// complete, in the order they complete; `None` until the other reads
    /// are in, and again once frozen into the comparer.
    lookups: Option<Lookups>,
    /// The listed kinds whose lists are not complete; `None` until the read
    /// says which it lists.
    pending: Option<BTreeSet<Kind>>,
    /// The one kind whose pages may wait: the one with the most declared
    /// objects (so, likely, the longest list) and no details to read after
    /// its list. Pages of two kinds waiting for each other's lists would
    /// wait forever.
    candidate: Option<Kind>,
    comparer: Option<Arc<Comparer>>,
    /// The live objects handed, by kind.
    seen: FastMap<Kind, usize>,
    compared: Vec<Compared>,
    /// The plan took what was compared, or the set will not be prepared
    /// ([`Early::abandon`]): pages pass, none waits.
    finished: bool,
}

/// The last kind's comparer: the lookups it compares with, frozen.
struct Comparer {
    kind: LiveKind,
    lookups: Arc<Lookups>,
    prepared: Arc<Prepared<'static>>,
    /// The declared objects of the kind that may be compared, by org name.
    by_name: FastMap<&'static str, usize>,
}

/// A declared object compared early with one live object.
pub struct Compared {
    /// The declared object's position in the prepared set.
    pub(super) index: usize,
    /// The live object's id.
    pub(super) id: String,
    /// The lookup targets the comparison read ([`reads_during`]).
    reads: u64,
    /// Boxed: the plan moves many of these.
    pub(super) change: Box<Result<Change, Vec<Problem>>>,
}

/// What was compared early, for the plan to check and take
/// ([`Speculation::usable`]).
pub struct Speculation {
    kind: Kind,
    lookups: Arc<Lookups>,
    /// The live objects of `kind` its pages held.
    seen: usize,
    compared: Vec<Compared>,
}

impl std::fmt::Debug for Early {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Early").finish_non_exhaustive()
    }
}

impl Early {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A comparison that panicked left nothing half-made in the state.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wake the waiting pages: something they wait for changed.
    fn wake(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The sink for `kind`'s list.
    pub fn sink(&self, kind: Kind) -> Sink<'_> {
        Sink { early: self, kind }
    }

    /// A page of `kind`'s list arrived: compare it once a comparer for the
    /// kind is there, waiting for one while the kind may still get it.
    async fn page(&self, kind: Kind, page: Vec<Value>) -> Vec<Value> {
        let Some(live_kind) = LiveKind::new(kind) else { return page };
        // Subscribed before the state is read: no change is missed.
        let mut changed = self.changed.subscribe();
        {
            let live = page.iter().filter(|o| live_kind.org().is_live(o)).count();
            *self.lock().seen.entry(kind).or_default() += live;
        }
        loop {
            match self.turn(kind) {
                Turn::Compare(comparer) => {
                    // A task of its own: the pages of one list arrive in one
                    // task, and are compared on every core.
                    let page = Arc::new(page);
                    let shared = Arc::clone(&page);
                    let task = tokio::task::spawn(async move { comparer.compare(&shared) });
                    match task.await {
                        Ok(results) => self.lock().compared.extend(results),
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        // Cancelled (the runtime is shutting down): not compared.
                        Err(_) => {}
                    }
                    // The task let go of its share when it ended.
                    return Arc::try_unwrap(page).unwrap_or_else(|page| page.as_ref().clone());
                }
                Turn::Pass => return page,
                Turn::Wait => {
                    if changed.changed().await.is_err() {
                        return page;
                    }
                }
            }
        }
    }

    fn turn(&self, kind: Kind) -> Turn {
        let inner = self.lock();
        if inner.finished {
            return Turn::Pass;
        }
        if let Some(comparer) = &inner.comparer {
            if comparer.kind.kind() == kind {
                return Turn::Compare(Arc::clone(comparer));
            }
            return Turn::Pass;
        }
        match &inner.pending {
            // The read has not said what it lists yet.
            None => Turn::Wait,
            // The candidate waits for the other lists (whose pages never
            // wait), the other reads and the set (which never wait for a
            // list).
            Some(pending) if pending.contains(&kind) && inner.candidate == Some(kind) => Turn::Wait,
            Some(_) => Turn::Pass,
        }
    }

    /// The set is prepared.
    pub fn prepared(&self, prepared: Arc<Prepared<'static>>) {
        self.lock().prepared = Some(prepared);
        self.install();
    }

    /// The set will not be prepared (its preparation panicked): no page
    /// waits for it.
    fn abandon(&self) {
        self.lock().finished = true;
        self.wake();
    }

    /// The read lists these kinds; the pages of `candidate` wait to be
    /// compared, the others' do not (they are compared if a comparer for
    /// their kind is there when they arrive).
    pub fn expect(&self, kinds: impl IntoIterator<Item = Kind>, candidate: Option<Kind>) {
        {
            let mut inner = self.lock();
            inner.pending = Some(kinds.into_iter().collect());
            inner.candidate = candidate;
        }
        self.install();
    }

    /// The reads other than the kinds' lists made `lookups`.
    pub fn others(&self, lookups: &Lookups) {
        self.lock().lookups = Some(lookups.clone());
        self.install();
    }

    /// `kind`'s list is complete: `objects`. Called after [`Early::others`].
    pub fn listed(&self, kind: LiveKind, objects: &[Value]) {
        {
            let mut inner = self.lock();
            if let Some(pending) = inner.pending.as_mut() {
                pending.remove(&kind.kind());
            }
            if inner.comparer.is_none()
                && let Some(lookups) = inner.lookups.as_mut()
            {
                // As the read records a list.
                super::read::record_list(lookups, kind, objects);
            }
        }
        self.install();
    }

    /// Start comparing the one kind left once everything else is in; wake
    /// the waiting pages either way (what they wait for may have changed).
    fn install(&self) {
        {
            let mut inner = self.lock();
            let ready = inner.comparer.is_none() && !inner.finished && inner.lookups.is_some();
            let mut pending = inner.pending.iter().flatten();
            let last = match (pending.next(), pending.next()) {
                (Some(&kind), None) => LiveKind::new(kind),
                _ => None,
            };
            if let (true, Some(kind), Some(prepared)) = (ready, last, inner.prepared.clone())
                && let Some(lookups) = inner.lookups.take()
            {
                let by_name = early_candidates(&prepared, kind);
                let lookups = Arc::new(lookups);
                inner.comparer = Some(Arc::new(Comparer { kind, lookups, prepared, by_name }));
            }
        }
        self.wake();
    }

    /// What was compared, once the org is read; `None` when nothing was.
    /// Pages handed later (of a list the read did not need) are passed.
    pub fn finish(&self) -> Option<Speculation> {
        let speculation = {
            let mut inner = self.lock();
            inner.finished = true;
            inner.prepared = None;
            let comparer = inner.comparer.take();
            comparer.map(|comparer| {
                let kind = comparer.kind.kind();
                Speculation {
                    kind,
                    lookups: Arc::clone(&comparer.lookups),
                    seen: inner.seen.get(&kind).copied().unwrap_or(0),
                    compared: std::mem::take(&mut inner.compared),
                }
            })
        };
        self.wake();
        speculation
    }
}

/// Prepare `set` on a thread of its own in `threads` (the org is read
/// meanwhile), handing the prepared set to `early` as soon as it is made.
/// The set is `'static`: the pages' tasks compare with it (commands leak
/// the set they load, their process ending soon).
pub fn prepare_beside<'scope>(
    threads: &'scope std::thread::Scope<'scope, '_>,
    set: &'static crate::manifest::ManifestSet,
    early: &'scope Early,
) -> crate::manifest::parallel::Beside<'scope, Arc<Prepared<'static>>> {
    /// Abandons comparing early when dropped by a panic while preparing:
    /// no page waits for a set that will not come.
    struct Abandon<'a>(&'a Early);
    impl Drop for Abandon<'_> {
        fn drop(&mut self) {
            self.0.abandon();
        }
    }
    crate::manifest::parallel::beside(threads, move || {
        let abandon = Abandon(early);
        let prepared = Arc::new(Prepared::new(set));
        early.prepared(Arc::clone(&prepared));
        std::mem::forget(abandon);
        prepared
    })
}

impl Comparer {
    fn compare(&self, page: &[Value]) -> Vec<Compared> {
        let org = self.kind.org();
        let mut compared = Vec::new();
        for live in page.iter().filter(|o| org.is_live(o)) {
            let name = live.get("name").and_then(Value::as_str);
            let Some(&index) = name.and_then(|name| self.by_name.get(name)) else { continue };
            let Some(id) = live.get("id").and_then(Value::as_str) else { continue };
            let (change, reads) =
                reads_during(|| compare_early(&self.prepared, index, live, &self.lookups));
            if let Some(change) = change {
                let change = Box::new(change);
                compared.push(Compared { index, id: id.to_string(), reads, change });
            }
        }
        compared
    }
}

impl Speculation {
    /// The early change of each of the `declared` prepared objects, by
    /// position, where it still holds for the org as read (`live`): see the
    /// module docs. The plan takes one only if its object matches exactly
    /// the live object it was compared with.
    pub fn usable(self, live: &LiveOrg, declared: usize) -> Vec<Option<Compared>> {
        let mut usable: Vec<Option<Compared>> = (0..declared).map(|_| None).collect();
        let listed = live.objects.get(&self.kind).map_or(0, Vec::len);
        if listed != self.seen {
            tracing::debug!(kind = %self.kind, listed, seen = self.seen, "a list lost copies: compared again");
            return usable;
        }
        let mut times = vec![0u32; declared];
        for compared in &self.compared {
            if let Some(n) = times.get_mut(compared.index) {
                *n += 1;
            }
        }
        let mut agree: FastMap<u64, bool> = FastMap::default();
        let (kind, compared) = (self.kind, self.compared.len());
        for compared in self.compared {
            if times.get(compared.index) != Some(&1) {
                continue;
            }
            let agrees = *agree
                .entry(compared.reads)
                .or_insert_with(|| live.lookups.agree_on(&self.lookups, compared.reads));
            if agrees && let Some(slot) = usable.get_mut(compared.index) {
                *slot = Some(compared);
            }
        }
        let taken = usable.iter().flatten().count();
        tracing::debug!(%kind, compared, taken, "objects compared while the org was read");
        usable
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::kinds::RefTarget;
    use crate::plan::Action;

    /// Any kind that lives in the org: nothing here depends on which.
    fn kind() -> LiveKind {
        LiveKind::all().next().expect("a live kind")
    }

    fn change(id: &str) -> Box<Result<Change, Vec<Problem>>> {
        Box::new(Ok(Change {
            kind: kind(),
            manifest_name: Some(id.into()),
            org_name: id.into(),
            id: Some(id.into()),
            action: Action::NoOp,
            prune: false,
            fields: Vec::new(),
            depends_on: Vec::new(),
            late_depends_on: Vec::new(),
            live_fingerprint: None,
            notes: Vec::new(),
        }))
    }

    fn compared(index: usize, id: &str, reads: u64) -> Compared {
        Compared { index, id: id.into(), reads, change: change(id) }
    }

    /// The org as read: three objects of the kind, and a division named `Home`.
    fn live() -> LiveOrg {
        let mut live = LiveOrg::default();
        live.lookups.insert(RefTarget::Division, "d1", "Home");
        let queues = ["q0", "q1", "q2"].map(|id| json!({"id": id, "name": id})).to_vec();
        live.objects.insert(kind().kind(), queues);
        live
    }

    fn speculation(lookups: Lookups, seen: usize, compared: Vec<Compared>) -> Speculation {
        Speculation { kind: kind().kind(), lookups: Arc::new(lookups), seen, compared }
    }

    fn taken(usable: &[Option<Compared>]) -> Vec<Option<&str>> {
        usable.iter().map(|c| c.as_ref().map(|c| c.id.as_str())).collect()
    }

    const DIVISION: fn() -> u64 = || crate::kinds::org::target_bit(RefTarget::Division);

    #[test]
    fn changes_compared_with_the_lookups_of_the_end_are_taken() {
        let live = live();
        let early = speculation(
            live.lookups.clone(),
            3,
            vec![compared(0, "q0", DIVISION()), compared(2, "q2", 0)],
        );
        let usable = early.usable(&live, 3);
        assert_eq!(taken(&usable), [Some("q0"), None, Some("q2")]);
    }

    #[test]
    fn a_change_that_read_a_name_the_end_differs_on_is_not_taken() {
        let live = live();
        let mut frozen = Lookups::default();
        frozen.insert(RefTarget::Division, "d1", "Old name");
        let early =
            speculation(frozen, 3, vec![compared(0, "q0", DIVISION()), compared(1, "q1", 0)]);
        assert_eq!(taken(&early.usable(&live, 3)), [None, Some("q1"), None]);
    }

    #[test]
    fn nothing_is_taken_from_a_list_that_lost_a_copy_of_an_object() {
        let live = live();
        // Four live objects were handed; the list holds three.
        let early = speculation(live.lookups.clone(), 4, vec![compared(0, "q0", 0)]);
        assert_eq!(taken(&early.usable(&live, 3)), [None, None, None]);
    }

    #[test]
    fn an_object_compared_twice_is_compared_again() {
        let live = live();
        let twice = vec![compared(1, "q1", 0), compared(1, "q1", 0), compared(0, "q0", 0)];
        let early = speculation(live.lookups.clone(), 3, twice);
        assert_eq!(taken(&early.usable(&live, 3)), [Some("q0"), None, None]);
    }
}
