//! Request middleware, outermost first:
//!
//! 1. [`observe`] (every route): assigns the correlation id (response header
//!    `ININ-Correlation-Id`, and `contextId` of any error body, rendered
//!    here), spends the configured latency (half of it before the request is
//!    handled, the rest after, the handling included: see [`draw_latency`])
//!    and the answer delay (after it), counts the request in the stats
//!    and writes the request log line. `/_sandbox/*` is neither delayed nor
//!    counted.
//! 2. [`guard`] (`/api/v2` routes only): bearer token, then the per-token rate
//!    limit, then the org-wide limit (when set), then the caller's
//!    permissions (the route template's requirement, see `authz`; 403 naming
//!    the missing permissions), then fault injection (a route fault asked
//!    for with `/_sandbox/faults`, else a seeded draw). `/oauth/token` has its
//!    own optional limit (in `auth::token`); `/_sandbox/*` is never limited,
//!    checked nor faulted.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng as _;

use super::auth::authenticate;
use super::authz;
use super::common::new_id;
use super::error::{ApiError, PendingError};
use super::knobs::{Fault, HOLD_LIMIT, RouteAnswer};
use super::server::Shared;

pub const CORRELATION_HEADER: &str = "ININ-Correlation-Id";

/// Outer middleware: correlation id, latency, error rendering, stats, log.
pub async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let internal = path.starts_with("/_sandbox/");
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let correlation = new_id();
    let key = format!("{method} {}", route.as_deref().unwrap_or("(no route)"));
    // Counted in flight until answered, or until the client goes away.
    let serving = (!internal).then(|| Serving::new(&state, &key));
    let latency = if internal { Duration::ZERO } else { draw_latency(&state) };
    // The request on its way in; handled; the answer on its way back.
    if !latency.is_zero() {
        tokio::time::sleep(latency / 2).await;
    }
    let mut response = next.run(request).await;
    if !latency.is_zero() {
        tokio::time::sleep_until((started + latency).into()).await;
    }
    if !internal && !state.config.answer_delay.is_zero() {
        // The request is handled: only its answer is late.
        tokio::time::sleep(state.config.answer_delay).await;
    }
    if let Some(PendingError(error)) = response.extensions_mut().remove::<PendingError>() {
        let body = axum::Json(error.body(&correlation));
        let (parts, _) = response.into_response().into_parts();
        let mut rendered = body.into_response();
        *rendered.status_mut() = parts.status;
        for (name, value) in &parts.headers {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
        response = rendered;
    }
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    let status = response.status().as_u16();
    drop(serving);
    if !internal {
        state.stats().record(key, status);
    }
    if state.config.log_requests {
        tracing::info!(
            target: "gcctl::sandbox",
            method = %method,
            path = %path,
            status,
            duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            correlation_id = %correlation,
            "request"
        );
    }
    response
}

/// A request being served, for the stats' `peakInFlight`.
struct Serving<'a> {
    state: &'a Shared,
    key: &'a str,
}

impl<'a> Serving<'a> {
    fn new(state: &'a Shared, key: &'a str) -> Self {
        state.stats().enter(key);
        Serving { state, key }
    }
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.state.stats().leave(self.key);
    }
}

/// A request's latency: `latency_ms ± latency_jitter_ms`, uniform. It is
/// the time from the request's arrival to its answer, the sandbox's own
/// handling included, as a real org's latency includes its servers' work:
/// half of it passes before the request is handled (the request on its way
/// in, so a client killed meanwhile may or may not have made its change),
/// the rest, less the handling's time, after (the answer on its way back).
/// Handling that takes longer than that half (a page of 500 queues rendered
/// on a busy machine) makes the answer late by the difference. Handling
/// after the whole latency instead would add each page's rendering to the
/// latency asked for, which a benchmark would charge to the client.
fn draw_latency(state: &Shared) -> Duration {
    let base = state.config.latency_ms;
    let jitter = state.config.latency_jitter_ms;
    let offset = if jitter == 0 { 0 } else { rand::rng().random_range(0..=2 * jitter) };
    Duration::from_millis((base + offset).saturating_sub(jitter))
}

/// `/api/v2` middleware: authentication, rate limit, permissions, faults.
pub async fn guard(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
    let caller = match authenticate(&state, request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let per_token = state.limiter().map(|mut limiter| limiter.take(&caller.token));
    if let Some(Err(seconds)) = per_token {
        return too_many_requests(seconds).into_response();
    }
    // The org-wide limit, when set, counts every request whatever its token.
    let org_wide = state.org_limiter().map(|mut limiter| limiter.take(ORG_BUCKET));
    if let Some(Err(seconds)) = org_wide {
        return too_many_requests(seconds).into_response();
    }
    let template = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let allowed = {
        let store = state.store_read();
        let method = request.method().as_str();
        let (template, path) = (template.as_deref().unwrap_or_default(), request.uri().path());
        authz::authorize(&store, &caller.subject, method, template, path)
    };
    if let Err(error) = allowed {
        return error.into_response();
    }
    request.extensions_mut().insert(caller);
    let route = format!("{} {}", request.method(), template.as_deref().unwrap_or_default());
    match state.take_route_fault(&route) {
        None => {}
        Some(RouteAnswer::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = format!("{route} failed (sandbox route fault)");
            return ApiError::new(status, "sandbox.route.fault", message).into_response();
        }
        Some(RouteAnswer::Body { status, body, after }) => {
            if after {
                drop(next.run(request).await);
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
            return (status, json, body).into_response();
        }
        Some(RouteAnswer::Dropped) => return drop_connection(next.run(request).await),
        Some(RouteAnswer::HoldUntil { until, status }) => {
            if let Err(error) = hold_until(&state, &route, &until, status).await {
                return error.into_response();
            }
        }
    }
    with_drawn_fault(&state, request, next).await
}

/// Hold a request until the sandbox has seen `until` (a route fault, see
/// [`RouteAnswer::HoldUntil`]), or fail it with `status` once
/// [`HOLD_LIMIT`] has passed without it.
async fn hold_until(state: &Shared, route: &str, until: &str, status: u16) -> Result<(), ApiError> {
    let held = Instant::now();
    while !state.stats().seen(until) {
        if held.elapsed() >= HOLD_LIMIT {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let message =
                format!("{route} was held for `{until}`, which never came (sandbox route fault)");
            return Err(ApiError::new(status, "sandbox.route.fault", message));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Run the request, or answer it with the random fault the sandbox's fault
/// injection draws for it (counted in the stats).
async fn with_drawn_fault(state: &Shared, request: Request, next: Next) -> Response {
    let fault = state.faults().draw();
    if let Some(fault) = fault {
        state.stats().record_fault(fault);
    }
    match fault {
        None => next.run(request).await,
        Some(Fault::Status500) => ApiError::internal(
            "The server encountered an internal error (sandbox fault injection).",
        )
        .into_response(),
        Some(Fault::Status503) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service.unavailable",
            "The service is currently unavailable (sandbox fault injection).",
        )
        .into_response(),
        Some(Fault::Slow) => {
            tokio::time::sleep(state.config.fault_slow).await;
            next.run(request).await
        }
        Some(Fault::Dropped) => drop_connection(next.run(request).await),
    }
}

/// The key of the org-wide bucket.
const ORG_BUCKET: &str = "(org)";

/// A normalized 429 (API reference §g): `Retry-After` and the Genesys code.
pub fn too_many_requests(seconds: u64) -> ApiError {
    let mut error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too.many.requests.retry.after",
        format!("Rate limit exceeded the maximum. Retry the request in [{seconds}] seconds"),
    );
    error.retry_after = Some(seconds);
    error
}

/// Keep the committed change but lose the answer: a body stream that fails
/// at once makes hyper abort the connection before the response goes out.
fn drop_connection(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<PendingError>();
    parts.headers.remove(header::CONTENT_LENGTH);
    let failing = futures::stream::once(async {
        Err::<Vec<u8>, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault injection: dropped connection",
        ))
    });
    Response::from_parts(parts, Body::from_stream(failing))
}
