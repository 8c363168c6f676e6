//! Response bodies decoded into `serde_json::Value` with each object's map
//! built at once.
//!
//! `serde_json::Value`'s own `Deserialize` inserts an object's entries one
//! by one into its B-tree map, and each insert searches the tree from its
//! root: a fifth of decoding a page of configured queues, whose every
//! entity holds some fifteen objects. [`Bulk`] gathers an object's entries in
//! order and builds the map from them in one pass (the standard library
//! sorts them, a single pass when they come sorted, as they do from the
//! sandbox, and builds the tree bottom up). The value is the same as
//! `serde_json`'s, a repeated key included (the last one wins in both).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A JSON value, as `serde_json::Value` reads it.
#[derive(Clone, Copy)]
pub(super) struct Bulk;

/// `body` as a JSON value ([`Bulk`]).
///
/// A body that is UTF-8 (all JSON is) is checked once, whole, and read as
/// text: a reader of bytes checks each string it reads on its own, at a
/// cost per string that came to a seventh of decoding a page of configured
/// queues. Other bytes are read as bytes, which words the error as before.
/// (The lean page decoder does the same.)
pub(super) fn from_slice(body: &[u8]) -> serde_json::Result<Value> {
    fn whole<'de, R: serde_json::de::Read<'de>>(
        mut deserializer: serde_json::Deserializer<R>,
    ) -> serde_json::Result<Value> {
        let value = Bulk.deserialize(&mut deserializer)?;
        deserializer.end()?;
        Ok(value)
    }
    match std::str::from_utf8(body) {
        Ok(text) => whole(serde_json::Deserializer::from_str(text)),
        Err(_) => whole(serde_json::Deserializer::from_slice(body)),
    }
}

/// A map made of `entries`, in any order; of a repeated key, the last.
pub(super) fn map(entries: Vec<(String, Value)>) -> Map<String, Value> {
    entries.into_iter().collect()
}

impl<'de> DeserializeSeed<'de> for Bulk {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

// As `serde_json`'s own visitor for `Value`, but for `visit_map`.
impl<'de> Visitor<'de> for Bulk {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Bulk)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        // `serde_json` gives no hint: room for eight entries, so that most
        // objects of a page (a queue's media settings, a reference) are
        // gathered without growing the vector, and a queue's 26 entries
        // grow it twice instead of four times.
        let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(8));
        while let Some(key) = access.next_key::<String>()? {
            entries.push((key, access.next_value_seed(Bulk)?));
        }
        Ok(Value::Object(map(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_serde_jsons() {
        let bodies = [
            r#"{"b": 1, "a": [true, null, -2, 3.5, 1e300, 18446744073709551615, "x\u00e9\n"], "c": {}}"#,
            r#"{"z": {"y": {"x": [[], [{}], {"k": "v", "a": 0}]}}, "a": "", "m": -0.0}"#,
            r#"{"same": 1, "other": 2, "same": 3}"#,
            r#"[{"k": 1, "k": {"n": 2}}, 12345678901234567890123, -9223372036854775808]"#,
            r#""just a string""#,
            "null",
            "{}",
        ];
        for body in bodies {
            let ours = from_slice(body.as_bytes()).unwrap();
            let theirs: Value = serde_json::from_slice(body.as_bytes()).unwrap();
            assert_eq!(ours, theirs, "{body}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{body}");
        }
        assert_eq!(from_slice(br#"{"same": 1, "same": 3}"#).unwrap()["same"], 3);
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        for body in [r#"{"a": 1"#, r#"{"a": 1} x"#, "[1,]", "{1: 2}", "\"\\q\"", "", "1e400"] {
            assert!(from_slice(body.as_bytes()).is_err(), "{body}");
            assert!(serde_json::from_slice::<Value>(body.as_bytes()).is_err(), "{body}");
        }
        // Bytes that are not UTF-8 (read as bytes), in a string and outside
        // one: refused alike, with serde_json's words and place.
        for body in [&b"{\"a\": \"\xff\"}"[..], b"{\"a\xc3\": 1}", b"[1, \xe2\x82]"] {
            let ours = from_slice(body).unwrap_err().to_string();
            let theirs = serde_json::from_slice::<Value>(body).unwrap_err().to_string();
            assert_eq!(ours, theirs);
        }
        // Text read as text: a lone surrogate escape, refused by both readers.
        let lone = br#"["\ud800"]"#;
        assert_eq!(
            from_slice(lone).unwrap_err().to_string(),
            serde_json::from_slice::<Value>(lone).unwrap_err().to_string()
        );
        // As deep as serde_json reads, and no deeper.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(from_slice(deep(120).as_bytes()).is_ok());
        assert!(from_slice(deep(200).as_bytes()).is_err());
    }
}
