//! The operations of CloudWatch Logs: one handler each, decode → validate → store →
//! answer, with the members and errors CloudWatch Logs uses.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};
use weir_store::{Kind, LogEventCursor, LogEventRange, LogEventRecord, Scope};

use crate::Logs;
use crate::filter::FilterPattern;
use crate::protocol::{LogsError, decode};
use crate::streams::{self, EVENT_OVERHEAD_BYTES, LogGroupDoc, LogStreamDoc};
use crate::tokens::EventToken;

/// Most events GetLogEvents and FilterLogEvents answer at once (and their default).
const MAX_EVENTS: usize = 10_000;
/// Most bytes of events one answer carries (messages plus the per-event overhead).
const MAX_ANSWER_BYTES: usize = 1_048_576;
/// Most groups or streams one Describe answer lists (and the default).
const MAX_DESCRIBED: usize = 50;
/// Events FilterLogEvents reads from the store per batch.
const SCAN_BATCH: usize = 1_000;
/// Events FilterLogEvents examines per call before answering with a token to go on.
const SCAN_BUDGET: usize = 100_000;
/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn group_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log group does not exist.".into())
}

fn stream_not_found() -> LogsError {
    LogsError::ResourceNotFound("The specified log stream does not exist.".into())
}

/// The group a request names, by `logGroupName` or `logGroupIdentifier` (a name or
/// an ARN).
fn group_of(name: Option<String>, identifier: Option<String>) -> Result<String, LogsError> {
    if let Some(name) = name {
        return Ok(name);
    }
    let identifier = identifier.ok_or_else(|| {
        LogsError::InvalidParameter("Either logGroupName or logGroupIdentifier is required.".into())
    })?;
    let name = match identifier.split_once(":log-group:") {
        Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest).to_string(),
        None => identifier,
    };
    Ok(name)
}

/// Checks a group name against CloudWatch Logs' rule.
fn check_group_name(name: &str) -> Result<(), LogsError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#');
    if name.is_empty() || name.len() > 512 || !name.chars().all(allowed) {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )));
    }
    Ok(())
}

/// Checks a stream name against CloudWatch Logs' rule.
fn check_stream_name(name: &str) -> Result<(), LogsError> {
    if name.is_empty() || name.len() > 512 || name.contains([':', '*']) {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{name}' at 'logStreamName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [^:*]*"
        )));
    }
    Ok(())
}

/// A `limit` member: `default` when absent, else within `1..=max`.
fn limit_of(limit: Option<i64>, max: usize) -> Result<usize, LogsError> {
    match limit {
        None => Ok(max),
        Some(value) => usize::try_from(value)
            .ok()
            .filter(|v| (1..=max).contains(v))
            .ok_or_else(|| {
                LogsError::InvalidParameter(format!(
                    "1 validation error detected: Value '{value}' at 'limit' failed to satisfy \
                     constraint: Member must have value between 1 and {max}"
                ))
            }),
    }
}

fn group_arn(scope: &Scope, group: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{group}",
        scope.region, scope.account
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateLogGroupRequest {
    log_group_name: Option<String>,
}

/// CreateLogGroup.
pub(crate) async fn create_log_group(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: CreateLogGroupRequest = decode(body)?;
    let group = group_of(request.log_group_name, None)?;
    check_group_name(&group)?;
    let scope = scope.clone();
    let doc = LogGroupDoc {
        creation_time: logs.clock.now_millis(),
        retention_in_days: None,
    };
    let created = logs
        .db
        .write(move |tx| streams::save_group(tx, &scope, &group, &doc, true))
        .await?;
    if !created {
        return Err(LogsError::ResourceAlreadyExists(
            "The specified log group already exists".into(),
        ));
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StreamRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
}

impl StreamRequest {
    fn names(self) -> Result<(String, String), LogsError> {
        let group = group_of(self.log_group_name, self.log_group_identifier)?;
        let stream = self
            .log_stream_name
            .ok_or_else(|| LogsError::InvalidParameter("logStreamName is required.".into()))?;
        Ok((group, stream))
    }
}

/// CreateLogStream.
pub(crate) async fn create_log_stream(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let (group, stream) = decode::<StreamRequest>(body)?.names()?;
    check_stream_name(&stream)?;
    let scope = scope.clone();
    let now = logs.clock.now_millis();
    logs.db
        .write(move |tx| {
            if streams::load_group(tx, &scope, &group)?.is_none() {
                return Ok(Err(group_not_found()));
            }
            let doc = LogStreamDoc::new(now);
            if !streams::save_stream(tx, &scope, &group, &stream, &doc, true)? {
                return Ok(Err(LogsError::ResourceAlreadyExists(
                    "The specified log stream already exists".into(),
                )));
            }
            Ok(Ok(json!({})))
        })
        .await?
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GroupRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
}

/// DeleteLogGroup: the group, its streams and their events.
pub(crate) async fn delete_log_group(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: GroupRequest = decode(body)?;
    let group = group_of(request.log_group_name, request.log_group_identifier)?;
    let scope = scope.clone();
    let deleted = logs
        .db
        .write(move |tx| streams::delete_group(tx, &scope, &group))
        .await?;
    if !deleted {
        return Err(group_not_found());
    }
    Ok(json!({}))
}

/// DeleteLogStream: the stream and its events.
pub(crate) async fn delete_log_stream(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let (group, stream) = decode::<StreamRequest>(body)?.names()?;
    let scope = scope.clone();
    logs.db
        .write(move |tx| {
            if streams::load_group(tx, &scope, &group)?.is_none() {
                return Ok(Err(group_not_found()));
            }
            if !streams::delete_stream(tx, &scope, &group, &stream)? {
                return Ok(Err(stream_not_found()));
            }
            Ok(Ok(json!({})))
        })
        .await?
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutRetentionPolicyRequest {
    log_group_name: Option<String>,
    retention_in_days: Option<i64>,
}

/// PutRetentionPolicy: events older than the retention are purged periodically on
/// the server's clock ([`crate::Logs::purge_expired`]).
pub(crate) async fn put_retention_policy(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: PutRetentionPolicyRequest = decode(body)?;
    let group = group_of(request.log_group_name, None)?;
    let days = request.retention_in_days.unwrap_or_default();
    let days = u32::try_from(days)
        .ok()
        .filter(|d| RETENTION_DAYS.contains(d))
        .ok_or_else(|| {
            let allowed: Vec<String> = RETENTION_DAYS.iter().map(u32::to_string).collect();
            LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{days}' at 'retentionInDays' failed to \
                 satisfy constraint: Member must satisfy enum value set: [{}]",
                allowed.join(", ")
            ))
        })?;
    set_retention(logs, scope, group, Some(days)).await
}

/// DeleteRetentionPolicy: the group keeps its events forever again.
pub(crate) async fn delete_retention_policy(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: GroupRequest = decode(body)?;
    let group = group_of(request.log_group_name, request.log_group_identifier)?;
    set_retention(logs, scope, group, None).await
}

async fn set_retention(
    logs: &Logs,
    scope: &Scope,
    group: String,
    days: Option<u32>,
) -> Result<Value, LogsError> {
    let scope = scope.clone();
    logs.db
        .write(move |tx| {
            let Some(mut doc) = streams::load_group(tx, &scope, &group)? else {
                return Ok(Err(group_not_found()));
            };
            doc.retention_in_days = days;
            streams::save_group(tx, &scope, &group, &doc, false)?;
            Ok(Ok(json!({})))
        })
        .await?
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogGroupsRequest {
    log_group_name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// DescribeLogGroups: groups in name order, by prefix, paged.
pub(crate) async fn describe_log_groups(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: DescribeLogGroupsRequest = decode(body)?;
    let limit = limit_of(request.limit, MAX_DESCRIBED)?;
    let prefix = request.log_group_name_prefix.unwrap_or_default();
    let context = format!(
        "DescribeLogGroups/{}/{}/{prefix}",
        scope.account, scope.region
    );
    let mut after = logs
        .tokens
        .cursor(&context, request.next_token.as_deref())?;
    let scope = scope.clone();
    let (page, more) = logs
        .db
        .read(move |tx| {
            let mut page = Vec::new();
            loop {
                let batch = tx.list(&scope, Kind::LogGroup, after.as_deref(), 100)?;
                let exhausted = batch.len() < 100;
                for record in batch {
                    after = Some(record.name.clone());
                    if record.name.starts_with(&prefix) {
                        if page.len() == limit {
                            return Ok((page, true));
                        }
                        let name = record.name.clone();
                        let doc = weir_resources::stored::decode::<LogGroupDoc>(record)?.value;
                        let stored_bytes: u64 = streams::list_streams(tx, &scope, &name)?
                            .iter()
                            .map(|(_, s)| s.stored_bytes)
                            .sum();
                        page.push(group_json(&scope, &name, &doc, stored_bytes));
                    } else if record.name.as_str() > prefix.as_str() {
                        return Ok((page, false));
                    }
                }
                if exhausted {
                    return Ok((page, false));
                }
            }
        })
        .await?;
    let mut answer = json!({ "logGroups": page });
    if more && let Some(last) = page_last_name(&answer, "logGroups", "logGroupName") {
        answer["nextToken"] = logs.tokens.issue(&context, &last).into();
    }
    Ok(answer)
}

fn page_last_name(answer: &Value, list: &str, member: &str) -> Option<String> {
    answer[list]
        .as_array()?
        .last()?
        .get(member)?
        .as_str()
        .map(str::to_string)
}

fn group_json(scope: &Scope, name: &str, doc: &LogGroupDoc, stored_bytes: u64) -> Value {
    let arn = group_arn(scope, name);
    let mut group = json!({
        "logGroupName": name,
        "creationTime": doc.creation_time,
        "metricFilterCount": 0,
        "arn": format!("{arn}:*"),
        "logGroupArn": arn,
        "storedBytes": stored_bytes,
        "logGroupClass": "STANDARD",
    });
    if let Some(days) = doc.retention_in_days {
        group["retentionInDays"] = days.into();
    }
    group
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeLogStreamsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    descending: Option<bool>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// DescribeLogStreams: by name or by last event time, either way round, paged.
pub(crate) async fn describe_log_streams(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: DescribeLogStreamsRequest = decode(body)?;
    let group = group_of(request.log_group_name, request.log_group_identifier)?;
    let limit = limit_of(request.limit, MAX_DESCRIBED)?;
    let by_time = match request.order_by.as_deref() {
        None | Some("LogStreamName") => false,
        Some("LastEventTime") => true,
        Some(other) => {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '{other}' at 'orderBy' failed to satisfy \
                 constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"
            )));
        }
    };
    let prefix = request.log_stream_name_prefix.unwrap_or_default();
    if by_time && !prefix.is_empty() {
        return Err(LogsError::InvalidParameter(
            "Cannot order by LastEventTime with a logStreamNamePrefix.".into(),
        ));
    }
    let descending = request.descending.unwrap_or(false);
    let context = format!(
        "DescribeLogStreams/{}/{}/{group}/{prefix}/{by_time}/{descending}",
        scope.account, scope.region
    );
    let cursor = logs
        .tokens
        .cursor(&context, request.next_token.as_deref())?
        .map(|text| parse_stream_cursor(&text))
        .transpose()?;
    let read_scope = scope.clone();
    let read_group = group.clone();
    let listed = logs
        .db
        .read(move |tx| {
            if streams::load_group(tx, &read_scope, &read_group)?.is_none() {
                return Ok(None);
            }
            streams::list_streams(tx, &read_scope, &read_group).map(Some)
        })
        .await?
        .ok_or_else(group_not_found)?;
    let sort_key = |name: &str, doc: &LogStreamDoc| {
        let time = if by_time {
            doc.last_event_timestamp.unwrap_or(0)
        } else {
            0
        };
        (time, name.to_string())
    };
    let mut keyed: Vec<_> = listed
        .into_iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(name, doc)| (sort_key(&name, &doc), name, doc))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    if descending {
        keyed.reverse();
    }
    let remaining: Vec<_> = keyed
        .into_iter()
        .filter(|(key, _, _)| match &cursor {
            None => true,
            Some(cursor) if descending => key < cursor,
            Some(cursor) => key > cursor,
        })
        .collect();
    let more = remaining.len() > limit;
    let page: Vec<_> = remaining.into_iter().take(limit).collect();
    let next = more
        .then(|| page.last())
        .flatten()
        .map(|((time, name), _, _)| logs.tokens.issue(&context, &format!("{time}:{name}")));
    let arn = group_arn(scope, &group);
    let streams: Vec<Value> = page
        .iter()
        .map(|(_, name, doc)| {
            let mut stream = json!({
                "logStreamName": name,
                "creationTime": doc.creation_time,
                "arn": format!("{arn}:log-stream:{name}"),
                "storedBytes": doc.stored_bytes,
            });
            for (member, value) in [
                ("firstEventTimestamp", doc.first_event_timestamp),
                ("lastEventTimestamp", doc.last_event_timestamp),
                ("lastIngestionTime", doc.last_ingestion_time),
            ] {
                if let Some(value) = value {
                    stream[member] = value.into();
                }
            }
            stream
        })
        .collect();
    let mut answer = json!({ "logStreams": streams });
    if let Some(next) = next {
        answer["nextToken"] = next.into();
    }
    Ok(answer)
}

/// A DescribeLogStreams cursor `<time>:<name>`.
fn parse_stream_cursor(text: &str) -> Result<(i64, String), LogsError> {
    let invalid = || LogsError::InvalidParameter("The specified nextToken is invalid.".into());
    let (time, name) = text.split_once(':').ok_or_else(invalid)?;
    Ok((time.parse().map_err(|_| invalid())?, name.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<i64>,
    start_from_head: Option<bool>,
}

/// GetLogEvents: a page of one stream from its head, its tail or a token, with the
/// tokens to read on either way; at either end the token passed comes back.
pub(crate) async fn get_log_events(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: GetLogEventsRequest = decode(body)?;
    let group = group_of(request.log_group_name, request.log_group_identifier)?;
    let stream = request
        .log_stream_name
        .ok_or_else(|| LogsError::InvalidParameter("logStreamName is required.".into()))?;
    let limit = limit_of(request.limit, MAX_EVENTS)?;
    let token = request
        .next_token
        .as_deref()
        .map(EventToken::parse)
        .transpose()?;
    let from_head = request.start_from_head.unwrap_or(false);
    let scope = scope.clone();
    let (start_ms, end_ms) = (request.start_time, request.end_time);
    let (events, position) = logs
        .db
        .read(move |tx| {
            let Some(doc) = streams::load_stream(tx, &scope, &group, &stream)? else {
                let missing = if streams::load_group(tx, &scope, &group)?.is_none() {
                    group_not_found()
                } else {
                    stream_not_found()
                };
                return Ok(Err(missing));
            };
            let base = LogEventRange {
                start_ms,
                end_ms,
                ..LogEventRange::default()
            };
            let (range, position) = match token {
                Some(EventToken::Forward(at)) => (
                    LogEventRange {
                        from_sequence: Some(at),
                        ..base
                    },
                    at,
                ),
                Some(EventToken::Backward(at)) => (
                    LogEventRange {
                        below_sequence: Some(at),
                        newest_first: true,
                        ..base
                    },
                    at,
                ),
                None if from_head => (base, 0),
                None => (
                    LogEventRange {
                        newest_first: true,
                        ..base
                    },
                    doc.next_sequence,
                ),
            };
            let mut events = tx.list_log_events(&scope, &group, &stream, &range, limit)?;
            keep_within_answer_size(&mut events);
            if range.newest_first {
                events.reverse();
            }
            Ok(Ok((events, position)))
        })
        .await??;
    let (forward, backward) = match (events.first(), events.last()) {
        (Some(first), Some(last)) => (last.sequence.saturating_add(1), first.sequence),
        _ => (position, position),
    };
    let events: Vec<Value> = events
        .into_iter()
        .map(|e| {
            json!({
                "timestamp": e.timestamp_ms,
                "message": e.message,
                "ingestionTime": e.ingestion_ms,
            })
        })
        .collect();
    Ok(json!({
        "events": events,
        "nextForwardToken": EventToken::Forward(forward).encode(),
        "nextBackwardToken": EventToken::Backward(backward).encode(),
    }))
}

/// Cuts `events` (in reading order) where the answer would pass its size limit.
fn keep_within_answer_size(events: &mut Vec<LogEventRecord>) {
    let mut bytes = 0usize;
    let fits = events
        .iter()
        .take_while(|e| {
            bytes = bytes.saturating_add(e.message.len() + EVENT_OVERHEAD_BYTES);
            bytes <= MAX_ANSWER_BYTES
        })
        .count();
    events.truncate(fits.max(1).min(events.len()));
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterLogEventsRequest {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

/// FilterLogEvents: the events of a group's streams that match a pattern, in time
/// order across streams, paged with an opaque token.
pub(crate) async fn filter_log_events(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: FilterLogEventsRequest = decode(body)?;
    let group = group_of(request.log_group_name, request.log_group_identifier)?;
    if request.log_stream_names.is_some() && request.log_stream_name_prefix.is_some() {
        return Err(LogsError::InvalidParameter(
            "logStreamNames and logStreamNamePrefix are mutually exclusive".into(),
        ));
    }
    let limit = limit_of(request.limit, MAX_EVENTS)?;
    let pattern = FilterPattern::parse(request.filter_pattern.as_deref().unwrap_or(""))?;
    let names: Option<BTreeSet<String>> = request.log_stream_names.map(|n| n.into_iter().collect());
    // One named stream (a poller following one run) is read on its own index.
    let only_stream = names
        .as_ref()
        .filter(|n| n.len() == 1)
        .and_then(|n| n.first().cloned());
    let prefix = request.log_stream_name_prefix.unwrap_or_default();
    let context = format!("FilterLogEvents/{}/{}/{group}", scope.account, scope.region);
    let mut after = logs
        .tokens
        .cursor(&context, request.next_token.as_deref())?
        .map(|text| parse_filter_cursor(&text))
        .transpose()?;
    let (start_ms, end_ms) = (request.start_time, request.end_time);
    let scope = scope.clone();
    let (found, streams_searched, more, after) = logs
        .db
        .read(move |tx| {
            if streams::load_group(tx, &scope, &group)?.is_none() {
                return Ok(Err(group_not_found()));
            }
            let wanted = |stream: &str| {
                names.as_ref().is_none_or(|n| n.contains(stream)) && stream.starts_with(&prefix)
            };
            let searched: Vec<String> = streams::list_streams(tx, &scope, &group)?
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| wanted(name))
                .collect();
            let mut found = Vec::new();
            let mut bytes = 0usize;
            let mut examined = 0usize;
            loop {
                let batch = tx.scan_log_events(
                    &scope,
                    &group,
                    only_stream.as_deref(),
                    after.as_ref(),
                    start_ms,
                    end_ms,
                    SCAN_BATCH,
                )?;
                let exhausted = batch.len() < SCAN_BATCH;
                for (stream, event) in batch {
                    if wanted(&stream) && pattern.matches(&event.message) {
                        let size = event.message.len() + EVENT_OVERHEAD_BYTES;
                        if found.len() == limit || bytes.saturating_add(size) > MAX_ANSWER_BYTES {
                            return Ok(Ok((found, searched, true, after)));
                        }
                        bytes += size;
                        found.push((stream.clone(), event.clone()));
                    }
                    examined += 1;
                    after = Some(LogEventCursor {
                        timestamp_ms: event.timestamp_ms,
                        stream,
                        sequence: event.sequence,
                    });
                }
                if exhausted {
                    return Ok(Ok((found, searched, false, after)));
                }
                if examined >= SCAN_BUDGET {
                    return Ok(Ok((found, searched, true, after)));
                }
            }
        })
        .await??;
    let events: Vec<Value> = found
        .into_iter()
        .map(|(stream, e)| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp_ms,
                "message": e.message,
                "ingestionTime": e.ingestion_ms,
                "eventId": event_id(&stream, &e),
            })
        })
        .collect();
    let searched: Vec<Value> = streams_searched
        .into_iter()
        .map(|name| json!({ "logStreamName": name, "searchedCompletely": !more }))
        .collect();
    // A page with events carries a token even at the end, as CloudWatch Logs' may: a
    // poller that keeps the last token it got (Airflow's GlueJobHook) then resumes
    // after the events it has seen; the empty page that follows carries none.
    let resume = more || !events.is_empty();
    let mut answer = json!({ "events": events, "searchedLogStreams": searched });
    if resume && let Some(cursor) = after {
        let text = format!(
            "{}:{}:{}",
            cursor.timestamp_ms, cursor.sequence, cursor.stream
        );
        answer["nextToken"] = logs.tokens.issue(&context, &text).into();
    }
    Ok(answer)
}

/// A FilterLogEvents cursor `<timestamp>:<sequence>:<stream>`.
fn parse_filter_cursor(text: &str) -> Result<LogEventCursor, LogsError> {
    let invalid = || LogsError::InvalidParameter("The specified nextToken is invalid.".into());
    let mut parts = text.splitn(3, ':');
    let timestamp_ms = parts
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(invalid)?;
    let sequence = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    let stream = parts.next().ok_or_else(invalid)?.to_string();
    Ok(LogEventCursor {
        timestamp_ms,
        stream,
        sequence,
    })
}

/// The id of an event in FilterLogEvents' answers: digits from its time, its stream
/// and its sequence.
fn event_id(stream: &str, event: &LogEventRecord) -> String {
    // FNV-1a over the stream name: a stable number per stream.
    let stream_hash = stream
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!(
        "{:020}{stream_hash:020}{:016}",
        event.timestamp_ms.max(0),
        event.sequence
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InputLogEvent {
    timestamp: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PutLogEventsRequest {
    log_group_name: Option<String>,
    log_stream_name: Option<String>,
    log_events: Option<Vec<InputLogEvent>>,
}

/// PutLogEvents: appends events in chronological order; sequence tokens are not
/// needed (as AWS no longer requires them).
pub(crate) async fn put_log_events(
    logs: &Logs,
    scope: &Scope,
    body: &[u8],
) -> Result<Value, LogsError> {
    let request: PutLogEventsRequest = decode(body)?;
    let group = group_of(request.log_group_name, None)?;
    let stream = request
        .log_stream_name
        .ok_or_else(|| LogsError::InvalidParameter("logStreamName is required.".into()))?;
    let input = request.log_events.unwrap_or_default();
    if input.is_empty() || input.len() > MAX_EVENTS {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: \
             Member must have length between 1 and {MAX_EVENTS}"
        )));
    }
    let mut events = Vec::with_capacity(input.len());
    for event in input {
        let (Some(timestamp), Some(message)) = (event.timestamp, event.message) else {
            return Err(LogsError::InvalidParameter(
                "Every log event needs a timestamp and a message.".into(),
            ));
        };
        if events.last().is_some_and(|(last, _)| *last > timestamp) {
            return Err(LogsError::InvalidParameter(
                "Log events in a single PutLogEvents request must be in chronological order."
                    .into(),
            ));
        }
        events.push((timestamp, message));
    }
    let scope = scope.clone();
    let now = logs.clock.now_millis();
    logs.db
        .write(move |tx| {
            let Some(mut doc) = streams::load_stream(tx, &scope, &group, &stream)? else {
                let missing = if streams::load_group(tx, &scope, &group)?.is_none() {
                    group_not_found()
                } else {
                    stream_not_found()
                };
                return Ok(Err(missing));
            };
            streams::append(tx, &scope, &group, &stream, &mut doc, events, now)?;
            Ok(Ok(json!({
                "nextSequenceToken": format!("{:056}", doc.next_sequence),
            })))
        })
        .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_identifiers_may_be_arns() {
        let from_arn = group_of(
            None,
            Some("arn:aws:logs:us-east-1:123456789012:log-group:/aws-glue/jobs/output:*".into()),
        );
        assert_eq!(from_arn, Ok("/aws-glue/jobs/output".to_string()));
        assert_eq!(group_of(None, Some("/g".into())), Ok("/g".to_string()));
        assert!(group_of(None, None).is_err());
    }

    #[test]
    fn answers_stop_at_their_size_but_carry_one_event() {
        let event = |size: usize| LogEventRecord {
            sequence: 0,
            timestamp_ms: 0,
            ingestion_ms: 0,
            message: "x".repeat(size),
        };
        let mut events = vec![event(600_000), event(600_000)];
        keep_within_answer_size(&mut events);
        assert_eq!(events.len(), 1);
        let mut huge = vec![event(2_000_000)];
        keep_within_answer_size(&mut huge);
        assert_eq!(huge.len(), 1, "one event always fits");
    }

    #[test]
    fn cursors_round_trip_streams_with_colons_refused_elsewhere() {
        let cursor = parse_filter_cursor("12:3:jr_1/a").expect("cursor");
        assert_eq!(cursor.stream, "jr_1/a");
        assert_eq!((cursor.timestamp_ms, cursor.sequence), (12, 3));
        assert!(parse_filter_cursor("x:3:s").is_err());
        assert!(parse_stream_cursor("nope").is_err());
    }
}
