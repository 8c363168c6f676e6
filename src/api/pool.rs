//! The token pool: one or more access tokens, each with its own rate budget and its own
//! `Retry-After` pause, and a dispatcher that sends each request on a token with budget.
//!
//! Genesys Cloud limits requests per client-credentials token (300 a minute by default), not
//! per organization (API reference, Summary item 9 and §g). A long run on one token is bound
//! by that budget; a run spread over k tokens by k budgets. The pool starts with one token and
//! mints another only when the work waiting for a token would take more than [`GROW_AFTER`] at
//! the budgets the pool has (its tokens' remaining buckets, then their refill rate), up to
//! `max_tokens`. The waiting work is the calls in progress without a token, plus the calls a
//! caller said it is about to make ([`Pool::expect`]: an apply announces its changes, so the
//! tokens it needs are minted while its first requests go out, not after they have). A plan
//! or a small apply never mints a second token.
//!
//! Invariants:
//! - every token has its own bucket, shaped like the server's (see [`Bucket`]), and its own
//!   pause after a 429 on it; a request is dispatched to the token with the most budget left;
//! - a token is minted by one caller at a time per need (the first token, a refresh of one
//!   token, or one more token for growth); others wait on the pool or use the tokens it has;
//! - growth stops for the run when the token endpoint answers 429 (until its `Retry-After`
//!   passes), when minting fails, and after any 429 on an API request while the token had
//!   budget by the client's count: a limit that is not per token (an org-wide cap, a
//!   per-endpoint limit) is not helped by more tokens;
//! - a ready access token ([`Auth::AccessToken`]) is one token that cannot be refreshed nor
//!   pooled;
//! - in-flight requests scale with the pool: `per_token_in_flight` permits per token;
//! - tokens and the client secret stay in [`SecretString`]s: no `Debug`, no log, no error
//!   message ever shows them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::auth::{MintContext, Minter};
use super::config::Auth;
use super::error::{ApiError, ApiErrorKind};
use super::retry::{self, Class};

/// Grow the pool when the waiting work would take longer than this at the pool's budgets.
pub(super) const GROW_AFTER: Duration = Duration::from_secs(2);
/// Requests in flight on a client that cannot pool (one token, as before pooling).
pub(super) const LONE_TOKEN_IN_FLIGHT: usize = 20;

/// Requests in flight per token by default: as many as a new token's budget allows at once
/// (its bucket, 295 at 300 a minute), so that one wave of requests spends it (a thousand
/// creates go out in two waves: a bucketful while more tokens are minted, then the rest),
/// and at least [`ClientConfig::DEFAULT_TOKEN_IN_FLIGHT`]. The budgets, not this bound, keep a
/// run within the limits. Whether a real org minds a burst of this many requests at once
/// from one client is UNVERIFIED (no concurrency limit is documented; over HTTP/2 a server's
/// stream limit per connection queues the rest in the client, and a 429 pauses the token).
///
/// [`ClientConfig::DEFAULT_TOKEN_IN_FLIGHT`]: super::config::ClientConfig::DEFAULT_TOKEN_IN_FLIGHT
fn burst_in_flight(per_minute: u32) -> usize {
    let floor = super::config::ClientConfig::DEFAULT_TOKEN_IN_FLIGHT;
    let bucket = Bucket::new(per_minute, Instant::now());
    if bucket.unlimited() {
        return floor;
    }
    // The capacity is a whole number of requests below `per_minute`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let burst = bucket.capacity as usize;
    burst.max(floor)
}

/// A token to put in one request: which slot it came from and its generation.
pub(super) struct Lease<'a> {
    pool: &'a Pool,
    pub(super) secret: SecretString,
    /// Unique among the tokens of this client; 0 for a ready access token.
    pub(super) generation: u64,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.leased.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A per-token budget shaped like the server's: a bucket of one minute's requests less one
/// second's worth (a margin for arrival jitter), refilled at `per_minute / 60` per second. A
/// new token starts full. `per_minute == 0`: unlimited.
#[derive(Debug, Clone)]
pub(super) struct Bucket {
    capacity: f64,
    per_second: f64,
    level: f64,
    last: Instant,
}

impl Bucket {
    pub(super) fn new(per_minute: u32, now: Instant) -> Bucket {
        if per_minute == 0 {
            return Bucket {
                capacity: f64::INFINITY,
                per_second: 0.0,
                level: f64::INFINITY,
                last: now,
            };
        }
        let margin = (per_minute / 60).max(1);
        let capacity = f64::from(per_minute.saturating_sub(margin).max(1));
        Bucket { capacity, per_second: f64::from(per_minute) / 60.0, level: capacity, last: now }
    }

    pub(super) fn unlimited(&self) -> bool {
        self.capacity.is_infinite()
    }

    fn refill(&mut self, now: Instant) {
        if self.unlimited() {
            return;
        }
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.level = (self.level + elapsed * self.per_second).min(self.capacity);
        self.last = now;
    }

    /// Requests the bucket allows now.
    pub(super) fn level(&mut self, now: Instant) -> f64 {
        self.refill(now);
        self.level
    }

    /// Take one request, if the budget allows it now.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.level >= 1.0 {
            self.level -= 1.0;
            true
        } else {
            false
        }
    }

    /// When the next request will be allowed.
    pub(super) fn ready_at(&mut self, now: Instant) -> Instant {
        self.refill(now);
        if self.level >= 1.0 || self.per_second <= 0.0 {
            return now;
        }
        now + Duration::from_secs_f64((1.0 - self.level) / self.per_second)
    }

    /// Empty the bucket (the server said the budget is spent).
    fn drain(&mut self, now: Instant) {
        self.refill(now);
        if !self.unlimited() {
            self.level = 0.0;
        }
    }
}

/// One token of the pool.
struct Slot {
    /// `None` while the first mint of a slot or its refresh is under way.
    token: Option<SecretString>,
    generation: u64,
    /// When to replace the token; `None`: never (a ready access token).
    refresh_at: Option<Instant>,
    /// A caller is minting this slot's replacement.
    refreshing: bool,
    bucket: Bucket,
    /// End of a pause a 429 on this token asked for.
    paused_until: Option<Instant>,
}

impl Slot {
    fn usable(&self, now: Instant) -> bool {
        self.token.is_some()
            && !self.refreshing
            && self.refresh_at.is_none_or(|at| now < at)
            && self.paused_until.is_none_or(|until| until <= now)
    }
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    /// Growth mints under way (each will add a slot).
    minting: usize,
    generations: u64,
    /// The token endpoint refused the credentials (or failed until the deadline): every later
    /// request fails at once with this error.
    refused: Option<ApiError>,
    /// The token endpoint asked to wait (429) until then before minting again.
    mint_paused_until: Option<Instant>,
    /// The pool does not grow any more in this run (see the module invariants).
    growth_stopped: bool,
}

/// What a caller does after looking at the pool.
enum Next<'a> {
    Use(Lease<'a>),
    /// Mint the first token, or one more for growth.
    Mint {
        first: bool,
    },
    /// Replace the token of slot `index`.
    Refresh(usize),
    /// Wait until then (or until the pool changes).
    Wait(Option<Instant>),
}

/// Where tokens come from.
enum Source {
    Static(SecretString),
    Minted(Box<Minter>),
}

pub(super) struct Pool {
    source: Source,
    max_tokens: usize,
    per_minute: u32,
    per_token_in_flight: usize,
    state: Mutex<State>,
    changed: Notify,
    /// Calls in progress (waiting for a token, in flight, or between retries).
    pending: AtomicUsize,
    /// Calls holding a token (sent or about to be).
    leased: AtomicUsize,
    /// Calls announced by [`Pool::expect`] and not begun yet: each call begun takes one.
    expected: AtomicUsize,
    /// In-flight requests: `per_token_in_flight` per token.
    pub(super) permits: Semaphore,
}

/// Counts a call in progress while it lives.
pub(super) struct PendingCall<'a>(&'a Pool);

impl Drop for PendingCall<'_> {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("TokenPool");
        match &self.source {
            Source::Static(_) => s.field("source", &"access token [redacted]"),
            Source::Minted(minter) => s.field("source", minter),
        };
        s.field("max_tokens", &self.max_tokens).finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool for `auth`: client credentials mint up to `max_tokens` tokens; a ready access
    /// token is the only token. `per_minute` is each token's budget (0: unlimited).
    pub(super) fn new(
        auth: &Auth,
        login_base: &Url,
        max_tokens: usize,
        per_minute: u32,
        max_concurrency: Option<usize>,
    ) -> Result<Pool, ApiError> {
        let source = match auth {
            Auth::AccessToken(token) => {
                super::untrusted::register_secret(token.expose_secret());
                Source::Static(token.clone())
            }
            Auth::ClientCredentials { client_id, client_secret } => {
                Source::Minted(Box::new(Minter::new(client_id, client_secret, login_base)?))
            }
        };
        let max_tokens = match source {
            Source::Static(_) => 1,
            Source::Minted(_) => max_tokens.max(1),
        };
        // A client that cannot pool keeps the in-flight bound it always had.
        let per_token_in_flight = if max_tokens <= 1 {
            max_concurrency.unwrap_or(LONE_TOKEN_IN_FLIGHT).clamp(1, LONE_TOKEN_IN_FLIGHT)
        } else {
            max_concurrency.map_or_else(|| burst_in_flight(per_minute), |set| set.max(1))
        };
        let mut state = State::default();
        if let Source::Static(token) = &source {
            state.slots.push(Slot {
                token: Some(token.clone()),
                generation: 0,
                refresh_at: None,
                refreshing: false,
                bucket: Bucket::new(per_minute, Instant::now()),
                paused_until: None,
            });
        }
        Ok(Pool {
            source,
            max_tokens,
            per_minute,
            per_token_in_flight,
            state: Mutex::new(state),
            changed: Notify::new(),
            pending: AtomicUsize::new(0),
            leased: AtomicUsize::new(0),
            expected: AtomicUsize::new(0),
            permits: Semaphore::new(per_token_in_flight),
        })
    }

    /// Whether a 401 can be answered by minting a new token.
    pub(super) fn can_refresh(&self) -> bool {
        matches!(self.source, Source::Minted(_))
    }

    /// Whether more than one token may be used (client credentials and `max_tokens > 1`).
    pub(super) fn can_grow(&self) -> bool {
        self.max_tokens > 1
    }

    /// Most requests in flight once the pool is at its largest.
    pub(super) fn max_in_flight(&self) -> usize {
        self.per_token_in_flight.saturating_mul(self.max_tokens)
    }

    /// Tokens the pool holds now.
    pub(super) fn tokens(&self) -> usize {
        self.lock().slots.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Count a call in progress (the demand the pool grows for) until the guard drops.
    pub(super) fn pending_call(&self) -> PendingCall<'_> {
        self.pending.fetch_add(1, Ordering::Relaxed);
        // An announced call has begun: it is counted as pending now.
        let _ =
            self.expected.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |e| e.checked_sub(1));
        PendingCall(self)
    }

    /// The caller is about to make `calls` calls (at least): count them as waiting work, in
    /// place of any earlier announcement, until they begin or [`Pool::expect`] is called
    /// again (0 withdraws it).
    pub(super) fn expect(&self, calls: usize) {
        self.expected.store(calls, Ordering::Relaxed);
    }

    /// Mint, all at once, the tokens the waiting work needs now (see [`Pool::should_grow`]).
    /// Called for calls announced by [`Pool::expect`], and by a request that found every
    /// in-flight permit taken (it waits anyway), so that the pool grows as soon as the work
    /// is there rather than when the first token's budget runs out. A failure to grow is not
    /// the caller's failure (see `mint_slot`): it only stops growth.
    pub(super) async fn grow_for_waiting(&self, ctx: &MintContext<'_>) {
        let mints = self.claim_growth();
        futures::future::join_all((0..mints).map(|_| self.mint_slot(false, false, ctx))).await;
    }

    /// How many tokens the waiting work needs beyond those the pool has or is minting, each
    /// counted as being minted (the caller mints them).
    fn claim_growth(&self) -> usize {
        let mut state = self.lock();
        let mut mints = 0;
        while !state.slots.is_empty() && self.should_grow(&mut state, Instant::now()) {
            state.minting += 1;
            mints += 1;
        }
        mints
    }

    /// A token with budget for one request, minting or refreshing one when needed, waiting
    /// for budget otherwise.
    pub(super) async fn acquire(&self, ctx: &MintContext<'_>) -> Result<Lease<'_>, ApiError> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.next(Instant::now())? {
                Next::Use(lease) => return Ok(lease),
                Next::Mint { first } => {
                    if let Some(lease) = self.mint_slot(first, true, ctx).await? {
                        return Ok(lease);
                    }
                }
                Next::Refresh(index) => {
                    if let Some(lease) = self.refresh_slot(index, true, ctx).await? {
                        return Ok(lease);
                    }
                }
                Next::Wait(until) => {
                    // Bounded: the pool is looked at again at least every second.
                    let cap = Instant::now() + Duration::from_secs(1);
                    let until = until.map_or(cap, |u| u.min(cap));
                    if until >= ctx.deadline {
                        return Err(ApiError::new(
                            "",
                            "",
                            ApiErrorKind::Deadline,
                            "no token had budget for the request before its deadline",
                        ));
                    }
                    tokio::select! {
                        () = &mut notified => {}
                        () = retry::sleep_until_budget(until) => {}
                    }
                }
            }
        }
    }

    fn next(&self, now: Instant) -> Result<Next<'_>, ApiError> {
        let mut state = self.lock();
        if let Some(refused) = &state.refused {
            return Err(refused.clone());
        }
        // The usable token with the most budget left.
        let mut best: Option<(usize, f64)> = None;
        for (i, slot) in state.slots.iter_mut().enumerate() {
            if !slot.usable(now) {
                continue;
            }
            let level = slot.bucket.level(now);
            if level >= 1.0 && best.is_none_or(|(_, l)| level > l) {
                best = Some((i, level));
            }
        }
        if let Some(lease) = best.and_then(|(i, _)| self.take(&mut state, i, now)) {
            return Ok(Next::Use(lease));
        }
        // A token due for refresh that nobody refreshes yet.
        if let Some(i) = state.slots.iter().position(|s| {
            !s.refreshing && s.token.is_some() && s.refresh_at.is_some_and(|at| now >= at)
        }) {
            state.slots[i].refreshing = true;
            return Ok(Next::Refresh(i));
        }
        if state.slots.is_empty() && state.minting == 0 {
            state.minting += 1;
            return Ok(Next::Mint { first: true });
        }
        if self.should_grow(&mut state, now) {
            state.minting += 1;
            return Ok(Next::Mint { first: false });
        }
        let wake = state
            .slots
            .iter_mut()
            .filter(|s| s.token.is_some() && !s.refreshing)
            .map(|s| {
                let paused = s.paused_until.filter(|u| *u > now).unwrap_or(now);
                s.bucket.ready_at(now).max(paused)
            })
            .min();
        Ok(Next::Wait(wake))
    }

    /// A lease on slot `index` if its token is there and its budget allows one request now.
    /// A token its caller has just minted is used once even when it is due for refresh
    /// already (a lifetime shorter than the refresh margin): each mint serves a request.
    fn take(&self, state: &mut State, index: usize, now: Instant) -> Option<Lease<'_>> {
        let slot = state.slots.get_mut(index)?;
        let secret = slot.token.clone()?;
        if slot.paused_until.is_some_and(|until| until > now) || !slot.bucket.take(now) {
            return None;
        }
        self.leased.fetch_add(1, Ordering::Relaxed);
        Some(Lease { pool: self, secret, generation: slot.generation })
    }

    /// Whether the work waiting for a token would take longer than [`GROW_AFTER`] at the
    /// budgets of the tokens the pool has or is minting.
    fn should_grow(&self, state: &mut State, now: Instant) -> bool {
        let tokens = state.slots.len() + state.minting;
        if tokens == 0
            || tokens >= self.max_tokens
            || state.growth_stopped
            || self.per_minute == 0
            || state.mint_paused_until.is_some_and(|u| u > now)
        {
            return false;
        }
        let waiting = (self.pending.load(Ordering::Relaxed)
            + self.expected.load(Ordering::Relaxed))
        .saturating_sub(self.leased.load(Ordering::Relaxed));
        let fresh = Bucket::new(self.per_minute, now);
        #[allow(clippy::cast_precision_loss)] // token and request counts are small
        let (budget, rate) = {
            let levels: f64 = state.slots.iter_mut().map(|s| s.bucket.level(now)).sum();
            let budget = levels + state.minting as f64 * fresh.capacity;
            (budget, tokens as f64 * fresh.per_second)
        };
        #[allow(clippy::cast_precision_loss)]
        let beyond = (waiting as f64 - budget).max(0.0);
        beyond / rate > GROW_AFTER.as_secs_f64()
    }

    /// Mint a token into a new slot. The first token is retried as any call (429, 5xx,
    /// transport failures, until the deadline); a token for growth is tried once, and a
    /// failure only stops growth (the run goes on with the tokens it has).
    async fn mint_slot(
        &self,
        first: bool,
        lease: bool,
        ctx: &MintContext<'_>,
    ) -> Result<Option<Lease<'_>>, ApiError> {
        let Source::Minted(minter) = &self.source else {
            self.lock().minting -= 1;
            return Ok(None);
        };
        let outcome_of_mint = if first {
            minter.mint_with_retry(ctx).await
        } else {
            minter.mint_once_counted(ctx).await
        };
        let mut state = self.lock();
        state.minting -= 1;
        let outcome = match outcome_of_mint {
            Ok((token, lifetime)) => {
                state.generations += 1;
                let slot = Slot {
                    token: Some(token),
                    generation: state.generations,
                    refresh_at: Some(refresh_at(lifetime)),
                    refreshing: false,
                    bucket: Bucket::new(self.per_minute, Instant::now()),
                    paused_until: None,
                };
                state.slots.push(slot);
                if !first {
                    self.permits.add_permits(self.per_token_in_flight);
                    tracing::debug!(tokens = state.slots.len(), "token pool grew");
                }
                let index = state.slots.len() - 1;
                Ok(if lease { self.take(&mut state, index, Instant::now()) } else { None })
            }
            Err((error, _)) if first => {
                // A refused client, or a token endpoint that failed until the deadline:
                // every later call fails at once with the same error.
                if matches!(error.kind, ApiErrorKind::Auth | ApiErrorKind::Deadline) {
                    state.refused = Some(error.clone());
                }
                Err(error)
            }
            Err((error, class)) => {
                if let Class::Throttled(after) = class {
                    let wait = after.unwrap_or(retry::DEFAULT_RETRY_AFTER);
                    state.mint_paused_until = Some(Instant::now() + wait);
                    tracing::debug!(wait_ms = wait.as_millis(), "token endpoint throttled growth");
                } else {
                    state.growth_stopped = true;
                    tracing::debug!(error = %error, "minting one more token failed; the pool stops growing");
                }
                Ok(None)
            }
        };
        drop(state);
        self.changed.notify_waiters();
        outcome
    }

    /// Replace the token of slot `index` (expired, or refused with a 401).
    async fn refresh_slot(
        &self,
        index: usize,
        lease: bool,
        ctx: &MintContext<'_>,
    ) -> Result<Option<Lease<'_>>, ApiError> {
        let Source::Minted(minter) = &self.source else {
            return Ok(None);
        };
        let outcome_of_mint = minter.mint_with_retry(ctx).await;
        let mut state = self.lock();
        let outcome = match outcome_of_mint {
            Ok((token, lifetime)) => {
                state.generations += 1;
                let generation = state.generations;
                if let Some(slot) = state.slots.get_mut(index) {
                    slot.token = Some(token);
                    slot.generation = generation;
                    slot.refresh_at = Some(refresh_at(lifetime));
                    slot.refreshing = false;
                }
                Ok(if lease { self.take(&mut state, index, Instant::now()) } else { None })
            }
            Err((error, _)) => {
                if let Some(slot) = state.slots.get_mut(index) {
                    slot.refreshing = false;
                }
                if matches!(error.kind, ApiErrorKind::Auth | ApiErrorKind::Deadline) {
                    state.refused = Some(error.clone());
                }
                Err(error)
            }
        };
        drop(state);
        self.changed.notify_waiters();
        outcome
    }

    /// The API refused the token of `stale_generation` with a 401: replace it, unless another
    /// request already did (or is doing so: then wait for it).
    pub(super) async fn refresh(
        &self,
        stale_generation: u64,
        ctx: &MintContext<'_>,
    ) -> Result<(), ApiError> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let index = {
                let mut state = self.lock();
                let Some(i) = state.slots.iter().position(|s| s.generation == stale_generation)
                else {
                    return Ok(());
                };
                if state.slots[i].refreshing {
                    None
                } else {
                    state.slots[i].refreshing = true;
                    Some(i)
                }
            };
            match index {
                // The new token goes back to the pool: the caller's retry acquires again.
                Some(i) => return self.refresh_slot(i, false, ctx).await.map(drop),
                None => notified.await,
            }
        }
    }

    /// A 429 on a request made with the token of `generation`: pause that token for the
    /// wait the server asked for, and stop growing when the client's count said the token had
    /// budget (the limit is then not per token).
    pub(super) fn throttled(&self, generation: u64, wait: Duration) {
        let now = Instant::now();
        let mut state = self.lock();
        let Some(slot) = state.slots.iter_mut().find(|s| s.generation == generation) else {
            return;
        };
        let had_budget = !slot.bucket.unlimited() && slot.bucket.level(now) >= 1.0;
        slot.bucket.drain(now);
        let until = now + wait;
        slot.paused_until = Some(slot.paused_until.map_or(until, |p| p.max(until)));
        if had_budget && !state.growth_stopped && self.can_grow() {
            state.growth_stopped = true;
            tracing::debug!("a 429 although the token had budget: the pool stops growing");
        }
    }

    /// Mint the first token now, if there is none yet and nobody is minting it.
    pub(super) async fn warm_up(&self, ctx: &MintContext<'_>) -> Result<(), ApiError> {
        let first = {
            let mut state = self.lock();
            let first = state.slots.is_empty() && state.minting == 0 && state.refused.is_none();
            if first {
                state.minting += 1;
            }
            first
        };
        if first { self.mint_slot(true, false, ctx).await.map(drop) } else { Ok(()) }
    }
}

/// Refresh a token when less than 10% of its lifetime (at most 60 s) remains.
fn refresh_at(lifetime: Duration) -> Instant {
    let margin = lifetime.mul_f64(0.1).min(Duration::from_secs(60));
    Instant::now() + lifetime.saturating_sub(margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_the_per_minute_budget_less_a_margin() {
        let now = Instant::now();
        for per_minute in [1, 2, 59, 60, 61, 100, 300, 1000, 3000, 100_000] {
            let b = Bucket::new(per_minute, now);
            let burst = b.capacity;
            assert!(burst < f64::from(per_minute) || per_minute == 1, "{per_minute}: {burst}");
            assert!(burst + f64::from((per_minute / 60).max(1)) >= f64::from(per_minute));
            assert!(b.per_second * 60.0 <= f64::from(per_minute) + 1e-9);
        }
        let mut b = Bucket::new(300, now);
        assert!((b.level(now) - 295.0).abs() < 1e-9);
        for _ in 0..295 {
            assert!(b.take(now));
        }
        assert!(!b.take(now));
        // One more every 200 ms.
        assert_eq!(b.ready_at(now), now + Duration::from_millis(200));
        assert!(b.take(now + Duration::from_millis(200)));
        assert!(Bucket::new(0, now).unlimited());
        assert!(Bucket::new(0, now).take(now));
    }

    /// A pool of client-credentials tokens (none minted yet) against a closed port.
    fn minted_pool(max_tokens: usize, per_minute: u32, in_flight: Option<usize>) -> Pool {
        let base = Url::parse("http://127.0.0.1:1/").unwrap();
        let minted = Auth::ClientCredentials {
            client_id: "id".into(),
            client_secret: SecretString::from("s".to_owned()),
        };
        Pool::new(&minted, &base, max_tokens, per_minute, in_flight).unwrap()
    }

    #[test]
    fn announced_calls_grow_the_pool_before_they_wait() {
        let pool = minted_pool(10, 300, None);
        // No token yet: growth waits for the first one.
        pool.expect(1_000);
        assert_eq!(pool.claim_growth(), 0);
        pool.lock().slots.push(Slot {
            token: Some(SecretString::from("t".to_owned())),
            generation: 1,
            refresh_at: None,
            refreshing: false,
            bucket: Bucket::new(300, Instant::now()),
            paused_until: None,
        });
        // A small apply fits one token's bucket (295) or nearly: nothing to mint.
        for small in [0, 100, 300] {
            pool.expect(small);
            assert_eq!(pool.claim_growth(), 0, "{small} calls");
        }
        // 1,000 calls need three more buckets; those being minted count.
        pool.expect(1_000);
        assert_eq!(pool.claim_growth(), 3);
        assert_eq!(pool.claim_growth(), 0);
        pool.lock().minting = 0;
        // Each call begun takes one from the announcement (it counts as pending instead).
        let begun: Vec<_> = (0..600).map(|_| pool.pending_call()).collect();
        assert_eq!(pool.expected.load(Ordering::Relaxed), 400);
        assert_eq!(pool.claim_growth(), 3);
        drop(begun);
        pool.lock().minting = 0;
        // Withdrawn: no waiting work left.
        pool.expect(0);
        assert_eq!(pool.claim_growth(), 0);
        // Never beyond `max_tokens`.
        pool.expect(100_000);
        assert_eq!(pool.claim_growth(), 9);
    }

    #[test]
    fn a_token_has_its_burst_in_flight_unless_told_otherwise() {
        let in_flight =
            |tokens, per_minute, set| minted_pool(tokens, per_minute, set).max_in_flight();
        // A bucketful each: 295 at 300 a minute, 118 at 120.
        assert_eq!(in_flight(10, 300, None), 2_950);
        assert_eq!(in_flight(10, 120, None), 1_180);
        // At least 100: a low budget, or none.
        assert_eq!(in_flight(10, 60, None), 1_000);
        assert_eq!(in_flight(10, 0, None), 1_000);
        // Set: as set.
        assert_eq!(in_flight(10, 300, Some(7)), 70);
        // One token, as before pooling.
        assert_eq!(in_flight(1, 300, None), 20);
        assert_eq!(in_flight(1, 300, Some(500)), 20);
        assert_eq!(in_flight(1, 300, Some(5)), 5);
    }
}
