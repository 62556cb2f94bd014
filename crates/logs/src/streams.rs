//! Log groups and streams as Weir keeps them, and every change to them: each is a
//! resource record (`log-group` named after the group, `log-stream` named
//! `<group>:<stream>` with its group as parent — `:` cannot occur in a group name)
//! whose document holds what DescribeLogGroups and DescribeLogStreams answer, and the
//! events are rows of the store keyed by (group, stream, sequence). These functions
//! work inside the caller's transaction, so a crawl can log in the transaction that
//! ends it and the job-output follower stores lines and its file offset together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_resources::ApiError;
use weir_resources::stored::{self, Document};
use weir_store::{Kind, LogEventRecord, Scope, Transaction};

/// Milliseconds in a day (retention is in days).
const DAY_MS: i64 = 86_400_000;
/// What CloudWatch Logs counts for each event besides its message, in bytes.
pub const EVENT_OVERHEAD_BYTES: usize = 26;

/// A log group as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupDoc {
    /// When the group was created, in epoch milliseconds.
    pub creation_time: i64,
    /// Days events are kept; `None` keeps them forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
}

impl Document for LogGroupDoc {}

/// The job run whose output a stream holds (so the stream goes with its run history).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct JobRunSource {
    /// The job's name.
    pub job_name: String,
    /// The job run id.
    pub job_run_id: String,
}

/// A log stream as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LogStreamDoc {
    /// When the stream was created, in epoch milliseconds.
    pub creation_time: i64,
    /// Timestamp of the first event, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_timestamp: Option<i64>,
    /// Timestamp of the last event, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_timestamp: Option<i64>,
    /// When the last event was stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ingestion_time: Option<i64>,
    /// Bytes of every event stored so far (messages plus the per-event overhead).
    #[serde(default)]
    pub stored_bytes: u64,
    /// The sequence the next event gets.
    #[serde(default)]
    pub next_sequence: u64,
    /// The job run whose output this is, for streams the follower writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_run: Option<JobRunSource>,
    /// How far the follower has read each output file (`stdout`, `stderr`), in bytes:
    /// stored with the lines it read, so a restart resumes without gaps or repeats.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub file_offsets: BTreeMap<String, u64>,
}

impl Document for LogStreamDoc {}

impl LogStreamDoc {
    /// A stream without events, created at `now`.
    pub fn new(now: i64) -> Self {
        Self {
            creation_time: now,
            first_event_timestamp: None,
            last_event_timestamp: None,
            last_ingestion_time: None,
            stored_bytes: 0,
            next_sequence: 0,
            job_run: None,
            file_offsets: BTreeMap::new(),
        }
    }
}

/// The record name of stream `stream` of `group`.
fn stream_key(group: &str, stream: &str) -> String {
    format!("{group}:{stream}")
}

/// The stream name of a stream record of `group` (its key without the group).
pub fn stream_name<'a>(group: &str, key: &'a str) -> &'a str {
    key.strip_prefix(group)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(key)
}

/// The group `group`, if it exists.
pub fn load_group(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
) -> Result<Option<LogGroupDoc>, ApiError> {
    Ok(stored::load(tx, scope, Kind::LogGroup, group)?.map(|s| s.value))
}

/// Stores `doc` as group `group`: created when `create`, else replaced.
pub fn save_group(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    doc: &LogGroupDoc,
    create: bool,
) -> Result<bool, ApiError> {
    let record = stored::record(group, None, doc, BTreeMap::new())?;
    Ok(if create {
        tx.insert(scope, Kind::LogGroup, &record)?
    } else {
        tx.update(scope, Kind::LogGroup, &record)?
    })
}

/// The stream `stream` of `group`, if it exists.
pub fn load_stream(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
) -> Result<Option<LogStreamDoc>, ApiError> {
    let key = stream_key(group, stream);
    Ok(stored::load(tx, scope, Kind::LogStream, &key)?.map(|s| s.value))
}

/// Stores `doc` as stream `stream` of `group`: created when `create`, else replaced.
pub fn save_stream(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
    doc: &LogStreamDoc,
    create: bool,
) -> Result<bool, ApiError> {
    let key = stream_key(group, stream);
    let record = stored::record(&key, Some(group.to_string()), doc, BTreeMap::new())?;
    Ok(if create {
        tx.insert(scope, Kind::LogStream, &record)?
    } else {
        tx.update(scope, Kind::LogStream, &record)?
    })
}

/// Every stream of `group` with its name, in name order.
pub fn list_streams(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
) -> Result<Vec<(String, LogStreamDoc)>, ApiError> {
    tx.list_children(scope, Kind::LogStream, group)?
        .into_iter()
        .map(|record| {
            let name = stream_name(group, &record.name).to_string();
            stored::decode::<LogStreamDoc>(record).map(|s| (name, s.value))
        })
        .collect()
}

/// The stream `stream` of `group`, creating the group and the stream (at `now`) when
/// they do not exist yet: how Weir's own writers (job output, crawls) log.
pub fn open_stream(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
    now: i64,
) -> Result<LogStreamDoc, ApiError> {
    if load_group(tx, scope, group)?.is_none() {
        let doc = LogGroupDoc {
            creation_time: now,
            retention_in_days: None,
        };
        save_group(tx, scope, group, &doc, true)?;
    }
    match load_stream(tx, scope, group, stream)? {
        Some(doc) => Ok(doc),
        None => {
            let doc = LogStreamDoc::new(now);
            save_stream(tx, scope, group, stream, &doc, true)?;
            Ok(doc)
        }
    }
}

/// Appends events `(timestamp, message)` to the stream whose document is `doc`,
/// ingested at `now`, and stores the updated document (which the caller may have
/// changed too, e.g. a file offset).
pub fn append(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
    doc: &mut LogStreamDoc,
    events: Vec<(i64, String)>,
    now: i64,
) -> Result<(), ApiError> {
    let mut records = Vec::with_capacity(events.len());
    for (timestamp_ms, message) in events {
        doc.first_event_timestamp.get_or_insert(timestamp_ms);
        doc.last_event_timestamp = Some(
            doc.last_event_timestamp
                .map_or(timestamp_ms, |last| last.max(timestamp_ms)),
        );
        doc.stored_bytes = doc
            .stored_bytes
            .saturating_add((message.len() + EVENT_OVERHEAD_BYTES) as u64);
        records.push(LogEventRecord {
            sequence: doc.next_sequence,
            timestamp_ms,
            ingestion_ms: now,
            message,
        });
        doc.next_sequence = doc.next_sequence.saturating_add(1);
    }
    if !records.is_empty() {
        doc.last_ingestion_time = Some(now);
        tx.put_log_events(scope, group, stream, &records)?;
    }
    save_stream(tx, scope, group, stream, doc, false)?;
    Ok(())
}

/// Appends `lines`, all stamped `now`, to stream `stream` of `group`, creating both
/// if needed: one call per batch of lines Weir itself logs.
pub fn log_lines(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
    lines: &[String],
    now: i64,
) -> Result<(), ApiError> {
    let mut doc = open_stream(tx, scope, group, stream, now)?;
    let events = lines.iter().map(|line| (now, line.clone())).collect();
    append(tx, scope, group, stream, &mut doc, events, now)
}

/// Deletes stream `stream` of `group` and its events; `false` when it did not exist.
pub fn delete_stream(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
    stream: &str,
) -> Result<bool, ApiError> {
    if !tx.delete(scope, Kind::LogStream, &stream_key(group, stream))? {
        return Ok(false);
    }
    tx.delete_log_events(scope, group, Some(stream))?;
    Ok(true)
}

/// Deletes group `group`, its streams and their events; `false` when it did not exist.
pub fn delete_group(
    tx: &mut dyn Transaction,
    scope: &Scope,
    group: &str,
) -> Result<bool, ApiError> {
    if !tx.delete(scope, Kind::LogGroup, group)? {
        return Ok(false);
    }
    for record in tx.list_children(scope, Kind::LogStream, group)? {
        tx.delete(scope, Kind::LogStream, &record.name)?;
    }
    tx.delete_log_events(scope, group, None)?;
    Ok(true)
}

/// Deletes, in every scope, the events older than their group's retention at `now`;
/// returns how many went.
pub fn purge_expired_events(tx: &mut dyn Transaction, now: i64) -> Result<u64, ApiError> {
    let mut purged = 0;
    for (scope, record) in tx.list_all(Kind::LogGroup)? {
        let name = record.name.clone();
        let group = stored::decode::<LogGroupDoc>(record)?.value;
        if let Some(days) = group.retention_in_days {
            let cutoff = now.saturating_sub(i64::from(days).saturating_mul(DAY_MS));
            purged += tx.delete_log_events_before(&scope, &name, cutoff)?;
        }
    }
    Ok(purged)
}

/// Deletes, in every scope, the streams of job runs whose history is gone (purged
/// past the run-history retention); returns how many streams went.
pub fn purge_streams_of_purged_runs(tx: &mut dyn Transaction) -> Result<u64, ApiError> {
    let mut purged = 0;
    for (scope, record) in tx.list_all(Kind::LogStream)? {
        let key = record.name.clone();
        let group = record.parent.clone().unwrap_or_default();
        let doc = stored::decode::<LogStreamDoc>(record)?.value;
        let Some(source) = doc.job_run else {
            continue;
        };
        if tx
            .get_job_run(&scope, &source.job_name, &source.job_run_id)?
            .is_none()
        {
            let stream = stream_name(&group, &key).to_string();
            if delete_stream(tx, &scope, &group, &stream)? {
                purged += 1;
            }
        }
    }
    Ok(purged)
}
