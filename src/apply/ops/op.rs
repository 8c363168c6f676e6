//! [`Op`]: one change being executed, as a kind's hooks see it: the change,
//! its declared object and desired value, and the API calls they make, each
//! naming the operation and the object in its errors and retried, waited
//! for or looked up again as the API's rules require.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;

use super::{CONFLICT_WINDOW, OpContext, OpError, Resolver, Unmade, create_journaled, create_once};
use crate::api::ApiError;
use crate::apply::secrets::write_client_secret;
use crate::apply::waiting::Waiting;
use crate::kinds::org::{IdResolver, Lookups, OrgKind, UpdateMethod};
use crate::kinds::{Kind, RefTarget};
use crate::manifest::Object;
use crate::manifest::secret::Secret;
use crate::plan::build::desired_of;
use crate::plan::{Action, Change};

/// One change being executed: what a kind's hooks work with. Its calls
/// name the operation and the object in their errors.
pub struct Op<'a> {
    pub change: &'a Change,
    pub(super) ctx: &'a OpContext<'a>,
    /// The declared object (creates and updates; `None` for prunes).
    pub object: Option<&'a Object>,
    /// The desired spec-shaped value (`Null` for deletes).
    pub desired: Value,
}

impl<'a> Op<'a> {
    pub(super) fn new(change: &'a Change, ctx: &'a OpContext<'a>) -> Result<Self, OpError> {
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
        let mut op = Op { change, ctx, object, desired };
        op.keep_ignored();
        Ok(op)
    }

    /// An update writes the fields `ignoreDifferences` names as the org
    /// holds them (as the plan read it): the plan never shows them, so an
    /// update of another field must not write them back to the declared
    /// value. A field the org does not hold is left out. Pointers into a
    /// list's items are not ignored by the plan (a list is compared whole),
    /// so they are not here either.
    fn keep_ignored(&mut self) {
        let Some(object) = self.object.filter(|_| self.change.action == Action::Update) else {
            return;
        };
        let rules = self.ctx.ignore_rules.iter().filter(|r| r.kind == object.kind);
        let ignored: Vec<String> = object
            .ignore_differences
            .iter()
            .chain(rules.flat_map(|r| r.json_pointers.iter()))
            .cloned()
            .collect();
        if ignored.is_empty() {
            return;
        }
        // A header's pointer in another case names the declared header.
        let ignored =
            crate::kinds::org::align_ignored(self.org(), &self.desired, &ignored).into_owned();
        let live = self.change.id.as_deref().and_then(|id| self.live(object.kind, id));
        let live = live.map(|l| self.org().live_to_spec(l, self.ctx.lookups));
        for pointer in &ignored {
            // As the plan's diff ignores it: a declared field reached through
            // objects only (a list is compared whole, its items never apart).
            if !declared_through_objects(&self.desired, pointer) {
                continue;
            }
            match live.as_ref().and_then(|l| crate::json_pointer::get(l, pointer)).cloned() {
                Some(held) => {
                    if let Some(slot) = crate::json_pointer::get_mut(&mut self.desired, pointer) {
                        *slot = held;
                    }
                }
                None => crate::json_pointer::remove(&mut self.desired, pointer),
            }
        }
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

    pub(super) fn failed(&self, doing: &str) -> impl FnOnce(ApiError) -> OpError {
        let operation = format!("{doing} {}", self.change.described());
        move |source| OpError::Api { operation, source }
    }

    /// A failure of this change, in words (no API answer to carry).
    pub fn fail(&self, reason: impl std::fmt::Display) -> OpError {
        OpError::Failed(format!("{}: {reason}", self.change.described()))
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
    pub(super) async fn retrying<T, F, Fut>(
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

    /// [`Op::post_repeatable_with`] with query parameters.
    pub async fn post_repeatable_query(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        let posted = self.ctx.client.post_repeatable_query(path, query, body).await;
        posted.map_err(self.failed(doing))
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
        self.ctx.client.put_object(path, body).await.map_err(self.failed(doing))
    }

    /// PUT, retried on 404 until the deadline: for a resource that trails
    /// the object that owns it (a recipient behind its integration).
    pub async fn put_when_found(
        &self,
        path: &str,
        body: &Value,
        doing: &str,
    ) -> Result<Value, OpError> {
        self.until_found(doing, || self.ctx.client.put_object(path, body)).await
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
    /// created (or adopted) object, and whether it was adopted.
    pub async fn create_with(&self, body: &Value) -> Result<(Value, bool), OpError> {
        create_once(self, body).await
    }

    /// A create the kind makes with its own steps rather than one POST (a
    /// flow's import job), journaled like a POST: an earlier run's create
    /// that no list has shown yet is looked for by name first, and what is
    /// found is adopted when `adopt` says it is the declared object;
    /// otherwise `make` runs, given what was found (a flow to publish
    /// over), and must match the object by name rather than make a second
    /// one (see `create_journaled`). The created (or adopted)
    /// object, and whether it was adopted.
    pub async fn create_made_by<F>(
        &self,
        adopt: impl FnOnce(&Value) -> bool,
        make: impl FnOnce(Option<Value>) -> F,
    ) -> Result<(Value, bool), OpError>
    where
        F: std::future::Future<Output = Result<Value, Unmade>>,
    {
        let made_by = |found| {
            let making = make(found);
            async { making.await.map(|object| (object, false)) }
        };
        create_journaled(self, adopt, made_by).await
    }

    /// GET, retried on 404 until the deadline: for what was made moments
    /// ago and can trail in reads (a deployment or a draft just created).
    pub async fn get_when_found(&self, path: &str, doing: &str) -> Result<Value, OpError> {
        self.until_found(doing, || self.ctx.client.get(path, &[])).await
    }

    /// The object's live state, read right before a write so a merge starts
    /// from the present.
    ///
    /// It must hold at least the fields the run's listing showed of the
    /// object (gcctl's own `gcctl:…` details aside): a bare `{"id"}`, or an
    /// answer cut to a few fields, would have the write wipe the rest. (An
    /// object's GET answers the model its listing does, with as many fields
    /// or more; a GET with fewer is taken for a broken answer.)
    pub async fn read_live(&self, id: &str) -> Result<Value, OpError> {
        let path = self.org().api().item(id);
        let read = self.read_object(&path, Some(id), "reading").await?;
        if let Some(listed) = self.live(self.change.kind.kind(), id).and_then(Value::as_object) {
            let lacking: Vec<&str> = listed
                .iter()
                .filter(|(key, value)| !key.starts_with("gcctl:") && !value.is_null())
                .map(|(key, _)| key.as_str())
                .filter(|key| read.get(*key).is_none_or(Value::is_null))
                .collect();
            if !lacking.is_empty() {
                let shown: Vec<String> =
                    lacking.iter().take(5).map(|k| crate::api::untrusted::sanitize(k)).collect();
                return Err(self.fail(format!(
                    "reading it before the write, GET {path} answered the object without fields its listing showed ({}{}): nothing was written, since a write built on that answer would lose them; run apply again",
                    shown.join(", "),
                    if lacking.len() > 5 { ", ..." } else { "" }
                )));
            }
        }
        Ok(read)
    }

    /// GET `path`, which answers the object `id` (with `None`, a part of an
    /// object whose id the answer need not repeat, such as a version: then
    /// it must have a `name`): any other answer (an empty body, another
    /// object's, an object without an id or name) fails the change before
    /// anything is written, since a write merged into it would replace the
    /// fields the manifest leaves out with whatever it held.
    pub async fn read_object(
        &self,
        path: &str,
        id: Option<&str>,
        doing: &str,
    ) -> Result<Value, OpError> {
        let read = self.get(path, doing).await?;
        let answered = read.get("id").and_then(Value::as_str);
        let named = read.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
        let fits = match id {
            Some(id) => answered == Some(id),
            None => named,
        };
        if read.is_object() && fits {
            return Ok(read);
        }
        let what = match (read.is_object(), answered) {
            (false, _) if read.is_null() => "nothing (an empty body)".to_string(),
            (false, _) => "a JSON value that is not an object".to_string(),
            (true, Some(other)) if id.is_some() => {
                format!("the object with id {}", crate::api::untrusted::sanitize(other))
            }
            (true, _) if id.is_some() => "an object without an id".to_string(),
            (true, _) => "an object without a name".to_string(),
        };
        Err(self.fail(format!(
            "{doing} it before the write, GET {path} answered {what}: nothing was written, since a write built on that answer would lose the fields the manifest leaves out; run apply again (a proxy or the org answering wrongly would show in `gcctl plan -v`)"
        )))
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

    /// The body of a PATCH of `id`: [`Op::body`], its objects completed with
    /// the fields the live object holds beside the declared ones (as the plan
    /// read it; references and lists as declared), so that a server that
    /// replaces whole top-level fields on PATCH keeps what the manifest
    /// leaves out.
    pub fn patch_body(&self, id: &str) -> Result<Value, OpError> {
        let mut body = self.body(None)?;
        if let Some(live) = self.live(self.change.kind.kind(), id) {
            fill_siblings(&mut body, live, self.org().case_insensitive_maps());
        }
        Ok(body)
    }

    /// Write `body` to the object with the kind's update method.
    pub async fn write(&self, id: &str, body: &Value) -> Result<(), OpError> {
        let path = self.org().api().item(id);
        let result = match self.org().api().update {
            UpdateMethod::Put => self.ctx.client.put_object(&path, body).await,
            UpdateMethod::Patch => self.ctx.client.patch_object(&path, body).await,
        };
        result.map(|_| ()).map_err(self.failed("updating"))
    }

    /// Write the declared fields, the org default aside: read, merge and
    /// PUT, or PATCH.
    pub async fn write_fields(&self, id: &str) -> Result<(), OpError> {
        let body = match self.org().api().update {
            UpdateMethod::Put => self.body(Some(&self.read_live(id).await?))?,
            UpdateMethod::Patch => self.patch_body(id)?,
        };
        self.write(id, &body).await
    }

    /// Write the declared fields: read, merge and PUT, or PATCH; and make
    /// the object the org default (or unset it) when `orgDefault` changed.
    pub async fn write_declared(&self, id: &str) -> Result<(), OpError> {
        let has_default = self.org().api().default.is_some();
        if !has_default || self.changed_outside("/orgDefault") {
            self.write_fields(id).await?;
        }
        if has_default && self.changed("/orgDefault") {
            self.set_default(id).await?;
        }
        Ok(())
    }

    /// Make `id` the org default of its kind when the desired state says
    /// `orgDefault: true`; unset the default (it is `id`: the plan saw so)
    /// when it says `false`.
    pub(super) async fn set_default(&self, id: &str) -> Result<(), OpError> {
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

/// Whether `pointer` names a field `desired` declares, reached through
/// objects only.
fn declared_through_objects(desired: &Value, pointer: &str) -> bool {
    let Some(path) = pointer.strip_prefix('/') else { return false };
    let mut at = desired;
    for token in path.split('/') {
        match at {
            Value::Object(map) => match map.get(crate::json_pointer::unescape(token).as_ref()) {
                Some(next) => at = next,
                None => return false,
            },
            _ => return false,
        }
    }
    true
}

/// A PATCH body's objects completed with the fields the live object (as the
/// plan read it) holds beside the declared ones: a server that replaces a
/// whole top-level field on PATCH (as the sandbox does; whether Genesys
/// Cloud merges deeper is not verified) then keeps what the manifest leaves
/// out, which the plan never showed as changed (a setting's other typing
/// event, a webhook header added in the UI). References (objects with an
/// `id`) and lists are sent as declared. In the maps at `case_insensitive`
/// (top-level pointers), a live key is not added when a declared one names
/// it in another case (a header `x-env` the UI set, declared `X-Env`).
fn fill_siblings(body: &mut Value, live: &Value, case_insensitive: &[&str]) {
    let (Value::Object(body), Value::Object(live)) = (body, live) else { return };
    if body.contains_key("id") {
        return;
    }
    for (key, value) in body.iter_mut() {
        if let (Value::Object(_), Some(held @ Value::Object(_))) = (&*value, live.get(key)) {
            let any_case = case_insensitive.iter().any(|p| p.strip_prefix('/') == Some(key));
            fill_nested(value, held, any_case);
        }
    }
}

/// [`fill_siblings`] below the top level: missing keys are added from
/// `live` (with `any_case`, those no key of `body` names in another case).
fn fill_nested(body: &mut Value, live: &Value, any_case: bool) {
    let (Value::Object(declared), Value::Object(held)) = (body, live) else { return };
    if declared.contains_key("id") {
        return;
    }
    for (key, value) in held {
        if let Some(inner) = declared.get_mut(key) {
            fill_nested(inner, value, false);
        } else if !(any_case && declared.keys().any(|k| k.eq_ignore_ascii_case(key))) {
            declared.insert(key.clone(), value.clone());
        }
    }
}
