//! Lower bounds and the per-object baseline, computed from what a scenario
//! must read and write, independently of how gcctl goes about it.
//!
//! The model of the API is the one the sandbox enforces, and the most
//! permissive reading of Genesys Cloud's "300 requests per minute per token":
//! each new token gets a bucket of `per_minute` requests, refilled at
//! `per_minute / 60` per second; a client may use up to `tokens` tokens (k),
//! and an optional org-wide cap (one bucket of `org_per_minute` for all
//! tokens) limits them together. Latency is uniform in `mean ± jitter` per
//! request, so a step of `k` requests sent together lasts, in expectation,
//! as long as the slowest of them: `mean + jitter × (k − 1) / (k + 1)`.
//!
//! - **Minimum requests**: every list at the largest page size the API
//!   accepts (at least one page each, one call for an unpaged list), every
//!   lookup once, every write once. Token requests are not API requests (they
//!   are not rate limited) and are not counted.
//! - **Minimum wall time**: the larger of
//!   - the dependency chain: the token, then the first page of every list
//!     (every page of a list whose size the client can expect) and every
//!     lookup (all at once), then the remaining pages (all at once, if any
//!     list has more than one), then the writes (all at once, if any),
//!     then the further steps that each need the one before (a flow's upload
//!     after its import job, the job's status after the upload; with no
//!     writes, the first of them goes out with the remaining pages; a wait
//!     counts as one round trip, its least): each step as long as its slowest
//!     request, with unlimited concurrency.
//!     When the work needs more than one token's bucket and more tokens are
//!     allowed, a client that mints tokens only for work that needs them (a
//!     plan must never mint a second) learns that after reading: the first
//!     token's bucketful of writes goes out while the other tokens are minted
//!     (one more round trip), then the rest;
//!   - the rate limit: the token, then whatever the k full buckets do not
//!     cover at k refill rates, then the last answer: `2 × latency +
//!     max(0, requests − k × per_minute) / (k × per_minute / 60)`; with an
//!     org-wide cap, the same for one bucket of the cap, whichever is longer.
//! - **Per-object baseline** (what the Terraform provider does): list pages
//!   at the provider's page size where a list is needed to find ids, then one
//!   GET per object plus its sub-resource calls (queues: members and wrap-up
//!   codes), and writes one call each plus a read-back. Its time is the
//!   larger of the same rate-limit formula (the provider pools k tokens too,
//!   `token_pool_size`, 10 by default) and the latency of its calls at
//!   Terraform's default parallelism of 10 (after the token).
//!
//! Kept free of I/O so that the tests (`tests/it/bench_bounds.rs`) check it.

use serde::Serialize;

/// The API's limits as configured for a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    /// Requests per minute per token (bucket size and refill per minute).
    pub per_minute: u32,
    /// Tokens a client may use (k): gcctl's `--max-tokens`, the provider's pool.
    pub tokens: u32,
    /// Requests per minute for the whole org, whatever the token, if capped.
    pub org_per_minute: Option<u32>,
    /// Mean added latency of one request, in milliseconds.
    pub latency_ms: f64,
    /// Latency is uniform in `latency_ms ± latency_jitter_ms`.
    pub latency_jitter_ms: f64,
}

impl Limits {
    /// Expected duration, in seconds, of a step of `k` requests sent at once:
    /// the expected maximum of `k` uniform latencies.
    pub fn step_s(self, k: u64) -> f64 {
        #[allow(clippy::cast_precision_loss)] // request counts are far below 2^52
        let k = k.max(1) as f64;
        (self.latency_ms + self.latency_jitter_ms * (k - 1.0) / (k + 1.0)) / 1000.0
    }
}

/// One collection a scenario must read in full.
#[derive(Debug, Clone, Serialize)]
pub struct ListRead {
    /// What is listed, for reports (`routing queues`).
    pub what: &'static str,
    /// Objects in the collection.
    pub objects: u64,
    /// Largest page size the API accepts; `None` for an unpaged list.
    pub max_page_size: Option<u64>,
    /// Page size the per-object baseline lists with, if it lists at all.
    pub baseline_page_size: Option<u64>,
    /// Calls the per-object baseline makes per object (GET plus sub-resources).
    pub baseline_calls_per_object: u64,
    /// The client can know how many objects to expect before the first
    /// page answers (a plan declares as many as the org holds: gcctl asks
    /// for the pages its manifests fill): every page goes out in the first
    /// step, with the lookups, rather than page 1 first.
    pub expected: bool,
}

/// Everything a scenario must do against the API.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Work {
    /// Collections read in full.
    pub lists: Vec<ListRead>,
    /// Single-call lookups (a one-page list of divisions, a default profile,
    /// who the caller is), made together with the first pages.
    pub lookups: u64,
    /// Single calls that must each wait for the one before (apply: the org,
    /// to take its lock before reading; a fresh list of the kind it creates,
    /// before creating): one round trip each, counted in the requests too.
    pub serial_calls: u64,
    /// Creates, updates or deletes, one call each.
    pub writes: u64,
    /// Calls the per-object baseline makes per write (the write and a read-back).
    pub baseline_calls_per_write: u64,
    /// Fresh lists of the kinds an apply creates, sent together in one step
    /// before the writes (a duplicate made meanwhile is found).
    pub fresh_lists: u64,
    /// Further steps, each needing the one before: the calls that follow the
    /// writes (a flow's upload, then its job's status; a member add, then the
    /// read that shows it), or, with no writes, reads that need ids from the
    /// first pages (a queue's members; the first of these steps goes out
    /// with the remaining pages). A wait (a job's status, a configuration
    /// leaving `Pending`) counts as one request and one step: its least.
    /// The per-object baseline makes these calls too, once each.
    pub then: Vec<u64>,
}

/// Requests the per-object baseline has in flight: Terraform's default
/// `-parallelism`.
pub const BASELINE_CONCURRENCY: u64 = 10;

/// A lower bound or a baseline: requests and wall time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cost {
    pub requests: u64,
    pub wall_s: f64,
}

fn pages(objects: u64, page_size: Option<u64>) -> u64 {
    match page_size {
        Some(size) => objects.div_ceil(size.max(1)).max(1),
        None => 1,
    }
}

/// Wall time that one bucket of `per_minute` (refilled at `per_minute / 60`
/// a second) allows for `requests`, token and last answer included.
fn bucket_time(requests: u64, per_minute: u64, latency_ms: f64) -> f64 {
    let per_minute = per_minute.max(1);
    #[allow(clippy::cast_precision_loss)] // request counts are far below 2^52
    let paced = requests.saturating_sub(per_minute) as f64 / (per_minute as f64 / 60.0);
    2.0 * latency_ms / 1000.0 + paced
}

/// Wall time that the rate limits allow for `requests`: k token buckets, and
/// the org-wide cap if there is one.
fn rate_time(requests: u64, limits: Limits) -> f64 {
    let k = u64::from(limits.tokens.max(1));
    let per_token = bucket_time(requests, k * u64::from(limits.per_minute), limits.latency_ms);
    let org = limits
        .org_per_minute
        .map_or(0.0, |cap| bucket_time(requests, u64::from(cap), limits.latency_ms));
    per_token.max(org)
}

impl Work {
    /// The fewest requests the API allows for this work.
    pub fn min_requests(&self) -> u64 {
        let lists: u64 = self.lists.iter().map(|l| pages(l.objects, l.max_page_size)).sum();
        lists
            + self.lookups
            + self.serial_calls
            + self.fresh_lists
            + self.writes
            + self.then_requests()
    }

    fn then_requests(&self) -> u64 {
        self.then.iter().sum()
    }

    /// Requests of each step that must follow the one before: the token, the
    /// serial calls, the fresh lists, first pages and lookups, remaining
    /// pages, writes, then the further steps (empty steps left out).
    #[allow(dead_code)] // the bench uses `split_steps`; the tests read the chain whole
    pub fn steps(&self) -> Vec<u64> {
        let (reads, writes) = self.split_steps();
        reads.into_iter().chain(writes).filter(|k| *k > 0).collect()
    }

    /// The steps up to the writes, and the writes' steps (the writes, then
    /// `then`): empty when there are none.
    fn split_steps(&self) -> (Vec<u64>, Vec<u64>) {
        let first_pages =
            |l: &ListRead| if l.expected { pages(l.objects, l.max_page_size) } else { 1 };
        let first = self.lists.iter().map(first_pages).sum::<u64>() + self.lookups;
        let rest: u64 =
            self.lists.iter().map(|l| pages(l.objects, l.max_page_size) - first_pages(l)).sum();
        let mut reads = vec![1];
        reads.extend((0..self.serial_calls).map(|_| 1));
        reads.extend([self.fresh_lists, first]);
        let mut then = self.then.clone();
        if self.writes > 0 {
            reads.push(rest);
            then.insert(0, self.writes);
        } else if let Some(next) = then.first_mut() {
            // Reads that need only the first pages go out with the rest.
            *next += rest;
        } else {
            reads.push(rest);
        }
        reads.retain(|k| *k > 0);
        then.retain(|k| *k > 0);
        (reads, then)
    }

    /// Tokens the work needs (at most `limits.tokens`): as many buckets as
    /// hold its requests.
    pub fn tokens_needed(&self, limits: Limits) -> u64 {
        let per_token = u64::from(limits.per_minute.max(1));
        self.min_requests().div_ceil(per_token).clamp(1, u64::from(limits.tokens.max(1)))
    }

    /// The lower bound: fewest requests, and the least wall time they take.
    pub fn lower_bound(&self, limits: Limits) -> Cost {
        let requests = self.min_requests();
        let (reads, mut writes) = self.split_steps();
        let tokens = self.tokens_needed(limits);
        let per_token = u64::from(limits.per_minute.max(1));
        let reads: f64 = reads.into_iter().map(|k| limits.step_s(k)).sum();
        let chain: f64 = if tokens > 1 && self.writes > per_token {
            // The first write step is the writes: the first token's bucketful
            // goes out while the other tokens are minted, then the rest.
            writes.remove(0);
            let first = limits.step_s(per_token).max(limits.step_s(tokens - 1));
            let then: f64 = writes.into_iter().map(|k| limits.step_s(k)).sum();
            reads + first + limits.step_s(self.writes - per_token) + then
        } else {
            reads + writes.into_iter().map(|k| limits.step_s(k)).sum::<f64>()
        };
        Cost { requests, wall_s: chain.max(rate_time(requests, limits)) }
    }

    /// One GET per object plus sub-resource calls, lists only where needed
    /// to find ids, and writes with a read-back.
    pub fn per_object_baseline(&self, limits: Limits) -> Cost {
        let mut requests =
            self.lookups + self.writes * self.baseline_calls_per_write + self.then_requests();
        for list in &self.lists {
            if list.baseline_page_size.is_some() {
                requests += pages(list.objects, list.baseline_page_size);
            }
            requests += list.objects * list.baseline_calls_per_object;
        }
        #[allow(clippy::cast_precision_loss)]
        let waves = (1 + requests.div_ceil(BASELINE_CONCURRENCY)) as f64;
        let latency = waves * limits.latency_ms / 1000.0;
        Cost { requests, wall_s: latency.max(rate_time(requests, limits)) }
    }
}
