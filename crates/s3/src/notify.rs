//! Object events to EventBridge: for a bucket whose notification configuration holds an
//! `EventBridgeConfiguration`, every object written or deleted through S3 becomes an
//! `Object Created` or `Object Deleted` event of source `aws.s3` in the bucket owner's
//! account and the bucket's region, in the shape S3 documents.
//!
//! The event is committed to the store (through the [`EventSink`] the binary hands
//! over) after the object is durable and before the request is answered: an
//! acknowledged write always has its event. A crash between the two leaves an object
//! without its event, but then the write was never acknowledged.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use weir_clock::Clock;
use weir_resources::db::Db;
use weir_resources::event_sink::{EventSink, ServiceEvent};
use weir_store::Scope;

use crate::error::{S3Error, S3Result};
use crate::storage::BucketInfo;

/// Source of every S3 event.
const SOURCE: &str = "aws.s3";

/// Hands the object events of buckets that send them to EventBridge.
pub struct Notifier {
    db: Db,
    sink: Arc<dyn EventSink>,
    clock: Clock,
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectChange {
    /// Written: PutObject, CopyObject, CompleteMultipartUpload.
    Created {
        /// The key.
        key: String,
        /// Its size in bytes.
        size: u64,
        /// Its ETag (unquoted).
        etag: String,
        /// The operation that wrote it.
        reason: &'static str,
    },
    /// Deleted: DeleteObject, DeleteObjects.
    Deleted {
        /// The key.
        key: String,
        /// The operation that deleted it.
        reason: &'static str,
    },
}

/// Who made the change, as S3's events say.
pub struct Requester<'a> {
    /// The id of the request that made the change.
    pub request_id: &'a str,
    /// The account that signed it.
    pub account: &'a str,
}

impl Notifier {
    /// Events go through `sink` in write transactions of `db`, at `clock`'s time (the
    /// server's clock, which measures batch windows).
    pub fn new(db: Db, sink: Arc<dyn EventSink>, clock: Clock) -> Self {
        Self { db, sink, clock }
    }

    /// Emits `changes` of `bucket` if the bucket sends its events to EventBridge;
    /// returns once they are durable.
    pub async fn emit(
        &self,
        bucket: &BucketInfo,
        changes: Vec<ObjectChange>,
        requester: &Requester<'_>,
    ) -> S3Result<()> {
        if !bucket.eventbridge || changes.is_empty() {
            return Ok(());
        }
        let scope = Scope {
            account: bucket.owner.clone(),
            region: bucket.region.clone(),
        };
        let events: Vec<ServiceEvent> = changes
            .iter()
            .map(|change| event(&bucket.name, change, requester))
            .collect();
        let now = self.clock.now_millis();
        let sink = self.sink.clone();
        let after_commit = self
            .db
            .write(move |tx| {
                sink.deliver_in(tx, &scope, events, now)
                    .map(|(_ids, after)| after)
            })
            .await
            .map_err(S3Error::internal)?;
        after_commit();
        Ok(())
    }
}

/// The EventBridge event of one change.
fn event(bucket: &str, change: &ObjectChange, requester: &Requester<'_>) -> ServiceEvent {
    let (detail_type, object, reason, deleted) = match change {
        ObjectChange::Created {
            key,
            size,
            etag,
            reason,
        } => (
            "Object Created",
            json!({"key": key, "size": size, "etag": etag, "sequencer": sequencer()}),
            *reason,
            false,
        ),
        ObjectChange::Deleted { key, reason } => (
            "Object Deleted",
            json!({"key": key, "sequencer": sequencer()}),
            *reason,
            true,
        ),
    };
    let mut detail = json!({
        "version": "0",
        "bucket": {"name": bucket},
        "object": object,
        "request-id": requester.request_id,
        "requester": requester.account,
        "reason": reason,
    });
    if deleted && let Some(fields) = detail.as_object_mut() {
        fields.insert("deletion-type".into(), json!("Permanently Deleted"));
    }
    ServiceEvent {
        source: SOURCE.into(),
        detail_type: detail_type.into(),
        resources: vec![format!("arn:aws:s3:::{bucket}")],
        detail,
    }
}

/// A hexadecimal sequencer that grows with time, as S3's orders events of one key.
fn sequencer() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_the_shape_s3_documents() {
        let requester = Requester {
            request_id: "req-1",
            account: "123456789012",
        };
        let created = event(
            "landing",
            &ObjectChange::Created {
                key: "in/a.csv".into(),
                size: 5,
                etag: "abc".into(),
                reason: "PutObject",
            },
            &requester,
        );
        assert_eq!(
            (created.source.as_str(), created.detail_type.as_str()),
            ("aws.s3", "Object Created")
        );
        assert_eq!(created.resources, ["arn:aws:s3:::landing"]);
        let detail = &created.detail;
        assert_eq!(detail["bucket"]["name"], "landing");
        assert_eq!(detail["object"]["key"], "in/a.csv");
        assert_eq!(detail["object"]["size"], 5);
        assert_eq!(detail["object"]["etag"], "abc");
        assert_eq!(detail["reason"], "PutObject");
        assert_eq!(detail["requester"], "123456789012");
        assert!(detail.get("deletion-type").is_none());
        let deleted = event(
            "landing",
            &ObjectChange::Deleted {
                key: "in/a.csv".into(),
                reason: "DeleteObject",
            },
            &requester,
        );
        assert_eq!(deleted.detail_type, "Object Deleted");
        assert_eq!(deleted.detail["deletion-type"], "Permanently Deleted");
        assert!(deleted.detail["object"].get("size").is_none());
    }
}
