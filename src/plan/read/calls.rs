//! The single reads of [`super`]: the org itself, its permission catalog,
//! a kind's list or default object, and the lookups (recipients, flows by
//! name, users by email) a declared field needs, each failing with what it
//! was reading.

use serde_json::Value;

use super::{FLOWS, RECIPIENTS, ReadError, USER_SEARCH};
use crate::api::Client;
use crate::kinds::open_messaging::INBOUND_MESSAGE_FLOW;
use crate::kinds::org::Lookups;
use crate::kinds::{LiveKind, RefTarget};
/// The org itself (`GET /api/v2/organizations/me`, no permission needed);
/// `None` when the answer names no org id.
pub async fn read_org(client: &Client) -> Result<Option<crate::plan::OrgIdentity>, ReadError> {
    let org = client.get("/api/v2/organizations/me", &[]).await.map_err(|source| ReadError {
        what: "which org this is (GET /api/v2/organizations/me)".into(),
        source,
    })?;
    let text = |key: &str| org.get(key).and_then(Value::as_str).unwrap_or_default();
    let id = crate::api::untrusted::sanitize(text("id"));
    // The name as the org holds it: an environment's declared name is
    // compared with it exactly, and output shows it quoted, escapes and all
    // (`untrusted::quoted`). Sanitized, its inner spaces were collapsed.
    // At most 1,024 characters: untrusted text, printed in every header.
    let name = text("name").chars().take(1024).collect();
    Ok((!id.is_empty()).then_some(crate::plan::OrgIdentity { id, name }))
}

/// The org's permission catalog: one entity per domain, each with its
/// `permissionMap` of entity type to `DomainPermission{domain, entityType,
/// action}` (API reference §l; the Terraform provider pages it with 100).
pub(super) async fn read_catalog(
    client: &Client,
) -> Result<crate::permissions::Catalog, ReadError> {
    let domains =
        list(client, "/api/v2/authorization/permissions", Some(100), "the permission catalog")
            .await?;
    let mut permissions = Vec::new();
    for domain in &domains {
        let name = domain.get("domain").and_then(Value::as_str).unwrap_or_default();
        let map = domain.get("permissionMap").and_then(Value::as_object);
        for (entity, actions) in map.into_iter().flatten() {
            for action in actions.as_array().into_iter().flatten() {
                let action = action.get("action").and_then(Value::as_str).unwrap_or_default();
                permissions.push(format!("{name}:{entity}:{action}"));
            }
        }
    }
    Ok(crate::permissions::Catalog::new(permissions))
}

pub(super) async fn optional<T, F>(needed: bool, future: F) -> Result<Option<T>, ReadError>
where
    F: Future<Output = Result<T, ReadError>>,
{
    if needed { future.await.map(Some) } else { Ok(None) }
}

/// Every live object of one kind (all pages). Soft-deleted objects some
/// lists keep are left out ([`OrgKind::is_live`]).
///
/// [`OrgKind::is_live`]: crate::kinds::org::OrgKind::is_live
pub async fn list_kind(client: &Client, kind: LiveKind) -> Result<Vec<Value>, ReadError> {
    list_kind_expecting(client, kind, 0, crate::api::Pages::default()).await
}

/// [`list_kind`] of a kind expected to have about `objects` live objects
/// (after a run's creates): the pages they fill are read at once (with 0,
/// page 1 first, then the pages it announces). The pages of an offset
/// listing are taken as `how` says (a sink is told of soft-deleted objects
/// too).
pub async fn list_kind_expecting(
    client: &Client,
    kind: LiveKind,
    objects: u64,
    how: crate::api::Pages<'_>,
) -> Result<Vec<Value>, ReadError> {
    let listed = kind
        .org()
        .api()
        .list_expecting(client, objects, how)
        .await
        .map_err(|source| ReadError { what: format!("{kind} objects"), source })?;
    Ok(listed.into_iter().filter(|o| kind.org().is_live(o)).collect())
}

/// The org default object of a kind; `None` when the org has none (404).
pub(super) async fn read_default(
    client: &Client,
    kind: LiveKind,
) -> Result<Option<Value>, ReadError> {
    let Some(path) = kind.org().api().default.map(|d| d.path) else { return Ok(None) };
    client
        .get_optional(path, &[])
        .await
        .map_err(|source| ReadError { what: format!("the default {kind}"), source })
}

pub(super) async fn list(
    client: &Client,
    path: &str,
    page_size: Option<u32>,
    what: &str,
) -> Result<Vec<Value>, ReadError> {
    let result = match page_size {
        Some(size) => client.list_all(path, &[], size).await,
        None => client.list_unpaged(path).await,
    };
    result.map_err(|source| ReadError { what: what.to_string(), source })
}

pub(super) async fn list_recipients(client: &Client) -> Result<Vec<Value>, ReadError> {
    let query = [("messengerType", "open".to_string())];
    client
        .list_all(RECIPIENTS, &query, 100)
        .await
        .map_err(|source| ReadError { what: "open messaging recipients".into(), source })
}

/// Flows with this name and type. The API's `name` filter is fuzzy, so the
/// result is matched exactly here.
pub(super) async fn find_flows(
    client: &Client,
    name: &str,
    flow_type: &'static str,
) -> Result<Vec<Value>, ReadError> {
    let query = [("name", name.to_string()), ("type", flow_type.to_ascii_lowercase())];
    let flows = client.list_all(FLOWS, &query, 100).await.map_err(|source| ReadError {
        what: format!("{flow_type} flows named `{name}`"),
        source,
    })?;
    Ok(flows
        .into_iter()
        .filter(|f| f.get("name").and_then(Value::as_str) == Some(name))
        .filter(|f| {
            f.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(flow_type))
        })
        .collect())
}

pub(super) fn static_flow_type(name: &str) -> Option<&'static str> {
    crate::kinds::common::FLOW_TYPES.iter().copied().find(|t| t.eq_ignore_ascii_case(name))
}

/// Users with these emails: `POST /api/v2/users/search` with one `EXACT`
/// criterion on `email` listing them all in `values`
/// (`UserSearchCriteria.values`, "A list of values for the search to match
/// against"; the provider searches one email at a time with `value`, TF
/// `user/data_source_genesyscloud_user.go`; matching a list with `EXACT` is
/// UNVERIFIED), page after page. A search is a read: retried like one.
pub(super) async fn search_users(
    client: &Client,
    emails: &[&String],
) -> Result<Vec<Value>, ReadError> {
    let failed =
        |source| ReadError { what: format!("users by email ({} emails)", emails.len()), source };
    let mut found = Vec::new();
    for page in 1_u64.. {
        let body = serde_json::json!({
            "pageSize": 100,
            "pageNumber": page,
            "sortBy": "email",
            "sortOrder": "ASC",
            "query": [{"type": "EXACT", "fields": ["email"], "values": emails}],
        });
        let answer = client.post_repeatable(USER_SEARCH, Some(&body)).await.map_err(failed)?;
        let results = answer.get("results").and_then(Value::as_array).cloned().unwrap_or_default();
        let empty = results.is_empty();
        found.extend(results);
        let pages = answer.get("pageCount").and_then(Value::as_u64).unwrap_or(1);
        if empty || page >= pages || page >= crate::api::MAX_PAGES {
            break;
        }
    }
    Ok(found)
}

/// Index a user found by email: active users resolve, others are named in
/// plan problems.
pub(super) fn record_user(lookups: &mut Lookups, user: &Value) {
    let (Some(id), Some(email)) =
        (user.get("id").and_then(Value::as_str), user.get("email").and_then(Value::as_str))
    else {
        return;
    };
    let state = user.get("state").and_then(Value::as_str).unwrap_or("active");
    if state == "active" {
        lookups.insert(RefTarget::User, id, email);
        lookups.inactive_users.remove(&email.to_lowercase());
    } else if lookups.ids_of(RefTarget::User, email).is_empty() {
        lookups.inactive_users.insert(email.to_lowercase(), state.to_string());
    }
}

pub(super) fn record_recipient(lookups: &mut Lookups, recipient: &Value) {
    let Some(id) = recipient.get("id").and_then(Value::as_str) else { return };
    if let Some(flow) = recipient.get("flow").filter(|f| f.is_object()) {
        if let Some(flow_id) = flow.get("id").and_then(Value::as_str) {
            lookups.recipient_flow.insert(id.to_string(), flow_id.to_string());
            // The recipient embeds the flow's name: no flow lookup needed.
            let flow_type = flow
                .get("type")
                .and_then(Value::as_str)
                .and_then(static_flow_type)
                .unwrap_or(INBOUND_MESSAGE_FLOW);
            lookups.insert_named(RefTarget::Flow(flow_type), flow);
        }
    }
}
