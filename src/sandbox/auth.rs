//! Callers: OAuth client credentials (`POST /oauth/token`), user tokens, and
//! bearer-token checks.
//!
//! A token speaks for a [`Subject`]: an OAuth client or a user.
//!
//! - Any OAuth client of the org can mint tokens if it is `active`, has the
//!   `CLIENT-CREDENTIALS` grant and presents its current secret (HTTP Basic
//!   or form fields). The admin client (the credentials the sandbox was
//!   started with) gets `token_lifetime`; other clients get their
//!   `accessTokenValiditySeconds`.
//! - User tokens are not minted over HTTP (a real user logs in through a
//!   browser, e.g. with an implicit grant): the sandbox mints one for its
//!   seeded admin user at start ([`Tokens::mint`]), as if it had been
//!   obtained elsewhere, and `RunningSandbox::user_token` hands it out. It
//!   lives `token_lifetime`.
//!
//! Tokens are opaque random strings kept in memory only: a restart
//! invalidates them, as a real org would not, but a client that refreshes on
//! 401 recovers. A token stops working when it expires, when it is revoked
//! (`DELETE /api/v2/tokens/me`), or when its client is deleted or `disabled`
//! (its user deleted or no longer `active`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::common::{random_secret, secret_matches, self_uri};
use super::error::ApiError;
use super::server::Shared;
use super::store::{Kind, Store};

/// Who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An OAuth client (a client-credentials token).
    Client(String),
    /// A user (a token from a user login).
    User(String),
}

impl Subject {
    pub fn id(&self) -> &str {
        match self {
            Subject::Client(id) | Subject::User(id) => id,
        }
    }

    /// The collection the subject lives in.
    pub fn kind(&self) -> Kind {
        match self {
            Subject::Client(_) => Kind::OauthClients,
            Subject::User(_) => Kind::Users,
        }
    }

    /// A `{id, selfUri}` reference, as `createdBy` fields show the caller.
    pub fn reference(&self) -> Value {
        json!({"id": self.id(), "selfUri": self_uri(self.kind(), self.id())})
    }
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct Token {
    pub subject: Subject,
    pub expires: Instant,
}

/// The authenticated caller of an `/api/v2` request (request extension).
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub subject: Subject,
}

/// Live tokens.
#[derive(Debug, Default)]
pub struct Tokens(HashMap<String, Token>);

impl Tokens {
    /// A new token for `subject`, valid for `lifetime`.
    pub fn mint(&mut self, subject: Subject, lifetime: Duration) -> String {
        /// A lifetime that fits any `Instant` (about 30 years).
        const NEVER: Duration = Duration::from_secs(1_000_000_000);
        let now = Instant::now();
        self.0.retain(|_, t| t.expires > now);
        let token = random_secret();
        self.0.insert(
            token.clone(),
            // `checked_add`: `--token-lifetime-secs` may be absurdly large;
            // such a token never expires rather than overflowing an Instant.
            Token { subject, expires: now.checked_add(lifetime).unwrap_or(now + NEVER) },
        );
        token
    }

    fn check(&self, token: &str) -> Option<&Token> {
        self.0.get(token).filter(|t| t.expires > Instant::now())
    }

    /// Forget a token (`DELETE /api/v2/tokens/me`).
    pub fn revoke(&mut self, token: &str) {
        self.0.remove(token);
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body =
        json!({"error": error, "description": description, "error_description": description});
    (status, axum::Json(body)).into_response()
}

/// `POST /oauth/token` with `grant_type=client_credentials`.
pub async fn token(State(state): State<Shared>, request: Request) -> Response {
    // The token endpoint's own limit, when set: a normalized 429 with Retry-After.
    let limited = state.token_limiter().map(|mut limiter| limiter.take("(token endpoint)"));
    if let Some(Err(seconds)) = limited {
        return super::middleware::too_many_requests(seconds).into_response();
    }
    let headers = request.headers().clone();
    let form = match Form::<Vec<(String, String)>>::from_request(request, &()).await {
        Ok(Form(pairs)) => pairs,
        Err(rejection) => {
            return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &rejection.body_text());
        }
    };
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((field("client_id")?, field("client_secret")?)));
    let Some((client_id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client credentials are required",
        );
    };
    let lifetime = {
        // Read only: a mint does not wait behind the creates being written.
        let store = state.store_read();
        match client_lifetime(&store, &state.admin_id, &client_id, &secret) {
            Some(Accepted::Admin) => state.config.token_lifetime,
            Some(Accepted::Client(lifetime)) => lifetime,
            None => {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "bad client credentials",
                );
            }
        }
    };
    let access_token = state.tokens().mint(Subject::Client(client_id), lifetime);
    let body = json!({"access_token": access_token, "token_type": "bearer", "expires_in": lifetime.as_secs()});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Whose credentials were presented, when they are accepted.
enum Accepted {
    /// The admin client: tokens live `token_lifetime`.
    Admin,
    /// Another client: tokens live its `accessTokenValiditySeconds`.
    Client(Duration),
}

fn client_lifetime(
    store: &Store,
    admin_id: &str,
    client_id: &str,
    secret: &str,
) -> Option<Accepted> {
    let client = store.get(Kind::OauthClients, client_id)?;
    let active = client.get("state").and_then(Value::as_str).is_none_or(|s| s == "active");
    let grant =
        client.get("authorizedGrantType").and_then(Value::as_str) == Some("CLIENT-CREDENTIALS");
    if !active || !grant || !secret_matches(store, Kind::OauthClients, client_id, secret) {
        return None;
    }
    if client_id == admin_id {
        return Some(Accepted::Admin);
    }
    let seconds =
        client.get("accessTokenValiditySeconds").and_then(Value::as_u64).unwrap_or(86_400);
    Some(Accepted::Client(Duration::from_secs(seconds)))
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Check the bearer token of an API request.
pub fn authenticate(state: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(token) =
        value.and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
    else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        ));
    };
    let token = token.trim();
    let subject = state.tokens().check(token).map(|t| t.subject.clone());
    let valid = subject.filter(|subject| {
        let store = state.store_read();
        let found = store.get(subject.kind(), subject.id());
        let status = found.and_then(|o| o.get("state")).and_then(Value::as_str);
        match subject {
            Subject::Client(_) => found.is_some() && status != Some("disabled"),
            Subject::User(_) => found.is_some() && status.is_none_or(|s| s == "active"),
        }
    });
    if let Some(subject) = valid {
        Ok(Caller { token: token.to_string(), subject })
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad.credentials",
            "Invalid login credentials.",
        ))
    }
}
