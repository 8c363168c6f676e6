//! A spec read from JSON as `serde_json::Value` reads it, but for one thing:
//! a list where a mapping of named fields is expected is refused.
//!
//! serde's derived `Deserialize` of a struct also takes a sequence and fills
//! the fields in order, and `serde_json`'s `Value` hands a struct its array
//! when asked; so `spec: [Acme Queue]` read as a queue named `Acme Queue`, and
//! `messenger: [true]` as an enabled messenger. A manifest names its fields:
//! a list there is a mistake, and the load says where (`found a list,
//! expected a mapping`). The typed read from a parsed tree
//! (`manifest::yaml::de`) refuses the same, so that both routes agree.

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Map, Value};

/// `value` as a deserializer that refuses a list where a struct is expected.
#[derive(Clone, Copy)]
pub struct Strict<'de>(pub &'de Value);

impl<'de> de::Deserializer<'de> for Strict<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::Array(_) => Err(de::Error::invalid_type(Unexpected::Seq, &visitor)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0 {
            Value::String(variant) => visitor.visit_enum(Variant { variant, value: None }),
            Value::Object(map) if map.len() == 1 => {
                let (variant, value) = map.iter().next().expect("one entry");
                visitor.visit_enum(Variant { variant, value: Some(value) })
            }
            // As serde_json says it.
            Value::Object(_) => {
                Err(de::Error::invalid_value(Unexpected::Map, &"map with a single key"))
            }
            other => Err(de::Error::invalid_type(unexpected(other), &"string or map")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// How serde names what a value is, as `serde_json` does.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Unexpected::Unsigned(u),
            (None, Some(i)) => Unexpected::Signed(i),
            _ => Unexpected::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: &'de [Value], visitor: V) -> Result<V::Value, Error> {
    let mut access = Items(items.iter());
    let value = visitor.visit_seq(&mut access)?;
    match access.0.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(items.len(), &"fewer elements in array")),
    }
}

fn visit_object<'de, V: Visitor<'de>>(
    map: &'de Map<String, Value>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut access = Entries { entries: map.iter(), value: None };
    let value = visitor.visit_map(&mut access)?;
    match access.entries.len() {
        0 => Ok(value),
        _ => Err(de::Error::invalid_length(map.len(), &"fewer elements in map")),
    }
}

struct Items<'de>(std::slice::Iter<'de, Value>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(Strict(item))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Entries<'de> {
    entries: serde_json::map::Iter<'de>,
    value: Option<&'de Value>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else { return Ok(None) };
        self.value = Some(value);
        seed.deserialize(Key(key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(Strict(value)),
            None => Err(de::Error::custom("a value asked for before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A map's key, read as `serde_json` reads one: text, or a number or a
/// boolean that the text spells when the type asks for one (`{"1": …}` as a
/// `BTreeMap<u32, _>`).
struct Key<'de>(&'de str);

macro_rules! numeric_key {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            if !self.0.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                return Err(de::Error::invalid_type(Unexpected::Str(self.0), &visitor));
            }
            let mut numbers = serde_json::Deserializer::from_str(self.0);
            let value = de::Deserializer::$method(&mut numbers, visitor)?;
            numbers.end()?;
            Ok(value)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        BorrowedStrDeserializer::new(self.0).deserialize_any(visitor)
    }

    numeric_key! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(de::Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(Variant { variant: self.0, value: None })
    }

    forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Variant<'de> {
    variant: &'de str,
    value: Option<&'de Value>,
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, self))
    }
}

impl<'de> VariantAccess<'de> for Variant<'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.value {
            // As serde_json: the value read as `()`.
            Some(value) => <()>::deserialize(Strict(value)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        match self.value {
            Some(value) => seed.deserialize(Strict(value)),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"newtype variant")),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Some(Value::Array(items)) if items.is_empty() => visitor.visit_unit(),
            Some(Value::Array(items)) => visit_array(items, visitor),
            Some(other) => Err(de::Error::invalid_type(unexpected(other), &"tuple variant")),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"tuple variant")),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Some(Value::Object(map)) => visit_object(map, visitor),
            Some(other) => Err(de::Error::invalid_type(unexpected(other), &"struct variant")),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"struct variant")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::Strict;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Inner {
        enabled: bool,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        name: String,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        list: Vec<Inner>,
        #[serde(default)]
        count: Option<u32>,
        #[serde(default)]
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        On,
        Off,
    }

    fn read(value: &serde_json::Value) -> Result<Outer, String> {
        Outer::deserialize(Strict(value)).map_err(|e| e.to_string())
    }

    /// What `serde_json::Value` reads, this reads alike.
    #[test]
    fn reads_what_json_reads() {
        let value = json!({"name": "A", "inner": {"enabled": true}, "list": [{"enabled": false}],
            "count": 3, "mode": "on"});
        let expected = Outer::deserialize(&value).unwrap();
        assert_eq!(read(&value).unwrap(), expected);
        for bad in [
            json!({"name": 5}),
            json!({"name": "A", "count": -1}),
            json!({"name": "A", "count": 1.5}),
            json!({"name": "A", "mode": "dim"}),
            json!({"name": "A", "other": 1}),
            json!({}),
        ] {
            let through_json = Outer::deserialize(&bad).unwrap_err().to_string();
            assert_eq!(read(&bad).unwrap_err(), through_json);
        }
        assert_eq!(read(&json!({"name": "A", "mode": "off"})).unwrap().mode, Some(Mode::Off));
    }

    /// Keys are read as `serde_json` reads them: numbers and booleans the
    /// text spells, newtypes of text.
    #[test]
    fn keys_read_as_json_reads_them() {
        use std::collections::BTreeMap;
        #[derive(Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
        struct Handle(String);
        let value = json!({"1": "a", "20": "b"});
        let expected = BTreeMap::<u32, String>::deserialize(&value).unwrap();
        assert_eq!(BTreeMap::<u32, String>::deserialize(Strict(&value)).unwrap(), expected);
        let handles = BTreeMap::<Handle, u8>::deserialize(Strict(&json!({"x": 1}))).unwrap();
        assert_eq!(handles, BTreeMap::from([(Handle("x".into()), 1)]));
        let flags = BTreeMap::<bool, u8>::deserialize(Strict(&json!({"true": 1}))).unwrap();
        assert_eq!(flags, BTreeMap::from([(true, 1)]));
        for bad in [json!({"x": "a"}), json!({"1x": "a"}), json!({"-1": "a"})] {
            assert!(BTreeMap::<u32, String>::deserialize(&bad).is_err());
            assert!(BTreeMap::<u32, String>::deserialize(Strict(&bad)).is_err(), "{bad}");
        }
    }

    /// A list where named fields are expected is refused, at any depth.
    #[test]
    fn a_list_for_a_struct_is_refused() {
        assert!(Outer::deserialize(&json!(["A"])).is_ok(), "serde_json takes it");
        let err = read(&json!(["A"])).unwrap_err();
        assert!(err.starts_with("invalid type: sequence, expected struct Outer"), "{err}");
        let err = read(&json!({"name": "A", "inner": [true]})).unwrap_err();
        assert!(err.starts_with("invalid type: sequence, expected struct Inner"), "{err}");
        let err = read(&json!({"name": "A", "list": [[false]]})).unwrap_err();
        assert!(err.starts_with("invalid type: sequence, expected struct Inner"), "{err}");
    }
}
