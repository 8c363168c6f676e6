//! Transport behavior: tokens, retries, rate limiting, concurrency, errors, secrecy.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::{access_token, credentials, delayed, json, serve, token, too_many_requests};
use crate::api::{ApiErrorKind, Client, ClientConfig, resolve_region};

const THINGS: &str = "/api/v2/things";

#[tokio::test]
async fn token_is_minted_once_and_shared_by_concurrent_requests() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => delayed(token("tok-1", 3600), 50),
        _ => json(200, &json!({"auth": req.header("authorization")})),
    })
    .await;
    let client = server.client(credentials("my-id", "my-secret"));
    let results = futures::future::join_all((0..20).map(|_| client.get(THINGS, &[]))).await;
    for r in results {
        assert_eq!(r.unwrap()["auth"], "Bearer tok-1");
    }
    assert_eq!(server.count("POST", "/oauth/token"), 1);
    assert_eq!(server.count("GET", THINGS), 20);
    let stats = client.stats();
    assert_eq!((stats.tokens_minted, stats.requests, stats.retries), (1, 20, 0));

    let seen = server.seen();
    let mint = seen.iter().find(|s| s.path == "/oauth/token").unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode("my-id:my-secret");
    assert_eq!(mint.header("authorization"), Some(format!("Basic {basic}").as_str()));
    assert_eq!(mint.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(mint.body, "grant_type=client_credentials");
    let get = seen.iter().find(|s| s.path == THINGS).unwrap();
    let agent = format!("gcctl/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(get.header("user-agent"), Some(agent.as_str()));
    assert_eq!(get.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn expired_token_is_refreshed() {
    let server = serve(|req, n| match req.path.as_str() {
        // The first token is said to expire at once: it lives the least
        // lifetime gcctl gives a token, then is refreshed.
        "/oauth/token" => token(&format!("tok-{}", n + 1), if n == 0 { 0 } else { 3600 }),
        _ => json(200, &json!({"auth": req.header("authorization")})),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["auth"], "Bearer tok-1");
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["auth"], "Bearer tok-1");
    tokio::time::sleep(crate::api::auth::MIN_LIFETIME).await;
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["auth"], "Bearer tok-2");
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    assert_eq!(client.stats().tokens_minted, 2);
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_once() {
    let server = serve(|req, n| match (req.path.as_str(), req.header("authorization")) {
        ("/oauth/token", _) => token(&format!("tok-{}", n + 1), 3600),
        (_, Some("Bearer tok-1")) => {
            json(401, &json!({"message": "expired", "code": "bad.credentials"}))
        }
        _ => json(200, &json!({"ok": true})),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["ok"], true);
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    assert_eq!(server.count("GET", THINGS), 2);
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn concurrent_401s_refresh_the_token_once() {
    let server = serve(|req, n| match (req.path.as_str(), req.header("authorization")) {
        ("/oauth/token", _) => token(&format!("tok-{}", n + 1), 3600),
        (_, Some("Bearer tok-1")) => delayed(json(401, &json!({"message": "revoked"})), 30),
        _ => json(200, &json!({"auth": req.header("authorization")})),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    let results = futures::future::join_all((0..8).map(|_| client.get(THINGS, &[]))).await;
    for r in results {
        assert_eq!(r.unwrap()["auth"], "Bearer tok-2");
    }
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    assert_eq!(server.count("GET", THINGS), 16);
}

#[tokio::test]
async fn a_persistent_401_is_an_auth_error_after_one_refresh() {
    let server = serve(|req, n| match req.path.as_str() {
        "/oauth/token" => token(&format!("tok-{}", n + 1), 3600),
        _ => json(
            401,
            &json!({"message": "Invalid login credentials.", "code": "authentication.required"}),
        ),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!((err.kind, err.status()), (ApiErrorKind::Auth, Some(401)));
    assert!(err.hint().unwrap().contains("active"), "{:?}", err.hint());
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    assert_eq!(server.count("GET", THINGS), 2);
}

#[tokio::test]
async fn a_401_with_a_ready_access_token_says_it_expired() {
    let server = serve(|_, _| json(401, &json!({"message": "Invalid login credentials."}))).await;
    let client = server.client(access_token("ready"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Auth);
    let hint = err.hint().unwrap();
    assert!(hint.contains("GENESYSCLOUD_ACCESS_TOKEN") && hint.contains("expired or was revoked"));
    assert_eq!(server.count("GET", THINGS), 1);
    assert_eq!(server.count("POST", "/oauth/token"), 0);
}

#[tokio::test]
async fn retry_after_is_honored_on_429() {
    let server = serve(|req, n| match (req.path.as_str(), n) {
        ("/oauth/token", _) => token("tok", 3600),
        (_, 0) => too_many_requests("1"),
        _ => json(200, &json!({"ok": true})),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    let started = Instant::now();
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["ok"], true);
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
    assert_eq!(server.count("GET", THINGS), 2);
    let stats = client.stats();
    assert_eq!((stats.requests, stats.retries, stats.throttled), (2, 1, 1));
}

#[tokio::test]
async fn a_429_asking_for_more_than_three_minutes_is_not_waited_for() {
    let server = serve(|_, _| too_many_requests("3600")).await;
    let client = server.client(access_token("t"));
    let started = Instant::now();
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.code.as_deref(), Some("too.many.requests.retry.after"));
    assert!(err.hint().unwrap().contains("3600 s"));
    assert_eq!(server.count("GET", THINGS), 1);
}

#[tokio::test]
async fn the_token_endpoint_429_is_retried() {
    let server = serve(|req, n| match (req.path.as_str(), n) {
        ("/oauth/token", 0) => too_many_requests("0"),
        ("/oauth/token", _) => token("tok", 3600),
        _ => json(200, &json!({"auth": req.header("authorization")})),
    })
    .await;
    let client = server.client(credentials("id", "client-secret-of-the-tests"));
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["auth"], "Bearer tok");
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    let stats = client.stats();
    assert_eq!((stats.tokens_minted, stats.throttled, stats.requests), (1, 1, 1));
}

#[tokio::test]
async fn a_bad_client_is_an_auth_error_naming_the_token_call() {
    let server = serve(|_, _| {
        json(400, &json!({"error": "invalid_client", "description": "client not found"}))
    })
    .await;
    let client = server.client(credentials("nobody", "CANARY-SECRET-1"));
    let results = futures::future::join_all((0..10).map(|_| client.get(THINGS, &[]))).await;
    let err = results.into_iter().map(Result::unwrap_err).next_back().unwrap();
    assert_eq!(err.kind, ApiErrorKind::Auth);
    assert_eq!(
        err.to_string(),
        "POST /oauth/token: 400 Bad Request (invalid_client): client not found"
    );
    assert!(err.hint().unwrap().contains("GENESYSCLOUD_OAUTHCLIENT_ID"));
    assert_eq!(server.count("POST", "/oauth/token"), 1);
    assert_eq!(server.count("GET", THINGS), 0);
}

#[tokio::test]
async fn get_is_retried_after_503() {
    let server = serve(|_, n| match n {
        0 => json(503, &json!({"message": "busy"})),
        _ => json(200, &json!({"ok": true})),
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["ok"], true);
    assert_eq!(server.count("GET", THINGS), 2);
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn retrying_stops_at_the_deadline() {
    let server =
        serve(|_, _| json(503, &json!({"message": "busy", "code": "service.unavailable"}))).await;
    let mut config = server.config(access_token("t"));
    config.retry_deadline = Duration::from_millis(700);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((err.kind, err.status()), (ApiErrorKind::Deadline, Some(503)));
    assert!(err.to_string().contains("gave up after"), "{err}");
    assert!(server.count("GET", THINGS) >= 2);
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn post_is_not_retried_after_5xx_and_its_outcome_is_unknown() {
    for status in [500, 502, 503, 504] {
        let server = serve(move |_, _| json(status, &json!({"message": "oops"}))).await;
        let client = server.client(access_token("t"));
        let err = client.post(THINGS, Some(&json!({"name": "q"}))).await.unwrap_err();
        assert!(err.outcome_unknown(), "{status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(server.count("POST", THINGS), 1, "{status}");
    }
    // A 4xx proves the request was refused: the outcome is known.
    let server = serve(|_, _| json(400, &json!({"message": "bad"}))).await;
    let err = server.client(access_token("t")).post(THINGS, None).await.unwrap_err();
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn post_is_retried_after_429() {
    let server = serve(|req, n| match n {
        0 => too_many_requests("0"),
        _ => json(201, &json!({"id": "new", "name": serde_json::from_str::<serde_json::Value>(&req.body).unwrap()["name"]})),
    })
    .await;
    let client = server.client(access_token("t"));
    let created = client.post(THINGS, Some(&json!({"name": "q"}))).await.unwrap();
    assert_eq!(created, json!({"id": "new", "name": "q"}));
    assert_eq!(server.count("POST", THINGS), 2);
}

/// A raw HTTP server: drops the connections whose index is in `drop`, answers the others with
/// `200 {}`. Returns its base URL and a counter of accepted connections.
async fn flaky_server(
    drop: &'static [usize],
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let index = counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            if !drop.contains(&index) {
                let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        }
    });
    (base, accepted)
}

fn client_for(base: &str) -> Client {
    let mut config = ClientConfig::new(resolve_region(base).unwrap(), access_token("t"));
    config.rate_limit_per_minute = 0;
    config.retry_deadline = Duration::from_secs(10);
    Client::new(config).unwrap()
}

#[tokio::test]
async fn a_dropped_connection_fails_a_post_with_unknown_outcome_but_a_get_retries() {
    let (base, accepted) = flaky_server(&[0, 1]).await;
    let client = client_for(&base);
    let err = client.post(THINGS, Some(&json!({"name": "q"}))).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert_eq!(err.kind, ApiErrorKind::Transport);
    assert!(err.to_string().starts_with("POST /api/v2/things: "), "{err}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);

    assert_eq!(client.get(THINGS, &[]).await.unwrap(), json!({}));
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_post() {
    // Reserve a port and close it: the client's first attempt is refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client_for(&format!("http://{addr}"));
    let poster = client.clone();
    let post = tokio::spawn(async move { poster.post(THINGS, Some(&json!({"name": "q"}))).await });
    // Open the port once the client has been refused and is backing off.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.stats().retries == 0 {
        assert!(std::time::Instant::now() < deadline, "the client never retried");
        tokio::task::yield_now().await;
    }
    let server = tokio::spawn(async move {
        let listener = TcpListener::bind(addr).await.unwrap();
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let reply = "HTTP/1.1 201 Created\r\ncontent-length: 13\r\nconnection: close\r\n\r\n{\"id\":\"new\"}\n";
        socket.write_all(reply.as_bytes()).await.unwrap();
    });
    let created = post.await.unwrap().unwrap();
    assert_eq!(created["id"], "new");
    assert!(client.stats().retries >= 1);
    server.await.unwrap();
}

#[tokio::test]
async fn errors_name_the_call_code_and_correlation_id_but_no_query_values() {
    let server = serve(|_, _| {
        super::with_headers(
            json(400, &json!({"message": "The queue name is required", "code": "bad.request",
                "status": 400, "contextId": "ctx", "details": [{"fieldName": "name", "errorCode": "missing"}]})),
            &[("inin-correlation-id", "corr-123")],
        )
    })
    .await;
    let client = server.client(access_token("t"));
    let err = client.get(THINGS, &[("name", "VALUE-IN-QUERY".into())]).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /api/v2/things: 400 Bad Request (bad.request): The queue name is required \
         (details: name: missing) [correlation id: corr-123]"
    );
    assert_eq!(err.correlation_id(), Some("corr-123"));
    assert!(!format!("{err:?}").contains("VALUE-IN-QUERY"));
    assert_eq!(server.seen()[0].param("name").as_deref(), Some("VALUE-IN-QUERY"));
}

#[tokio::test]
async fn get_optional_maps_404_and_delete_accepts_empty_bodies() {
    let server = serve(|req, _| match req.method.as_str() {
        "DELETE" => {
            axum::response::Response::builder().status(204).body(axum::body::Body::empty()).unwrap()
        }
        _ => json(404, &json!({"message": "not found", "code": "not.found"})),
    })
    .await;
    let client = server.client(access_token("t"));
    assert_eq!(client.get_optional(THINGS, &[]).await.unwrap(), None);
    client.delete(THINGS, &[("forceDelete", "true".into())]).await.unwrap();
    assert_eq!(server.seen()[1].query, "forceDelete=true");
    let put = client.put(THINGS, &json!({})).await.unwrap_err();
    assert!(put.is_not_found() && !put.outcome_unknown());
}

#[tokio::test]
async fn canary_secrets_never_appear_in_errors_or_debug_output() {
    const SECRET: &str = "CANARY-SECRET-7f3a";
    const TOKEN: &str = "CANARY-TOKEN-91bc";
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => {
            json(401, &json!({"error": "invalid_client", "error_description": "bad credentials"}))
        }
        _ => json(401, &json!({"message": "Invalid login credentials."})),
    })
    .await;
    let minted = server.client(credentials("canary-id", SECRET));
    let fixed = server.client(access_token(TOKEN));
    let e1 = minted.get(THINGS, &[]).await.unwrap_err();
    let e2 = fixed.post(THINGS, Some(&json!({}))).await.unwrap_err();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("canary-id:{SECRET}"));
    let out = format!(
        "{e1} {e1:?} {e2} {e2:?} {minted:?} {fixed:?} {:?} {:?} {:?}",
        minted.config(),
        fixed.config(),
        e1.hint()
    );
    for canary in [SECRET, TOKEN, basic.as_str(), "Bearer", "Basic"] {
        assert!(!out.contains(canary), "{canary} in {out}");
    }
    // The secrets were really used on the wire.
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.header("authorization") == Some(&format!("Basic {basic}"))));
    assert!(seen.iter().any(|s| s.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let server = serve(|_, _| delayed(json(200, &json!({})), 150)).await;
    let mut config = server.config(access_token("t"));
    config.max_concurrency = Some(2);
    let client = Client::new(config).unwrap();
    let results = futures::future::join_all((0..6).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.max_in_flight(), 2);
}

#[tokio::test]
async fn the_rate_limiter_paces_requests_after_the_burst() {
    let server = serve(|_, _| json(200, &json!({}))).await;
    let mut config = server.config(access_token("t"));
    // A burst of 590 (600 less one second's worth), then one request every 100 ms.
    config.rate_limit_per_minute = 600;
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let results = futures::future::join_all((0..595).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.seen().len(), 595);
    // The five requests beyond the burst wait for the refill.
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test]
async fn paths_cannot_leave_the_api_host() {
    let server = serve(|_, _| json(200, &json!({}))).await;
    let client = server.client(access_token("t"));
    for path in ["https://example.com/api/v2/x", "//example.com/api/v2/x", "api/v2/x"] {
        let err = client.get(path, &[]).await.unwrap_err();
        assert!(err.to_string().contains("invalid API path"), "{err}");
    }
    assert!(server.seen().is_empty());
}

/// Ids the org listed go into paths as they are: one that would reach
/// another object (`..`, a query, an encoded slash) or the collection
/// itself (empty) is refused before anything is sent, and the error shows
/// it without its control characters.
#[tokio::test]
async fn an_id_that_would_lead_elsewhere_is_never_sent() {
    let server = serve(|_, _| json(200, &json!({}))).await;
    let client = server.client(access_token("t"));
    let ids = [
        "../queues/q1",
        "..",
        ".",
        "",
        "a?b=1",
        "a#b",
        "a%2Fb",
        "a\\b",
        "a b",
        "q1\u{1b}[2J",
        "x/../../y",
    ];
    for id in ids {
        let path = format!("/api/v2/routing/wrapupcodes/{id}");
        let err = client.put(&path, &json!({})).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invalid API path"), "{id:?}: {text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(err.hint().is_some_and(|h| h.starts_with("nothing was sent")), "{id:?}");
        let err = client.delete(&path, &[]).await.unwrap_err();
        assert!(err.to_string().contains("invalid API path"), "{id:?}: {err}");
    }
    assert!(server.seen().is_empty());
    // Plain ids, with their query apart, go out.
    client
        .put("/api/v2/routing/wrapupcodes/c648a362-b5b4-4d33-a6df-8a6a6bee134a", &json!({}))
        .await
        .unwrap();
    client.get("/api/v2/flows/f1/versions/1.0", &[("expand", "x".to_string())]).await.unwrap();
    assert_eq!(server.seen().len(), 2);
}
