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

use serde::de::value::Error;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess};
use serde::{Deserializer, Serialize};
use serde_json::{Map, Value};

use super::org::{drop_nulls, whole_numbers};

/// The live object `live` as the spec type `T` sees it.
pub fn project<T: DeserializeOwned + Serialize>(live: &Value) -> Value {
    project_skipping::<T>(live, &[])
}

/// [`project`], leaving out the top-level fields `skip`: those a kind
/// translates itself (a queue's `division`, an object the spec names by a
/// string), which would otherwise be read as misfits and copied, object by
/// object, only to be replaced. Only optional fields may be skipped.
pub fn project_skipping<T: DeserializeOwned + Serialize>(live: &Value, skip: &[&str]) -> Value {
    let odd = RefCell::new(Vec::new());
    let root_fields = RefCell::new(None);
    let reader =
        Lenient { value: live, path: String::new(), odd: &odd, root: Some(&root_fields), skip };
    let mut out = match T::deserialize(reader).map(|typed| serde_json::to_value(typed)) {
        Ok(Ok(value)) => {
            let mut value = value;
            for (pointer, original) in odd.into_inner() {
                set_pointer(&mut value, &pointer, original);
            }
            value
        }
        _ => top_level(live, root_fields.into_inner().unwrap_or_default(), skip),
    };
    drop_nulls(&mut out);
    whole_numbers(&mut out);
    out
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

/// Reads one JSON value for a typed visitor, leniently.
struct Lenient<'a> {
    value: &'a Value,
    /// JSON pointer of `value` in the whole object.
    path: String,
    /// Values that did not fit their field: put back after serialization.
    odd: &'a RefCell<Vec<(String, Value)>>,
    /// Where the root struct's field names go (for the fallback).
    root: Option<&'a RefCell<Option<&'static [&'static str]>>>,
    /// Fields left out (the root's, see [`project_skipping`]; none below).
    skip: &'a [&'a str],
}

impl<'a> Lenient<'a> {
    fn child(&self, value: &'a Value, token: &str) -> Lenient<'a> {
        // One allocation per field: objects are read by the thousand.
        let mut path = String::with_capacity(self.path.len() + token.len() + 1);
        path.push_str(&self.path);
        crate::json_pointer::push_token(&mut path, token);
        Lenient { value, path, odd: self.odd, root: None, skip: &[] }
    }

    /// Remember that the value at this path did not fit its field.
    fn misfit(&self) {
        self.odd.borrow_mut().push((self.path.clone(), self.value.clone()));
    }

    /// The entries of an object, but nulls, skipped fields and, for a
    /// struct, keys that are none of its `fields`.
    fn entries(&self, fields: Option<&'static [&'static str]>) -> Entries<'a> {
        let Value::Object(map) = self.value else {
            return Entries { items: Vec::new().into_iter(), pending: None };
        };
        let collect = |is_field: &dyn Fn(&str) -> bool| -> Vec<(&'a str, Lenient<'a>)> {
            map.iter()
                .filter(|(k, v)| !v.is_null() && is_field(k) && !self.skip.contains(&k.as_str()))
                .map(|(k, v)| (k.as_str(), self.child(v, k)))
                .collect()
        };
        let items = match fields {
            None => collect(&|_| true),
            Some(fields) => with_field_set(fields, |set| collect(&|key| set.contains(key))),
        };
        Entries { items: items.into_iter(), pending: None }
    }

    fn items(&self) -> Items<'a> {
        let items: Vec<Lenient<'a>> = match self.value {
            Value::Array(items) => {
                items.iter().enumerate().map(|(i, v)| self.child(v, &i.to_string())).collect()
            }
            _ => Vec::new(),
        };
        Items { items: items.into_iter() }
    }
}

/// Run `f` with the set of a struct's `fields`. A live object has a few
/// dozen keys and a spec struct a few dozen fields: searching the field list
/// for every key took a third of a projection. Each field list is a static
/// that serde derives once per struct, so its set is made once per thread,
/// found by the list's address and length.
fn with_field_set<R>(
    fields: &'static [&'static str],
    f: impl FnOnce(&crate::FastSet<&'static str>) -> R,
) -> R {
    type Sets = crate::FastMap<(usize, usize), crate::FastSet<&'static str>>;
    thread_local! {
        static SETS: RefCell<Sets> = RefCell::default();
    }
    let set = || fields.iter().copied().collect();
    SETS.with(|sets| match sets.try_borrow_mut() {
        Ok(mut sets) => f(sets.entry((fields.as_ptr() as usize, fields.len())).or_insert_with(set)),
        // Not reached (`f` does not come back here); a set of its own if it did.
        Err(_) => f(&set()),
    })
}

struct Entries<'a> {
    items: std::vec::IntoIter<(&'a str, Lenient<'a>)>,
    pending: Option<Lenient<'a>>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.items.next() else { return Ok(None) };
        self.pending = Some(value);
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
    items: std::vec::IntoIter<Lenient<'a>>,
}

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.items.next().map(|item| seed.deserialize(item)).transpose()
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
            *root.borrow_mut() = Some(fields);
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
    fn a_missing_required_field_keeps_the_declared_top_level_fields() {
        let live = json!({"name": "Q", "id": "1", "items": [{"extra": 1}]});
        assert_eq!(project::<Spec>(&live), json!({"name": "Q", "items": [{"extra": 1}]}));
    }
}
