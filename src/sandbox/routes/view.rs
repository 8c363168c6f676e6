//! A listed object rendered without copying it: the fields rendering
//! touches (the references of `Spec::refs`, and those `Resource::decorate`
//! reads or writes, as `Resource::DECORATED` names them) are rendered on a
//! copy of those fields alone, and the rest is written straight from the
//! stored object. A page of 500 configured queues is a megabyte of JSON:
//! copying it to render it, then freeing the copy, was half of what the
//! sandbox spent on a page, on the cores it shares with the client under
//! test. The answer is byte for byte the one a whole copy renders (keys in
//! the same order); debug builds render both and compare.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// A listed object as its page shows it.
pub enum Rendered<'a> {
    /// Rendered on a copy of all of it.
    Whole(Value),
    /// The stored object, but its `touched` fields: those are `rendered`'s
    /// (absent there: left out).
    View {
        stored: &'a Map<String, Value>,
        touched: Vec<&'static str>,
        rendered: Map<String, Value>,
    },
}

impl Rendered<'_> {
    /// The stored fields a view takes from `rendered`, and those fields of
    /// `stored`, copied, for rendering: `None` when `stored` is no object.
    pub fn parts(
        stored: &Value,
        decorated: &'static [&'static str],
        refs: &[(&'static str, crate::sandbox::store::Kind)],
    ) -> Option<(Vec<&'static str>, Value)> {
        let map = stored.as_object()?;
        let mut touched: Vec<&'static str> = decorated.to_vec();
        touched.extend(refs.iter().map(|(field, _)| field.split('.').next().unwrap_or(field)));
        touched.sort_unstable();
        touched.dedup();
        let copy: Map<String, Value> = touched
            .iter()
            .filter_map(|key| map.get_key_value(*key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        Some((touched, Value::Object(copy)))
    }
}

impl Serialize for Rendered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (stored, touched, rendered) = match self {
            Rendered::Whole(value) => return value.serialize(serializer),
            Rendered::View { stored, touched, rendered } => (stored, touched, rendered),
        };
        // Both maps iterate in key order: merge them as one map would.
        let mut map = serializer.serialize_map(None)?;
        // `touched` is sorted too: walked beside the stored keys, not searched.
        let mut skip = touched.iter().peekable();
        let mut kept = stored.iter().filter(|(key, _)| {
            while skip.next_if(|t| **t < key.as_str()).is_some() {}
            skip.next_if(|t| **t == key.as_str()).is_none()
        });
        let mut made = rendered.iter();
        let (mut a, mut b) = (kept.next(), made.next());
        loop {
            let entry = match (a, b) {
                (Some(x), Some(y)) if x.0 <= y.0 => {
                    a = kept.next();
                    x
                }
                (_, Some(y)) => {
                    b = made.next();
                    y
                }
                (Some(x), None) => {
                    a = kept.next();
                    x
                }
                (None, None) => break,
            };
            map.serialize_entry(entry.0, entry.1)?;
        }
        map.end()
    }
}

/// A page's envelope (`fields`, without `entities`) around `entities`,
/// written as JSON with the keys in the order a `Value` map has them.
pub fn page_json(fields: &Map<String, Value>, entities: &[Rendered<'_>]) -> Vec<u8> {
    struct Page<'a, 'b>(&'a Map<String, Value>, &'a [Rendered<'b>]);
    impl Serialize for Page<'_, '_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len() + 1))?;
            let mut entities = Some(self.1);
            for (key, value) in self.0 {
                if key.as_str() > "entities"
                    && let Some(entities) = entities.take()
                {
                    map.serialize_entry("entities", entities)?;
                }
                map.serialize_entry(key, value)?;
            }
            if let Some(entities) = entities {
                map.serialize_entry("entities", entities)?;
            }
            map.end()
        }
    }
    // Writing to memory fails only on a non-string key, which a map has not.
    serde_json::to_vec(&Page(fields, entities)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_view_writes_the_stored_fields_and_the_rendered_ones_in_key_order() {
        let stored = json!({"a": 1, "division": {"id": "d"}, "m": {"big": [1, 2]}, "gone": true, "z": "last"});
        let Value::Object(map) = &stored else { unreachable!() };
        let rendered = json!({"division": {"id": "d", "name": "Home"}, "count": 3});
        let Value::Object(rendered) = rendered else { unreachable!() };
        // `gone` was touched and left out by the rendering; `count` was added.
        let view =
            Rendered::View { stored: map, touched: vec!["count", "division", "gone"], rendered };
        assert_eq!(
            serde_json::to_string(&view).unwrap(),
            r#"{"a":1,"count":3,"division":{"id":"d","name":"Home"},"m":{"big":[1,2]},"z":"last"}"#
        );
        let fields = json!({"total": 1, "firstUri": "/x", "pageSize": 25});
        let Value::Object(fields) = fields else { unreachable!() };
        let text = page_json(&fields, &[view, Rendered::Whole(json!({"id": "2"}))]);
        let mut whole = Value::Object(fields);
        whole["entities"] = json!([serde_json::from_str::<Value>(r#"{"a":1,"count":3,"division":{"id":"d","name":"Home"},"m":{"big":[1,2]},"z":"last"}"#).unwrap(), {"id": "2"}]);
        assert_eq!(String::from_utf8(text).unwrap(), serde_json::to_string(&whole).unwrap());
    }

    #[test]
    fn parts_copy_only_the_touched_fields() {
        let stored = json!({"id": "1", "division": {"id": "d"}, "mediaSettings": {"call": {}}, "queueFlow": {"id": "f"}});
        let refs = [
            ("division", crate::sandbox::store::Kind::Divisions),
            ("queueFlow.x", crate::sandbox::store::Kind::Flows),
        ];
        let (touched, copy) = Rendered::parts(&stored, &["id", "memberCount"], &refs).unwrap();
        assert_eq!(touched, ["division", "id", "memberCount", "queueFlow"]);
        assert_eq!(copy, json!({"id": "1", "division": {"id": "d"}, "queueFlow": {"id": "f"}}));
        assert!(Rendered::parts(&json!([1]), &[], &refs).is_none());
    }
}
