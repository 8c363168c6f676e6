//! The emulated `/api/v2` endpoints, one file per API area, plus the shared
//! request-input and pagination helpers. Handlers hold the store lock only in
//! synchronous sections and commit (journal) every change before answering.

use axum::Router;

use super::server::Shared;

pub mod authorization;
pub mod flows;
pub mod input;
pub mod oauth;
pub mod open_messaging;
pub mod paging;
pub mod queues;
pub mod recipients;
pub mod supported_content;

/// Every `/api/v2` route (authentication is layered on by the server).
pub fn api() -> Router<Shared> {
    Router::new()
        .merge(queues::routes())
        .merge(open_messaging::routes())
        .merge(supported_content::routes())
        .merge(oauth::routes())
        .merge(authorization::routes())
        .merge(flows::routes())
        .merge(recipients::routes())
}
