//! The transport: one HTTP call with auth, retries, the token pool and the concurrency bound.
//!
//! Order of one attempt: take a concurrency permit (the pool adds permits as it grows), get a
//! token with budget from the pool (which waits out that token's `Retry-After` pause and its
//! rate budget, and mints a token when needed), send. Retries and 401 refreshes go through
//! the same steps, so every API request (but not the token call) is paced. The exchange itself
//! (connect, send, read and decode the answer) runs as its own task, so that the many calls a
//! caller makes at once use every core; dropping a call aborts its exchange.
//!
//! Invariants: the library never prints (request logs are `tracing::debug!` with method, path,
//! status and timing only: no query values, no headers, no bodies); the bearer token is only
//! ever written into the `Authorization` header of the outgoing request.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::time::Instant;

use super::auth::MintContext;
use super::config::{Auth, ClientConfig};
use super::error::{ApiError, ApiErrorKind};
use super::lean::EntityKeys;
use super::outcome::{
    Failure, correlation_header, decode_json, notice_wait, status_class, stopped, transfer_error,
    transport, transport_failure, unreachable_hint,
};
use super::pool::Pool;
use super::region::Target;
use super::retry::{self, Class};

/// A Genesys Cloud API client. Cheap to clone; clones share the token pool (tokens, their
/// rate budgets and pauses), the concurrency bound and the counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// For presigned upload and download URLs outside the API: no default
    /// headers, never a token (see [`Client::upload`]).
    transfer: reqwest::Client,
    config: ClientConfig,
    pool: Pool,
    counters: Counters,
}

/// Live counters behind [`ClientStats`].
#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) tokens_minted: AtomicU64,
}

/// What a client has done so far, for reports and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// API requests sent (each attempt counts; token requests do not).
    pub requests: u64,
    /// Attempts that repeated an earlier one (after a 429, 5xx, transport error or 401).
    pub retries: u64,
    /// 429 responses received, from the API or the token endpoint.
    pub throttled: u64,
    /// Tokens minted with client credentials (refreshes included).
    pub tokens_minted: u64,
    /// Tokens the pool holds (1 without pooling).
    pub pool_tokens: u64,
}

/// Calls announced with [`Client::expect_calls`]; dropping it withdraws what has not begun.
#[must_use = "the announcement is withdrawn when this guard drops"]
pub struct ExpectedCalls {
    client: Client,
}

impl Drop for ExpectedCalls {
    fn drop(&mut self) {
        self.client.inner.pool.expect(0);
    }
}

impl fmt::Debug for ExpectedCalls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpectedCalls").finish_non_exhaustive()
    }
}

/// One API call to make.
struct Call<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Option<&'a Value>,
    /// Repeating the call is harmless (every method but POST, and POSTs
    /// that are actions rather than creates).
    idempotent: bool,
    /// A listing page whose entities need only these keys decoded.
    keys: Option<&'a EntityKeys>,
    /// What a success must answer with, else it is one gcctl cannot read.
    expect: Expect,
}

/// What a successful answer must hold to be read ([`Call::expect`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Any JSON (an empty body is `null`).
    Any,
    /// The object written, an id in it (a write of one object answers so):
    /// an empty body, `{}` or a list says nothing of whether the write was
    /// made.
    Written,
    /// A listing page: an object holding `entities` (a list, or `null` for
    /// none): an empty body or `{}` is no page of an empty listing.
    Listing,
}

impl<'a> Call<'a> {
    /// `method` on `path`: no query, no body, every key decoded; repeatable
    /// unless it is a POST.
    fn new(method: Method, path: &'a str) -> Self {
        let idempotent = method != Method::POST;
        Call { method, path, query: &[], body: None, idempotent, keys: None, expect: Expect::Any }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("target", &self.inner.config.target.label)
            .field("tokens", &self.inner.pool)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Build a client; no request is sent until the first call.
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let init_error = |e: &dyn std::error::Error| {
            ApiError::new(
                "",
                "",
                ApiErrorKind::Transport,
                format!("cannot build the HTTP client: {e}"),
            )
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(headers)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            // A redirect could lead the bearer token, or a plain-http request,
            // to another host: never follow one (a 3xx is an error).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| init_error(&e))?;
        let transfer = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| init_error(&e))?;
        let pool = Pool::new(
            &config.auth,
            &config.target.login_base,
            config.max_tokens,
            config.rate_limit_per_minute,
            config.max_concurrency,
        )?;
        if config.max_tokens > 1 && matches!(config.auth, Auth::AccessToken(_)) {
            tracing::debug!(
                "an access token cannot be pooled: only OAuth client credentials mint more tokens"
            );
        }
        let inner = Inner { transfer, http, pool, counters: Counters::default(), config };
        Ok(Client { inner: Arc::new(inner) })
    }

    /// Where this client sends requests.
    pub fn target(&self) -> &Target {
        &self.inner.config.target
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The OAuth client id this client authenticates with (client credentials
    /// only): in Genesys Cloud it is also the OAuth client object's id.
    pub fn own_client_id(&self) -> Option<String> {
        match &self.inner.config.auth {
            crate::api::Auth::ClientCredentials { client_id, .. } => Some(client_id.clone()),
            crate::api::Auth::AccessToken(_) => None,
        }
    }

    /// Mint the first token now (client credentials only), so that it can be obtained while
    /// the caller does other work. A failure is not reported here: the first call that needs
    /// the token tries again and reports it with its context.
    pub async fn warm_up(&self) {
        let deadline = Instant::now() + self.inner.config.retry_deadline;
        if let Err(e) = self.inner.pool.warm_up(&self.mint_context(deadline)).await {
            tracing::debug!(error = %e, "token warm-up failed");
        }
    }

    /// Announce that at least `calls` calls are about to be made (an apply's changes), so
    /// that a pool that can grow mints the tokens they need now, in the background, while
    /// the first calls go out on the tokens it has; growth follows the same rule as always
    /// (the waiting work would take longer than a couple of seconds at the pool's budgets),
    /// so a small run mints nothing. The announcement lasts until the returned guard drops
    /// or every announced call has begun, and replaces any earlier one.
    pub fn expect_calls(&self, calls: usize) -> ExpectedCalls {
        self.inner.pool.expect(calls);
        if self.inner.pool.can_grow() && tokio::runtime::Handle::try_current().is_ok() {
            let client = self.clone();
            tokio::spawn(async move {
                let deadline = Instant::now() + client.inner.config.retry_deadline;
                client.inner.pool.grow_for_waiting(&client.mint_context(deadline)).await;
            });
        }
        ExpectedCalls { client: self.clone() }
    }

    /// Whether this client can use more than one token (OAuth client credentials and
    /// [`ClientConfig::max_tokens`] above 1; a ready access token cannot be pooled).
    pub fn can_pool(&self) -> bool {
        self.inner.pool.can_grow()
    }

    /// Most requests this client has in flight once its pool is at its largest: a caller
    /// with many independent calls (apply) keeps this many going.
    pub fn max_in_flight(&self) -> usize {
        self.inner.pool.max_in_flight()
    }

    /// Counters so far.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            tokens_minted: c.tokens_minted.load(Ordering::Relaxed),
            pool_tokens: u64::try_from(self.inner.pool.tokens()).unwrap_or(u64::MAX),
        }
    }

    /// GET a JSON document (`Null` for an empty body).
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ApiError> {
        self.call(Call { query, ..Call::new(Method::GET, path) }).await
    }

    /// GET a listing page, decoding of each entity only `keys` (when given;
    /// see [`EntityKeys`]).
    pub(super) async fn get_page(
        &self,
        path: &str,
        query: &[(&str, String)],
        keys: Option<&EntityKeys>,
    ) -> Result<Value, ApiError> {
        self.call(Call { query, keys, expect: Expect::Listing, ..Call::new(Method::GET, path) })
            .await
    }

    /// GET a JSON document; a 404 is `None`.
    pub async fn get_optional(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<Value>, ApiError> {
        match self.get(path, query).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POST (not idempotent: retried only on 429 and when nothing was sent; otherwise a
    /// failure after sending has [`ApiError::outcome_unknown`] set).
    pub async fn post(&self, path: &str, body: Option<&Value>) -> Result<Value, ApiError> {
        self.call(Call { body, ..Call::new(Method::POST, path) }).await
    }

    /// POST an action that is harmless to repeat (regenerating a secret: the
    /// last answer wins), so it is retried like a PUT on 5xx and lost answers.
    pub async fn post_repeatable(
        &self,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.call(Call { body, idempotent: true, ..Call::new(Method::POST, path) }).await
    }

    /// [`Client::post_repeatable`] with query parameters (a queue's
    /// `members?delete=true`).
    pub async fn post_repeatable_query(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
    ) -> Result<Value, ApiError> {
        let call =
            Call { query, body: Some(body), idempotent: true, ..Call::new(Method::POST, path) };
        self.call(call).await
    }

    /// POST an action that takes query parameters and no body (a flow's
    /// `actions/unlock?flow=…`): harmless to repeat.
    pub async fn post_action(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, ApiError> {
        self.call(Call { query, idempotent: true, ..Call::new(Method::POST, path) }).await
    }

    /// PUT `body` to a presigned URL an API call returned (a flow import
    /// job's `presignedUrl`), with exactly `headers` (the job's) and never
    /// the bearer token: the URL carries its own authorization, and a
    /// storage service refuses a request that also has an `Authorization`
    /// header. Only `https` URLs, or `http` to a loopback host (the
    /// sandbox), are accepted. Retried on transport errors and 5xx for up
    /// to 20 s, as the provider does (API reference §h); any status but
    /// 2xx is a failure.
    pub async fn upload(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: String,
    ) -> Result<(), ApiError> {
        const PATH: &str = "(the presigned upload URL)";
        let url = transfer_url("PUT", PATH, url)?;
        let mut request_headers = HeaderMap::new();
        for (name, value) in headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            match (name, value) {
                (Ok(name), Ok(value)) => {
                    request_headers.insert(name, value);
                }
                _ => {
                    let message = "the upload headers the API returned are not valid HTTP headers";
                    return Err(ApiError::new("PUT", PATH, ApiErrorKind::Decode, message));
                }
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut wait = Duration::from_millis(250);
        loop {
            let request = self
                .inner
                .transfer
                .put(url.clone())
                .headers(request_headers.clone())
                .body(body.clone());
            let retry = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let error = transfer_error("PUT", PATH, response).await;
                    if status < 500 {
                        return Err(error);
                    }
                    error
                }
                Err(e) => transport_failure("PUT", PATH, e, true).0,
            };
            if Instant::now() + wait > deadline {
                return Err(retry);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(4));
        }
    }

    /// GET a presigned download URL an API call returned (a flow export
    /// job's `downloadUrl`) as text, without the bearer token (same rules
    /// as [`Client::upload`]). Retried on 429 (honoring `Retry-After`),
    /// 5xx and transport errors, 10 tries, as the provider does.
    pub async fn download(&self, url: &str) -> Result<String, ApiError> {
        const PATH: &str = "(the presigned download URL)";
        let url = transfer_url("GET", PATH, url)?;
        let mut wait = Duration::from_millis(250);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (error, after) = match self.inner.transfer.get(url.clone()).send().await {
                Ok(response) if response.status().is_success() => {
                    let bytes = super::untrusted::read_body(response).await.map_err(|_| {
                        ApiError::new("GET", PATH, ApiErrorKind::Transport, "the download failed")
                    })?;
                    return String::from_utf8(bytes).map_err(|_| {
                        ApiError::new(
                            "GET",
                            PATH,
                            ApiErrorKind::Decode,
                            "the download is not UTF-8 text",
                        )
                    });
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let after = retry::retry_after(response.headers());
                    let error = transfer_error("GET", PATH, response).await;
                    if status != 429 && status < 500 {
                        return Err(error);
                    }
                    (error, after)
                }
                Err(e) => (transport_failure("GET", PATH, e, true).0, None),
            };
            if attempt >= 10 {
                return Err(error);
            }
            tokio::time::sleep(after.unwrap_or(wait).min(Duration::from_secs(30))).await;
            wait = (wait * 2).min(Duration::from_secs(4));
        }
    }

    /// PUT (replaces the object).
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Call { body: Some(body), ..Call::new(Method::PUT, path) }).await
    }

    /// PATCH.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Call { body: Some(body), ..Call::new(Method::PATCH, path) }).await
    }

    /// PUT of one object, which the org answers with the object written: a
    /// success without it (an empty body, an object without an id) is read
    /// as one gcctl cannot read, and the PUT is sent again as after a lost
    /// answer.
    pub async fn put_object(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Call {
            body: Some(body),
            expect: Expect::Written,
            ..Call::new(Method::PUT, path)
        })
        .await
    }

    /// PATCH of one object, answered as [`Client::put_object`] is.
    pub async fn patch_object(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Call {
            body: Some(body),
            expect: Expect::Written,
            ..Call::new(Method::PATCH, path)
        })
        .await
    }

    /// DELETE; any response body is ignored.
    pub async fn delete(&self, path: &str, query: &[(&str, String)]) -> Result<(), ApiError> {
        self.call(Call { query, ..Call::new(Method::DELETE, path) }).await.map(drop)
    }

    /// One call with retries, until success, a final failure or the deadline.
    async fn call(&self, call: Call<'_>) -> Result<Value, ApiError> {
        let deadline = Instant::now() + self.inner.config.retry_deadline;
        let _pending = self.inner.pool.pending_call();
        let idempotent = call.idempotent;
        let mut attempt = 0;
        let mut refreshed = false;
        let mut first_unreachable = None;
        loop {
            attempt += 1;
            if attempt > 1 {
                self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            }
            let failure = match self.attempt(&call, idempotent, deadline).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if let Some(generation) = failure.unauthorized_generation {
                if self.inner.pool.can_refresh() && !refreshed {
                    refreshed = true;
                    self.inner.pool.refresh(generation, &self.mint_context(deadline)).await?;
                    continue;
                }
                return Err(self.unauthorized(failure.error, refreshed));
            }
            let retry_until = retry::deadline_for(failure.class, deadline, &mut first_unreachable);
            match retry::plan_retry(failure.class, idempotent, attempt, retry_until) {
                Ok(wait) => {
                    tracing::debug!(
                        method = %call.method, path = call.path, attempt,
                        wait_ms = wait.as_millis(), "retrying"
                    );
                    let call_name = format!("{} {}", call.method, call.path);
                    self.notice_wait(call_name, &failure.error, wait, attempt, retry_until);
                    retry::sleep_before_retry(wait).await;
                }
                Err(stop) => {
                    let mut error = stopped(failure.error, stop, attempt);
                    if failure.class == Class::NotSent {
                        error.hint = Some(unreachable_hint(&self.inner.config.target.api_base));
                    }
                    return Err(error);
                }
            }
        }
    }

    /// One attempt: permit, a token with budget, send, read.
    async fn attempt(
        &self,
        call: &Call<'_>,
        idempotent: bool,
        deadline: Instant,
    ) -> Result<Value, Failure> {
        let final_failure =
            |error| Failure { error, class: Class::Final, unauthorized_generation: None };
        let url = self.url(call).map_err(final_failure)?;
        let _permit = self.permit(deadline).await;
        let token =
            self.inner.pool.acquire(&self.mint_context(deadline)).await.map_err(|mut error| {
                if error.method.is_empty() {
                    call.method.as_str().clone_into(&mut error.method);
                    call.path.clone_into(&mut error.path);
                }
                final_failure(error)
            })?;
        self.inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .bearer_auth(token.secret.expose_secret());
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let method = call.method.as_str();
        let (status, headers, body, decoded) =
            exchange(request, method, call.path, idempotent, call.keys.cloned()).await?;
        tracing::debug!(
            method,
            path = call.path,
            status,
            elapsed_ms = started.elapsed().as_millis(),
            "api request"
        );
        if let Some(decoded) = decoded {
            let decoded = decoded.and_then(|value| {
                let what = || match &value {
                    Value::Null => "an empty answer",
                    Value::Object(_) if call.expect == Expect::Written => "an object without an id",
                    Value::Object(_) => "an object without `entities`",
                    _ => "not a JSON object",
                };
                match call.expect {
                    Expect::Written
                        if value.get("id").and_then(Value::as_str).is_none_or(str::is_empty) =>
                    {
                        Err(format!(
                            "the org answered success without the object it wrote ({}): gcctl cannot tell whether the write was made",
                            what()
                        ))
                    }
                    Expect::Listing
                        if !value.get("entities").is_some_and(|e| e.is_array() || e.is_null()) =>
                    {
                        Err(format!("the response is not a listing (no `entities` array: {})", what()))
                    }
                    _ => Ok(value),
                }
            });
            return decoded.map_err(|e| {
                // The server answered success: a create or an action may
                // well have been made, whatever its body says. A request
                // that may be sent again (a read, a PUT of the same body) is,
                // as after a lost answer: a body cut short or garbled on the
                // way is seldom garbled twice.
                let mut error = ApiError::new(method, call.path, ApiErrorKind::Decode, e);
                error.status = Some(status);
                error.correlation_id = correlation_header(&headers);
                error.outcome_unknown = !idempotent;
                let class = if idempotent { Class::Unreadable } else { Class::Final };
                Failure { error, class, unauthorized_generation: None }
            });
        }
        let mut error =
            ApiError::from_response(method, call.path, status, correlation_header(&headers), &body);
        error.outcome_unknown = !idempotent && status >= 500;
        let class = status_class(status, retry::retry_after(&headers));
        if let Class::Throttled(after) = class {
            self.note_throttled(token.generation, after);
        }
        let unauthorized_generation = (status == 401).then_some(token.generation);
        Err(Failure { error, class, unauthorized_generation })
    }

    /// A permit to have a request in flight. The semaphore is never closed,
    /// so acquiring cannot fail. When every permit is taken, the pool grows
    /// while waiting for one if the waiting work needs it (more tokens also
    /// bring more permits).
    async fn permit(&self, deadline: Instant) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let pool = &self.inner.pool;
        match pool.permits.try_acquire() {
            Ok(permit) => Some(permit),
            Err(_) => {
                pool.grow_for_waiting(&self.mint_context(deadline)).await;
                pool.permits.acquire().await.ok()
            }
        }
    }

    /// The request URL: `path` joined onto the API base. Only absolute paths are accepted, so
    /// a URL or `//host` can never send the token to another host.
    fn url(&self, call: &Call<'_>) -> Result<Url, ApiError> {
        let invalid = |reason: String| {
            let message = format!("invalid API path: {reason}");
            ApiError::new(call.method.as_str(), call.path, ApiErrorKind::Transport, message)
        };
        if !call.path.starts_with('/') || call.path.starts_with("//") {
            return Err(invalid("it must start with /api/v2/".to_owned()));
        }
        plain_segments(call.path).map_err(|reason| {
            let mut err = invalid(reason);
            err.hint = Some(
                "nothing was sent: the org listed an object with an id no Genesys Cloud id has; check that object in Genesys Cloud (or the saved plan, if one was edited)".into(),
            );
            err
        })?;
        let mut url = self
            .inner
            .config
            .target
            .api_base
            .join(call.path)
            .map_err(|e| invalid(e.to_string()))?;
        if !call.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in call.query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    fn mint_context(&self, deadline: Instant) -> MintContext<'_> {
        MintContext {
            http: &self.inner.http,
            counters: &self.inner.counters,
            deadline,
            on_wait: self.inner.config.on_wait.as_ref(),
            names: &self.inner.config.setting_names,
        }
    }

    /// Tell the `on_wait` hook (on a terminal: a status line) about a wait
    /// of the caller's, such as apply polling until the org settles.
    pub fn notice(&self, wait: &crate::api::Wait) {
        if let Some(hook) = self.inner.config.on_wait.as_ref() {
            (hook.0)(wait);
        }
    }

    /// Tell the `on_wait` hook about a wait long enough to notice.
    pub(super) fn notice_wait(
        &self,
        call: String,
        error: &ApiError,
        wait: std::time::Duration,
        attempt: u32,
        until: Instant,
    ) {
        notice_wait(self.inner.config.on_wait.as_ref(), call, error, wait, attempt, until);
    }

    /// Record a 429 and pause the token it came on for its `Retry-After` (when it is one we
    /// honor): every request on that token waits, the other tokens go on.
    fn note_throttled(&self, generation: u64, after: Option<std::time::Duration>) {
        self.inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
        let wait = after.unwrap_or(retry::DEFAULT_RETRY_AFTER);
        if wait > retry::MAX_RETRY_AFTER {
            return;
        }
        self.inner.pool.throttled(generation, wait);
    }

    /// The final error for a 401: explain what to do about it.
    fn unauthorized(&self, mut error: ApiError, refreshed: bool) -> ApiError {
        error.kind = ApiErrorKind::Auth;
        error.hint = Some(match &self.inner.config.auth {
            Auth::AccessToken(_) => format!(
                "the access token in {} expired or was revoked; get a new one, \
                 or use OAuth client credentials so that gcctl can refresh tokens itself",
                self.inner.config.setting_names.access_token
            ),
            Auth::ClientCredentials { .. } if refreshed => {
                "a freshly minted token was refused too; check that the OAuth client is active \
                 and belongs to this region's org"
                    .to_owned()
            }
            Auth::ClientCredentials { .. } => "the token was refused".to_owned(),
        });
        error
    }
}

/// A presigned URL gcctl may send a request to: `https`, or `http` to a
/// loopback host (the sandbox serves its own on 127.0.0.1).
fn transfer_url(method: &str, path: &str, url: &str) -> Result<Url, ApiError> {
    let invalid = |why: &str| {
        ApiError::new(method, path, ApiErrorKind::Transport, format!("refusing the URL: {why}"))
    };
    let parsed = Url::parse(url).map_err(|_| invalid("it is not a URL"))?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        _ => Err(invalid("only https (or http to a loopback host) is used")),
    }
}

/// What an exchange read: the status, headers and body, and for a 2xx the
/// body decoded as JSON.
type Exchanged = (u16, HeaderMap, Vec<u8>, Option<Result<Value, String>>);

/// Send `request` and read its answer. The exchange runs as its own task, on
/// any of the runtime's threads: a caller with many calls at once (an
/// apply's creates, a list's pages) polls them all from one task, which
/// would otherwise connect, send, read and decode one after another. A
/// transport error, a body over the size limit, or the task cancelled at
/// shutdown is the call's failure.
async fn exchange(
    request: reqwest::RequestBuilder,
    method: &str,
    path: &str,
    idempotent: bool,
    keys: Option<EntityKeys>,
) -> Result<Exchanged, Failure> {
    let exchange = Exchange(tokio::spawn(async move {
        let response = request.send().await.map_err(super::untrusted::BodyError::Transport)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = super::untrusted::read_body(response).await?;
        let lean = || keys.as_ref().and_then(|keys| super::lean::decode_page(&body, keys));
        let decoded =
            (200..300).contains(&status).then(|| lean().map_or_else(|| decode_json(&body), Ok));
        Ok::<_, super::untrusted::BodyError>((status, headers, body, decoded))
    }));
    let Some(exchanged) = exchange.await else {
        let message = "the request was cancelled: gcctl is shutting down";
        let mut error = ApiError::new(method, path, ApiErrorKind::Transport, message);
        error.outcome_unknown = !idempotent;
        return Err(Failure { error, class: Class::MaybeSent, unauthorized_generation: None });
    };
    match exchanged {
        Ok(exchanged) => Ok(exchanged),
        Err(super::untrusted::BodyError::Transport(e)) => {
            Err(transport(method, path, e, idempotent))
        }
        Err(super::untrusted::BodyError::TooLarge) => {
            let message = super::untrusted::BodyError::too_large_message();
            let mut error = ApiError::new(method, path, ApiErrorKind::Decode, message);
            // Answered, so processed: whether it was made is not known.
            error.outcome_unknown = !idempotent;
            Err(Failure { error, class: Class::Final, unauthorized_generation: None })
        }
    }
}

/// One request's exchange (send, read, decode) running as its own task; dropping it (a
/// caller that gives up, an abandoned apply) aborts the task, as dropping the request's
/// future would.
struct Exchange<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Exchange<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for Exchange<T> {
    /// `None`: the task was cancelled (the runtime is shutting down).
    type Output = Option<T>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(value) => Some(value),
            // A panic in the exchange goes on in the caller, as if it had happened there.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => None,
        })
    }
}

/// Whether every segment of a request path is a plain name or id, as the
/// API's are: ids the org listed are put into paths as they are, and an id
/// is the org's text. One that is empty, `.` or `..` (in any spelling), or
/// holds `?`, `#`, `%`, `\\`, a space or a control character would make the
/// request reach another object than the one planned (`../queues/…` as a
/// wrap-up code's id turns its update into a write to a queue, `abc?x` into
/// one to `abc`), or the collection itself. Such a request is refused before
/// it is sent: query parameters go separately (`Call::query`), and a
/// `nextUri` is followed by its path and query apart.
fn plain_segments(path: &str) -> Result<(), String> {
    if let Some(c) = path
        .chars()
        .find(|c| matches!(c, '?' | '#' | '%' | '\\') || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "it holds {}: an id from the org that gcctl does not put into a request",
            crate::api::untrusted::visible(&format!("`{c}`"))
        ));
    }
    for segment in path.split('/').skip(1) {
        if segment.chars().all(|c| c == '.') {
            return Err(format!(
                "it has an empty, `.` or `..` segment (`{segment}`): an id from the org that is missing or would lead elsewhere"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A caller that gives up on a call (dropping its future) must not leave the
    /// exchange running: the task is aborted, its future dropped unfinished.
    #[tokio::test]
    async fn dropping_an_exchange_aborts_its_task() {
        struct Guard(Option<tokio::sync::oneshot::Sender<()>>);
        impl Drop for Guard {
            fn drop(&mut self) {
                if let Some(dropped) = self.0.take() {
                    let _ = dropped.send(());
                }
            }
        }
        let (dropped, on_drop) = tokio::sync::oneshot::channel();
        let (started, on_start) = tokio::sync::oneshot::channel();
        // An exchange that never ends on its own: only an abort drops its future.
        let exchange = Exchange(tokio::spawn(async move {
            let _guard = Guard(Some(dropped));
            let _ = started.send(());
            std::future::pending::<()>().await;
        }));
        on_start.await.expect("the exchange started");
        drop(exchange);
        // The deadline only bounds a failing run; a passing one returns at once.
        tokio::time::timeout(Duration::from_secs(10), on_drop)
            .await
            .expect("the exchange's future was dropped")
            .expect("its guard said so");
    }

    /// Awaited to the end, an exchange gives its task's output.
    #[tokio::test]
    async fn an_exchange_gives_its_output() {
        assert_eq!(Exchange(tokio::spawn(async { 7 })).await, Some(7));
    }
}
