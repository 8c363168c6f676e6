//! Loading large sets on every core: files are parsed, and documents typed,
//! side by side in contiguous chunks, with results in input order (so that
//! everything after stays deterministic).

use std::num::NonZeroUsize;

/// Below this many items one thread does the work: starting threads would
/// cost more than it saves.
const PARALLEL_FROM: usize = 64;

/// `f` of every item, in order, spread over the machine's cores. A panic in
/// `f` is resumed on the calling thread, as if `f` had run there.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    if cores < 2 || items.len() < PARALLEL_FROM {
        return items.into_iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(cores);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(cores);
    let mut items = items.into_iter();
    loop {
        let next: Vec<T> = items.by_ref().take(chunk).collect();
        if next.is_empty() {
            break;
        }
        chunks.push(next);
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order_at_every_size() {
        for n in [0, 1, PARALLEL_FROM - 1, PARALLEL_FROM, 1000, 1001] {
            let out = map((0..n).collect(), |i: usize| i * 2);
            assert_eq!(out, (0..n).map(|i| i * 2).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
