//! What an attempt's outcome means: the retry class of a status or a transport failure,
//! the errors built when a call fails or retrying stops, the notice of a long retry wait,
//! the correlation id, and a success body decoded. Shared by the transport (`client`)
//! and the token endpoint (`auth`).
//!
//! Server text in these errors goes through [`ApiError::from_response`] (redacted, control
//! characters stripped); transport errors carry `reqwest`'s causes without the URL.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::time::Instant;

use super::error::{ApiError, ApiErrorKind};
use super::retry::{Class, Stop};

/// Header with the server's correlation id.
const CORRELATION_HEADER: &str = "inin-correlation-id";

/// A failed attempt with what the retry loop needs to know.
pub(super) struct Failure {
    pub(super) error: ApiError,
    pub(super) class: Class,
    /// Generation of the token the attempt used (to refresh it once after a 401).
    pub(super) unauthorized_generation: Option<u64>,
}

/// The error of a presigned URL's answer that is not a success: its body
/// is read under the same cap as an API answer's, and its text is
/// untrusted like an API's (see [`ApiError::from_response`]).
pub(super) async fn transfer_error(
    method: &str,
    path: &str,
    response: reqwest::Response,
) -> ApiError {
    let status = response.status().as_u16();
    match super::untrusted::read_body(response).await {
        Ok(body) => ApiError::from_response(method, path, status, None, &body),
        Err(super::untrusted::BodyError::TooLarge) => {
            let mut error = ApiError::from_response(method, path, status, None, b"");
            error.message = super::untrusted::BodyError::too_large_message();
            error
        }
        // The status says what went wrong; the body could not be read.
        Err(super::untrusted::BodyError::Transport(_)) => {
            ApiError::from_response(method, path, status, None, b"")
        }
    }
}

/// The error returned when retrying stops.
pub(super) fn stopped(mut error: ApiError, stop: Stop, attempts: u32) -> ApiError {
    match stop {
        Stop::NotRetryable => {}
        Stop::Deadline => {
            error.kind = ApiErrorKind::Deadline;
            error.message = format!("{} (gave up after {attempts} attempts)", error.message);
        }
        Stop::RetryAfterTooLong(wait) => {
            // `retry_after` reads at most a day: a longer wait is not told
            // as if it were a day.
            let asked = if wait >= super::retry::LONGEST_RETRY_AFTER_READ {
                "a day or more".to_string()
            } else {
                format!("{} s", wait.as_secs())
            };
            error.hint = Some(format!(
                "the server asked to wait {asked} before retrying, longer than gcctl waits \
                 (180 s); a daily or per-resource limit may be exhausted"
            ));
        }
    }
    error
}

/// Tell `hook` about a retry wait of [`crate::api::Wait::NOTICE_AFTER`] or more.
pub(super) fn notice_wait(
    hook: Option<&crate::api::WaitHook>,
    call: String,
    error: &ApiError,
    wait: std::time::Duration,
    attempt: u32,
    until: Instant,
) {
    let Some(hook) = hook.filter(|_| wait >= crate::api::Wait::NOTICE_AFTER) else { return };
    let reason = match (error.status(), error.message.is_empty()) {
        (Some(status), _) => {
            let text =
                reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
            format!("{status} {}", text.unwrap_or_default()).trim_end().to_string()
        }
        (None, false) => error.message.clone(),
        (None, true) => "no answer".to_string(),
    };
    let notice = crate::api::Wait {
        call,
        reason,
        wait,
        attempt,
        gives_up_in: until.saturating_duration_since(Instant::now()),
        kind: crate::api::WaitKind::Retry,
    };
    (hook.0)(&notice);
}

/// What to check when nothing answers at `base`.
pub(super) fn unreachable_hint(base: &Url) -> String {
    format!(
        "nothing answered at {}: check GENESYSCLOUD_REGION (a region such as eu-central-1, a domain, or a base URL) and the network",
        base.origin().ascii_serialization()
    )
}

/// Retry class of a non-success status.
pub(super) fn status_class(status: u16, retry_after: Option<Duration>) -> Class {
    match status {
        429 => Class::Throttled(retry_after),
        502..=504 => Class::Unavailable,
        // A 500 may or may not have been processed: retried only when repeating is harmless.
        500 => Class::MaybeSent,
        _ => Class::Final,
    }
}

/// The correlation id response header, as untrusted text (a server may echo a
/// secret into it).
pub(super) fn correlation_header(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CORRELATION_HEADER)?.to_str().ok()?;
    Some(super::untrusted::sanitize(value)).filter(|v| !v.is_empty())
}

/// A failure to send or to read a response, classified for retrying.
pub(super) fn transport_failure(
    method: &str,
    path: &str,
    err: reqwest::Error,
    idempotent: bool,
) -> (ApiError, Class) {
    // A request that could not be built (a header value the server's token
    // cannot be, say) was never sent, and building it again fails again.
    if err.is_builder() {
        let error =
            ApiError::new(method, path, ApiErrorKind::Transport, describe(&err.without_url()));
        return (error, Class::Final);
    }
    let not_sent = err.is_connect();
    let kind = if err.is_timeout() { ApiErrorKind::Timeout } else { ApiErrorKind::Transport };
    let answered_garbled = not_valid_http(&err);
    let described = describe(&err.without_url());
    if answered_garbled {
        // The server answered, but not in HTTP (a header with a control
        // character, a status line that is not one): it received the
        // request, and what it says cannot be read. Like a success body that
        // cannot be read, a request that may be repeated is sent again a few
        // times (a garbled answer is seldom garbled twice), never for the
        // whole deadline as an outage is.
        let message = format!("the server's answer is not valid HTTP ({described})");
        let mut error = ApiError::new(method, path, ApiErrorKind::Decode, message);
        error.outcome_unknown = !idempotent;
        let class = if idempotent { Class::Unreadable } else { Class::Final };
        return (error, class);
    }
    let mut error = ApiError::new(method, path, kind, described);
    error.outcome_unknown = !idempotent && !not_sent;
    (error, if not_sent { Class::NotSent } else { Class::MaybeSent })
}

/// Whether `err` comes from an answer that is not HTTP: hyper could not parse
/// its status line or headers.
fn not_valid_http(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        if cause.downcast_ref::<hyper::Error>().is_some_and(hyper::Error::is_parse) {
            return true;
        }
        source = cause.source();
    }
    false
}

pub(super) fn transport(
    method: &str,
    path: &str,
    err: reqwest::Error,
    idempotent: bool,
) -> Failure {
    let (error, class) = transport_failure(method, path, err, idempotent);
    Failure { error, class, unauthorized_generation: None }
}

/// An error and its causes on one line (`reqwest`'s own message is terse).
pub(super) fn describe(err: &dyn std::error::Error) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// A success body as JSON; an empty body is `Null`.
pub(super) fn decode_json(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    super::bulk::from_slice(body).map_err(|e| format!("the response is not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_success_bodies_are_null() {
        assert_eq!(decode_json(b"").unwrap(), Value::Null);
        assert_eq!(decode_json(b" \n").unwrap(), Value::Null);
        assert_eq!(decode_json(br#"{"a":1}"#).unwrap()["a"], 1);
        assert!(decode_json(b"<html>").unwrap_err().starts_with("the response is not JSON"));
    }
}
