//! API errors: one type that names the HTTP call, the server's answer and what to do next.
//!
//! Every [`ApiError`] carries the method, the path (never the host, never query values), the
//! HTTP status, the Genesys error code and message, and the correlation id the Genesys support
//! needs. Invariant: nothing here ever holds a secret, a token or an `Authorization` header; a
//! response body is kept only through its parsed `message`/`code`/`details`, or truncated when
//! it is not JSON, and every server-supplied text is sanitized first (known secrets redacted,
//! control characters removed, length capped: see `untrusted`).

use std::fmt;

use reqwest::StatusCode;
use serde::Deserialize;

use super::untrusted::sanitize;

/// Longest excerpt of a non-JSON response body kept in a message.
const BODY_EXCERPT_CHARS: usize = 200;

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The server answered with a non-success status.
    Http,
    /// The request could not be sent or the response could not be read (DNS, TCP, TLS, reset).
    Transport,
    /// No complete response within the request timeout.
    Timeout,
    /// Getting or using a token failed (token endpoint error, or 401/403 from the API).
    Auth,
    /// A success response whose body is not the JSON that was expected.
    Decode,
    /// Retries stopped: the retry deadline passed, or the server asked to wait too long.
    Deadline,
}

/// A failed API call. A box around [`ApiErrorDetails`] (read its fields through `Deref`:
/// `err.kind`, `err.code`), so that `Result<T, ApiError>` stays one pointer wide.
#[derive(Clone)]
pub struct ApiError(Box<ApiErrorDetails>);

/// Everything known about a failed API call.
#[derive(Debug, Clone)]
pub struct ApiErrorDetails {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without host or query, e.g. `/api/v2/routing/queues`.
    pub path: String,
    /// HTTP status of the last response, if there was one.
    pub status: Option<u16>,
    /// Genesys error code, e.g. `bad.request`, or the OAuth `error` of the token endpoint.
    pub code: Option<String>,
    /// Server message, or a description of the transport failure.
    pub message: String,
    /// `ININ-Correlation-Id` response header, else the body's `contextId`.
    pub correlation_id: Option<String>,
    /// What failed.
    pub kind: ApiErrorKind,
    /// `details[]` of the error body, as `fieldName: errorCode` (or whichever parts exist).
    pub details: Vec<String>,
    /// A suggestion for the user, shown as `hint:`.
    pub hint: Option<String>,
    /// The request may have been applied by the server although it failed (see
    /// [`ApiError::outcome_unknown`]).
    pub outcome_unknown: bool,
}

impl ApiError {
    /// An error that is not an HTTP response (transport, timeout, decode, deadline).
    pub fn new(method: &str, path: &str, kind: ApiErrorKind, message: impl Into<String>) -> Self {
        ApiError(Box::new(ApiErrorDetails {
            method: method.to_owned(),
            path: path.to_owned(),
            status: None,
            code: None,
            message: message.into(),
            correlation_id: None,
            kind,
            details: Vec::new(),
            hint: None,
            outcome_unknown: false,
        }))
    }

    /// An error built from a non-success response: parses a Genesys `ErrorBody` (or an OAuth
    /// error body) and falls back to a truncated excerpt for anything else.
    pub fn from_response(
        method: &str,
        path: &str,
        status: u16,
        correlation_header: Option<String>,
        body: &[u8],
    ) -> Self {
        let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
        let mut error = ApiError::new(method, path, ApiErrorKind::Http, String::new());
        error.status = Some(status);
        // Everything below comes from the server: untrusted (see `untrusted`).
        if let Some(b) = parsed {
            let message = b.message.or(b.error_description).or(b.description).unwrap_or_default();
            error.message = sanitize(&message);
            error.code = b.code.or(b.error).map(|c| sanitize(&c));
            error.details =
                b.details.iter().filter_map(Detail::describe).map(|d| sanitize(&d)).collect();
            error
                .details
                .extend(b.errors.iter().filter_map(|e| e.message.as_deref().map(sanitize)));
            error.correlation_id = correlation_header.or(b.context_id).map(|c| sanitize(&c));
        } else {
            error.message = excerpt(body);
            error.correlation_id = correlation_header.map(|c| sanitize(&c));
        }
        if (300..400).contains(&status) {
            error.message =
                "the server answered with a redirect, which gcctl does not follow".into();
            error.hint = Some(
                "check GENESYSCLOUD_REGION: it must name the org's Genesys Cloud region or its API base URL"
                    .to_owned(),
            );
        }
        error
    }

    /// HTTP status of the response, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }

    /// The server refused because of a conflicting state or version (409).
    pub fn is_conflict(&self) -> bool {
        self.status == Some(409)
    }

    /// The request may or may not have been applied: a non-idempotent request (POST) failed
    /// after it was sent (dropped connection, timeout, 5xx). Before retrying a create, look
    /// the object up by its natural key instead of risking a duplicate.
    pub fn outcome_unknown(&self) -> bool {
        self.outcome_unknown
    }

    /// The server's correlation id, for a support case.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// A suggestion for the user, if this error has a known fix.
    pub fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorDetails;

    fn deref(&self) -> &ApiErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ApiErrorDetails {
        &mut self.0
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.method.is_empty() || !self.path.is_empty() {
            // A path may hold an id the org listed.
            write!(f, "{} {}: ", self.method, super::untrusted::visible(&self.path))?;
        }
        if let Some(status) = self.status {
            let reason = StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason());
            match reason {
                Some(reason) => write!(f, "{status} {reason}")?,
                None => write!(f, "HTTP {status}")?,
            }
            if let Some(code) = &self.code {
                write!(f, " ({code})")?;
            }
            if !self.message.is_empty() {
                f.write_str(": ")?;
            }
        }
        f.write_str(&self.message)?;
        if !self.details.is_empty() {
            write!(f, " (details: {})", self.details.join("; "))?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id: {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The Genesys `ErrorBody`, plus the fields of an OAuth token-endpoint error.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    message: Option<String>,
    code: Option<String>,
    context_id: Option<String>,
    #[serde(default)]
    details: Vec<Detail>,
    #[serde(default)]
    errors: Vec<ErrorBody>,
    /// OAuth error (token endpoint), e.g. `invalid_client`.
    error: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    error_code: Option<String>,
    field_name: Option<String>,
    entity_id: Option<String>,
    entity_name: Option<String>,
}

impl Detail {
    fn describe(&self) -> Option<String> {
        let subject =
            self.field_name.as_ref().or(self.entity_name.as_ref()).or(self.entity_id.as_ref());
        match (subject, &self.error_code) {
            (Some(s), Some(c)) => Some(format!("{s}: {c}")),
            (Some(s), None) => Some(s.clone()),
            (None, Some(c)) => Some(c.clone()),
            (None, None) => None,
        }
    }
}

/// The start of a body that is not JSON, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = sanitize(&String::from_utf8_lossy(body));
    if text.chars().count() <= BODY_EXCERPT_CHARS {
        return text;
    }
    let cut: String = text.chars().take(BODY_EXCERPT_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesys_error_body_is_parsed_and_displayed() {
        let body = br#"{"message":"The queue name is required","code":"bad.request","status":400,
            "contextId":"ctx-1","details":[{"errorCode":"missing.value","fieldName":"name"}],"errors":[]}"#;
        let e = ApiError::from_response("POST", "/api/v2/routing/queues", 400, None, body);
        assert_eq!(e.code.as_deref(), Some("bad.request"));
        assert_eq!(e.correlation_id(), Some("ctx-1"));
        assert_eq!(e.details, ["name: missing.value"]);
        assert_eq!(
            e.to_string(),
            "POST /api/v2/routing/queues: 400 Bad Request (bad.request): The queue name is \
             required (details: name: missing.value) [correlation id: ctx-1]"
        );
        assert!(!e.is_not_found() && !e.is_conflict() && !e.outcome_unknown());
    }

    #[test]
    fn correlation_header_wins_over_context_id() {
        let body = br#"{"message":"Rate limit exceeded the maximum. Retry the request in [42] seconds","code":"too.many.requests.retry.after","status":429,"contextId":"body-id","details":[],"errors":[]}"#;
        let e = ApiError::from_response("GET", "/api/v2/x", 429, Some("hdr-id".into()), body);
        assert_eq!(e.correlation_id(), Some("hdr-id"));
        assert!(e.to_string().starts_with(
            "GET /api/v2/x: 429 Too Many Requests (too.many.requests.retry.after): Rate limit"
        ));
    }

    #[test]
    fn nested_errors_and_entity_details_are_kept() {
        let body = br#"{"message":"Conflict","code":"conflict","details":[{"entityName":"Sales"},{"errorCode":"x"},{}],
            "errors":[{"message":"inner problem"}]}"#;
        let e = ApiError::from_response("PUT", "/api/v2/q/1", 409, None, body);
        assert!(e.is_conflict());
        assert_eq!(e.details, ["Sales", "x", "inner problem"]);
    }

    #[test]
    fn oauth_error_body_is_parsed() {
        let body = br#"{"error":"invalid_client","description":"client not found","error_description":"bad credentials"}"#;
        let e = ApiError::from_response("POST", "/oauth/token", 401, None, body);
        assert_eq!(e.code.as_deref(), Some("invalid_client"));
        assert_eq!(e.message, "bad credentials");
    }

    #[test]
    fn non_json_bodies_are_truncated_on_one_line() {
        let body = format!("<html>\n<body>{}</body></html>", "é".repeat(500));
        let e = ApiError::from_response("GET", "/api/v2/x", 502, Some("c".into()), body.as_bytes());
        assert!(e.message.starts_with("<html> <body>éé"));
        assert_eq!(e.message.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(e.to_string().contains("502 Bad Gateway: <html>"));
        let empty = ApiError::from_response("DELETE", "/api/v2/x", 404, None, b"");
        assert_eq!(empty.to_string(), "DELETE /api/v2/x: 404 Not Found");
        assert!(empty.is_not_found());
    }

    #[test]
    fn transport_errors_display_without_status() {
        let e = ApiError::new("GET", "/api/v2/x", ApiErrorKind::Transport, "connection refused");
        assert_eq!(e.to_string(), "GET /api/v2/x: connection refused");
        assert_eq!(e.status(), None);
        let e = ApiError::new("", "", ApiErrorKind::Transport, "cannot build the HTTP client");
        assert_eq!(e.to_string(), "cannot build the HTTP client");
    }
}
