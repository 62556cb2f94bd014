//! Resources are stored as their AWS wire form (JSON) in the store's documents.
//!
//! The wire form is AWS's own versioned, backward-compatible format, which makes it
//! a stable storage format too; conversion happens here and nowhere else.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use weir_store::{Kind, Record, Scope, Transaction};

use crate::ApiError;

/// A stored resource decoded into its wire shape, with its tags.
pub struct Stored<T> {
    /// The decoded document.
    pub value: T,
    /// The resource's tags.
    pub tags: BTreeMap<String, String>,
    /// The containing resource (workflow of a trigger, database of a table).
    pub parent: Option<String>,
}

/// Reads and decodes the resource `name` of `kind`, if present.
pub fn load<T: DeserializeOwned>(
    tx: &mut dyn Transaction,
    scope: &Scope,
    kind: Kind,
    name: &str,
) -> Result<Option<Stored<T>>, ApiError> {
    tx.get(scope, kind, name)?.map(decode).transpose()
}

/// Decodes a record read from the store.
pub fn decode<T: DeserializeOwned>(record: Record) -> Result<Stored<T>, ApiError> {
    let value = serde_json::from_str(&record.doc).map_err(|e| {
        ApiError::Internal(format!(
            "stored document of '{}' is unreadable: {e}",
            record.name
        ))
    })?;
    Ok(Stored {
        value,
        tags: record.tags,
        parent: record.parent,
    })
}

/// Decodes records read from the store into their values (tags and parents dropped).
pub fn decode_values<T: DeserializeOwned>(records: Vec<Record>) -> Result<Vec<T>, ApiError> {
    records
        .into_iter()
        .map(|record| decode(record).map(|s| s.value))
        .collect()
}

/// Encodes a resource for the store.
pub fn record<T: Serialize>(
    name: &str,
    parent: Option<String>,
    value: &T,
    tags: BTreeMap<String, String>,
) -> Result<Record, ApiError> {
    let doc = serde_json::to_string(value)
        .map_err(|e| ApiError::Internal(format!("could not encode '{name}': {e}")))?;
    Ok(Record {
        name: name.to_string(),
        parent,
        doc,
        tags,
    })
}

/// The BatchGet* split: reads each name with `load`, returning the values found (in
/// request order) and the names that were not.
pub fn load_each<T>(
    names: Vec<String>,
    mut load: impl FnMut(&str) -> Result<Option<T>, ApiError>,
) -> Result<(Vec<T>, Vec<String>), ApiError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match load(&name)? {
            Some(value) => found.push(value),
            None => missing.push(name),
        }
    }
    Ok((found, missing))
}
