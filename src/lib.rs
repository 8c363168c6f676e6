//! gcctl: a declarative reconciler for Genesys Cloud configuration.
//!
//! The modules follow the path of the data, from a manifest on disk to the org:
//!
//! - [`manifest`]: reading YAML manifests with locations, environments, secrets,
//!   offline validation and diagnostics.
//! - [`kinds`]: one file per resource kind: spec type, API mapping, natural key,
//!   read-only and write-only fields, references.
//! - [`api`]: the Genesys Cloud Platform API v2 client (auth, regions, transport,
//!   retries, rate limiting, pagination).
//! - [`sandbox`]: a faithful local emulation of that API subset (axum server).
//! - [`drift`] and [`export`]: drift reports, and manifests written from a live org.
//! - [`cli`]: argument parsing, settings and one file per subcommand.
//! - [`permissions`]: the permission catalog, wildcards, and what each endpoint requires.
//! - [`printer`]: the only place that writes to stdout and stderr.
//! - [`private`]: files only the user may read (secrets, sandbox state).
//!
//! The library never exits the process and never sees clap types outside `cli`.

pub mod api;
pub mod apply;
pub mod cli;
pub mod drift;
pub mod export;
pub mod json_pointer;
pub mod kinds;
pub mod manifest;
pub mod names;
pub mod permissions;
pub mod plan;
pub mod printer;
pub mod private;
pub mod render;
pub mod sandbox;
pub mod suggest;

/// A hash map for the names and ids of whole orgs and manifest sets (50,000
/// queues are hashed several times a run): foldhash, seeded per process,
/// instead of the standard library's `SipHash`, which cost a tenth of a large
/// plan's CPU. Its keys come from the manifests and the org's own answers.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// The set of [`FastMap`].
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
