//! The blocking part of a crawl: resolve each S3 target to its local directory, walk
//! it, group files into tables ([`crate::layout`]), classify and sample each table's
//! files, and describe the tables found. Nothing is written here.
//!
//! **Classification** (per file, then the majority format of a table's files wins):
//! `.parquet` or the `PAR1` magic → parquet; `.json`/`.jsonl`/`.ndjson` or content that
//! parses as JSON objects → json; `.csv`/`.tsv`/`.psv` or text with a consistent
//! delimiter → csv. Compressed files (`.gz`, `.bz2`, `.snappy`, `.zst`, ...) and other
//! content are not classified and take no part in a table's schema. A table whose
//! files are all unclassified is not created.
//!
//! **Sampling.** At most [`SAMPLE_BYTES`] of each file and [`SAMPLE_FILES`] files per
//! table are read for the schema (Parquet: only the footer); object counts and sizes
//! cover every file.
//!
//! **Targets.** `s3://bucket/prefix` reads `<s3 dir>/bucket/prefix`; a missing bucket
//! directory fails the crawl with `S3 bucket <b> does not exist.`, a missing prefix
//! (or an empty one) yields no tables, as on AWS. `file://` URLs and plain paths are
//! crawled too.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};
use weir_model::shapes::S3Target;

use crate::glob::Glob;
use crate::layout::{self, FileEntry, GroupFile, TableGroup};
use crate::types::{HiveType, merge_fields};
use crate::{infer_csv, infer_json, infer_parquet};
use weir_runner::locations;

/// Bytes of a file read to classify and sample it.
pub const SAMPLE_BYTES: u64 = 1024 * 1024;
/// Files per table sampled for the schema.
pub const SAMPLE_FILES: usize = 512;
/// Records per file sampled.
const SAMPLE_RECORDS: usize = 1000;

/// Why a scan did not produce tables.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanError {
    /// The crawl was asked to stop.
    Cancelled,
    /// The crawl failed; the message is the crawl's ErrorMessage.
    Failed(String),
}

/// A data format the crawler recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delimited text with this delimiter.
    Csv {
        /// The field delimiter.
        delimiter: u8,
    },
    /// JSON records.
    Json,
    /// Parquet.
    Parquet,
}

impl Format {
    /// The `classification` table parameter.
    pub fn classification(self) -> &'static str {
        match self {
            Format::Csv { .. } => "csv",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

/// A table the scan found.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundTable {
    /// Sanitized table name (without the crawler's TablePrefix), unique in the scan.
    pub name: String,
    /// Location URI (`/`-terminated for folders).
    pub location: String,
    /// The table's format.
    pub format: Format,
    /// CSV: whether files start with a header row.
    pub header: bool,
    /// CSV: whether values are quoted.
    pub quoted: bool,
    /// Columns (partition keys excluded) and types.
    pub columns: Vec<(String, HiveType)>,
    /// Partition key names (all typed `string`).
    pub partition_keys: Vec<String>,
    /// Partitions, sorted by values.
    pub partitions: Vec<FoundPartition>,
    /// Number of files.
    pub objects: u64,
    /// Total bytes.
    pub size: u64,
    /// Estimated records.
    pub records: u64,
}

/// One partition of a found table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FoundPartition {
    /// Values, one per partition key.
    pub values: Vec<String>,
    /// Location URI of the partition folder.
    pub location: String,
}

/// Lowercases a name and replaces every character but `a-z`, `0-9` and `_` with `_`.
pub fn sanitize(name: &str) -> String {
    let clean: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "table".to_string()
    } else {
        clean
    }
}

/// Crawls `targets`. `stopped` is polled between files; `pause` runs before each
/// sampled file (a test hook that slows crawls down; a no-op otherwise).
pub fn scan(
    targets: &[S3Target],
    s3_root: &Path,
    stopped: &dyn Fn() -> bool,
    pause: &dyn Fn(),
) -> Result<Vec<FoundTable>, ScanError> {
    let mut found: Vec<FoundTable> = Vec::new();
    for target in targets {
        let path = target.path.as_deref().unwrap_or_default();
        let (local, uri) = resolve(path, s3_root)?;
        let exclusions = target
            .exclusions
            .iter()
            .flatten()
            .map(|p| {
                Glob::new(p)
                    .map_err(|e| ScanError::Failed(format!("Invalid exclusion pattern: {e}")))
            })
            .collect::<Result<Vec<Glob>, _>>()?;
        let root_name = uri.rsplit('/').next().unwrap_or("table").to_string();
        let groups = if local.is_file() {
            let size = std::fs::metadata(&local).map(|m| m.len()).unwrap_or(0);
            let entry = FileEntry {
                path: local.clone(),
                rel: vec![root_name.clone()],
                size,
            };
            vec![TableGroup {
                name: root_name,
                location: uri.clone(),
                partition_keys: Vec::new(),
                files: vec![GroupFile {
                    entry,
                    values: Vec::new(),
                    partition_location: uri,
                }],
            }]
        } else if local.is_dir() {
            let files = layout::walk(&local, &exclusions, stopped)?;
            layout::group(&uri, &root_name, files)
        } else {
            Vec::new()
        };
        for group in groups {
            if let Some(mut table) = describe(group, stopped, pause)? {
                if found.iter().any(|t| t.name == table.name) {
                    let digest = hex::encode(Sha256::digest(table.location.as_bytes()));
                    table.name = format!("{}_{}", table.name, &digest[..8]);
                }
                found.push(table);
            }
        }
    }
    Ok(found)
}

/// The local directory of a target path and its normalised URI (no trailing `/`).
fn resolve(path: &str, s3_root: &Path) -> Result<(PathBuf, String), ScanError> {
    let failed = |m: String| ScanError::Failed(m);
    if let Some(rest) = path.strip_prefix("s3://") {
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(failed(format!("Invalid S3 target path {path}.")));
        }
        let key = key.trim_matches('/');
        let bucket_dir = s3_root.join(bucket);
        if Path::new(bucket)
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
            || !bucket_dir.is_dir()
        {
            return Err(failed(format!("S3 bucket {bucket} does not exist.")));
        }
        if key.is_empty() {
            return Ok((bucket_dir, format!("s3://{bucket}")));
        }
        let local = locations::resolve(&format!("s3://{bucket}/{key}"), s3_root).map_err(failed)?;
        return Ok((local, format!("s3://{bucket}/{key}")));
    }
    let local = locations::resolve(path, s3_root).map_err(failed)?;
    let trimmed = path.trim_end_matches('/');
    let uri = if trimmed.starts_with("file://") {
        trimmed.to_string()
    } else {
        format!("file://{trimmed}")
    };
    Ok((local, uri))
}

/// One sampled file.
struct FileSample {
    format: Format,
    columns: Vec<(String, HiveType)>,
    header: bool,
    quoted: bool,
    records: u64,
}

/// Classifies and samples a group's files; `None` when none is classified.
fn describe(
    group: TableGroup,
    stopped: &dyn Fn() -> bool,
    pause: &dyn Fn(),
) -> Result<Option<FoundTable>, ScanError> {
    let mut samples: Vec<FileSample> = Vec::new();
    for file in group.files.iter().take(SAMPLE_FILES) {
        if stopped() {
            return Err(ScanError::Cancelled);
        }
        pause();
        match sample_file(&file.entry) {
            Ok(Some(sample)) => samples.push(sample),
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(file = %file.entry.path.display(), %error, "crawl: file not classified");
            }
        }
    }
    let Some(format) = majority(&samples) else {
        return Ok(None);
    };
    let header = samples
        .iter()
        .find(|s| s.format == format)
        .is_some_and(|s| s.header);
    let mut columns = Vec::new();
    let mut quoted = false;
    let mut sampled_records = 0u64;
    let mut sampled_files = 0u64;
    for sample in samples
        .into_iter()
        .filter(|s| s.format == format && s.header == header)
    {
        columns = merge_fields(columns, sample.columns);
        quoted |= sample.quoted;
        sampled_records += sample.records;
        sampled_files += 1;
    }
    columns.retain(|(name, _)| !group.partition_keys.contains(name));
    let objects = group.files.len() as u64;
    let size = group.files.iter().map(|f| f.entry.size).sum();
    let records = sampled_records
        .saturating_mul(objects)
        .checked_div(sampled_files)
        .unwrap_or(0);
    let mut partitions: Vec<FoundPartition> = group
        .files
        .iter()
        .filter(|_| !group.partition_keys.is_empty())
        .map(|f| FoundPartition {
            values: f.values.clone(),
            location: f.partition_location.clone(),
        })
        .collect();
    partitions.sort();
    partitions.dedup_by(|a, b| a.values == b.values);
    Ok(Some(FoundTable {
        name: sanitize(&group.name),
        location: group.location,
        format,
        header,
        quoted,
        columns,
        partition_keys: group.partition_keys,
        partitions,
        objects,
        size,
        records,
    }))
}

/// The most frequent format among the samples (the first seen wins a tie).
fn majority(samples: &[FileSample]) -> Option<Format> {
    let mut counts: Vec<(Format, usize)> = Vec::new();
    for sample in samples {
        match counts.iter_mut().find(|(f, _)| *f == sample.format) {
            Some((_, n)) => *n += 1,
            None => counts.push((sample.format, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(f, _)| f)
}

const COMPRESSED: &[&str] = &[
    "gz", "gzip", "bz2", "snappy", "zst", "zip", "lz4", "deflate", "xz", "lzo", "br",
];

/// Classifies and samples one file; `Ok(None)` when its format is not recognised.
fn sample_file(entry: &FileEntry) -> Result<Option<FileSample>, String> {
    let name = entry.rel.last().map(String::as_str).unwrap_or_default();
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if COMPRESSED.contains(&extension.as_str()) {
        return Ok(None);
    }
    let parquet = |path: &Path| {
        infer_parquet::sample(path).map(|p| {
            Some(FileSample {
                format: Format::Parquet,
                columns: p.columns,
                header: false,
                quoted: false,
                records: p.records,
            })
        })
    };
    if extension == "parquet" {
        return parquet(&entry.path);
    }
    let mut head = Vec::new();
    std::fs::File::open(&entry.path)
        .and_then(|f| f.take(SAMPLE_BYTES).read_to_end(&mut head))
        .map_err(|e| e.to_string())?;
    if head.starts_with(b"PAR1") {
        return parquet(&entry.path);
    }
    let truncated = (head.len() as u64) < entry.size;
    if truncated && let Some(end) = head.iter().rposition(|b| *b == b'\n') {
        head.truncate(end + 1);
    }
    let json_extension = matches!(extension.as_str(), "json" | "jsonl" | "ndjson");
    if json_extension || infer_json::looks_like_json(&head) {
        let sample = infer_json::sample(&head, SAMPLE_RECORDS, truncated)?;
        return Ok(Some(FileSample {
            format: Format::Json,
            columns: sample.columns,
            header: false,
            quoted: false,
            records: sample.records,
        }));
    }
    if head.contains(&0) {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(64 * 1024)]).into_owned();
    let delimiter = match (extension.as_str(), infer_csv::sniff_delimiter(&text)) {
        ("tsv", _) => b'\t',
        ("psv", _) => b'|',
        (_, Some(found)) => found,
        ("csv", None) => b',',
        _ => return Ok(None),
    };
    let sample = infer_csv::sample(&head, delimiter, SAMPLE_RECORDS);
    Ok(Some(FileSample {
        format: Format::Csv { delimiter },
        columns: sample.columns,
        header: sample.header,
        quoted: sample.quoted,
        records: sample.records,
    }))
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
