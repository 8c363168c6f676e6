//! Message routing: `/api/v2/routing/message/recipients`.
//!
//! - Recipients are created with open messaging integrations (never directly)
//!   and are otherwise read-only, except for their flow.
//! - PUT `{"flow": {"id"}}` attaches an inbound message flow: an unknown flow
//!   or a flow of another type is 400 naming `flow.id`. `{"flow": null}` or
//!   `{}` detaches (our choice; how the real API detaches is UNVERIFIED).
//! - `messengerType` filters exactly, `name` is a case-insensitive substring.
//!   pageSize up to 100 (UNVERIFIED).

use axum::Router;
use axum::extract::State;
use axum::routing::put;
use serde_json::{Value, json};

use super::crud;
use super::input::{Body, Id, Params, optional_ref};
use crate::sandbox::common::{name_of, now};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Resource, Spec};
use crate::sandbox::server::Shared;
use crate::sandbox::store::Kind;

/// Flow type a recipient may route to.
const INBOUND_MESSAGE: &str = "INBOUNDSHORTMESSAGE";

pub struct Recipients;

impl Resource for Recipients {
    const SPEC: Spec = Spec {
        filters: &[Filter::Equals("messengerType", "messengerType"), Filter::NameContains],
        refs: &[("flow", Kind::Flows)],
        ..Spec::new(
            Kind::Recipients,
            "/api/v2/routing/message/recipients",
            "/api/v2/routing/message/recipients/{recipientId}",
            "recipient",
        )
    };

    fn routes() -> Router<Shared> {
        crud::routes::<Self>().route(Self::SPEC.item, put(attach))
    }
}

async fn attach(
    State(state): State<Shared>,
    Id(id): Id,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut recipient = store
        .visible(Kind::Recipients, &id)
        .ok_or_else(|| ApiError::not_found("recipient", &id))?
        .clone();
    let flow = optional_ref(&body, "flow")?;
    if let Some(flow) = &flow {
        let found = store.get(Kind::Flows, flow).ok_or_else(|| {
            ApiError::bad_field("flow.id", format!("The flow {flow} does not exist."))
        })?;
        let kind = found.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind != INBOUND_MESSAGE {
            return Err(ApiError::bad_field(
                "flow.id",
                format!(
                    "The flow '{}' is of type {kind}; a recipient needs an {INBOUND_MESSAGE} flow.",
                    name_of(found)
                ),
            ));
        }
    }
    let Some(map) = recipient.as_object_mut() else {
        return Err(ApiError::internal("stored recipient is not an object"));
    };
    match flow {
        Some(flow) => map.insert("flow".into(), json!({"id": flow})),
        None => map.remove("flow"),
    };
    map.insert("dateModified".into(), json!(now()));
    store.put(Kind::Recipients, &id, recipient.clone());
    store.commit()?;
    let out = crud::render::<Recipients>(&store, &state, &recipient, &Params::default(), false);
    Ok(axum::Json(out))
}
