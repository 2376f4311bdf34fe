//! JSON parsing that refuses duplicate object keys.
//!
//! `serde_json` keeps the last of two equal keys without a word, so `{"alg":"ES256","alg":"none"}`
//! would read as `none` to one parser and `ES256` to another. A JOSE header or claim set with
//! a repeated key is refused outright (RFC 7515 §5.2 step 4, RFC 8725 §3.11).

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
