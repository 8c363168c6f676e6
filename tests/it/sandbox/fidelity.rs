//! Model fidelity: every JSON key the sandbox emits, on every endpoint it
//! serves, exists in that endpoint's reference model (recursively, following
//! the field types), and every route the sandbox serves is a real endpoint.
//!
//! The reference is `tests/fixtures/genesys-models.json`: the subset of
//! `shared/genesys-api/models.json` in the project's steering repository
//! (itself extracted from the official Genesys Cloud SDKs) that this test
//! needs, so the test runs in any clone. `regenerate_the_reference_fixture`
//! below rebuilds it; its doc comment says how. A few served endpoints are
//! missing from that extract (`/users/me`, `/authorization/subjects/...`):
//! `tests/fixtures/genesys-models-supplement.json` adds them, written by hand
//! from the SDKs (its `note` names the sources).
//!
//! It also checks that every served route has a permission requirement
//! (`gcctl::sandbox::permission_requirement`), so no route escapes the
//! sandbox's permission checks.

use std::collections::{BTreeSet, HashMap};

use gcctl::sandbox::SandboxConfig;
use serde_json::{Value, json};

use super::{Answer, TestOrg};

/// The checked-in subset of the reference (see the module docs).
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/genesys-models.json");
/// Served endpoints the extract lacks, with their models (see the module docs).
const SUPPLEMENT: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/genesys-models-supplement.json");
/// Where `regenerate_the_reference_fixture` reads the full reference from.
const FULL_REFERENCE_VAR: &str = "GCCTL_GENESYS_MODELS";
const PRIMITIVES: &[&str] =
    &["str", "int", "float", "bool", "datetime", "date", "object", "long", "double"];
/// Failures are reported in this model whatever the endpoint.
const ERROR_MODEL: &str = "ErrorBody";

struct Reference {
    /// Model name -> JSON key -> field type.
    models: HashMap<String, HashMap<String, String>>,
    /// (method, path template) -> response model.
    endpoints: HashMap<(String, String), Option<String>>,
}

impl Reference {
    /// The checked-in reference: the fixture plus the supplement.
    fn checked_in() -> Reference {
        let read = |path: &str| -> Value {
            serde_json::from_str(&fs_err::read_to_string(path).unwrap()).expect("reference is JSON")
        };
        let mut reference = Reference::from_json(&read(FIXTURE));
        let supplement = Reference::from_json(&read(SUPPLEMENT));
        for (name, fields) in supplement.models {
            assert!(!reference.models.contains_key(&name), "{name} is in both files");
            reference.models.insert(name, fields);
        }
        for (key, model) in supplement.endpoints {
            assert!(!reference.endpoints.contains_key(&key), "{key:?} is in both files");
            reference.endpoints.insert(key, model);
        }
        reference
    }

    /// Read the reference (the fixture and the full file share one format).
    fn from_json(data: &Value) -> Reference {
        let mut models = HashMap::new();
        for model in data["models"].as_array().expect("models") {
            let fields = model["fields"].as_array().expect("fields").iter().map(|f| {
                (f["json"].as_str().unwrap().to_string(), f["type"].as_str().unwrap().to_string())
            });
            models.insert(model["model"].as_str().unwrap().to_string(), fields.collect());
        }
        let endpoints = data["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| (endpoint_key(e), e["response_model"].as_str().map(str::to_string)))
            .collect();
        Reference { models, endpoints }
    }

    /// Walk `value` as an instance of `ty`, collecting keys the model lacks.
    fn walk(&self, ty: &str, value: &Value, at: &str, problems: &mut Vec<String>) {
        if value.is_null() || PRIMITIVES.contains(&ty) {
            return;
        }
        if let Some(inner) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                self.walk(inner, item, &format!("{at}[{i}]"), problems);
            }
            return;
        }
        if let Some(inner) = ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')) {
            for (key, item) in value.as_object().into_iter().flatten() {
                self.walk(inner, item, &format!("{at}.{key}"), problems);
            }
            return;
        }
        let Some(fields) = self.models.get(ty) else {
            problems.push(format!("{at}: model {ty} is not in the reference"));
            return;
        };
        let Some(object) = value.as_object() else {
            problems.push(format!("{at}: expected a {ty} object, got {value}"));
            return;
        };
        for (key, item) in object {
            match fields.get(key) {
                Some(field_type) => self.walk(field_type, item, &format!("{at}.{key}"), problems),
                None => problems.push(format!("{at}.{key}: not a field of {ty}")),
            }
        }
    }
}

fn endpoint_key(endpoint: &Value) -> (String, String) {
    (
        endpoint["method"].as_str().unwrap().to_string(),
        endpoint["path"].as_str().unwrap().to_string(),
    )
}

/// The model a field type names, through `list[...]` and `dict(str, ...)`;
/// `None` for primitives.
fn named_model(ty: &str) -> Option<&str> {
    if let Some(inner) = ty.strip_prefix("list[").and_then(|t| t.strip_suffix(']')) {
        return named_model(inner);
    }
    if let Some(inner) = ty.strip_prefix("dict(str, ").and_then(|t| t.strip_suffix(')')) {
        return named_model(inner);
    }
    (!PRIMITIVES.contains(&ty)).then_some(ty)
}

/// Exercises every endpoint; records (method, template, answer).
struct Recorder<'a> {
    org: &'a TestOrg,
    calls: Vec<(String, String, Answer)>,
}

impl Recorder<'_> {
    async fn call(
        &mut self,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let token = self.org.token.clone();
        self.call_as(&token, method, template, path, body).await
    }

    /// [`Recorder::call`] with another token.
    async fn call_as(
        &mut self,
        token: &str,
        method: &str,
        template: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let answer = self.org.call_as(token, method.parse().unwrap(), path, body).await;
        let out = answer.body.clone();
        self.calls.push((method.to_string(), template.to_string(), answer));
        out
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_else(|| panic!("no id in {value}")).to_string()
}

/// What one run of [`exercise`] saw.
struct Recording {
    /// (method, template, answer) per call.
    calls: Vec<(String, String, Answer)>,
    /// Every API route the sandbox served, as (method, template).
    served: BTreeSet<(String, String)>,
}

async fn record() -> Recording {
    let config = SandboxConfig {
        create_delay: std::time::Duration::from_millis(1),
        ..SandboxConfig::default()
    };
    let org = TestOrg::start(config).await;
    let mut r = Recorder { org: &org, calls: Vec::new() };
    exercise(&mut r).await;
    let calls = r.calls;
    let stats = org.stats().await;
    let served = stats["byRoute"]
        .as_object()
        .unwrap()
        .keys()
        // Only the API: the token endpoint is on the login host, and flow
        // jobs' upload and download URLs stand for a storage service.
        .filter(|route| route.split_once(' ').is_some_and(|(_, t)| t.starts_with("/api/v2")))
        .map(|route| {
            let (method, template) = route.split_once(' ').unwrap();
            (method.to_string(), template.to_string())
        })
        .collect();
    Recording { calls, served }
}

#[tokio::test]
async fn every_emitted_field_exists_in_the_reference_model() {
    let reference = Reference::checked_in();
    let Recording { calls, served } = record().await;
    let mut problems = Vec::new();
    for (method, template, answer) in &calls {
        let at = format!("{method} {template} ({})", answer.status);
        let model = if answer.status >= 400 {
            Some(ERROR_MODEL.to_string())
        } else {
            let Some(model) = reference.endpoints.get(&(method.clone(), template.clone())) else {
                problems.push(format!("{at}: not an endpoint of the reference"));
                continue;
            };
            model.clone()
        };
        match model {
            Some(model) => reference.walk(&model, &answer.body, &at, &mut problems),
            None if answer.body.is_null() => {}
            None => problems
                .push(format!("{at}: the reference has no body, the sandbox sent {}", answer.body)),
        }
    }
    // Every served API route was exercised and is a real endpoint.
    let exercised: BTreeSet<String> = calls.iter().map(|(m, t, _)| format!("{m} {t}")).collect();
    for (method, template) in &served {
        if !reference.endpoints.contains_key(&(method.clone(), template.clone())) {
            problems.push(format!("{method} {template}: served but not in the reference"));
        }
        if gcctl::sandbox::permission_requirement(method, template).is_none() {
            problems.push(format!("{method} {template}: served with no permission requirement"));
        }
    }
    // No answer was the sandbox's "no known requirement" failure.
    for (method, template, answer) in &calls {
        if answer.status == 500 {
            problems.push(format!("{method} {template}: 500 {}", answer.body));
        }
    }
    // The sandbox serves 108 API routes (method + template); all are exercised.
    assert_eq!(exercised.len(), 108, "exercised: {exercised:#?}");
    assert!(
        problems.is_empty(),
        "fields or routes not in the reference:\n{}\n\
         (a route the sandbox newly serves needs the fixture regenerated: see \
         `regenerate_the_reference_fixture`)",
        problems.join("\n")
    );
}

/// Rebuild `tests/fixtures/genesys-models.json` from the full reference:
///
/// ```text
/// GCCTL_GENESYS_MODELS=/path/to/steering/shared/genesys-api/models.json \
///     cargo test --test it -- --ignored regenerate_the_reference_fixture
/// ```
///
/// It keeps the endpoints this module exercises or the sandbox serves, the
/// models reachable from their response models and from `ErrorBody`, and of
/// each field only its JSON key and type (all the check reads), in the full
/// file's order: the same input always gives the same bytes. Ignored because
/// the full reference is not part of the repository.
#[tokio::test]
#[ignore = "needs the full reference: set GCCTL_GENESYS_MODELS (see the doc comment)"]
async fn regenerate_the_reference_fixture() {
    let source = std::env::var(FULL_REFERENCE_VAR)
        .unwrap_or_else(|_| panic!("set {FULL_REFERENCE_VAR} to the full models.json"));
    let full: Value = serde_json::from_str(&fs_err::read_to_string(&source).unwrap()).unwrap();
    let Recording { calls, mut served } = record().await;
    served.extend(calls.into_iter().map(|(method, template, _)| (method, template)));
    let supplement: Value =
        serde_json::from_str(&fs_err::read_to_string(SUPPLEMENT).unwrap()).unwrap();
    let mut text = serde_json::to_string_pretty(&subset(&full, &served, &supplement)).unwrap();
    text.push('\n');
    fs_err::write(FIXTURE, text).unwrap();
}

/// The part of the full reference that the fidelity check reads for `routes`
/// (and for the models the supplement's models name).
fn subset(full: &Value, routes: &BTreeSet<(String, String)>, supplement: &Value) -> Value {
    let endpoints: Vec<&Value> = full["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| routes.contains(&endpoint_key(e)))
        .collect();
    let models: HashMap<&str, &Value> = full["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["model"].as_str().unwrap(), m))
        .collect();
    let mut todo: Vec<&str> =
        endpoints.iter().filter_map(|e| e["response_model"].as_str()).collect();
    todo.push(ERROR_MODEL);
    let supplemented = supplement["models"].as_array().unwrap().iter();
    let fields = supplemented.flat_map(|m| m["fields"].as_array().unwrap());
    todo.extend(fields.filter_map(|f| named_model(f["type"].as_str().unwrap())));
    let mut reachable = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if !reachable.insert(name) {
            continue;
        }
        let fields = models.get(name).and_then(|m| m["fields"].as_array()).into_iter().flatten();
        todo.extend(fields.filter_map(|f| named_model(f["type"].as_str().unwrap())));
    }
    let kept_models: Vec<Value> = full["models"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| reachable.contains(m["model"].as_str().unwrap()))
        .map(|m| {
            let fields: Vec<Value> = m["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| json!({"json": f["json"], "type": f["type"]}))
                .collect();
            json!({"model": m["model"], "fields": fields})
        })
        .collect();
    let kept_endpoints: Vec<Value> = endpoints
        .iter()
        .map(|e| json!({"method": e["method"], "path": e["path"], "response_model": e["response_model"]}))
        .collect();
    json!({
        "note": "Subset of shared/genesys-api/models.json in the gcctl steering repository \
            (extracted from the official Genesys Cloud SDKs; its `sources` are kept below): only \
            the endpoints the sandbox serves, the models reachable from their response models \
            and from ErrorBody, and each field's JSON key and type. Read by \
            tests/it/sandbox/fidelity.rs. Do not edit by hand; regenerate with \
            `GCCTL_GENESYS_MODELS=/path/to/models.json cargo test --test it -- --ignored \
            regenerate_the_reference_fixture`.",
        "sources": full["sources"],
        "endpoints": kept_endpoints,
        "models": kept_models,
    })
}

async fn exercise(r: &mut Recorder<'_>) {
    exercise_org(r).await;
    exercise_messaging(r).await;
    exercise_queues(r).await;
    exercise_routing(r).await;
    exercise_membership(r).await;
    exercise_oauth(r).await;
    exercise_identity(r).await;
    exercise_authorization(r).await;
    exercise_flows(r).await;
}

/// PUT a flow definition to an import job's upload URL (outside the API:
/// not recorded).
async fn upload(r: &Recorder<'_>, job: &Value, yaml: &str) {
    let mut put = r.org.http.put(job["presignedUrl"].as_str().unwrap()).body(yaml.to_string());
    for (name, value) in job["headers"].as_object().unwrap() {
        put = put.header(name, value.as_str().unwrap());
    }
    assert_eq!(put.send().await.unwrap().status(), 200);
}

/// Flow jobs (import, export), versions, lock actions, dependency tracking, delete.
async fn exercise_flows(r: &mut Recorder<'_>) {
    let queues = "/api/v2/routing/queues";
    let queue = r.call("POST", queues, queues, Some(json!({"name": "Fidelity Flow Queue"}))).await;
    let jobs = "/api/v2/flows/jobs";
    let state = "/api/v2/flows/jobs/{jobId}";
    let job = r.call("POST", jobs, jobs, None).await;
    r.call("GET", state, &format!("{jobs}/{}", id(&job)), None).await;
    let yaml = "inboundShortMessage:\n  name: Fidelity Flow\n  description: d\n  startUpRef: \"/inboundShortMessage/states/state[S_1]\"\n  states:\n    - state:\n        name: S\n        refId: S_1\n        actions:\n          - transferToAcd:\n              name: T\n              targetQueue:\n                lit:\n                  name: Fidelity Flow Queue\n";
    upload(r, &job, yaml).await;
    let done = r.call("GET", state, &format!("{jobs}/{}?expand=messages", id(&job)), None).await;
    let flow = id(&done["flow"]);
    let failing = r.call("POST", jobs, jobs, None).await;
    upload(r, &failing, &yaml.replace("Fidelity Flow Queue", "No Such Queue")).await;
    r.call("GET", state, &format!("{jobs}/{}?expand=messages", id(&failing)), None).await;
    r.call("GET", state, &format!("{jobs}/nope"), None).await;
    let flows = "/api/v2/flows";
    let versions = format!("{flows}/{flow}/versions");
    r.call("GET", "/api/v2/flows/{flowId}/versions", &versions, None).await;
    let one = "/api/v2/flows/{flowId}/versions/{versionId}";
    r.call("GET", one, &format!("{versions}/1.0"), None).await;
    r.call("GET", one, &format!("{versions}/9.0"), None).await;
    let exports = "/api/v2/flows/export/jobs";
    let body = json!({"flows": [{"flow": {"id": flow, "version": "1.0"}, "exportType": "Yaml"}]});
    let export = r.call("POST", exports, exports, Some(body)).await;
    r.call("POST", exports, exports, Some(json!({"flows": []}))).await;
    let export_state = "/api/v2/flows/export/jobs/{jobId}";
    r.call("GET", export_state, &format!("{exports}/{}?expand=messages", id(&export)), None).await;
    let missing = json!({"flows": [{"flow": {"id": "nope"}}]});
    let lost = r.call("POST", exports, exports, Some(missing)).await;
    r.call("GET", export_state, &format!("{exports}/{}?expand=messages", id(&lost)), None).await;
    let action = |name: &str| format!("/api/v2/flows/actions/{name}?flow={flow}");
    r.call("POST", "/api/v2/flows/actions/checkout", &action("checkout"), None).await;
    r.call("POST", "/api/v2/flows/actions/checkin", &action("checkin"), None).await;
    r.call("POST", "/api/v2/flows/actions/checkin", &action("checkin"), None).await;
    r.call("POST", "/api/v2/flows/actions/checkout", &action("checkout"), None).await;
    r.call("POST", "/api/v2/flows/actions/unlock", &action("unlock"), None).await;
    r.call("POST", "/api/v2/flows/actions/publish", &action("publish"), None).await;
    r.call("POST", "/api/v2/flows/actions/publish", "/api/v2/flows/actions/publish", None).await;
    let tracking = "/api/v2/architect/dependencytracking";
    let consuming = "/api/v2/architect/dependencytracking/consumingresources";
    let consumed = "/api/v2/architect/dependencytracking/consumedresources";
    let queue_id = id(&queue);
    r.call(
        "GET",
        consuming,
        &format!("{tracking}/consumingresources?id={queue_id}&objectType=QUEUE"),
        None,
    )
    .await;
    r.call(
        "GET",
        consuming,
        &format!("{tracking}/consumingresources?id={flow}&objectType=INBOUNDSHORTMESSAGEFLOW"),
        None,
    )
    .await;
    r.call(
        "GET",
        consumed,
        &format!(
            "{tracking}/consumedresources?id={flow}&version=1.0&objectType=INBOUNDSHORTMESSAGEFLOW"
        ),
        None,
    )
    .await;
    r.call(
        "GET",
        consumed,
        &format!("{tracking}/consumedresources?id={flow}&objectType=INBOUNDSHORTMESSAGEFLOW"),
        None,
    )
    .await;
    let seeded = r.call("GET", flows, "/api/v2/flows?name=Support", None).await;
    r.call(
        "DELETE",
        "/api/v2/flows/{flowId}",
        &format!("{flows}/{}", id(&seeded["entities"][0])),
        None,
    )
    .await;
    r.call("DELETE", "/api/v2/flows/{flowId}", &format!("{flows}/{flow}"), None).await;
}

/// Users, tokens and the caller's own identity.
async fn exercise_identity(r: &mut Recorder<'_>) {
    let user_token = r.org.sandbox.user_token().to_string();
    let users = "/api/v2/users";
    let list = r.call("GET", users, "/api/v2/users?pageSize=5&state=any", None).await;
    let user = id(&list["entities"][0]);
    r.call("GET", "/api/v2/users/{userId}", &format!("{users}/{user}"), None).await;
    r.call("GET", "/api/v2/users/{userId}", &format!("{users}/nope"), None).await;
    r.call_as(&user_token, "GET", "/api/v2/users/me", "/api/v2/users/me", None).await;
    r.call("GET", "/api/v2/users/me", "/api/v2/users/me", None).await;
    let me = "/api/v2/tokens/me";
    r.call("GET", me, me, None).await;
    r.call_as(&user_token, "GET", me, me, None).await;
    r.call("HEAD", me, me, None).await;
    let sandbox = &r.org.sandbox;
    let throwaway =
        super::mint(&r.org.http, &sandbox.base_url(), sandbox.client_id(), sandbox.client_secret())
            .await
            .unwrap();
    r.call_as(&throwaway, "DELETE", me, me, None).await;
}

/// The permission catalog, subjects and grants, division moves, and a 403.
async fn exercise_authorization(r: &mut Recorder<'_>) {
    let catalog = "/api/v2/authorization/permissions";
    r.call("GET", catalog, "/api/v2/authorization/permissions?pageSize=2", None).await;
    r.call(
        "GET",
        catalog,
        "/api/v2/authorization/permissions?queryType=domain&query=routing",
        None,
    )
    .await;
    r.call("GET", catalog, "/api/v2/authorization/permissions?queryType=nope&query=x", None).await;
    let user_token = r.org.sandbox.user_token().to_string();
    let user = r.org.sandbox.user_id().to_string();
    let subject = "/api/v2/authorization/subjects/{subjectId}";
    r.call("GET", "/api/v2/authorization/subjects/me", "/api/v2/authorization/subjects/me", None)
        .await;
    r.call_as(
        &user_token,
        "GET",
        "/api/v2/authorization/subjects/me",
        "/api/v2/authorization/subjects/me",
        None,
    )
    .await;
    r.call("GET", subject, &format!("/api/v2/authorization/subjects/{user}"), None).await;
    r.call("GET", subject, "/api/v2/authorization/subjects/nope", None).await;
    let roles = r
        .call(
            "GET",
            "/api/v2/authorization/roles",
            "/api/v2/authorization/roles?name=employee",
            None,
        )
        .await;
    let role = id(&roles["entities"][0]);
    let divisions = r
        .call("GET", "/api/v2/authorization/divisions", "/api/v2/authorization/divisions", None)
        .await;
    let operations = divisions["entities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Operations")
        .map(id)
        .unwrap();
    let grant = "/api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}";
    let path = format!("/api/v2/authorization/subjects/{user}/divisions/{operations}/roles/{role}");
    r.call("POST", grant, &path, None).await;
    r.call("POST", grant, &format!("{path}?subjectType=PC_GROUP"), None).await;
    r.call("DELETE", grant, &path, None).await;
    let bulk = "/api/v2/authorization/roles/{roleId}";
    let body = json!({"subjectIds": [user], "divisionIds": [operations]});
    r.call("POST", bulk, &format!("/api/v2/authorization/roles/{role}"), Some(body)).await;
    r.call("POST", bulk, &format!("/api/v2/authorization/roles/{role}"), Some(json!({}))).await;
    // Division moves.
    let queues = "/api/v2/routing/queues";
    let queue = r.call("POST", queues, queues, Some(json!({"name": "Mover"}))).await;
    let moves = "/api/v2/authorization/divisions/{divisionId}/objects/{objectType}";
    let path = format!("/api/v2/authorization/divisions/{operations}/objects/QUEUE");
    r.call("POST", moves, &path, Some(json!([id(&queue)]))).await;
    r.call("POST", moves, &path, Some(json!(["nope"]))).await;
    let bad = format!("/api/v2/authorization/divisions/{operations}/objects/WIDGET");
    r.call("POST", moves, &bad, Some(json!([id(&queue)]))).await;
    // A caller without the permission: a client holding only `employee`.
    let clients = "/api/v2/oauth/clients";
    let home = r
        .call(
            "GET",
            "/api/v2/authorization/divisions/home",
            "/api/v2/authorization/divisions/home",
            None,
        )
        .await;
    r.org.grant_admin_client(&role, &id(&home)).await;
    let body = json!({"name": "Weak", "authorizedGrantType": "CLIENT-CREDENTIALS",
        "roleDivisions": [{"roleId": role, "divisionId": id(&home)}]});
    let weak = r.call("POST", clients, clients, Some(body)).await;
    let token = super::mint(
        &r.org.http,
        &r.org.sandbox.base_url(),
        weak["id"].as_str().unwrap(),
        weak["secret"].as_str().unwrap(),
    )
    .await
    .unwrap();
    r.call_as(&token, "GET", queues, queues, None).await;
}

/// Wrap-up codes, skills (soft delete, no rename) and languages.
async fn exercise_routing(r: &mut Recorder<'_>) {
    let codes = "/api/v2/routing/wrapupcodes";
    let code = "/api/v2/routing/wrapupcodes/{codeId}";
    let created = r.call("POST", codes, codes, Some(json!({"name": "Fidelity Code"}))).await;
    let path = format!("{codes}/{}", id(&created));
    r.call("GET", code, &path, None).await;
    let body = json!({"name": "Fidelity Code", "description": "d", "division": {"id": "*"}});
    r.call("PUT", code, &path, Some(body)).await;
    r.call("POST", codes, codes, Some(json!({"name": "fidelity code"}))).await;
    r.call("GET", codes, &format!("{codes}?pageSize=100&name=Fidelity"), None).await;
    r.call("DELETE", code, &path, None).await;
    let skills = "/api/v2/routing/skills";
    let skill = "/api/v2/routing/skills/{skillId}";
    let created = r.call("POST", skills, skills, Some(json!({"name": "Fidelity Skill"}))).await;
    let path = format!("{skills}/{}", id(&created));
    let home = created["division"]["id"].as_str().unwrap_or_default().to_string();
    r.call("PATCH", skill, &path, Some(json!({"divisionId": home}))).await;
    r.call("PATCH", skill, &path, Some(json!({"name": "Renamed"}))).await;
    r.call("DELETE", skill, &path, None).await;
    r.call("GET", skill, &path, None).await;
    r.call("PATCH", skill, &path, Some(json!({"divisionId": home}))).await;
    r.call("GET", skills, &format!("{skills}?pageSize=500&name=fid"), None).await;
    let languages = "/api/v2/routing/languages";
    let language = "/api/v2/routing/languages/{languageId}";
    let created = r.call("POST", languages, languages, Some(json!({"name": "Klingon"}))).await;
    let path = format!("{languages}/{}", id(&created));
    r.call("GET", language, &path, None).await;
    r.call("DELETE", language, &path, None).await;
    r.call("GET", languages, languages, None).await;
}

/// Users search, groups, queue members (direct, through a group, async
/// processing, ring numbers, join state) and a queue's wrap-up codes.
async fn exercise_membership(r: &mut Recorder<'_>) {
    let search = "/api/v2/users/search";
    let body = json!({"pageSize": 2, "query": [{"type": "EXACT", "fields": ["email"],
        "values": ["alice@sandbox.gcctl.example", "bob@sandbox.gcctl.example", "carol@sandbox.gcctl.example"]}]});
    let found = r.call("POST", search, search, Some(body)).await;
    let alice = id(&found["results"][0]);
    let next = found["nextPage"].as_str().unwrap_or_default().to_string();
    r.call("GET", search, &next, None).await;
    r.call(
        "POST",
        search,
        search,
        Some(json!({"query": [{"type": "REGEX", "fields": ["email"], "value": "."}]})),
    )
    .await;
    let groups = r.call("GET", "/api/v2/groups", "/api/v2/groups?pageSize=500", None).await;
    let group = id(&groups["entities"][0]);
    r.call("GET", "/api/v2/groups/{groupId}", &format!("/api/v2/groups/{group}"), None).await;
    let teams = r.call("GET", "/api/v2/teams", "/api/v2/teams?pageSize=1&name=sandbox", None).await;
    let team = id(&teams["entities"][0]);
    r.call("GET", "/api/v2/teams/{teamId}", &format!("/api/v2/teams/{team}"), None).await;
    r.call("GET", "/api/v2/teams/{teamId}", "/api/v2/teams/nope", None).await;
    let skill_groups = "/api/v2/routing/skillgroups";
    let found = r.call("GET", skill_groups, &format!("{skill_groups}?pageSize=100"), None).await;
    let skill_group = id(&found["entities"][0]);
    let one = "/api/v2/routing/skillgroups/{skillGroupId}";
    r.call("GET", one, &format!("{skill_groups}/{skill_group}"), None).await;
    let queues = "/api/v2/routing/queues";
    let body = json!({"name": "Members", "memberGroups": [{"id": group, "type": "GROUP"},
        {"id": team, "type": "TEAM"}, {"id": skill_group, "type": "SKILLGROUP"}]});
    let queue = id(&r.call("POST", queues, queues, Some(body)).await);
    let members = "/api/v2/routing/queues/{queueId}/members";
    let member = "/api/v2/routing/queues/{queueId}/members/{memberId}";
    let path = format!("{queues}/{queue}/members");
    r.call("POST", members, &path, Some(json!([{"id": alice}]))).await;
    r.call("POST", members, &path, Some(json!([{"id": "nope"}]))).await;
    r.call("GET", members, &format!("{path}?pageSize=100"), None).await;
    r.call("GET", members, &format!("{path}?memberBy=group"), None).await;
    r.call("GET", members, &format!("{path}?memberBy=team"), None).await;
    r.call("PATCH", members, &path, Some(json!([{"id": alice, "joined": false}]))).await;
    r.call("PATCH", member, &format!("{path}/{alice}"), Some(json!({"ringNumber": 3}))).await;
    r.call("PATCH", member, &format!("{path}/{alice}"), Some(json!({"ringNumber": 9}))).await;
    r.call("DELETE", member, &format!("{path}/{alice}"), None).await;
    r.call("DELETE", member, &format!("{path}/{alice}"), None).await;
    r.call("POST", members, &format!("{path}?delete=true"), Some(json!([{"id": alice}]))).await;
    let codes = "/api/v2/routing/queues/{queueId}/wrapupcodes";
    let code = r
        .call(
            "POST",
            "/api/v2/routing/wrapupcodes",
            "/api/v2/routing/wrapupcodes",
            Some(json!({"name": "Queue Code"})),
        )
        .await;
    let path = format!("{queues}/{queue}/wrapupcodes");
    r.call("POST", codes, &path, Some(json!([{"id": id(&code)}]))).await;
    r.call("POST", codes, &path, Some(json!([{"id": "nope"}]))).await;
    r.call("GET", codes, &path, None).await;
    let item = "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}";
    r.call("DELETE", item, &format!("{path}/{}", id(&code)), None).await;
    r.call("DELETE", item, &format!("{path}/{}", id(&code)), None).await;
    r.call("GET", "/api/v2/routing/queues/{queueId}", &format!("{queues}/{queue}"), None).await;
    // The user's routing skills and languages.
    let skills = "/api/v2/routing/skills";
    let skill = id(&r.call("POST", skills, skills, Some(json!({"name": "Profile Skill"}))).await);
    let languages = "/api/v2/routing/languages";
    let language =
        id(&r.call("POST", languages, languages, Some(json!({"name": "Profile Language"}))).await);
    let user = format!("/api/v2/users/{alice}");
    let bulk = "/api/v2/users/{userId}/routingskills/bulk";
    let body = json!([{"id": skill, "proficiency": 4.5}]);
    r.call("PATCH", bulk, &format!("{user}/routingskills/bulk"), Some(body.clone())).await;
    r.call("PUT", bulk, &format!("{user}/routingskills/bulk"), Some(body)).await;
    let bad = json!([{"id": skill, "proficiency": 7}]);
    r.call("PATCH", bulk, &format!("{user}/routingskills/bulk"), Some(bad)).await;
    let list = "/api/v2/users/{userId}/routingskills";
    r.call("GET", list, &format!("{user}/routingskills"), None).await;
    let one = "/api/v2/users/{userId}/routingskills/{skillId}";
    r.call("DELETE", one, &format!("{user}/routingskills/{skill}"), None).await;
    r.call("DELETE", one, &format!("{user}/routingskills/{skill}"), None).await;
    let bulk = "/api/v2/users/{userId}/routinglanguages/bulk";
    let body = json!([{"id": language, "proficiency": 5}]);
    r.call("PATCH", bulk, &format!("{user}/routinglanguages/bulk"), Some(body)).await;
    let list = "/api/v2/users/{userId}/routinglanguages";
    r.call("GET", list, &format!("{user}/routinglanguages"), None).await;
    let one = "/api/v2/users/{userId}/routinglanguages/{languageId}";
    r.call("DELETE", one, &format!("{user}/routinglanguages/{language}"), None).await;
    r.call("GET", list, "/api/v2/users/nope/routinglanguages", None).await;
}

async fn exercise_org(r: &mut Recorder<'_>) {
    r.call("GET", "/api/v2/organizations/me", "/api/v2/organizations/me", None).await;
    let divisions = "/api/v2/authorization/divisions";
    r.call("GET", divisions, "/api/v2/authorization/divisions?pageSize=1", None).await;
    let home = r
        .call(
            "GET",
            "/api/v2/authorization/divisions/home",
            "/api/v2/authorization/divisions/home",
            None,
        )
        .await;
    r.call(
        "GET",
        "/api/v2/authorization/divisions/{divisionId}",
        &format!("{divisions}/{}", id(&home)),
        None,
    )
    .await;
    r.call(
        "GET",
        "/api/v2/authorization/divisions/{divisionId}",
        &format!("{divisions}/nope"),
        None,
    )
    .await;
    let roles = "/api/v2/authorization/roles";
    r.call("GET", roles, "/api/v2/authorization/roles?name=admin", None).await;
    let role = r.call("POST", roles, roles, Some(json!({"name": "Fidelity", "permissionPolicies": [{"domain": "routing", "entityName": "queue", "actionSet": ["view"]}]}))).await;
    let path = format!("{roles}/{}", id(&role));
    r.call("GET", "/api/v2/authorization/roles/{roleId}", &path, None).await;
    r.call(
        "PUT",
        "/api/v2/authorization/roles/{roleId}",
        &path,
        Some(json!({"name": "Fidelity 2"})),
    )
    .await;
    r.call("POST", roles, roles, Some(json!({}))).await;
    r.call("DELETE", "/api/v2/authorization/roles/{roleId}", &path, None).await;
    let flows = r.call("GET", "/api/v2/flows", "/api/v2/flows?pageSize=3&pageNumber=2", None).await;
    let flow = id(&flows["entities"][0]);
    r.call("GET", "/api/v2/flows/{flowId}", &format!("/api/v2/flows/{flow}"), None).await;
}

async fn exercise_messaging(r: &mut Recorder<'_>) {
    let content = "/api/v2/conversations/messaging/supportedcontent";
    r.call("GET", content, content, None).await;
    let default = format!("{content}/default");
    let initial = r
        .call("GET", "/api/v2/conversations/messaging/supportedcontent/default", &default, None)
        .await;
    let created = r
        .call(
            "POST",
            content,
            content,
            Some(json!({"name": "F", "mediaTypes": {"allow": {"inbound": [{"type": "image/*"}]}}})),
        )
        .await;
    let path = format!("{content}/{}", id(&created));
    let by_id = "/api/v2/conversations/messaging/supportedcontent/{supportedContentId}";
    r.call("GET", by_id, &path, None).await;
    r.call("PATCH", by_id, &path, Some(json!({"name": "F2"}))).await;
    r.call(
        "PUT",
        "/api/v2/conversations/messaging/supportedcontent/default",
        &default,
        Some(json!({"id": id(&created)})),
    )
    .await;
    r.call(
        "PUT",
        "/api/v2/conversations/messaging/supportedcontent/default",
        &default,
        Some(json!({"id": id(&initial)})),
    )
    .await;
    r.call("DELETE", by_id, &path, None).await;
    let settings = "/api/v2/conversations/messaging/settings";
    let list = r.call("GET", settings, settings, None).await;
    let setting = id(&list["entities"][0]);
    r.call(
        "GET",
        "/api/v2/conversations/messaging/settings/{messageSettingId}",
        &format!("{settings}/{setting}"),
        None,
    )
    .await;
    let default_template = "/api/v2/conversations/messaging/settings/default";
    let default = format!("{settings}/default");
    r.call("GET", default_template, &default, None).await;
    let toggles = json!({"typing": {"on": {"inbound": "Enabled", "outbound": "Disabled"}}});
    let body = json!({"name": "F", "event": toggles,
        "content": {"story": {"mention": {"inbound": "Enabled"}, "reply": {"inbound": "Disabled"}}}});
    let created = r.call("POST", settings, settings, Some(body)).await;
    r.call("POST", settings, settings, Some(json!({"name": "F", "event": {"typing": "x"}}))).await;
    let by_id = "/api/v2/conversations/messaging/settings/{messageSettingId}";
    let path = format!("{settings}/{}", id(&created));
    r.call("PATCH", by_id, &path, Some(json!({"name": "F2", "event": toggles}))).await;
    r.call("PUT", default_template, &default, Some(json!({"settingId": id(&created)}))).await;
    r.call("PUT", default_template, &default, Some(json!({"settingId": "nope"}))).await;
    r.call("DELETE", by_id, &path, None).await;
    r.call("DELETE", default_template, &default, None).await;
    r.call("GET", default_template, &default, None).await;
    r.call("DELETE", by_id, &path, None).await;
    r.call("PUT", default_template, &default, Some(json!({"settingId": setting}))).await;
    let open = "/api/v2/conversations/messaging/integrations/open";
    let body = json!({"name": "F", "outboundNotificationWebhookUrl": "https://x.example.com/h",
        "outboundNotificationWebhookSignatureSecretToken": "0123456789abcdef", "webhookHeaders": {"A": "b"}});
    let integration = r.call("POST", open, open, Some(body)).await;
    let failing = json!({"name": "sandbox-create-error x", "outboundNotificationWebhookUrl": "https://x.example.com/h",
        "outboundNotificationWebhookSignatureSecretToken": "0123456789abcdef"});
    let failed = r.call("POST", open, open, Some(failing)).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let by_id = "/api/v2/conversations/messaging/integrations/open/{integrationId}";
    let path = format!("{open}/{}", id(&integration));
    r.call("GET", by_id, &format!("{path}?expand=supportedContent,messagingSetting"), None).await;
    r.call("GET", by_id, &format!("{open}/{}", id(&failed)), None).await;
    r.call(
        "GET",
        open,
        "/api/v2/conversations/messaging/integrations/open?expand=supportedContent",
        None,
    )
    .await;
    r.call("PATCH", by_id, &path, Some(json!({"name": "F2"}))).await;
    let recipients = "/api/v2/routing/message/recipients";
    r.call("GET", recipients, "/api/v2/routing/message/recipients?messengerType=open", None).await;
    let recipient = format!("{recipients}/{}", id(&integration["recipient"]));
    let flows =
        r.call("GET", "/api/v2/flows", "/api/v2/flows?type=inboundshortmessage", None).await;
    let by_id_r = "/api/v2/routing/message/recipients/{recipientId}";
    r.call("PUT", by_id_r, &recipient, Some(json!({"flow": {"id": id(&flows["entities"][0])}})))
        .await;
    r.call("GET", by_id_r, &recipient, None).await;
    r.call("PUT", by_id_r, &recipient, Some(json!({"flow": {"id": "nope"}}))).await;
    r.call("DELETE", by_id, &path, None).await;
}

async fn exercise_queues(r: &mut Recorder<'_>) {
    let queues = "/api/v2/routing/queues";
    let flows = r
        .call("GET", "/api/v2/flows", "/api/v2/flows?type=inqueueshortmessage&name=Default", None)
        .await;
    let open = "/api/v2/conversations/messaging/integrations/open";
    let body = json!({"name": "Q", "outboundNotificationWebhookUrl": "https://x.example.com/h",
        "outboundNotificationWebhookSignatureSecretToken": "0123456789abcdef"});
    let integration = r.call("POST", open, open, Some(body)).await;
    let queue = json!({"name": "Fidelity", "description": "d", "messageInQueueFlow": {"id": id(&flows["entities"][0])},
        "outboundMessagingAddresses": {"openMessagingRecipient": {"id": id(&integration["recipient"])}},
        "mediaSettings": {"message": {"alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}}},
        "acwSettings": {"wrapupPrompt": "OPTIONAL"}, "enableTranscription": true});
    let created = r.call("POST", queues, queues, Some(queue)).await;
    let path = format!("{queues}/{}", id(&created));
    let by_id = "/api/v2/routing/queues/{queueId}";
    r.call("GET", by_id, &path, None).await;
    r.call("PUT", by_id, &path, Some(json!({"name": "Fidelity", "skillEvaluationMethod": "ALL"})))
        .await;
    r.call("GET", queues, "/api/v2/routing/queues?name=Fid*", None).await;
    r.call("GET", queues, "/api/v2/routing/queues?pageSize=501", None).await;
    r.call("DELETE", by_id, &path, None).await;
    r.call("GET", by_id, &path, None).await;
}

async fn exercise_oauth(r: &mut Recorder<'_>) {
    let clients = "/api/v2/oauth/clients";
    let roles = r
        .call(
            "GET",
            "/api/v2/authorization/roles",
            "/api/v2/authorization/roles?name=employee",
            None,
        )
        .await;
    let home = r
        .call(
            "GET",
            "/api/v2/authorization/divisions/home",
            "/api/v2/authorization/divisions/home",
            None,
        )
        .await;
    let grant = json!({"roleId": id(&roles["entities"][0]), "divisionId": id(&home)});
    let body = json!({"name": "F", "authorizedGrantType": "CLIENT-CREDENTIALS", "description": "d",
        "roleDivisions": [grant]});
    // Refused: the admin client does not hold `employee` yet.
    r.call("POST", clients, clients, Some(body.clone())).await;
    r.org.grant_admin_client(&id(&roles["entities"][0]), &id(&home)).await;
    let created = r.call("POST", clients, clients, Some(body)).await;
    let path = format!("{clients}/{}", id(&created));
    let by_id = "/api/v2/oauth/clients/{clientId}";
    r.call("GET", clients, clients, None).await;
    r.call("GET", by_id, &path, None).await;
    r.call(
        "PUT",
        by_id,
        &path,
        Some(json!({"name": "F2", "authorizedGrantType": "CLIENT-CREDENTIALS",
            "state": "inactive", "roleDivisions": [grant]})),
    )
    .await;
    r.call("POST", "/api/v2/oauth/clients/{clientId}/secret", &format!("{path}/secret"), None)
        .await;
    r.call("DELETE", by_id, &path, None).await;
}
