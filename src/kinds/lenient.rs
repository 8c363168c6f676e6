//! A live API object read through a spec type: [`project`] deserializes the
//! API's JSON into the kind's typed spec, so what survives is exactly what
//! the type declares. Read-only and unmanaged fields (ids, dates, counters,
//! nested fields the spec does not model) are dropped by the type, at
//! compile time, at every depth; no schema is interpreted at run time.
//!
//! The deserializer is lenient where a strict one would lose the object:
//! unknown fields are skipped (the spec types deny them in manifests), nulls
//! mean absent, and a value that does not fit its field (an enum value newer
//! than gcctl, a float where the spec has an integer) is read as a
//! placeholder and put back verbatim after serialization, so plans show
//! what the server really holds. Only a required field missing from the live
//! object fails the typed read; then the top-level declared fields are kept
//! as they are (still spec-shaped at the top, which is what the diff walks).

use std::cell::RefCell;
use std::rc::Rc;

use serde::de::value::Error;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::{Deserializer, Serialize};
use serde_json::{Map, Value};

use super::org::tidy;

/// The live object `live` as the spec type `T` sees it.
///
/// Inside [`comparing`], only the top-level fields the comparison declares
/// are read: `T` must be the spec type whose root `live` is (as every kind's
/// `live_to_spec` projects), not a part of it.
pub fn project<T: DeserializeOwned + Serialize>(live: &Value) -> Value {
    project_skipping::<T>(live, &[])
}

thread_local! {
    /// The top-level fields a comparison on this thread reads
    /// ([`comparing`]); `None`: every field.
    static COMPARED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    /// The field list of this thread's last comparison, kept for the next
    /// one to fill: its strings' room is reused instead of allocated per
    /// object (a plan compares every declared object, 50,000 in a large one).
    static SPARE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` (a live object's `live_to_spec`) with the projections it makes
/// on this thread reading only the top-level fields of `declared`, the
/// spec-shaped value it is compared with: the diff walks the declared value
/// (`plan::diff`), so a field the manifest leaves out is never looked at,
/// and projecting every field (a queue's media settings, routing rules,
/// bullseye rings...) to compare three was most of a plan's comparison. A
/// declared field projects exactly as it would with the others: a spec
/// type's fields are read independently (no `flatten`, no aliases in the
/// spec types), and a projection that fails this way (a required field
/// left out, which a manifest cannot do) is made again with every field.
pub fn comparing<R>(declared: &Value, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Vec<String>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let ours = COMPARED.with(|c| {
                c.try_borrow_mut().ok().and_then(|mut c| std::mem::replace(&mut *c, previous))
            });
            if let Some(ours) = ours {
                SPARE.with(|spare| {
                    if let Ok(mut spare) = spare.try_borrow_mut() {
                        *spare = ours;
                    }
                });
            }
        }
    }
    let Some(declared) = declared.as_object() else { return f() };
    let mut fields = SPARE.with(|spare| {
        spare.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)).unwrap_or_default()
    });
    fields.resize_with(declared.len(), String::new);
    for (field, key) in fields.iter_mut().zip(declared.keys()) {
        field.clear();
        field.push_str(key);
    }
    // Not inside a projection (where the set is borrowed): then unrestricted.
    let previous = COMPARED.with(|c| c.try_borrow_mut().map(|mut c| c.replace(fields)));
    let Ok(previous) = previous else { return f() };
    let _restore = Restore(previous);
    f()
}

/// Whether a live object's top-level `field` is read by the projection
/// being made: always, but inside [`comparing`], where only the declared
/// fields are. A kind's `live_to_spec` asks before translating a field
/// [`project_skipping`] left to it (a reference named through the lookups,
/// a queue's members), so that a plan of three fields does not name a
/// queue's flows, recipient and members only for the diff to pass over
/// them.
pub fn compared(field: &str) -> bool {
    COMPARED.with(|c| match c.try_borrow() {
        Ok(only) => only.as_ref().is_none_or(|fields| fields.iter().any(|f| f == field)),
        // Inside a projection on this thread (which does not call back
        // here): unrestricted, as there.
        Err(_) => true,
    })
}

/// [`project`], leaving out the top-level fields `skip`: those a kind
/// translates itself (a queue's `division`, an object the spec names by a
/// string), which would otherwise be read as misfits and copied, object by
/// object, only to be replaced. Only optional fields may be skipped.
pub fn project_skipping<T: DeserializeOwned + Serialize>(live: &Value, skip: &[&str]) -> Value {
    let compared = COMPARED.with(|c| {
        let only = c.try_borrow().ok()?;
        typed::<T>(live, skip, Some(only.as_deref()?)).ok()
    });
    let mut out = match compared {
        Some(value) => value,
        None => typed::<T>(live, skip, None).unwrap_or_else(|fields| top_level(live, fields, skip)),
    };
    tidy(&mut out);
    out
}

/// The steps [`typed`] makes room for at first: those of a whole
/// configured queue (some 100 values), or of a comparison's few declared
/// fields. One allocation, not a doubling every few fields.
const STEPS_ROOM: (usize, usize) = (128, 16);

/// `live` read as `T` and written back, misfits put back; the root struct's
/// fields when it cannot be read. With `only`, the root's other fields are
/// left out.
fn typed<T: DeserializeOwned + Serialize>(
    live: &Value,
    skip: &[&str],
    only: Option<&[String]>,
) -> Result<Value, &'static [&'static str]> {
    let odd = RefCell::new(Vec::new());
    let root_fields = RefCell::new(None);
    let root = Root { fields: &root_fields, only };
    let steps_room = if only.is_some() { STEPS_ROOM.1 } else { STEPS_ROOM.0 };
    let steps = RefCell::new(Vec::with_capacity(steps_room));
    let reader =
        Lenient { value: live, at: None, steps: &steps, odd: &odd, root: Some(root), skip };
    match T::deserialize(reader).map(|typed| serde_json::to_value(typed)) {
        Ok(Ok(mut value)) => {
            for (pointer, original) in odd.into_inner() {
                set_pointer(&mut value, &pointer, original);
            }
            Ok(value)
        }
        _ => Err(root_fields.into_inner().unwrap_or_default()),
    }
}

/// The declared top-level fields of `live` but `skip`, as they are.
fn top_level(live: &Value, fields: &[&str], skip: &[&str]) -> Value {
    let map: Map<String, Value> = live
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| fields.contains(&k.as_str()) && !skip.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(map)
}

/// Put `value` at `pointer`, making the objects on the way.
fn set_pointer(target: &mut Value, pointer: &str, value: Value) {
    if pointer.is_empty() {
        *target = value;
        return;
    }
    let mut current = target;
    let tokens: Vec<String> =
        pointer.split('/').skip(1).map(|t| crate::json_pointer::unescape(t).into_owned()).collect();
    for (i, token) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        let next = match current {
            Value::Array(items) => match token.parse::<usize>().ok().filter(|n| *n < items.len()) {
                Some(n) => &mut items[n],
                None => return,
            },
            other => {
                if !other.is_object() {
                    *other = Value::Object(Map::new());
                }
                let Some(map) = other.as_object_mut() else { return };
                map.entry(token.clone()).or_insert(Value::Null)
            }
        };
        if last {
            *next = value;
            return;
        }
        current = next;
    }
}

/// What only the root reader has.
#[derive(Clone, Copy)]
struct Root<'a> {
    /// Where the root struct's field names go (for the fallback).
    fields: &'a RefCell<Option<&'static [&'static str]>>,
    /// The only top-level fields read ([`comparing`]).
    only: Option<&'a [String]>,
}

/// One step from a reader to a child: a key of an object, an index of an
/// array.
#[derive(Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Every reader's step from its parent (by its position here), for one
/// typed read: where a value is in the whole object is only needed for a
/// misfit, so it is found then. Building a path string for every field read
/// was an allocation each, for the hundreds of thousands an export reads.
type Steps<'a> = RefCell<Vec<(Option<usize>, Step<'a>)>>;

/// Reads one JSON value for a typed visitor, leniently.
struct Lenient<'a> {
    value: &'a Value,
    /// This reader's step in `steps`; `None` for the root.
    at: Option<usize>,
    steps: &'a Steps<'a>,
    /// Values that did not fit their field: put back after serialization.
    odd: &'a RefCell<Vec<(String, Value)>>,
    /// The root's: where its struct's field names go (for the fallback) and
    /// which of its fields are read.
    root: Option<Root<'a>>,
    /// Fields left out (the root's, see [`project_skipping`]; none below).
    skip: &'a [&'a str],
}

impl<'a> Lenient<'a> {
    fn child(&self, value: &'a Value, step: Step<'a>) -> Lenient<'a> {
        let mut steps = self.steps.borrow_mut();
        steps.push((self.at, step));
        let at = Some(steps.len() - 1);
        Lenient { value, at, steps: self.steps, odd: self.odd, root: None, skip: &[] }
    }

    /// The JSON pointer of this reader's value in the whole object.
    fn path(&self) -> String {
        let steps = self.steps.borrow();
        let mut chain = Vec::new();
        let mut at = self.at;
        while let Some((parent, step)) = at.and_then(|i| steps.get(i)) {
            chain.push(*step);
            at = *parent;
        }
        let mut path = String::new();
        for step in chain.into_iter().rev() {
            match step {
                Step::Key(key) => crate::json_pointer::push_token(&mut path, key),
                Step::Index(i) => crate::json_pointer::push_token(&mut path, &i.to_string()),
            }
        }
        path
    }

    /// Remember that the value at this path did not fit its field.
    fn misfit(&self) {
        let path = self.path();
        self.odd.borrow_mut().push((path, self.value.clone()));
    }

    /// The entries of an object, but nulls, skipped fields and, for a
    /// struct, keys that are none of its `fields`: read one by one as the
    /// visitor asks (an export reads a hundred thousand objects; collecting
    /// each one's entries first was an allocation each).
    fn entries(&self, fields: Option<&'static [&'static str]>) -> Entries<'a> {
        let source = match (self.value, self.root.and_then(|root| root.only)) {
            // A few declared fields, looked up: not every live field, filtered.
            (Value::Object(map), Some(only)) => Source::Only(only.iter(), map),
            (Value::Object(map), None) => Source::All(map.iter()),
            _ => Source::Empty,
        };
        Entries {
            source,
            fields: fields.map(field_set),
            skip: self.skip,
            parent: Lenient { root: None, skip: &[], ..*self },
            pending: None,
        }
    }

    /// The items of an array (none for anything else), each read as the
    /// visitor asks, with their count told ahead so that a list is
    /// allocated once.
    fn items(&self) -> Items<'a> {
        let items = match self.value {
            Value::Array(items) => items.as_slice(),
            _ => &[],
        };
        Items {
            items: items.iter().enumerate(),
            parent: Lenient { root: None, skip: &[], ..*self },
        }
    }
}

/// The set of a struct's `fields`. A live object has a few dozen keys and
/// a spec struct a few dozen fields: searching the field list for every key
/// took a third of a projection. Each field list is a static that serde
/// derives once per struct, so its set is made once per thread, found by the
/// list's address and length.
fn field_set(fields: &'static [&'static str]) -> Rc<crate::FastSet<&'static str>> {
    type Sets = crate::FastMap<(usize, usize), Rc<crate::FastSet<&'static str>>>;
    thread_local! {
        static SETS: RefCell<Sets> = RefCell::default();
    }
    let set = || Rc::new(fields.iter().copied().collect());
    SETS.with(|sets| match sets.try_borrow_mut() {
        Ok(mut sets) => {
            Rc::clone(sets.entry((fields.as_ptr() as usize, fields.len())).or_insert_with(set))
        }
        // Not reached (nothing here comes back); a set of its own if it did.
        Err(_) => set(),
    })
}

/// Where an object's entries come from: every live key, or only the
/// declared ones ([`comparing`]).
enum Source<'a> {
    All(serde_json::map::Iter<'a>),
    Only(std::slice::Iter<'a, String>, &'a Map<String, Value>),
    Empty,
}

impl<'a> Iterator for Source<'a> {
    type Item = (&'a String, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Source::All(entries) => entries.next(),
            Source::Only(keys, map) => keys.find_map(|key| map.get_key_value(key.as_str())),
            Source::Empty => None,
        }
    }
}

struct Entries<'a> {
    source: Source<'a>,
    /// The struct's fields; `None`: a map, every key.
    fields: Option<Rc<crate::FastSet<&'static str>>>,
    /// Keys left out (the root's, see [`project_skipping`]).
    skip: &'a [&'a str],
    /// The object's reader, for its children.
    parent: Lenient<'a>,
    pending: Option<Lenient<'a>>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let fields = self.fields.as_deref();
        let skip = self.skip;
        let read = |(k, v): &(&String, &Value)| {
            !v.is_null()
                && fields.is_none_or(|f| f.contains(k.as_str()))
                && !skip.contains(&k.as_str())
        };
        let Some((key, value)) = self.source.find(read) else { return Ok(None) };
        self.pending = Some(self.parent.child(value, Step::Key(key)));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.pending.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value without a key")),
        }
    }
}

struct Items<'a> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Value>>,
    /// The array's reader, for its items.
    parent: Lenient<'a>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some((index, item)) = self.items.next() else { return Ok(None) };
        seed.deserialize(self.parent.child(item, Step::Index(index))).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A primitive that must fit, or is read as `$placeholder` and put back later.
macro_rules! primitive {
    ($($method:ident => $get:ident, $visit:ident, $placeholder:expr;)+) => {
        $(fn $method<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.value.$get() {
                Some(v) => visitor.$visit(v),
                None => {
                    self.misfit();
                    visitor.$visit($placeholder)
                }
            }
        })+
    };
}

impl<'de> Deserializer<'de> for Lenient<'de> {
    type Error = Error;

    fn deserialize_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (_, Some(i), _) => visitor.visit_i64(i),
                (_, _, f) => visitor.visit_f64(f.unwrap_or_default()),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(_) => visitor.visit_seq(self.items()),
            Value::Object(_) => visitor.visit_map(self.entries(None)),
        }
    }

    primitive! {
        deserialize_bool => as_bool, visit_bool, false;
        deserialize_i64 => as_i64, visit_i64, 0;
        deserialize_u64 => as_u64, visit_u64, 0;
        deserialize_f64 => as_f64, visit_f64, 0.0;
        deserialize_str => as_str, visit_borrowed_str, "";
    }

    fn deserialize_i8<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i16<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_i32<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_i64(visitor)
    }
    fn deserialize_u8<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_u16<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_u32<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }
    fn deserialize_f32<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }
    fn deserialize_string<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }
    fn deserialize_char<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }
    fn deserialize_byte_buf<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.value.is_null() { visitor.visit_none() } else { visitor.visit_some(self) }
    }

    fn deserialize_unit<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
    fn deserialize_unit_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
    fn deserialize_newtype_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !self.value.is_array() {
            self.misfit();
        }
        visitor.visit_seq(self.items())
    }
    fn deserialize_tuple<V: de::Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }
    fn deserialize_tuple_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !self.value.is_object() {
            self.misfit();
        }
        visitor.visit_map(self.entries(None))
    }

    fn deserialize_struct<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if let Some(root) = self.root {
            *root.fields.borrow_mut() = Some(fields);
        }
        if !self.value.is_object() {
            self.misfit();
        }
        visitor.visit_map(self.entries(Some(fields)))
    }

    fn deserialize_enum<V: de::Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        // Unit variants only (the API's enums are strings).
        let known = self.value.as_str().and_then(|s| variants.iter().find(|v| **v == s));
        let variant = match known {
            Some(variant) => *variant,
            None => {
                self.misfit();
                variants.first().copied().unwrap_or_default()
            }
        };
        visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(variant))
    }

    fn deserialize_identifier<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Spec {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<Mode>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        items: Option<Vec<Item>>,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        threshold: f64,
    }

    #[derive(Debug, Serialize, Deserialize)]
    enum Mode {
        #[serde(rename = "A")]
        A,
        #[serde(rename = "B")]
        B,
    }

    #[test]
    fn unknown_fields_go_at_every_depth_and_nulls_are_absent() {
        let live = json!({
            "id": "1", "name": "Q", "selfUri": "/x", "count": null, "mode": "B",
            "items": [{"threshold": 2, "extra": true}, {"threshold": 0.5}],
        });
        assert_eq!(
            project::<Spec>(&live),
            json!({"name": "Q", "mode": "B", "items": [{"threshold": 2}, {"threshold": 0.5}]})
        );
    }

    #[test]
    fn values_that_do_not_fit_are_kept_as_the_server_says() {
        let live = json!({"name": "Q", "count": 2.5, "mode": "NEWER", "items": "oops"});
        assert_eq!(
            project::<Spec>(&live),
            json!({"name": "Q", "count": 2.5, "mode": "NEWER", "items": "oops"})
        );
    }

    #[test]
    fn misfits_inside_lists_go_back_to_their_item_at_every_depth() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Grid {
            rows: Vec<Vec<Mode>>,
        }
        let live = json!({"name": "Q", "items": [{"threshold": 0.5}, {"threshold": "high"}]});
        assert_eq!(project::<Spec>(&live), live);
        let live = json!({"rows": [["A"], ["B", "ODD", "A"], [], ["NEWER"]]});
        assert_eq!(project::<Grid>(&live), live);
    }

    #[test]
    fn misfits_under_keys_with_slashes_and_tildes_go_back_where_they_were() {
        #[derive(Debug, Serialize, Deserialize)]
        struct Labels {
            labels: std::collections::BTreeMap<String, Mode>,
        }
        let live = json!({"labels": {"a/b": "NEWER", "c~d": "A", "e": "ODD"}});
        assert_eq!(
            project::<Labels>(&live),
            json!({"labels": {"a/b": "NEWER", "c~d": "A", "e": "ODD"}})
        );
    }

    #[test]
    fn skipped_top_level_fields_are_left_out_and_never_misfits() {
        let live = json!({"name": "Q", "mode": {"id": "x"}, "items": [{"threshold": 1.5}]});
        let projected = project_skipping::<Spec>(&live, &["mode"]);
        assert_eq!(projected, json!({"name": "Q", "items": [{"threshold": 1.5}]}));
        // Without the skip, the object that does not fit comes back verbatim.
        assert_eq!(project::<Spec>(&live)["mode"], json!({"id": "x"}));
    }

    #[test]
    fn a_comparison_projects_only_the_declared_fields() {
        let live = json!({"name": "Q", "count": 2.5, "mode": "B", "items": [{"threshold": 1}]});
        let declared = json!({"name": "Q", "mode": "A"});
        let projected = comparing(&declared, || project::<Spec>(&live));
        assert_eq!(projected, json!({"name": "Q", "mode": "B"}));
        // Only inside: the next projection reads every field again.
        assert_eq!(
            project::<Spec>(&live),
            json!({"name": "Q", "count": 2.5, "mode": "B", "items": [{"threshold": 1}]})
        );
    }

    #[test]
    fn a_comparison_without_a_required_field_projects_everything() {
        // `name` is required: read without it, the spec type would fail, so
        // the projection is made as outside a comparison.
        let live = json!({"name": "Q", "count": 3, "mode": "ODD"});
        let projected = comparing(&json!({"count": 1}), || project::<Spec>(&live));
        assert_eq!(projected, project::<Spec>(&live));
    }

    #[test]
    fn nested_comparisons_restore_what_was_there() {
        let live = json!({"name": "Q", "count": 3, "mode": "A"});
        let outer = json!({"name": "Q", "count": 1});
        let (inner, after) = comparing(&outer, || {
            let inner = comparing(&json!({"name": "Q"}), || project::<Spec>(&live));
            (inner, project::<Spec>(&live))
        });
        assert_eq!(inner, json!({"name": "Q"}));
        assert_eq!(after, json!({"name": "Q", "count": 3}));
    }

    fn live_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<i32>().prop_map(|i| json!(i)),
            (-4.0..4.0_f64).prop_map(|f| json!(f)),
            prop::sample::select(vec!["A", "B", "NEWER", "Q"]).prop_map(|s| json!(s)),
        ];
        let item = prop_oneof![
            scalar.clone().prop_map(|t| json!({"threshold": t})),
            scalar.clone().prop_map(|t| json!({"threshold": t, "extra": 1})),
            scalar.clone(),
        ];
        let items =
            prop_oneof![prop::collection::vec(item, 0..3).prop_map(Value::Array), scalar.clone()];
        let fields = (
            prop::option::of(scalar.clone()),
            prop::option::of(scalar.clone()),
            prop::option::of(scalar),
            prop::option::of(items),
            any::<bool>(),
        );
        fields.prop_map(|(name, count, mode, items, id)| {
            let mut live = serde_json::Map::new();
            for (key, value) in [("name", name), ("count", count), ("mode", mode), ("items", items)]
            {
                if let Some(value) = value {
                    live.insert(key.to_string(), value);
                }
            }
            if id {
                live.insert("id".into(), json!("x"));
            }
            Value::Object(live)
        })
    }

    proptest::proptest! {
        /// Whatever the live object, a comparison's projection holds each
        /// declared field exactly as the full projection does: the diff,
        /// which reads only declared fields, cannot tell them apart.
        #[test]
        fn a_comparison_sees_each_declared_field_as_the_full_projection(
            live in live_value(),
            declared in proptest::sample::subsequence(vec!["name", "count", "mode", "items", "id"], 0..=5),
        ) {
            let declared: serde_json::Map<String, Value> =
                declared.into_iter().map(|k| (k.to_string(), json!(1))).collect();
            let full = project::<Spec>(&live);
            let compared = comparing(&Value::Object(declared.clone()), || project::<Spec>(&live));
            for key in declared.keys() {
                proptest::prop_assert_eq!(compared.get(key), full.get(key), "{}: {} vs {}", key, compared, full);
            }
        }
    }

    #[test]
    fn a_missing_required_field_keeps_the_declared_top_level_fields() {
        let live = json!({"name": "Q", "id": "1", "items": [{"extra": 1}]});
        assert_eq!(project::<Spec>(&live), json!({"name": "Q", "items": [{"extra": 1}]}));
    }

    /// Each comparison reads its own declared fields, whatever the one
    /// before it on the thread declared (its list's strings are reused),
    /// nested ones included; outside any, every field is read.
    #[test]
    fn each_comparison_reads_its_own_declared_fields() {
        let seen =
            |declared: Value| comparing(&declared, || ["name", "count", "mode"].map(compared));
        assert_eq!(seen(json!({"name": 1, "count": 2, "mode": 3})), [true, true, true]);
        assert_eq!(seen(json!({"mode": 3})), [false, false, true]);
        assert_eq!(seen(json!({"count": 2, "name": 1})), [true, true, false]);
        let nested = comparing(&json!({"name": 1}), || {
            let inner = comparing(&json!({"mode": 1}), || (compared("name"), compared("mode")));
            (inner, compared("name"), compared("mode"))
        });
        assert_eq!(nested, ((false, true), true, false));
        assert!(compared("name") && compared("anything"));
        let live = json!({"name": "Q", "count": 3, "mode": "A"});
        let declared = comparing(&json!({"name": "Q", "mode": "B"}), || project::<Spec>(&live));
        assert_eq!(declared, json!({"name": "Q", "mode": "A"}));
    }
}
