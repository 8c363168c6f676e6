//! The Genesys Cloud Platform API v2 client: regions, credentials and errors (the transport
//! follows).
//!
//! Invariants: nothing in this module prints, and no secret, token or `Authorization` header
//! ever appears in an error message or `Debug` output.

mod config;
mod error;
mod region;

pub use config::{
    Auth, ClientConfig, ConfigError, ENV_ACCESS_TOKEN, ENV_CLIENT_ID, ENV_CLIENT_SECRET,
    ENV_REGION, default_user_agent,
};
pub use error::{ApiError, ApiErrorDetails, ApiErrorKind};
pub use region::{DEFAULT_REGION, REGIONS, RegionError, Target, resolve_region};
