//! Web messaging deployments: `/api/v2/webdeployments/deployments` (API
//! reference §j).
//!
//! - `name` is required; `configuration` `{id, version}` is required and
//!   must name a published version of an existing configuration (`"DRAFT"`
//!   or an unknown version is 400 naming `configuration.version`).
//! - Exactly one of `allowAllDomains: true` and a non-empty
//!   `allowedDomains` ("allowedDomains must be empty when this is set as
//!   true", SDK docs; "Either allowed domains must be specified or all
//!   domains must be allowed", provider). Each domain is a host name.
//! - `flow` `{id}` is required here and must be an `INBOUNDSHORTMESSAGE`
//!   flow (whether the real API requires a flow, and a published one, is
//!   UNVERIFIED; the scenarios always route one). `supportedContent`
//!   must exist when given.
//! - `pushIntegrations` (`{id, provider}` each) is kept as sent; whether
//!   each integration exists is not checked (UNVERIFIED for a real org).
//! - PUT replaces the writable fields (left out: cleared), as the provider
//!   sends the whole object. Status is `Pending` for `web_deployment_delay`
//!   after each write, then `Active`.
//! - A deployment named with [`STATUS_ERROR_PREFIX`] ends in `Error`
//!   instead of `Active` (a test hook).
//! - The read-only `snippet` is the JavaScript a web page pastes, naming the
//!   deployment id and the environment.
//! - Routing: each deployment has a message recipient (`messengerType:
//!   webmessaging`, same id and name) that routes to the deployment's flow,
//!   kept in step on every write and deleted with the deployment; so a flow
//!   a deployment routes to cannot be deleted (the flows resource refuses
//!   flows that recipients use). Recipient ids equal to deployment ids are
//!   the sandbox's choice (UNVERIFIED).
//! - Lists are cursor-paged; `expand` is accepted (the configuration and
//!   supported content are always rendered as references).

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::input::{Body, Params, optional_ref, optional_str, required_str, type_name};
use super::paging::{WEB_DEPLOYMENTS, render_cursor};
use super::web_configurations::{pending, user};
use crate::sandbox::auth::Caller;
use crate::sandbox::common::{entity_ref, name_of, new_id, now, ref_id};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Resource, Spec};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

pub struct WebDeployments;

const PATH: &str = "/api/v2/webdeployments/deployments";
const ITEM: &str = "/api/v2/webdeployments/deployments/{deploymentId}";
const ACTIVE: &str = "/api/v2/webdeployments/deployments/{deploymentId}/configurations";
const INBOUND_MESSAGE: &str = "INBOUNDSHORTMESSAGE";
/// Deployments whose name starts with this end in `status: Error` once no
/// longer `Pending` (a test hook, as for open messaging creates).
pub const STATUS_ERROR_PREFIX: &str = "sandbox-status-error";

impl Resource for WebDeployments {
    const SPEC: Spec = Spec {
        max_page_size: Some(WEB_DEPLOYMENTS.max_size),
        ..Spec::new(Kind::WebDeployments, PATH, ITEM, "web deployment")
    };

    fn routes() -> Router<Shared> {
        Router::new()
            .route(PATH, get(list).post(create))
            .route(ITEM, get(read).put(update).delete(remove))
            .route(ACTIVE, get(active_configuration))
    }
}

/// The writable fields of a create or PUT body, checked against the org.
fn fields(store: &Store, body: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    let name = required_str(body, "name")?;
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_field(
            "name",
            "The field 'name' must be 1 to 100 characters long.",
        ));
    }
    out.insert("name".into(), json!(name));
    if let Some(description) = optional_str(body, "description")? {
        out.insert("description".into(), json!(description));
    }
    let (all, domains) = domains(body)?;
    out.insert("allowAllDomains".into(), json!(all));
    out.insert("allowedDomains".into(), json!(domains));
    let (config_id, version) = configuration(store, body)?;
    out.insert("configuration".into(), json!({"id": config_id, "version": version}));
    out.insert("flow".into(), json!({"id": inbound_flow(store, body)?}));
    if let Some(content) = optional_ref(body, "supportedContent")? {
        if store.get(Kind::SupportedContent, &content).is_none() {
            return Err(ApiError::bad_field(
                "supportedContent.id",
                format!("The supported content profile {content} does not exist."),
            ));
        }
        out.insert("supportedContent".into(), json!({"id": content}));
    }
    if let Some(push) = push_integrations(body)? {
        out.insert("pushIntegrations".into(), push);
    }
    Ok(out)
}

/// `pushIntegrations`: a list of `{id, provider}` (`PushIntegration`),
/// kept as sent. The sandbox has no push notification integrations, so
/// whether each one exists is not checked (a real org's check is
/// UNVERIFIED); an empty list is no list.
fn push_integrations(body: &Map<String, Value>) -> ApiResult<Option<Value>> {
    let items = match body.get("pushIntegrations") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::bad_field(
                "pushIntegrations",
                format!("The field 'pushIntegrations' must be an array, not {}.", type_name(other)),
            ));
        }
    };
    let mut kept = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| item.get(name).and_then(Value::as_str).filter(|s| !s.is_empty());
        let (Some(id), Some(provider)) = (field("id"), field("provider")) else {
            return Err(ApiError::bad_field(
                &format!("pushIntegrations[{i}]"),
                "A push integration needs an 'id' and a 'provider'.",
            ));
        };
        kept.push(json!({"id": id, "provider": provider}));
    }
    Ok((!kept.is_empty()).then_some(Value::Array(kept)))
}

/// `allowAllDomains` and `allowedDomains`: all domains, or at least one,
/// each a domain name (`*.` before one allows its subdomains).
fn domains(body: &Map<String, Value>) -> ApiResult<(bool, Vec<String>)> {
    let all = match body.get("allowAllDomains") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(all)) => *all,
        Some(other) => {
            return Err(ApiError::bad_field(
                "allowAllDomains",
                format!("The field 'allowAllDomains' must be a boolean, not {}.", type_name(other)),
            ));
        }
    };
    let domains: Vec<String> = match body.get("allowedDomains") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            items.iter().map(|d| d.as_str().map(str::to_string)).collect::<Option<_>>().ok_or_else(
                || {
                    ApiError::bad_field(
                        "allowedDomains",
                        "The field 'allowedDomains' must be an array of strings.",
                    )
                },
            )?
        }
        Some(other) => {
            return Err(ApiError::bad_field(
                "allowedDomains",
                format!("The field 'allowedDomains' must be an array, not {}.", type_name(other)),
            ));
        }
    };
    match (all, domains.is_empty()) {
        (true, false) => {
            return Err(ApiError::bad_field(
                "allowedDomains",
                "allowedDomains must be empty when allowAllDomains is set as true.",
            ));
        }
        (false, true) => {
            return Err(ApiError::bad_field(
                "allowedDomains",
                "Either allowed domains must be specified or all domains must be allowed.",
            ));
        }
        _ => {}
    }
    for (i, domain) in domains.iter().enumerate() {
        let host = domain.strip_prefix("*.").unwrap_or(domain);
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(ApiError::bad_field(
                &format!("allowedDomains[{i}]"),
                format!("'{domain}' is not a domain name."),
            ));
        }
    }
    Ok((all, domains))
}

/// The configuration a deployment uses: `(id, version)` of a published
/// version of an existing configuration.
fn configuration(store: &Store, body: &Map<String, Value>) -> ApiResult<(String, String)> {
    let configuration = body.get("configuration").and_then(Value::as_object);
    let Some(configuration) = configuration else {
        return Err(ApiError::missing_field("configuration"));
    };
    let config_id = match configuration.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => return Err(ApiError::missing_field("configuration.id")),
    };
    let version = match configuration.get("version") {
        Some(Value::String(version)) => version.clone(),
        _ => return Err(ApiError::missing_field("configuration.version")),
    };
    if store.get(Kind::WebConfigurations, &config_id).is_none() {
        return Err(ApiError::bad_field(
            "configuration.id",
            format!("The configuration {config_id} does not exist."),
        ));
    }
    if store.get(Kind::WebConfigurationVersions, &format!("{config_id}/{version}")).is_none() {
        return Err(ApiError::bad_field(
            "configuration.version",
            format!(
                "The configuration has no published version '{version}'; a deployment uses a published version."
            ),
        ));
    }
    Ok((config_id, version))
}

/// The id of the deployment's flow: an existing inbound message flow.
fn inbound_flow(store: &Store, body: &Map<String, Value>) -> ApiResult<String> {
    let flow = optional_ref(body, "flow")?.ok_or_else(|| ApiError::missing_field("flow.id"))?;
    let found = store.get(Kind::Flows, &flow).ok_or_else(|| {
        ApiError::bad_field("flow.id", format!("The flow {flow} does not exist."))
    })?;
    let flow_type = found.get("type").and_then(Value::as_str).unwrap_or_default();
    if flow_type != INBOUND_MESSAGE {
        return Err(ApiError::bad_field(
            "flow.id",
            format!(
                "The flow '{}' is of type {flow_type}; a deployment needs an {INBOUND_MESSAGE} flow.",
                name_of(found)
            ),
        ));
    }
    Ok(flow)
}

/// Names are unique (409; the real rule is UNVERIFIED, as for other kinds).
fn check_name(store: &Store, name: &str, own: Option<&str>) -> ApiResult<()> {
    let taken = store.all(Kind::WebDeployments).any(|d| {
        name_of(d).eq_ignore_ascii_case(name) && d.get("id").and_then(Value::as_str) != own
    });
    if taken {
        return Err(ApiError::conflict(format!("A web deployment named '{name}' already exists.")));
    }
    Ok(())
}

/// The JavaScript snippet of a deployment.
fn snippet(id: &str) -> String {
    let environment = "sandbox";
    format!(
        "<script type=\"text/javascript\" charset=\"utf-8\">\n  (function (g, e, n, es, ys) {{\n    g['_genesysJs'] = e;\n    g[e] = g[e] || function () {{ (g[e].q = g[e].q || []).push(arguments) }};\n    g[e].t = 1 * new Date();\n    g[e].c = es;\n    ys = document.createElement('script'); ys.async = 1; ys.src = n; ys.charset = 'utf-8'; document.head.appendChild(ys);\n  }})(window, 'Genesys', 'https://apps.sandbox.gcctl.example/genesys-bootstrap/genesys.min.js', {{\n    environment: '{environment}',\n    deploymentId: '{id}'\n  }});\n</script>"
    )
}

fn render(store: &Store, state: &AppState, stored: &Value) -> Value {
    let mut out = stored.clone();
    if let Some(id) = ref_id(stored.get("configuration")) {
        let mut reference = entity_ref(store, Kind::WebConfigurations, id);
        reference["version"] =
            stored.pointer("/configuration/version").cloned().unwrap_or(Value::Null);
        out["configuration"] = reference;
    }
    for (field, kind) in [("flow", Kind::Flows), ("supportedContent", Kind::SupportedContent)] {
        if let Some(id) = ref_id(stored.get(field)) {
            out[field] = entity_ref(store, kind, id);
        }
    }
    let status = if pending(state, stored) {
        "Pending"
    } else if name_of(stored).starts_with(STATUS_ERROR_PREFIX) {
        "Error"
    } else {
        "Active"
    };
    out["status"] = json!(status);
    out
}

/// Keep the deployment's recipient in step with its name and flow.
fn route(store: &mut Store, id: &str, name: &str, flow: &str) {
    let stamp = now();
    let mut recipient = store.get(Kind::Recipients, id).cloned().unwrap_or_else(|| {
        json!({
            "id": id,
            "messengerType": "webmessaging",
            "dateCreated": stamp,
            "selfUri": crate::sandbox::common::self_uri(Kind::Recipients, id),
        })
    });
    recipient["name"] = json!(name);
    recipient["flow"] = json!({"id": flow});
    recipient["dateModified"] = json!(stamp);
    store.put(Kind::Recipients, id, recipient);
}

async fn list(State(state): State<Shared>, params: Params) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let items: Vec<Value> =
        store.list_by_name(Kind::WebDeployments).map(|d| render(&store, &state, d)).collect();
    Ok(axum::Json(render_cursor(PATH, &params, WEB_DEPLOYMENTS, &items, Value::clone)?))
}

async fn read(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let stored = store
        .visible(Kind::WebDeployments, &id)
        .ok_or_else(|| ApiError::not_found("web deployment", &id))?;
    Ok(axum::Json(render(&store, &state, stored)))
}

async fn create(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let mut deployment = fields(&store, &body)?;
    let name = name_of(&Value::Object(deployment.clone())).to_string();
    check_name(&store, &name, None)?;
    let id = new_id();
    let stamp = now();
    deployment.insert("id".into(), json!(id));
    deployment.insert("snippet".into(), json!(snippet(&id)));
    deployment.insert("dateCreated".into(), json!(stamp));
    deployment.insert("dateModified".into(), json!(stamp));
    if let Some(user) = user(&caller) {
        deployment.insert("lastModifiedUser".into(), user);
    }
    deployment.insert("selfUri".into(), json!(format!("{PATH}/{id}")));
    let flow = deployment.get("flow").and_then(|f| f.get("id")).and_then(Value::as_str);
    let flow = flow.unwrap_or_default().to_string();
    let deployment = Value::Object(deployment);
    store.insert(Kind::WebDeployments, &id, deployment.clone());
    route(&mut store, &id, &name, &flow);
    store.commit()?;
    Ok(axum::Json(render(&store, &state, &deployment)))
}

async fn update(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let old = store
        .visible(Kind::WebDeployments, &id)
        .ok_or_else(|| ApiError::not_found("web deployment", &id))?
        .clone();
    let mut deployment = fields(&store, &body)?;
    let name = name_of(&Value::Object(deployment.clone())).to_string();
    check_name(&store, &name, Some(&id))?;
    for kept in ["id", "snippet", "dateCreated", "selfUri"] {
        if let Some(value) = old.get(kept) {
            deployment.insert(kept.into(), value.clone());
        }
    }
    deployment.insert("dateModified".into(), json!(now()));
    if let Some(user) = user(&caller) {
        deployment.insert("lastModifiedUser".into(), user);
    }
    let flow = deployment.get("flow").and_then(|f| f.get("id")).and_then(Value::as_str);
    let flow = flow.unwrap_or_default().to_string();
    let deployment = Value::Object(deployment);
    store.put(Kind::WebDeployments, &id, deployment.clone());
    route(&mut store, &id, &name, &flow);
    store.commit()?;
    Ok(axum::Json(render(&store, &state, &deployment)))
}

async fn remove(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let mut store = state.store();
    store
        .visible(Kind::WebDeployments, &id)
        .ok_or_else(|| ApiError::not_found("web deployment", &id))?;
    store.remove(Kind::WebDeployments, &id);
    store.remove(Kind::Recipients, &id);
    store.commit()?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the Messenger client reads: the configuration version the
/// deployment uses, and the deployment (no permission needed).
async fn active_configuration(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let deployment = store
        .visible(Kind::WebDeployments, &id)
        .ok_or_else(|| ApiError::not_found("web deployment", &id))?;
    let config = ref_id(deployment.get("configuration")).unwrap_or_default();
    let version = deployment.pointer("/configuration/version").and_then(Value::as_str);
    let stored = store
        .get(Kind::WebConfigurationVersions, &format!("{config}/{}", version.unwrap_or_default()))
        .cloned()
        .ok_or_else(|| ApiError::not_found("web deployment configuration version", config))?;
    let deployment = render(&store, &state, deployment);
    Ok(axum::Json(json!({ "configurationVersion": stored, "deployment": deployment })))
}
