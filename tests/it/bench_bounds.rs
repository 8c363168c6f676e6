//! The benchmark's lower bounds and baseline (`benches/gcctl/bounds.rs`):
//! the formulas the README's table is held against, checked by hand.

#[path = "../../benches/gcctl/bounds.rs"]
mod bounds;

use bounds::{Limits, ListRead, Work};

const LIMITS: Limits = Limits {
    per_minute: 300,
    tokens: 1,
    org_per_minute: None,
    latency_ms: 115.0,
    latency_jitter_ms: 0.0,
};
const JITTER: Limits = Limits { latency_jitter_ms: 35.0, ..LIMITS };

fn queues(objects: u64) -> ListRead {
    ListRead {
        what: "routing queues",
        objects,
        max_page_size: Some(500),
        baseline_page_size: None,
        baseline_calls_per_object: 3,
        expected: false,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn pages_at_the_largest_size_plus_lookups_and_writes() {
    let plan = |n| Work { lists: vec![queues(n)], lookups: 1, ..Work::default() };
    assert_eq!(plan(10_000).min_requests(), 21);
    assert_eq!(plan(10_001).min_requests(), 22);
    assert_eq!(plan(500).min_requests(), 2);
    // An empty collection still takes one page to learn that it is empty.
    assert_eq!(plan(0).min_requests(), 2);
    let unpaged = ListRead { max_page_size: None, ..queues(5_000) };
    assert_eq!(Work { lists: vec![unpaged], ..Work::default() }.min_requests(), 1);
    let apply = Work { lists: vec![queues(0)], lookups: 1, writes: 1_000, ..Work::default() };
    assert_eq!(apply.min_requests(), 1_002);
}

#[test]
fn the_chain_of_round_trips_bounds_small_runs() {
    let one_page = Work { lists: vec![queues(100)], lookups: 1, ..Work::default() };
    assert_eq!(one_page.steps(), [1, 2]);
    assert!(close(one_page.lower_bound(LIMITS).wall_s, 0.230));
    let pages = Work { lists: vec![queues(10_000)], lookups: 1, ..Work::default() };
    assert_eq!(pages.steps(), [1, 2, 19]);
    assert!(close(pages.lower_bound(LIMITS).wall_s, 0.345));
    let writes = Work { writes: 100, ..one_page };
    assert_eq!(writes.steps(), [1, 2, 100]);
}

#[test]
fn a_step_lasts_as_long_as_its_slowest_request() {
    // One request: the mean. k uniform latencies in 80..150: 80 + 70 k / (k + 1).
    assert!(close(JITTER.step_s(1), 0.115));
    assert!(close(JITTER.step_s(2), 0.080 + 0.070 * 2.0 / 3.0));
    assert!(close(JITTER.step_s(19), 0.080 + 0.070 * 19.0 / 20.0));
    let pages = Work { lists: vec![queues(10_000)], lookups: 1, ..Work::default() };
    let expected = 0.115 + (0.080 + 0.070 * 2.0 / 3.0) + (0.080 + 0.070 * 19.0 / 20.0);
    assert!(close(pages.lower_bound(JITTER).wall_s, expected));
}

#[test]
fn the_rate_limit_bounds_large_runs_beyond_the_first_bucket() {
    let apply = Work { lists: vec![queues(0)], lookups: 1, writes: 1_000, ..Work::default() };
    // Token and last answer, plus 702 requests beyond the bucket of 300 at 5 per second.
    assert!(close(apply.lower_bound(LIMITS).wall_s, 0.230 + 702.0 / 5.0));
    let within = Work { writes: 297, ..apply };
    assert_eq!(within.min_requests(), 299);
    assert!(close(within.lower_bound(LIMITS).wall_s, 0.345));
}

#[test]
fn the_per_object_baseline_gets_each_object_and_its_sub_resources() {
    let plan = Work { lists: vec![queues(10_000)], lookups: 1, ..Work::default() };
    let baseline = plan.per_object_baseline(LIMITS);
    assert_eq!(baseline.requests, 30_001);
    assert!(close(baseline.wall_s, 0.230 + 29_701.0 / 5.0));
    assert!(baseline.requests / plan.min_requests() >= 50);
    // Few requests: bound by latency at a parallelism of 10 (after the token).
    let small = Work { lists: vec![queues(10)], lookups: 1, ..Work::default() };
    let baseline = small.per_object_baseline(LIMITS);
    assert_eq!(baseline.requests, 31);
    assert!(close(baseline.wall_s, 5.0 * 0.115));
    // Lists only where the baseline must find ids; writes are read back.
    let export = ListRead { baseline_page_size: Some(500), ..queues(1_000) };
    let apply =
        Work { lists: vec![export], writes: 10, baseline_calls_per_write: 4, ..Work::default() };
    assert_eq!(apply.per_object_baseline(LIMITS).requests, 2 + 3_000 + 40);
}

#[test]
fn k_tokens_hold_k_buckets_and_refill_k_times_as_fast() {
    let apply = |writes| Work { lists: vec![queues(0)], lookups: 1, writes, ..Work::default() };
    let ten = Limits { tokens: 10, ..LIMITS };
    // 1,002 requests fit in four buckets of 300: the bound is the chain, not the rate.
    assert_eq!(apply(1_000).tokens_needed(ten), 4);
    // Token, the two reads, the first bucketful with the mint of three more, the rest.
    let chain = 0.115 * 4.0;
    assert!(close(apply(1_000).lower_bound(ten).wall_s, chain));
    // 5,000 writes on ten tokens: 2,002 beyond the 3,000 of the buckets, at 50 a second.
    assert!(close(apply(5_000).lower_bound(ten).wall_s, 0.230 + 2_002.0 / 50.0));
    // One token: the one-token bound as before.
    assert_eq!(apply(1_000).tokens_needed(LIMITS), 1);
    assert!(close(apply(1_000).lower_bound(LIMITS).wall_s, 0.230 + 702.0 / 5.0));
    // Work within one bucket needs one token, whatever k: a plan's bound is unchanged.
    let plan = Work { lists: vec![queues(10_000)], lookups: 1, ..Work::default() };
    assert_eq!(plan.tokens_needed(ten), 1);
    assert!(close(plan.lower_bound(ten).wall_s, plan.lower_bound(LIMITS).wall_s));
}

#[test]
fn an_org_wide_cap_bounds_all_tokens_together() {
    let apply = Work { lists: vec![queues(0)], lookups: 1, writes: 1_000, ..Work::default() };
    // Ten tokens, but 600 a minute for the org: 402 beyond its bucket at 10 a second.
    let capped = Limits { tokens: 10, org_per_minute: Some(600), ..LIMITS };
    assert!(close(apply.lower_bound(capped).wall_s, 0.230 + 402.0 / 10.0));
    // The per-object baseline is held to the same cap: 4,001 requests (each create read
    // back with three calls), 3,401 beyond the org's bucket.
    let baseline = Work { baseline_calls_per_write: 4, ..apply }.per_object_baseline(capped);
    assert_eq!(baseline.requests, 4_001);
    assert!(close(baseline.wall_s, 0.230 + 3_401.0 / 10.0));
}

#[test]
fn the_baseline_pools_k_tokens_as_the_provider_does() {
    // A refresh of 10,000 queues: 30,001 requests on ten tokens, 27,001 beyond their
    // buckets at 50 a second (the latency at a parallelism of 10 is shorter).
    let plan = Work { lists: vec![queues(10_000)], lookups: 1, ..Work::default() };
    let ten = Limits { tokens: 10, ..LIMITS };
    assert!(close(plan.per_object_baseline(ten).wall_s, 0.230 + 27_001.0 / 50.0));
}

#[test]
fn serial_calls_are_round_trips_of_their_own() {
    let apply =
        Work { lists: vec![queues(0)], lookups: 4, serial_calls: 2, writes: 10, ..Work::default() };
    assert_eq!(apply.steps(), [1, 1, 1, 5, 10]);
    assert_eq!(apply.min_requests(), 1 + 4 + 2 + 10);
    assert!(close(apply.lower_bound(LIMITS).wall_s, 5.0 * 0.115));
}

#[test]
fn steps_after_the_writes_follow_one_another_and_waits_count_once() {
    // A mixed apply: the lock, a fresh list of two kinds at once, then creates,
    // then an upload and a member add, then a job status read and a member read.
    let apply = Work {
        lists: vec![queues(0), queues(0)],
        lookups: 4,
        serial_calls: 1,
        fresh_lists: 2,
        writes: 10,
        then: vec![4, 3],
        baseline_calls_per_write: 1,
    };
    assert_eq!(apply.steps(), [1, 1, 2, 6, 10, 4, 3]);
    assert_eq!(apply.min_requests(), 2 + 4 + 1 + 2 + 10 + 7);
    assert!(close(apply.lower_bound(LIMITS).wall_s, 7.0 * 0.115));
    // The baseline makes the calls after the writes once each too (here no
    // read-back: one call per write).
    assert_eq!(apply.per_object_baseline(LIMITS).requests, 4 + 10 + 7);
    // Ten tokens: the creates beyond the first bucket are one more step, then the rest.
    let many = Work { writes: 1_000, ..apply };
    let ten = Limits { tokens: 10, ..LIMITS };
    assert_eq!(many.steps(), [1, 1, 2, 6, 1_000, 4, 3]);
    assert!(close(many.lower_bound(ten).wall_s, 8.0 * 0.115));
}

#[test]
fn reads_that_need_the_first_pages_go_out_with_the_remaining_pages() {
    // A plan: a queue's members need its id from a page, not every page.
    let plan =
        Work { lists: vec![queues(1_000)], lookups: 1, then: vec![10, 5], ..Work::default() };
    assert_eq!(plan.steps(), [1, 2, 11, 5]);
    assert_eq!(plan.min_requests(), 2 + 1 + 15);
    assert!(close(plan.lower_bound(LIMITS).wall_s, 4.0 * 0.115));
}

#[test]
fn a_list_whose_size_is_expected_goes_out_whole_in_the_first_step() {
    // A plan of 10,000 declared queues asks for the 20 pages they fill at once.
    let expected = ListRead { expected: true, ..queues(10_000) };
    let plan = Work { lists: vec![expected.clone()], lookups: 4, ..Work::default() };
    assert_eq!(plan.steps(), [1, 24]);
    assert_eq!(plan.min_requests(), 24);
    assert!(close(plan.lower_bound(LIMITS).wall_s, 2.0 * 0.115));
    // Reads that need the pages' ids follow them; an unexpected list beside
    // it still learns its size from its first page.
    let mixed = Work {
        lists: vec![expected, queues(1_000)],
        lookups: 1,
        then: vec![10, 5],
        ..Work::default()
    };
    assert_eq!(mixed.steps(), [1, 22, 11, 5]);
}
