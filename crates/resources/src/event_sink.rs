//! The one path by which a service that produces events hands them to EventBridge
//! (S3 bucket notifications, for instance), without depending on the EventBridge
//! service: the binary gives the producer an `Arc<dyn EventSink>`.
//!
//! Delivery happens inside the producer's own write transaction, so the change that
//! caused the events (an object written) and the events' place in pending batches or
//! runs commit together or not at all; what delivery started moves only once that
//! transaction committed and the producer ran the returned [`AfterCommit`].

use weir_store::{Scope, Transaction};

use crate::ApiError;

/// An event a service emits, before EventBridge gives it an id, account, region and
/// time (`source` may be an `aws.` source: the producer is Weir itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEvent {
    /// `source`, e.g. `aws.s3`.
    pub source: String,
    /// `detail-type`, e.g. `Object Created`.
    pub detail_type: String,
    /// `resources`: ARNs the event is about.
    pub resources: Vec<String>,
    /// `detail`: a JSON object.
    pub detail: serde_json::Value,
}

/// What to do once the producer's transaction committed (start the runs' work, arm
/// batch windows). Dropping it loses nothing durable, but the runs it started stay
/// still and the windows unarmed until the next start re-derives both from the store.
pub type AfterCommit = Box<dyn FnOnce() + Send>;

/// Accepts events inside a producer's write transaction.
pub trait EventSink: Send + Sync {
    /// Delivers `events`, emitted at `now` (ms) in `scope`, in `tx`; returns their
    /// event ids (in order) and what to run after the commit.
    fn deliver_in(
        &self,
        tx: &mut dyn Transaction,
        scope: &Scope,
        events: Vec<ServiceEvent>,
        now: i64,
    ) -> Result<(Vec<String>, AfterCommit), ApiError>;
}
