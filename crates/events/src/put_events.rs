//! PutEvents: each entry is checked on its own (a malformed entry fails alone, with
//! EventBridge's `ErrorCode`/`ErrorMessage`), the accepted ones get an event id and
//! are delivered in one durable transaction before the answer ([`crate::delivery`]).

use serde::Deserialize;
use serde_json::{Value, json};
use weir_model::Timestamp;
use weir_store::Scope;

use crate::EventBus;
use crate::batch::Millis;
use crate::delivery::Event;
use crate::protocol::{EventsError, decode};
use crate::validate;

/// Entries per request.
pub const MAX_ENTRIES: usize = 10;
/// The total size of a request's entries, as EventBridge counts it.
pub const MAX_TOTAL_BYTES: usize = 256 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutEventsRequest {
    entries: Option<Vec<Entry>>,
    endpoint_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    time: Option<Timestamp>,
    source: Option<String>,
    resources: Option<Vec<String>>,
    detail_type: Option<String>,
    detail: Option<String>,
    event_bus_name: Option<String>,
    trace_header: Option<String>,
}

impl Entry {
    /// The entry's size as EventBridge documents it: 14 bytes for a time, the UTF-8
    /// bytes of source, detail type, detail and each resource.
    fn size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.time.map_or(0, |_| 14)
            + text(&self.source)
            + text(&self.detail_type)
            + text(&self.detail)
            + self
                .resources
                .iter()
                .flatten()
                .map(String::len)
                .sum::<usize>()
    }
}

/// Why one entry was not accepted.
struct Failure {
    code: &'static str,
    message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// Checks one entry and builds its event.
fn accept(scope: &Scope, entry: Entry, now: Millis) -> Result<Event, Failure> {
    if let Some(bus) = entry.event_bus_name.as_deref() {
        validate::bus(scope, Some(bus))
            .map_err(|e| failure("ResourceNotFoundException", e.message()))?;
    }
    let required_argument = |name: &str| {
        failure(
            "InvalidArgument",
            format!("Parameter {name} is not valid. Reason: {name} is a required argument."),
        )
    };
    let source = entry
        .source
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required_argument("Source"))?;
    let detail_type = entry
        .detail_type
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required_argument("DetailType"))?;
    let detail = entry.detail.ok_or_else(|| required_argument("Detail"))?;
    if source.starts_with("aws.") {
        return Err(failure(
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        ));
    }
    let detail: Value = match serde_json::from_str(&detail) {
        Ok(value @ Value::Object(_)) => value,
        _ => return Err(failure("MalformedDetail", "Detail is malformed.")),
    };
    let time = entry
        .time
        .map(|t| (t.as_epoch_seconds() * 1000.0) as Millis)
        .unwrap_or(now);
    let _ = entry.trace_header;
    Ok(Event::new(
        scope,
        &source,
        &detail_type,
        entry.resources.unwrap_or_default(),
        detail,
        time,
    ))
}

/// PutEvents.
pub async fn put_events(bus: &EventBus, scope: &Scope, body: &[u8]) -> Result<Value, EventsError> {
    let input: PutEventsRequest = decode(body)?;
    if let Some(endpoint) = &input.endpoint_id {
        validate::length(endpoint, "endpointId", 1, 50)?;
    }
    let entries = input.entries.ok_or_else(|| {
        EventsError::Validation(
            "1 validation error detected: Value null at 'entries' failed to satisfy \
             constraint: Member must not be null"
                .into(),
        )
    })?;
    if entries.is_empty() || entries.len() > MAX_ENTRIES {
        return Err(EventsError::Validation(format!(
            "1 validation error detected: Value at 'entries' failed to satisfy constraint: \
             Member must have length {}",
            if entries.is_empty() {
                "greater than or equal to 1".to_string()
            } else {
                format!("less than or equal to {MAX_ENTRIES}")
            }
        )));
    }
    for entry in &entries {
        if let Some(header) = &entry.trace_header {
            validate::length(header, "entries.member.traceHeader", 1, 500)?;
        }
    }
    if entries.iter().map(Entry::size).sum::<usize>() > MAX_TOTAL_BYTES {
        return Err(EventsError::Validation(
            "Total size of the entries in the request is over the limit.".into(),
        ));
    }
    let now = bus.clock().now_millis();
    let mut results = Vec::with_capacity(entries.len());
    let mut accepted = Vec::new();
    for entry in entries {
        match accept(scope, entry, now) {
            Ok(event) => {
                results.push(json!({ "EventId": event.id }));
                accepted.push(event);
            }
            Err(failure) => results.push(json!({
                "ErrorCode": failure.code,
                "ErrorMessage": failure.message,
            })),
        }
    }
    let failed = results.len() - accepted.len();
    if !accepted.is_empty() {
        bus.deliver(scope.clone(), accepted, now).await?;
    }
    Ok(json!({ "FailedEntryCount": failed, "Entries": results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    fn entry(detail: &str) -> Entry {
        Entry {
            time: None,
            source: Some("my.app".into()),
            resources: None,
            detail_type: Some("Thing Happened".into()),
            detail: Some(detail.into()),
            event_bus_name: None,
            trace_header: None,
        }
    }

    #[test]
    fn entries_become_events_as_eventbridge_shapes_them() {
        let event = accept(&scope(), entry(r#"{"n": 1}"#), 1_514_745_000_000)
            .ok()
            .expect("accepted");
        assert_eq!(event.body["id"], event.id.as_str());
        assert_eq!(event.body["source"], "my.app");
        assert_eq!(event.body["detail-type"], "Thing Happened");
        assert_eq!(event.body["account"], "123456789012");
        assert_eq!(event.body["region"], "us-east-1");
        assert_eq!(event.body["time"], "2017-12-31T18:30:00Z");
        assert_eq!(event.body["detail"]["n"], 1);
    }

    #[test]
    fn malformed_entries_fail_with_eventbridge_codes() {
        let code = |e: Entry| accept(&scope(), e, 0).err().map(|f| f.code);
        assert_eq!(code(entry("[1]")), Some("MalformedDetail"));
        assert_eq!(code(entry("not json")), Some("MalformedDetail"));
        let mut missing = entry("{}");
        missing.source = None;
        assert_eq!(code(missing), Some("InvalidArgument"));
        let mut aws = entry("{}");
        aws.source = Some("aws.s3".into());
        assert_eq!(code(aws), Some("NotAuthorizedForSourceException"));
        let mut other_bus = entry("{}");
        other_bus.event_bus_name = Some("orders".into());
        assert_eq!(code(other_bus), Some("ResourceNotFoundException"));
    }
}
