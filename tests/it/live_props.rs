//! Property tests: no live object a server could send makes a kind panic,
//! nor an export of it.
//!
//! What the org answers is untrusted input (see `gcctl::api::untrusted`):
//! every kind reads it when it records lookups, decides whether an object is
//! live or built in, turns it into its spec (plans, drift and export all do)
//! and aligns it with a declared spec. The objects here use the field names
//! a kind knows (its spec schema's, and the live fields the kinds read) with
//! values of every JSON type at every depth, so that a field of the wrong
//! type, a reference that is a string or a list, or an object where a name
//! belongs all reach the code that reads them.

use std::collections::BTreeSet;

use gcctl::export::{self, ExportInput, ExportOptions};
use gcctl::kinds::org::{Lookups, comparing, live_spec};
use gcctl::kinds::{LiveKind, RefTarget};
use gcctl::plan::LiveOrg;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Live fields the kinds read that no spec names (ids, references,
/// sub-resources, versions, a flow's jobs).
const LIVE_FIELDS: [&str; 48] = [
    "id",
    "name",
    "division",
    "selfUri",
    "state",
    "version",
    "description",
    "members",
    "memberCount",
    "userMemberCount",
    "memberGroups",
    "wrapupCodes",
    "ringNumber",
    "outboundMessagingAddresses",
    "openMessagingRecipient",
    "recipient",
    "configuration",
    "supportedContent",
    "messagingSetting",
    "webhookHeaders",
    "outboundNotificationWebhookUrl",
    "permissionPolicies",
    "domain",
    "entityName",
    "actionSet",
    "type",
    "flow",
    "inboundFlow",
    "queueFlow",
    "emailInQueueFlow",
    "messageInQueueFlow",
    "publishedVersion",
    "publishedBy",
    "datePublished",
    "definition",
    "status",
    "authorizedGrantType",
    "roleDivisions",
    "allowAllDomains",
    "allowedDomains",
    "createdBy",
    "dateCreated",
    "system",
    "default",
    "proficiency",
    "email",
    "skills",
    "languages",
];

/// Every property name in `schema`, at any depth (definitions included).
fn property_names(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                out.extend(properties.keys().cloned());
            }
            map.values().for_each(|v| property_names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, out)),
        _ => {}
    }
}

/// The field names a live object of `kind` is made of.
fn vocabulary(kind: LiveKind) -> Vec<String> {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = (kind.kind().def().schema)(&mut generator);
    let mut names = BTreeSet::new();
    property_names(&serde_json::to_value(&schema).unwrap_or_default(), &mut names);
    property_names(&serde_json::to_value(generator.definitions()).unwrap_or_default(), &mut names);
    names.extend(LIVE_FIELDS.iter().map(|f| (*f).to_string()));
    names.into_iter().collect()
}

/// Any JSON value whose objects use the names of `words`.
fn value(words: Vec<String>) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[a-zA-Z0-9 ._:/-]{0,12}".prop_map(Value::String),
        prop::sample::select(words.clone()).prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(words.clone()), inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A live object of one of the kinds: the kind's index and the object.
fn live_object() -> impl Strategy<Value = (usize, Value)> {
    let kinds: Vec<LiveKind> = LiveKind::all().collect();
    (0..kinds.len()).prop_flat_map(move |index| {
        let words = vocabulary(kinds[index]);
        let entries = (prop::sample::select(words.clone()), value(words));
        prop::collection::vec(entries, 0..16).prop_map(move |entries| {
            (index, Value::Object(entries.into_iter().collect::<Map<_, _>>()))
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_live_object_makes_a_kind_panic((index, live) in live_object(), declared in 0usize..8) {
        let kind = LiveKind::all().nth(index).unwrap();
        let org = kind.org();
        let _ = org.is_live(&live);
        let _ = org.is_builtin(&live);
        let _ = org.live_problem(&live);
        let _ = org.details_from(&live, &live);
        let mut lookups = Lookups::default();
        lookups.insert_listed(RefTarget::Kind(kind.kind()), std::slice::from_ref(&live));
        org.record_live(&live, &mut lookups);
        // As export and drift see it, then as a plan that declares some of
        // its fields does.
        let whole = live_spec(kind, &live, &lookups);
        let some: Map<String, Value> = whole
            .as_object()
            .into_iter()
            .flatten()
            .take(declared)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let some = Value::Object(some);
        let mut compared = comparing(&some, || live_spec(kind, &live, &lookups));
        org.align_live(&some, &mut compared, &lookups);
        let mut again = whole.clone();
        org.align_live(&whole, &mut again, &lookups);
    }
}

/// A list of one kind's live objects, each with an id and a name (a few
/// names, so that some are shared), the rest as in [`live_object`].
fn live_list() -> impl Strategy<Value = (usize, Vec<Value>)> {
    let names = prop::sample::select(vec!["Sales", "sales", "Support", "Billing 1", "x: y", "é"]);
    let objects = prop::collection::vec((live_object(), names), 0..6);
    (0..LiveKind::all().count(), objects).prop_map(|(index, objects)| {
        let list = objects
            .into_iter()
            .enumerate()
            .map(|(i, ((_, mut live), name))| {
                if let Some(map) = live.as_object_mut() {
                    map.insert("id".into(), Value::String(format!("id-{i}")));
                    map.insert("name".into(), Value::String(name.to_string()));
                }
                live
            })
            .collect();
        (index, list)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The export's whole way from listed objects to checked files: the
    /// lookups recorded as a read records them, the objects chosen and
    /// built, the files laid out and written as a stream, and checked as
    /// `gcctl validate` would (which may find problems: an export reports
    /// them, it does not panic on them).
    #[test]
    fn no_live_object_makes_an_export_panic((index, list) in live_list()) {
        let kind = LiveKind::all().nth(index).unwrap();
        let mut live = LiveOrg::default();
        live.lookups.insert_listed(RefTarget::Kind(kind.kind()), &list);
        for object in &list {
            kind.org().record_live(object, &mut live.lookups);
        }
        live.objects.insert(kind.kind(), list);
        let built = export::build(ExportInput::from(live), &ExportOptions::default());
        let files = export::files(&built);
        let _ = export::stream(&built);
        if let Err(diagnostics) = export::check(&files) {
            prop_assert!(diagnostics.iter().all(|d| !d.message.is_empty()));
        }
    }
}
