//! The sandbox org: a local emulation, over real HTTP, of the part of the
//! Genesys Cloud Platform API v2 that gcctl uses (see `docs/src/sandbox.md`;
//! the fields it emits are checked against the SDK models kept in
//! `tests/fixtures/genesys-models.json`).
//!
//! Invariants:
//! - Fidelity: paths, methods, JSON keys, envelopes and error bodies are those
//!   of the real API; every emitted key exists in the reference model of its
//!   endpoint (a test checks it). Where the real API is quirky (PUT replaces,
//!   async `createStatus`, read-after-write 404s, 429 with `Retry-After`,
//!   unpaged OAuth client list, write-only secrets), the sandbox is too.
//! - Realism knobs (latency, rate limit, consistency window, faults) are all
//!   off by default, so tests are fast and exact.
//! - No request input can panic the server: bad JSON, wrong types, huge
//!   numbers and unknown ids all answer with an `ErrorBody`.
//! - Every response has an `ININ-Correlation-Id`; error bodies repeat it in
//!   `contextId`.
//! - Callers are OAuth clients or users (`auth`), and every `/api/v2` request
//!   is checked against the permissions its endpoint requires (`authz`): a
//!   caller without them gets the real 403. The validation rules of a real
//!   org (grant only held roles, enums, division moves, ...) are applied by
//!   the resources that own them (`routes::*`).
//! - With a state file, every change is on disk before it is answered.
//! - The library never prints; the request log goes through `tracing`.
//!
//! Entry point: [`start`] returns a [`RunningSandbox`] that serves until
//! [`RunningSandbox::shutdown`] or drop.

mod auth;
mod authz;
mod common;
mod config;
mod error;
mod knobs;
mod middleware;
mod pages;
mod resource;
mod routes;
mod seed;
mod server;
mod store;

pub use authz::requirement as permission_requirement;
pub use config::{Generate, SandboxConfig};
pub use error::SandboxError;
pub use knobs::{FaultCounts, Stats};
pub use middleware::CORRELATION_HEADER;
pub use routes::open_messaging::CREATE_ERROR_PREFIX;
pub use seed::{ADMIN_CLIENT_NAME, ADMIN_USER_EMAIL, ADMIN_USER_NAME, FLOWS as SEEDED_FLOWS};
pub use server::{RunningSandbox, start};
pub use store::{FORMAT_VERSION, Org};
