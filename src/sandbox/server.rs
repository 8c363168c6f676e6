//! The server: shared state, router assembly, start and shutdown.
//!
//! Locks are `std::sync::Mutex`es held only for short synchronous sections
//! (never across an `.await`); a poisoned lock is recovered, since every
//! section leaves the data consistent before it can fail. Store changes and
//! their journal append happen under the same lock, so writes are serialized.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::auth::{self, Subject, Tokens};
use super::config::SandboxConfig;
use super::error::{ApiError, SandboxError};
use super::knobs::{Faults, RateLimiter, RouteAnswer, RouteFaults, Stats};
use super::middleware::{guard, observe};
use super::pages::Pages;
use super::store::Store;
use super::{routes, seed};

/// State shared by all handlers.
#[derive(Debug)]
pub struct AppState {
    pub config: SandboxConfig,
    /// Id of the OAuth client the sandbox was started with.
    pub admin_id: String,
    /// Read by many requests at once (a list's pages render side by side, as
    /// a real server's would), written by one.
    store: RwLock<Store>,
    /// Moves with every write lock taken on `store`: what a reader holding
    /// the store reads at (`pages`).
    generation: AtomicU64,
    /// List pages kept as written (`super::pages`).
    pages: Mutex<Pages>,
    tokens: Mutex<Tokens>,
    limiter: Option<Mutex<RateLimiter>>,
    /// The org-wide limit (one bucket for every token), when set.
    org_limiter: Option<Mutex<RateLimiter>>,
    /// The token endpoint's limit (one bucket), when set.
    token_limiter: Option<Mutex<RateLimiter>>,
    faults: Mutex<Faults>,
    stats: Mutex<Stats>,
    /// Pending version conflicts per user id: how many of the user's next
    /// routing skill or language writes answer 409 (`/_sandbox/conflicts`).
    conflicts: Mutex<std::collections::HashMap<String, u32>>,
    /// Faults asked for on one route (`/_sandbox/faults`).
    route_faults: Mutex<RouteFaults>,
}

pub type Shared = Arc<AppState>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AppState {
    /// The store, to write (or to read and write in one step).
    pub fn store(&self) -> RwLockWriteGuard<'_, Store> {
        let store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        // Under the lock: no reader holds the store, and none reads the
        // generation, until this write is over. Every write lock counts as a
        // write (some take it to read and write in one step).
        self.generation.fetch_add(1, Ordering::AcqRel);
        store
    }

    /// The store, to read only: readers share it.
    pub fn store_read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store's generation, read while holding it (`store_read`).
    pub fn generation(&self, _held: &Store) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The page kept under `key` for a reader of the store at `generation`.
    pub fn kept_page(&self, generation: u64, key: &str) -> Option<Bytes> {
        lock(&self.pages).get(generation, key)
    }

    /// Keep a page rendered from the store at `generation`.
    pub fn keep_page(&self, generation: u64, key: String, text: Bytes) {
        lock(&self.pages).keep(generation, key, text);
    }

    /// Whether this write to `user`'s routing skills or languages meets a
    /// pending version conflict (and uses it up).
    pub fn take_conflict(&self, user: &str) -> bool {
        let mut conflicts = lock(&self.conflicts);
        match conflicts.get_mut(user) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }
    /// The fault queued for the next request on `route` (`METHOD /template`).
    pub fn take_route_fault(&self, route: &str) -> Option<RouteAnswer> {
        lock(&self.route_faults).take(route)
    }

    pub fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }
    pub fn limiter(&self) -> Option<MutexGuard<'_, RateLimiter>> {
        self.limiter.as_ref().map(lock)
    }
    pub fn org_limiter(&self) -> Option<MutexGuard<'_, RateLimiter>> {
        self.org_limiter.as_ref().map(lock)
    }
    pub fn token_limiter(&self) -> Option<MutexGuard<'_, RateLimiter>> {
        self.token_limiter.as_ref().map(lock)
    }
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
    pub fn stats(&self) -> MutexGuard<'_, Stats> {
        lock(&self.stats)
    }
}

/// A sandbox serving on a local port. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    client_id: String,
    client_secret: String,
    user_id: String,
    user_token: String,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://HOST:PORT`, the value for `GENESYSCLOUD_REGION`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Client id accepted by `POST /oauth/token`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Client secret accepted by `POST /oauth/token`.
    pub fn client_secret(&self) -> &str {
        &self.client_secret
    }

    /// Id of the seeded admin user (`Sandbox Admin`).
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// An access token of the seeded admin user, minted at start as if the
    /// user had logged in elsewhere (e.g. with an implicit grant): the value
    /// for `GENESYSCLOUD_ACCESS_TOKEN`. It lives `token_lifetime` and, like
    /// every token, does not survive a restart.
    pub fn user_token(&self) -> &str {
        &self.user_token
    }

    /// Stop serving (in-flight requests get a short grace period) and fold the
    /// journal into the state file.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err() {
                task.abort();
            }
        }
        if let Err(err) = self.state.store().close() {
            tracing::warn!(target: "gcctl::sandbox", "failed to compact the sandbox org: {err}");
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            // Dropped without `shutdown`: like a killed process, release the
            // state file now (the aborted task lets go of the store later).
            self.state.store().abandon();
        }
    }
}

/// Connections the kernel may hold for the sandbox before it accepts them.
/// A client over HTTP/1.1 opens one connection per request in flight, and an
/// apply sends hundreds of creates at once: with the default of 128
/// (`TcpListener::bind`'s, as the standard library's), the queue overflowed,
/// the kernel dropped the last step of some handshakes, and their requests
/// reached the sandbox only when the client sent them again, 200 ms later on
/// loopback. A real API's front end does not stall a burst like that. The
/// kernel caps the value at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with [`LISTEN_BACKLOG`].
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind`: a restarted sandbox can take its port back at
    // once (on Windows the option means another thing, and is left off).
    #[cfg(not(windows))]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Start the sandbox: load or seed the org, bind, and serve in the background.
pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
    if !config.allow_non_loopback && !config.listen.ip().is_loopback() {
        return Err(SandboxError::NonLoopback(config.listen));
    }
    let (store, admins) = seed::prepare(&config)?;
    let listener = listen(config.listen)
        .map_err(|source| SandboxError::Bind { addr: config.listen, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr: config.listen, source })?;
    let state = Arc::new(AppState {
        limiter: config.rate_limit_per_minute.map(|n| Mutex::new(RateLimiter::new(n))),
        org_limiter: config.org_rate_limit_per_minute.map(|n| Mutex::new(RateLimiter::new(n))),
        token_limiter: config.token_rate_limit_per_minute.map(|n| Mutex::new(RateLimiter::new(n))),
        faults: Mutex::new(Faults::new(config.fault_rate, config.fault_seed)),
        admin_id: admins.client_id.clone(),
        store: RwLock::new(store),
        generation: AtomicU64::new(0),
        pages: Mutex::new(Pages::default()),
        tokens: Mutex::new(Tokens::default()),
        stats: Mutex::new(Stats::default()),
        conflicts: Mutex::new(std::collections::HashMap::new()),
        route_faults: Mutex::new(RouteFaults::default()),
        config,
    });
    let user_token =
        state.tokens().mint(Subject::User(admins.user_id.clone()), state.config.token_lifetime);
    let app = router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // `into_make_service` hands each connection a clone of the router
        // (an `Arc`). Served as a bare `Router`, axum rebuilds its whole
        // route table for every connection (`Router::with_state(())`), and
        // a client with a thousand requests in flight opens a thousand:
        // that was two fifths of the sandbox's CPU in an apply of 1,000
        // creates. The router's state is already applied, so every
        // endpoint is a ready `Route` either way.
        let serve = axum::serve(listener, app.into_make_service()).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(err) = serve.await {
            tracing::error!(target: "gcctl::sandbox", "sandbox server failed: {err}");
        }
    });
    Ok(RunningSandbox {
        addr,
        client_id: admins.client_id,
        client_secret: admins.client_secret,
        user_id: admins.user_id,
        user_token,
        state,
        stop: Some(stop),
        task: Some(task),
    })
}

fn router(state: Shared) -> Router {
    let api = routes::api().route_layer(axum::middleware::from_fn_with_state(state.clone(), guard));
    Router::new()
        .merge(api)
        // Presigned upload and download URLs of flow jobs: outside
        // `/api/v2`, without a token, like a storage service's.
        .merge(routes::flow_jobs::transfers())
        .route("/oauth/token", post(auth::token))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/users", post(seed::put_user))
        .route("/_sandbox/conflicts", post(conflicts))
        .route("/_sandbox/faults", post(route_faults))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn stats(State(state): State<Shared>) -> Response {
    let snapshot = state.stats().clone();
    axum::Json(snapshot).into_response()
}

/// `POST /_sandbox/conflicts` `{"userId", "writes"}`: someone else changes
/// the user concurrently, so its next `writes` writes of routing skills or
/// languages (bulk PATCH or PUT, DELETE of one) answer 409, the version
/// mismatch the Terraform provider retries (API reference §i).
async fn conflicts(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let request = parsed.ok().and_then(|v| {
        Some((
            v.get("userId")?.as_str()?.to_string(),
            u32::try_from(v.get("writes")?.as_u64()?).ok()?,
        ))
    });
    let Some((user, writes)) = request else {
        return ApiError::bad_request("expected {\"userId\": \"…\", \"writes\": N}")
            .into_response();
    };
    lock(&state.conflicts).insert(user.clone(), writes);
    axum::Json(json!({"userId": user, "writes": writes})).into_response()
}

/// `POST /_sandbox/faults` `{"route": "METHOD /template", "status": N}`,
/// `{"route": …, "status": N, "body": "TEXT"[, "after": true]}`, `{"route": …, "dropped":
/// true}` or `{"route": …, "until": "METHOD /template", "status": N}`, with
/// `"times"` (default 1): the next requests on that route (its method and
/// route template, as the stats key them) answer that status (with that
/// body; with `after`, once carried out) before doing anything, or are carried out and then lose their
/// answer, or are held until a request on `until` has come (and answer
/// `status` if none does within ten seconds). For tests of one exact
/// failure, or of what a client sends without waiting.
async fn route_faults(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let route = parsed.get("route").and_then(Value::as_str).map(str::to_string);
    let status = parsed.get("status").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok());
    let status = status.filter(|s| StatusCode::from_u16(*s).is_ok());
    let until = parsed.get("until").and_then(Value::as_str).map(str::to_string);
    let body = parsed.get("body").and_then(Value::as_str).map(str::to_string);
    let answer = match (status, parsed.get("dropped").and_then(Value::as_bool), until) {
        (Some(status), None | Some(false), None) if body.is_some() => Some(RouteAnswer::Body {
            status,
            body: body.unwrap_or_default(),
            after: parsed.get("after").and_then(Value::as_bool) == Some(true),
        }),
        (Some(status), None | Some(false), None) => Some(RouteAnswer::Status(status)),
        (None, Some(true), None) => Some(RouteAnswer::Dropped),
        (Some(status), None | Some(false), Some(until)) => {
            Some(RouteAnswer::HoldUntil { until, status })
        }
        _ => None,
    };
    let times =
        parsed.get("times").map_or(Some(1), |t| t.as_u64().and_then(|t| u32::try_from(t).ok()));
    let (Some(route), Some(answer), Some(times)) = (route, answer, times) else {
        return ApiError::bad_request(
            "expected {\"route\": \"METHOD /template\", \"status\": N or \"dropped\": true or \"until\": \"METHOD /template\" with \"status\": N, \"times\": N}",
        )
        .into_response();
    };
    state.route_faults.lock().unwrap_or_else(PoisonError::into_inner).add(
        route.clone(),
        answer,
        times,
    );
    axum::Json(json!({"route": route, "times": times})).into_response()
}

async fn reset(State(state): State<Shared>) -> Response {
    state.stats().reset();
    axum::Json(json!({"reset": true})).into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not.found",
        format!("No resource found at {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        format!("The method {method} is not allowed on {}", uri.path()),
    )
}
