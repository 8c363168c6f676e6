//! Routing languages: `/api/v2/routing/languages` (API reference §i).
//!
//! - POST takes `Language` `{name}`; there is no update at all (no PUT or
//!   PATCH in the reference; the provider makes `name` `ForceNew`).
//! - Soft delete, as for skills: DELETE leaves the language with `state:
//!   "deleted"`, still shown by GET and lists (the provider drops such list
//!   entries: TF `routing_language/…`), writes answer 404, its name is free
//!   again; it is dropped from users' routing languages.
//! - The list takes `name` (fuzzy here: a case-insensitive substring; the
//!   reference only says "Name") and `id`; sorted by name; pageSize up to
//!   100 (the provider lists with 100; the maximum is UNVERIFIED). Reading
//!   languages requires no permission (.NET docs).
//! - Names are unique among languages not deleted, case-insensitively (409,
//!   UNVERIFIED). `Language` has `dateModified`, `state` and a string
//!   `version`, no `dateCreated`.

use serde_json::{Map, Value, json};

use crate::sandbox::common::now;
use crate::sandbox::error::ApiResult;
use crate::sandbox::resource::{Filter, Names, Object, Resource, Spec, Update, Version, Write};
use crate::sandbox::store::{Kind, Store};

pub struct Languages;

impl Resource for Languages {
    const SPEC: Spec = Spec {
        names: Names::Unique,
        update: Update::Never,
        filters: &[Filter::NameContains, Filter::Ids],
        dates: false,
        version: Version::Str,
        soft_delete: true,
        ..Spec::new(
            Kind::Languages,
            "/api/v2/routing/languages",
            "/api/v2/routing/languages/{languageId}",
            "language",
        )
    };

    fn on_write(_write: &mut Write<'_>, language: &mut Object) -> ApiResult<Object> {
        language.insert("state".into(), json!("active"));
        language.insert("dateModified".into(), json!(now()));
        Ok(Map::new())
    }

    fn deleted(store: &mut Store, language: &Value) {
        let Some(language) = language.get("id").and_then(Value::as_str) else { return };
        super::user_routing::forget(store, Kind::UserLanguages, language);
    }

    fn fields(_store: &Store, _body: &Object, _old: Option<&Value>) -> ApiResult<Object> {
        Ok(Map::new())
    }
}
