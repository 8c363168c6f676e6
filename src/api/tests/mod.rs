//! Client behavior tests against scripted local servers on `127.0.0.1:0`.
//!
//! [`serve`] runs an axum server that records every request and answers with a script: a
//! closure from the request and its index among requests with the same method and path to a
//! response. Tokens are served by the same server (loopback targets log in on the API host).

mod client;
mod hostile;
mod paging;
mod pool;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use secrecy::SecretString;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::{Auth, Client, ClientConfig, resolve_region};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Value of a query parameter.
    pub fn param(&self, name: &str) -> Option<String> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find_map(|(k, v)| (k == name).then(|| v.replace("%2A", "*").replace('+', " ")))
    }
}

type Script = dyn Fn(&Seen, usize) -> Response + Send + Sync;

struct ServerState {
    script: Box<Script>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// A scripted server; stops when dropped.
pub(super) struct Server {
    pub base: String,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// How many requests had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method && s.path == path).count()
    }

    /// Most requests handled at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// A client for this server with test-friendly limits (no rate limit, short deadline).
    pub fn client(&self, auth: Auth) -> Client {
        Client::new(self.config(auth)).unwrap()
    }

    pub fn config(&self, auth: Auth) -> ClientConfig {
        let mut config = ClientConfig::new(resolve_region(&self.base).unwrap(), auth);
        config.rate_limit_per_minute = 0;
        config.retry_deadline = Duration::from_secs(10);
        config.request_timeout = Duration::from_secs(5);
        config
    }
}

/// Response header the server strips and turns into a delay before answering.
const DELAY_HEADER: &str = "x-test-delay-ms";

/// Start a scripted server.
pub(super) async fn serve(
    script: impl Fn(&Seen, usize) -> Response + Send + Sync + 'static,
) -> Server {
    let state = Arc::new(ServerState {
        script: Box::new(script),
        seen: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let app = Router::new().fallback(handle).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { base, state, task }
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let seen = Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let mut response = {
        let mut all = state.seen.lock().unwrap();
        let index = all.iter().filter(|s| s.method == seen.method && s.path == seen.path).count();
        all.push(seen.clone());
        drop(all);
        (state.script)(&seen, index)
    };
    if let Some(ms) = response.headers_mut().remove(DELAY_HEADER) {
        let ms: u64 = ms.to_str().unwrap().parse().unwrap();
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// A JSON response.
pub(super) fn json(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A response with extra headers.
pub(super) fn with_headers(mut response: Response, headers: &[(&'static str, &str)]) -> Response {
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().unwrap());
    }
    response
}

/// Answer after `ms` milliseconds.
pub(super) fn delayed(response: Response, ms: u64) -> Response {
    with_headers(response, &[(DELAY_HEADER, &ms.to_string())])
}

/// The normalized Genesys 429.
pub(super) fn too_many_requests(retry_after: &str) -> Response {
    let body = serde_json::json!({
        "message": format!("Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"),
        "code": "too.many.requests.retry.after", "status": 429, "contextId": "ctx-429",
        "details": [], "errors": []
    });
    with_headers(json(429, &body), &[("retry-after", retry_after)])
}

/// A token endpoint answer.
pub(super) fn token(access_token: &str, expires_in: u64) -> Response {
    json(
        200,
        &serde_json::json!({"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}),
    )
}

pub(super) fn credentials(id: &str, secret: &str) -> Auth {
    Auth::ClientCredentials {
        client_id: id.to_owned(),
        client_secret: SecretString::from(secret.to_owned()),
    }
}

pub(super) fn access_token(token: &str) -> Auth {
    Auth::AccessToken(SecretString::from(token.to_owned()))
}

/// Count of requests per `pageNumber` (for paging tests).
pub(super) fn page_numbers(seen: &[Seen], path: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for s in seen.iter().filter(|s| s.path == path) {
        *counts.entry(s.param("pageNumber").unwrap_or_default()).or_default() += 1;
    }
    counts
}
