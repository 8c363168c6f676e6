//! Decoding a listing page without the parts of its objects nobody reads.
//!
//! A page of 500 configured queues is a megabyte of JSON, most of it media,
//! after-call-work and routing settings a plan never looks at unless a
//! manifest declares them. Decoded into `serde_json` maps, each of those
//! fields is an allocation and a B-tree entry: at 10,000 queues, 230 MiB,
//! fresh pages the kernel zeroes, and maps that have left the cache by the
//! time the plan compares them. [`EntityKeys`] names the top-level keys of
//! each entity worth decoding; the others are skipped by the parser
//! (checked as JSON, never built). Everything outside `entities` (the page
//! count, `nextUri`...) is decoded as usual.
//!
//! The lean decode is only a faster way to the same answer: a body it does
//! not recognise as a listing page (not an object, `entities` not an array,
//! an entity that is not an object) is decoded whole, as without keys, so
//! malformed answers fail, or pass, exactly as they always did.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::bulk::{self, Bulk};

/// The top-level keys of a listed entity to decode; the rest are skipped.
/// Cheap to clone (shared).
#[derive(Clone, PartialEq, Eq)]
pub struct EntityKeys(Arc<[Box<str>]>);

impl EntityKeys {
    /// These keys (sorted, without repeats).
    pub fn new<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        let mut keys: Vec<Box<str>> = keys.into_iter().map(Box::from).collect();
        keys.sort_unstable();
        keys.dedup();
        EntityKeys(keys.into())
    }

    /// Whether entities decoded with these keys keep `key`.
    pub fn keeps(&self, key: &str) -> bool {
        // Asked for every key of every entity (26 of each configured
        // queue): a dozen kept keys scanned, those of another length or
        // first byte passed without a comparison, decoded 10,000 queues in
        // 30 ms where a binary search of the sorted keys took 39 ms.
        let bytes = key.as_bytes();
        self.0
            .iter()
            .any(|k| k.len() == bytes.len() && k.as_bytes().first() == bytes.first() && **k == *key)
    }

    /// Whether every key `other` keeps, these keep too: a listing decoded
    /// with these serves a reader that needs `other`.
    pub fn covers(&self, other: &EntityKeys) -> bool {
        other.0.iter().all(|k| self.keeps(k))
    }

    /// The keys, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|k| &**k)
    }
}

impl fmt::Debug for EntityKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// A listing page's body with only `keys` of each entity, or `None` when
/// the body is not a listing page this decoder recognises (decode it whole).
/// A body that is UTF-8 is read as text, checked once (see
/// [`super::bulk::from_slice`]).
pub(super) fn decode_page(body: &[u8], keys: &EntityKeys) -> Option<Value> {
    fn page<'de, R: serde_json::de::Read<'de>>(
        mut deserializer: serde_json::Deserializer<R>,
        keys: &EntityKeys,
    ) -> Option<Value> {
        let page = Page(keys).deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        Some(page)
    }
    match std::str::from_utf8(body) {
        Ok(text) => page(serde_json::Deserializer::from_str(text), keys),
        Err(_) => page(serde_json::Deserializer::from_slice(body), keys),
    }
}

/// The page: an object whose `entities` are decoded leanly.
struct Page<'k>(&'k EntityKeys);

impl<'de> DeserializeSeed<'de> for Page<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Page<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a listing page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut page = Vec::new();
        while let Some(key) = map.next_key_seed(Key)? {
            let value = if key == "entities" {
                map.next_value_seed(Entities(self.0))?
            } else {
                map.next_value_seed(Bulk)?
            };
            page.push((key.into_owned(), value));
        }
        Ok(Value::Object(bulk::map(page)))
    }
}

/// `entities`: an array of lean entities.
struct Entities<'k>(&'k EntityKeys);

impl<'de> DeserializeSeed<'de> for Entities<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entities<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of entities")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut entities = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(entity) = seq.next_element_seed(Entity(self.0))? {
            entities.push(entity);
        }
        Ok(Value::Array(entities))
    }
}

/// One entity: an object with the kept keys only.
struct Entity<'k>(&'k EntityKeys);

impl<'de> DeserializeSeed<'de> for Entity<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Entity<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entity object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // At most every kept key: made once, not grown as they come.
        let mut entity = Vec::with_capacity(self.0.0.len());
        while let Some(key) = map.next_key_seed(Key)? {
            if self.0.keeps(&key) {
                entity.push((key.into_owned(), map.next_value_seed(Bulk)?));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(bulk::map(entity)))
    }
}

/// A key, borrowed from the body when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(names: &[&str]) -> EntityKeys {
        EntityKeys::new(names.iter().copied())
    }

    #[test]
    fn entities_keep_only_their_kept_keys_and_the_page_keeps_everything_else() {
        let body = json!({
            "entities": [
                {"id": "1", "name": "A", "mediaSettings": {"call": {"alertingTimeoutSeconds": 8}}, "memberCount": 3},
                {"id": "2", "name": "B", "routingRules": [{"operator": "MEETS_THRESHOLD"}]},
                {}
            ],
            "pageSize": 500, "pageNumber": 1, "total": 3, "pageCount": 1,
            "nextUri": null, "selfUri": "/api/v2/routing/queues?pageNumber=1",
        });
        let text = serde_json::to_vec(&body).unwrap();
        let page = decode_page(&text, &keys(&["id", "name", "memberCount"])).unwrap();
        let mut expected = body.clone();
        expected["entities"] =
            json!([{"id": "1", "name": "A", "memberCount": 3}, {"id": "2", "name": "B"}, {}]);
        assert_eq!(page, expected);
        // Keeping every key the page has is the whole decode.
        let all = keys(&["id", "name", "memberCount", "mediaSettings", "routingRules"]);
        assert_eq!(decode_page(&text, &all).unwrap(), body);
    }

    #[test]
    fn escaped_keys_and_repeated_keys_decode_as_serde_json_does() {
        // `na\u006de` is `name`; a repeated key keeps its last value, as `Value` does.
        let text =
            br#"{"entities": [{"na\u006de": "A", "id": "1", "id": "2", "x\"y": 1}], "total": 1}"#;
        let page = decode_page(text, &keys(&["id", "name"])).unwrap();
        assert_eq!(page, json!({"entities": [{"name": "A", "id": "2"}], "total": 1}));
        let whole: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(page["entities"][0]["id"], whole["entities"][0]["id"]);
    }

    #[test]
    fn what_is_not_a_listing_page_is_left_to_the_whole_decode() {
        let k = keys(&["id"]);
        for text in [
            &b"[1, 2]"[..],
            b"\"text\"",
            b"null",
            br#"{"entities": {"id": "1"}}"#,
            br#"{"entities": null}"#,
            br#"{"entities": [1, {"id": "1"}]}"#,
            br#"{"entities": [{"id": "1"}]} trailing"#,
            br#"{"entities": [{"id": "1", "skipped": [}]}"#,
            b"",
        ] {
            assert_eq!(decode_page(text, &k), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn keys_are_a_sorted_set_that_can_cover_another() {
        let wide = keys(&["name", "id", "division", "id"]);
        assert_eq!(wide.iter().collect::<Vec<_>>(), ["division", "id", "name"]);
        assert!(wide.keeps("division") && !wide.keeps("divisions"));
        assert!(wide.covers(&keys(&["id", "name"])));
        assert!(wide.covers(&keys(&[])));
        assert!(!keys(&["id"]).covers(&wide));
        assert_eq!(format!("{wide:?}"), r#"{"division", "id", "name"}"#);
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
            // Quotes, backslashes, escapes and non-ASCII in strings.
            "[a-z\"\\\\\u{e9}\u{1f600}\\n]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-e\"]{1,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// A listing page decoded leanly is the page decoded whole with each
        /// entity's other keys left out, whatever the entities hold.
        #[test]
        fn a_lean_page_is_the_whole_page_without_the_skipped_keys(
            entities in proptest::collection::vec(
                proptest::collection::btree_map("[a-e\"]{1,3}", json_value(), 0..6), 0..5),
            kept in proptest::collection::vec("[a-e\"]{1,3}", 0..4),
            total in proptest::prelude::any::<u16>(),
        ) {
            let keys = EntityKeys::new(kept.iter().map(String::as_str));
            let entities: Vec<Value> =
                entities.into_iter().map(|m| Value::Object(m.into_iter().collect())).collect();
            let page = json!({"entities": entities, "total": total, "nextUri": null});
            let text = serde_json::to_vec(&page).unwrap();
            let lean = decode_page(&text, &keys);
            let mut expected = page.clone();
            for entity in expected["entities"].as_array_mut().unwrap() {
                entity.as_object_mut().unwrap().retain(|k, _| keys.keeps(k));
            }
            proptest::prop_assert_eq!(lean, Some(expected));
        }
    }
}
