//! The API calls that realize one planned change. The generic steps live
//! here: create (POST, idempotent), update (the kind's hook; by default read,
//! merge and PUT, or PATCH), delete (the kind's hook, then DELETE). What a
//! kind does beyond them (poll an asynchronous create, route a recipient,
//! make an object the org default, save an issued secret, deactivate before
//! delete) is a hook of its [`OrgKind`], given an [`Op`].
//!
//! Creates are idempotent: when a create's answer is lost (timeout, reset,
//! 5xx), the object is looked up by name before the create is retried, so a
//! retry never duplicates it. Waiting for eventual consistency polls with
//! backoff under a deadline; nothing sleeps a fixed time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use super::secrets::{RunSecrets, write_client_secret};
pub use super::waiting::{Waiting, poll_backoff};
use crate::api::{ApiError, Client};
use crate::kinds::org::{BodyError, IdResolver, Lookups, OrgKind, UpdateMethod};
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

/// Why a change failed. The message names the operation and the object
/// once (`creating RoutingQueue/x`); the API's answer (method, path, status,
/// message, correlation id) is the source, never repeated in the message.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("{operation}")]
    Api {
        operation: String,
        #[source]
        source: ApiError,
    },
    #[error("{0}")]
    Failed(String),
    /// The object was created, then a later step for it failed (routing,
    /// making it the default, saving its secret): the report says both.
    #[error("{address} was created (id {id}), but a later step failed")]
    AfterCreate {
        address: String,
        id: String,
        #[source]
        source: Box<OpError>,
    },
}

impl OpError {
    /// The id of an object this change created before it failed.
    pub fn created_id(&self) -> Option<&str> {
        match self {
            OpError::AfterCreate { id, .. } => Some(id),
            _ => None,
        }
    }
}

impl From<BodyError> for OpError {
    fn from(err: BodyError) -> Self {
        OpError::Failed(err.to_string())
    }
}

/// Ids created during the run, on top of the lookups read for the plan,
/// and what changes learned from the org that later changes use.
#[derive(Debug, Default)]
pub struct RunIds {
    ids: BTreeMap<(RefTarget, String), String>,
    /// By the changed object's kind and org name, and a key its kind
    /// chooses (see [`Op::learn`]).
    learned: BTreeMap<(Kind, String), BTreeMap<&'static str, Value>>,
}

impl RunIds {
    /// The id of the object of `target` named `name` that this run created.
    pub fn created(&self, target: RefTarget, name: &str) -> Option<&str> {
        self.ids.get(&(target, name.to_string())).map(String::as_str)
    }
}

/// Everything the operations of a run share.
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
    /// How long lists may lag a create (see `ApplySettings::consistency_window`).
    pub consistency_window: Duration,
    /// How long to wait for a flow import job (see `ApplySettings::flow_job_timeout`).
    pub job_deadline: Duration,
    /// Whether a flow locked by someone else may be unlocked (see
    /// `ApplySettings::unlock_flows`).
    pub unlock_flows: bool,
    /// The live objects as this run read them, with the details their
    /// kinds read (see [`Op::live`]).
    pub live: &'a BTreeMap<Kind, Vec<Value>>,
    /// Positions in [`OpContext::live`] by kind and id, built when first needed.
    pub live_by_id: OnceLock<HashMap<(Kind, String), usize>>,
    /// The OAuth client id gcctl is calling with: never deleted.
    pub own_client_id: Option<String>,
    /// Creates whose outcome is unknown, across runs.
    pub journal: Option<super::journal::CreateJournal>,
    /// Who gcctl acts as (for grants to the caller).
    pub caller: Option<&'a crate::plan::caller::Caller>,
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
        self.lookups.id_of(target, name).map(str::to_string)
    }
}

/// One change being executed: what a kind's hooks work with. Its calls
/// name the operation and the object in their errors.
pub struct Op<'a> {
    pub change: &'a Change,
    ctx: &'a OpContext<'a>,
    /// The declared object (creates and updates; `None` for prunes).
    pub object: Option<&'a Object>,
    /// The desired spec-shaped value (`Null` for deletes).
    pub desired: Value,
}

impl<'a> Op<'a> {
    fn new(change: &'a Change, ctx: &'a OpContext<'a>) -> Result<Self, OpError> {
        let object =
            change.manifest_name.as_deref().and_then(|n| ctx.manifests.get(change.kind.kind(), n));
        let desired = match (change.action, object) {
            (Action::Delete, _) => Value::Null,
            (_, Some(object)) => desired_of(object, ctx.manifests, ctx.lookups),
            (_, None) => {
                return Err(OpError::Failed(format!(
                    "{} is not in the manifests",
                    change.address()
                )));
            }
        };
        Ok(Op { change, ctx, object, desired })
    }

    /// `Kind/name` of the change.
    pub fn address(&self) -> String {
        self.change.address()
    }

    pub fn org(&self) -> &'static dyn OrgKind {
        self.change.kind.org()
    }

    pub fn lookups(&self) -> &Lookups {
        self.ctx.lookups
    }

    /// How long to wait for asynchronous work and eventual consistency.
    pub fn deadline(&self) -> Duration {
        self.ctx.deadline
    }

    /// How long to wait for a flow import job to end.
    pub fn job_deadline(&self) -> Duration {
        self.ctx.job_deadline
    }

    /// Whether gcctl may unlock a flow someone else holds (`--unlock-flows`).
    pub fn unlock_flows(&self) -> bool {
        self.ctx.unlock_flows
    }

    /// The caller gcctl acts as, when the plan read it.
    pub fn caller(&self) -> Option<&crate::plan::caller::Caller> {
        self.ctx.caller
    }

    /// Ids by name: created in this run, else read for the plan.
    pub fn ids(&self) -> impl IdResolver + '_ {
        Resolver { created: self.ctx.ids, lookups: self.ctx.lookups }
    }

    /// Remember an id made in this run, for the changes that refer to it.
    pub fn record(&self, target: RefTarget, name: &str, id: &str) {
        if let Ok(mut ids) = self.ctx.ids.lock() {
            ids.ids.insert((target, name.to_string()), id.to_string());
        }
    }

    /// Remember what this change learned from the org (the version a
    /// publish answered) for the later changes of the run that refer to
    /// this object, so they need not read it again ([`Op::learned`]).
    pub fn learn(&self, key: &'static str, value: Value) {
        if let Ok(mut run) = self.ctx.ids.lock() {
            let object = (self.change.kind.kind(), self.change.org_name.clone());
            run.learned.entry(object).or_default().insert(key, value);
        }
    }

    /// What the change of the object of `kind` named `name` learned in this
    /// run under `key` ([`Op::learn`]); `None` when no change of this run
    /// said (the object was not changed, or is not declared). A change
    /// runs after those it refers to, so what they learned is there.
    pub fn learned(&self, kind: Kind, name: &str, key: &str) -> Option<Value> {
        let run = self.ctx.ids.lock().ok()?;
        run.learned.get(&(kind, name.to_string()))?.get(key).cloned()
    }

    /// The live object of `kind` with id `id` as this run read it before
    /// any change, with the details its kind reads for declared objects
    /// (a configuration's published version): what the plan was made
    /// from. `None` when the read did not find it.
    pub fn live(&self, kind: Kind, id: &str) -> Option<&Value> {
        let index = self.ctx.live_by_id.get_or_init(|| {
            let mut index = HashMap::new();
            for (kind, objects) in self.ctx.live {
                for (i, object) in objects.iter().enumerate() {
                    if let Some(id) = object.get("id").and_then(Value::as_str) {
                        index.insert((*kind, id.to_string()), i);
                    }
                }
            }
            index
        });
        let position = *index.get(&(kind, id.to_string()))?;
        self.ctx.live.get(&kind)?.get(position)
    }

    /// Whether the planned fields include `prefix` or a field under it.
    pub fn changed(&self, prefix: &str) -> bool {
        self.change.fields.iter().any(|f| under(&f.pointer, prefix))
    }

    /// Whether the planned fields include any outside `prefix`.
    pub fn changed_outside(&self, prefix: &str) -> bool {
        self.change.fields.iter().any(|f| !under(&f.pointer, prefix))
    }

    fn failed(&self, doing: &str) -> impl FnOnce(ApiError) -> OpError {
        let operation = format!("{doing} {}", self.address());
        move |source| OpError::Api { operation, source }
    }

    /// A failure of this change, in words (no API answer to carry).
    pub fn fail(&self, reason: impl std::fmt::Display) -> OpError {
        OpError::Failed(format!("{}: {reason}", self.address()))
    }

    pub async fn get(&self, path: &str, doing: &str) -> Result<Value, OpError> {
        self.ctx.client.get(path, &[]).await.map_err(self.failed(doing))
    }

    /// GET with query parameters.
    pub async fn get_with(
        &self,
        path: &str,
        query: &[(&str, String)],
        doing: &str,
    ) -> Result<Value, OpError> {
        self.ctx.client.get(path, query).await.map_err(self.failed(doing))
    }

    /// A wait for the org to settle on behalf of this change, for up to
    /// `window`, first polling after `first`; `why` says what is awaited
    /// and why (see [`Waiting`]).
    pub fn waiting(
        &self,
        why: impl Into<String>,
        window: Duration,
        first: Duration,
    ) -> Waiting<'_> {
        Waiting::new(self.ctx.client, self.address(), why.into(), window, first)
    }

    /// A call retried with backoff while `retry` says its error is passing
    /// and the wait's window has not run out; the last answer otherwise.
    async fn retrying<T, F, Fut>(
        &self,
        mut waiting: Waiting<'_>,
        retry: impl Fn(&ApiError) -> bool,
        call: F,
    ) -> Result<T, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        loop {
            match call().await {
                Err(err) if retry(&err) && !waiting.is_over() => waiting.pause().await,
                result => return result,
            }
        }
    }

    /// A call retried on 404 until the deadline, with backoff: for an object
    /// that trails in reads (owned by another object that was just created).
    async fn until_found<T, F, Fut>(&self, doing: &str, call: F) -> Result<T, OpError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let deadline = self.ctx.deadline;
        let why = format!(
            "{doing} it: 404 Not Found; retrying, since what was made moments ago can trail in reads (--wait-timeout {}s)",
            deadline.as_secs()
        );
        let waiting = self.waiting(why, deadline, Duration::from_millis(50));
        let not_found = |err: &ApiError| err.is_not_found();
        self.retrying(waiting, not_found, call).await.map_err(self.failed(doing))
    }

    /// PUT `body` to an upload URL an API call returned (a flow import
    /// job's `presignedUrl`), with exactly `headers` and no credentials.
    pub async fn upload(
        &self,
        url: &str,
        headers: &[(String, String)],
        body: String,
        doing: &str,
    ) -> Result<(), OpError> {
        self.ctx.client.upload(url, headers, body).await.map_err(self.failed(doing))
    }

    /// POST an action with query parameters and no body (flow lock
    /// actions), harmless to repeat.
    pub async fn post_action(
        &self,
        path: &str,
        query: &[(&str, String)],
        doing: &str,
    ) -> Result<Value, OpError> {
        self.ctx.client.post_action(path, query).await.map_err(self.failed(doing))
    }

    /// GET, `None` on 404.
    pub async fn get_optional(&self, path: &str, doing: &str) -> Result<Option<Value>, OpError> {
        self.ctx.client.get_optional(path, &[]).await.map_err(self.failed(doing))
    }

    pub async fn post(
        &self,
        path: &str,
        body: Option<&Value>,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.ctx.client.post(path, body).await.map_err(self.failed(doing))
    }

    /// POST an action that is harmless to repeat: retried on 5xx and lost answers.
    pub async fn post_repeatable(&self, path: &str, doing: &str) -> Result<Value, OpError> {
        self.ctx.client.post_repeatable(path, None).await.map_err(self.failed(doing))
    }

    /// POST with a body that is safe to repeat (a move, a grant): retried
    /// like an idempotent call.
    pub async fn post_repeatable_with(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.ctx.client.post_repeatable(path, Some(body)).await.map_err(self.failed(doing))
    }

    /// A repeatable POST to a sub-resource of an object made moments ago
    /// (the members of a queue this run created), retried on 404 until the
    /// deadline: the object can trail in the API behind its create, and a
    /// 404 changed nothing.
    pub async fn post_repeatable_when_found(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.until_found(doing, || self.ctx.client.post_repeatable(path, Some(body))).await
    }

    pub async fn put(&self, path: &str, body: &Value, doing: &str) -> Result<Value, OpError> {
        self.ctx.client.put(path, body).await.map_err(self.failed(doing))
    }

    /// PUT, retried on 404 until the deadline: for a resource that trails
    /// the object that owns it (a recipient behind its integration).
    pub async fn put_when_found(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.until_found(doing, || self.ctx.client.put(path, body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value, doing: &str) -> Result<Value, OpError> {
        self.ctx.client.patch(path, body).await.map_err(self.failed(doing))
    }

    /// PATCH, retried on 409 for up to [`CONFLICT_WINDOW`] (a documented
    /// conflict that a retry settles).
    pub async fn patch_retrying_conflicts(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.until_no_conflict(doing, || self.ctx.client.patch(path, body)).await
    }

    /// DELETE, retried on 409 for up to [`CONFLICT_WINDOW`].
    pub async fn delete_retrying_conflicts(&self, path: &str, doing: &str) -> Result<(), OpError> {
        self.until_no_conflict(doing, || self.ctx.client.delete(path, &[])).await
    }

    /// An idempotent write retried on 409 with backoff for up to
    /// [`CONFLICT_WINDOW`]: for documented conflicts that a retry settles
    /// (the version mismatch of a user changed concurrently, API reference
    /// §i, which the Terraform provider retries).
    async fn until_no_conflict<T, F, Fut>(&self, doing: &str, call: F) -> Result<T, OpError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let why = format!(
            "{doing} it: 409 Conflict (changed by someone else at the same time); retrying, as a retry settles it (up to {}s)",
            CONFLICT_WINDOW.as_secs()
        );
        let waiting = self.waiting(why, CONFLICT_WINDOW, Duration::from_millis(100));
        let conflict = |err: &ApiError| err.status() == Some(409);
        self.retrying(waiting, conflict, call).await.map_err(self.failed(doing))
    }

    /// PATCH, retried on 404 until the deadline: for a sub-resource that
    /// shows only once asynchronous processing is done (a queue member
    /// just added, whose ring number is set next).
    pub async fn patch_when_found(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.until_found(doing, || self.ctx.client.patch(path, body)).await
    }

    /// Every entity of an offset listing (all pages).
    pub async fn list_all(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        doing: &str,
    ) -> Result<Vec<Value>, OpError> {
        self.ctx.client.list_all(path, query, page_size).await.map_err(self.failed(doing))
    }

    /// [`Op::list_all`], retried on 404 until the deadline: the listing of
    /// an object this run may just have made (a queue's wrap-up codes).
    pub async fn list_all_when_found(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        doing: &str,
    ) -> Result<Vec<Value>, OpError> {
        self.until_found(doing, || self.ctx.client.list_all(path, query, page_size)).await
    }

    /// Every entity of a cursor listing (web deployments), 100 a page.
    pub async fn list_cursor(&self, path: &str, doing: &str) -> Result<Vec<Value>, OpError> {
        self.ctx.client.list_cursor(path, &[], 100).await.map_err(self.failed(doing))
    }

    /// Every entity of a listing read until an empty page (queue members).
    pub async fn list_until_empty(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        doing: &str,
    ) -> Result<Vec<Value>, OpError> {
        self.ctx.client.list_until_empty(path, query, page_size).await.map_err(self.failed(doing))
    }

    /// As [`Op::list_until_empty`], stopping once every id in `wanted` has
    /// shown ([`crate::api::Client::list_until_seen`]).
    pub async fn list_until_seen(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        wanted: Option<&HashSet<&str>>,
        doing: &str,
    ) -> Result<Vec<Value>, OpError> {
        self.ctx
            .client
            .list_until_seen(path, query, page_size, wanted)
            .await
            .map_err(self.failed(doing))
    }

    /// [`Op::list_until_seen`], retried on 404 until the deadline: the
    /// listing of an object this run may just have made (a queue's members).
    pub async fn list_until_seen_when_found(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        wanted: Option<&HashSet<&str>>,
        doing: &str,
    ) -> Result<Vec<Value>, OpError> {
        let call = || self.ctx.client.list_until_seen(path, query, page_size, wanted);
        self.until_found(doing, call).await
    }

    pub async fn delete(&self, path: &str, doing: &str) -> Result<(), OpError> {
        self.ctx.client.delete(path, &[]).await.map_err(self.failed(doing))
    }

    /// The generic idempotent create with a body the kind completed itself
    /// (a deployment's configuration version, read at apply time): POST,
    /// and after a lost answer the lookup by name before any retry. The
    /// created (or adopted) object.
    pub async fn create_with(&self, body: &Value) -> Result<Value, OpError> {
        create_once(self, body).await.map(|(created, _adopted)| created)
    }

    /// The object's live state, read right before a write so a merge starts
    /// from the present.
    pub async fn read_live(&self, id: &str) -> Result<Value, OpError> {
        self.get(&self.org().api().item(id), "reading").await
    }

    /// The request body for the desired state (merged into `live` for PUT
    /// kinds), with the secret the kind sends when this change sends it.
    pub fn body(&self, live: Option<&Value>) -> Result<Value, OpError> {
        let mut body = self.org().body(&self.desired, live, &self.ids())?;
        let secret = self.ctx.secrets.sent_secret(&self.address());
        if let (Some(field), Some(secret)) = (self.org().sent_secret_field(), secret) {
            body[field] = Value::String(secret.expose().to_string());
        }
        Ok(body)
    }

    /// Write `body` to the object with the kind's update method.
    pub async fn write(&self, id: &str, body: &Value) -> Result<(), OpError> {
        let path = self.org().api().item(id);
        let result = match self.org().api().update {
            UpdateMethod::Put => self.ctx.client.put(&path, body).await,
            UpdateMethod::Patch => self.ctx.client.patch(&path, body).await,
        };
        result.map(|_| ()).map_err(self.failed("updating"))
    }

    /// Write the declared fields: read, merge and PUT, or PATCH; and make
    /// the object the org default (or unset it) when `orgDefault` changed.
    pub async fn write_declared(&self, id: &str) -> Result<(), OpError> {
        let has_default = self.org().api().default.is_some();
        if !has_default || self.changed_outside("/orgDefault") {
            let body = match self.org().api().update {
                UpdateMethod::Put => self.body(Some(&self.read_live(id).await?))?,
                UpdateMethod::Patch => self.body(None)?,
            };
            self.write(id, &body).await?;
        }
        if has_default && self.changed("/orgDefault") {
            self.set_default(id).await?;
        }
        Ok(())
    }

    /// Make `id` the org default of its kind when the desired state says
    /// `orgDefault: true`; unset the default (it is `id`: the plan saw so)
    /// when it says `false`.
    async fn set_default(&self, id: &str) -> Result<(), OpError> {
        let Some(default) = self.org().api().default else { return Ok(()) };
        match self.desired.get("orgDefault").and_then(Value::as_bool) {
            Some(true) => {
                let body = serde_json::json!({ default.id_key: id });
                self.put(default.path, &body, "making the org default").await?;
            }
            Some(false) if default.unset => {
                self.delete(default.path, "unsetting the org default").await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Write a secret the org issued to `--secrets-dir` (mode 0600) and
    /// nowhere else; the note says where it went, never what it is.
    pub fn save_issued_secret(
        &self,
        id: &str,
        secret: &Secret,
        version: u32,
    ) -> Result<String, OpError> {
        crate::api::untrusted::register_secret(secret.expose());
        let dir = self
            .ctx
            .secrets_dir
            .as_deref()
            .ok_or_else(|| self.fail("no --secrets-dir for the new secret"))?;
        let file = write_client_secret(dir, &self.change.org_name, id, secret, version).map_err(
            |err| self.fail(format!("cannot write the secret to {}: {err}", dir.display())),
        )?;
        Ok(format!("secret (version {version}) written to {}", file.display()))
    }
}

fn under(pointer: &str, prefix: &str) -> bool {
    pointer == prefix || pointer.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'))
}

/// How long a documented 409 is retried: the provider retries flow deletes
/// for 30 s (API reference §h); for users' routing skills and languages it
/// retries version mismatches (§i) for a time the reference does not give,
/// so the same 30 s (UNVERIFIED).
pub const CONFLICT_WINDOW: Duration = Duration::from_secs(30);

/// The later step of a change (see `OrgKind::late_pointers`) on the object
/// `id` its first step created or updated.
pub async fn execute_late(change: &Change, ctx: &OpContext<'_>, id: &str) -> Result<Done, OpError> {
    let op = Op::new(change, ctx)?;
    let id = if id.is_empty() { change.id.clone().unwrap_or_default() } else { id.to_string() };
    let notes = op.org().late(&op, &id).await?;
    Ok(Done { action: change.action, id: Some(id), notes })
}

/// Execute one change.
pub async fn execute(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    match change.action {
        Action::NoOp => Ok(Done { action: Action::NoOp, id: change.id.clone(), notes: Vec::new() }),
        Action::Create => create(&Op::new(change, ctx)?).await,
        Action::Update => update(&Op::new(change, ctx)?).await,
        Action::Delete => delete(&Op::new(change, ctx)?).await,
        Action::Grant => grant_to_caller(change, ctx).await,
    }
}

/// Grant the role of a planned `grant` to the caller (a user) in each
/// division of `/divisions`:
/// `POST /api/v2/authorization/subjects/{subjectId}/divisions/{divisionId}/roles/{roleId}`
/// (`subjectType` left at its default, `PC_USER`; Python SDK `authorization_api.py`
/// `post_authorization_subject_division_role`), then wait until
/// `GET /api/v2/authorization/subjects/me` lists it: the Terraform provider
/// sleeps 10 s after adding a role to its user because "the auth service is
/// a mishmash of caches and eventual consistency"; polling is the bounded
/// version of that (whether the grant is usable as soon as it is listed is
/// UNVERIFIED).
async fn grant_to_caller(change: &Change, ctx: &OpContext<'_>) -> Result<Done, OpError> {
    let address = change.address();
    let fail = |message: String| OpError::Failed(format!("{address}: {message}"));
    let caller = ctx.caller.ok_or_else(|| fail("the caller is not known".into()))?;
    let resolver = Resolver { created: ctx.ids, lookups: ctx.lookups };
    let role_id = change
        .id
        .clone()
        .or_else(|| resolver.id(RefTarget::Kind(change.kind.kind()), &change.org_name))
        .ok_or_else(|| fail(format!("role `{}` has no id", change.org_name)))?;
    let divisions: Vec<String> = change
        .fields
        .iter()
        .find(|f| f.pointer == "/divisions")
        .and_then(|f| f.after.as_ref())
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let mut granted = Vec::new();
    for division in &divisions {
        let division_id = ctx
            .lookups
            .id_of(RefTarget::Division, division)
            .ok_or_else(|| fail(format!("division `{division}` has no id")))?;
        if caller.holds(&role_id, division_id) {
            continue;
        }
        let path = format!(
            "/api/v2/authorization/subjects/{}/divisions/{division_id}/roles/{role_id}",
            caller.id
        );
        ctx.client.post_repeatable(&path, None).await.map_err(|source| OpError::Api {
            operation: format!(
                "granting role `{}` in `{division}` to the caller ({})",
                change.org_name,
                caller.describe()
            ),
            source,
        })?;
        granted.push((division_id.to_string(), division.clone()));
    }
    // Visible in the caller's grants before anything relies on it.
    let why = format!(
        "waiting for the grant to show in GET /api/v2/authorization/subjects/me (the auth service lags role changes; --wait-timeout {}s)",
        ctx.deadline.as_secs()
    );
    let first = Duration::from_millis(200);
    let mut waiting = Waiting::new(ctx.client, address.clone(), why, ctx.deadline, first);
    loop {
        let me =
            ctx.client.get("/api/v2/authorization/subjects/me", &[]).await.map_err(|source| {
                OpError::Api { operation: "reading the caller's grants".into(), source }
            })?;
        let listed = |division_id: &str| {
            me["grants"].as_array().into_iter().flatten().any(|g| {
                g.pointer("/role/id").and_then(Value::as_str) == Some(role_id.as_str())
                    && g.pointer("/division/id").and_then(Value::as_str) == Some(division_id)
            })
        };
        if granted.iter().all(|(id, _)| listed(id)) {
            break;
        }
        if waiting.is_over() {
            return Err(fail(format!(
                "the grant is not listed in the caller's grants after {}s",
                ctx.deadline.as_secs()
            )));
        }
        waiting.pause().await;
    }
    let notes = if granted.is_empty() {
        Vec::new()
    } else {
        let names: Vec<&str> = granted.iter().map(|(_, n)| n.as_str()).collect();
        vec![format!("granted to {} in {}", caller.describe(), names.join(", "))]
    };
    Ok(Done { action: Action::Grant, id: Some(role_id), notes })
}

async fn create(op: &Op<'_>) -> Result<Done, OpError> {
    // A kind whose create issues a secret marks the object in the org as
    // having no recorded secret (its body says so), and clears the mark
    // once the secret is written: a run dying in between leaves a trace that
    // every later run sees (see `kinds::oauth_client::UNRECORDED_MARKER`).
    let body = op.body(None)?;
    let (created, adopted) = match op.org().create(op) {
        // A kind that is not created by a POST (a flow's import job, which
        // matches the flow by name: running it again is harmless).
        Some(create) => create.await.map(|created| (created, false))?,
        None => create_once(op, &body).await?,
    };
    let id = id_in(&created).ok_or_else(|| op.fail("the create answer has no id"))?;
    let mut notes = Vec::new();
    if adopted {
        notes.push(
            "the create's answer was lost (in this run or a run that died); found the object by name and adopted it".to_string(),
        );
    }
    op.record(RefTarget::Kind(op.change.kind.kind()), &op.change.org_name, &id);
    let after = async {
        let notes = op.org().after_create(op, &created, adopted).await?;
        if op.desired.get("orgDefault") == Some(&Value::Bool(true)) {
            op.set_default(&id).await?;
        }
        Ok::<_, OpError>(notes)
    };
    match after.await {
        Ok(more) => notes.extend(more),
        Err(source) => {
            return Err(OpError::AfterCreate {
                address: op.address(),
                id,
                source: Box::new(source),
            });
        }
    }
    Ok(Done { action: Action::Create, id: Some(id), notes })
}

fn id_in(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(str::to_string)
}

/// POST, and when the answer is lost, look the object up by name before
/// trying again. Returns the object and whether it was adopted.
///
/// A create that an earlier run sent and no list has shown since (an entry
/// in the journal) is looked up first, for the whole consistency window: the
/// org may have made it and not list it yet. The entry of a create that was
/// made stays for the run's duplicate check (see `super::journal`).
async fn create_once(op: &Op<'_>, body: &Value) -> Result<(Value, bool), OpError> {
    let kind = op.change.kind.kind();
    let name = op.change.org_name.as_str();
    let journal = op.ctx.journal.as_ref();
    if journal.is_some_and(|j| j.unfinished(kind, name)) {
        if let Some(found) = find_after_lost_answer(op).await? {
            if let Some(journal) = journal {
                journal.forget(kind, name).await;
            }
            return Ok((found, true));
        }
    }
    if let Some(journal) = journal {
        journal.record(kind, name).await.map_err(|err| {
            op.fail(format!(
                "cannot record the create in the journal {}: {err}; nothing was sent for this object: make the file and its directory (GCCTL_LOCK_DIR) writable, then apply again",
                journal.path().display()
            ))
        })?;
    }
    let result = post_once(op, body).await;
    let refused = matches!(&result, Err(OpError::Api { source, .. }) if !source.outcome_unknown());
    if let (Some(journal), true) = (journal, refused) {
        journal.forget(kind, name).await;
    }
    result
}

async fn post_once(op: &Op<'_>, body: &Value) -> Result<(Value, bool), OpError> {
    let collection = op.org().api().collection;
    let mut attempts = 0;
    loop {
        attempts += 1;
        match op.ctx.client.post(collection, Some(body)).await {
            Ok(created) => return Ok((created, false)),
            Err(err) if err.outcome_unknown() && attempts < 4 => {
                if let Some(found) = find_after_lost_answer(op).await? {
                    return Ok((found, true));
                }
            }
            Err(err) => return Err(op.failed("creating")(err)),
        }
    }
}

/// Look for an object by exact name, with backoff, until the consistency
/// window has passed: a list may lag a create, and creating again before the
/// window ends could duplicate the object.
async fn find_after_lost_answer(op: &Op<'_>) -> Result<Option<Value>, OpError> {
    let window = op.ctx.consistency_window;
    let why = format!(
        "the create's outcome is unknown (its answer was lost); looking for it by name in GET {} before creating it again, since the org's lists can lag a create (--consistency-window {}s)",
        op.org().api().collection,
        window.as_secs()
    );
    let mut waiting = op.waiting(why, window, Duration::from_millis(250));
    loop {
        if let Some(found) = find_by_name(op).await? {
            return Ok(Some(found));
        }
        if waiting.is_over() {
            return Ok(None);
        }
        waiting.pause().await;
    }
}

async fn find_by_name(op: &Op<'_>) -> Result<Option<Value>, OpError> {
    let api = op.org().api();
    let name = op.change.org_name.as_str();
    // The API's name filter is fuzzy: the answer is matched exactly below.
    let query: Vec<(&str, String)> =
        if api.name_filter { vec![("name", name.to_string())] } else { Vec::new() };
    let all = api.list(op.ctx.client, &query).await.map_err(op.failed("looking up by name"))?;
    let org = op.org();
    Ok(all
        .into_iter()
        .find(|o| o.get("name").and_then(Value::as_str) == Some(name) && org.is_live(o)))
}

async fn update(op: &Op<'_>) -> Result<Done, OpError> {
    let id = op.change.id.clone().ok_or_else(|| op.fail("an update without an id"))?;
    let notes = op.org().update(op, &id).await?;
    Ok(Done { action: Action::Update, id: Some(id), notes })
}

async fn delete(op: &Op<'_>) -> Result<Done, OpError> {
    let id = op.change.id.clone().ok_or_else(|| op.fail("a delete without an id"))?;
    if op.ctx.own_client_id.as_deref() == Some(id.as_str()) {
        return Err(op.fail("refusing to delete the OAuth client gcctl is authenticated with"));
    }
    if op.ctx.lookups.is_default(op.change.kind.kind(), &id) {
        return Err(
            op.fail("refusing to delete the org default; make another object the default first")
        );
    }
    op.org().before_delete(op, &id).await?;
    let api = op.org().api();
    let path = api.item(&id);
    let query: Vec<(&str, String)> =
        api.delete_query.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
    // Busy (a flow operation in progress): the provider retries 409 for up
    // to 30 s (API reference §h). Gone already: done.
    let busy = |err: &ApiError| err.status() == Some(409) && op.org().delete_retry_conflicts();
    let why = format!(
        "deleting it: 409 Conflict (an operation on it is in progress); retrying (up to {}s)",
        CONFLICT_WINDOW.as_secs()
    );
    let waiting = op.waiting(why, CONFLICT_WINDOW, Duration::from_millis(250));
    let deleted = op.retrying(waiting, busy, || op.ctx.client.delete(&path, &query)).await;
    match deleted {
        Err(err) if !err.is_not_found() => return Err(op.failed("deleting")(err)),
        _ => {}
    }
    Ok(Done { action: Action::Delete, id: Some(id), notes: Vec::new() })
}
