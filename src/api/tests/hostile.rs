//! A hostile or broken server: echoed secrets, terminal escapes, redirects,
//! huge bodies, absurd token lifetimes and page counts. None of them may
//! leak a secret, reach the terminal, panic or run for hours.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use futures::StreamExt as _;
use serde_json::json;

use super::{credentials, json, serve, token};
use crate::api::ApiErrorKind;
use crate::api::untrusted::MAX_BODY_BYTES;

const THINGS: &str = "/api/v2/things";

#[tokio::test]
async fn an_echoing_server_cannot_make_gcctl_print_secrets_or_escapes() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => token("tok-echo-canary-0123456789", 3600),
        // Echo the request's Authorization header and body, with escapes.
        _ => json(
            400,
            &json!({
                "message": format!("bad request \u{1b}[2J\r\nerror: forged line; auth={} body={}",
                    req.header("authorization").unwrap_or_default(), req.body),
                "code": "bad.request\u{7}",
                "details": [{"fieldName": "x", "errorMessage": req.header("authorization").unwrap_or_default()}],
            }),
        ),
    })
    .await;
    let client = server.client(credentials("my-id", "client-secret-canary-0123456789"));
    // A secret resolved from manifests, sent in a body.
    crate::api::untrusted::register_secret("webhook-secret-canary-0123456789");
    let body = json!({"token": "webhook-secret-canary-0123456789"});
    let err = client.post(THINGS, Some(&body)).await.unwrap_err();
    let shown = format!("{err} {:?} {}", err.details, err.code.as_deref().unwrap_or_default());
    for canary in ["tok-echo-canary", "webhook-secret-canary", "client-secret-canary"] {
        assert!(!shown.contains(canary), "{canary} leaked: {shown}");
    }
    assert!(shown.contains("[redacted]"), "{shown}");
    assert!(
        !shown.chars().any(char::is_control),
        "control characters reached the message: {shown:?}"
    );
}

#[tokio::test]
async fn a_token_endpoint_that_echoes_the_basic_credentials_is_redacted() {
    let server = serve(|req, _| {
        json(401, &json!({"error": "invalid_client", "error_description": format!("got {}", req.header("authorization").unwrap_or_default())}))
    })
    .await;
    let client = server.client(credentials("basic-id", "basic-secret-canary-0123456789"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "basic-id:basic-secret-canary-0123456789",
    );
    let shown = err.to_string();
    assert!(!shown.contains(&basic) && !shown.contains("basic-secret-canary"), "{shown}");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let elsewhere = serve(|_, _| json(200, &json!({"entities": [{"id": "foreign"}]}))).await;
    let target = format!("{}{THINGS}", elsewhere.base.replace("127.0.0.1", "localhost"));
    let server = serve(move |req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        _ => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", target.as_str())
            .body(Body::empty())
            .unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(err.to_string().contains("redirect"), "{err}");
    assert!(err.hint().is_some_and(|h| h.contains("GENESYSCLOUD_REGION")));
    assert!(elsewhere.seen().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn a_huge_body_is_an_error_not_a_memory_blow_up() {
    let huge = vec![b' '; crate::api::untrusted::MAX_BODY_BYTES + 1];
    let huge = std::sync::Arc::new(huge);
    let server = serve(move |req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        _ => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from(huge.as_ref().clone()))
            .unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Decode);
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
}

/// A success answer whose body cannot be read leaves a create's outcome
/// unknown (the org said it made it: the apply looks for it, never sends it
/// again blindly), and a read's a plain failure; one over the size limit too.
#[tokio::test]
async fn an_unreadable_success_leaves_a_creates_outcome_unknown() {
    let huge = Arc::new(vec![b' '; crate::api::untrusted::MAX_BODY_BYTES + 1]);
    let server = serve(move |req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        "/api/v2/huge" => {
            Response::builder().status(200).body(Body::from(huge.as_ref().clone())).unwrap()
        }
        _ => Response::builder().status(200).body(Body::from("{\"id\": \"trunc")).unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let body = json!({"name": "x"});
    for path in [THINGS, "/api/v2/huge"] {
        let err = client.post(path, Some(&body)).await.unwrap_err();
        assert_eq!(
            (err.kind, err.outcome_unknown()),
            (ApiErrorKind::Decode, true),
            "{path}: {err}"
        );
        let err = client.get(path, &[]).await.unwrap_err();
        assert_eq!(
            (err.kind, err.outcome_unknown()),
            (ApiErrorKind::Decode, false),
            "{path}: {err}"
        );
    }
}

/// A success whose body cannot be read names the call's correlation id; an
/// idempotent request is sent again (three attempts in all), so a body cut
/// short once costs a retry, not the run.
#[tokio::test]
async fn an_unreadable_success_is_retried_when_repeatable_and_names_its_correlation_id() {
    let gets = Arc::new(AtomicUsize::new(0));
    let seen = gets.clone();
    let server = serve(move |req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        "/api/v2/once" if seen.fetch_add(1, Ordering::SeqCst) == 0 => {
            Response::builder().status(200).body(Body::from("{\"id\": \"tr")).unwrap()
        }
        "/api/v2/once" => json(200, &json!({"id": "whole"})),
        _ => Response::builder()
            .status(200)
            .header("inin-correlation-id", "corr-garbled-1")
            .body(Body::from("<html>"))
            .unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    assert_eq!(client.get("/api/v2/once", &[]).await.unwrap()["id"], "whole");
    let before = server.seen().len();
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.correlation_id.as_deref(), Some("corr-garbled-1"), "{err}");
    assert_eq!(err.status(), Some(200), "{err}");
    assert!(err.to_string().contains(": 200 OK: the response is not JSON"), "{err}");
    assert_eq!(server.seen().len() - before, 3, "three attempts of a read");
    let before = server.seen().len();
    let err = client.post(THINGS, Some(&json!({"name": "x"}))).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert_eq!(server.seen().len() - before, 1, "a create is never sent twice for it");
}

/// gzip-compressed bytes of `text`.
fn gzip(text: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// gzip is asked for (a page of configured queues compresses well),
/// a compressed page reads as a plain one, and the size limit holds for what
/// a compressed answer expands to, not for what it weighs on the wire.
#[tokio::test]
async fn compressed_answers_are_asked_for_read_and_held_to_the_size_limit() {
    let page = serde_json::to_vec(&json!({
        "entities": [{"id": "1", "name": "A"}, {"id": "2", "name": "B"}],
        "pageNumber": 1, "pageSize": 100, "total": 2, "pageCount": 1,
    }))
    .unwrap();
    let page = Arc::new(gzip(&page));
    let bomb = Arc::new(gzip(&vec![b' '; MAX_BODY_BYTES + 1]));
    // A small answer on the wire, a large one once expanded.
    assert!(bomb.len() < 1024 * 1024, "{}", bomb.len());
    let asked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&asked);
    let server = serve(move |req, _| {
        if req.header("accept-encoding").is_some_and(|e| e.contains("gzip")) {
            seen.fetch_add(1, Ordering::SeqCst);
        }
        let body = match req.path.as_str() {
            "/oauth/token" => return token("tok", 3600),
            "/api/v2/bomb" => bomb.as_ref().clone(),
            _ => page.as_ref().clone(),
        };
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(Body::from(body))
            .unwrap()
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let listed = client.list_all(THINGS, &[], 100).await.unwrap();
    assert_eq!(listed.iter().map(|e| e["name"].as_str().unwrap()).collect::<Vec<_>>(), ["A", "B"]);
    let err = client.get("/api/v2/bomb", &[]).await.unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Decode);
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    // Every request asked for gzip: the token's, the page's, the bomb's.
    assert_eq!(asked.load(Ordering::SeqCst), 3);
}

/// A body without a `Content-Length` that does not end (it stops at eight
/// times the cap, so that a broken cap cannot exhaust the machine running
/// the tests), counting the bytes handed to the connection.
fn endless_body(sent: &Arc<AtomicUsize>) -> Body {
    let chunk = axum::body::Bytes::from(vec![b' '; 64 * 1024]);
    let chunks = 8 * MAX_BODY_BYTES / chunk.len();
    let sent = Arc::clone(sent);
    let stream = futures::stream::repeat_with(move || {
        sent.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    })
    .take(chunks);
    Body::from_stream(stream)
}

/// gcctl stopped reading soon after the cap (the rest of what was sent sat
/// in socket buffers).
fn stopped_at_the_cap(sent: &AtomicUsize) -> bool {
    let sent = sent.load(Ordering::SeqCst);
    (MAX_BODY_BYTES..2 * MAX_BODY_BYTES).contains(&sent)
}

#[tokio::test]
async fn an_endless_chunked_body_is_an_error_at_the_cap() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let server = serve(move |req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        _ => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(endless_body(&counter))
            .unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Decode);
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    assert!(stopped_at_the_cap(&sent), "read {} bytes", sent.load(Ordering::SeqCst));
}

/// Presigned upload and download URLs are outside the API, and their error
/// answers are just as untrusted: bodies capped, text sanitized.
#[tokio::test]
async fn presigned_url_errors_are_capped_and_sanitized() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&sent);
    let server = serve(move |req, _| match req.method.as_str() {
        "PUT" => Response::builder().status(400).body(endless_body(&counter)).unwrap(),
        _ => json(403, &json!({"message": "denied \u{1b}[2J\r\nerror: forged line"})),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let url = format!("{}/uploads/x?X-Amz-Signature=s", server.base);
    let err = client.upload(&url, &[], "flow: yaml".into()).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
    assert!(stopped_at_the_cap(&sent), "read {} bytes", sent.load(Ordering::SeqCst));

    let err = client.download(&url).await.unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.status(), Some(403));
    assert!(shown.contains("denied") && shown.contains("error: forged line"), "{shown}");
    assert!(!shown.chars().any(char::is_control), "control characters: {shown:?}");
}

#[tokio::test]
async fn an_absurd_token_lifetime_does_not_panic() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => json(200, &json!({"access_token": "tok", "expires_in": u64::MAX})),
        _ => json(200, &json!({"ok": true})),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["ok"], true);
}

#[tokio::test]
async fn an_absurd_page_count_fails_at_once() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        _ => json(
            200,
            &json!({"entities": [{"id": "1"}], "pageCount": 1_000_000_000_u64, "pageNumber": 1}),
        ),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let err = client.list_all(THINGS, &[], 100).await.unwrap_err();
    assert!(err.to_string().contains("announces 1000000000 pages"), "{err}");
    assert_eq!(server.count("GET", THINGS), 1, "no page after the first was read");
}

#[tokio::test]
async fn long_retry_waits_are_told_with_the_call_the_reason_and_the_deadline() {
    let server = serve(|req, n| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        _ if n == 0 => super::too_many_requests("2"),
        _ => json(200, &json!({"ok": true})),
    })
    .await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut config = server.config(credentials("id", "secret-0123456789"));
    let sink = seen.clone();
    config.on_wait = Some(crate::api::WaitHook(std::sync::Arc::new(move |wait| {
        sink.lock().unwrap().push(wait.to_string());
    })));
    let client = crate::api::Client::new(config).unwrap();
    assert_eq!(client.get(THINGS, &[]).await.unwrap()["ok"], true);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].starts_with("waiting 2.0s to retry GET /api/v2/things (attempt 1: 429 Too Many Requests); giving up in "), "{seen:?}");
}

/// A server that answers every API request on one raw connection with
/// `answer` (bytes that need not be HTTP), and the token endpoint with a
/// token; counts the API requests by method.
async fn raw_server(answer: &'static str) -> (String, Arc<[AtomicUsize; 2]>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let seen = Arc::clone(&counts);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 64 * 1024];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    let request = String::from_utf8_lossy(&buf[..n]).into_owned();
                    let reply = if request.contains("/oauth/token") {
                        let body = r#"{"access_token":"tok","expires_in":3600}"#;
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                    } else {
                        seen[usize::from(request.starts_with("POST"))]
                            .fetch_add(1, Ordering::SeqCst);
                        answer.to_owned()
                    };
                    if stream.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (base, counts)
}

/// An answer that is not HTTP (here a header holding a control character)
/// means the server received the request: a read is sent three times in
/// all, as for a garbled body, not retried for the whole deadline as an
/// outage is; a create is sent once and its outcome is unknown. The error
/// says what was wrong.
#[tokio::test]
async fn an_answer_that_is_not_http_is_not_taken_for_an_outage() {
    let (base, counts) = raw_server(
        "HTTP/1.1 200 OK\r\ninin-correlation-id: ab\x01cd\r\ncontent-length: 2\r\n\r\n{}",
    )
    .await;
    let mut config = crate::api::ClientConfig::new(
        crate::api::resolve_region(&base).unwrap(),
        credentials("id", "secret-0123456789"),
    );
    config.rate_limit_per_minute = 0;
    config.retry_deadline = std::time::Duration::from_secs(60);
    let client = crate::api::Client::new(config).unwrap();
    let err = client.get(THINGS, &[]).await.unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("the server's answer is not valid HTTP"), "{err}");
    assert_eq!(counts[0].load(Ordering::SeqCst), 3, "three attempts of a read: {err}");
    let err = client.post(THINGS, Some(&json!({"name": "a"}))).await.unwrap_err();
    assert!(err.outcome_unknown(), "{err}");
    assert_eq!(counts[1].load(Ordering::SeqCst), 1, "a create is sent once: {err}");
}

/// A correlation id header is server text: a secret echoed into it is
/// redacted like one in the body.
#[tokio::test]
async fn a_correlation_id_header_is_untrusted_text() {
    crate::api::untrusted::register_secret("corr-echo-canary-0123456789");
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        // An error answer, and a success whose body is not JSON.
        "/api/v2/error" => super::with_headers(
            json(400, &json!({"message": "no"})),
            &[("inin-correlation-id", "id corr-echo-canary-0123456789")],
        ),
        _ => Response::builder()
            .status(200)
            .header("inin-correlation-id", "id corr-echo-canary-0123456789")
            .body(Body::from("<html>"))
            .unwrap(),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    for path in ["/api/v2/error", THINGS] {
        let err = client.get(path, &[]).await.unwrap_err();
        let shown = err.to_string();
        assert!(!shown.contains("corr-echo-canary"), "{shown}");
        assert!(shown.contains("[correlation id: id [redacted]]"), "{shown}");
    }
}

/// A token endpoint that answers success with HTML (a login page, a proxy)
/// is reported as such, with its status and correlation id, not as JSON
/// lacking a token; its body is never echoed.
#[tokio::test]
async fn a_token_endpoint_answering_html_says_so() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => Response::builder()
            .status(200)
            .header("inin-correlation-id", "corr-login-page")
            .body(Body::from("\n <html><body>Sign in tok-html-canary</body></html>"))
            .unwrap(),
        _ => json(200, &json!({})),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.contains(
            "the token endpoint answered 200 with a body that is not JSON (it looks like HTML"
        ),
        "{shown}"
    );
    assert_eq!(err.correlation_id(), Some("corr-login-page"), "{shown}");
    assert!(!shown.contains("tok-html-canary"), "{shown}");
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => json(200, &json!({"token": "elsewhere"})),
        _ => json(200, &json!({})),
    })
    .await;
    let err =
        server.client(credentials("id", "secret-0123456789")).get(THINGS, &[]).await.unwrap_err();
    assert!(err.to_string().contains("answered 200 without an access_token"), "{err}");
}

/// A `Retry-After` longer than gcctl waits ends the call with a hint that
/// tells the wait asked for; one beyond a day is not told as a day.
#[tokio::test]
async fn a_retry_after_too_long_is_told_as_the_server_gave_it() {
    let server = serve(|req, _| match req.path.as_str() {
        "/oauth/token" => token("tok", 3600),
        "/api/v2/hour" => super::too_many_requests("3600"),
        _ => super::too_many_requests("99999999"),
    })
    .await;
    let client = server.client(credentials("id", "secret-0123456789"));
    let hint = |err: crate::api::ApiError| err.hint().unwrap_or_default();
    let err = client.get("/api/v2/hour", &[]).await.unwrap_err();
    assert!(hint(err).contains("asked to wait 3600 s before retrying"));
    let err = client.get(THINGS, &[]).await.unwrap_err();
    let told = hint(err);
    assert!(told.contains("asked to wait a day or more before retrying"), "{told}");
}
