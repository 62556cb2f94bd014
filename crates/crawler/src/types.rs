//! Hive column types as the crawler infers them, and how two observations of one
//! column merge (glue-api.md §7; AWS Glue's built-in classifiers).
//!
//! Merging widens: `int` + `bigint` → `bigint`, any integer + `double` → `double`,
//! structs merge member by member, arrays merge their elements, `Null` (no
//! information, e.g. a JSON `null` or an empty CSV cell) yields to anything, and every
//! other disagreement becomes `string`, the type every value can be read as.

use std::fmt;

/// One inferred column type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HiveType {
    /// Nothing observed yet (only nulls / empty values); rendered `string`.
    Null,
    /// `boolean`.
    Boolean,
    /// `int` (32-bit; JSON integers that fit).
    Int,
    /// `bigint` (64-bit).
    BigInt,
    /// `double`.
    Double,
    /// `timestamp`.
    Timestamp,
    /// `string`.
    String,
    /// `struct<name:type,...>`, members in order of first appearance.
    Struct(Vec<(String, HiveType)>),
    /// `array<type>`.
    Array(Box<HiveType>),
    /// Any other type in its Hive spelling (Parquet: `float`, `date`, `decimal(9,2)`,
    /// `map<string,int>`, `binary`, ...). Equal spellings merge; others become `string`.
    Named(String),
}

impl fmt::Display for HiveType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HiveType::Null | HiveType::String => f.write_str("string"),
            HiveType::Boolean => f.write_str("boolean"),
            HiveType::Int => f.write_str("int"),
            HiveType::BigInt => f.write_str("bigint"),
            HiveType::Double => f.write_str("double"),
            HiveType::Timestamp => f.write_str("timestamp"),
            HiveType::Struct(members) => {
                f.write_str("struct<")?;
                for (i, (name, member)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{name}:{member}")?;
                }
                f.write_str(">")
            }
            HiveType::Array(element) => write!(f, "array<{element}>"),
            HiveType::Named(name) => f.write_str(name),
        }
    }
}

/// The type that can hold values of both `a` and `b`.
pub fn merge(a: HiveType, b: HiveType) -> HiveType {
    use HiveType::*;
    match (a, b) {
        (Null, x) | (x, Null) => x,
        (a, b) if a == b => a,
        (Int, BigInt) | (BigInt, Int) => BigInt,
        (Int | BigInt, Double) | (Double, Int | BigInt) => Double,
        (Struct(a), Struct(b)) => Struct(merge_fields(a, b)),
        (Array(a), Array(b)) => Array(Box::new(merge(*a, *b))),
        _ => String,
    }
}

/// Merges two column lists by name: members of `more` that `into` lacks are appended
/// in their order; members present in both get the merged type.
pub fn merge_fields(
    mut into: Vec<(String, HiveType)>,
    more: Vec<(String, HiveType)>,
) -> Vec<(String, HiveType)> {
    for (name, kind) in more {
        match into.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                let current = std::mem::replace(existing, HiveType::Null);
                *existing = merge(current, kind);
            }
            None => into.push((name, kind)),
        }
    }
    into
}

#[cfg(test)]
mod tests {
    use super::HiveType::*;
    use super::*;

    #[test]
    fn numbers_widen_and_conflicts_become_string() {
        assert_eq!(merge(Int, BigInt), BigInt);
        assert_eq!(merge(BigInt, Double), Double);
        assert_eq!(merge(Null, Boolean), Boolean);
        assert_eq!(merge(Boolean, BigInt), String);
        assert_eq!(merge(Timestamp, Double), String);
        assert_eq!(
            merge(Named("date".into()), Named("date".into())).to_string(),
            "date"
        );
        assert_eq!(merge(Named("date".into()), Named("float".into())), String);
    }

    #[test]
    fn structs_and_arrays_merge_recursively() {
        let a = Struct(vec![
            ("id".into(), Int),
            ("tags".into(), Array(Box::new(Null))),
        ]);
        let b = Struct(vec![
            ("tags".into(), Array(Box::new(String))),
            ("id".into(), BigInt),
            ("geo".into(), Struct(vec![("lat".into(), Double)])),
        ]);
        let merged = merge(a, b);
        assert_eq!(
            merged.to_string(),
            "struct<id:bigint,tags:array<string>,geo:struct<lat:double>>"
        );
        assert_eq!(Null.to_string(), "string");
    }
}
