//! How a kind lives in the org: the [`OrgKind`] trait (where its objects
//! live in the API, how a live object reads as a spec, how a desired spec
//! becomes a request body, and the hooks for the kind's API quirks), the
//! reference [`Lookups`] read once per run, and the helpers kinds share.
//!
//! Diffs happen in *spec space*: the live object is turned into the shape of
//! the kind's spec (`live_to_spec`), references as org-side names, and
//! compared with the desired spec (references resolved to org-side names too).
//! So plan output, `ignoreDifferences` and export all speak the manifest's
//! field paths. Names stand for ids safely because a name that matches more
//! than one live object is an error before any diff. Where the API answers
//! in other words than were sent (a role's wildcard read back as explicit
//! actions), the kind's `align_live` hook restates the live value in the
//! declared terms just before the diff.

use serde_json::{Map, Value};

use crate::kinds::{Kind, RefTarget};

/// How objects of a kind are read and written.
#[derive(Debug, Clone, Copy)]
pub struct ApiPaths {
    /// The collection: list (GET) and create (POST).
    pub collection: &'static str,
    /// Largest page size the list endpoint accepts; `None`: the list is unpaged.
    pub page_size: Option<u32>,
    /// The list is cursor-paged (`pageSize` and `nextUri` with an `after`
    /// cursor, no page numbers): web deployments.
    pub cursor: bool,
    /// How updates are sent.
    pub update: UpdateMethod,
    /// Whether the list takes a `name` filter (fuzzy: results are matched
    /// exactly), used to look one object up after a lost create answer.
    pub name_filter: bool,
    /// Query parameters of DELETE (`forceDelete=true` for queues).
    pub delete_query: &'static [(&'static str, &'static str)],
    /// How the org default object of the kind is read and set, for kinds
    /// that have one.
    pub default: Option<OrgDefault>,
    /// Whether the kind's live objects are read with the collection's list.
    /// `false` for a kind whose live objects are made from what the read
    /// found for the declared ones ([`OrgKind::live_from_lookups`]: a
    /// user's routing profile is the user found by email), so that reading
    /// never lists a whole collection (every user) for a few.
    pub listed: bool,
    /// The top-level keys of a listed object that the kind's hooks read to
    /// plan (references recorded as lookups, counts, embedded objects),
    /// besides the fields the manifests declare and those the generic
    /// stages read ([`GENERIC_LISTED_KEYS`]). With them, a plan that needs
    /// no saved fingerprint decodes of each listed object only these
    /// ([`crate::api::EntityKeys`]); `None`: every key (the default). Only
    /// for a kind whose spec fields are read from the live keys of the same
    /// name, whose hooks read nothing else from a listed object, and whose
    /// writes read the object again rather than take the listed one
    /// (`Op::live`).
    pub listed_keys: Option<&'static [&'static str]>,
}

/// The top-level keys of a listed object the generic stages read: its id
/// (de-duplication, lookups), name (the name index, prunes, unmanaged
/// objects), division (division permissions), state (soft-deleted objects)
/// and creation date (which of two objects of one name is the older).
/// Decoded by every lean read ([`ApiPaths::entity_keys`]).
pub const GENERIC_LISTED_KEYS: [&str; 5] = ["id", "name", "division", "state", "dateCreated"];

/// An API call: method and path template.
pub type Call = (&'static str, &'static str);

/// How a kind's objects sit in divisions, for the permissions a real org
/// checks in the division of the object a request touches (see
/// [`crate::permissions::DIVISION_AWARE`] and [`OrgKind::division_scope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DivisionScope {
    /// The permission entity checked in the object's division (`routing:queue`).
    pub entity: &'static str,
    /// Where a create that names no division puts the object.
    pub default: DefaultDivision,
}

/// Where an object created without a division lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultDivision {
    /// The org's Home division (queues: API reference Summary item 16).
    Home,
    /// Every division (wrap-up codes: "If not set, * will be used to
    /// indicate all divisions"); such an object's permissions count in any
    /// division (UNVERIFIED).
    All,
}

/// The calls of a change made by the generic stages (see [`OrgKind::calls`]).
pub fn generic_calls(api: &ApiPaths, change: &crate::plan::Change, desired: &Value) -> Vec<Call> {
    use crate::plan::Action;
    let item = crate::permissions::item_template(api.collection);
    let mut calls = Vec::new();
    match change.action {
        Action::Create => calls.push(("POST", api.collection)),
        Action::Update => {
            let method = match api.update {
                UpdateMethod::Put => "PUT",
                UpdateMethod::Patch => "PATCH",
            };
            calls.extend(item.map(|i| ("GET", i)));
            calls.extend(item.map(|i| (method, i)));
        }
        Action::Delete => {
            // A prune reads the object first (`OrgKind::item_read`).
            if change.prune {
                calls.extend(item.map(|i| ("GET", i)));
            }
            calls.extend(item.map(|i| ("DELETE", i)));
        }
        Action::NoOp | Action::Grant => {}
    }
    let sets_default = desired.get("orgDefault") == Some(&Value::Bool(true))
        && change.fields.iter().any(|f| f.pointer == "/orgDefault");
    if let (true, Some(default)) = (sets_default, api.default) {
        calls.push(("PUT", default.path));
    }
    calls
}

/// A kind's org default: one object that integrations created without one
/// get. Kinds that have it take `orgDefault` in their spec; the generic
/// stages compare it (`live_spec`), set it after a create or when it
/// changes (`apply::ops`), never prune the default, and export it.
#[derive(Debug, Clone, Copy)]
pub struct OrgDefault {
    /// GET answers the default (404: none); PUT makes an object the default.
    pub path: &'static str,
    /// The key of the PUT body that carries the id (`{"id": …}`, `{"settingId": …}`).
    pub id_key: &'static str,
    /// Whether DELETE unsets the default (`orgDefault: false` on the
    /// default); where it cannot, validation rejects `orgDefault: false`.
    pub unset: bool,
}

impl ApiPaths {
    /// An unpaged collection with no name filter, no DELETE query and no default.
    pub const fn new(collection: &'static str, update: UpdateMethod) -> Self {
        ApiPaths {
            collection,
            page_size: None,
            cursor: false,
            update,
            name_filter: false,
            delete_query: &[],
            default: None,
            listed: true,
            listed_keys: None,
        }
    }

    /// A plan reads only `keys` and the declared fields of a listed object
    /// (see [`ApiPaths::listed_keys`]).
    #[must_use]
    pub const fn lean(mut self, keys: &'static [&'static str]) -> Self {
        self.listed_keys = Some(keys);
        self
    }

    /// The keys a plan decodes of a listed object that declares the
    /// top-level spec fields `declared`: those, the generic stages' and the
    /// kind's; `None`: every key (a kind without [`ApiPaths::listed_keys`]).
    pub fn entity_keys<'a>(
        &self,
        declared: impl IntoIterator<Item = &'a str>,
    ) -> Option<crate::api::EntityKeys> {
        let listed = self.listed_keys?.iter().chain(&GENERIC_LISTED_KEYS).copied();
        Some(crate::api::EntityKeys::new(listed.chain(declared)))
    }

    /// The live objects are not listed (see [`ApiPaths::listed`]).
    #[must_use]
    pub const fn not_listed(mut self) -> Self {
        self.listed = false;
        self
    }

    /// The list is paged, up to `size` objects a page.
    #[must_use]
    pub const fn paged(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// The list is cursor-paged, `size` objects a page (see [`ApiPaths::cursor`]).
    #[must_use]
    pub const fn cursor_paged(mut self, size: u32) -> Self {
        self.page_size = Some(size);
        self.cursor = true;
        self
    }

    /// Every object of the collection (all pages), with `query`.
    pub async fn list(
        &self,
        client: &crate::api::Client,
        query: &[(&str, String)],
    ) -> Result<Vec<Value>, crate::api::ApiError> {
        let listed = match self.page_size {
            Some(size) if self.cursor => client.list_cursor(self.collection, query, size).await,
            Some(size) => client.list_all(self.collection, query, size).await,
            None => client.list_unpaged(self.collection).await,
        }?;
        crate::api::with_ids(self.collection, listed)
    }

    /// [`ApiPaths::list`] of a collection expected to hold about `objects`
    /// (see [`crate::api::Client::list_expecting`]), an offset-paged
    /// collection's pages taken as `how` says.
    pub async fn list_expecting(
        &self,
        client: &crate::api::Client,
        objects: u64,
        how: crate::api::Pages<'_>,
    ) -> Result<Vec<Value>, crate::api::ApiError> {
        match self.page_size {
            Some(size) if !self.cursor => {
                let listed =
                    client.list_expecting_seen(self.collection, &[], size, objects, how).await?;
                crate::api::with_ids(self.collection, listed)
            }
            _ => self.list(client, &[]).await,
        }
    }

    /// The list takes a (fuzzy) `name` filter.
    #[must_use]
    pub const fn name_filter(mut self) -> Self {
        self.name_filter = true;
        self
    }

    /// DELETE takes these query parameters.
    #[must_use]
    pub const fn delete_query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.delete_query = query;
        self
    }

    /// The kind has an org default.
    #[must_use]
    pub const fn default(mut self, default: OrgDefault) -> Self {
        self.default = Some(default);
        self
    }

    pub fn item(&self, id: &str) -> String {
        format!("{}/{}", self.collection, id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateMethod {
    /// PUT replaces the whole object: read, merge the declared fields, write.
    Put,
    /// PATCH changes the fields sent.
    Patch,
}
mod body;
mod lookups;

pub use body::*;
pub use lookups::*;

pub use super::lenient::{compared, comparing, project, project_skipping};

/// A live object in spec space: the kind's `live_to_spec`, plus
/// `orgDefault` for kinds that have an org default.
pub fn live_spec(kind: crate::kinds::LiveKind, live: &Value, lookups: &Lookups) -> Value {
    let mut spec = kind.org().live_to_spec(live, lookups);
    if kind.org().api().default.is_some() {
        let id = live.get("id").and_then(Value::as_str);
        spec["orgDefault"] = Value::Bool(id.is_some_and(|id| lookups.is_default(kind.kind(), id)));
    }
    spec
}

/// A lookup a declared object needs beyond the lists of the kinds it
/// references (those are read anyway).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lookup {
    /// The org's divisions (names by id, and the Home division).
    Divisions,
    /// Open messaging recipients and the flows they route to.
    Recipients,
    /// The org's permission catalog (`GET /api/v2/authorization/permissions`).
    PermissionCatalog,
    /// The org's groups, by name (`GET /api/v2/groups`).
    Groups,
    /// The org's teams, by name (`GET /api/v2/teams`).
    Teams,
    /// The org's skill groups, by name (`GET /api/v2/routing/skillgroups`).
    SkillGroups,
}

/// A boxed future borrowed for `'a`: what the asynchronous hooks return.
pub type Hook<'a, T> = futures::future::BoxFuture<'a, Result<T, OpError>>;

/// How to undo what [`OrgKind::before_delete`] did, should the DELETE fail.
#[derive(Debug, Clone)]
pub struct Undo {
    /// The body of a PUT to the object that sets it as it was (`None`:
    /// nothing to put back).
    pub body: Option<Value>,
    /// Paths to POST again, without a body (a grant removed first).
    pub posts: Vec<String>,
    /// What was done, for the failure's message (`it was set inactive first`).
    pub done: &'static str,
    /// How the message says it was undone (`and is set as it was again`).
    pub undone: &'static str,
}

/// What [`OrgKind::read_details`] returns: fields to add to a live object.
pub type Details<'a> =
    futures::future::BoxFuture<'a, Result<Map<String, Value>, crate::plan::ReadError>>;

/// Everything gcctl knows about how a kind lives in the org. The generic
/// stages (read, plan, apply, drift, export) go through this trait only; a
/// kind's special API behavior is a hook here, with a default that fits the
/// plain cases.
pub trait OrgKind: Sync {
    /// Where the kind lives in the API and how it is written.
    fn api(&self) -> ApiPaths;

    /// A live API object in the shape of the kind's spec, references as org names.
    fn live_to_spec(&self, live: &Value, lookups: &Lookups) -> Value;

    /// The desired spec-shaped value: the declared spec with references
    /// already resolved to org names. Kinds that inline other manifests (an
    /// integration's webhook) or default a reference (Home division) adjust it;
    /// `manifests` indexes the object's set.
    fn desired(
        &self,
        spec: Value,
        _object: &crate::manifest::Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _lookups: &Lookups,
    ) -> Value {
        spec
    }

    /// The request body for a create (`live` is `None`) or an update. For PUT
    /// kinds the declared fields are merged into the live object's writable
    /// fields. Secrets are not included: the executor adds them when due.
    fn body(
        &self,
        desired: &Value,
        live: Option<&Value>,
        ids: &dyn IdResolver,
    ) -> Result<Value, BodyError>;

    /// Pointers of lists compared as sets (order does not matter).
    fn set_pointers(&self) -> &'static [&'static str] {
        &[]
    }

    /// Put the live spec-shaped value in the desired value's terms where the
    /// two say the same thing differently, just before they are diffed (a
    /// role's declared `routing:queue:*` against the explicit actions the
    /// API expands it into on read). Only the comparison sees the result:
    /// request bodies and export use the live value as it is.
    fn align_live(&self, _desired: &Value, _live: &mut Value, _lookups: &Lookups) {}

    /// Pointers of maps in a request body whose keys name the same thing
    /// in any ASCII case (HTTP header names): a PATCH completed with the
    /// live object's fields leaves out a live key that a declared one
    /// names in another case, so the org does not hold both.
    fn case_insensitive_maps(&self) -> &'static [&'static str] {
        &[]
    }

    /// Pointers of write-only values (secret rotation counters): shown as
    /// sensitive, never with a value.
    /// Maps of the spec whose keys are one in any letter case (a webhook's
    /// headers): an `ignoreDifferences` pointer to a key names the declared
    /// key in whatever case it is written ([`align_ignored`]).
    fn case_insensitive_spec_maps(&self) -> &'static [&'static str] {
        &[]
    }

    fn write_only_pointers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The pointer of a field that says who made what is live (a flow's or
    /// a configuration's `publishedBy`: `gcctl`, or a publish made outside
    /// it). When it is the only difference, what is live is what the
    /// manifest declares: the plan changes nothing (publishing the same
    /// content again would be noise) and notes who published it.
    ///
    /// A live object without the field (a configuration never published)
    /// is not settled by provenance: that difference stays a change.
    fn provenance_pointer(&self) -> Option<&'static str> {
        None
    }

    /// The roles a planned change gives away (an OAuth client's grants it
    /// adds): the org lets a caller grant only roles it holds, so the plan
    /// checks them against the caller ([`crate::plan::authz`]).
    fn roles_given(&self, _change: &crate::plan::Change) -> Vec<crate::plan::authz::GivenRole> {
        Vec::new()
    }

    /// The API calls a planned change makes, as `(method, path template)`,
    /// to check before any change that the caller holds the permissions
    /// they require. The default: the kind's generic create, read-merge
    /// update or delete, and setting the org default; kinds add their
    /// extra calls.
    fn calls(&self, change: &crate::plan::Change, desired: &Value) -> Vec<Call> {
        generic_calls(&self.api(), change, desired)
    }

    /// For kinds whose objects carry a `division`: which permissions are
    /// checked in the object's division, and where a create without one
    /// lands. `None` (the default): the kind's permissions count in any
    /// division.
    fn division_scope(&self) -> Option<DivisionScope> {
        None
    }

    /// Index what a live object tells about others (names embedded in its
    /// references, its recipient). Its own name is indexed by the reader,
    /// for the whole list before this is called for each object, so this
    /// never indexes the kind's own target (`RefTarget::Kind` of itself).
    fn record_live(&self, _live: &Value, _lookups: &mut Lookups) {}

    /// Whether a live object with the declared name is the declared object:
    /// the natural key beyond the name (a flow's type: flow names repeat
    /// across types). The default: the name is the whole key.
    fn matches(&self, _spec: &dyn Spec, _live: &Value) -> bool {
        true
    }

    /// The live object's natural key beyond its name, as [`OrgKind::matches`]
    /// compares it (a flow's type), for what groups live objects without a
    /// declaration (export: two flows named alike but of different types are
    /// two objects, not a shared name). Empty (the default): the name is the
    /// whole key.
    fn key_beyond_name<'v>(&self, _live: &'v Value) -> &'v str {
        ""
    }

    /// Fields whose write is a later step of the change, run once the
    /// objects their references name exist (an integration's message
    /// routing waits for the flow, which may itself wait for the queue that
    /// sends through the integration). References under these pointers do
    /// not order the change itself, only its [`OrgKind::late`] step.
    fn late_pointers(&self) -> &'static [&'static str] {
        &[]
    }

    /// Notes for the plan about the declared objects of this kind, each
    /// with the live object it matches: what gcctl deliberately leaves
    /// alone and a reader should know, said once for all the objects it
    /// concerns (a queue's membership that is not managed, say). Never a
    /// change or a problem. Default: none.
    fn plan_notes(
        &self,
        _declared: &[(&crate::manifest::Object, &Value)],
    ) -> Vec<crate::plan::PlanNote> {
        Vec::new()
    }

    /// The later step of a change to `id` (see [`OrgKind::late_pointers`]);
    /// runs after the create or update, when the planned fields include a
    /// late one (or, for a create, the desired value has one).
    fn late<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// How objects are created when it is not a plain POST to the
    /// collection (a flow is published by an import job, a deployment is
    /// waited for): the created object, and whether it was adopted (found by
    /// name after a lost answer, [`Op::create_with`]) rather than made.
    fn create<'a>(&'a self, _op: &'a Op<'a>) -> Option<Hook<'a, (Value, bool)>> {
        None
    }

    /// Whether DELETE answers 409 while the object is busy, to be retried
    /// for a short while (flows: the provider retries 409 for 30 s).
    fn delete_retry_conflicts(&self) -> bool {
        false
    }

    /// What a plan should say about a change beyond its fields (`live` is
    /// the live object with its details; `None` for a create): what the
    /// change does that its fields do not show (publishing version 4), or
    /// what a reader should know about the live object (edits in a draft
    /// nobody published), or what it cannot do (a ring number declared for
    /// an agent who is a queue's member only through a group). Shown by
    /// plan, apply and drift in every format.
    fn notes(
        &self,
        _desired: &Value,
        _live: Option<&Value>,
        _fields: &[crate::plan::FieldChange],
        _lookups: &Lookups,
    ) -> Vec<String> {
        Vec::new()
    }

    /// References this object follows beyond the name: when the plan
    /// changes the object one names, this one changes too (a deployment
    /// that uses its configuration's latest version is repointed when the
    /// configuration publishes a new one). See [`OrgKind::followed`].
    fn follows(&self, _spec: &dyn Spec) -> Vec<crate::kinds::Reference> {
        Vec::new()
    }

    /// The field changes (and notes) a planned change of the object that
    /// `reference` names makes to this one; `live_spec` is this object's
    /// live value in spec space. Called once every declared object is
    /// planned, for each of [`OrgKind::follows`].
    fn followed(
        &self,
        _live_spec: &Value,
        _reference: &crate::kinds::Reference,
        _followed: &crate::plan::Change,
    ) -> (Vec<crate::plan::FieldChange>, Vec<String>) {
        (Vec::new(), Vec::new())
    }

    /// Lookups a declared object of this kind needs.
    fn lookups_needed(&self, _spec: &dyn Spec) -> &'static [Lookup] {
        &[]
    }

    /// The live objects of a kind that is not listed ([`ApiPaths::listed`]),
    /// made from what the first read step found for the `declared` specs
    /// (their users, found by email). Each has the `id` and the `name` a
    /// declared object matches by.
    fn live_from_lookups(&self, _declared: &[&dyn Spec], _lookups: &Lookups) -> Vec<Value> {
        Vec::new()
    }

    /// Whether a live object needs reads beyond its list entity (a queue's
    /// members and wrap-up codes, a flow's published YAML, a web messaging
    /// configuration's published version): for the declared `spec`, or for
    /// an export of everything (`None`). Reads stay cheap: only the live
    /// objects that declared objects match are read this way (and, when
    /// exporting, every object of the kinds that need it).
    fn details_needed(&self, _declared: Option<&dyn Spec>) -> bool {
        false
    }

    /// Whether an export reads the details of every live object of the kind
    /// (see [`OrgKind::details_needed`]) without being asked: true for kinds
    /// whose details are part of what they are and that orgs hold few of
    /// (a web messaging configuration's published version). Other kinds'
    /// details are exported on request (`export --queue-members`).
    fn export_reads_details(&self) -> bool {
        false
    }

    /// Read those details of the live object `live`, as fields to add to it
    /// (keys outside the API's model, `gcctl:…`, so they never reach a
    /// request body); they take part in comparisons and fingerprints. A
    /// kind that can say a read failed in the plan (a flow whose YAML
    /// could not be downloaded) returns that as a field rather than an
    /// error; an error stops the read.
    /// `lookups` holds what the reads other than the kinds' lists found
    /// (users by email, divisions): the details are read as soon as the
    /// kind's own list is in, while other kinds' lists may still be in
    /// flight. Called only when [`OrgKind::details_needed`] said so.
    fn read_details<'a>(
        &'a self,
        _client: &'a crate::api::Client,
        _live: &'a Value,
        _declared: Option<&'a dyn Spec>,
        _lookups: &'a Lookups,
    ) -> Details<'a> {
        Box::pin(async { Ok(Map::new()) })
    }

    /// The live object (kind and id) whose details hold this one's (a
    /// deployment's latest configuration version is in its
    /// configuration's details): when the same read reads that object's
    /// details, this one's are made from them ([`OrgKind::details_from`])
    /// instead of being read again. Default: none.
    fn details_source(&self, _live: &Value) -> Option<(Kind, String)> {
        None
    }

    /// This object's details made from those of the object
    /// [`OrgKind::details_source`] names (`source`, with its details), as
    /// [`OrgKind::read_details`] would have read them; `None`: they cannot
    /// be, read them.
    fn details_from(&self, _live: &Value, _source: &Value) -> Option<Map<String, Value>> {
        None
    }

    /// Whether `gcctl destroy` deletes declared objects of this kind; not for
    /// kinds that only describe objects gcctl never creates (a user's
    /// routing profile: the user is not gcctl's to delete).
    fn destroyable(&self) -> bool {
        true
    }

    /// What deleting an object of this kind does beyond it, when it changes
    /// objects no manifest may declare (a wrap-up code is taken off every
    /// queue that offers it): a plan or destroy that deletes such objects says
    /// so in a note naming them, these words following `deleting KIND "NAME"
    /// takes it` (`off every queue that offers it`). `None`: nothing beyond
    /// the object.
    fn deleting_also(&self) -> Option<&'static str> {
        None
    }

    /// The GET that reads the live object `id` as its list shows it (its
    /// `name` as listed). Apply reads it right before a prune's DELETE and
    /// deletes only when the object still has the name the plan pruned it
    /// by: one renamed in the UI since the plan (out of the prune scope, to
    /// a protected name) is left alone. `None`: the kind has no such read,
    /// and its prunes go by the plan alone.
    fn item_read(&self, id: &str) -> Option<String> {
        Some(self.api().item(id))
    }

    /// Whether a listed object exists. Lists of soft-deleting kinds (routing
    /// skills and languages) keep deleted objects with `state: "deleted"`;
    /// they are not live: not matched, compared, pruned or exported.
    fn is_live(&self, _listed: &Value) -> bool {
        true
    }

    /// Objects every org has that are never pruned, reported as unmanaged
    /// or exported (built-in roles). Org defaults and gcctl's own client
    /// are recognized generically.
    fn is_builtin(&self, _live: &Value) -> bool {
        false
    }

    /// Why no manifest of the kind can declare this live object (a flow of
    /// a type `Flow` manifests do not take), or `None`. Such an object is
    /// kept like a built-in: never pruned or reported as unmanaged, its
    /// details never read; export leaves it out and says so, one warning per
    /// reason with a count.
    fn undeclarable(&self, _live: &Value) -> Option<String> {
        None
    }

    /// Whether gcctl never manages this live object, whatever the manifests
    /// say: a built-in, or one no manifest can declare. (Not meant to be
    /// overridden: the two hooks above say it.)
    fn is_kept(&self, live: &Value) -> bool {
        self.is_builtin(live) || self.undeclarable(live).is_some()
    }

    /// Problems of a declared object that only the org can tell (a
    /// permission absent from the org's catalog): `(pointer, message,
    /// hint)`, each a plan problem at that field.
    fn org_problems(
        &self,
        _spec: &dyn Spec,
        _lookups: &Lookups,
    ) -> Vec<(String, String, Option<String>)> {
        Vec::new()
    }

    /// A live object that matches a declared name but cannot be adopted
    /// (an integration whose asynchronous create failed): why, and the fix.
    fn live_problem(&self, _live: &Value) -> Option<(String, String)> {
        None
    }

    /// The request field that carries a secret resolved from the manifests,
    /// sent on create and when a write-only rotation counter changes.
    fn sent_secret_field(&self) -> Option<&'static str> {
        None
    }

    /// Resolve the secret this object sends (see [`OrgKind::sent_secret_field`]).
    /// Problems name the object, the field's location and the variable or
    /// file, never a value.
    fn resolve_sent_secret(
        &self,
        object: &crate::manifest::Object,
        _manifests: &crate::manifest::check::SetIndex<'_>,
        _env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Secret, String> {
        Err(format!("{}: the kind sends no secret", object.id()))
    }

    /// Whether the org issues a secret on create and rotation, which apply
    /// must write to `--secrets-dir`.
    fn issues_secret(&self) -> bool {
        false
    }

    /// Steps after the create call answered `created` (`adopted`: the answer
    /// was lost and the object was found by name). Returns notes to report.
    fn after_create<'a>(
        &'a self,
        _op: &'a Op<'a>,
        _created: &'a Value,
        _adopted: bool,
    ) -> Hook<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// After a create found its object made already and adopted it (its
    /// answer was lost, or an earlier run's create, kept in the journal,
    /// was not listed yet): write the declared fields, since that create
    /// may have been sent from another version of the manifest. Returns
    /// whether they were written (the apply's note says so). The default
    /// writes them as an update does ([`Op::write_fields`]); a kind whose
    /// `after_create` writes them already, or whose fields an update
    /// writes otherwise (a new version, a secret sent on create only),
    /// overrides it.
    fn write_adopted<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, bool> {
        Box::pin(async move {
            op.write_fields(id).await?;
            Ok(true)
        })
    }

    /// Update the object `id` to the desired state. The default writes the
    /// declared fields (read, merge and PUT; or PATCH).
    fn update<'a>(&'a self, op: &'a Op<'a>, id: &'a str) -> Hook<'a, Vec<String>> {
        Box::pin(async move {
            op.write_declared(id).await?;
            Ok(Vec::new())
        })
    }

    /// A hint for a DELETE of this kind the org refuses with 409 Conflict
    /// (an object still in use); `None` (the default): the org's message.
    fn delete_conflict_hint(&self) -> Option<&'static str> {
        None
    }

    /// What a person deleting an object of this kind by hand (a duplicate
    /// named in a hint) must do before the DELETE, as [`OrgKind::before_delete`]
    /// does it; `None` (the default): nothing.
    fn before_delete_by_hand(&self) -> Option<&'static str> {
        None
    }

    /// Steps before the DELETE of `id` (an OAuth client is set inactive
    /// first). Returns how to undo them, sent when the DELETE then fails
    /// (the client set as it was), so that
    /// a delete that did not happen leaves the object as it found it.
    fn before_delete<'a>(&'a self, _op: &'a Op<'a>, _id: &'a str) -> Hook<'a, Option<Undo>> {
        Box::pin(async { Ok(None) })
    }

    /// Why export leaves a live object out, known from the object alone
    /// (an integration whose webhook URL holds credentials, a flow whose
    /// YAML its details could not download); `None` (the
    /// default): it is exported. Decided before any manifest is made, so
    /// that other objects name it by its org name, not by the handle of a
    /// manifest that is not written. ([`OrgKind::export`] may still leave
    /// an object out for reasons found while making its manifest.)
    fn export_refusal(&self, _live: &Value) -> Option<String> {
        None
    }

    /// Why export cannot make this object's manifest because a read of it
    /// failed (a flow's published YAML that did not download): not a state
    /// of the org but a passing failure, so the export fails, writing
    /// nothing, instead of leaving the object out (an export missing it
    /// would read as the org without it, where a prune deletes it).
    fn export_failure(&self, _live: &Value) -> Option<String> {
        None
    }

    /// Export fix-ups of a spec-shaped live object: inline objects become
    /// manifests of their own, fields the server assigns are left out.
    /// `Err(reason)` leaves the object out of the export.
    fn export(&self, _spec: &mut Value, _cx: &mut ExportCx<'_>) -> Result<(), String> {
        Ok(())
    }

    /// Writable fields of the live object that the spec does not model
    /// ([`Unmanaged`]): an update keeps them as the org holds them, and
    /// export, which cannot write them, warns of each one an object holds
    /// (a value that is not empty, nor what the org holds when it was never
    /// set), so that nobody takes an export for a copy of everything.
    fn unmanaged_pointers(&self) -> &'static [Unmanaged] {
        &[]
    }

    /// The part of a live object that export writes from, and that the
    /// [`OrgKind::unmanaged_pointers`] point into: the object itself (the
    /// default), or the version of it that [`OrgKind::live_to_spec`] reads
    /// (a Messenger configuration's published version, else its draft).
    fn exported_part<'a>(&self, live: &'a Value) -> &'a Value {
        live
    }

    /// Why the kind is never exported (`export --kinds` refuses it, saying
    /// so); `None` (the default): it is.
    fn not_exported(&self) -> Option<&'static str> {
        None
    }

    /// What a live object of the kind refers to, by id, that its manifest
    /// names ([`OrgKind::live_to_spec`], [`OrgKind::export`], the source of
    /// its details): an export of the kind alone (`export --kinds`) lists
    /// and looks up these targets and nothing else, so that a caller allowed
    /// to read only what it exports and what that refers to can export it.
    /// A `Kind` or a flow of a type is that kind's list, a division, a
    /// recipient or a group the lookup of those; teams, skill groups and
    /// users are named from what the kind's own reads return. No default: a
    /// target left out is a reference such an export cannot name
    /// (`tests/it/export.rs` exports every kind alone and compares it with
    /// the full export).
    fn export_refers_to(&self) -> &'static [RefTarget];

    /// What the details of a live object ([`OrgKind::details_needed`])
    /// refer to beyond [`OrgKind::export_refers_to`], read only by an export
    /// that reads them (a queue's wrap-up codes, with `--queue-members`).
    fn export_details_refer_to(&self) -> &'static [RefTarget] {
        &[]
    }

    /// The `export` flag that reads the details this kind's export reads
    /// only on request (`--queue-members`), for the kinds reference.
    fn export_details_flag(&self) -> Option<&'static str> {
        None
    }
}

/// A writable field of a kind's live objects that its spec does not model
/// ([`OrgKind::unmanaged_pointers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmanaged {
    /// A JSON pointer into the live object (`*`: every index of a list).
    pub pointer: &'static str,
    /// What the org holds there when nobody set it (JSON text), if it holds
    /// anything: not worth a warning.
    pub unset: Option<&'static str>,
}

impl Unmanaged {
    /// A field that holds nothing unless someone set it.
    pub const fn field(pointer: &'static str) -> Self {
        Unmanaged { pointer, unset: None }
    }
}

/// `ignore` with each pointer to a key of one of the kind's
/// case-insensitive maps ([`OrgKind::case_insensitive_spec_maps`]) written
/// as `desired` declares that key (`/webhook/headers/x-api-version` for a
/// declared `X-Api-Version`), so that the plan's comparison, its notes and
/// an update's kept fields all find it. Other pointers are as written.
pub fn align_ignored<'a>(
    org: &dyn OrgKind,
    desired: &Value,
    ignore: &'a [String],
) -> std::borrow::Cow<'a, [String]> {
    let maps = org.case_insensitive_spec_maps();
    if maps.is_empty() || ignore.is_empty() {
        return std::borrow::Cow::Borrowed(ignore);
    }
    let aligned = |pointer: &String| -> Option<String> {
        let (map, rest) =
            maps.iter().find_map(|m| Some((*m, pointer.strip_prefix(m)?.strip_prefix('/')?)))?;
        let (token, after) = rest.split_once('/').map_or((rest, None), |(t, a)| (t, Some(a)));
        let key = crate::json_pointer::unescape(token);
        let declared = desired.pointer(map)?.as_object()?;
        let found = declared.keys().find(|k| *k != &*key && k.eq_ignore_ascii_case(&key))?;
        let escaped = crate::json_pointer::escape(found);
        Some(match after {
            Some(after) => format!("{map}/{escaped}/{after}"),
            None => format!("{map}/{escaped}"),
        })
    };
    if !ignore.iter().any(|p| aligned(p).is_some()) {
        return std::borrow::Cow::Borrowed(ignore);
    }
    std::borrow::Cow::Owned(
        ignore.iter().map(|p| aligned(p).unwrap_or_else(|| p.clone())).collect(),
    )
}

use crate::apply::ops::{Op, OpError};
use crate::export::ExportCx;
use crate::kinds::Spec;
use crate::manifest::secret::Secret;
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A spec holding `"x"` at `pointer` (`*`: the first of two items), and
    /// a name.
    fn spec_holding(pointer: &str) -> Value {
        let mut spec = json!({"name": "X"});
        let path = pointer.replace('*', "0");
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut at = &mut spec;
        for (i, part) in parts.iter().enumerate() {
            let next = match parts.get(i + 1) {
                None => json!("x"),
                Some(&"0") => json!([{}, {}]),
                Some(_) => json!({}),
            };
            at = match at {
                Value::Array(items) => &mut items[0],
                value => {
                    if value.get(*part).is_none() {
                        value[*part] = next;
                    }
                    &mut value[*part]
                }
            };
        }
        spec
    }

    /// Every kind's unmanaged fields are fields its spec does not have (a
    /// manifest naming one is refused as an unknown field), so that export
    /// warns only of what it cannot write.
    #[test]
    fn unmanaged_fields_are_not_fields_of_the_spec() {
        let mut checked = 0;
        for &kind in Kind::in_org() {
            let Some(org) = kind.org() else { continue };
            for unmanaged in org.unmanaged_pointers() {
                let spec = spec_holding(unmanaged.pointer);
                let parsed = (kind.def().parse)(crate::kinds::SpecInput::Json(spec.clone()));
                let err = parsed.map(|_| ()).expect_err(unmanaged.pointer);
                let err = err.to_string();
                assert!(
                    err.contains("unknown field"),
                    "{kind} {}: {err} in {spec}",
                    unmanaged.pointer
                );
                checked += 1;
            }
        }
        // Queues, Messenger configurations and deployments have some.
        assert!(checked >= 29, "{checked}");
    }

    #[test]
    fn projection_keeps_only_spec_fields() {
        let live = json!({
            "id": "1", "name": "Q", "selfUri": "/x", "memberCount": 3, "description": null,
            "mediaSettings": {"call": {"alertingTimeoutSeconds": 8, "mode": "x"}},
            "bullseye": {"rings": [{"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 2}], "actions": {}}]}
        });
        let spec = project::<crate::kinds::routing_queue::RoutingQueueSpec>(&live);
        assert_eq!(
            spec,
            json!({"name": "Q", "mediaSettings": {"call": {"alertingTimeoutSeconds": 8}},
                   "bullseye": {"rings": [{"expansionCriteria": [{"type": "TIMEOUT_SECONDS", "threshold": 2}]}]}})
        );
    }
}
