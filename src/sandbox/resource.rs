//! The sandbox resource: what one API object kind is, declared once.
//!
//! A kind's route file declares a [`Spec`] (collection, paths, name rule,
//! update method, list filters, order, maximum page size, server fields,
//! references) and implements [`Resource`]: the spec plus hooks for the
//! writable fields it accepts and its few quirks (side effects, delete rules,
//! extra rendering, extra routes). The generic CRUD in `routes::crud` serves
//! list, get, create, update and delete from that alone.
//!
//! Invariants:
//! - Server fields (`id`, `selfUri`, dates, `version`, [`Spec::server`]) are
//!   set only by the server; request bodies cannot set them.
//! - References are stored as `{"id": ...}` and rendered with the target's
//!   current name ([`Spec::refs`]).
//! - The registry (`routes::RESOURCES`) holds every spec; `selfUri`s and
//!   nouns in messages come from it, so a kind's path is written once.
//!
//! Adding a kind to the sandbox:
//! 1. its collection: one line in the `kinds!` list of `store.rs` (the
//!    snapshot key; existing state files load unchanged, the new collection
//!    empty);
//! 2. `routes/<kind>.rs`: a unit struct implementing [`Resource`], with the
//!    [`Spec`] (start from [`Spec::new`], override what differs) and the hooks
//!    it needs, usually only [`Resource::fields`];
//! 3. register it: `pub mod <kind>;` and one entry in `resources!` in
//!    `routes/mod.rs`; seed objects, if any, in `seed.rs`.

use axum::Router;
use serde_json::{Map, Value};

use super::auth::Caller;
use super::error::ApiResult;
use super::routes::input::Params;
use super::server::{AppState, Shared};
use super::store::{Kind, Store};

/// A JSON object: a request body, or a stored object being built.
pub type Object = Map<String, Value>;

/// How names are constrained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Unique, case-insensitively: a duplicate is 409 `conflict`. The real
    /// API's rule is UNVERIFIED (the docs never say names are unique).
    Unique,
    /// Names may repeat.
    Repeat,
}

/// How an existing object is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Read-only: list and get only (no POST, update or DELETE).
    ReadOnly,
    /// PUT replaces the writable fields: those left out are cleared.
    Put,
    /// PATCH changes only the fields given; `name_required` says whether the
    /// body must carry `name` anyway (open messaging).
    Patch { name_required: bool },
    /// Created and deleted, never changed: no PUT or PATCH (routing languages).
    Never,
}

/// The read-only `version` the server keeps, bumped by every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    None,
    /// An integer from 1 (supported content).
    Int,
    /// A decimal string from `"1"` (messaging settings).
    Str,
}

/// Listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By name (case-insensitively, then id).
    Name,
    /// By name; `sortOrder=asc|desc` is honored.
    NameSortable,
    /// By id unless `sortBy=name`; `sortOrder` is honored (flows).
    IdOrName,
}

/// A list filter (query parameter) a resource supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// `name`, case-insensitive: exact, or `abc*`, `*abc`, `*abc*` (queues).
    NameWildcard,
    /// `name`, a case-insensitive substring (the real "search term" filters
    /// are fuzzy; callers compare names exactly).
    NameContains,
    /// `id`, repeatable: only these ids.
    Ids,
    /// `id`, repeatable: only these ids, ignoring every other filter (flows,
    /// as documented).
    IdsOnly,
    /// `name`, a case-insensitive prefix ("Filter for results that start
    /// with this value": routing skills).
    NamePrefix,
    /// `(parameter, field)`: the field equals the value.
    Equals(&'static str, &'static str),
    /// `(parameter, field)`, repeatable: the `{"id"}` reference in the field
    /// is one of the values.
    Ref(&'static str, &'static str),
    /// `(parameter, field, values)`, repeatable: the field, lowercased, is
    /// one of the values, which must come from the lowercase list (flow `type`).
    OneOf(&'static str, &'static str, &'static [&'static str]),
    /// `(parameter, field)`, a boolean: `true` keeps objects whose field is a
    /// non-empty string, `false` those without it; omitted keeps all (queue
    /// `hasPeer` over `peerId`).
    Present(&'static str, &'static str),
    /// `state` (users): `active` (the default), `inactive`, `deleted`, or
    /// `any` for all.
    State,
}

/// An operation, for [`Spec::flags`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Read,
    Delete,
}

/// The declaration of a resource.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Its collection in the org.
    pub kind: Kind,
    /// The collection path (list and create), also the base of `selfUri`.
    pub path: &'static str,
    /// The route template of one object (`{path}/{xId}`; the parameter name
    /// shows in the stats).
    pub item: &'static str,
    /// What an object is called in messages ("queue").
    pub noun: &'static str,
    pub names: Names,
    pub update: Update,
    pub filters: &'static [Filter],
    pub order: Order,
    /// Largest `pageSize`; `None` for an unpaged list (OAuth clients).
    pub max_page_size: Option<u64>,
    /// Whether objects carry `dateCreated` / `dateModified`.
    pub dates: bool,
    pub version: Version,
    /// Further server fields a PUT keeps (counters, built-in markers).
    pub server: &'static [&'static str],
    /// References rendered as `{id, name, selfUri}`: (field, target kind);
    /// a dotted field names a nested reference.
    pub refs: &'static [(&'static str, Kind)],
    /// Boolean query parameters the real API takes that change nothing
    /// here: validated (400 naming them) and otherwise ignored.
    pub flags: &'static [(Op, &'static str)],
    /// DELETE keeps the object with `state: "deleted"` (routing skills and
    /// languages): GET by id and lists still show it, writes answer 404, and
    /// its name is free again.
    pub soft_delete: bool,
    /// For objects that carry a `division`: the permission entity
    /// (`routing:queue`) whose permissions are checked in the object's
    /// division rather than in any (see `authz`); `None` for the others.
    pub division: Option<&'static str>,
}

impl Spec {
    /// A read-only kind listed by name, paged up to 100, with dates and no
    /// filters; declarations override what differs.
    pub const fn new(
        kind: Kind,
        path: &'static str,
        item: &'static str,
        noun: &'static str,
    ) -> Spec {
        Spec {
            kind,
            path,
            item,
            noun,
            names: Names::Repeat,
            update: Update::ReadOnly,
            filters: &[],
            order: Order::Name,
            max_page_size: Some(100),
            dates: true,
            version: Version::None,
            server: &[],
            refs: &[],
            flags: &[],
            soft_delete: false,
            division: None,
        }
    }
}

/// A write being applied, for [`Resource::on_write`].
pub struct Write<'a> {
    pub store: &'a mut Store,
    /// Who makes the request.
    pub caller: &'a Caller,
    pub id: &'a str,
    pub body: &'a Object,
    /// The object before an update (`None` for a create).
    pub old: Option<&'a Value>,
    /// True for a create, false for an update.
    pub created: bool,
}

/// A sandbox resource: its declaration and its quirks. Every hook has a
/// default, so a plain kind is its [`Spec`] plus [`Resource::fields`].
pub trait Resource: Send + Sync + 'static {
    const SPEC: Spec;

    /// The writable fields of a create, PUT or PATCH body other than `name`,
    /// checked (errors name the field) and normalized as stored. `old` is the
    /// current object on updates; for PATCH return only the fields given.
    fn fields(_store: &Store, _body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        Ok(Map::new())
    }

    /// Called before a created or updated object is stored: server fields and
    /// side effects (a recipient, a hashed secret). Returns values shown only
    /// in this answer (a write-only secret).
    fn on_write(_write: &mut Write<'_>, _object: &mut Object) -> ApiResult<Object> {
        Ok(Map::new())
    }

    /// Refuse a delete (an org default, an object in use).
    fn check_delete(_store: &Store, _state: &AppState, _object: &Value) -> ApiResult<()> {
        Ok(())
    }

    /// Side effects of a delete (its write-only secret is removed already).
    fn deleted(_store: &mut Store, _object: &Value) {}

    /// The top-level fields [`Resource::decorate`] reads or writes, when it
    /// touches no other: a list page then renders each object as a view of
    /// the stored one, only those fields and the references rendered apart
    /// (`routes::view`), instead of a copy of all of it. `None` (the
    /// default): a copy. Debug builds check that both render alike.
    ///
    /// Such a resource's pages must render from the store and the query
    /// alone (no clock, knob or caller): an unfiltered page is kept as
    /// written, and answered again until the store is next written
    /// (`sandbox::pages`; debug builds render it again and compare).
    const DECORATED: Option<&'static [&'static str]> = None;

    /// Extra rendering after references are resolved; `fresh` is true in the
    /// answer to the create.
    fn decorate(
        _store: &Store,
        _state: &AppState,
        _out: &mut Value,
        _params: &Params,
        _fresh: bool,
    ) {
    }

    /// The resource's routes: the generic CRUD, plus any quirk routes.
    fn routes() -> Router<Shared>
    where
        Self: Sized,
    {
        super::routes::crud::routes::<Self>()
    }
}
