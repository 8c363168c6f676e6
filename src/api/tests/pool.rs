//! The token pool against a scripted server: growth only for work that needs it, each token
//! within its budget, the token endpoint's 429s, and what cannot be pooled.

use std::collections::HashMap;

use serde_json::json;

use super::{access_token, credentials, json, serve, token, too_many_requests};
use crate::api::{Client, ClientConfig};

const THINGS: &str = "/api/v2/things";

/// Requests per bearer token, from the server's log.
fn per_token(server: &super::Server) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for seen in server.seen().iter().filter(|s| s.path == THINGS) {
        *counts.entry(seen.header("authorization").unwrap_or_default().to_owned()).or_default() +=
            1;
    }
    counts
}

fn pooled(server: &super::Server, per_minute: u32, max_tokens: usize) -> Client {
    let mut config: ClientConfig = server.config(credentials("id", "client-secret-of-the-tests"));
    config.rate_limit_per_minute = per_minute;
    config.max_tokens = max_tokens;
    Client::new(config).unwrap()
}

#[tokio::test]
async fn work_within_one_budget_mints_one_token() {
    let server = serve(|req, n| match req.path.as_str() {
        "/oauth/token" => token(&format!("tok-{n}"), 3600),
        _ => json(200, &json!({})),
    })
    .await;
    // 60 a minute: a bucket of 59, refilled at one a second. 61 requests are 2 beyond it:
    // 2 s at one token's pace, not more than the pool's threshold: no second token.
    let client = pooled(&server, 60, 10);
    let results = futures::future::join_all((0..61).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.count("POST", "/oauth/token"), 1);
    assert_eq!(client.stats().pool_tokens, 1);
}

#[tokio::test]
async fn work_beyond_one_budget_is_spread_over_more_tokens_each_within_its_budget() {
    let server = serve(|req, n| match req.path.as_str() {
        "/oauth/token" => token(&format!("tok-{n}"), 3600),
        _ => json(200, &json!({})),
    })
    .await;
    // 200 requests against buckets of 59: a minute and a half on one token; four tokens
    // hold them all.
    let client = pooled(&server, 60, 10);
    let results = futures::future::join_all((0..200).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    let minted = server.count("POST", "/oauth/token");
    assert!((2..=10).contains(&minted), "{minted} tokens");
    let counts = per_token(&server);
    assert_eq!(counts.len(), minted, "every token minted was used: {counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 200);
    // No token went beyond its bucket (the run is far shorter than a refill of note).
    assert!(counts.values().all(|n| *n <= 60), "{counts:?}");
    assert_eq!(client.stats().pool_tokens, u64::try_from(minted).unwrap());
}

#[tokio::test]
async fn max_tokens_one_never_pools() {
    let server = serve(|req, n| match req.path.as_str() {
        "/oauth/token" => token(&format!("tok-{n}"), 3600),
        _ => json(200, &json!({})),
    })
    .await;
    // 3000 a minute: a bucket of 2950, then 50 a second; 3000 requests are one second
    // beyond the bucket on one token.
    let client = pooled(&server, 3000, 1);
    assert!(!client.can_pool());
    assert_eq!(client.max_in_flight(), 20);
    let results = futures::future::join_all((0..3000).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.count("POST", "/oauth/token"), 1);
    assert!(server.max_in_flight() <= 20, "{}", server.max_in_flight());
}

#[tokio::test]
async fn an_access_token_is_never_pooled() {
    let server = serve(|_, _| json(200, &json!({}))).await;
    let mut config = server.config(access_token("given"));
    config.rate_limit_per_minute = 60;
    config.max_tokens = 10;
    let client = Client::new(config).unwrap();
    assert!(!client.can_pool());
    // 61 requests: 2 beyond the bucket of 59, paced at one a second on the one token.
    let results = futures::future::join_all((0..61).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.count("POST", "/oauth/token"), 0);
    assert_eq!(per_token(&server).len(), 1);
}

#[tokio::test]
async fn a_throttled_token_endpoint_stops_growth_and_the_work_goes_on() {
    let server = serve(|req, n| match (req.path.as_str(), n) {
        ("/oauth/token", 0) => token("tok-0", 3600),
        ("/oauth/token", _) => too_many_requests("60"),
        _ => json(200, &json!({})),
    })
    .await;
    // 2000 a minute: a bucket of 1967, then 33 a second. 2100 requests need a second token,
    // which the endpoint refuses for a minute: the pool stays at one token, which paces the
    // rest (about four seconds), and asks the endpoint once, not once per request.
    let client = pooled(&server, 2000, 10);
    let results = futures::future::join_all((0..2100).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.count("POST", "/oauth/token"), 2);
    assert_eq!(per_token(&server).len(), 1);
    let stats = client.stats();
    assert_eq!((stats.tokens_minted, stats.throttled, stats.pool_tokens), (1, 1, 1));
}

#[tokio::test]
async fn a_429_while_the_token_had_budget_stops_growth() {
    // The first API request is refused although its token had budget by the client's count:
    // the limit is not per token (an org-wide cap), so more tokens would not help. The
    // request is retried after its Retry-After; the pool, still growing when the 429 came
    // back or not, mints nothing after it.
    let server = serve(|req, n| match (req.path.as_str(), n) {
        ("/oauth/token", _) => token(&format!("tok-{n}"), 3600),
        (_, 0) => super::delayed(too_many_requests("1"), 0),
        _ => super::delayed(json(200, &json!({})), 50),
    })
    .await;
    // 1200 a minute: 20 a second once the 429 has emptied the bucket.
    let client = pooled(&server, 1200, 10);
    let first = client.get(THINGS, &[]).await;
    assert!(first.is_ok());
    assert_eq!(client.stats().throttled, 1);
    // Now work that would take 2.5 s on the emptied bucket, enough to mint another token
    // otherwise: none is minted.
    let results = futures::future::join_all((0..50).map(|_| client.get(THINGS, &[]))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.count("POST", "/oauth/token"), 1);
    assert_eq!(server.count("GET", THINGS), 52);
}
