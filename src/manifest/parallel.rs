//! Large sets on every core: files are parsed, documents typed, declared
//! objects compared and exported objects built side by side, in contiguous
//! chunks, with results in input order (so that everything after stays
//! deterministic).
//!
//! Every thread here is started through [`beside`], which runs the work on
//! the calling thread when the system refuses a thread (a process or memory
//! limit): slower, never a panic or a lost result.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::{Builder, Scope, ScopedJoinHandle};

/// Below this many items one thread does the work: starting threads would
/// cost more than it saves.
const PARALLEL_FROM: usize = 64;

/// Chunks per core. Items do not cost the same (an exported integration
/// makes two manifests and a queue one, a kind's objects sit together), so
/// a core that finishes its chunk takes the next one left rather than
/// waiting while another core works through an expensive half alone.
const CHUNKS_PER_CORE: usize = 8;

/// The cores this process may use, asked once: `available_parallelism`
/// reads the process's cgroup files on every call (tens of microseconds on
/// Linux), and a set of 500 files asked once per file.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// `f` of every item, in order, spread over the machine's cores. A panic in
/// `f` is resumed on the calling thread, as if `f` had run there.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_on(cores(), items, f)
}

/// [`map`] of a few large items (the pieces of a large YAML stream): from
/// two items on, they are spread over the cores, one item at a time.
pub fn map_large<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_with(cores(), Builder::new, 2, items, f)
}

/// From this many items, [`join`] callers run their two halves on two
/// threads; below it, a thread costs more than it saves.
pub const JOIN_FROM: usize = 2_000;

/// `a()` and `b()`, side by side when `large` and the machine has two cores
/// (`a` on a thread of its own), else one after the other. A panic in
/// either is resumed on the calling thread.
pub fn join<A: Send, B>(
    large: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !large || cores() < 2 {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let a = beside(scope, a);
        let b = b();
        (a.join(), b)
    })
}

/// Work of a thread scope started by [`beside`]: on a thread of its own, or
/// waiting to run on the thread that joins it.
pub struct Beside<'scope, R> {
    thread: Option<ScopedJoinHandle<'scope, Option<R>>>,
    work: Slot<'scope, R>,
}

type Slot<'scope, R> = Arc<Mutex<Option<Box<dyn FnOnce() -> R + Send + 'scope>>>>;

/// Run `f` on a new thread of `scope`, beside the calling thread's own
/// work; [`Beside::join`] gives its result. When the system cannot start a
/// thread, `f` runs in `join` instead, on the joining thread.
pub fn beside<'scope, R: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    f: impl FnOnce() -> R + Send + 'scope,
) -> Beside<'scope, R> {
    beside_on(Builder::new(), scope, f)
}

fn beside_on<'scope, R: Send + 'scope>(
    builder: Builder,
    scope: &'scope Scope<'scope, '_>,
    f: impl FnOnce() -> R + Send + 'scope,
) -> Beside<'scope, R> {
    // The thread takes `f` from the slot; if it never starts, `f` is still
    // there for `join`.
    let work: Slot<'scope, R> = Arc::new(Mutex::new(Some(Box::new(f))));
    let taken = Arc::clone(&work);
    let thread = builder
        .spawn_scoped(scope, move || {
            let f = taken.lock().unwrap_or_else(PoisonError::into_inner).take();
            f.map(|f| f())
        })
        .ok();
    Beside { thread, work }
}

impl<R> Beside<'_, R> {
    /// The work's result, once it is done; a panic in it is resumed here.
    pub fn join(self) -> R {
        if let Some(thread) = self.thread {
            match thread.join() {
                Ok(Some(result)) => return result,
                // The thread found the slot empty, which only `join` empties.
                Ok(None) => {}
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        let f = self.work.lock().unwrap_or_else(PoisonError::into_inner).take();
        match f {
            Some(f) => f(),
            None => unreachable!("the work of a thread scope ran nowhere"),
        }
    }
}

fn map_on<T: Send, R: Send>(cores: usize, items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    map_with(cores, Builder::new, PARALLEL_FROM, items, f)
}

/// [`map_on`], starting its threads with `builder`, on one thread below
/// `parallel_from` items.
fn map_with<T: Send, R: Send>(
    cores: usize,
    builder: impl Fn() -> Builder,
    parallel_from: usize,
    items: Vec<T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    if cores < 2 || items.len() < parallel_from {
        return items.into_iter().map(f).collect();
    }
    let count = items.len();
    let size = count.div_ceil(cores * CHUNKS_PER_CORE);
    let mut chunks: Vec<Mutex<Option<Vec<T>>>> = Vec::new();
    let mut items = items.into_iter();
    loop {
        let next: Vec<T> = items.by_ref().take(size).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(Mutex::new(Some(next)));
    }
    let results: Vec<Mutex<Option<Vec<R>>>> = chunks.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    // Each worker takes the next chunk nobody has taken, until none is left.
    // The locks are held only to move a chunk in or out, never during `f`,
    // so a panic in `f` poisons nothing.
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = chunks.get(index) else { break };
            let chunk = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            // Collected from the chunk's own iterator, whose length is
            // known: one allocation of the right size, not one doubling
            // after another (through `Option::flatten` it would be).
            let out: Vec<R> = chunk.unwrap_or_default().into_iter().map(&f).collect();
            *results[index].lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
        }
    };
    std::thread::scope(|scope| {
        // The calling thread is one of the workers. A helper the system
        // cannot start has nothing left to do when it is joined: the
        // workers that did start took every chunk.
        let helpers: Vec<_> =
            (1..cores.min(chunks.len())).map(|_| beside_on(builder(), scope, work)).collect();
        work();
        for helper in helpers {
            helper.join();
        }
    });
    // One result per item: the whole is allocated once. Collected through
    // `flat_map`, it grew by doubling, each step a copy into fresh memory
    // (10,000 planned changes are some 3 MB).
    let mut out = Vec::with_capacity(count);
    for slot in results {
        out.extend(slot.into_inner().unwrap_or_else(PoisonError::into_inner).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_at_every_size() {
        for n in [0, 1, PARALLEL_FROM - 1, PARALLEL_FROM, 1000, 1001] {
            for cores in [1, 2, 3, 8] {
                let out = map_on(cores, (0..n).collect(), |i: usize| i * 2);
                assert_eq!(
                    out,
                    (0..n).map(|i| i * 2).collect::<Vec<_>>(),
                    "n = {n}, {cores} cores"
                );
            }
        }
    }

    #[test]
    fn a_core_done_early_takes_chunks_from_the_slow_half() {
        // The first half is slow: with two contiguous halves one thread
        // would work through it alone. Each item records its thread.
        let n = 256;
        let threads = map_on(4, (0..n).collect(), |i: usize| {
            if i < n / 2 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            std::thread::current().id()
        });
        let slow: std::collections::BTreeSet<_> =
            threads[..n / 2].iter().map(|id| format!("{id:?}")).collect();
        assert!(slow.len() > 1, "the slow half ran on one thread only");
    }

    #[test]
    fn join_gives_both_results_in_place_and_resumes_a_panic() {
        for large in [false, true] {
            let (a, b) =
                join(large, || std::thread::current().id(), || std::thread::current().id());
            assert_eq!(b, std::thread::current().id(), "b runs on the caller");
            assert_eq!(a == b, !large || cores() < 2, "large: {large}");
            let caught =
                std::panic::catch_unwind(|| join(large, || -> u8 { panic!("in a") }, || 1));
            let payload = caught.expect_err("the panic is resumed");
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"in a"));
        }
    }

    /// A thread the system refuses: a stack larger than any address space.
    fn refused() -> Builder {
        Builder::new().stack_size(1 << 50)
    }

    #[test]
    fn work_beside_runs_on_the_joining_thread_when_no_thread_can_start() {
        let here = std::thread::current().id();
        let (started, inline) = std::thread::scope(|scope| {
            let started = beside_on(Builder::new(), scope, || std::thread::current().id());
            let inline = beside_on(refused(), scope, || std::thread::current().id());
            assert!(inline.thread.is_none(), "the system refused the thread");
            (started.join(), inline.join())
        });
        assert_ne!(started, here, "a thread of its own");
        assert_eq!(inline, here, "run by join");
        let caught = std::panic::catch_unwind(|| {
            std::thread::scope(|scope| {
                beside_on(refused(), scope, || -> u8 { panic!("in f") }).join()
            })
        });
        let payload = caught.expect_err("the panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"in f"));
    }

    #[test]
    fn map_does_all_the_work_itself_when_no_helper_can_start() {
        let here = std::thread::current().id();
        let out = map_with(4, refused, PARALLEL_FROM, (0..1000).collect(), |i: usize| {
            (i * 2, std::thread::current().id())
        });
        assert_eq!(
            out.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            (0..1000).map(|i| i * 2).collect::<Vec<_>>()
        );
        assert!(out.iter().all(|(_, id)| *id == here), "every item on the calling thread");
    }

    #[test]
    fn a_panic_in_f_reaches_the_caller_with_its_message() {
        let caught = std::panic::catch_unwind(|| {
            map_on(2, (0..1000).collect(), |i: usize| if i == 700 { panic!("item {i}") } else { i })
        });
        let payload = caught.expect_err("the panic is resumed");
        let message = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        assert_eq!(message, "item 700");
    }
}
