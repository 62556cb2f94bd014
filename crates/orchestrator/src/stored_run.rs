//! The persisted form of a workflow run: the engine's state plus what the driver
//! adds (run properties, the frozen wire triggers, launch records), and the rules
//! that keep the `job_runs` table in step with it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weir_engine::{
    Action, Condition, JobAttempt, Logical, TriggerKind, TriggerSnapshot, WorkflowRun,
    WorkflowSnapshot,
};
use weir_model::Timestamp;
use weir_model::shapes::{
    self, ExecutionClass, JobRun, NotificationProperty, Predecessor, Trigger, TriggerState,
    TriggerType, WorkerType,
};
use weir_store::{JobRunRecord, RunRecord, Scope, Transaction};

use weir_resources::ApiError;
use weir_resources::replica::{self, Notice};
use weir_resources::stored::{self, Document};

use crate::states;

/// Prefix of the reserved workflow name under which a direct `StartJobRun` is run as
/// a single-action run. It starts with NUL, which no API name may contain (P-SL), so
/// no client can ever address, list or collide with these runs.
pub const STANDALONE_PREFIX: &str = "\u{0}job\u{0}";

/// Identifies one run in the store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunKey {
    /// Owner of the run.
    pub scope: Scope,
    /// Workflow name (reserved name for standalone job runs).
    pub workflow: String,
    /// `wr_` run id.
    pub run_id: String,
}

/// What the driver fixed when it launched an attempt (needed to re-attach after a
/// restart and to answer GetJobRun with the effective arguments).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LaunchRecord {
    /// `Command.Name`.
    pub command: String,
    /// `Command.ScriptLocation`.
    pub script_location: String,
    /// Effective arguments passed to the script.
    pub arguments: BTreeMap<String, String>,
    /// `MaxCapacity` of the job, echoed on the job run.
    pub max_capacity: Option<f64>,
    /// `GlueVersion` of the job, echoed on the job run.
    pub glue_version: Option<String>,
    /// The arguments the caller passed (StartJobRun's, or the trigger action's), echoed
    /// as the job run's `Arguments`. Records written before it existed have none; their
    /// runs echo `arguments`.
    #[serde(default)]
    pub caller_arguments: Option<BTreeMap<String, String>>,
    /// `AllocatedCapacity` the run ran with (the call's, else the job's).
    #[serde(default)]
    pub allocated_capacity: Option<i32>,
    /// `WorkerType` the run ran with.
    #[serde(default)]
    pub worker_type: Option<WorkerType>,
    /// `NumberOfWorkers` the run ran with.
    #[serde(default)]
    pub number_of_workers: Option<i32>,
    /// `SecurityConfiguration` the run ran with.
    #[serde(default)]
    pub security_configuration: Option<String>,
    /// `ExecutionClass` the run ran with.
    #[serde(default)]
    pub execution_class: Option<ExecutionClass>,
    /// `NotificationProperty` the run ran with.
    #[serde(default)]
    pub notification_property: Option<NotificationProperty>,
    /// The attempt waited for a run slot before this launch (job run queuing).
    #[serde(default)]
    pub dequeued: bool,
    /// Boot id of the machine the attempt was launched on: after a restart of that
    /// machine, a run directory without `pid` no longer proves that the command never
    /// ran (`Runner::inspect`). Records written before it existed have none (their
    /// releases fsynced `pid`).
    #[serde(default)]
    pub boot_id: Option<String>,
}

/// What a StartJobRun call set over its job's definition, kept with the run so that
/// every attempt launches with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RunRequest {
    /// `JobRunId`: the earlier run this one retries (its `PreviousRunId`).
    pub previous_run_id: Option<String>,
    /// `AllocatedCapacity`.
    pub allocated_capacity: Option<i32>,
    /// `MaxCapacity`.
    pub max_capacity: Option<f64>,
    /// `WorkerType`.
    pub worker_type: Option<WorkerType>,
    /// `NumberOfWorkers`.
    pub number_of_workers: Option<i32>,
    /// `SecurityConfiguration`.
    pub security_configuration: Option<String>,
    /// `NotificationProperty`.
    pub notification_property: Option<NotificationProperty>,
    /// `ExecutionClass`.
    pub execution_class: Option<ExecutionClass>,
}

impl RunRequest {
    /// Whether the call chose the run's capacity (then none of the job's capacity
    /// members apply).
    pub fn sets_capacity(&self) -> bool {
        self.allocated_capacity.is_some()
            || self.max_capacity.is_some()
            || self.worker_type.is_some()
            || self.number_of_workers.is_some()
    }
}

/// A workflow run as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRun {
    /// The engine state.
    pub run: WorkflowRun,
    /// `WorkflowRunProperties`.
    pub properties: BTreeMap<String, String>,
    /// The member triggers as they were at start (rendered in the run graph).
    pub triggers: Vec<Trigger>,
    /// For a direct StartJobRun: the job name; `None` for workflow runs.
    pub standalone_job: Option<String>,
    /// Launch records by job run id.
    pub launches: BTreeMap<String, LaunchRecord>,
    /// For a run an EVENT trigger started: the batch condition that started it (runs
    /// stored before event triggers fired have none, hence the default).
    #[serde(default)]
    pub starting_batch: Option<StartingBatch>,
    /// For a direct StartJobRun: what the call set over the job (runs stored before it
    /// was kept have none, hence the default).
    #[serde(default)]
    pub request: Option<RunRequest>,
    /// For a direct StartJobRun: its `JobRunQueuingEnabled` (`None`: the job's setting).
    #[serde(default)]
    pub queuing: Option<bool>,
    /// The epoch of the server process driving the run
    /// ([`weir_resources::replica::epoch`]): only it launches, supervises and times the
    /// run's work; others tell it what changed. Runs stored before replicas have none
    /// and are taken over at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Which condition of an EVENT trigger's `EventBatchingCondition` started a run (the
/// wire `StartingEventBatchCondition`: exactly one of its members is non-zero).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum StartingBatch {
    /// `BatchSize` events arrived; carries that number.
    Size(i32),
    /// The batch window expired; carries its length in seconds.
    Window(i32),
}

/// The run property an event-started run carries: the ids of its batch's events.
pub const EVENT_IDS_PROPERTY: &str = "aws:eventIds";

/// The value of [`EVENT_IDS_PROPERTY`]: a list rendered as AWS renders it,
/// `[id1, id2]` (scripts strip the brackets and split on `, `).
pub fn event_ids_value(ids: &[String]) -> String {
    format!("[{}]", ids.join(", "))
}

/// A run document holds the engine's state, which has had one format so far.
impl Document for StoredRun {}

impl StoredRun {
    /// The store key of this run in `scope`.
    pub fn key(&self, scope: &Scope) -> RunKey {
        RunKey {
            scope: scope.clone(),
            workflow: self.run.workflow_name().to_string(),
            run_id: self.run.run_id().to_string(),
        }
    }

    /// Every job attempt of the run.
    pub fn attempts(&self) -> impl Iterator<Item = &JobAttempt> {
        self.run.nodes().iter().flat_map(|n| n.job_runs.iter())
    }

    /// Whether this process drives the run (module [`weir_resources::replica`]).
    pub fn is_mine(&self) -> bool {
        self.owner.as_deref() == Some(replica::epoch())
    }

    /// Tells the run's owner, once `tx` commits, that the run at `key` changed here:
    /// it looks at the run again and executes what it now needs.
    pub fn tell_owner(&self, tx: &mut dyn Transaction, key: &RunKey) -> Result<(), ApiError> {
        let Some(owner) = self.owner.clone() else {
            return Ok(());
        };
        replica::send(
            tx,
            &Notice::Run {
                to: owner,
                account: key.scope.account.clone(),
                region: key.scope.region.clone(),
                workflow: key.workflow.clone(),
                run_id: key.run_id.clone(),
            },
        )
    }
}

/// Reads a run, or ENF.
pub fn load(tx: &mut dyn Transaction, key: &RunKey) -> Result<StoredRun, ApiError> {
    decode(&read(tx, key)?)
}

/// Reads a run's record (its document not decoded), or ENF.
pub fn read(tx: &mut dyn Transaction, key: &RunKey) -> Result<RunRecord, ApiError> {
    tx.get_run(&key.scope, &key.workflow, &key.run_id)?
        .ok_or_else(|| {
            ApiError::EntityNotFound(format!(
                "Workflow run {} of workflow {} not found.",
                key.run_id, key.workflow
            ))
        })
}

/// Decodes a stored run document.
pub fn decode(record: &RunRecord) -> Result<StoredRun, ApiError> {
    stored::decode_document(&record.run_id, record.version, &record.doc)
}

/// Writes a run and the `job_runs` rows of its attempts that changed since it was
/// loaded (every attempt of a new run), in the caller's transaction.
pub fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    stored: &mut StoredRun,
) -> Result<(), ApiError> {
    save_job_runs(tx, scope, stored)?;
    save_document(tx, scope, stored)?;
    Ok(())
}

/// Writes the run document (not its `job_runs` rows) in the caller's transaction;
/// returns the document as written.
pub fn save_document(
    tx: &mut dyn Transaction,
    scope: &Scope,
    stored: &StoredRun,
) -> Result<String, ApiError> {
    let (doc, version) = stored::encode_document(stored.run.run_id(), stored)?;
    let record = RunRecord {
        workflow: stored.run.workflow_name().to_string(),
        run_id: stored.run.run_id().to_string(),
        started_ms: stored.run.started_on(),
        status: stored.run.status().as_str().to_string(),
        doc,
        version,
    };
    tx.put_run(scope, &record)?;
    Ok(record.doc)
}

/// Writes the `job_runs` row of every attempt that changed since the rows were last
/// written ([`WorkflowRun::take_changed_job_runs`]), in the caller's transaction.
pub fn save_job_runs(
    tx: &mut dyn Transaction,
    scope: &Scope,
    stored: &mut StoredRun,
) -> Result<(), ApiError> {
    for attempt in stored.run.take_changed_job_runs() {
        let job_run = render_job_run(stored, &attempt);
        let (doc, version) = stored::encode_document(&attempt.id, &job_run)?;
        tx.put_job_run(
            scope,
            &JobRunRecord {
                job: attempt.job_name.clone(),
                run_id: attempt.id.clone(),
                started_ms: attempt.started_on,
                state: attempt.state.as_str().to_string(),
                owner_workflow: stored.run.workflow_name().to_string(),
                owner_run_id: stored.run.run_id().to_string(),
                doc,
                version,
            },
        )?;
    }
    Ok(())
}

/// The wire `JobRun` of an attempt.
pub fn render_job_run(stored: &StoredRun, attempt: &JobAttempt) -> JobRun {
    let launch = stored.launches.get(&attempt.id);
    let execution_time = attempt
        .completed_on
        .map(|done| ((done - attempt.started_on).max(0) / 1000) as i32);
    let retried = stored
        .request
        .as_ref()
        .and_then(|r| r.previous_run_id.clone());
    let dpu_seconds = match (launch, execution_time) {
        (Some(l), Some(seconds)) => dpu_seconds(l, seconds),
        _ => None,
    };
    JobRun {
        id: Some(attempt.id.clone()),
        attempt: Some(attempt.attempt as i32),
        previous_run_id: attempt.previous_run_id.clone().or(if attempt.attempt == 0 {
            retried
        } else {
            None
        }),
        trigger_name: if stored.standalone_job.is_some() {
            None
        } else {
            attempt.trigger_name.clone()
        },
        job_name: Some(attempt.job_name.clone()),
        started_on: Some(Timestamp::from_millis(attempt.started_on)),
        last_modified_on: Some(Timestamp::from_millis(attempt.last_modified_on)),
        completed_on: attempt.completed_on.map(Timestamp::from_millis),
        job_run_state: Some(states::job_run_state(attempt.state)),
        arguments: Some(match launch {
            Some(l) => l
                .caller_arguments
                .clone()
                .unwrap_or_else(|| l.arguments.clone()),
            None => attempt.arguments.clone(),
        }),
        error_message: attempt.error_message.clone(),
        predecessor_runs: (!attempt.predecessor_runs.is_empty()).then(|| {
            attempt
                .predecessor_runs
                .iter()
                .map(|p| Predecessor {
                    job_name: Some(p.job_name.clone()),
                    run_id: Some(p.run_id.clone()),
                })
                .collect()
        }),
        execution_time: Some(execution_time.unwrap_or(0)),
        timeout: attempt.timeout_minutes.map(|m| m as i32),
        max_capacity: launch.and_then(|l| l.max_capacity),
        glue_version: launch.and_then(|l| l.glue_version.clone()),
        allocated_capacity: launch.and_then(|l| l.allocated_capacity),
        worker_type: launch.and_then(|l| l.worker_type.clone()),
        number_of_workers: launch.and_then(|l| l.number_of_workers),
        security_configuration: launch.and_then(|l| l.security_configuration.clone()),
        execution_class: launch.and_then(|l| l.execution_class.clone()),
        notification_property: launch.and_then(|l| l.notification_property.clone()),
        dpu_seconds,
        log_group_name: Some(launch.map_or_else(
            || "/aws-glue/jobs".to_string(),
            |l| weir_logs::JobLogGroups::of(&l.command, &l.arguments).base,
        )),
        ..Default::default()
    }
}

/// `DPUSeconds` of a finished run that ran `seconds`: AWS sets it only for FLEX runs and
/// runs with Auto Scaling (`--enable-auto-scaling` `true`), as the time each worker
/// ran times its DPU factor (G.1X 1, G.2X 2, G.025X 0.25, …). Weir's workers run for the
/// whole run, so it is the run's time × its workers × the factor, or × MaxCapacity for
/// a run sized in DPUs.
fn dpu_seconds(launch: &LaunchRecord, seconds: i32) -> Option<f64> {
    let flex = launch.execution_class == Some(ExecutionClass::Flex);
    let auto_scaling = launch
        .arguments
        .get("--enable-auto-scaling")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !(flex || auto_scaling) {
        return None;
    }
    let dpus = match (&launch.worker_type, launch.number_of_workers) {
        (Some(kind), Some(workers)) => worker_dpus(kind)? * f64::from(workers),
        _ => launch.max_capacity?,
    };
    Some(f64::from(seconds) * dpus)
}

/// The DPUs one worker of `kind` counts for.
fn worker_dpus(kind: &WorkerType) -> Option<f64> {
    Some(match kind {
        WorkerType::G025X => 0.25,
        WorkerType::Standard | WorkerType::G1X | WorkerType::R1X => 1.0,
        WorkerType::G2X | WorkerType::Z2X | WorkerType::R2X => 2.0,
        WorkerType::G4X | WorkerType::R4X => 4.0,
        WorkerType::G8X | WorkerType::R8X => 8.0,
        WorkerType::G12X => 12.0,
        WorkerType::G16X => 16.0,
        WorkerType::Unknown(_) => return None,
    })
}

/// The engine snapshot of a workflow's triggers (spec §4.2: frozen at run start).
///
/// Conditional triggers that were explicitly deactivated (StopTrigger) take no part;
/// CREATED and ACTIVATED ones do (ARCHITECTURE.md, "Trigger activation").
pub fn snapshot(workflow: &str, triggers: &[Trigger]) -> Result<WorkflowSnapshot, ApiError> {
    let mut out = Vec::new();
    for trigger in triggers {
        let kind = match trigger.r#type {
            Some(TriggerType::Conditional) => TriggerKind::Conditional,
            _ => TriggerKind::Start,
        };
        if kind == TriggerKind::Conditional && trigger.state == Some(TriggerState::Deactivated) {
            continue;
        }
        let predicate = trigger.predicate.clone().unwrap_or_default();
        let logical = match predicate.logical {
            Some(shapes::Logical::Any) => Logical::Any,
            _ => Logical::And,
        };
        let mut conditions = Vec::new();
        if kind == TriggerKind::Conditional {
            for condition in predicate.conditions.unwrap_or_default() {
                if let Some(job_name) = condition.job_name {
                    conditions.push(Condition::Job {
                        job_name,
                        state: states::condition_job_state(condition.state.as_ref()),
                    });
                } else if let Some(crawler_name) = condition.crawler_name {
                    conditions.push(Condition::Crawler {
                        crawler_name,
                        state: states::condition_crawl_state(condition.crawl_state.as_ref()),
                    });
                }
            }
            if conditions.is_empty() {
                continue;
            }
        }
        let actions = trigger
            .actions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|action| {
                if let Some(job_name) = action.job_name {
                    Some(Action::Job {
                        job_name,
                        arguments: action.arguments.unwrap_or_default(),
                        timeout_minutes: action.timeout.map(|t| t.max(1) as u32),
                    })
                } else {
                    action
                        .crawler_name
                        .map(|crawler_name| Action::Crawler { crawler_name })
                }
            })
            .collect();
        out.push(TriggerSnapshot {
            name: trigger.name.clone().unwrap_or_default(),
            kind,
            logical,
            conditions,
            actions,
        });
    }
    let snapshot = WorkflowSnapshot {
        workflow_name: workflow.to_string(),
        triggers: out,
    };
    snapshot
        .validate()
        .map_err(|e| ApiError::InvalidInput(format!("The workflow {workflow} cannot run: {e}.")))?;
    Ok(snapshot)
}
