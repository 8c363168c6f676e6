//! The emulated `/api/v2` endpoints: one file per resource (its declaration
//! and its quirks), the generic CRUD that serves the declarations, and the
//! shared request-input and pagination helpers. Handlers hold the store lock
//! only in synchronous sections and commit (journal) every change before
//! answering.
//!
//! [`RESOURCES`] is the registry: a resource listed in `resources!` is served
//! (its routes merged into [`api`]) and its path makes the `selfUri`s of its
//! kind.

use axum::Router;

use super::resource::{Resource, Spec};
use super::server::Shared;
use super::store::Kind;

pub mod authorization;
pub mod crud;
pub mod divisions;
pub mod flow_jobs;
pub mod flows;
pub mod groups;
pub mod input;
pub mod languages;
pub mod messaging_settings;
pub mod oauth;
pub mod open_messaging;
pub mod organization;
pub mod paging;
pub mod queue_members;
pub mod queue_wrapup_codes;
pub mod queues;
pub mod recipients;
pub mod roles;
pub mod skills;
pub mod supported_content;
pub mod teams;
pub mod tokens;
pub mod user_routing;
pub mod user_search;
pub mod users;
pub mod view;
pub mod web_configurations;
pub mod web_deployments;
pub mod wrapup_codes;

/// Register resources: [`RESOURCES`] and [`api`] from one list.
macro_rules! resources {
    ($($resource:path),* $(,)?) => {
        /// Every resource's declaration.
        pub const RESOURCES: &[&Spec] = &[$(&<$resource as Resource>::SPEC),*];

        /// Every `/api/v2` route (authentication is layered on by the server).
        pub fn api() -> Router<Shared> {
            Router::new()
                .merge(organization::routes())
                .merge(tokens::routes())
                .merge(authorization::routes())
                .merge(teams::routes())
                $(.merge(<$resource as Resource>::routes()))*
        }
    };
}

resources!(
    divisions::Divisions,
    roles::Roles,
    flows::Flows,
    queues::Queues,
    open_messaging::OpenMessaging,
    supported_content::SupportedContent,
    messaging_settings::MessagingSettings,
    recipients::Recipients,
    oauth::OauthClients,
    users::Users,
    wrapup_codes::WrapupCodes,
    skills::Skills,
    languages::Languages,
    groups::Groups,
    web_configurations::WebConfigurations,
    web_deployments::WebDeployments,
);

/// The declaration of the resource stored in `kind`.
pub fn spec_of(kind: Kind) -> Option<&'static Spec> {
    RESOURCES.iter().copied().find(|spec| spec.kind == kind)
}

/// What an object of `kind` is called in messages.
pub fn noun(kind: Kind) -> &'static str {
    spec_of(kind).map_or("object", |spec| spec.noun)
}
