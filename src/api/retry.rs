//! When to retry a failed attempt, and how long to wait first.
//!
//! Policy (shared by API calls and the token endpoint):
//! - 429: wait `Retry-After` seconds (3 s when absent or unreadable, like the official SDKs);
//!   give up when the server asks for more than 180 s (daily-limit 429s) or the wait would end
//!   after the call's deadline. A 429 proves the request was not processed, so even a POST is
//!   retried. A call throttled again waits at least the backoff below for its attempts so far
//!   (0.5 s after the second 429, then doubling, capped at 30 s), whatever `Retry-After` says:
//!   a server that keeps answering `Retry-After: 0` (the token endpoint, which the client's rate
//!   budget does not pace) would otherwise be asked again as fast as it answers.
//! - 500 (which the official SDKs do not retry; the request may or may not have been processed),
//!   502/503/504, timeouts and connection failures: exponential backoff with full jitter
//!   (0.5 s base, doubling, capped at 30 s) until the deadline, but only for idempotent
//!   requests, or when the connection was never established (the request cannot have been
//!   processed).
//!
//! - A connection that cannot be made (refused, unresolvable host) is retried for at most
//!   [`UNREACHABLE_BUDGET`] from its first failure, whatever the deadline: nothing listening
//!   at the address will rarely change within minutes, and kubectl and terraform fail at once.
//!
//! Invariant: this module is the only place where the client sleeps (project rule: no fixed
//! sleeps; every wait is a retry, backoff or rate-budget wait bounded by a deadline).

use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use tokio::time::Instant;

/// Wait for a 429 without a usable `Retry-After`.
pub(super) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(3);
/// Longest `Retry-After` read: a longer one reads as this (a day).
pub(super) const LONGEST_RETRY_AFTER_READ: Duration = Duration::from_secs(86_400);
/// Longest `Retry-After` honored; longer ones are daily limits not worth waiting for.
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(180);
/// How long a connection that cannot be made is retried (a server restarting, a DNS blip).
pub const UNREACHABLE_BUDGET: Duration = Duration::from_secs(10);
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// The most attempts of an idempotent request whose success cannot be read.
pub(super) const UNREADABLE_ATTEMPTS: u32 = 3;
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// How an attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// 429, with the `Retry-After` the server gave.
    Throttled(Option<Duration>),
    /// 502, 503 or 504.
    Unavailable,
    /// The connection could not be established: nothing was sent.
    NotSent,
    /// The request may have reached the server (reset, closed or timed out after sending).
    MaybeSent,
    /// A success whose body cannot be read (cut short, not JSON): an idempotent
    /// request is sent again, at most [`UNREADABLE_ATTEMPTS`] times in all (a
    /// body garbled on the way is seldom garbled twice; one a server always
    /// garbles is not worth minutes of retries).
    Unreadable,
    /// Not retryable (other statuses, decode errors, token errors).
    Final,
}

/// Why retrying stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// The failure is not retryable for this request.
    NotRetryable,
    /// The server asked to wait longer than [`MAX_RETRY_AFTER`].
    RetryAfterTooLong(Duration),
    /// The next wait would end after the deadline.
    Deadline,
}

/// The wait before the next attempt, or why there is none. `attempt` counts the attempts made
/// so far (1 after the first failure).
pub(super) fn plan_retry(
    class: Class,
    idempotent: bool,
    attempt: u32,
    deadline: Instant,
) -> Result<Duration, Stop> {
    let wait = match class {
        Class::Throttled(after) => {
            let after = after.unwrap_or(DEFAULT_RETRY_AFTER);
            if after > MAX_RETRY_AFTER {
                return Err(Stop::RetryAfterTooLong(after));
            }
            after.max(throttled_floor(attempt))
        }
        Class::NotSent => backoff_delay(attempt),
        Class::Unavailable | Class::MaybeSent if idempotent => backoff_delay(attempt),
        Class::Unreadable if idempotent && attempt < UNREADABLE_ATTEMPTS => backoff_delay(attempt),
        Class::Unavailable | Class::MaybeSent | Class::Unreadable | Class::Final => {
            return Err(Stop::NotRetryable);
        }
    };
    let now = Instant::now();
    if now + wait <= deadline {
        return Ok(wait);
    }
    // A backoff that would pass the deadline is cut to it: the last attempt
    // is made at the deadline, so a budget is spent whole (a sandbox back
    // 9 s after a restart is reached within the 10 s it was promised). The
    // server's own `Retry-After` is never cut.
    match class {
        Class::Throttled(_) => Err(Stop::Deadline),
        _ if now < deadline => Ok(deadline - now),
        _ => Err(Stop::Deadline),
    }
}

/// The least wait after the `attempt`-th 429 of one call: none after the first, then
/// [`BACKOFF_BASE`], doubling, capped at [`BACKOFF_CAP`].
fn throttled_floor(attempt: u32) -> Duration {
    match attempt {
        0 | 1 => Duration::ZERO,
        n => BACKOFF_BASE.saturating_mul(1 << (n - 2).min(16)).min(BACKOFF_CAP),
    }
}

/// The deadline for retrying a failure of `class`: the call's deadline, or for a connection
/// that cannot be made, [`UNREACHABLE_BUDGET`] after the first such failure (remembered in
/// `first_unreachable`).
pub(super) fn deadline_for(
    class: Class,
    deadline: Instant,
    first_unreachable: &mut Option<Instant>,
) -> Instant {
    if class != Class::NotSent {
        return deadline;
    }
    let since = *first_unreachable.get_or_insert_with(Instant::now);
    deadline.min(since + UNREACHABLE_BUDGET)
}

/// Full-jitter exponential backoff: uniform in `0..=min(cap, base * 2^(attempt-1))`.
pub(super) fn backoff_delay(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let ceiling = BACKOFF_BASE.saturating_mul(1 << exp).min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// `Retry-After` in seconds (integer or decimal). HTTP dates are not used by Genesys and are
/// treated as absent.
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs: f64 = value.parse().ok()?;
    let longest = LONGEST_RETRY_AFTER_READ.as_secs_f64();
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(longest)))
}

/// Sleep before a retry. The only sleep of the client.
pub(super) async fn sleep_before_retry(wait: Duration) {
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
}

/// Sleep until a token of the pool has budget again (its bucket refilled, or its
/// `Retry-After` pause over), or until `until` at the latest.
pub(super) async fn sleep_until_budget(until: Instant) {
    tokio::time::sleep_until(until).await;
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    #[test]
    fn throttled_waits_retry_after_or_default_and_refuses_long_waits() {
        let d = |s| Some(Duration::from_secs(s));
        assert_eq!(plan_retry(Class::Throttled(d(7)), false, 1, far()), Ok(Duration::from_secs(7)));
        assert_eq!(plan_retry(Class::Throttled(None), true, 1, far()), Ok(DEFAULT_RETRY_AFTER));
        assert_eq!(
            plan_retry(Class::Throttled(d(181)), true, 1, far()),
            Err(Stop::RetryAfterTooLong(Duration::from_secs(181)))
        );
        let soon = Instant::now() + Duration::from_secs(5);
        assert_eq!(plan_retry(Class::Throttled(d(10)), true, 1, soon), Err(Stop::Deadline));
        // `Retry-After: 0` again and again: a growing floor, not a storm.
        let zero = Class::Throttled(Some(Duration::ZERO));
        let waits: Vec<Duration> =
            (1..=9).map(|attempt| plan_retry(zero, true, attempt, far()).unwrap()).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            waits,
            [0, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000].map(ms).to_vec()
        );
        assert_eq!(plan_retry(Class::Throttled(d(7)), true, 3, far()), Ok(Duration::from_secs(7)));
    }

    #[test]
    fn a_backoff_is_cut_to_the_deadline_and_none_follows_it() {
        let soon = Instant::now() + Duration::from_millis(300);
        // The 8th backoff would be up to 30 s: cut to what is left.
        for attempt in [1, 8, 12] {
            let wait = plan_retry(Class::NotSent, true, attempt, soon).unwrap();
            assert!(wait <= Duration::from_millis(300), "{wait:?}");
        }
        let past = Instant::now();
        assert_eq!(plan_retry(Class::NotSent, true, 8, past), Err(Stop::Deadline));
        assert_eq!(plan_retry(Class::Unavailable, true, 8, past), Err(Stop::Deadline));
    }

    #[test]
    fn only_idempotent_requests_retry_after_sending() {
        for class in [Class::Unavailable, Class::MaybeSent] {
            assert!(plan_retry(class, true, 1, far()).is_ok());
            assert_eq!(plan_retry(class, false, 1, far()), Err(Stop::NotRetryable));
        }
        assert!(plan_retry(Class::NotSent, false, 1, far()).is_ok());
        assert_eq!(plan_retry(Class::Final, true, 1, far()), Err(Stop::NotRetryable));
    }

    #[test]
    fn unreachable_hosts_get_a_short_budget() {
        let mut first = None;
        let far = far();
        assert_eq!(deadline_for(Class::Unavailable, far, &mut first), far);
        assert!(first.is_none());
        let short = deadline_for(Class::NotSent, far, &mut first);
        assert!(short <= Instant::now() + UNREACHABLE_BUDGET);
        assert_eq!(deadline_for(Class::NotSent, far, &mut first), short, "from the first failure");
        let soon = Instant::now() + Duration::from_secs(1);
        assert_eq!(deadline_for(Class::NotSent, soon, &mut first), soon, "never past the deadline");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..40 {
            let ceiling = BACKOFF_BASE.saturating_mul(1 << (attempt - 1).min(16)).min(BACKOFF_CAP);
            assert!(backoff_delay(attempt) <= ceiling);
        }
        assert!(backoff_delay(1) <= Duration::from_millis(500));
    }

    #[test]
    fn retry_after_header_is_read() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("42"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(42)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("0.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(500)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("-1"));
        assert_eq!(retry_after(&h), None);
    }
}
