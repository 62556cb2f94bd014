//! Fires SCHEDULED triggers on their cron schedules (spec §5.1): a trigger fires while
//! it is ACTIVATED, each firing starts a workflow run (or, outside a workflow, its job
//! actions). One timer is armed for the earliest due trigger and re-armed whenever a
//! trigger changes. Firings missed while Weir was down are not made up (the next one is
//! computed from the start-up time).
//!
//! Replicas on one store all keep every schedule (each reloads them when it renews its
//! lease, so a trigger changed on another replica is seen within that period) and all
//! try each firing: the firing's transaction first claims its tick — the trigger's last
//! fired tick, a setting, must be older — so each tick fires once however many replicas
//! try it, and as long as one of them lives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use weir_engine::Millis;
use weir_model::shapes::{StartJobRunRequest, Trigger, TriggerState, TriggerType};
use weir_store::{Kind, Scope, Setting, Transaction};

use super::Orchestrator;
use weir_resources::ApiError;
use weir_resources::cron::CronSchedule;
use weir_resources::db::Db;
use weir_resources::stored;

/// Keeps the due times of every active schedule and fires them.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    orchestrator: Orchestrator,
    db: Db,
    /// Next firing per (scope, trigger name).
    entries: Mutex<HashMap<(Scope, String), Entry>>,
    /// Wakes the timer loop when an entry changes.
    wake: Notify,
}

struct Entry {
    /// The cron expression, as the trigger states it.
    expression: String,
    schedule: CronSchedule,
    next: Millis,
}

impl Scheduler {
    /// A scheduler starting runs through `orchestrator`; call [`Scheduler::load`] and
    /// spawn [`Scheduler::run`].
    pub fn new(orchestrator: Orchestrator, db: Db) -> Self {
        Self {
            inner: Arc::new(Inner {
                orchestrator,
                db,
                entries: Mutex::new(HashMap::new()),
                wake: Notify::new(),
            }),
        }
    }

    /// Arms the schedule of every ACTIVATED SCHEDULED trigger found in the store and
    /// drops every other (a schedule that did not change keeps its next firing);
    /// returns how many are armed.
    pub async fn load(&self) -> Result<usize, ApiError> {
        let all = self
            .inner
            .db
            .read(|tx| Ok(tx.list_all(Kind::Trigger)?))
            .await?;
        let now = self.inner.orchestrator.clock().now_millis();
        let mut found = HashMap::new();
        for (scope, record) in all {
            let name = record.name.clone();
            let trigger = stored::decode::<Trigger>(record)?.value;
            if let Some(entry) = entry_of(&trigger, now) {
                found.insert((scope, name), entry);
            }
        }
        let count = found.len();
        if let Ok(mut entries) = self.inner.entries.lock() {
            for (key, entry) in found.iter_mut() {
                if let Some(armed) = entries
                    .get(key)
                    .filter(|e| e.expression == entry.expression)
                {
                    entry.next = armed.next;
                }
            }
            *entries = found;
            crate::counters::schedules_armed(entries.len());
        }
        self.inner.wake.notify_one();
        Ok(count)
    }

    /// Brings the schedule of one trigger up to date after it was created, changed,
    /// started, stopped (`Some`) or deleted (`None`). Returns whether it is scheduled.
    pub fn refresh(&self, scope: &Scope, name: &str, trigger: Option<&Trigger>) -> bool {
        let now = self.inner.orchestrator.clock().now_millis();
        let entry = trigger.and_then(|t| entry_of(t, now));
        let key = (scope.clone(), name.to_string());
        let Ok(mut entries) = self.inner.entries.lock() else {
            return false;
        };
        let scheduled = match entry {
            Some(entry) => {
                entries.insert(key, entry);
                true
            }
            None => {
                entries.remove(&key);
                false
            }
        };
        crate::counters::schedules_armed(entries.len());
        drop(entries);
        self.inner.wake.notify_one();
        scheduled
    }

    /// The timer loop: sleeps until the earliest firing (or a change), fires what is due.
    pub async fn run(self) {
        let clock = self.inner.orchestrator.clock().clone();
        loop {
            let earliest = self
                .inner
                .entries
                .lock()
                .ok()
                .and_then(|entries| entries.values().map(|e| e.next).min());
            match earliest {
                None => self.inner.wake.notified().await,
                Some(at) => {
                    tokio::select! {
                        () = clock.sleep_until(at) => {}
                        () = self.inner.wake.notified() => continue,
                    }
                }
            }
            for (scope, name, tick) in self.take_due(clock.now_millis()) {
                let me = self.clone();
                tokio::spawn(async move { me.fire(scope, name, tick).await });
            }
        }
    }

    /// Removes the due firings from the table (each with the tick it is due at),
    /// re-arming each at its next time.
    fn take_due(&self, now: Millis) -> Vec<(Scope, String, Millis)> {
        let Ok(mut entries) = self.inner.entries.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        entries.retain(|key, entry| {
            if entry.next > now {
                return true;
            }
            due.push((key.0.clone(), key.1.clone(), entry.next));
            match entry.schedule.next_after(now) {
                Some(next) => {
                    entry.next = next;
                    true
                }
                None => false,
            }
        });
        crate::counters::schedules_armed(entries.len());
        due
    }

    /// Fires one trigger at `tick` if it is still an active schedule and no replica
    /// fired that tick yet.
    async fn fire(self, scope: Scope, name: String, tick: Millis) {
        let read_scope = scope.clone();
        let read_name = name.clone();
        let trigger = self
            .inner
            .db
            .read(move |tx| {
                Ok(
                    stored::load::<Trigger>(tx, &read_scope, Kind::Trigger, &read_name)?
                        .map(|s| s.value),
                )
            })
            .await;
        let trigger = match trigger {
            Ok(Some(trigger)) if is_active_schedule(&trigger) => trigger,
            Ok(other) => {
                self.refresh(&scope, &name, other.as_ref());
                return;
            }
            Err(error) => {
                tracing::warn!(%error, trigger = %name, "could not read a scheduled trigger");
                return;
            }
        };
        tracing::info!(trigger = %name, "scheduled trigger fired");
        let orchestrator = &self.inner.orchestrator;
        let result = match trigger.workflow_name {
            Some(workflow) => orchestrator
                .start_scheduled_run(scope, workflow, name.clone(), tick)
                .await
                .map(|_| ()),
            None => {
                let (claim_scope, claim_name) = (scope.clone(), name.clone());
                let claimed = self
                    .inner
                    .db
                    .write(move |tx| claim_tick(tx, &claim_scope, &claim_name, tick))
                    .await;
                match claimed {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => {
                        tracing::warn!(%error, trigger = %name, "could not claim a scheduled firing");
                        return;
                    }
                }
                let mut result = Ok(());
                for action in trigger.actions.unwrap_or_default() {
                    if let Some(job) = action.job_name {
                        let started = orchestrator
                            .start_job_run(
                                scope.clone(),
                                StartJobRunRequest {
                                    job_name: Some(job),
                                    arguments: action.arguments,
                                    timeout: action.timeout,
                                    security_configuration: action.security_configuration,
                                    notification_property: action.notification_property,
                                    ..Default::default()
                                },
                            )
                            .await;
                        result = result.and(started.map(|_| ()));
                    }
                }
                result
            }
        };
        if let Err(error) = result {
            tracing::warn!(%error, trigger = %name, "scheduled trigger could not start its work");
        }
    }
}

/// The schedule of `trigger` if it is an active one with a next firing after `now`.
fn entry_of(trigger: &Trigger, now: Millis) -> Option<Entry> {
    if !is_active_schedule(trigger) {
        return None;
    }
    let expression = trigger.schedule.clone().unwrap_or_default();
    let schedule = CronSchedule::parse(&expression).ok()?;
    let next = schedule.next_after(now)?;
    Some(Entry {
        expression,
        schedule,
        next,
    })
}

/// Claims the firing of trigger `name` at `tick` in the caller's transaction: `false`
/// when this tick (or a later one) was fired already, by this or another replica.
pub(crate) fn claim_tick(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
    tick: Millis,
) -> Result<bool, ApiError> {
    let key = format!("schedule-fired/{}/{}/{name}", scope.account, scope.region);
    let fired = tx
        .get_meta(&key)?
        .and_then(|setting| setting.value.parse::<Millis>().ok());
    if fired.is_some_and(|fired| fired >= tick) {
        return Ok(false);
    }
    let setting = Setting {
        value: tick.to_string(),
        version: 1,
    };
    tx.put_meta(&key, &setting)?;
    Ok(true)
}

fn is_active_schedule(trigger: &Trigger) -> bool {
    trigger.r#type == Some(TriggerType::Scheduled) && trigger.state == Some(TriggerState::Activated)
}
