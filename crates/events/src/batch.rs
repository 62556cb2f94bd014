//! The pending event batch of a workflow's EVENT trigger (spec §8), as a pure value:
//! events are appended one at a time; the batch is complete when `BatchSize` events
//! arrived, or when `BatchWindow` seconds passed since its first event. Stored as one
//! `event-batch` record per workflow, written in the transaction that accepted its
//! events.

use serde::{Deserialize, Serialize};
use weir_model::shapes::Trigger;
use weir_orchestrator::stored_run::StartingBatch;
use weir_resources::stored::Document;

/// Milliseconds since the Unix epoch, on the server's clock.
pub type Millis = i64;

/// `BatchWindow` when an EVENT trigger sets none (spec §2: 900 s).
pub const DEFAULT_WINDOW_SECONDS: i32 = 900;

/// An EVENT trigger's `EventBatchingCondition`, with AWS's defaults: no condition is a
/// batch of one; no `BatchWindow` is 900 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Events that complete a batch (1..100).
    pub size: usize,
    /// Seconds after the first event that complete it anyway (1..900).
    pub window_seconds: i32,
}

impl Batching {
    /// The batching of `trigger`.
    pub fn of(trigger: &Trigger) -> Self {
        let condition = trigger.event_batching_condition.as_ref();
        Self {
            size: condition
                .and_then(|c| c.batch_size)
                .unwrap_or(1)
                .clamp(1, 100) as usize,
            window_seconds: condition
                .and_then(|c| c.batch_window)
                .unwrap_or(DEFAULT_WINDOW_SECONDS)
                .clamp(1, 900),
        }
    }
}

/// The events of a batch not yet started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    /// The EVENT trigger the batch is for.
    pub trigger: String,
    /// The ids of its events, in arrival order.
    pub event_ids: Vec<String>,
    /// When its first event arrived.
    pub opened_ms: Millis,
    /// The window in force when it opened, in seconds.
    pub window_seconds: i32,
}

/// A pending-batch document has had one format so far.
impl Document for PendingBatch {}

/// A batch that is complete: the run it starts carries these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteBatch {
    /// The event ids, in arrival order.
    pub event_ids: Vec<String>,
    /// Which condition completed it.
    pub condition: StartingBatch,
}

impl PendingBatch {
    /// When the window of this batch expires.
    pub fn deadline(&self) -> Millis {
        self.opened_ms
            .saturating_add(i64::from(self.window_seconds).saturating_mul(1000))
    }

    /// Appends event `id`, arrived at `now`, to `pending` (opening a batch when there is
    /// none). Returns the batch still pending, and the batch this event completed.
    pub fn append(
        pending: Option<PendingBatch>,
        trigger: &str,
        batching: Batching,
        id: String,
        now: Millis,
    ) -> (Option<PendingBatch>, Option<CompleteBatch>) {
        let mut batch = pending.unwrap_or_else(|| PendingBatch {
            trigger: trigger.to_string(),
            event_ids: Vec::new(),
            opened_ms: now,
            window_seconds: batching.window_seconds,
        });
        batch.event_ids.push(id);
        if batch.event_ids.len() >= batching.size {
            let size = i32::try_from(batch.event_ids.len()).unwrap_or(i32::MAX);
            let complete = CompleteBatch {
                event_ids: batch.event_ids,
                condition: StartingBatch::Size(size),
            };
            return (None, Some(complete));
        }
        (Some(batch), None)
    }

    /// The batch, complete by its window, if the window expired at `now`.
    pub fn expire(self, now: Millis) -> Result<CompleteBatch, PendingBatch> {
        if now < self.deadline() || self.event_ids.is_empty() {
            return Err(self);
        }
        Ok(CompleteBatch {
            event_ids: self.event_ids,
            condition: StartingBatch::Window(self.window_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::EventBatchingCondition;

    fn batching(size: usize, window: i32) -> Batching {
        Batching {
            size,
            window_seconds: window,
        }
    }

    #[test]
    fn conditions_default_as_aws_documents() {
        let mut trigger = Trigger::default();
        assert_eq!(Batching::of(&trigger), batching(1, 900));
        trigger.event_batching_condition = Some(EventBatchingCondition {
            batch_size: Some(100),
            batch_window: None,
        });
        assert_eq!(Batching::of(&trigger), batching(100, 900));
        trigger.event_batching_condition = Some(EventBatchingCondition {
            batch_size: Some(3),
            batch_window: Some(5),
        });
        assert_eq!(Batching::of(&trigger), batching(3, 5));
    }

    #[test]
    fn a_batch_completes_at_its_size_and_the_next_one_opens() {
        let size = batching(3, 60);
        let mut pending = None;
        let mut complete = Vec::new();
        for (i, now) in (0..7).zip([10, 20, 30, 40, 50, 60, 70]) {
            let (next, done) = PendingBatch::append(pending, "t", size, format!("e{i}"), now);
            pending = next;
            complete.extend(done);
        }
        assert_eq!(complete.len(), 2);
        assert_eq!(complete[0].event_ids, ["e0", "e1", "e2"]);
        assert_eq!(complete[0].condition, StartingBatch::Size(3));
        assert_eq!(complete[1].event_ids, ["e3", "e4", "e5"]);
        let pending = pending.expect("one event pending");
        assert_eq!(pending.event_ids, ["e6"]);
        // The window counts from the first event of the batch.
        assert_eq!(pending.opened_ms, 70);
        assert_eq!(pending.deadline(), 70 + 60_000);
    }

    #[test]
    fn a_batch_of_one_starts_at_once() {
        let (pending, done) = PendingBatch::append(None, "t", batching(1, 900), "e".into(), 5);
        assert!(pending.is_none());
        assert_eq!(done.map(|d| d.condition), Some(StartingBatch::Size(1)));
    }

    #[test]
    fn the_window_completes_a_batch_only_once_expired() {
        let (pending, _) = PendingBatch::append(None, "t", batching(100, 5), "a".into(), 1_000);
        let (pending, _) = PendingBatch::append(pending, "t", batching(100, 5), "b".into(), 3_000);
        let pending = pending.expect("pending");
        let pending = pending.expire(5_999).expect_err("not yet");
        let complete = pending.expire(6_000).expect("expired");
        assert_eq!(complete.event_ids, ["a", "b"]);
        assert_eq!(complete.condition, StartingBatch::Window(5));
    }
}
