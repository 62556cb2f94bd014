//! The one encoding of documents into the store, and their versions.
//!
//! Resources are stored as their AWS wire form (JSON): AWS's own backward-compatible
//! format, which makes it a stable storage format too. Every stored document is a
//! [`Document`] and is written with its type's [`Document::VERSION`]; reading a
//! document of an older version goes through that type's frozen decoders
//! ([`Document::upgrade`], the migration chain); a document of a newer version (a
//! downgrade) is refused rather than misread. Conversion happens here and nowhere else.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use weir_store::{Kind, Record, Scope, Transaction};

use crate::ApiError;

/// A value kept in the store as a versioned JSON document.
pub trait Document: Serialize + DeserializeOwned {
    /// The version of the format this build writes. A change that older decoders
    /// cannot read bumps it and adds the old format's decoder to [`Document::upgrade`].
    const VERSION: u32 = 1;

    /// Decodes a document written at an older `version` into today's form (the
    /// migration chain). Formats that never changed have no older versions.
    fn upgrade(version: u32, text: &str) -> Result<Self, String> {
        let _ = text;
        Err(format!("no decoder for format version {version}"))
    }
}

/// Decodes the document `text` of `name`, written at `version`.
pub fn decode_document<T: Document>(name: &str, version: u32, text: &str) -> Result<T, ApiError> {
    let decoded = if version == T::VERSION {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else if version < T::VERSION {
        T::upgrade(version, text)
    } else {
        Err(format!(
            "it has format version {version}, this Weir reads up to {} (written by a newer \
             release)",
            T::VERSION
        ))
    };
    decoded
        .map_err(|e| ApiError::Internal(format!("stored document of '{name}' is unreadable: {e}")))
}

/// Encodes `value` as a document of `name`: its text and format version.
pub fn encode_document<T: Document>(name: &str, value: &T) -> Result<(String, u32), ApiError> {
    let text = serde_json::to_string(value)
        .map_err(|e| ApiError::Internal(format!("could not encode '{name}': {e}")))?;
    Ok((text, T::VERSION))
}

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
pub fn load<T: Document>(
    tx: &mut dyn Transaction,
    scope: &Scope,
    kind: Kind,
    name: &str,
) -> Result<Option<Stored<T>>, ApiError> {
    tx.get(scope, kind, name)?.map(decode).transpose()
}

/// Decodes a record read from the store.
pub fn decode<T: Document>(record: Record) -> Result<Stored<T>, ApiError> {
    let value = decode_document(&record.name, record.version, &record.doc)?;
    Ok(Stored {
        value,
        tags: record.tags,
        parent: record.parent,
    })
}

/// Decodes records read from the store into their values (tags and parents dropped).
pub fn decode_values<T: Document>(records: Vec<Record>) -> Result<Vec<T>, ApiError> {
    records
        .into_iter()
        .map(|record| decode(record).map(|s| s.value))
        .collect()
}

/// Encodes a resource for the store.
pub fn record<T: Document>(
    name: &str,
    parent: Option<String>,
    value: &T,
    tags: BTreeMap<String, String>,
) -> Result<Record, ApiError> {
    let (doc, version) = encode_document(name, value)?;
    Ok(Record {
        name: name.to_string(),
        parent,
        doc,
        version,
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

/// The AWS wire shapes Weir stores as they are: their format is AWS's and has one
/// version so far.
macro_rules! wire_documents {
    ($($shape:ident),* $(,)?) => {
        $(impl Document for weir_model::shapes::$shape {})*
    };
}

wire_documents!(
    Workflow, Trigger, Job, JobRun, Crawler, Database, Partition, Connection
);
