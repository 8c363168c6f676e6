//! List pages kept as written, until the store is next written.
//!
//! A page of 500 configured queues is a megabyte of JSON, a few milliseconds
//! of the sandbox's CPU to render. Where the sandbox shares its cores with
//! the client under test (the benchmark's two-core machine, too small to pin
//! them apart), that rendering ran while gcctl waited for and decoded the
//! same pages, so it landed in gcctl's measured time: a real org renders on
//! its own servers. A page asked for again (the same list, the same query)
//! with nothing written since is answered with the bytes of the first
//! answer; latency, rate limits, faults and stats apply to it as to any
//! answer (they are the middleware's).
//!
//! Only lists whose pages render from the store and the query alone keep
//! them: those of resources that declare `Resource::DECORATED` (no clock,
//! no knob, no caller: their unfiltered pages, which every caller that sees
//! all divisions sees alike). Debug builds render every page answered from
//! here again and compare, so every test that lists such a resource twice
//! checks that a kept page is what a new rendering writes.
//!
//! Invariants: a page is answered only to a reader that holds the store at
//! the generation it was rendered at (the store's generation moves with
//! every write lock taken, see `AppState::store`); at most [`LIMIT`] bytes
//! are kept.

use std::collections::HashMap;

use axum::body::Bytes;

/// The most bytes of pages kept (a plan of 50,000 configured queues lists
/// some 110 MB); a page that would go over is not kept.
pub const LIMIT: usize = 256 << 20;

/// The kept pages, all of one store generation.
#[derive(Debug, Default)]
pub struct Pages {
    generation: u64,
    bytes: usize,
    by_key: HashMap<String, Bytes>,
}

impl Pages {
    /// The page kept under `key` for a reader of the store at `generation`.
    pub fn get(&mut self, generation: u64, key: &str) -> Option<Bytes> {
        self.at(generation);
        self.by_key.get(key).cloned()
    }

    /// Keep `text`, rendered from the store at `generation`, under `key`. A
    /// page of an older generation (rendered before a write another request
    /// made meanwhile) is not kept.
    pub fn keep(&mut self, generation: u64, key: String, text: Bytes) {
        self.at(generation);
        if generation != self.generation || self.bytes + text.len() > LIMIT {
            return;
        }
        self.bytes += text.len();
        if let Some(old) = self.by_key.insert(key, text) {
            self.bytes -= old.len();
        }
    }

    /// Forget every page when the store is at a newer generation.
    fn at(&mut self, generation: u64) {
        if generation > self.generation {
            *self = Pages { generation, ..Pages::default() };
        }
    }
}

/// The key of a list's page: its path and query, pairs in the order given.
pub fn key(path: &str, params: &[(String, String)]) -> String {
    let mut key = path.to_string();
    for (i, (name, value)) in params.iter().enumerate() {
        key.push(if i == 0 { '?' } else { '&' });
        // Neither `&` nor `=` is escaped in the pairs: their lengths are
        // written, so no two queries share a key.
        key.push_str(&format!("{}:{name}={}:{value}", name.len(), value.len()));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn a_page_is_answered_only_at_the_generation_it_was_rendered_at() {
        let mut pages = Pages::default();
        pages.keep(1, "a".into(), Bytes::from_static(b"one"));
        assert_eq!(pages.get(1, "a"), Some(Bytes::from_static(b"one")));
        assert_eq!(pages.get(1, "b"), None);
        // A write: the store is at generation 2, and the page is gone.
        assert_eq!(pages.get(2, "a"), None);
        // Rendered before the write, kept after it: not kept.
        pages.keep(1, "a".into(), Bytes::from_static(b"one"));
        assert_eq!(pages.get(2, "a"), None);
        pages.keep(2, "a".into(), Bytes::from_static(b"two"));
        assert_eq!(pages.get(2, "a"), Some(Bytes::from_static(b"two")));
    }

    #[test]
    fn no_more_than_the_limit_is_kept() {
        let mut pages = Pages::default();
        let half = Bytes::from(vec![b' '; LIMIT / 2]);
        pages.keep(0, "1".into(), half.clone());
        pages.keep(0, "1".into(), half.clone());
        pages.keep(0, "2".into(), half.clone());
        assert!(pages.get(0, "1").is_some() && pages.get(0, "2").is_some());
        pages.keep(0, "3".into(), Bytes::from_static(b"x"));
        assert_eq!(pages.get(0, "3"), None);
        assert_eq!(pages.bytes, LIMIT);
    }

    #[test]
    fn queries_that_differ_have_different_keys() {
        let a = key("/q", &[pair("a", "1&b=2")]);
        let b = key("/q", &[pair("a", "1"), pair("b", "2")]);
        assert_ne!(a, b);
        assert_eq!(key("/q", &[]), "/q");
        assert_ne!(key("/q", &[pair("a", "")]), key("/q", &[]));
    }
}
