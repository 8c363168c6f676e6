//! The API calls that realize one planned change. The generic steps live
//! here: create (POST, idempotent), update (the kind's hook; by default read,
//! merge and PUT, or PATCH), delete (the kind's hook, then DELETE). What a
//! kind does beyond them (poll an asynchronous create, route a recipient,
//! make an object the org default, save an issued secret, deactivate before
//! delete) is a hook of its [`OrgKind`](crate::kinds::org::OrgKind), given
//! an [`Op`] (`op.rs`: the change as the hooks see it, and its calls).
//!
//! Creates are idempotent: when a create's answer is lost (timeout, reset,
//! 5xx), the object is looked up by name before the create is retried, so a
//! retry never duplicates it. Waiting for eventual consistency polls with
//! backoff under a deadline; nothing sleeps a fixed time.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use super::secrets::RunSecrets;
pub use super::waiting::{Waiting, poll_backoff};
use crate::api::{ApiError, Client};
use crate::kinds::org::{BodyError, IdResolver, Lookups};
use crate::kinds::{Kind, RefTarget};
use crate::manifest::check::SetIndex;
use crate::plan::{Action, Change};

mod op;
pub use op::Op;

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
    /// The Project's `ignoreDifferences` rules: an update writes the fields
    /// they name as the org holds them.
    pub ignore_rules: &'a [crate::kinds::project::IgnoreRule],
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
    wait_for_grants(ctx, &address, &role_id, &granted).await?;
    let notes = if granted.is_empty() {
        Vec::new()
    } else {
        let names: Vec<&str> = granted.iter().map(|(_, n)| n.as_str()).collect();
        vec![format!("granted to {} in {}", caller.describe(), names.join(", "))]
    };
    Ok(Done { action: Action::Grant, id: Some(role_id), notes })
}

/// Wait until the caller's grants (`GET /api/v2/authorization/subjects/me`)
/// list the role in every division of `granted`, before anything relies on
/// them: the auth service lags role changes.
async fn wait_for_grants(
    ctx: &OpContext<'_>,
    address: &str,
    role_id: &str,
    granted: &[(String, String)],
) -> Result<(), OpError> {
    let fail = |message: String| OpError::Failed(format!("{address}: {message}"));
    let why = format!(
        "waiting for the grant to show in GET /api/v2/authorization/subjects/me (the auth service lags role changes; --wait-timeout {}s)",
        ctx.deadline.as_secs()
    );
    let first = Duration::from_millis(200);
    let mut waiting = Waiting::new(ctx.client, address.to_string(), why, ctx.deadline, first);
    loop {
        let me =
            ctx.client.get("/api/v2/authorization/subjects/me", &[]).await.map_err(|source| {
                OpError::Api { operation: "reading the caller's grants".into(), source }
            })?;
        let listed = |division_id: &str| {
            me["grants"].as_array().into_iter().flatten().any(|g| {
                g.pointer("/role/id").and_then(Value::as_str) == Some(role_id)
                    && g.pointer("/division/id").and_then(Value::as_str) == Some(division_id)
            })
        };
        if granted.iter().all(|(id, _)| listed(id)) {
            return Ok(());
        }
        if waiting.is_over() {
            return Err(fail(format!(
                "the grant is not listed in the caller's grants after {}s",
                ctx.deadline.as_secs()
            )));
        }
        waiting.pause().await;
    }
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
        Some(create) => create.await?,
        None => create_once(op, &body).await?,
    };
    let id = id_in(&created).ok_or_else(|| op.fail("the create answer has no id"))?;
    // An answer naming an object the org held before this create (as the
    // run's listing showed it) is wrong: writing on would change that
    // object (an OAuth client's mark-clearing PUT renamed another client).
    // (Ids are GUIDs, which an org may read in any case.)
    let listed = op
        .live(op.change.kind.kind(), &id)
        .or_else(|| op.live(op.change.kind.kind(), &id.to_ascii_lowercase()));
    if let Some(other) = listed.filter(|_| !adopted) {
        let name = other.get("name").and_then(Value::as_str).unwrap_or("(no name)");
        return Err(op.fail(format!(
            "the create answered with the id {id}, which is `{}`'s, an object the org held before it: nothing more is written to it; check the org (a create may have been made), then plan again",
            crate::api::untrusted::visible(name)
        )));
    }
    op.record(RefTarget::Kind(op.change.kind.kind()), &op.change.org_name, &id);
    let after = async {
        let mut notes = Vec::new();
        if adopted {
            // The create that made it may have been sent from another
            // version of the manifest (an earlier run's).
            let written = op.org().write_adopted(op, &id).await?;
            notes.push(format!(
                "the create's answer was lost, or an earlier run's create was not listed yet; found the object by name and adopted it{}",
                if written {
                    ", then wrote the declared fields"
                } else {
                    " (with the fields the create that made it wrote: a plan shows any that differ from the manifest)"
                }
            ));
        }
        let kind = op.change.kind.kind();
        if let Some(sent) = op.learned(kind, &op.change.org_name, RESENT_CREATE) {
            // An earlier attempt the org did not list may yet be made: a
            // server that commits after its answer was lost.
            notes.push(format!(
                "the create was sent {sent} times: the answers before the last were lost or server errors, and the org did not list the object within the consistency window (--consistency-window {}s); should an earlier one still be made, the org holds two objects of this name, which the next plan reports",
                op.ctx.consistency_window.as_secs()
            ));
        }
        notes.extend(op.org().after_create(op, &created, adopted).await?);
        if op.desired.get("orgDefault") == Some(&Value::Bool(true)) {
            op.set_default(&id).await?;
        }
        Ok::<_, OpError>(notes)
    };
    let notes = match after.await {
        Ok(notes) => notes,
        Err(source) => {
            return Err(OpError::AfterCreate {
                address: op.address(),
                id,
                source: Box::new(source),
            });
        }
    };
    Ok(Done { action: Action::Create, id: Some(id), notes })
}

fn id_in(value: &Value) -> Option<String> {
    value.get("id").and_then(Value::as_str).map(str::to_string)
}

/// POST, and when the answer is lost, look the object up by name before
/// trying again. Returns the object and whether it was adopted. Journaled
/// (see [`create_journaled`]): whatever an earlier run's unfinished create
/// made is adopted.
async fn create_once(op: &Op<'_>, body: &Value) -> Result<(Value, bool), OpError> {
    let make = |_| async { post_once(op, body).await.map_err(Unmade::from) };
    create_journaled(op, |_| true, make).await
}

/// Why a create failed, and whether the org surely made nothing (then the
/// journal's record of the create ends; otherwise the next run looks for the
/// object by name before it creates it).
#[derive(Debug)]
pub struct Unmade {
    pub error: OpError,
    pub nothing_made: bool,
}

impl From<OpError> for Unmade {
    /// A refused request made nothing; a lost answer or a server error may
    /// have made the object. (For a create of several requests only the
    /// kind knows: a refused request after the one that makes the object
    /// does not say that nothing was made.)
    fn from(error: OpError) -> Self {
        let nothing_made =
            matches!(&error, OpError::Api { source, .. } if !source.outcome_unknown());
        Unmade { error, nothing_made }
    }
}

/// A create journaled: `make` (one POST, or a kind's own steps such as a
/// flow's import job) runs only once the create is recorded, and a create
/// that an earlier run sent and no list has shown since (an entry in the
/// journal) is looked up first, for the whole consistency window: the org
/// may have made it and not list it yet. What is found is adopted when
/// `adopt` says it is the declared object (a flow whose published definition
/// is the declared one); otherwise `make` runs, given what was found, and
/// must then match the object by name rather than make a second one. The
/// entry of a create that was made stays for the run's duplicate check (see
/// `super::journal`). Returns the object and whether it was adopted.
pub(super) async fn create_journaled<F>(
    op: &Op<'_>,
    adopt: impl FnOnce(&Value) -> bool,
    make: impl FnOnce(Option<Value>) -> F,
) -> Result<(Value, bool), OpError>
where
    F: std::future::Future<Output = Result<(Value, bool), Unmade>>,
{
    let kind = op.change.kind.kind();
    let name = op.change.org_name.as_str();
    let journal = op.ctx.journal.as_ref();
    let mut found = None;
    if journal.is_some_and(|j| j.unfinished(kind, name)) {
        found = find_after_lost_answer(op).await?;
        if let Some(object) = &found {
            if let Some(journal) = journal {
                journal.forget(kind, name).await;
            }
            if adopt(object) {
                return Ok((found.unwrap_or_default(), true));
            }
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
    match make(found).await {
        Ok(created) => Ok(created),
        Err(Unmade { error, nothing_made }) => {
            if let (Some(journal), true) = (journal, nothing_made) {
                journal.forget(kind, name).await;
            }
            Err(error)
        }
    }
}

/// The most creates sent for one object: each one after the first follows a
/// lost answer whose look-up by name found nothing.
const CREATE_ATTEMPTS: u32 = 4;

/// What a create sent more than once learns ([`Op::learn`]): how many
/// times it was sent, for its note.
const RESENT_CREATE: &str = "resent-create";

async fn post_once(op: &Op<'_>, body: &Value) -> Result<(Value, bool), OpError> {
    let collection = op.org().api().collection;
    let (mut attempts, mut server_errors) = (0, 0);
    loop {
        attempts += 1;
        match op.ctx.client.post(collection, Some(body)).await {
            // A success without the object (an empty body, no id): the
            // create happened, so it is looked for by name, never sent again.
            Ok(created) if id_in(&created).is_none() => {
                if let Some(found) = find_after_lost_answer(op).await? {
                    return Ok((found, true));
                }
                return Err(op.fail(format!(
                    "POST {collection} answered success without the created object's id, and the org does not list the object yet: run the apply again later (it looks the object up by name before creating it, so nothing is made twice)"
                )));
            }
            Ok(created) => {
                if attempts > 1 {
                    op.learn(RESENT_CREATE, attempts.into());
                }
                return Ok((created, false));
            }
            // The last attempt's lost answer is looked for too: a create that
            // happened is adopted, never reported as failed.
            Err(err) if err.outcome_unknown() => {
                server_errors += u32::from(err.status().is_some_and(|s| s >= 500));
                if let Some(found) = find_after_lost_answer(op).await? {
                    return Ok((found, true));
                }
                if err.kind == crate::api::ApiErrorKind::Decode {
                    // The org answered success with a body gcctl cannot
                    // read: the object was made, so it is never created
                    // again (the journal keeps it for the next run).
                    let mut err = err;
                    err.hint = Some(
                        "the org answered the create with success but a body gcctl cannot read, and does not list the object yet: run the apply again later (it looks the object up by name before creating it, so nothing is made twice); if the org never lists it, give Genesys support the correlation id".to_string(),
                    );
                    return Err(op.failed("creating")(err));
                }
                if attempts >= CREATE_ATTEMPTS {
                    let mut err = err;
                    // A server error says nothing of whether the create was
                    // made, as a lost answer does not; said as it was.
                    let what = match server_errors {
                        0 => "each answer was lost",
                        n if n == attempts => {
                            "each time the org answered with a server error, which does not say whether it made the object"
                        }
                        _ => {
                            "each answer was lost or a server error, neither of which says whether the org made the object"
                        }
                    };
                    err.hint = err.hint.take().or_else(|| Some(format!(
                        "the create was sent {CREATE_ATTEMPTS} times, {what}, and the org does not list the object: run the apply again when the org answers (it looks the object up by name before creating it, so nothing is made twice); if this keeps failing, give Genesys support the correlation id"
                    )));
                    return Err(op.failed("creating")(err));
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
    // Only ever after a create whose answer was lost (in this run or one
    // that died): the failure says the object may exist.
    let all = api.list(op.ctx.client, &query).await.map_err(|source| OpError::Api {
        operation: format!(
            "looking up {} by name after a create whose answer was lost (it may have been made: the next run looks for it again before creating it)",
            op.change.described()
        ),
        source,
    })?;
    let org = op.org();
    // The natural key beyond the name too: a flow of another type with the
    // same name is another object.
    let same_key = |o: &Value| op.object.is_none_or(|object| org.matches(object.spec.as_ref(), o));
    Ok(all.into_iter().find(|o| {
        o.get("name").and_then(Value::as_str) == Some(name) && org.is_live(o) && same_key(o)
    }))
}

async fn update(op: &Op<'_>) -> Result<Done, OpError> {
    let id = op.change.id.clone().ok_or_else(|| op.fail("an update without an id"))?;
    let notes = op.org().update(op, &id).await?;
    Ok(Done { action: Action::Update, id: Some(id), notes })
}

/// A failure, deleting nothing, when the object a prune deletes was renamed
/// since the plan (`OrgKind::item_read`). A rename in the UI between plan and
/// apply may take it out of the prune scope or give it a protected or
/// declared name; the plan's reasons no longer hold, so only a new plan may
/// delete it. Not found (or deleted, for a soft-deleting kind), the DELETE
/// still goes: it says whether the object is gone (a 404 is), since the read
/// may not be of the object itself (a web messaging configuration's draft).
async fn still_as_pruned(op: &Op<'_>, id: &str) -> Result<(), OpError> {
    let Some(path) = op.org().item_read(id) else { return Ok(()) };
    let Some(now) = op.get_optional(&path, "reading it before the prune").await? else {
        return Ok(());
    };
    let name = now.get("name").and_then(Value::as_str);
    if !op.org().is_live(&now) || name == Some(op.change.org_name.as_str()) {
        return Ok(());
    }
    let now_named = match name {
        Some(name) => format!("is named {} in the org now", crate::api::untrusted::quoted(name)),
        None => "has no name in the org now".to_string(),
    };
    Err(op.fail(format!(
        "not deleted: it {now_named}, renamed since the plan, which pruned it as {}; run `gcctl plan` again to see what a prune would do now",
        crate::api::untrusted::quoted(&op.change.org_name)
    )))
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
    if op.change.prune {
        still_as_pruned(op, &id).await?;
    }
    let undo = op.org().before_delete(op, &id).await?;
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
        Err(err) if !err.is_not_found() => {
            // What was done to prepare the delete is undone, and said.
            let undone = match undo {
                None => String::new(),
                Some(undo) => {
                    let mut failed = None;
                    if let Some(body) = &undo.body {
                        failed = op.ctx.client.put(&path, body).await.err();
                    }
                    for post in &undo.posts {
                        if let Err(err) = op.ctx.client.post_repeatable(post, None).await {
                            failed.get_or_insert(err);
                        }
                    }
                    match failed {
                        None => format!(" ({}, {})", undo.done, undo.undone),
                        Some(failed) => format!(
                            " ({}, and undoing that failed too: {failed}; the next plan says so)",
                            undo.done
                        ),
                    }
                }
            };
            let operation = format!("deleting {}{undone}", op.change.described());
            let mut err = err;
            if err.status() == Some(409) && err.hint.is_none() {
                err.hint = op.org().delete_conflict_hint().map(str::to_string);
            }
            return Err(OpError::Api { operation, source: err });
        }
        _ => {}
    }
    Ok(Done { action: Action::Delete, id: Some(id), notes: Vec::new() })
}
