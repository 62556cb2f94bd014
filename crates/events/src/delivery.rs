//! Delivery of accepted events to Glue workflows (spec §8), exactly once.
//!
//! [`deliver_in`] runs inside the write transaction that accepts the events (PutEvents
//! today; an S3 write later): every event matched by an enabled rule whose target is
//! the ARN of a workflow of the same scope with an EVENT trigger is appended to that
//! workflow's pending batch; a batch that reaches `BatchSize` starts its run in the
//! same transaction. So when the transaction commits, each accepted event is either
//! in a stored pending batch or in exactly one run, and a crash before the commit
//! loses only events nobody was told were accepted. After the commit,
//! [`Delivered`] goes to [`crate::EventBus::committed`]: started runs to the
//! orchestrator's driver, opened batches to [`Windows`], the timer that starts a
//! batch `BatchWindow` seconds after its first event, and that [`Windows::load`]
//! re-arms from the store at start-up.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;
use weir_model::shapes::{Trigger, TriggerType};
use weir_orchestrator::stored_run::{EVENT_IDS_PROPERTY, event_ids_value};
use weir_orchestrator::{Orchestrator, StartOrigin, StartedRun, start_run_in};
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_resources::{graph, stored};
use weir_store::{Kind, Scope, Transaction};

use crate::batch::{Batching, CompleteBatch, Millis, PendingBatch};
use crate::pattern::Pattern;
use crate::rules::{self, Rule};

/// An accepted event: its id and the event as rules see it (`source`, `detail`, …).
#[derive(Debug, Clone)]
pub struct Event {
    /// The event id answered to the producer.
    pub id: String,
    /// The whole event, as EventBridge hands it to rules and targets.
    pub body: Value,
}

impl Event {
    /// A new event (a fresh id) as EventBridge shapes it: `version`, `id`,
    /// `detail-type`, `source`, `account`, `time` (RFC 3339, whole seconds, UTC),
    /// `region`, `resources`, `detail`.
    pub fn new(
        scope: &Scope,
        source: &str,
        detail_type: &str,
        resources: Vec<String>,
        detail: Value,
        time_ms: Millis,
    ) -> Self {
        let id = uuid::Uuid::new_v4().to_string();
        let time = chrono::DateTime::from_timestamp_millis(time_ms)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let body = serde_json::json!({
            "version": "0",
            "id": id,
            "detail-type": detail_type,
            "source": source,
            "account": scope.account,
            "time": time,
            "region": scope.region,
            "resources": resources,
            "detail": detail,
        });
        Self { id, body }
    }
}

/// What a delivery transaction did, to act on once it committed.
#[must_use = "hand a delivery to EventBus::committed once its transaction committed"]
#[derive(Debug, Default)]
pub struct Delivered {
    /// Runs started by batches that reached their size.
    started: Vec<StartedRun>,
    /// Pending batches and when their windows expire.
    pending: Vec<(Scope, String, Millis)>,
}

impl Delivered {
    /// The ids of the runs the delivery started.
    pub fn run_ids(&self) -> impl Iterator<Item = &str> {
        self.started.iter().map(StartedRun::run_id)
    }
}

/// The workflow names the targets of `rule` name in `scope`.
fn workflow_targets(scope: &Scope, rule: &Rule) -> Vec<String> {
    let prefix = format!("arn:aws:glue:{}:{}:workflow/", scope.region, scope.account);
    rule.targets
        .iter()
        .filter_map(|t| t.arn.as_deref()?.strip_prefix(&prefix))
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

/// The EVENT trigger of `workflow` and its batching, if it has one.
fn event_trigger(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
) -> Result<Option<(String, Batching)>, ApiError> {
    let triggers = graph::member_triggers(tx, scope, workflow)?;
    Ok(triggers
        .iter()
        .find(|t| t.r#type == Some(TriggerType::Event))
        .map(|t: &Trigger| (t.name.clone().unwrap_or_default(), Batching::of(t))))
}

/// A workflow's pending batch while a delivery transaction works on it.
struct Open {
    trigger: Option<(String, Batching)>,
    pending: Option<PendingBatch>,
    stored: bool,
    changed: bool,
}

/// Delivers `events`, accepted at `now` in `scope`, inside the caller's write
/// transaction `tx` (see the module documentation).
pub fn deliver_in(
    tx: &mut dyn Transaction,
    scope: &Scope,
    events: &[Event],
    now: Millis,
) -> Result<Delivered, ApiError> {
    let mut delivered = Delivered::default();
    let routes: Vec<(Pattern, Vec<String>)> = rules::all(tx, scope)?
        .iter()
        .filter(|rule| rule.is_enabled())
        .filter_map(|rule| {
            let workflows = workflow_targets(scope, rule);
            let pattern = Pattern::parse(rule.event_pattern.as_deref()?).ok()?;
            (!workflows.is_empty()).then_some((pattern, workflows))
        })
        .collect();
    if routes.is_empty() {
        return Ok(delivered);
    }
    let mut open: BTreeMap<String, Open> = BTreeMap::new();
    for event in events {
        // Two rules targeting one workflow deliver an event to it once.
        let targets: BTreeSet<&String> = routes
            .iter()
            .filter(|(pattern, _)| pattern.matches(&event.body))
            .flat_map(|(_, workflows)| workflows)
            .collect();
        for workflow in targets {
            if !open.contains_key(workflow) {
                let trigger = event_trigger(tx, scope, workflow)?;
                let pending = stored::load::<PendingBatch>(tx, scope, Kind::EventBatch, workflow)?
                    .map(|s| s.value);
                open.insert(
                    workflow.clone(),
                    Open {
                        trigger,
                        stored: pending.is_some(),
                        pending,
                        changed: false,
                    },
                );
            }
            let Some(state) = open.get_mut(workflow) else {
                continue;
            };
            let Some((trigger, batching)) = &state.trigger else {
                tracing::debug!(%workflow, "an event targets a workflow without an EVENT trigger");
                continue;
            };
            let (pending, complete) = PendingBatch::append(
                state.pending.take(),
                trigger,
                *batching,
                event.id.clone(),
                now,
            );
            state.pending = pending;
            state.changed = true;
            if let Some(complete) = complete {
                start_batch(tx, scope, workflow, complete, now, &mut delivered)?;
            }
        }
    }
    for (workflow, state) in open {
        if !state.changed {
            continue;
        }
        match state.pending {
            Some(batch) => {
                let record = stored::record(
                    &workflow,
                    Some(workflow.clone()),
                    &batch,
                    Default::default(),
                )?;
                if !tx.update(scope, Kind::EventBatch, &record)? {
                    tx.insert(scope, Kind::EventBatch, &record)?;
                }
                delivered
                    .pending
                    .push((scope.clone(), workflow, batch.deadline()));
            }
            None if state.stored => {
                tx.delete(scope, Kind::EventBatch, &workflow)?;
            }
            None => {}
        }
    }
    Ok(delivered)
}

/// Starts the run of a complete batch in `tx`. A run the workflow cannot start (it
/// was deleted, or its graph cannot run) consumes the batch and is logged: the events
/// were accepted and are not retried. Over MaxConcurrentRuns the run is recorded in
/// ERROR (spec §4.7), with the batch's events.
fn start_batch(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
    batch: CompleteBatch,
    now: Millis,
    delivered: &mut Delivered,
) -> Result<(), ApiError> {
    let properties = BTreeMap::from([(
        EVENT_IDS_PROPERTY.to_string(),
        event_ids_value(&batch.event_ids),
    )]);
    let events = batch.event_ids.len();
    match start_run_in(
        tx,
        scope,
        workflow,
        properties,
        StartOrigin::Trigger,
        Some(batch.condition),
        now,
    ) {
        Ok(run) => {
            tracing::info!(%workflow, run = run.run_id(), events, "an event batch started a run");
            delivered.started.push(run);
            Ok(())
        }
        Err(error @ ApiError::Internal(_)) => Err(error),
        Err(error) => {
            tracing::warn!(%workflow, events, %error, "an event batch could not start a run; its events are dropped");
            Ok(())
        }
    }
}

/// The batch windows: one timer for the earliest expiring batch, re-armed whenever a
/// batch opens; the batch itself is the truth (a window that fires early or for a
/// batch that already started is harmless).
#[derive(Clone)]
pub struct Windows {
    inner: Arc<WindowsInner>,
}

struct WindowsInner {
    db: Db,
    orchestrator: Orchestrator,
    /// When each pending batch's window expires, by (scope, workflow).
    deadlines: Mutex<HashMap<(Scope, String), Millis>>,
    /// Wakes the timer loop when a deadline is added.
    wake: Notify,
}

/// What a window that fired found.
enum Fired {
    /// No batch is pending any more.
    Nothing,
    /// The pending batch expires later (a newer batch).
    Later(Millis),
    /// The batch started its run.
    Started(StartedRun),
}

impl Windows {
    /// Windows starting runs through `orchestrator`; call [`Windows::load`] and spawn
    /// [`Windows::run`].
    pub fn new(db: Db, orchestrator: Orchestrator) -> Self {
        Self {
            inner: Arc::new(WindowsInner {
                db,
                orchestrator,
                deadlines: Mutex::new(HashMap::new()),
                wake: Notify::new(),
            }),
        }
    }

    /// Arms the window of the batch of `workflow` in `scope` at `deadline` (the
    /// earlier deadline wins when one is armed already).
    pub fn arm(&self, scope: Scope, workflow: String, deadline: Millis) {
        if let Ok(mut deadlines) = self.inner.deadlines.lock() {
            let entry = deadlines.entry((scope, workflow)).or_insert(deadline);
            *entry = (*entry).min(deadline);
        }
        self.inner.wake.notify_one();
    }

    /// Arms the window of every pending batch in the store (at start-up, and again
    /// whenever a replica of a shared store renews its lease, so a batch another
    /// replica opened fires even if that replica died); a window that expired while no
    /// one watched fires at once. Returns how many were armed.
    pub async fn load(&self) -> Result<usize, ApiError> {
        let all = self
            .inner
            .db
            .read(|tx| Ok(tx.list_all(Kind::EventBatch)?))
            .await?;
        let count = all.len();
        for (scope, record) in all {
            let name = record.name.clone();
            let batch = stored::decode::<PendingBatch>(record)?.value;
            self.arm(scope, name, batch.deadline());
        }
        Ok(count)
    }

    /// The timer loop: sleeps until the earliest window (or a new one), fires what is
    /// due.
    pub async fn run(self) {
        let clock = self.inner.orchestrator.clock().clone();
        loop {
            let earliest = self
                .inner
                .deadlines
                .lock()
                .ok()
                .and_then(|deadlines| deadlines.values().min().copied());
            match earliest {
                None => self.inner.wake.notified().await,
                Some(at) => {
                    tokio::select! {
                        () = clock.sleep_until(at) => {}
                        () = self.inner.wake.notified() => continue,
                    }
                }
            }
            let now = clock.now_millis();
            let due: Vec<(Scope, String)> = match self.inner.deadlines.lock() {
                Ok(mut deadlines) => {
                    let due: Vec<_> = deadlines
                        .iter()
                        .filter(|(_, at)| **at <= now)
                        .map(|(key, _)| key.clone())
                        .collect();
                    for key in &due {
                        deadlines.remove(key);
                    }
                    due
                }
                Err(_) => Vec::new(),
            };
            for (scope, workflow) in due {
                let me = self.clone();
                tokio::spawn(async move { me.fire(scope, workflow).await });
            }
        }
    }

    /// Starts the batch of `workflow` if its window expired.
    async fn fire(self, scope: Scope, workflow: String) {
        let now = self.inner.orchestrator.clock().now_millis();
        let (tx_scope, tx_workflow) = (scope.clone(), workflow.clone());
        let fired = self
            .inner
            .db
            .write(move |tx| expire_in(tx, &tx_scope, &tx_workflow, now))
            .await;
        match fired {
            Ok(Fired::Nothing) => {}
            Ok(Fired::Later(deadline)) => self.arm(scope, workflow, deadline),
            Ok(Fired::Started(run)) => self.inner.orchestrator.started(run),
            Err(error) => {
                // A storage failure: try again shortly (real time, like every retry).
                tracing::error!(%error, %workflow, "an expired event batch could not start; retrying");
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    self.arm(scope, workflow, now);
                });
            }
        }
    }
}

/// In `tx`: starts the pending batch of `workflow` if its window expired at `now`.
fn expire_in(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
    now: Millis,
) -> Result<Fired, ApiError> {
    let Some(batch) =
        stored::load::<PendingBatch>(tx, scope, Kind::EventBatch, workflow)?.map(|s| s.value)
    else {
        return Ok(Fired::Nothing);
    };
    let complete = match batch.expire(now) {
        Ok(complete) => complete,
        Err(batch) => return Ok(Fired::Later(batch.deadline())),
    };
    tx.delete(scope, Kind::EventBatch, workflow)?;
    if event_trigger(tx, scope, workflow)?.is_none() {
        tracing::warn!(%workflow, events = complete.event_ids.len(), "an expired event batch's workflow has no EVENT trigger any more; its events are dropped");
        return Ok(Fired::Nothing);
    }
    let mut delivered = Delivered::default();
    start_batch(tx, scope, workflow, complete, now, &mut delivered)?;
    Ok(delivered
        .started
        .pop()
        .map_or(Fired::Nothing, Fired::Started))
}

impl Delivered {
    /// Hands what the committed delivery did onwards: runs to the driver, windows to
    /// the timer.
    pub(crate) fn hand_over(self, orchestrator: &Orchestrator, windows: &Windows) {
        for run in self.started {
            orchestrator.started(run);
        }
        for (scope, workflow, deadline) in self.pending {
            windows.arm(scope, workflow, deadline);
        }
    }
}

#[cfg(test)]
#[path = "delivery_tests.rs"]
mod tests;
