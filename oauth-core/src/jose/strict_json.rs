//! JSON parsing that refuses duplicate object keys.
//!
//! `serde_json` keeps the last of two equal keys without a word, so `{"alg":"ES256","alg":"none"}`
//! would read as `none` to one parser and `ES256` to another. A JOSE header or claim set with
//! a repeated key is refused outright (RFC 7515 §5.2 step 4, RFC 8725 §3.11).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Deepest nesting accepted; serde_json's own recursion limit is 128, this is tighter.
const MAX_DEPTH: usize = 32;

/// Parses `bytes` as one JSON value, refusing duplicate keys at any depth.
pub(crate) fn parse(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue::deserialize_at(&mut deserializer, 0)?;
    deserializer.end()?;
    Ok(value)
}

struct StrictValue;

impl StrictValue {
    fn deserialize_at<'de, D: Deserializer<'de>>(
        deserializer: D,
        depth: usize,
    ) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor { depth })
    }
}

struct ValueVisitor {
    depth: usize,
}

/// A seed that carries the depth into nested values.
struct Nested {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for Nested {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("JSON nested too deeply"));
        }
        StrictValue::deserialize_at(deserializer, self.depth)
    }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Nested {
            depth: self.depth + 1,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom("duplicate key in a JSON object"));
            }
            let value = map.next_value_seed(Nested {
                depth: self.depth + 1,
            })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A field of a typed object read by [`read_object`], in the shapes a JOSE header or a
/// claim set uses. Anything else is checked as strictly as [`parse`] would, then kept only
/// as [`Field::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field<'de> {
    /// A string (borrowed from the input unless it had escapes).
    Str(Cow<'de, str>),
    /// A number that is an integer within `i64`.
    Int(i64),
    /// An array: its string items, in order (other items are checked and dropped).
    Strings(Vec<Cow<'de, str>>),
    /// Any other value (`null`, a boolean, a fraction, a number outside `i64`, an object).
    Other,
}

impl Field<'_> {
    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Reads one JSON object from `bytes` without building a `Value` for it: `wanted` gives the
/// index (below 64) of each member to keep (as a [`Field`], handed to `keep` with its
/// index); every other member is
/// checked and skipped. Refuses exactly what [`parse`] refuses (a duplicate key at any
/// depth, nesting deeper than 32, trailing data), and anything that is not an object.
///
/// This is the hot path of token verification: the members a verifier needs are borrowed
/// from the decoded bytes, and nothing else is allocated.
pub(crate) fn read_object<'de>(
    bytes: &'de [u8],
    wanted: fn(&str) -> Option<usize>,
    keep: &mut dyn FnMut(usize, Field<'de>),
) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    de::Deserializer::deserialize_map(&mut deserializer, TopObject { wanted, keep })?;
    deserializer.end()
}

/// The visitor of [`read_object`]'s outer object.
struct TopObject<'k, 'de> {
    /// The index of a wanted member name (below 64), or `None`.
    wanted: fn(&str) -> Option<usize>,
    keep: &'k mut dyn FnMut(usize, Field<'de>),
}

impl<'de> Visitor<'de> for TopObject<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Wanted members are told apart by index, so only the others need their names
        // compared to find a repeat.
        let mut seen_wanted = 0u64;
        let mut seen_others = Keys::default();
        while let Some(key) = map.next_key_seed(Text)? {
            match (self.wanted)(&key).filter(|index| *index < 64) {
                Some(index) => {
                    if seen_wanted & (1 << index) != 0 {
                        return Err(de::Error::custom("duplicate key in a JSON object"));
                    }
                    seen_wanted |= 1 << index;
                    let field = map.next_value_seed(FieldSeed)?;
                    (self.keep)(index, field);
                }
                None => {
                    seen_others.insert::<A::Error>(key)?;
                    map.next_value_seed(Check { depth: 1 })?;
                }
            }
        }
        Ok(())
    }
}

/// The keys of one object, to refuse a repeated one.
#[derive(Default)]
struct Keys<'de>(Vec<Cow<'de, str>>);

impl<'de> Keys<'de> {
    fn insert<E: de::Error>(&mut self, key: Cow<'de, str>) -> Result<(), E> {
        // JOSE objects have a handful of members, so a scan beats hashing; the token
        // length limit bounds the worst case.
        if self.0.contains(&key) {
            return Err(E::custom("duplicate key in a JSON object"));
        }
        self.0.push(key);
        Ok(())
    }
}

/// A string, borrowed from the input when it has no escapes.
struct Text;

impl<'de> de::DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A wanted member's value.
struct FieldSeed;

impl<'de> de::DeserializeSeed<'de> for FieldSeed {
    type Value = Field<'de>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Field::Other, Field::Int))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Field::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut strings = Vec::new();
        while let Some(item) = seq.next_element_seed(FieldInArray)? {
            if let Some(text) = item {
                strings.push(text);
            }
        }
        Ok(Field::Strings(strings))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Check { depth: 1 }.visit_map(map)?;
        Ok(Field::Other)
    }
}

/// An item of a wanted array (at depth 2): a string is kept, anything else checked as
/// [`Check`] would and dropped.
struct FieldInArray;

impl<'de> de::DeserializeSeed<'de> for FieldInArray {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldInArray {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Check { depth: 2 }.visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Check { depth: 2 }.visit_map(map).map(|()| None)
    }
}

/// Checks a value as strictly as [`parse`] and builds nothing.
#[derive(Clone, Copy)]
struct Check {
    depth: usize,
}

impl<'de> de::DeserializeSeed<'de> for Check {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("JSON nested too deeply"));
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let nested = Check {
            depth: self.depth + 1,
        };
        while seq.next_element_seed(nested)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let nested = Check {
            depth: self.depth + 1,
        };
        let mut seen = Keys::default();
        while let Some(key) = map.next_key_seed(Text)? {
            seen.insert::<A::Error>(key)?;
            map.next_value_seed(nested)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jw09_duplicate_keys_are_refused_at_any_depth() {
        assert!(parse(br#"{"alg":"ES256","alg":"none"}"#).is_err());
        assert!(parse(br#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(parse(br#"{"a":[{"b":1,"b":1}]}"#).is_err());
        // The same key in sibling objects is fine.
        assert!(parse(br#"{"a":{"b":1},"c":{"b":2}}"#).is_ok());
    }

    #[test]
    fn trailing_data_and_deep_nesting_are_refused() {
        assert!(parse(br#"{"a":1} x"#).is_err());
        assert!(parse(br#"{"a":1}{"b":2}"#).is_err());
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(parse(deep.as_bytes()).is_err());
        let ok = "[".repeat(10) + &"]".repeat(10);
        assert!(parse(ok.as_bytes()).is_ok());
    }

    #[test]
    fn values_round_trip() {
        let value = parse(
            br#"{"s":"x","n":-1,"u":18446744073709551615,"f":1.5,"b":true,"z":null,"a":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(value["u"], serde_json::json!(18446744073709551615u64));
        assert_eq!(value["a"], serde_json::json!([1, 2]));
    }
}
