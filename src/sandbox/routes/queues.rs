//! Routing queues: `/api/v2/routing/queues`.
//!
//! - List sorted by name; `name` is case-insensitive with leading/trailing `*`
//!   wildcards; `id` and `divisionId` repeat; pageSize up to 500. `hasPeer=true`
//!   lists only queues with a `peerId`, `hasPeer=false` only those without
//!   ("Include only queues with a peer ID", PY `apis/routing_api.py`; the
//!   provider's export lists both ways and merges, TF
//!   `routing_queue/resource_genesyscloud_routing_queue.go`
//!   getAllRoutingQueues); omitted lists all (UNVERIFIED).
//! - PUT replaces the whole object: writable fields left out are cleared,
//!   server fields (`id`, `dateCreated`, member counts) are kept.
//! - Division: a create without `division` lands in Home, one with
//!   `division: {id}` in that division. A PUT without `division` keeps the
//!   current one (API reference summary item 16: the provider's PUT body
//!   never carries it). A PUT that changes it is 400 naming `division.id` and
//!   pointing to `POST /api/v2/authorization/divisions/{divisionId}/objects/QUEUE`,
//!   the way the provider moves queues (TF `util/util_divisions.go`
//!   `UpdateObjectDivision`). Stricter than the real API may be (whether it
//!   moves, ignores or refuses is UNVERIFIED): gcctl must move queues the
//!   documented way. A PUT repeating the current division is fine.
//! - `selfUri` is read-only (NET `Model/WritableDivision.cs`,
//!   `DomainEntityRef.cs`): a reference anywhere in the body (the division,
//!   a flow, a member group's division) carrying it is 400 naming it, as in
//!   every write body (`input::Body`).
//! - Prompts (`whisperPrompt`, `onHoldPrompt`) and default scripts
//!   (`defaultScripts`, by communication type) are `{id}` references to
//!   objects the sandbox does not hold: stored as `{id}` and shown with the
//!   `selfUri` a real org gives them (`/api/v2/architect/prompts/{id}`,
//!   `/api/v2/scripts/{id}`; their names are unknown here).
//! - Enums, nested ones included (every enum of `QueueRequest`, see
//!   [`ENUMS`]), are validated on POST and PUT: a value outside the enum,
//!   the empty string included, is 400 `Value [] is not valid for field type
//!   [Mode]. Allowable values are: AgentFirst, CustomerFirst` (the real
//!   answer for `mediaSettings.callback.mode`, Genesys Terraform provider
//!   issue #1578; the same pattern for the others).
//! - Names are unique, case-insensitively: a duplicate is 409 `conflict`
//!   (UNVERIFIED choice, see the README's sandbox section).
//! - `memberGroups` (`[{id, type}]`, type `TEAM`, `GROUP` or `SKILLGROUP`)
//!   must name existing objects of that type (`groups.rs`, `teams.rs`), else
//!   400 naming `memberGroups[i].id`. They are stored as `{id, type}` and
//!   shown with the group's `name` and `memberCount`. Their users are the
//!   queue's group-derived members (`queue_members.rs`).
//! - `memberCount`, `userMemberCount` and `joinedMemberCount` are computed
//!   from the members (direct and through groups) as they show in listings.
//! - Members (`…/members`) and offered wrap-up codes (`…/wrapupcodes`) are
//!   sub-resources; a deleted queue forgets them.
//! - Unknown top-level keys are dropped; nested objects are stored as sent.

use axum::Router;
use serde_json::{Map, Value, json};

use super::crud::existing_ref;
use super::input::{EnumField, Shape, check_enums, field, optional_ref};
use crate::sandbox::common::{home_division, new_id, now, ref_id, self_uri};
use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::resource::{Filter, Names, Object, Op, Order, Resource, Spec, Update, Write};
use crate::sandbox::server::{AppState, Shared};
use crate::sandbox::store::{Kind, Store};

/// Member counters: server fields, 0 on create, kept by PUT.
const COUNTERS: &[&str] = &["memberCount", "userMemberCount", "joinedMemberCount"];

pub struct Queues;

impl Resource for Queues {
    const SPEC: Spec = Spec {
        division: Some("routing:queue"),
        names: Names::Unique,
        update: Update::Put,
        filters: &[
            Filter::NameWildcard,
            Filter::Ids,
            Filter::Ref("divisionId", "division"),
            Filter::Present("hasPeer", "peerId"),
        ],
        order: Order::NameSortable,
        max_page_size: Some(500),
        server: COUNTERS,
        refs: &[
            ("division", Kind::Divisions),
            ("queueFlow", Kind::Flows),
            ("emailInQueueFlow", Kind::Flows),
            ("messageInQueueFlow", Kind::Flows),
            ("outboundMessagingAddresses.openMessagingRecipient", Kind::Recipients),
        ],
        flags: &[(Op::Delete, "forceDelete")],
        ..Spec::new(
            Kind::Queues,
            "/api/v2/routing/queues",
            "/api/v2/routing/queues/{queueId}",
            "queue",
        )
    };

    /// A create may copy the writable fields of `sourceQueueId`; the body's
    /// own fields win.
    fn fields(store: &Store, body: &Object, old: Option<&Value>) -> ApiResult<Object> {
        let source = field(body, "sourceQueueId", Shape::Str)?.and_then(Value::as_str);
        let Some(source) = source.filter(|_| old.is_none()) else {
            return validate(store, body, old);
        };
        let source = store.get(Kind::Queues, source).ok_or_else(|| {
            ApiError::bad_field(
                "sourceQueueId",
                format!("The source queue {source} does not exist."),
            )
        })?;
        let mut merged = writable(source);
        merged.extend(body.iter().map(|(k, v)| (k.clone(), v.clone())));
        validate(store, &merged, None)
    }

    fn on_write(write: &mut Write<'_>, queue: &mut Object) -> ApiResult<Object> {
        if write.created {
            for counter in COUNTERS {
                queue.insert((*counter).into(), json!(0));
            }
        }
        Ok(Map::new())
    }

    fn deleted(store: &mut Store, queue: &Value) {
        let Some(id) = queue.get("id").and_then(Value::as_str) else { return };
        super::queue_members::forget_queue(store, id);
        super::queue_wrapup_codes::forget_queue(store, id);
    }

    /// What `decorate` reads and writes: the id and member groups (member
    /// counts), the counts, and the references to prompts and scripts
    /// (`decorate_unheld`). A listed queue's settings are written from the
    /// store, not copied.
    const DECORATED: Option<&'static [&'static str]> = Some(&[
        "id",
        "memberGroups",
        "memberCount",
        "userMemberCount",
        "joinedMemberCount",
        PROMPTS[0],
        PROMPTS[1],
        "defaultScripts",
    ]);

    fn decorate(
        store: &Store,
        _state: &AppState,
        out: &mut Value,
        _params: &super::input::Params,
        _fresh: bool,
    ) {
        let (all, users, joined) = super::queue_members::counts(store, out);
        out["memberCount"] = json!(all);
        out["userMemberCount"] = json!(users);
        out["joinedMemberCount"] = json!(joined);
        decorate_unheld(out);
        for group in out.get_mut("memberGroups").and_then(Value::as_array_mut).into_iter().flatten()
        {
            let Some(id) = group.get("id").and_then(Value::as_str).map(str::to_string) else {
                continue;
            };
            let found = [Kind::Groups, Kind::Teams, Kind::SkillGroups]
                .into_iter()
                .find_map(|kind| store.get(kind, &id));
            if let Some(name) = found.and_then(|g| g.get("name")) {
                group["name"] = name.clone();
                group["memberCount"] = json!(super::groups::members(store, &id).len());
            }
        }
    }

    fn routes() -> Router<Shared> {
        super::crud::routes::<Self>()
            .merge(super::queue_members::routes())
            .merge(super::queue_wrapup_codes::routes())
    }
}

/// Check `memberGroups` and store them as `{id, type}`.
fn member_groups(store: &Store, groups: &Value) -> ApiResult<Value> {
    let mut out = Vec::new();
    for (i, group) in groups.as_array().into_iter().flatten().enumerate() {
        let at = |name: &str| format!("memberGroups[{i}].{name}");
        let id = group
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::missing_field(&at("id")))?;
        let kind = group
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing_field(&at("type")))?;
        let (noun, collection) = match kind {
            "TEAM" => ("team", Kind::Teams),
            "SKILLGROUP" => ("skill group", Kind::SkillGroups),
            _ => ("group", Kind::Groups),
        };
        if store.get(collection, id).is_none() {
            return Err(ApiError::bad_field(&at("id"), format!("The {noun} {id} does not exist.")));
        }
        out.push(json!({"id": id, "type": kind}));
    }
    Ok(Value::Array(out))
}

/// Writable fields of `QueueRequest` other than those checked specially.
const FIELDS: &[(&str, Shape)] = &[
    ("description", Shape::Str),
    ("mediaSettings", Shape::Object),
    ("routingRules", Shape::Array),
    ("conditionalGroupRouting", Shape::Object),
    ("conditionalGroupActivation", Shape::Object),
    ("bullseye", Shape::Object),
    ("scoringMethod", Shape::Enum(&["TimestampAndPriority", "PriorityOnly"])),
    ("lastAgentRoutingMode", Shape::Enum(&["Disabled", "QueueMembersOnly", "AnyAgent"])),
    ("acwSettings", Shape::Object),
    ("skillEvaluationMethod", Shape::Enum(&["NONE", "BEST", "ALL"])),
    ("memberGroups", Shape::Array),
    ("whisperPrompt", Shape::Object),
    ("onHoldPrompt", Shape::Object),
    ("defaultMediaLanguage", Shape::Str),
    ("autoAnswerOnly", Shape::Bool),
    ("cannedResponseLibraries", Shape::Object),
    ("enableTranscription", Shape::Bool),
    ("enableAudioMonitoring", Shape::Bool),
    ("enableManualAssignment", Shape::Bool),
    ("agentOwnedRouting", Shape::Object),
    ("directRouting", Shape::Object),
    ("callingPartyName", Shape::Str),
    ("callingPartyNumber", Shape::Str),
    ("defaultScripts", Shape::Object),
    ("outboundEmailAddress", Shape::Object),
    ("peerId", Shape::Str),
    ("suppressInQueueCallRecording", Shape::Bool),
];

/// The enums of `QueueRequest` below the top level (where [`FIELDS`] checks
/// them), read-only fields excepted: the SDK models' `allowed_values` (PY
/// `models/*.py`, as extracted in the API reference's `models.json`).
pub const ENUMS: &[EnumField] = &[
    ("mediaSettings.callback.mode", &["AgentFirst", "CustomerFirst"]),
    ("mediaSettings.callback.liveVoiceReactionType", REACTIONS),
    ("mediaSettings.callback.answeringMachineReactionType", REACTIONS),
    (
        "mediaSettings.message.inactivityTimeoutSettings.actionType",
        &["DISCONNECT", "SEND_TO_ARCHITECT_FLOW"],
    ),
    (
        "mediaSettings.email.allOutboundEmailAddresses[].route.signature.inclusionType",
        &["Draft", "Send", "SendOnce"],
    ),
    (
        "mediaSettings.email.allOutboundEmailAddresses[].route.historyInclusion",
        &["Include", "Exclude", "Optional"],
    ),
    ("routingRules[].operator", &["MEETS_THRESHOLD", "ANY"]),
    ("conditionalGroupRouting.rules[].metric", &["EstimatedWaitTime", "ServiceLevel"]),
    ("conditionalGroupRouting.rules[].operator", COMPARISONS),
    ("conditionalGroupRouting.rules[].groups[].type", GROUP_TYPES),
    ("conditionalGroupActivation.pilotRule.conditions[].simpleMetric.metric", ACTIVATION_METRICS),
    ("conditionalGroupActivation.pilotRule.conditions[].operator", ACTIVATION_COMPARISONS),
    ("conditionalGroupActivation.rules[].conditions[].simpleMetric.metric", ACTIVATION_METRICS),
    ("conditionalGroupActivation.rules[].conditions[].operator", ACTIVATION_COMPARISONS),
    ("conditionalGroupActivation.rules[].groups[].type", GROUP_TYPES),
    ("bullseye.rings[].expansionCriteria[].type", &["TIMEOUT_SECONDS"]),
    ("bullseye.rings[].memberGroups[].type", GROUP_TYPES),
    (
        "acwSettings.wrapupPrompt",
        &[
            "MANDATORY",
            "OPTIONAL",
            "MANDATORY_TIMEOUT",
            "MANDATORY_FORCED_TIMEOUT",
            "AGENT_REQUESTED",
        ],
    ),
    ("memberGroups[].type", GROUP_TYPES),
    ("cannedResponseLibraries.mode", &["All", "SelectedOnly", "None"]),
];
const REACTIONS: &[&str] = &["HangUp", "TransferToQueue", "TransferToFlow"];
const GROUP_TYPES: &[&str] = &["TEAM", "GROUP", "SKILLGROUP"];
const COMPARISONS: &[&str] =
    &["GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"];
const ACTIVATION_COMPARISONS: &[&str] = &[
    "GreaterThan",
    "GreaterThanOrEqualTo",
    "LessThan",
    "LessThanOrEqualTo",
    "EqualTo",
    "NotEqualTo",
];
const ACTIVATION_METRICS: &[&str] = &["EstimatedWaitTime", "IdleAgentCount", "ServiceLevel"];

/// Prompt references of a queue (`{id}`; prompts are not emulated).
const PROMPTS: &[&str] = &["whisperPrompt", "onHoldPrompt"];

/// Show the references to objects the sandbox does not hold as a real org
/// does: `{id, selfUri}` (see the module docs).
fn decorate_unheld(out: &mut Value) {
    for key in PROMPTS {
        if let Some(prompt) = out.get_mut(*key).filter(|p| p.get("id").is_some()) {
            prompt["selfUri"] = json!(format!(
                "/api/v2/architect/prompts/{}",
                prompt["id"].as_str().unwrap_or_default()
            ));
        }
    }
    for script in out
        .get_mut("defaultScripts")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        if let Some(id) = script.get("id").and_then(Value::as_str).map(str::to_string) {
            script["selfUri"] = json!(format!("/api/v2/scripts/{id}"));
        }
    }
}

/// Flow references of a queue.
const FLOW_REFS: &[&str] = &["queueFlow", "emailInQueueFlow", "messageInQueueFlow"];

/// The writable fields of a stored queue (for `sourceQueueId` copies).
fn writable(queue: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let keep = |k: &str| {
        FIELDS.iter().any(|(f, _)| *f == k)
            || FLOW_REFS.contains(&k)
            || k == "outboundMessagingAddresses"
    };
    for (key, value) in queue.as_object().into_iter().flatten() {
        if keep(key) {
            out.insert(key.clone(), value.clone());
        }
    }
    out
}

/// Check a create or PUT body (but its `name`) and build the stored object
/// (without server fields).
fn validate(
    store: &Store,
    body: &Map<String, Value>,
    old: Option<&Value>,
) -> ApiResult<Map<String, Value>> {
    let mut out = Map::new();
    check_enums(body, ENUMS)?;
    let current = ref_id(old.and_then(|o| o.get("division"))).map(str::to_string);
    let division = match existing_ref(store, body, "division", Kind::Divisions)? {
        Some(id) if current.as_ref().is_some_and(|c| *c != id) => {
            return Err(ApiError::bad_field(
                "division.id",
                format!(
                    "A queue PUT cannot change the division. To move the queue, use POST /api/v2/authorization/divisions/{id}/objects/QUEUE with the body [\"<queueId>\"]."
                ),
            ));
        }
        Some(id) => id,
        None => current.or_else(|| home_division(store)).unwrap_or_default(),
    };
    out.insert("division".into(), json!({"id": division}));
    for (key, shape) in FIELDS {
        if let Some(value) = field(body, key, *shape)? {
            out.insert((*key).into(), value.clone());
        }
    }
    if let Some(groups) = out.get("memberGroups").cloned() {
        out.insert("memberGroups".into(), member_groups(store, &groups)?);
    }
    for key in PROMPTS {
        if let Some(id) = optional_ref(body, key)? {
            out.insert((*key).into(), json!({"id": id}));
        }
    }
    if let Some(scripts) = out.get("defaultScripts").and_then(Value::as_object).cloned() {
        let mut stored = Map::new();
        for (medium, script) in &scripts {
            let id = script.get("id").and_then(Value::as_str).filter(|id| !id.is_empty());
            let id =
                id.ok_or_else(|| ApiError::missing_field(&format!("defaultScripts.{medium}.id")))?;
            stored.insert(medium.clone(), json!({"id": id}));
        }
        out.insert("defaultScripts".into(), Value::Object(stored));
    }
    for key in FLOW_REFS {
        if let Some(flow) = existing_ref(store, body, key, Kind::Flows)? {
            out.insert((*key).into(), json!({"id": flow}));
        }
    }
    if let Some(addresses) = field(body, "outboundMessagingAddresses", Shape::Object)? {
        check_addresses(store, addresses)?;
        out.insert("outboundMessagingAddresses".into(), addresses.clone());
    }
    Ok(out)
}

fn check_addresses(store: &Store, addresses: &Value) -> ApiResult<()> {
    let Some(map) = addresses.as_object() else { return Ok(()) };
    let field_name = "outboundMessagingAddresses.openMessagingRecipient";
    if let Some(recipient) = optional_ref(map, "openMessagingRecipient")
        .map_err(|_| ApiError::missing_field(&format!("{field_name}.id")))?
    {
        if store.get(Kind::Recipients, &recipient).is_none() {
            return Err(ApiError::bad_field(
                &format!("{field_name}.id"),
                format!("The recipient {recipient} does not exist."),
            ));
        }
    }
    Ok(())
}

/// A queue for bulk generation (settled at once, Home division), with
/// [`SETTINGS`] when `settings`.
pub fn generated(store: &Store, name: &str, settings: bool) -> (String, Value) {
    let id = new_id();
    let stamp = now();
    let division = home_division(store).unwrap_or_default();
    let mut queue = json!({
        "id": id, "name": name, "division": {"id": division},
        "description": "generated by gcctl sandbox",
        "dateCreated": stamp, "dateModified": stamp,
        "memberCount": 0, "userMemberCount": 0, "joinedMemberCount": 0,
        "selfUri": self_uri(Kind::Queues, &id),
    });
    if let (true, Some(queue), Ok(Value::Object(more))) =
        (settings, queue.as_object_mut(), serde_json::from_str(SETTINGS))
    {
        queue.extend(more);
        queue.insert("callingPartyName".into(), json!(name));
    }
    (id, queue)
}

/// The settings of a configured org's queue, for `--generate-queue-settings`:
/// the media, after-call-work and routing settings of the Platform API's
/// `Queue` model (as the official SDKs define it), with plausible values
/// (the Terraform provider's defaults for `acwSettings.wrapupPrompt` and
/// `skillEvaluationMethod`). UNVERIFIED: which of them, and which values, a
/// real org gives a queue created without them. Only the page size is the
/// point: the sandbox never adds them to a queue created through the API.
pub const SETTINGS: &str = r#"{
    "createdBy": "5ffc8bd2-3ee4-4c1c-9c4e-1c1f0e7b4a11",
    "modifiedBy": "5ffc8bd2-3ee4-4c1c-9c4e-1c1f0e7b4a11",
    "mediaSettings": {
        "call": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0.0},
        "callback": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0.0, "mode": "AgentFirst", "enableAutoDialAndEnd": false, "autoDialDelaySeconds": 300, "autoEndDelaySeconds": 300},
        "chat": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0.0},
        "email": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 300, "serviceLevel": {"percentage": 0.8, "durationMs": 86400000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0.0},
        "message": {"enableAutoAnswer": false, "alertingTimeoutSeconds": 30, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}, "autoAnswerAlertToneSeconds": 0.0, "manualAnswerAlertToneSeconds": 0.0, "subTypeSettings": {}, "enableInactivityTimeout": false}
    },
    "routingRules": [],
    "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 300000},
    "skillEvaluationMethod": "ALL",
    "memberGroups": [],
    "autoAnswerOnly": false,
    "enableTranscription": false,
    "enableAudioMonitoring": false,
    "enableManualAssignment": false,
    "agentOwnedRouting": {"enableAgentOwnedCallbacks": false, "maxOwnedCallbackHours": 0, "maxOwnedCallbackDelayHours": 0},
    "suppressInQueueCallRecording": true,
    "defaultScripts": {},
    "cannedResponseLibraries": {"mode": "All", "libraryIds": []}
}"#;
