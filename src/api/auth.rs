//! Minting access tokens with OAuth client credentials (the pool in `pool` decides when).
//!
//! Invariants:
//! - credentials the token endpoint refused (4xx) are reported as [`ApiErrorKind::Auth`], and
//!   the pool does not try them again;
//! - tokens and the client secret stay in [`SecretString`]s: no `Debug`, no log, no error
//!   message ever shows them.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use super::client::Counters;
use super::error::{ApiError, ApiErrorKind};
use super::retry::{self, Class, Stop};

const TOKEN_PATH: &str = "/oauth/token";
/// Lifetime assumed when the token response has no `expires_in` (the documented minimum).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);

pub(super) struct Minter {
    client_id: String,
    client_secret: SecretString,
    token_url: Url,
}

impl fmt::Debug for Minter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minter")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

/// What minting needs from the client.
pub(super) struct MintContext<'a> {
    pub(super) http: &'a reqwest::Client,
    pub(super) counters: &'a Counters,
    pub(super) deadline: Instant,
    pub(super) on_wait: Option<&'a super::WaitHook>,
    /// What the credentials are called where they were set, for hints.
    pub(super) names: &'a super::SettingNames,
}

impl Minter {
    pub(super) fn new(
        client_id: &str,
        client_secret: &SecretString,
        login_base: &Url,
    ) -> Result<Minter, ApiError> {
        let token_url = login_base
            .join(TOKEN_PATH)
            .map_err(|e| ApiError::new("POST", TOKEN_PATH, ApiErrorKind::Auth, e.to_string()))?;
        Ok(Minter {
            client_id: client_id.to_owned(),
            client_secret: client_secret.clone(),
            token_url,
        })
    }

    /// One token request, counted (a token minted, or a 429), not retried.
    pub(super) async fn mint_once_counted(
        &self,
        ctx: &MintContext<'_>,
    ) -> Result<(SecretString, Duration), (ApiError, Class)> {
        let result = self.mint_once(ctx).await;
        match &result {
            Ok(_) => {
                ctx.counters.tokens_minted.fetch_add(1, Ordering::Relaxed);
            }
            Err((_, Class::Throttled(_))) => {
                ctx.counters.throttled.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {}
        }
        result
    }

    /// POST the token request, retrying 429 (honoring `Retry-After`), 502/503/504 and
    /// transport failures; minting twice is harmless, so every failure class is retryable.
    pub(super) async fn mint_with_retry(
        &self,
        ctx: &MintContext<'_>,
    ) -> Result<(SecretString, Duration), (ApiError, Class)> {
        let mut attempt = 0;
        let mut first_unreachable = None;
        loop {
            attempt += 1;
            let (mut error, class) = match self.mint_once(ctx).await {
                Ok(minted) => {
                    ctx.counters.tokens_minted.fetch_add(1, Ordering::Relaxed);
                    return Ok(minted);
                }
                Err(failure) => failure,
            };
            if matches!(class, Class::Throttled(_)) {
                ctx.counters.throttled.fetch_add(1, Ordering::Relaxed);
            }
            let retry_until = retry::deadline_for(class, ctx.deadline, &mut first_unreachable);
            match retry::plan_retry(class, true, attempt, retry_until) {
                Ok(wait) => {
                    tracing::debug!(attempt, wait_ms = wait.as_millis(), "retrying token request");
                    let call = format!("POST {TOKEN_PATH}");
                    super::outcome::notice_wait(
                        ctx.on_wait,
                        call,
                        &error,
                        wait,
                        attempt,
                        retry_until,
                    );
                    retry::sleep_before_retry(wait).await;
                }
                Err(stop) => {
                    if stop != Stop::NotRetryable {
                        error.kind = ApiErrorKind::Deadline;
                        error.message =
                            format!("{} (gave up after {attempt} attempts)", error.message);
                    }
                    if class == Class::NotSent {
                        error.hint = Some(super::outcome::unreachable_hint(&self.token_url));
                    }
                    return Err((error, class));
                }
            }
        }
    }

    async fn mint_once(
        &self,
        ctx: &MintContext<'_>,
    ) -> Result<(SecretString, Duration), (ApiError, Class)> {
        let basic =
            BASE64.encode(format!("{}:{}", self.client_id, self.client_secret.expose_secret()));
        // A token endpoint that echoes the request must not make gcctl print these.
        super::untrusted::register_secret(self.client_secret.expose_secret());
        super::untrusted::register_secret(&basic);
        let response = ctx
            .http
            .post(self.token_url.clone())
            .header(AUTHORIZATION, format!("Basic {basic}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return Err(super::outcome::transport_failure("POST", TOKEN_PATH, e, true)),
        };
        let status = response.status();
        let throttle = retry::retry_after(response.headers());
        let correlation = super::outcome::correlation_header(response.headers());
        let body = match super::untrusted::read_body(response).await {
            Ok(body) => body,
            Err(super::untrusted::BodyError::Transport(e)) => {
                return Err(super::outcome::transport_failure("POST", TOKEN_PATH, e, true));
            }
            Err(super::untrusted::BodyError::TooLarge) => {
                let message = super::untrusted::BodyError::too_large_message();
                let error = ApiError::new("POST", TOKEN_PATH, ApiErrorKind::Decode, message);
                return Err((error, Class::Final));
            }
        };
        tracing::debug!(status = status.as_u16(), "token request");
        if !status.is_success() {
            let mut error =
                ApiError::from_response("POST", TOKEN_PATH, status.as_u16(), correlation, &body);
            let class = super::outcome::status_class(status.as_u16(), throttle);
            if class == Class::Final {
                error.kind = ApiErrorKind::Auth;
                let names = ctx.names;
                error.hint = Some(format!(
                    "check {}, {} and {}: the OAuth client must exist in that region's org, \
                     be active and use the client-credentials grant",
                    names.client_id, names.client_secret, names.region
                ));
            }
            return Err((error, class));
        }
        parse_token(&body).ok_or_else(|| {
            // Never echo the body: it may hold a token. Say what kind of
            // answer it was instead: a login page or a proxy's (HTML) is
            // told apart from JSON without a usable token.
            let message = if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
                let html = body.trim_ascii_start().first() == Some(&b'<');
                format!(
                    "the token endpoint answered {} with a body that is not JSON{}",
                    status.as_u16(),
                    if html { " (it looks like HTML: a login page or a proxy's)" } else { "" }
                )
            } else {
                format!(
                    "the token endpoint answered {} without an access_token that an HTTP header can carry (none, an empty one, or one with spaces, control characters or characters beyond ASCII)",
                    status.as_u16()
                )
            };
            let mut error = ApiError::new("POST", TOKEN_PATH, ApiErrorKind::Decode, message);
            error.correlation_id = correlation;
            error.hint = Some("check GENESYSCLOUD_REGION: the token endpoint there does not answer as Genesys Cloud's does".to_string());
            (error, Class::Final)
        })
    }
}

/// The longest token lifetime gcctl believes: Genesys issues tokens for at
/// most 172,800 s (48 h).
const MAX_LIFETIME_SECS: u64 = 172_800;

/// `{access_token, token_type, expires_in}`; deliberately without `Debug`.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Read as any JSON value: a lifetime that is no whole number of seconds
    /// is the default, not a token refused.
    expires_in: Option<serde_json::Value>,
}

/// The least lifetime gcctl gives a token: one the server says expires at
/// once would otherwise be minted again for every request, and is minted
/// at most about once a second instead (a token that really has expired is
/// answered 401, and minted again then).
pub(super) const MIN_LIFETIME: Duration = Duration::from_secs(1);

fn parse_token(body: &[u8]) -> Option<(SecretString, Duration)> {
    let parsed: TokenResponse = serde_json::from_slice(body).ok()?;
    // A bearer token goes into a header: visible ASCII only (RFC 6750's
    // token68 and more). Anything else fails every request at once, and
    // is refused here, naming the token endpoint.
    let carried = |token: &str| token.bytes().all(|b| b.is_ascii_graphic());
    if parsed.access_token.is_empty() || !carried(&parsed.access_token) {
        return None;
    }
    // The server's number is untrusted: an absurd lifetime must not overflow
    // an `Instant` (a panic) or keep a token past what Genesys issues (48 h).
    let lifetime = parsed
        .expires_in
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .map_or(DEFAULT_LIFETIME, |secs| Duration::from_secs(secs.min(MAX_LIFETIME_SECS)))
        .max(MIN_LIFETIME);
    super::untrusted::register_secret(&parsed.access_token);
    Some((SecretString::from(parsed.access_token), lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_is_parsed() {
        let (t, life) =
            parse_token(br#"{"access_token":"abc","token_type":"bearer","expires_in":86400}"#)
                .unwrap();
        assert_eq!((t.expose_secret(), life), ("abc", Duration::from_secs(86400)));
        let (_, life) = parse_token(br#"{"access_token":"abc"}"#).unwrap();
        assert_eq!(life, DEFAULT_LIFETIME);
        assert!(parse_token(br#"{"access_token":""}"#).is_none());
        // A token no header can carry.
        for bad in [r#""a\r\nb""#, r#""a b""#, r#""a\u0001""#, r#""\u00e9t\u00e9""#] {
            let body = format!(r#"{{"access_token":{bad}}}"#);
            assert!(parse_token(body.as_bytes()).is_none(), "{bad}");
        }
        assert!(parse_token(br#"{"error":"invalid_client"}"#).is_none());
        assert!(parse_token(b"<html>").is_none());
        // Absurd lifetimes are bounded (a u64::MAX used to overflow an Instant).
        let (_, life) =
            parse_token(br#"{"access_token":"abc","expires_in":18446744073709551615}"#).unwrap();
        assert_eq!(life, Duration::from_secs(MAX_LIFETIME_SECS));
        // A lifetime that is no whole number is the default; none is shorter than a minute.
        for odd in ["-5", "1e30", "\"x\"", "null", "2.5"] {
            let body = format!(r#"{{"access_token":"abc","expires_in":{odd}}}"#);
            assert_eq!(parse_token(body.as_bytes()).map(|t| t.1), Some(DEFAULT_LIFETIME), "{odd}");
        }
        let (_, life) = parse_token(br#"{"access_token":"abc","expires_in":0}"#).unwrap();
        assert_eq!(life, MIN_LIFETIME);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let base = Url::parse("http://127.0.0.1:1/").unwrap();
        let canary = SecretString::from("CANARY".to_owned());
        let pool = |auth| super::super::pool::Pool::new(&auth, &base, 10, 300, Some(100)).unwrap();
        let minted = pool(crate::api::Auth::ClientCredentials {
            client_id: "id".into(),
            client_secret: canary.clone(),
        });
        let fixed = pool(crate::api::Auth::AccessToken(canary));
        let out = format!("{minted:?} {fixed:?}");
        assert!(!out.contains("CANARY") && out.contains("/oauth/token"), "{out}");
        assert!(minted.can_refresh() && !fixed.can_refresh());
        // An access token cannot be pooled.
        assert!(minted.can_grow() && !fixed.can_grow());
        assert_eq!((minted.max_in_flight(), fixed.max_in_flight()), (1000, 20));
    }
}
