//! Fires SCHEDULED triggers on their cron schedules (spec §5.1): a trigger fires while
//! it is ACTIVATED, each firing starts a workflow run (or, outside a workflow, its job
//! actions). One timer is armed for the earliest due trigger and re-armed whenever a
//! trigger changes; nothing is scanned periodically. Firings missed while Weir was
//! down are not made up (the next one is computed from the start-up time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use weir_engine::Millis;
use weir_model::shapes::{StartJobRunRequest, Trigger, TriggerState, TriggerType};
use weir_store::{Kind, Scope};

use super::{Orchestrator, StartOrigin};
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

    /// Registers every ACTIVATED SCHEDULED trigger found in the store.
    pub async fn load(&self) -> Result<usize, ApiError> {
        let all = self
            .inner
            .db
            .read(|tx| Ok(tx.list_all(Kind::Trigger)?))
            .await?;
        let mut count = 0;
        for (scope, record) in all {
            let name = record.name.clone();
            let trigger = stored::decode::<Trigger>(record)?.value;
            if self.refresh(&scope, &name, Some(&trigger)) {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Brings the schedule of one trigger up to date after it was created, changed,
    /// started, stopped (`Some`) or deleted (`None`). Returns whether it is scheduled.
    pub fn refresh(&self, scope: &Scope, name: &str, trigger: Option<&Trigger>) -> bool {
        let schedule = trigger
            .filter(|t| is_active_schedule(t))
            .and_then(|t| CronSchedule::parse(t.schedule.as_deref().unwrap_or_default()).ok());
        let key = (scope.clone(), name.to_string());
        let Ok(mut entries) = self.inner.entries.lock() else {
            return false;
        };
        let scheduled = match schedule.and_then(|s| {
            s.next_after(self.inner.orchestrator.clock().now_millis())
                .map(|n| (s, n))
        }) {
            Some((schedule, next)) => {
                entries.insert(key, Entry { schedule, next });
                true
            }
            None => {
                entries.remove(&key);
                false
            }
        };
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
            for (scope, name) in self.take_due(clock.now_millis()) {
                let me = self.clone();
                tokio::spawn(async move { me.fire(scope, name).await });
            }
        }
    }

    /// Removes the due firings from the table, re-arming each at its next time.
    fn take_due(&self, now: Millis) -> Vec<(Scope, String)> {
        let Ok(mut entries) = self.inner.entries.lock() else {
            return Vec::new();
        };
        let mut due = Vec::new();
        entries.retain(|key, entry| {
            if entry.next > now {
                return true;
            }
            due.push(key.clone());
            match entry.schedule.next_after(now) {
                Some(next) => {
                    entry.next = next;
                    true
                }
                None => false,
            }
        });
        due
    }

    /// Fires one trigger if it is still an active schedule.
    async fn fire(self, scope: Scope, name: String) {
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
                .start_workflow_run(scope, workflow, Default::default(), StartOrigin::Trigger)
                .await
                .map(|_| ()),
            None => {
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

fn is_active_schedule(trigger: &Trigger) -> bool {
    trigger.r#type == Some(TriggerType::Scheduled) && trigger.state == Some(TriggerState::Activated)
}
