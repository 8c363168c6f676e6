//! The one integration-test binary (each extra test binary costs a link on a
//! 2-core machine). Modules are scenarios grouped by subcommand or subsystem;
//! `common` holds the test context.

mod apply;
mod bench_bounds;
mod cli_reference;
mod common;
mod docs;
mod drift;
mod export;
mod hermetic;
mod kinds;
mod live_props;
mod loader_props;
mod permissions;
mod plan;
mod sandbox;
mod schema;
mod validate;
