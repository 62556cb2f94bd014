//! What a crawler reads (glue-api.md §7): the files under a crawler's S3 targets in the
//! local stand-in for S3, grouped into tables and Hive partitions, classified (CSV,
//! JSON lines, Parquet) and sampled into Hive column types. Blocking and pure apart
//! from reading files: it knows nothing of the store, the catalog's stored form or
//! the API; the server turns its [`scan::FoundTable`]s into catalog changes.
//!
//! - [`scan`]: targets → files ([`layout`], [`glob`]) → classified and sampled tables
//!   ([`infer_csv`], [`infer_json`], [`infer_parquet`], [`types`]).
//!
//! May depend on: nothing of Weir. A stop is honoured between files through the
//! `stopped` flag and `pause` hook its caller passes in.

#![warn(missing_docs)]

pub mod glob;
pub mod infer_csv;
pub mod infer_json;
pub mod infer_parquet;
pub mod layout;
pub mod scan;
pub mod types;
