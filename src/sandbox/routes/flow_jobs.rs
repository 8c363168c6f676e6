//! Architect flow jobs (API reference §h): the import job that creates,
//! updates and publishes a flow from Archy YAML, and the export job that
//! gives a published version's YAML back.
//!
//! Lifecycle of an import job:
//!
//! 1. `POST /api/v2/flows/jobs` registers it (`Registered`) and answers
//!    `{id, presignedUrl, headers, selfUri}`. The URL is served by the
//!    sandbox itself, outside `/api/v2`, like the storage service a real
//!    org hands out: `PUT /uploads/architect/{jobId}?X-Amz-Signature=…`.
//! 2. The upload must carry every returned header with its value (else 403
//!    `SignatureDoesNotMatch`, as a storage service answers an unsigned
//!    change) and no `Authorization` header (else 400 `InvalidArgument`:
//!    "Only one auth mechanism allowed"; the real answer of S3 to a
//!    presigned request that also carries a token). The job is then
//!    `Started`.
//! 3. `GET /api/v2/flows/jobs/{jobId}` (`?expand=messages` for the
//!    messages) answers `Started` until `flow_job_duration` has passed since
//!    the upload; the first read after that runs the import, and the job
//!    ends `Success` (with `flow.id`) or `Failure` (with `messages`).
//!
//! What the import checks, without Archy: the YAML parses (one document);
//! its one top-level key is a flow type the sandbox knows
//! (`archy::FlowType`); `name` is there; the `division` (a name) exists,
//! else Home is used (UNVERIFIED which division a real import picks); every
//! queue it names (`targetQueue.lit.name`, `findQueue.findName.lit`),
//! every wrap-up code (`wrapupCode.lit.name`) and every other flow
//! (`callCommonModule.commonModule.<name>`: a published common module;
//! `transferToFlow.targetFlow.name`: a published flow of the type the
//! action targets, `archy::FlowRef`) exists; `startUpRef` points at a
//! `refId` of the file; the flow (by name and type) is not locked by
//! another caller. Each problem is one `ArchitectJobMessage` of type
//! `Error` naming the line and column. What it names is recorded as the
//! version's consumed resources (dependency tracking). The wording of real
//! Archy messages is UNVERIFIED; their shape (`{dateTime, type, text}`) is
//! the SDK model's. It does not check actions, expressions, variables,
//! languages, schedules, a called module's inputs and outputs, and never
//! runs a flow: only a real org does.
//!
//! A successful import creates the flow (or updates the flow with that name
//! and type), publishes a new version (`1.0`, `2.0`, … as `FlowVersion.id`)
//! holding the uploaded text, sets `description` from the YAML,
//! `publishedVersion`, `checkedInVersion`, `publishedBy` (a user caller)
//! and the version's `createdBy` / `createdByClient`.
//!
//! Export: `POST /api/v2/flows/export/jobs` `{flows: [{flow: {id,
//! version?}, exportType?}]}` answers `{id, status, totalFlows}`; reads say
//! `Started` for `flow_job_duration`, then `Success` with a `downloadUrl`
//! (`GET /downloads/architect/{jobId}?X-Amz-Signature=…`, served by the
//! sandbox, no token) or `Failure` ("could not find the flow with id …",
//! the text the provider matches). The download is the YAML as it was
//! uploaded; several flows are YAML documents separated by `---` (the real
//! format of a multi-flow export is UNVERIFIED). `exportType: Architect`
//! is refused: the sandbox keeps YAML only.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::input::{Body, Id, Params};
use crate::kinds::flow::archy;
use crate::sandbox::auth::{Caller, Subject};
use crate::sandbox::common::{home_division, name_of, new_id, random_secret, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

const JOBS: &str = "/api/v2/flows/jobs";
const EXPORT_JOBS: &str = "/api/v2/flows/export/jobs";
/// Where uploads and downloads are served (outside `/api/v2`, no token).
pub const UPLOADS: &str = "/uploads/architect/{jobId}";
pub const DOWNLOADS: &str = "/downloads/architect/{jobId}";
/// The query parameter carrying a transfer URL's signature.
const SIGNATURE: &str = "X-Amz-Signature";
/// The headers an upload must carry (the sandbox's choice; which headers a
/// real org returns is UNVERIFIED).
const UPLOAD_HEADERS: [(&str, &str); 2] =
    [("Content-Type", "text/plain; charset=UTF-8"), ("x-amz-server-side-encryption", "AES256")];

/// The `/api/v2` job routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(JOBS, post(register))
        .route("/api/v2/flows/jobs/{jobId}", get(import_state))
        .route(EXPORT_JOBS, post(register_export))
        .route("/api/v2/flows/export/jobs/{jobId}", get(export_state))
}

/// The transfer routes (presigned upload and download URLs), outside `/api/v2`.
pub fn transfers() -> Router<Shared> {
    Router::new().route(UPLOADS, put(upload)).route(DOWNLOADS, get(download))
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `http://HOST` of the request, for the URLs the sandbox hands out.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}")
}

async fn register(
    State(state): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Value>> {
    let id = new_id();
    let token = random_secret();
    let mut store = state.store();
    let job = json!({
        "id": id, "status": "Registered", "command": "Publish", "token": token,
        "caller": subject_value(&caller.subject), "selfUri": format!("{JOBS}/{id}"),
    });
    store.put(Kind::FlowJobs, &id, job);
    store.commit()?;
    let upload_headers: Map<String, Value> =
        UPLOAD_HEADERS.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    let url =
        format!("{}{}?{SIGNATURE}={token}", base_url(&headers), UPLOADS.replace("{jobId}", &id));
    Ok(axum::Json(json!({
        "id": id, "presignedUrl": url, "headers": upload_headers, "selfUri": format!("{JOBS}/{id}"),
    })))
}

fn subject_value(subject: &Subject) -> Value {
    match subject {
        Subject::Client(id) => json!({"client": id}),
        Subject::User(id) => json!({"user": id}),
    }
}

/// A storage-service error: XML, as S3 answers.
fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

/// The job a transfer URL is for, when its signature is right.
fn signed<'s>(store: &'s Store, kind: Kind, id: &str, params: &Params) -> Option<&'s Value> {
    let job = store.get(kind, id)?;
    let token = job.get("token").and_then(Value::as_str)?;
    (params.get(SIGNATURE) == Some(token)).then_some(job)
}

async fn upload(
    State(state): State<Shared>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: String,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return storage_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    let mut store = state.store();
    let Some(job) = signed(&store, Kind::FlowJobs, &id, &params).cloned() else {
        return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
    };
    for (name, value) in UPLOAD_HEADERS {
        let sent = headers.get(name).and_then(|v| v.to_str().ok());
        if sent != Some(value) {
            return storage_error(
                StatusCode::FORBIDDEN,
                "SignatureDoesNotMatch",
                &format!(
                    "The request signature we calculated does not match the signature you provided: the signed header {name} is missing or differs."
                ),
            );
        }
    }
    if job.get("status").and_then(Value::as_str) != Some("Registered") {
        return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    }
    let mut job = job;
    job["status"] = json!("Started");
    job["uploadedAt"] = json!(now_ms());
    job["text"] = json!(body);
    store.put(Kind::FlowJobs, &id, job);
    if let Err(err) = store.commit() {
        return ApiError::from(err).into_response();
    }
    StatusCode::OK.into_response()
}

async fn import_state(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let mut store = state.store();
    let job =
        store.get(Kind::FlowJobs, &id).cloned().ok_or_else(|| ApiError::not_found("job", &id))?;
    let job = advance(&mut store, &state, job)?;
    let mut out = json!({
        "id": job["id"], "status": job["status"], "command": job["command"], "selfUri": job["selfUri"],
    });
    if let Some(flow) = job.get("flowId").and_then(Value::as_str) {
        out["flow"] = json!({"id": flow, "selfUri": self_uri(Kind::Flows, flow)});
    }
    if params.expands("messages") {
        out["messages"] = job.get("messages").cloned().unwrap_or_else(|| json!([]));
    }
    Ok(axum::Json(out))
}

/// Run a started job whose time has come; returns the job as it is now.
fn advance(store: &mut Store, state: &AppState, mut job: Value) -> ApiResult<Value> {
    let uploaded = job.get("uploadedAt").and_then(Value::as_i64);
    let due = uploaded.is_some_and(|at| {
        let duration =
            i64::try_from(state.config.flow_job_duration.as_millis()).unwrap_or(i64::MAX);
        now_ms() >= at.saturating_add(duration)
    });
    if job.get("status").and_then(Value::as_str) != Some("Started") || !due {
        return Ok(job);
    }
    let text = job.get("text").and_then(Value::as_str).unwrap_or_default().to_string();
    let caller = caller_of(&job);
    let outcome = import(store, &text, caller.as_ref());
    let map =
        job.as_object_mut().ok_or_else(|| ApiError::internal("stored job is not an object"))?;
    map.remove("text");
    match outcome {
        Ok(flow) => {
            map.insert("status".into(), json!("Success"));
            map.insert("flowId".into(), json!(flow));
        }
        Err(messages) => {
            map.insert("status".into(), json!("Failure"));
            let stamp = crate::sandbox::common::now();
            let messages: Vec<Value> = messages
                .into_iter()
                .map(|text| json!({"dateTime": stamp, "type": "Error", "text": text}))
                .collect();
            map.insert("messages".into(), Value::Array(messages));
        }
    }
    let id = map.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    store.put(Kind::FlowJobs, &id, job.clone());
    store.commit()?;
    Ok(job)
}

fn caller_of(job: &Value) -> Option<Subject> {
    let caller = job.get("caller")?;
    if let Some(id) = caller.get("user").and_then(Value::as_str) {
        return Some(Subject::User(id.to_string()));
    }
    caller.get("client").and_then(Value::as_str).map(|id| Subject::Client(id.to_string()))
}

/// ` (line L, column C)`: where a message's problem is in the uploaded file.
fn at(loc: crate::manifest::yaml::Loc) -> String {
    format!(" (line {}, column {})", loc.line, loc.column)
}

/// Import `text`: the flow's id, or every message of the failure.
fn import(store: &mut Store, text: &str, caller: Option<&Subject>) -> Result<String, Vec<String>> {
    let inspection = archy::inspect(text).map_err(|u| {
        vec![format!("The flow file could not be read: {}{}", u.message, at(u.loc))]
    })?;
    let mut messages = Vec::new();
    let Some((key, flow_type)) = &inspection.top_key else {
        return Err(vec!["The flow file has no flow type key.".into()]);
    };
    let Some(flow_type) = *flow_type else {
        return Err(vec![format!("'{}' is not a supported flow type{}", key.text, at(key.loc))]);
    };
    for extra in &inspection.extra_keys {
        messages.push(format!("Unexpected top level key '{}'{}", extra.text, at(extra.loc)));
    }
    let name = match &inspection.name {
        Some(name) if !name.text.trim().is_empty() => name.text.clone(),
        _ => {
            messages.push(format!("The flow has no name{}", at(key.loc)));
            String::new()
        }
    };
    let division = division_of(store, &inspection, &mut messages);
    let consumed = consumed(store, &inspection, &mut messages);
    if let Some(reference) = &inspection.startup_ref {
        let target = archy::startup_target(&reference.text).unwrap_or_default();
        if !inspection.ref_ids.iter().any(|r| r == target) {
            messages.push(format!(
                "startUpRef '{}' does not resolve to a state or task{}",
                reference.text,
                at(reference.loc)
            ));
        }
    }
    let existing = store
        .all(Kind::Flows)
        .find(|f| {
            name_of(f) == name && f.get("type").and_then(Value::as_str) == Some(flow_type.as_str())
        })
        .cloned();
    if let Some(flow) = &existing {
        check_replaceable(flow, &name, caller, &mut messages);
    }
    if !messages.is_empty() {
        return Err(messages);
    }
    let description = inspection.description.as_ref().map(|(d, _)| d.text.clone());
    Ok(super::flows::publish(
        store,
        existing,
        &name,
        flow_type,
        division,
        description,
        text,
        &consumed,
        caller,
    ))
}

/// The id of the division the flow file names (the Home division when it
/// names none); a message when no division has that name.
fn division_of(
    store: &Store,
    inspection: &archy::Inspection,
    messages: &mut Vec<String>,
) -> Option<String> {
    let Some(division) = &inspection.division else { return home_division(store) };
    let found = store.all(Kind::Divisions).find(|d| name_of(d) == division.text);
    let id = found.and_then(|d| d.get("id")).and_then(Value::as_str).map(str::to_string);
    if id.is_none() {
        messages.push(format!(
            "Unable to find a division named '{}'{}",
            division.text,
            at(division.loc)
        ));
    }
    id
}

/// The ids of the queues, wrap-up codes and published flows the flow file
/// names, in that order; a message for each that does not exist.
fn consumed(
    store: &Store,
    inspection: &archy::Inspection,
    messages: &mut Vec<String>,
) -> Vec<Value> {
    let mut consumed = Vec::new();
    let mut find = |kind: Kind, noun: &str, names: &[archy::Located]| {
        for named in names {
            match store.all(kind).find(|o| name_of(o) == named.text) {
                Some(found) => consumed.push(found.get("id").cloned().unwrap_or(Value::Null)),
                None => messages.push(format!(
                    "Unable to find a {noun} named '{}'{}",
                    named.text,
                    at(named.loc)
                )),
            }
        }
    };
    find(Kind::Queues, "queue", &inspection.queues);
    find(Kind::WrapupCodes, "wrap-up code", &inspection.wrapup_codes);
    for flow in &inspection.flows {
        let named = |f: &&Value| {
            name_of(f) == flow.name.text
                && flow
                    .flow_type
                    .is_none_or(|t| f.get("type").and_then(Value::as_str) == Some(t.as_str()))
        };
        // A flow another one uses must be published: Architect resolves
        // `ver_latestPublished` and transfers to the published version
        // (that an unpublished flow is refused is UNVERIFIED).
        let found = store
            .all(Kind::Flows)
            .filter(named)
            .find(|f| f.get("publishedVersion").is_some_and(Value::is_object));
        match found {
            Some(found) => consumed.push(found.get("id").cloned().unwrap_or(Value::Null)),
            None => messages.push(format!(
                "Unable to find a published {} named '{}'{}",
                flow.flow_type
                    .map_or_else(|| "flow".to_string(), |t| format!("{} flow", t.as_str())),
                flow.name.text,
                at(flow.name.loc)
            )),
        }
    }
    consumed
}

/// Messages when the flow an import would replace cannot be: a system flow,
/// or one locked by someone other than the caller.
fn check_replaceable(
    flow: &Value,
    name: &str,
    caller: Option<&Subject>,
    messages: &mut Vec<String>,
) {
    if flow.get("system") == Some(&Value::Bool(true)) {
        messages.push(format!(
            "The flow '{}' is a system flow and cannot be replaced by an import.",
            name_of(flow)
        ));
    }
    if let Some(holder) = super::flows::lock_holder(flow).filter(|h| Some(h) != caller) {
        messages.push(format!(
            "The flow '{name}' is locked by {} {}; it must be checked in or unlocked before it can be published.",
            if matches!(holder, Subject::User(_)) { "user" } else { "OAuth client" },
            holder.id()
        ));
    }
}

async fn register_export(
    State(state): State<Shared>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<axum::Json<Value>> {
    let Some(flows) = body.get("flows").and_then(Value::as_array).filter(|f| !f.is_empty()) else {
        return Err(ApiError::bad_field("flows", "At least one flow to export is required."));
    };
    let mut wanted = Vec::new();
    for (i, item) in flows.iter().enumerate() {
        let Some(id) = item.pointer("/flow/id").and_then(Value::as_str) else {
            return Err(ApiError::bad_field(
                &format!("flows[{i}].flow.id"),
                "The flow id is required.",
            ));
        };
        match item.get("exportType").and_then(Value::as_str) {
            None | Some("Yaml") => {}
            Some("Architect") => {
                return Err(ApiError::bad_field(
                    &format!("flows[{i}].exportType"),
                    "The sandbox exports flows as Yaml only.",
                ));
            }
            Some(other) => {
                return Err(ApiError::bad_field(
                    &format!("flows[{i}].exportType"),
                    format!(
                        "Value [{other}] is not valid for field type [ExportType]. Allowable values are: Architect, Yaml"
                    ),
                ));
            }
        }
        let version = item.pointer("/flow/version").and_then(Value::as_str);
        wanted.push(json!({"id": id, "version": version}));
    }
    let id = new_id();
    let count = wanted.len();
    let job = json!({
        "id": id, "status": "Started", "command": "Export", "token": random_secret(),
        "registeredAt": now_ms(), "flows": wanted, "base": base_url(&headers),
        "selfUri": format!("{EXPORT_JOBS}/{id}"),
    });
    let mut store = state.store();
    store.put(Kind::FlowExportJobs, &id, job);
    store.commit()?;
    Ok(axum::Json(json!({
        "id": id, "status": "Started", "totalFlows": count, "selfUri": format!("{EXPORT_JOBS}/{id}"),
    })))
}

async fn export_state(
    State(state): State<Shared>,
    Id(id): Id,
    params: Params,
) -> ApiResult<axum::Json<Value>> {
    let store = state.store_read();
    let job =
        store.get(Kind::FlowExportJobs, &id).ok_or_else(|| ApiError::not_found("job", &id))?;
    let registered = job.get("registeredAt").and_then(Value::as_i64).unwrap_or(0);
    let duration = i64::try_from(state.config.flow_job_duration.as_millis()).unwrap_or(i64::MAX);
    let mut out = json!({"id": id, "command": "Export", "selfUri": job["selfUri"]});
    if now_ms() < registered.saturating_add(duration) {
        out["status"] = json!("Started");
        return Ok(axum::Json(out));
    }
    let missing: Vec<String> = job["flows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| exported_text(&store, f).is_none())
        .map(|f| f["id"].as_str().unwrap_or_default().to_string())
        .collect();
    if missing.is_empty() {
        let token = job["token"].as_str().unwrap_or_default();
        let base = job["base"].as_str().unwrap_or("http://127.0.0.1");
        out["status"] = json!("Success");
        out["downloadUrl"] =
            json!(format!("{base}{}?{SIGNATURE}={token}", DOWNLOADS.replace("{jobId}", &id)));
    } else {
        out["status"] = json!("Failure");
        if params.expands("messages") {
            let stamp = crate::sandbox::common::now();
            let messages: Vec<Value> = missing
                .iter()
                .map(|flow| json!({"dateTime": stamp, "type": "Error",
                    "text": format!("Archy failed: could not find the flow with id {flow} (or its version)")}))
                .collect();
            out["messages"] = Value::Array(messages);
        }
    }
    Ok(axum::Json(out))
}

/// The YAML of an exported flow: the asked version, else the published one.
fn exported_text(store: &Store, wanted: &Value) -> Option<String> {
    let id = wanted.get("id")?.as_str()?;
    let flow = store.get(Kind::Flows, id)?;
    let version = match wanted.get("version").and_then(Value::as_str) {
        Some(version) => version.to_string(),
        None => flow.pointer("/publishedVersion/id")?.as_str()?.to_string(),
    };
    let number = version.split('.').next()?;
    let stored = store.get(Kind::FlowVersions, &format!("{id}/{number}"))?;
    stored.get("yaml").and_then(Value::as_str).map(str::to_string)
}

async fn download(State(state): State<Shared>, Path(id): Path<String>, params: Params) -> Response {
    let store = state.store_read();
    let Some(job) = signed(&store, Kind::FlowExportJobs, &id, &params) else {
        return storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");
    };
    let texts: Option<Vec<String>> =
        job["flows"].as_array().into_iter().flatten().map(|f| exported_text(&store, f)).collect();
    match texts {
        Some(texts) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "application/x-yaml")], texts.join("---\n"))
                .into_response()
        }
        None => {
            storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.")
        }
    }
}
