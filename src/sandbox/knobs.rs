//! Realism knobs: the per-token rate limiter, the seeded fault generator and
//! the request counters served by `/_sandbox/stats`.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::Serialize;

/// Token buckets, one per access token: capacity N, refilled continuously at
/// N per 60 s. A request that finds its bucket empty is refused.
#[derive(Debug)]
pub struct RateLimiter {
    per_minute: f64,
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: f64::from(per_minute.max(1)), buckets: HashMap::new() }
    }

    /// Take one request from `token`'s bucket, or return the whole seconds
    /// (at least 1) until one is available.
    pub fn take(&mut self, token: &str) -> Result<(), u64> {
        let now = Instant::now();
        let capacity = self.per_minute;
        let rate = capacity / 60.0;
        let (level, last) = self.buckets.entry(token.to_string()).or_insert((capacity, now));
        *level = (*level + now.duration_since(*last).as_secs_f64() * rate).min(capacity);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            return Ok(());
        }
        // The value is small and positive: the cast cannot truncate meaningfully.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let wait = ((1.0 - *level) / rate).ceil() as u64;
        Err(wait.max(1))
    }
}

/// A fault injected into one `/api/v2` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 before doing anything.
    Status500,
    /// 503 before doing anything.
    Status503,
    /// The change is committed, then the connection is dropped unanswered.
    Dropped,
    /// A bounded delay before answering normally.
    Slow,
}

/// Seeded fault draws: the same seed and request order give the same faults.
#[derive(Debug)]
pub struct Faults {
    rate: f64,
    rng: StdRng,
}

impl Faults {
    pub fn new(rate: f64, seed: u64) -> Faults {
        Faults { rate: rate.clamp(0.0, 1.0), rng: StdRng::seed_from_u64(seed) }
    }

    /// Draw for one request.
    pub fn draw(&mut self) -> Option<Fault> {
        if self.rate <= 0.0 || self.rng.random::<f64>() >= self.rate {
            return None;
        }
        Some(match self.rng.random_range(0..4u8) {
            0 => Fault::Status500,
            1 => Fault::Status503,
            2 => Fault::Dropped,
            _ => Fault::Slow,
        })
    }
}

/// How a route fault answers (`POST /_sandbox/faults`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteAnswer {
    /// This status, before doing anything.
    Status(u16),
    /// This status with this body (as `application/json`, whatever it
    /// holds), before doing anything, or with `after`, once the request was
    /// carried out (its own answer discarded): an answer no real org gives
    /// (an empty body, another object), for tests of what gcctl trusts.
    Body { status: u16, body: String, after: bool },
    /// The change is committed, then the connection is dropped unanswered.
    Dropped,
    /// Held until the sandbox has seen a request on the route `until`
    /// (since the stats were last reset, this one's start included), then
    /// handled as usual; `status` if none comes within [`HOLD_LIMIT`]. For
    /// tests of what a client sends without waiting for an answer.
    HoldUntil { until: String, status: u16 },
}

/// How long a [`RouteAnswer::HoldUntil`] waits for its request at most.
pub const HOLD_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Faults asked for on one route: the next `times` requests whose
/// `METHOD /template` is `route` answer `answer` (before any seeded fault).
#[derive(Debug, Default)]
pub struct RouteFaults {
    pending: Vec<(String, RouteAnswer, u32)>,
}

impl RouteFaults {
    /// Queue `times` faults on `route`, after any already queued for it.
    pub fn add(&mut self, route: String, answer: RouteAnswer, times: u32) {
        self.pending.push((route, answer, times));
    }

    /// The fault for a request on `route`, if one is queued (using it up).
    pub fn take(&mut self, route: &str) -> Option<RouteAnswer> {
        let index = self.pending.iter().position(|(r, _, left)| r == route && *left > 0)?;
        let entry = &mut self.pending[index];
        entry.2 -= 1;
        let answer = entry.1.clone();
        if entry.2 == 0 {
            self.pending.remove(index);
        }
        Some(answer)
    }
}

/// Counters of injected faults.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultCounts {
    pub status500: u64,
    pub status503: u64,
    pub dropped: u64,
    pub slow: u64,
}

/// The body of `GET /_sandbox/stats`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_requests: u64,
    /// Keyed `METHOD /route/{template}`; unrouted requests count as `METHOD (no route)`.
    pub by_route: BTreeMap<String, u64>,
    #[serde(rename = "status429")]
    pub status_429: u64,
    pub faults_injected: FaultCounts,
    /// The most requests of each route (keyed as `by_route`) the sandbox
    /// was serving at the same time, latency included: what a client sent
    /// at once (pages of a list read together show as their number).
    pub peak_in_flight: BTreeMap<String, u64>,
    /// When the sandbox last handed an answer (API or token request) to its
    /// connection, in microseconds since the Unix epoch; `None` before the
    /// first. A benchmark subtracts the time it started its client from it:
    /// how long the client was waiting on the org at the least, and what
    /// its run spent after the last answer.
    pub last_answer_unix_us: Option<u64>,
    /// The requests of each route being served now.
    #[serde(skip)]
    in_flight: BTreeMap<String, u64>,
}

impl Stats {
    /// Clear the counts; requests being served stay counted in flight.
    pub fn reset(&mut self) {
        let in_flight = std::mem::take(&mut self.in_flight);
        *self = Stats { in_flight, ..Stats::default() };
    }

    /// Whether a request of `route_key` started being served since the
    /// counts were last cleared.
    pub fn seen(&self, route_key: &str) -> bool {
        self.peak_in_flight.contains_key(route_key)
    }

    /// A request of `route_key` starts being served.
    pub fn enter(&mut self, route_key: &str) {
        let now = self.in_flight.entry(route_key.to_string()).or_default();
        *now += 1;
        let now = *now;
        let peak = self.peak_in_flight.entry(route_key.to_string()).or_default();
        *peak = (*peak).max(now);
    }

    /// A request of `route_key` is answered (or abandoned).
    pub fn leave(&mut self, route_key: &str) {
        if let Some(now) = self.in_flight.get_mut(route_key) {
            *now = now.saturating_sub(1);
        }
    }

    pub fn record(&mut self, route_key: String, status: u16) {
        self.last_answer_unix_us = Some(unix_us(std::time::SystemTime::now()));
        self.total_requests += 1;
        *self.by_route.entry(route_key).or_default() += 1;
        if status == 429 {
            self.status_429 += 1;
        }
    }

    pub fn record_fault(&mut self, fault: Fault) {
        let counts = &mut self.faults_injected;
        match fault {
            Fault::Status500 => counts.status500 += 1,
            Fault::Status503 => counts.status503 += 1,
            Fault::Dropped => counts.dropped += 1,
            Fault::Slow => counts.slow += 1,
        }
    }
}

/// Microseconds since the Unix epoch (0 for a clock set before it).
fn unix_us(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
