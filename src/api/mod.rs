//! The Genesys Cloud Platform API v2 client: regions, credentials, tokens, transport, retries,
//! rate limiting and pagination.
//!
//! Build a [`ClientConfig`] (from the `GENESYSCLOUD_*` environment with
//! [`ClientConfig::from_env`], or by hand for a sandbox), then a [`Client`], and call it with
//! API paths such as `/api/v2/routing/queues`. Bodies are `serde_json::Value`s: mapping them to
//! typed specs is the job of the kinds.
//!
//! Invariants:
//! - the client never prints; it logs requests with `tracing::debug!` (method, path, status,
//!   timing) and never logs or displays a secret, a token or an `Authorization` header;
//! - one [`Client`] (and its clones) shares one token pool: tokens minted one at a time per
//!   need, each with its own rate budget and `Retry-After` pause, more of them only when the
//!   waiting work needs them (up to [`ClientConfig::max_tokens`]; a caller may announce the
//!   calls it is about to make, [`Client::expect_calls`]), and in-flight requests
//!   bounded per token, so parallel callers cannot overrun the org's limits;
//! - a call either succeeds or returns an [`ApiError`] naming the method, path, status, Genesys
//!   code and message and correlation id; a POST that may have been applied although it failed
//!   says so with [`ApiError::outcome_unknown`], and is never retried blindly;
//! - every wait is a retry or backoff wait bounded by a deadline (see `retry`).

mod auth;
mod bulk;
mod client;
mod config;
mod error;
mod lean;
mod outcome;
mod paging;
mod pool;
mod region;
mod retry;
pub mod untrusted;

#[cfg(test)]
mod tests;

pub use client::{Client, ClientStats, ExpectedCalls};
pub use config::{
    Auth, ClientConfig, ConfigError, ENV_ACCESS_TOKEN, ENV_CLIENT_ID, ENV_CLIENT_SECRET,
    ENV_REGION, SettingNames, Wait, WaitHook, WaitKind, default_user_agent,
};
pub use error::{ApiError, ApiErrorDetails, ApiErrorKind};
pub use lean::EntityKeys;
pub use paging::{MAX_PAGES, PageSink, Pages, with_ids};
pub use region::{DEFAULT_REGION, REGIONS, RegionError, Target, resolve_region};
