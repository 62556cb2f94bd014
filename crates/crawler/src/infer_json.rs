//! JSON records (JSON lines, concatenated or pretty-printed objects, or a top-level
//! array of objects): the merged schema of a sample of records.
//!
//! Types follow Glue's JSON classifier: integers are `int` when they fit 32 bits and
//! `bigint` otherwise, other numbers `double`, `true`/`false` `boolean`, strings
//! `string`, objects `struct<…>` (members merged across records), arrays `array<…>`
//! (elements merged); `null` carries no information. Top-level members become columns
//! in order of first appearance.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::types::{HiveType, merge, merge_fields};

/// What a sample of JSON records says about its table.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonSample {
    /// Columns (top-level members) and their merged types.
    pub columns: Vec<(String, HiveType)>,
    /// Records in the sample.
    pub records: u64,
}

/// Whether `bytes` (the start of a file) begin with a JSON object or array.
pub fn looks_like_json(bytes: &[u8]) -> bool {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{') | Some(b'['))
        && serde_json::Deserializer::from_slice(bytes)
            .into_iter::<IgnoredAny>()
            .next()
            .is_some_and(|v| v.is_ok() || bytes.len() > 4096)
}

/// Samples up to `max_records` records. `truncated` says `bytes` is only the start of
/// the file, so a record cut at its end is not an error. A file that does not start
/// with a JSON object (or an array of objects) is an error.
pub fn sample(bytes: &[u8], max_records: usize, truncated: bool) -> Result<JsonSample, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = JsonSample {
        columns: Vec::new(),
        records: 0,
    };
    for (index, value) in serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Typed>()
        .enumerate()
    {
        if out.records as usize >= max_records {
            break;
        }
        match value {
            Ok(Typed {
                kind: HiveType::Struct(fields),
                ..
            }) => out.add(fields, 1),
            Ok(Typed {
                kind: HiveType::Array(element),
                len,
            }) => match *element {
                HiveType::Struct(fields) => out.add(fields, len),
                HiveType::Null if len == 0 => {}
                _ => return Err("a JSON array of values that are not objects".into()),
            },
            Ok(_) => return Err("JSON values that are not objects".into()),
            Err(error) if index == 0 => return Err(format!("not JSON: {error}")),
            Err(_) if truncated => break,
            Err(error) => {
                return Err(format!(
                    "invalid JSON after {} records: {error}",
                    out.records
                ));
            }
        }
    }
    Ok(out)
}

impl JsonSample {
    fn add(&mut self, fields: Vec<(String, HiveType)>, records: usize) {
        self.columns = merge_fields(std::mem::take(&mut self.columns), fields);
        self.records += records as u64;
    }
}

/// The Hive type of one JSON value (`len`: its element count when it is an array),
/// computed while parsing, so object members keep their order of appearance.
pub struct Typed {
    /// The value's type.
    pub kind: HiveType,
    /// Elements of an array value (0 otherwise).
    pub len: usize,
}

/// The Hive type of one JSON text, e.g. `{"a": [1]}` → `struct<a:array<int>>`.
pub fn kind_of(text: &str) -> Result<HiveType, String> {
    serde_json::from_str::<Typed>(text)
        .map(|t| t.kind)
        .map_err(|e| e.to_string())
}

impl<'de> Deserialize<'de> for Typed {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TypedVisitor)
    }
}

struct TypedVisitor;

fn scalar<E>(kind: HiveType) -> Result<Typed, E> {
    Ok(Typed { kind, len: 0 })
}

impl<'de> Visitor<'de> for TypedVisitor {
    type Value = Typed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Typed, E> {
        scalar(HiveType::Boolean)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Typed, E> {
        scalar(if i32::try_from(v).is_ok() {
            HiveType::Int
        } else {
            HiveType::BigInt
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Typed, E> {
        scalar(if i32::try_from(v).is_ok() {
            HiveType::Int
        } else {
            HiveType::BigInt
        })
    }
    fn visit_f64<E>(self, _: f64) -> Result<Typed, E> {
        scalar(HiveType::Double)
    }
    fn visit_str<E>(self, _: &str) -> Result<Typed, E> {
        scalar(HiveType::String)
    }
    fn visit_unit<E>(self) -> Result<Typed, E> {
        scalar(HiveType::Null)
    }
    fn visit_none<E>(self) -> Result<Typed, E> {
        scalar(HiveType::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Typed, A::Error> {
        let mut element = HiveType::Null;
        let mut len = 0;
        while let Some(item) = seq.next_element::<Typed>()? {
            element = merge(element, item.kind);
            len += 1;
        }
        Ok(Typed {
            kind: HiveType::Array(Box::new(element)),
            len,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Typed, A::Error> {
        let mut fields = Vec::new();
        while let Some((name, value)) = map.next_entry::<String, Typed>()? {
            fields = merge_fields(fields, vec![(name.to_lowercase(), value.kind)]);
        }
        scalar(HiveType::Struct(fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(sample: &JsonSample) -> Vec<(String, String)> {
        sample
            .columns
            .iter()
            .map(|(n, t)| (n.clone(), t.to_string()))
            .collect()
    }

    #[test]
    fn json_lines_merge_keys_and_types() {
        let text = br#"{"id": 1, "user": {"name": "a"}, "tags": ["x"]}
{"id": 3000000000, "user": {"name": "b", "age": 3}, "score": 1.5}
{"id": 2, "tags": [], "score": 2, "ok": true, "gone": null}
"#;
        let sample = sample(text, 100, false).expect("json");
        assert_eq!(sample.records, 3);
        let expected: Vec<(String, String)> = [
            ("id", "bigint"),
            ("user", "struct<name:string,age:int>"),
            ("tags", "array<string>"),
            ("score", "double"),
            ("ok", "boolean"),
            ("gone", "string"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(rendered(&sample), expected);
    }

    #[test]
    fn arrays_pretty_objects_and_truncation() {
        let array = br#"[{"a": 1}, {"b": "x"}]"#;
        let s = sample(array, 100, false).expect("array");
        assert_eq!(s.records, 2);
        assert_eq!(s.columns.len(), 2);
        let pretty = b"{\n  \"a\": {\n    \"b\": [1, 2.5]\n  }\n}\n";
        let s = sample(pretty, 100, false).expect("pretty");
        assert_eq!(rendered(&s)[0].1, "struct<b:array<double>>");
        let cut = b"{\"a\": 1}\n{\"a\": 2}\n{\"a\": ";
        assert_eq!(sample(cut, 100, true).expect("truncated").records, 2);
        assert!(sample(cut, 100, false).is_err());
        assert!(sample(b"id,name\n1,x\n", 100, false).is_err());
        assert!(sample(b"[1, 2]", 100, false).is_err());
        assert_eq!(
            kind_of(r#"{"B": [1, 5000000000], "a": null}"#).map(|k| k.to_string()),
            Ok("struct<b:array<bigint>,a:string>".to_string())
        );
        assert!(looks_like_json(b"  {\"a\": 1}"));
        assert!(!looks_like_json(b"a,b\n"));
    }
}
