//! Errors: [`SandboxError`] for starting and persisting the sandbox, and
//! [`ApiError`], the HTTP answer rendered as a Genesys `ErrorBody`.
//!
//! Handlers build an [`ApiError`] without knowing the request's correlation
//! id; its response carries a [`PendingError`] extension that the server's
//! outer middleware renders into JSON, filling `contextId` with the same id as
//! the `ININ-Correlation-Id` header. So every error body, including extractor
//! rejections, has a matching `contextId`.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Failure to start the sandbox or to persist its org.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("refusing to listen on non-loopback address {0} (allow it explicitly)")]
    NonLoopback(std::net::SocketAddr),
    #[error("failed to bind {addr}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// IO errors come from `fs_err` and name their path themselves.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("corrupt sandbox org file {path}")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("corrupt sandbox journal {path} at line {line}")]
    CorruptJournal {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid sandbox org file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("unsupported sandbox org format version {found} in {path} (expected {expected})")]
    FormatVersion { path: PathBuf, found: u32, expected: u32 },
    #[error("failed to serialize the sandbox org")]
    Serialize(#[source] serde_json::Error),
    /// Another process holds the state file: two writers would each rewrite
    /// it from their own memory and lose the other's objects.
    #[error(
        "the sandbox state {path} is in use by another gcctl process{holder}; wait for it to end, or stop it"
    )]
    Locked { path: PathBuf, holder: String },
}

/// One entry of `ErrorBody.details`.
#[derive(Debug, Clone)]
pub struct Detail {
    pub field_name: String,
    pub error_code: &'static str,
}

/// An error answer of the emulated API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
    pub retry_after: Option<u64>,
}

/// Response extension holding an error body whose `contextId` is not yet filled.
#[derive(Debug, Clone)]
pub struct PendingError(pub ApiError);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: Vec::new(), retry_after: None }
    }

    /// 400 naming the offending field (`details[0].fieldName`).
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let mut err = ApiError::new(StatusCode::BAD_REQUEST, "bad.request", message);
        err.details.push(Detail { field_name: field.to_string(), error_code: "invalid.value" });
        err
    }

    /// 400 for a required field that is missing.
    pub fn missing_field(field: &str) -> Self {
        let mut err = ApiError::bad_field(field, format!("The field '{field}' is required."));
        err.details[0].error_code = "required";
        err
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }

    /// 404 for an unknown object id.
    pub fn not_found(what: &str, id: &str) -> Self {
        let article = if what.starts_with(['a', 'e', 'i', 'o', 'u', 'O']) { "an" } else { "a" };
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not.found",
            format!("Unable to find {article} {what} with id {id}"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal.server.error", message)
    }

    /// The JSON `ErrorBody`, with `contextId` set.
    pub fn body(&self, context_id: &str) -> Value {
        let details: Vec<Value> = self
            .details
            .iter()
            .map(|d| json!({"errorCode": d.error_code, "fieldName": d.field_name}))
            .collect();
        json!({
            "message": self.message,
            "code": self.code,
            "status": self.status.as_u16(),
            "contextId": context_id,
            "details": details,
            "errors": [],
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(PendingError(self));
        response
    }
}

impl From<SandboxError> for ApiError {
    fn from(err: SandboxError) -> Self {
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        ApiError::internal(message)
    }
}
