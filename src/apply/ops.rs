//! The API calls that realize one planned change, per kind, with the real
//! API's semantics: open messaging integrations are created asynchronously
//! (poll `createStatus`), routed through their recipient, and updated with
//! PATCH; queues, roles and OAuth clients are updated with PUT after reading
//! the live object and merging; OAuth clients are set inactive before they
//! are deleted; a supported content profile may become the org default.
//!
//! Creates are idempotent: when a create's answer is lost (timeout, reset,
//! 5xx), the object is looked up by name before the create is retried, so a
//! retry never duplicates it. Waiting for eventual consistency polls with
//! backoff under a deadline; nothing sleeps a fixed time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::secrets::{RunSecrets, write_client_secret, yields_client_secret};
use crate::api::{ApiError, Client};
use crate::kinds::open_messaging::INBOUND_MESSAGE_FLOW;
use crate::kinds::org::{IdResolver, Lookups, OrgMapping, UnresolvedRef, UpdateMethod};
use crate::kinds::{Kind, RefTarget};
use crate::manifest::Object;
use crate::manifest::check::SetIndex;
use crate::manifest::secret::Secret;
use crate::plan::build::desired_of;
use crate::plan::{Action, Change};

/// What one change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub action: Action,
    pub id: Option<String>,
    /// Things worth reporting (adopted after a lost answer, secret written to ...).
    pub notes: Vec<String>,
}

/// Why a change failed: which call, and the API's answer (with its
/// correlation id) as the source.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{what}")]
    Api {
        what: String,
        #[source]
        source: ApiError,
    },
    #[error("{0}")]
    Other(String),
}

impl OpError {
    fn api(what: impl Into<String>) -> impl FnOnce(ApiError) -> OpError {
        let what = what.into();
        move |source| OpError::Api { what, source }
    }
}

impl From<UnresolvedRef> for OpError {
    fn from(err: UnresolvedRef) -> Self {
        OpError::Other(err.to_string())
    }
}

/// Ids created during the run, on top of the lookups read for the plan.
#[derive(Debug, Default)]
pub struct RunIds {
    ids: BTreeMap<(RefTarget, String), String>,
}

/// Everything an operation needs.
pub struct OpContext<'a> {
    pub client: &'a Client,
    /// The manifest set being applied, indexed.
    pub manifests: &'a SetIndex<'a>,
    pub lookups: &'a Lookups,
    pub ids: &'a Mutex<RunIds>,
    pub secrets: &'a RunSecrets,
    pub secrets_dir: Option<PathBuf>,
    /// How long to wait for eventual consistency and asynchronous creates.
    pub deadline: Duration,
    /// The OAuth client id gcctl is calling with: never deleted.
    pub own_client_id: Option<String>,
}

impl OpContext<'_> {
    fn record(&self, target: RefTarget, name: &str, id: &str) {
        if let Ok(mut ids) = self.ids.lock() {
            ids.ids.insert((target, name.to_string()), id.to_string());
        }
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver { created: self.ids, lookups: self.lookups }
    }
}

/// Ids by name: objects created in this run first, then the live org. It
/// borrows both (copying them for every change made each run quadratic), and
/// holds the lock only while looking up one name.
struct Resolver<'a> {
    created: &'a Mutex<RunIds>,
    lookups: &'a Lookups,
}

impl IdResolver for Resolver<'_> {
    fn id(&self, target: RefTarget, name: &str) -> Option<String> {
        let key = (target, name.to_string());
        if let Some(id) =
            self.created.lock().ok().and_then(|created| created.ids.get(&key).cloned())
        {
            return Some(id);
        }
        if target == RefTarget::Recipient {
            let integration = self.id(RefTarget::Kind(Kind::OpenMessagingIntegration), name)?;
            return self.lookups.integration_recipient.get(&integration).cloned();
        }
        self.lookups.id_of(target, name).map(str::to_string)
    }
}

/// Execute one change.
pub async fn execute(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    match change.action {
        Action::NoOp => Ok(Done { action: Action::NoOp, id: change.id.clone(), notes: Vec::new() }),
        Action::Create => create(change, ctx).await,
        Action::Update => update(change, ctx).await,
        Action::Delete => delete(change, ctx).await,
    }
}

fn object_of<'a>(change: &Change, manifests: &SetIndex<'a>) -> Result<&'a Object, OpError> {
    change
        .manifest_name
        .as_deref()
        .and_then(|n| manifests.get(change.kind, n))
        .ok_or_else(|| OpError::Other(format!("{} is not in the manifests", change.address())))
}

fn org_of(kind: Kind) -> &'static dyn OrgMapping {
    kind.def().org.expect("org kinds have a mapping")
}

fn id_in(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(str::to_string)
}

async fn create(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    let object = object_of(change, ctx.manifests)?;
    let org = org_of(change.kind);
    let desired = desired_of(object, ctx.manifests, ctx.lookups);
    let mut body = org.body(&desired, None, &ctx.resolver())?;
    if let Some(secret) = ctx.secrets.webhook_secret(&change.address()) {
        body["outboundNotificationWebhookSignatureSecretToken"] =
            Value::String(secret.expose().to_string());
    }
    let (created, adopted) = create_once(change, org, &body, ctx).await?;
    let id = id_in(&created).ok_or_else(|| {
        OpError::Other(format!("{}: the create answer has no id", change.address()))
    })?;
    let mut notes = Vec::new();
    if adopted {
        notes.push(
            "the create's answer was lost; found the object by name and adopted it".to_string(),
        );
    }
    ctx.record(RefTarget::Kind(change.kind), &change.org_name, &id);
    match change.kind {
        Kind::OpenMessagingIntegration => {
            let integration = wait_until_created(change, &id, ctx).await?;
            route_integration(change, &integration, &desired, ctx).await?;
        }
        Kind::SupportedContentProfile if desired.get("orgDefault") == Some(&Value::Bool(true)) => {
            make_default(change, &id, ctx).await?;
        }
        Kind::OAuthClient => {
            let version = secret_version(&desired);
            let secret = match created.get("secret").and_then(Value::as_str).filter(|_| !adopted) {
                Some(secret) => Secret::new(secret.to_string()),
                // The answer carrying the secret was lost: issue a new one.
                None => regenerate_secret(change, &id, ctx).await?,
            };
            notes.push(save_client_secret(change, &id, &secret, version, ctx)?);
        }
        _ => {}
    }
    Ok(Done { action: Action::Create, id: Some(id), notes })
}

/// POST, and when the answer is lost, look the object up by name before
/// trying again. Returns the object and whether it was adopted.
async fn create_once(
    change: &Change,
    org: &dyn OrgMapping,
    body: &Value,
    ctx: &OpContext<'_>,
) -> Result<(Value, bool), OpError> {
    let collection = org.paths().collection;
    let what = format!("creating {} (POST {collection})", change.address());
    let mut attempts = 0;
    loop {
        attempts += 1;
        match ctx.client.post(collection, Some(body)).await {
            Ok(created) => return Ok((created, false)),
            Err(err) if err.outcome_unknown() && attempts < 4 => {
                if let Some(found) = find_after_lost_answer(change, org, ctx).await? {
                    return Ok((found, true));
                }
            }
            Err(err) => return Err(OpError::api(what)(err)),
        }
    }
}

/// Look for an object by exact name a few times with backoff: lists may lag
/// a create by a moment.
async fn find_after_lost_answer(
    change: &Change,
    org: &dyn OrgMapping,
    ctx: &OpContext<'_>,
) -> Result<Option<Value>, OpError> {
    let mut wait = Duration::from_millis(250);
    for round in 0..4 {
        if round > 0 {
            poll_backoff(&mut wait).await;
        }
        if let Some(found) = find_by_name(change, org, ctx).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn find_by_name(
    change: &Change,
    org: &dyn OrgMapping,
    ctx: &OpContext<'_>,
) -> Result<Option<Value>, OpError> {
    let paths = org.paths();
    let what = format!("looking up {} by name (GET {})", change.address(), paths.collection);
    // Queues and roles filter by name server-side (fuzzily); others are listed whole.
    let query: Vec<(&str, String)> = match change.kind {
        Kind::RoutingQueue | Kind::Role => vec![("name", change.org_name.clone())],
        _ => Vec::new(),
    };
    let all = match paths.page_size {
        Some(size) => ctx.client.list_all(paths.collection, &query, size).await,
        None => ctx.client.list_unpaged(paths.collection).await,
    }
    .map_err(OpError::api(what))?;
    Ok(all
        .into_iter()
        .find(|o| o.get("name").and_then(Value::as_str) == Some(change.org_name.as_str())))
}

/// Sleep for the current backoff step and grow it (polling only).
async fn poll_backoff(wait: &mut Duration) {
    tokio::time::sleep(*wait).await;
    *wait = (*wait * 2).min(Duration::from_secs(2));
}

/// Poll an integration until its asynchronous create leaves `Initiated`.
/// A 404 right after the create is eventual consistency, not absence.
async fn wait_until_created(
    change: &Change,
    id: &str,
    ctx: &OpContext<'_>,
) -> Result<Value, OpError> {
    let path = org_of(change.kind).paths().item(id);
    let started = Instant::now();
    let mut wait = Duration::from_millis(50);
    loop {
        let found = ctx
            .client
            .get_optional(&path, &[])
            .await
            .map_err(OpError::api(format!("reading {} (GET {path})", change.address())))?;
        match found.as_ref().and_then(|o| o.get("createStatus")).and_then(Value::as_str) {
            Some("Completed") => return found.ok_or_else(|| OpError::Other("unreachable".into())),
            Some("Error") => {
                let reason = create_error(found.as_ref().and_then(|o| o.get("createError")));
                return Err(OpError::Other(format!(
                    "{}: Genesys could not create the integration (GET {path}: createStatus Error): {reason}",
                    change.address()
                )));
            }
            // Older integrations have no createStatus: they exist.
            None if found.is_some() => {
                return found.ok_or_else(|| OpError::Other("unreachable".into()));
            }
            _ => {}
        }
        if started.elapsed() > ctx.deadline {
            return Err(OpError::Other(format!(
                "{}: the integration's createStatus did not reach Completed within {}s (GET {path})",
                change.address(),
                ctx.deadline.as_secs()
            )));
        }
        poll_backoff(&mut wait).await;
    }
}

/// An integration's `createError` (an `ErrorBody`) as one line: message,
/// code and the correlation id to quote in a support case.
fn create_error(error: Option<&Value>) -> String {
    let field = |key: &str| error.and_then(|e| e.get(key)).and_then(Value::as_str);
    let mut text = field("message").unwrap_or("no reason given").to_string();
    if let Some(code) = field("code") {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(id) = field("contextId") {
        text.push_str(&format!(" [correlation id: {id}]"));
    }
    text
}

/// Attach the integration's recipient to the declared inbound flow.
async fn route_integration(
    change: &Change,
    integration: &Value,
    desired: &Value,
    ctx: &OpContext<'_>,
) -> Result<(), OpError> {
    let recipient =
        integration.pointer("/recipient/id").and_then(Value::as_str).map(str::to_string);
    if let Some(recipient) = &recipient {
        ctx.record(RefTarget::Recipient, &change.org_name, recipient);
    }
    let Some(flow_name) = desired.pointer("/inboundFlow/name").and_then(Value::as_str) else {
        return Ok(());
    };
    let recipient = recipient.ok_or_else(|| {
        OpError::Other(format!("{}: the integration has no recipient to route", change.address()))
    })?;
    let flow =
        ctx.resolver().id(RefTarget::Flow(INBOUND_MESSAGE_FLOW), flow_name).ok_or_else(|| {
            OpError::Other(format!(
                "{}: inbound message flow `{flow_name}` does not exist",
                change.address()
            ))
        })?;
    let path = format!("/api/v2/routing/message/recipients/{recipient}");
    let what = format!("routing {} to flow `{flow_name}` (PUT {path})", change.address());
    let started = Instant::now();
    let mut wait = Duration::from_millis(50);
    loop {
        match ctx.client.put(&path, &json!({ "flow": { "id": flow } })).await {
            Ok(_) => return Ok(()),
            // A recipient can trail its integration: wait for it.
            Err(err) if err.is_not_found() && started.elapsed() < ctx.deadline => {
                poll_backoff(&mut wait).await;
            }
            Err(err) => return Err(OpError::api(what)(err)),
        }
    }
}

async fn make_default(change: &Change, id: &str, ctx: &OpContext<'_>) -> Result<(), OpError> {
    let path = "/api/v2/conversations/messaging/supportedcontent/default";
    ctx.client
        .put(path, &json!({ "id": id }))
        .await
        .map(|_| ())
        .map_err(OpError::api(format!("making {} the org default (PUT {path})", change.address())))
}

fn secret_version(desired: &Value) -> u32 {
    desired
        .get("secretVersion")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(1)
}

async fn regenerate_secret(
    change: &Change,
    id: &str,
    ctx: &OpContext<'_>,
) -> Result<Secret, OpError> {
    let path = format!("/api/v2/oauth/clients/{id}/secret");
    let answer = ctx.client.post(&path, None).await.map_err(OpError::api(format!(
        "regenerating the secret of {} (POST {path})",
        change.address()
    )))?;
    answer.get("secret").and_then(Value::as_str).map(|s| Secret::new(s.to_string())).ok_or_else(
        || OpError::Other(format!("{}: POST {path} returned no secret", change.address())),
    )
}

fn save_client_secret(
    change: &Change,
    id: &str,
    secret: &Secret,
    version: u32,
    ctx: &OpContext<'_>,
) -> Result<String, OpError> {
    let dir = ctx.secrets_dir.as_deref().ok_or_else(|| {
        OpError::Other(format!("{}: no --secrets-dir for the new secret", change.address()))
    })?;
    let file = write_client_secret(dir, &change.org_name, id, secret, version).map_err(|err| {
        OpError::Other(format!(
            "{}: cannot write the client secret to {}: {err}",
            change.address(),
            dir.display()
        ))
    })?;
    Ok(format!("secret (version {version}) written to {}", file.display()))
}

async fn update(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    let object = object_of(change, ctx.manifests)?;
    let org = org_of(change.kind);
    let id = change
        .id
        .clone()
        .ok_or_else(|| OpError::Other(format!("{}: an update without an id", change.address())))?;
    let desired = desired_of(object, ctx.manifests, ctx.lookups);
    let changed = |prefix: &str| {
        change
            .fields
            .iter()
            .any(|f| f.pointer == prefix || f.pointer.starts_with(&format!("{prefix}/")))
    };
    let mut notes = Vec::new();
    match change.kind {
        Kind::OpenMessagingIntegration => {
            let fields_other_than_routing =
                change.fields.iter().any(|f| !f.pointer.starts_with("/inboundFlow"));
            if fields_other_than_routing {
                let mut body = org.body(&desired, None, &ctx.resolver())?;
                if let Some(secret) = ctx.secrets.webhook_secret(&change.address()) {
                    body["outboundNotificationWebhookSignatureSecretToken"] =
                        Value::String(secret.expose().to_string());
                }
                write(change, org, &id, &body, ctx).await?;
            }
            if changed("/inboundFlow") {
                let integration =
                    json!({ "recipient": { "id": ctx.lookups.integration_recipient.get(&id) } });
                route_integration(change, &integration, &desired, ctx).await?;
            }
        }
        Kind::SupportedContentProfile => {
            if change.fields.iter().any(|f| f.pointer != "/orgDefault") {
                write(change, org, &id, &org.body(&desired, None, &ctx.resolver())?, ctx).await?;
            }
            if changed("/orgDefault") {
                make_default(change, &id, ctx).await?;
            }
        }
        _ => {
            if yields_client_secret(change) {
                let secret = regenerate_secret(change, &id, ctx).await?;
                notes.push(save_client_secret(
                    change,
                    &id,
                    &secret,
                    secret_version(&desired),
                    ctx,
                )?);
            }
            let live = read_live(change, org, &id, ctx).await?;
            write(change, org, &id, &org.body(&desired, Some(&live), &ctx.resolver())?, ctx)
                .await?;
        }
    }
    Ok(Done { action: Action::Update, id: Some(id), notes })
}

/// Read the live object right before a PUT, so the merge starts from the present.
async fn read_live(
    change: &Change,
    org: &dyn OrgMapping,
    id: &str,
    ctx: &OpContext<'_>,
) -> Result<Value, OpError> {
    let path = org.paths().item(id);
    ctx.client.get(&path, &[]).await.map_err(OpError::api(format!(
        "reading {} before updating it (GET {path})",
        change.address()
    )))
}

async fn write(
    change: &Change,
    org: &dyn OrgMapping,
    id: &str,
    body: &Value,
    ctx: &OpContext<'_>,
) -> Result<(), OpError> {
    let path = org.paths().item(id);
    let result = match org.paths().update {
        UpdateMethod::Put => ctx.client.put(&path, body).await,
        UpdateMethod::Patch => ctx.client.patch(&path, body).await,
    };
    let method = if org.paths().update == UpdateMethod::Put { "PUT" } else { "PATCH" };
    result
        .map(|_| ())
        .map_err(OpError::api(format!("updating {} ({method} {path})", change.address())))
}

async fn delete(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    let org = org_of(change.kind);
    let id = change
        .id
        .clone()
        .ok_or_else(|| OpError::Other(format!("{}: a delete without an id", change.address())))?;
    if change.kind == Kind::OAuthClient && ctx.own_client_id.as_deref() == Some(id.as_str()) {
        return Err(OpError::Other(format!(
            "{}: refusing to delete the OAuth client gcctl is authenticated with",
            change.address()
        )));
    }
    let path = org.paths().item(&id);
    if change.kind == Kind::OAuthClient {
        // As the Terraform provider does: a client is set inactive before it is deleted.
        let mut body = read_live(change, org, &id, ctx).await?;
        if let Some(map) = body.as_object_mut() {
            for read_only in [
                "id",
                "selfUri",
                "dateCreated",
                "dateModified",
                "createdBy",
                "modifiedBy",
                "secret",
                "dateToDelete",
            ] {
                map.remove(read_only);
            }
        }
        body["state"] = "inactive".into();
        ctx.client
            .put(&path, &body)
            .await
            .map_err(OpError::api(format!("deactivating {} (PUT {path})", change.address())))?;
    }
    let query: Vec<(&str, String)> = if change.kind == Kind::RoutingQueue {
        vec![("forceDelete", "true".into())]
    } else {
        Vec::new()
    };
    match ctx.client.delete(&path, &query).await {
        Ok(()) => {}
        Err(err) if err.is_not_found() => {}
        Err(err) => {
            return Err(OpError::api(format!("deleting {} (DELETE {path})", change.address()))(
                err,
            ));
        }
    }
    Ok(Done { action: Action::Delete, id: Some(id), notes: Vec::new() })
}
