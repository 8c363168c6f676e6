//! Typed reading straight from a parsed tree: a spec read from its [`Node`]
//! without first copying the tree into a `serde_json::Value` (every string
//! cloned and every mapping built as a B-tree, only to be taken apart by the
//! typed read and freed: a third of typing a manifest, and an export's check
//! types 10,000 configured queues).
//!
//! It reads exactly what the JSON route (`kinds::strict`, which refuses a list
//! where a struct is expected) reads, to the same result: each node
//! is presented to the type as its [`Node::to_json`] value would be (an
//! integer of 0 or more as an unsigned one, a float with no JSON form as
//! null, a mapping as a map with string keys, a one-key mapping or a string
//! as an enum). It does not explain failures: a node it cannot read is read
//! again through JSON, whose error carries the field's path and the message
//! the diagnostics are made of. Debug builds (the tests) read every spec both
//! ways and compare the outcomes (see `kinds::parse_spec`).

use std::fmt;

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};

use super::{Key, Node, Value};

/// `node` read as `T`; `None` when it cannot be (read it through JSON to
/// learn why).
pub fn read<'de, T: Deserialize<'de>>(node: &'de Node) -> Option<T> {
    T::deserialize(NodeReader(node)).ok()
}

/// That a node could not be read as the type, and nothing more: the reason
/// is found again through JSON, so none is formatted here.
#[derive(Debug)]
pub struct NotRead;

impl fmt::Display for NotRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not readable from the node")
    }
}

impl std::error::Error for NotRead {}

impl de::Error for NotRead {
    fn custom<T: fmt::Display>(_: T) -> Self {
        NotRead
    }
}

/// A node as its JSON value shows to a type.
enum Shape<'de> {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(&'de str),
    Seq(&'de [Node]),
    Map(&'de [(Key, Node)]),
}

fn shape(node: &Node) -> Shape<'_> {
    match &node.value {
        Value::Bool(b) => Shape::Bool(*b),
        // `serde_json::Value::from(i64)`: unsigned from 0 up.
        Value::Int(i) => u64::try_from(*i).map_or(Shape::Signed(*i), Shape::Unsigned),
        Value::Float(f) if f.is_finite() => Shape::Float(*f),
        // No JSON form for infinities and NaN: `to_json` makes them null.
        Value::Null | Value::Float(_) => Shape::Null,
        Value::Str(s) => Shape::Str(s),
        Value::Seq(items) => Shape::Seq(items),
        Value::Map(entries) => Shape::Map(entries),
    }
}

#[derive(Clone, Copy)]
struct NodeReader<'de>(&'de Node);

impl<'de> de::Deserializer<'de> for NodeReader<'de> {
    type Error = NotRead;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NotRead> {
        match shape(self.0) {
            Shape::Null => visitor.visit_unit(),
            Shape::Bool(b) => visitor.visit_bool(b),
            Shape::Unsigned(n) => visitor.visit_u64(n),
            Shape::Signed(n) => visitor.visit_i64(n),
            Shape::Float(f) => visitor.visit_f64(f),
            Shape::Str(s) => visitor.visit_borrowed_str(s),
            Shape::Seq(items) => visit_seq(items, visitor),
            Shape::Map(entries) => visit_map(entries, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NotRead> {
        match shape(self.0) {
            Shape::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, NotRead> {
        visitor.visit_newtype_struct(self)
    }

    /// A list is no struct (see `kinds::strict`, which the JSON route reads through).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NotRead> {
        match shape(self.0) {
            Shape::Seq(_) => Err(NotRead),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NotRead> {
        match shape(self.0) {
            Shape::Str(variant) => visitor.visit_enum(Variant { variant, value: None }),
            Shape::Map([(key, value)]) => {
                visitor.visit_enum(Variant { variant: &key.name, value: Some(value) })
            }
            _ => Err(NotRead),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, NotRead> {
        visitor.visit_unit()
    }

    // The rest as `serde_json::Value` takes them: by what the node holds,
    // the type's visitor refusing what it does not read.
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// A sequence, every item read (as `serde_json` requires of an array).
fn visit_seq<'de, V: Visitor<'de>>(items: &'de [Node], visitor: V) -> Result<V::Value, NotRead> {
    let mut access = Items(items.iter());
    let value = visitor.visit_seq(&mut access)?;
    match access.0.len() {
        0 => Ok(value),
        _ => Err(NotRead),
    }
}

/// A mapping, every entry read (as `serde_json` requires of an object).
fn visit_map<'de, V: Visitor<'de>>(
    entries: &'de [(Key, Node)],
    visitor: V,
) -> Result<V::Value, NotRead> {
    let mut access = Entries { entries: entries.iter(), value: None };
    let value = visitor.visit_map(&mut access)?;
    match access.entries.len() {
        0 => Ok(value),
        _ => Err(NotRead),
    }
}

struct Items<'de>(std::slice::Iter<'de, Node>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = NotRead;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, NotRead> {
        self.0.next().map(|item| seed.deserialize(NodeReader(item))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    entries: std::slice::Iter<'de, (Key, Node)>,
    value: Option<&'de Node>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = NotRead;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, NotRead> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        // Keys are strings, as in JSON; a type keyed by anything else (a
        // number) is left to the JSON route, which parses such keys.
        seed.deserialize(BorrowedStrDeserializer::new(&key.name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, NotRead> {
        let value = self.value.take().ok_or(NotRead)?;
        seed.deserialize(NodeReader(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum: a string names a unit variant; a one-key mapping names the
/// variant and holds its content.
struct Variant<'de> {
    variant: &'de str,
    value: Option<&'de Node>,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = NotRead;
    type Variant = Content<'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Content<'de>), NotRead> {
        let variant = seed.deserialize(BorrowedStrDeserializer::new(self.variant))?;
        Ok((variant, Content(self.value)))
    }
}

/// A variant's content, if it has one.
struct Content<'de>(Option<&'de Node>);

impl<'de> VariantAccess<'de> for Content<'de> {
    type Error = NotRead;

    fn unit_variant(self) -> Result<(), NotRead> {
        match self.0 {
            Some(value) => <()>::deserialize(NodeReader(value)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, NotRead> {
        seed.deserialize(NodeReader(self.0.ok_or(NotRead)?))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, NotRead> {
        match self.0.map(shape) {
            Some(Shape::Seq([])) => visitor.visit_unit(),
            Some(Shape::Seq(items)) => visit_seq(items, visitor),
            _ => Err(NotRead),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, NotRead> {
        match self.0.map(shape) {
            Some(Shape::Map(entries)) => visit_map(entries, visitor),
            _ => Err(NotRead),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    use serde::de::DeserializeOwned;

    use super::*;
    use crate::manifest::yaml::parse_documents;

    /// `yaml` read as `T` from its node, and through JSON as the
    /// diagnostics read it: the same outcome, which is returned.
    fn both<T: DeserializeOwned + PartialEq + Debug>(yaml: &str) -> Option<T> {
        let node = parse_documents(yaml).expect("valid YAML").remove(0);
        let direct = read::<T>(&node);
        let json = node.to_json();
        let through_json = T::deserialize(crate::kinds::strict::Strict(&json)).ok();
        assert_eq!(direct, through_json, "{yaml}");
        direct
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Spec {
        name: String,
        #[serde(default)]
        size: Option<u32>,
        #[serde(default)]
        ratio: Option<f64>,
        #[serde(default)]
        mode: Option<Mode>,
        #[serde(default)]
        secret: Option<Secret>,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        extra: BTreeMap<String, serde_json::Value>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Mode {
        Plain,
        Limit(u32),
        Window { from: u32, to: u32 },
        Pair(u32, u32),
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(untagged)]
    enum Secret {
        Literal(String),
        FromEnv {
            #[serde(rename = "fromEnv")]
            from_env: String,
        },
    }

    #[test]
    fn what_json_reads_a_node_reads_to_the_same_value() {
        let read = both::<Spec>(
            "name: A\nsize: 3\nratio: 0.5\nmode: plain\nsecret: {fromEnv: X}\ntags: [b, a]\nextra: {n: -2, u: 7, f: 1.5, s: x, l: [null, true], m: {k: v}}\n",
        );
        let read = read.expect("readable");
        assert_eq!(read.mode, Some(Mode::Plain));
        assert_eq!(read.secret, Some(Secret::FromEnv { from_env: "X".into() }));
        assert_eq!(read.extra["n"], serde_json::json!(-2));
        for mode in ["{limit: 4}", "{window: {from: 1, to: 2}}", "{pair: [1, 2]}", "{plain: null}"]
        {
            assert!(both::<Spec>(&format!("name: A\nmode: {mode}\n")).is_some(), "{mode}");
        }
        assert!(both::<Spec>("name: A\nsecret: plain text\nratio: 2\n").is_some());
        // A float with no JSON form is null, as `to_json` makes it.
        assert_eq!(both::<Spec>("name: A\nratio: .inf\n").and_then(|s| s.ratio), None);
    }

    #[test]
    fn what_json_refuses_a_node_refuses() {
        for yaml in [
            "name: A\nsize: -1\n",
            "name: A\nsize: 1.5\n",
            "name: A\nsize: \"3\"\n",
            "name: 3\n",
            "size: 3\n",
            "name: A\nunknown: 1\n",
            "name: A\nmode: limit\n",
            "name: A\nmode: {limit: 1, plain: null}\n",
            "name: A\nmode: {window: [1]}\n",
            "name: A\nmode: {pair: [1, 2, 3]}\n",
            "name: A\nmode: {other: 1}\n",
            "name: A\nsecret: {fromFile: x}\n",
            "name: A\ntags: b\n",
            "name: A\ntags: [1]\n",
            "name: A\nsize: yes\n",
            // A list where a mapping of named fields is expected.
            "[A, 3]\n",
            "- A\n",
        ] {
            assert!(both::<Spec>(yaml).is_none(), "{yaml}");
        }
        // Keys that are not strings in the type: left to JSON, which parses
        // them (then the spec is read through JSON, not refused).
        let node = parse_documents("1: a\n").expect("valid YAML").remove(0);
        assert_eq!(read::<BTreeMap<u32, String>>(&node), None);
        let json = node.to_json();
        assert!(BTreeMap::<u32, String>::deserialize(crate::kinds::strict::Strict(&json)).is_ok());
    }
}
