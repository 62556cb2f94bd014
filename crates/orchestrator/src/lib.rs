//! The driver around the pure engine: it loads a run, feeds it one event inside a
//! write transaction, commits the new state together with the job-run rows, and only
//! then hands the effects the engine asked for (launch or kill processes, arm timers)
//! to the [`driver`] task, which executes them. Durable before acknowledged; effects
//! after commit; every effect is idempotent so a restart can re-issue them
//! ([`Orchestrator::recover`]). Schedules ([`schedule`]) fire SCHEDULED triggers on the
//! same clock.
//!
//! May depend on: `weir-engine` (every decision), `weir-runner` (processes),
//! `weir-catalog` (a workflow's crawls), `weir-resources`, `weir-store`, `weir-clock`,
//! `weir-metrics`, `weir-model` (to render runs as AWS answers them). Must not: know
//! HTTP or the Glue dispatch; the Glue operations call in here, never the reverse.

#![warn(missing_docs)]

mod apply;
mod counters;
mod crawl;
mod driven;
pub(crate) mod driver;
mod launch;
mod output;
mod recovery;
pub mod render;
pub mod schedule;
mod states;
pub mod stored_run;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use tokio::sync::mpsc;
use weir_engine::{
    Action, Effect, JobRunState, Millis, RunStatus, TriggerKind, TriggerSnapshot, WorkflowRun,
    WorkflowSnapshot,
};
use weir_model::shapes::{Job, StartJobRunRequest, Workflow};
use weir_store::{Kind, Scope, Transaction};

use crawl::CrawlResult;
use driver::{Driver, Event, Events};
use launch::Launches;
use stored_run::{RunKey, RunRequest, STANDALONE_PREFIX, StoredRun};
use weir_clock::Clock;
use weir_resources::db::Db;
use weir_resources::job::{self, JobDefinition};
use weir_resources::replica::{self, Notice};
use weir_resources::{ApiError, OrApiError};
use weir_resources::{graph, ids, stored};
use weir_runner::{KillOutcome, Runner};

/// Run statuses that occupy a concurrency slot (spec §4.7).
pub const ACTIVE_STATUSES: &[&str] = &[RunStatus::Running.as_str(), RunStatus::Stopping.as_str()];
/// Job-run states of an attempt that occupies a slot of its job's concurrency.
const ACTIVE_JOB_RUN_STATES: &[&str] = &[
    JobRunState::Starting.as_str(),
    JobRunState::Running.as_str(),
    JobRunState::Stopping.as_str(),
];
/// The job-run state of an attempt queued for a slot (job run queuing).
const WAITING: &[&str] = &[JobRunState::Waiting.as_str()];

/// Who asked for a workflow run; decides what a concurrency overflow does (§4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOrigin {
    /// StartWorkflowRun: overflow is ConcurrentRunsExceededException.
    Api,
    /// A trigger (StartTrigger on the start trigger, schedule, event): overflow is
    /// recorded as a run in ERROR.
    Trigger,
}

/// Settings of the orchestrator.
#[derive(Debug, Clone)]
pub struct OrchestratorSettings {
    /// The credentials registry: job scripts of a run get a key pair of the run's
    /// account from it, so their boto3 calls are authenticated like any client's.
    pub script_credentials: std::sync::Arc<weir_auth::CredentialRegistry>,
    /// Job runs that may run at once in one account (`--max-concurrent-job-runs`); more
    /// wait when their job queues runs, else fail.
    pub max_concurrent_job_runs: u64,
}

/// Runs workflows and jobs; cheap to clone.
#[derive(Clone)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    runner: Runner,
    clock: Clock,
    settings: OrchestratorSettings,
    /// `http://host:port` of this server, known once the listener is bound.
    endpoint: OnceLock<String>,
    /// The driver's inbox.
    events: Events,
    /// The runs the driver moves, as its last transition of each committed them.
    driven: driven::DrivenRuns,
}

/// The driver task of an [`Orchestrator`]; spawn [`DriverTask::run`] once.
pub struct DriverTask(Driver);

impl DriverTask {
    /// Executes effects, fires deadlines and retries failed transitions until
    /// `shutdown` completes.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        self.0.run(shutdown).await;
    }
}

impl Orchestrator {
    /// An orchestrator over `db` launching processes with `runner` and reading time
    /// from `clock`, and its driver task (which must be spawned for runs to move).
    pub fn new(
        db: Db,
        runner: Runner,
        clock: Clock,
        settings: OrchestratorSettings,
    ) -> (Self, DriverTask) {
        let (events, inbox) = mpsc::unbounded_channel();
        let orchestrator = Self {
            inner: Arc::new(Inner {
                db,
                runner,
                clock,
                settings,
                endpoint: OnceLock::new(),
                events,
                driven: driven::DrivenRuns::default(),
            }),
        };
        let driver = Driver::new(orchestrator.clone(), inbox);
        (orchestrator, DriverTask(driver))
    }

    /// Records the address job scripts use to call back into this server.
    pub fn set_endpoint(&self, endpoint: String) {
        let _ = self.inner.endpoint.set(endpoint);
    }

    /// The server's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    fn send(&self, event: Event) {
        // The driver lives as long as the server; after shutdown nothing is executed
        // any more and recovery re-derives the event at the next start.
        if self.inner.events.send(event).is_err() {
            tracing::debug!("the driver has stopped; an event is left to recovery");
        }
    }

    /// Starts a run of `workflow` (spec §4.3): RunProperties = DefaultRunProperties
    /// overlaid by `properties`; the triggers are frozen into the run.
    pub async fn start_workflow_run(
        &self,
        scope: Scope,
        workflow: String,
        properties: BTreeMap<String, String>,
        origin: StartOrigin,
    ) -> Result<String, ApiError> {
        let now = self.clock().now_millis();
        let started = self
            .inner
            .db
            .write(move |tx| start_run_in(tx, &scope, &workflow, properties, origin, None, now))
            .await?;
        let run_id = started.run_id().to_string();
        self.started(started);
        Ok(run_id)
    }

    /// Starts the run of `workflow` that SCHEDULED trigger `trigger` firing at `tick`
    /// asks for, unless that tick was fired already, by this or another replica
    /// (`None`).
    pub async fn start_scheduled_run(
        &self,
        scope: Scope,
        workflow: String,
        trigger: String,
        tick: Millis,
    ) -> Result<Option<String>, ApiError> {
        let now = self.clock().now_millis();
        let started = self
            .inner
            .db
            .write(move |tx| {
                if !schedule::claim_tick(tx, &scope, &trigger, tick)? {
                    return Ok(None);
                }
                let properties = BTreeMap::new();
                start_run_in(
                    tx,
                    &scope,
                    &workflow,
                    properties,
                    StartOrigin::Trigger,
                    None,
                    now,
                )
                .map(Some)
            })
            .await?;
        Ok(started.map(|started| {
            let run_id = started.run_id().to_string();
            self.started(started);
            run_id
        }))
    }

    /// Hands a run that [`start_run_in`] started to the driver; call it once the
    /// transaction that started it has committed (never before: its effects would run
    /// for a run a failed commit never recorded).
    pub fn started(&self, started: StartedRun) {
        crate::counters::workflow_run_started();
        self.committed(started.key, started.effects, started.deadline);
    }

    /// Starts a direct job run (StartJobRun). It runs as a single-action run of the
    /// engine under a reserved name, so retries, timeouts, stop and recovery follow
    /// the same path as in workflows. What the call sets over the job (capacity,
    /// security configuration, notification, execution class, the run it retries) is
    /// kept with the run and echoed on its job runs. Returns the job run id.
    pub async fn start_job_run(
        &self,
        scope: Scope,
        input: StartJobRunRequest,
    ) -> Result<String, ApiError> {
        job::check_capacities(
            input.allocated_capacity,
            input.max_capacity,
            input.worker_type.is_some() || input.number_of_workers.is_some(),
        )?;
        let job = input.job_name.unwrap_or_default();
        let arguments = input.arguments.unwrap_or_default();
        let timeout_minutes = input.timeout;
        let account_limit = self.inner.settings.max_concurrent_job_runs;
        let queuing = input.job_run_queuing_enabled;
        let request = RunRequest {
            previous_run_id: input.job_run_id,
            allocated_capacity: input.allocated_capacity,
            max_capacity: input.max_capacity,
            worker_type: input.worker_type,
            number_of_workers: input.number_of_workers,
            security_configuration: input.security_configuration,
            notification_property: input.notification_property,
            execution_class: input.execution_class,
        };
        let now = self.clock().now_millis();
        let runner = self.inner.runner.clone();
        let (key, effects, deadline, job_run_id, launches) = self
            .inner
            .db
            .write(move |tx| {
                let definition = stored::load::<Job>(tx, &scope, Kind::Job, &job)?
                    .or_not_found(|| "Failed to start job run due to missing metadata.".into())?
                    .value;
                let definition = JobDefinition::of(definition);
                let limit = definition.max_concurrent_runs;
                let queued = queuing.unwrap_or(definition.run_queuing);
                let busy =
                    tx.count_job_runs_in_state(&scope, Some(&job), ACTIVE_JOB_RUN_STATES, None)?;
                if busy >= limit && !queued {
                    return Err(ApiError::ConcurrentRunsExceeded(format!(
                        "Concurrent runs exceeded for {job}"
                    )));
                }
                let in_account =
                    tx.count_job_runs_in_state(&scope, None, ACTIVE_JOB_RUN_STATES, None)?;
                if in_account >= account_limit && !queued {
                    return Err(ApiError::ConcurrentRunsExceeded(format!(
                        "Concurrent runs exceeded for the account: at most {account_limit} job \
                         runs run at once"
                    )));
                }
                let snapshot = WorkflowSnapshot {
                    workflow_name: format!("{STANDALONE_PREFIX}{job}"),
                    triggers: vec![TriggerSnapshot {
                        name: "StartJobRun".into(),
                        kind: TriggerKind::Start,
                        logical: Default::default(),
                        conditions: Vec::new(),
                        actions: vec![Action::Job {
                            job_name: job.clone(),
                            arguments,
                            timeout_minutes: timeout_minutes.map(|t| t.max(1) as u32),
                        }],
                    }],
                };
                let run = WorkflowRun::start(snapshot, ids::random_id("wr_"), now)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                let stored = StoredRun {
                    run,
                    properties: BTreeMap::new(),
                    triggers: Vec::new(),
                    standalone_job: Some(job),
                    launches: BTreeMap::new(),
                    starting_batch: None,
                    request: Some(request),
                    queuing,
                    owner: None,
                };
                let job_run_id = stored
                    .attempts()
                    .next()
                    .map(|a| a.id.clone())
                    .ok_or_else(|| ApiError::Internal("the job run was not scheduled".into()))?;
                let mut launches = Launches::new(runner, now, account_limit);
                let (key, effects, deadline) = commit_new(tx, &scope, stored, Some(&mut launches))?;
                Ok((key, effects, deadline, job_run_id, launches))
            })
            .await?;
        let confirmed = launches.committed();
        self.committed(key.clone(), effects, deadline);
        for (id, job, decision) in confirmed {
            self.launched(key.clone(), id, job, decision).await;
        }
        Ok(job_run_id)
    }

    /// StopWorkflowRun (spec §4.5).
    pub async fn stop_workflow_run(&self, key: RunKey) -> Result<(), ApiError> {
        let now = self.clock().now_millis();
        self.transition(key, move |_, stored| {
            stored.run.handle_stop(now).map_err(|e| {
                ApiError::IllegalWorkflowState(format!(
                    "Workflow run {}: {e}.",
                    stored.run.run_id()
                ))
            })
        })
        .await
    }

    /// Stops one job run (BatchStopJobRun); `Err` carries the per-run error text.
    pub async fn stop_job_run(
        &self,
        scope: Scope,
        job: String,
        job_run_id: String,
    ) -> Result<(), String> {
        let id = job_run_id.clone();
        let record = self
            .inner
            .db
            .read(move |tx| Ok(tx.get_job_run(&scope, &job, &id)?.map(|r| (scope, r))))
            .await
            .map_err(|e| e.to_string())?;
        let Some((scope, record)) = record else {
            return Err(format!("Job run {job_run_id} not found."));
        };
        let stoppable = [JobRunState::Starting, JobRunState::Running].map(JobRunState::as_str);
        if !stoppable.contains(&record.state.as_str()) {
            return Err(format!(
                "Job run {job_run_id} is {} and cannot be stopped.",
                record.state
            ));
        }
        let key = RunKey {
            scope,
            workflow: record.owner_workflow,
            run_id: record.owner_run_id,
        };
        if key.workflow.starts_with(STANDALONE_PREFIX) {
            return self.stop_workflow_run(key).await.map_err(|e| e.to_string());
        }
        self.stop_attempt(key, job_run_id)
            .await
            .map_err(|e| e.to_string())
    }

    /// Stops attempt `job_run_id` of run `key`: here if this process drives the run,
    /// else through a notice to the replica that does.
    async fn stop_attempt(&self, key: RunKey, job_run_id: String) -> Result<(), ApiError> {
        let read_key = key.clone();
        let stored = self
            .inner
            .db
            .read(move |tx| stored_run::load(tx, &read_key))
            .await?;
        match stored.owner {
            Some(_) if stored.is_mine() => self.kill_attempt(key, job_run_id),
            Some(to) => {
                let notice = Notice::StopAttempt {
                    to,
                    account: key.scope.account,
                    region: key.scope.region,
                    workflow: key.workflow,
                    run_id: key.run_id,
                    job_run_id,
                };
                self.inner
                    .db
                    .write(move |tx| replica::send(tx, &notice))
                    .await?;
            }
            // Not driven by anyone yet: whoever takes it over re-issues its kills.
            None => {}
        }
        Ok(())
    }

    /// ResumeWorkflowRun (spec §4.6): a new run from a COMPLETED one. The new run starts
    /// with the resumed run's final run properties. Returns the new id and the node ids
    /// actually restarted.
    pub async fn resume_workflow_run(
        &self,
        key: RunKey,
        node_ids: Vec<String>,
    ) -> Result<(String, Vec<String>), ApiError> {
        let run_id = ids::random_id("wr_");
        let id = run_id.clone();
        let now = self.clock().now_millis();
        let (new_key, effects, deadline, restarted) = self
            .inner
            .db
            .write(move |tx| {
                let previous = stored_run::load(tx, &key)?;
                let definition =
                    stored::load::<Workflow>(tx, &key.scope, Kind::Workflow, &key.workflow)?
                        .or_not_found(|| {
                            format!(
                                "Entity Not Found: workflow {} does not exist.",
                                key.workflow
                            )
                        })?
                        .value;
                if at_run_limit(tx, &key.scope, &key.workflow, &definition)? {
                    return Err(ApiError::ConcurrentRunsExceeded(format!(
                        "Concurrent runs exceeded for workflow: {}.",
                        key.workflow
                    )));
                }
                let resumed =
                    WorkflowRun::resume(&previous.run, id, &node_ids, now).map_err(resume_error)?;
                let stored = StoredRun {
                    run: resumed.run,
                    properties: previous.properties.clone(),
                    triggers: previous.triggers.clone(),
                    standalone_job: None,
                    launches: previous.launches.clone(),
                    starting_batch: None,
                    request: None,
                    queuing: None,
                    owner: None,
                };
                let (new_key, effects, deadline) = commit_new(tx, &key.scope, stored, None)?;
                Ok((new_key, effects, deadline, resumed.node_ids))
            })
            .await?;
        crate::counters::workflow_run_started();
        self.committed(new_key, effects, deadline);
        Ok((run_id, restarted))
    }

    /// Replaces/merges run properties (PutWorkflowRunProperties: upsert).
    pub async fn put_run_properties(
        &self,
        key: RunKey,
        properties: BTreeMap<String, String>,
    ) -> Result<(), ApiError> {
        self.transition(key, move |_, stored| {
            stored.properties.extend(properties);
            Ok(())
        })
        .await
    }

    /// Loads the run, applies `step` to it, commits state + job-run rows, then hands
    /// the effects and the next deadline to the driver — or, for a run another replica
    /// drives, tells that replica in the same transaction (it derives the effects from
    /// the stored run).
    async fn transition<R: Send + 'static>(
        &self,
        key: RunKey,
        step: impl FnOnce(&mut dyn Transaction, &mut StoredRun) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let tx_key = key.clone();
        let (result, effects, deadline) = self
            .inner
            .db
            .write(move |tx| {
                let mut stored = stored_run::load(tx, &tx_key)?;
                let result = step(tx, &mut stored)?;
                let effects = drain(&mut stored.run);
                stored_run::save(tx, &tx_key.scope, &mut stored)?;
                if !stored.is_mine() {
                    stored.tell_owner(tx, &tx_key)?;
                    return Ok((result, Vec::new(), None));
                }
                Ok((result, effects, stored.run.poll_timeout()))
            })
            .await?;
        self.committed(key, effects, deadline);
        Ok(result)
    }

    /// Acts on a notice another replica sent through the store (those addressed to
    /// this process; [`Notice::is_for_me`]).
    pub async fn heard(&self, notice: Notice) {
        match notice {
            Notice::Run {
                account,
                region,
                workflow,
                run_id,
                ..
            } => {
                let scope = Scope { account, region };
                self.look_again(RunKey {
                    scope,
                    workflow,
                    run_id,
                })
                .await;
            }
            Notice::StopAttempt {
                account,
                region,
                workflow,
                run_id,
                job_run_id,
                ..
            } => {
                let scope = Scope { account, region };
                let key = RunKey {
                    scope,
                    workflow,
                    run_id,
                };
                self.kill_attempt(key, job_run_id);
            }
            Notice::CancelCrawl { crawl_id } => weir_catalog::cancel(&crawl_id),
        }
    }

    /// Looks again at every active run this process drives (notices for them may have
    /// been lost while the store's notice connection was down).
    pub async fn look_at_mine(&self) {
        let found = self
            .inner
            .db
            .read(|tx| {
                let mut mine = Vec::new();
                for (scope, record) in tx.all_runs_in_status(ACTIVE_STATUSES)? {
                    let stored = stored_run::decode(&record)?;
                    if stored.is_mine() {
                        mine.push(stored.key(&scope));
                    }
                }
                Ok(mine)
            })
            .await;
        match found {
            Ok(keys) => {
                for key in keys {
                    self.look_again(key).await;
                }
            }
            Err(error) => tracing::warn!(%error, "cannot list the runs this replica drives"),
        }
    }

    /// Executes what run `key` needs now that it changed elsewhere, if this process
    /// drives it: the effects its stored state asks for (all idempotent), its next
    /// deadline, and a look for queued runs of the jobs it has waiting.
    pub(crate) async fn look_again(&self, key: RunKey) {
        let read_key = key.clone();
        let found = self
            .inner
            .db
            .read(move |tx| stored_run::load(tx, &read_key))
            .await;
        let stored = match found {
            Ok(stored) if stored.is_mine() => stored,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(%error, run = %key.run_id, "cannot look at a run again");
                return;
            }
        };
        self.send(Event::Committed {
            key: key.clone(),
            effects: stored.run.recover(),
            deadline: stored.run.poll_timeout(),
        });
        let waiting: std::collections::BTreeSet<String> = stored
            .attempts()
            .filter(|a| a.state == JobRunState::Waiting)
            .map(|a| a.job_name.clone())
            .collect();
        for job in waiting {
            self.dequeue(key.scope.clone(), job).await;
        }
    }

    /// Hands what a committed transition asked for to the driver.
    fn committed(&self, key: RunKey, effects: Vec<Effect>, deadline: Option<Millis>) {
        if effects.is_empty() && deadline.is_none() {
            return;
        }
        self.send(Event::Committed {
            key,
            effects,
            deadline,
        });
    }

    /// Executes one effect of a committed transition (called by the driver).
    fn execute(&self, key: &RunKey, effect: Effect) {
        match effect {
            Effect::StartJob(start) => {
                if self.inner.runner.reserve(&start.job_run_id) {
                    self.send(Event::Launch {
                        key: key.clone(),
                        start,
                    });
                }
            }
            Effect::KillJob { job_run_id, .. } => self.kill_attempt(key.clone(), job_run_id),
            Effect::StartCrawl {
                crawler_name,
                crawl_id,
            } => {
                let me = self.clone();
                let key = key.clone();
                tokio::spawn(async move { me.crawl(key, crawler_name, crawl_id).await });
            }
            Effect::KillCrawl {
                crawler_name,
                crawl_id,
            } => {
                weir_catalog::cancel(&crawl_id);
                self.send(Event::CrawlEnded {
                    key: key.clone(),
                    crawl_id,
                    crawler: crawler_name,
                    result: CrawlResult::Cancelled,
                });
            }
            Effect::RunFinished { status } => {
                tracing::info!(workflow = %key.workflow, run = %key.run_id, status = status.as_str(), "run finished");
                crate::counters::run_finished(&key.workflow, status.as_str());
            }
        }
    }

    /// Stops one attempt: its process if the runner has one (or a launch under way),
    /// else the attempt is ended STOPPED if it never started (see
    /// [`Event::KillUnlaunched`]). Every kill is answered by exactly one end.
    fn kill_attempt(&self, key: RunKey, job_run_id: String) {
        if self.inner.runner.kill(&job_run_id) == KillOutcome::Unknown {
            self.send(Event::KillUnlaunched { key, job_run_id });
        }
    }

    /// A run slot of `job` may have freed: launches the oldest run of it waiting for one
    /// (job run queuing), which starts if the slot is still free and waits again if
    /// not. A failure is logged: the next end of a run of the job, or the next start,
    /// tries again.
    pub(crate) async fn dequeue(&self, scope: Scope, job: String) {
        let found =
            self.inner
                .db
                .read(move |tx| {
                    let waiting = tx.all_job_runs_in_state(WAITING)?;
                    // The job's own oldest waiting run; else (the slot was the account's)
                    // the oldest waiting run of any job of the account.
                    let oldest = waiting.into_iter().filter(|(s, _)| *s == scope).min_by(
                        |(_, a), (_, b)| {
                            (a.job != job, a.started_ms, &a.run_id).cmp(&(
                                b.job != job,
                                b.started_ms,
                                &b.run_id,
                            ))
                        },
                    );
                    let Some((scope, record)) = oldest else {
                        return Ok(None);
                    };
                    let key = RunKey {
                        scope: scope.clone(),
                        workflow: record.owner_workflow.clone(),
                        run_id: record.owner_run_id.clone(),
                    };
                    let Some(run) = tx.get_run(&scope, &key.workflow, &key.run_id)? else {
                        return Ok(None);
                    };
                    let stored = stored_run::decode(&run)?;
                    let start = stored.run.waiting_start(&record.run_id);
                    Ok(start.map(|start| (key, start, stored)))
                })
                .await;
        match found {
            Ok(Some((key, start, stored))) if stored.is_mine() => {
                if self.inner.runner.reserve(&start.job_run_id) {
                    self.send(Event::Launch { key, start });
                }
            }
            Ok(Some((key, _, stored))) => {
                // Another replica drives the run: it launches the attempt.
                let told = self
                    .inner
                    .db
                    .write(move |tx| stored.tell_owner(tx, &key))
                    .await;
                if let Err(error) = told {
                    tracing::error!(%error, "cannot tell a replica that a job run slot freed");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot look for queued job runs"),
        }
    }

    /// Deletes workflow and job run history that started more than `retention_ms` ago
    /// and is finished (spec §4.9); returns how many runs and job runs went.
    pub async fn purge_history(&self, retention_ms: i64) -> Result<u64, ApiError> {
        let cutoff = self.clock().now_millis().saturating_sub(retention_ms);
        self.inner
            .db
            .write(move |tx| {
                let live = [ACTIVE_STATUSES, ACTIVE_JOB_RUN_STATES, WAITING].concat();
                let purged = tx.purge_runs_before(cutoff, &live)?;
                // A job run's output streams go with its history.
                weir_logs::streams::purge_streams_of_purged_runs(tx)?;
                Ok(purged)
            })
            .await
    }

    /// Directory of the shipped Python helpers (the `awsglue` package).
    pub fn python_lib(&self) -> std::path::PathBuf {
        self.inner.runner.python_lib()
    }

    /// The environment job scripts (and blueprint layout generators) get so that their
    /// boto3 calls reach this server: endpoint, credentials, region.
    pub fn script_env(&self, scope: &Scope) -> Vec<(String, String)> {
        let mut env = vec![
            ("AWS_DEFAULT_REGION".to_string(), scope.region.clone()),
            ("AWS_REGION".to_string(), scope.region.clone()),
        ];
        match self
            .inner
            .settings
            .script_credentials
            .for_account(&scope.account)
        {
            Some(credential) => {
                env.push((
                    "AWS_ACCESS_KEY_ID".to_string(),
                    credential.access_key_id().to_owned(),
                ));
                env.push((
                    "AWS_SECRET_ACCESS_KEY".to_string(),
                    credential.secret_access_key().to_owned(),
                ));
                if let Some(token) = credential.session_token() {
                    env.push(("AWS_SESSION_TOKEN".to_string(), token.to_owned()));
                }
            }
            None => tracing::warn!(
                account = %scope.account,
                "no configured credentials for the run's account: its scripts cannot sign requests"
            ),
        }
        if let Some(endpoint) = self.inner.endpoint.get() {
            env.push(("AWS_ENDPOINT_URL".to_string(), endpoint.clone()));
            env.push(("AWS_ENDPOINT_URL_GLUE".to_string(), endpoint.clone()));
        }
        env
    }
}

/// A run started inside a caller's transaction ([`start_run_in`]), waiting for that
/// transaction to commit before [`Orchestrator::started`] hands it to the driver.
#[must_use = "a started run moves only once it is handed to Orchestrator::started"]
#[derive(Debug)]
pub struct StartedRun {
    key: RunKey,
    effects: Vec<Effect>,
    deadline: Option<Millis>,
}

impl StartedRun {
    /// The `wr_` id of the run.
    pub fn run_id(&self) -> &str {
        &self.key.run_id
    }

    /// Its store key.
    pub fn key(&self) -> &RunKey {
        &self.key
    }
}

/// Starts a run of `workflow` in the caller's transaction `tx` at `now` (spec §4.3):
/// the triggers are frozen into it, RunProperties = DefaultRunProperties overlaid by
/// `properties`, and `batch` records the event batch condition that started it. Over
/// MaxConcurrentRuns, an API start is ConcurrentRunsExceededException and a trigger's
/// start is recorded as a run in ERROR (§4.7). The run moves once the caller's
/// transaction committed and it handed the result to [`Orchestrator::started`].
pub fn start_run_in(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
    properties: BTreeMap<String, String>,
    origin: StartOrigin,
    batch: Option<stored_run::StartingBatch>,
    now: Millis,
) -> Result<StartedRun, ApiError> {
    let definition = stored::load::<Workflow>(tx, scope, Kind::Workflow, workflow)?
        .or_not_found(|| format!("Entity Not Found: workflow {workflow} does not exist."))?
        .value;
    let triggers = graph::member_triggers(tx, scope, workflow)?;
    let snapshot = stored_run::snapshot(workflow, &triggers)?;
    let mut run_properties = definition
        .default_run_properties
        .clone()
        .unwrap_or_default();
    run_properties.extend(properties);
    let over = at_run_limit(tx, scope, workflow, &definition)?;
    let message = format!("Concurrent runs exceeded for workflow: {workflow}.");
    let id = ids::random_id("wr_");
    let run = match (over, origin) {
        (true, StartOrigin::Api) => {
            return Err(ApiError::ConcurrentRunsExceeded(message));
        }
        (true, StartOrigin::Trigger) => WorkflowRun::rejected(snapshot, id, now, message),
        (false, _) => WorkflowRun::start(snapshot, id, now)
            .map_err(|e| ApiError::InvalidInput(e.to_string()))?,
    };
    let stored = StoredRun {
        run,
        properties: run_properties,
        triggers,
        standalone_job: None,
        launches: BTreeMap::new(),
        starting_batch: batch,
        request: None,
        queuing: None,
        owner: None,
    };
    let (key, effects, deadline) = commit_new(tx, scope, stored, None)?;
    Ok(StartedRun {
        key,
        effects,
        deadline,
    })
}

/// Whether `workflow` has as many active runs as its MaxConcurrentRuns allows (spec
/// §4.7); never when it sets no limit (then nothing is counted).
fn at_run_limit(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
    definition: &Workflow,
) -> Result<bool, ApiError> {
    let Some(limit) = definition.max_concurrent_runs else {
        return Ok(false);
    };
    let active = tx.count_runs_in_status(scope, workflow, ACTIVE_STATUSES)?;
    Ok(active >= limit.max(0) as u64)
}

/// Stores a new run, owned by this process, and returns its key, effects and first
/// deadline; with `launches`, the attempts it starts are confirmed in the same
/// transaction (see [`Launches`]).
fn commit_new(
    tx: &mut dyn Transaction,
    scope: &Scope,
    mut stored: StoredRun,
    launches: Option<&mut Launches>,
) -> Result<(RunKey, Vec<Effect>, Option<Millis>), ApiError> {
    stored.owner = Some(replica::epoch().to_string());
    let key = stored.key(scope);
    let mut effects = drain(&mut stored.run);
    if let Some(launches) = launches {
        effects = launches.confirm_starts(tx, &mut stored, &key, effects)?;
    }
    stored_run::save(tx, scope, &mut stored)?;
    Ok((key, effects, stored.run.poll_timeout()))
}

fn drain(run: &mut WorkflowRun) -> Vec<Effect> {
    std::iter::from_fn(|| run.poll_effect()).collect()
}

/// An event about an attempt that is already final (e.g. a kill confirmation racing
/// with a normal exit) changes nothing; it is logged, not an error.
/// Saves the bookmark the attempt `job_run_id` committed, if the attempt did end
/// SUCCEEDED (a stale end changes nothing and saves nothing).
fn save_bookmark(
    tx: &mut dyn Transaction,
    scope: &Scope,
    stored: &StoredRun,
    job_run_id: &str,
    text: String,
) -> Result<(), ApiError> {
    match stored.run.job_run(job_run_id) {
        Some(attempt) if attempt.state == JobRunState::Succeeded => {
            let number = i32::try_from(attempt.attempt).unwrap_or(i32::MAX);
            weir_resources::bookmark::commit(tx, scope, &attempt.job_name, job_run_id, number, text)
        }
        _ => Ok(()),
    }
}

fn ignore_stale<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(error) = result {
        tracing::debug!(%error, "ignored a stale engine event");
    }
}

fn resume_error(error: weir_engine::ResumeError) -> ApiError {
    use weir_engine::ResumeError;
    match error {
        ResumeError::IllegalState(_) => ApiError::IllegalWorkflowState(error.to_string()),
        _ => ApiError::InvalidInput(error.to_string()),
    }
}
