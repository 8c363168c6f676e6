//! Reading the live org cheaply: each needed kind with its list endpoint at
//! the largest page size it accepts (pages after the first fetched
//! concurrently by the client), plus reference lookups made once per run.
//! No per-object GETs: list entities are full objects for every kind we
//! manage, and names embedded in references (`division`, `queueFlow`,
//! recipient `flow`) fill the lookups without extra calls.
//!
//! What is read depends on what is declared: a kind is listed when it is
//! declared, inside a prune scope, or the target of a declared reference
//! (queues naming integrations, integrations naming supported content
//! profiles, OAuth clients naming roles). Lookups (divisions, messaging
//! settings, recipients, flows) are made only when a declared field needs
//! them. Only declared fields are compared, so the live side of an
//! undeclared reference never needs naming.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::try_join_all;
use serde_json::Value;

use super::LiveOrg;
use crate::api::{ApiError, Client};
use crate::kinds::open_messaging::{INBOUND_MESSAGE_FLOW, OpenMessagingIntegrationSpec};
use crate::kinds::org::{Lookups, ORG_KINDS};
use crate::kinds::{Kind, RefTarget, downcast};
use crate::manifest::ManifestSet;

/// A failed read, naming what was being read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {what} from the org")]
pub struct ReadError {
    pub what: String,
    #[source]
    pub source: ApiError,
}

/// What to read beyond the manifest set's needs.
#[derive(Debug, Clone, Default)]
pub struct ReadScope {
    /// Read every org kind (drift with `--include-unmanaged`, export).
    pub all_kinds: bool,
}

const DIVISIONS: &str = "/api/v2/authorization/divisions";
const MESSAGING_SETTINGS: &str = "/api/v2/conversations/messaging/settings";
const RECIPIENTS: &str = "/api/v2/routing/message/recipients";
const FLOWS: &str = "/api/v2/flows";
const DEFAULT_SUPPORTED_CONTENT: &str = "/api/v2/conversations/messaging/supportedcontent/default";

/// Read what planning `set` needs.
pub async fn read(
    client: &Client,
    set: &ManifestSet,
    scope: &ReadScope,
) -> Result<LiveOrg, ReadError> {
    let kinds = kinds_to_read(set, scope);
    let needs = Needs::of(set, scope);
    let lists = try_join_all(kinds.iter().map(|kind| list_kind(client, *kind)));
    let divisions = optional(needs.divisions, list(client, DIVISIONS, Some(100), "divisions"));
    let settings = optional(
        needs.messaging_settings,
        list(client, MESSAGING_SETTINGS, Some(100), "messaging settings"),
    );
    let recipients = optional(needs.recipients, list_recipients(client));
    let flows = try_join_all(
        needs.flows.iter().map(|(name, flow_type)| find_flows(client, name, flow_type)),
    );
    let default_sc = optional(
        needs.default_supported_content,
        get(client, DEFAULT_SUPPORTED_CONTENT, "the default supported content profile"),
    );
    let (lists, divisions, settings, recipients, flows, default_sc) =
        futures::try_join!(lists, divisions, settings, recipients, flows, default_sc)?;

    let mut live = LiveOrg::default();
    let lookups = &mut live.lookups;
    lookups.own_client_id = client.own_client_id();
    for division in divisions.iter().flatten() {
        insert(lookups, RefTarget::Division, division);
        if division.get("homeDivision").and_then(Value::as_bool) == Some(true) {
            lookups.home_division = division.get("id").and_then(Value::as_str).map(str::to_string);
        }
    }
    for setting in settings.iter().flatten() {
        insert(lookups, RefTarget::MessagingSetting, setting);
    }
    for flow in flows.iter().flatten() {
        if let Some(flow_type) = flow.get("type").and_then(Value::as_str).and_then(static_flow_type)
        {
            insert(lookups, RefTarget::Flow(flow_type), flow);
        }
    }
    for recipient in recipients.iter().flatten() {
        record_recipient(lookups, recipient);
    }
    lookups.default_supported_content =
        default_sc.and_then(|d| d.get("id").and_then(Value::as_str).map(str::to_string));
    for (kind, objects) in kinds.iter().zip(lists) {
        for object in &objects {
            record_object(lookups, *kind, object);
        }
        live.objects.insert(*kind, objects);
    }
    Ok(live)
}

/// Org kinds to list: declared, pruned, or referenced by a declared object
/// (to check that the target exists and to name the live side of the
/// reference: a queue's recipient, an integration's profile, a client's
/// roles). A kind that is only referenced by undeclared fields is not read.
fn kinds_to_read(set: &ManifestSet, scope: &ReadScope) -> Vec<Kind> {
    let mut kinds: BTreeSet<Kind> =
        set.objects.iter().map(|o| o.kind).filter(|k| k.is_org_object()).collect();
    kinds.extend(set.project.prune.iter().map(|p| p.kind));
    if scope.all_kinds {
        kinds.extend(ORG_KINDS);
    }
    for reference in declared_references(set) {
        if let RefTarget::Kind(kind) = reference.target {
            if kind.is_org_object() {
                kinds.insert(kind);
            }
        }
    }
    kinds.into_iter().collect()
}

/// The references of every declared org object.
fn declared_references(set: &ManifestSet) -> impl Iterator<Item = crate::kinds::Reference> + '_ {
    set.objects.iter().filter(|o| o.kind.is_org_object()).flat_map(|o| o.spec.references())
}

/// Lookups the set needs, each made once.
#[derive(Debug, Default)]
struct Needs {
    divisions: bool,
    messaging_settings: bool,
    recipients: bool,
    default_supported_content: bool,
    flows: BTreeSet<(String, &'static str)>,
}

impl Needs {
    fn of(set: &ManifestSet, scope: &ReadScope) -> Self {
        let declares = |kind: Kind| set.of_kind(kind).next().is_some();
        let pruned = |kind: Kind| set.project.prune.iter().any(|p| p.kind == kind);
        let mut needs = Needs {
            // OAuth client grants default to the Home division and name
            // divisions by id only.
            divisions: scope.all_kinds || declares(Kind::OAuthClient),
            messaging_settings: scope.all_kinds,
            recipients: scope.all_kinds,
            default_supported_content: scope.all_kinds
                || declares(Kind::SupportedContentProfile)
                || pruned(Kind::SupportedContentProfile),
            flows: BTreeSet::new(),
        };
        for reference in declared_references(set) {
            match reference.target {
                RefTarget::Flow(flow_type) => {
                    needs.flows.insert((reference.name.clone(), flow_type));
                }
                RefTarget::Division => needs.divisions = true,
                RefTarget::MessagingSetting => needs.messaging_settings = true,
                _ => {}
            }
        }
        // Recipients are only needed to show where integrations route.
        needs.recipients |= set.of_kind(Kind::OpenMessagingIntegration).any(|o| {
            downcast::<OpenMessagingIntegrationSpec>(o.spec.as_ref())
                .is_some_and(|s| s.inbound_flow.is_some())
        });
        needs
    }
}

async fn optional<T, F>(needed: bool, future: F) -> Result<Option<T>, ReadError>
where
    F: Future<Output = Result<T, ReadError>>,
{
    if needed { future.await.map(Some) } else { Ok(None) }
}

async fn list_kind(client: &Client, kind: Kind) -> Result<Vec<Value>, ReadError> {
    let paths = kind.def().org.expect("org kinds have a mapping").paths();
    list(client, paths.collection, paths.page_size, &format!("{kind} objects")).await
}

async fn list(
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

async fn get(client: &Client, path: &str, what: &str) -> Result<Value, ReadError> {
    client.get(path, &[]).await.map_err(|source| ReadError { what: what.to_string(), source })
}

async fn list_recipients(client: &Client) -> Result<Vec<Value>, ReadError> {
    let query = [("messengerType", "open".to_string())];
    client
        .list_all(RECIPIENTS, &query, 100)
        .await
        .map_err(|source| ReadError { what: "open messaging recipients".into(), source })
}

/// Flows with this name and type. The API's `name` filter is fuzzy, so the
/// result is matched exactly here.
async fn find_flows(
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

fn static_flow_type(name: &str) -> Option<&'static str> {
    crate::kinds::common::FLOW_TYPES.iter().copied().find(|t| t.eq_ignore_ascii_case(name))
}

fn insert(lookups: &mut Lookups, target: RefTarget, object: &Value) {
    if let (Some(id), Some(name)) =
        (object.get("id").and_then(Value::as_str), object.get("name").and_then(Value::as_str))
    {
        lookups.insert(target, id, name);
    }
}

fn record_recipient(lookups: &mut Lookups, recipient: &Value) {
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
            insert(lookups, RefTarget::Flow(flow_type), flow);
        }
    }
}

/// Index a live object: its own name, and names embedded in its references.
fn record_object(lookups: &mut Lookups, kind: Kind, object: &Value) {
    insert(lookups, RefTarget::Kind(kind), object);
    match kind {
        Kind::OpenMessagingIntegration => {
            let id = object.get("id").and_then(Value::as_str);
            let recipient = object.pointer("/recipient/id").and_then(Value::as_str);
            if let (Some(id), Some(recipient)) = (id, recipient) {
                lookups.recipient_integration.insert(recipient.to_string(), id.to_string());
                lookups.integration_recipient.insert(id.to_string(), recipient.to_string());
            }
            if let Some(setting) = object.get("messagingSetting") {
                insert(lookups, RefTarget::MessagingSetting, setting);
            }
            if let Some(profile) = object.get("supportedContent") {
                insert(lookups, RefTarget::Kind(Kind::SupportedContentProfile), profile);
            }
        }
        Kind::RoutingQueue => {
            for (field, flow_type) in crate::kinds::routing_queue::FLOW_FIELDS {
                if let Some(flow) = object.get(field) {
                    insert(lookups, RefTarget::Flow(flow_type), flow);
                }
            }
        }
        _ => {}
    }
}

/// Count live objects per kind, for reports.
pub fn counts(live: &LiveOrg) -> BTreeMap<Kind, usize> {
    live.objects.iter().map(|(k, v)| (*k, v.len())).collect()
}
