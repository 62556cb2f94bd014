//! The driver around the pure engine: it loads a run, feeds it one event inside a
//! write transaction, commits the new state together with the job-run rows, and only
//! then executes the effects the engine asked for (launch or kill processes, arm
//! timers). Durable before acknowledged; effects after commit; every effect is
//! idempotent so a restart can re-issue them ([`Orchestrator::recover`]).

pub mod render;
pub mod schedule;
pub mod stored_run;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use weir_engine::{
    Action, CrawlEnded, CrawlOutcome, Effect, JobAttempt, JobEnded, JobFacts, JobOutcome,
    JobRunState, Millis, StartJob, TriggerKind, TriggerSnapshot, WorkflowRun, WorkflowSnapshot,
};
use weir_model::shapes::{Job, Workflow};
use weir_store::{Kind, Scope, Transaction};

use crate::db::Db;
use crate::protocol::{ApiError, OrApiError};
use crate::resources::{clock, graph, ids, stored};
use crate::runner::{Launch, Runner};
use stored_run::{LaunchRecord, RunKey, STANDALONE_PREFIX, StoredRun};

/// Run statuses that occupy a concurrency slot (spec §4.7).
pub const ACTIVE_STATUSES: &[&str] = &["RUNNING", "STOPPING"];
/// Default job timeout in minutes when neither job nor action sets one (spec §6.1).
const DEFAULT_TIMEOUT_MINUTES: i32 = 2880;

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
    /// How many real milliseconds a job-timeout "minute" lasts (60000 by default; tests
    /// shorten it).
    pub timeout_minute_ms: i64,
    /// The credentials registry: job scripts of a run get a key pair of the run's
    /// account from it, so their boto3 calls are authenticated like any client's.
    pub script_credentials: std::sync::Arc<crate::auth::CredentialRegistry>,
}

/// Runs workflows and jobs; cheap to clone.
#[derive(Clone)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    runner: Runner,
    settings: OrchestratorSettings,
    /// `http://host:port` of this server, known once the listener is bound.
    endpoint: OnceLock<String>,
    /// The earliest armed timer per run, so each deadline is armed once.
    timers: Mutex<HashMap<RunKey, Millis>>,
}

impl Orchestrator {
    /// An orchestrator over `db` launching processes with `runner`.
    pub fn new(db: Db, runner: Runner, settings: OrchestratorSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                runner,
                settings,
                endpoint: OnceLock::new(),
                timers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Records the address job scripts use to call back into this server.
    pub fn set_endpoint(&self, endpoint: String) {
        let _ = self.inner.endpoint.set(endpoint);
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
        let run_id = ids::random_id("wr_");
        let id = run_id.clone();
        let (key, effects, deadline) = self
            .inner
            .db
            .write(move |tx| {
                let definition = stored::load::<Workflow>(tx, &scope, Kind::Workflow, &workflow)?
                    .or_not_found(|| {
                        format!("Entity Not Found: workflow {workflow} does not exist.")
                    })?
                    .value;
                let triggers = graph::member_triggers(tx, &scope, &workflow)?;
                let snapshot = stored_run::snapshot(&workflow, &triggers)?;
                let mut run_properties = definition
                    .default_run_properties
                    .clone()
                    .unwrap_or_default();
                run_properties.extend(properties);
                let now = clock::now_millis();
                let over = at_run_limit(tx, &scope, &workflow, &definition)?;
                let message = format!("Concurrent runs exceeded for workflow: {workflow}.");
                let run = match (over, origin) {
                    (true, StartOrigin::Api) => {
                        return Err(ApiError::ConcurrentRunsExceeded(message));
                    }
                    (true, StartOrigin::Trigger) => {
                        WorkflowRun::rejected(snapshot, id, now, message)
                    }
                    (false, _) => WorkflowRun::start(snapshot, id, now)
                        .map_err(|e| ApiError::InvalidInput(e.to_string()))?,
                };
                let stored = StoredRun {
                    run,
                    properties: run_properties,
                    triggers,
                    standalone_job: None,
                    launches: BTreeMap::new(),
                };
                commit_new(tx, &scope, stored)
            })
            .await?;
        crate::metrics::workflow_run_started();
        self.after_commit(&key, effects, deadline);
        Ok(run_id)
    }

    /// Starts a direct job run (StartJobRun). It runs as a single-action run of the
    /// engine under a reserved name, so retries, timeouts, stop and recovery follow
    /// the same path as in workflows. Returns the job run id.
    pub async fn start_job_run(
        &self,
        scope: Scope,
        job: String,
        arguments: BTreeMap<String, String>,
        timeout_minutes: Option<i32>,
    ) -> Result<String, ApiError> {
        let (key, effects, deadline, job_run_id) = self
            .inner
            .db
            .write(move |tx| {
                let definition = stored::load::<Job>(tx, &scope, Kind::Job, &job)?
                    .or_not_found(|| "Failed to start job run due to missing metadata.".into())?
                    .value;
                let limit = job_concurrency(&definition);
                let busy = tx.count_job_runs_in_state(
                    &scope,
                    &job,
                    &["STARTING", "RUNNING", "STOPPING"],
                    None,
                )?;
                if busy >= limit {
                    return Err(ApiError::ConcurrentRunsExceeded(format!(
                        "Concurrent runs exceeded for {job}"
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
                let run = WorkflowRun::start(snapshot, ids::random_id("wr_"), clock::now_millis())
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                let stored = StoredRun {
                    run,
                    properties: BTreeMap::new(),
                    triggers: Vec::new(),
                    standalone_job: Some(job),
                    launches: BTreeMap::new(),
                };
                let job_run_id = stored
                    .attempts()
                    .next()
                    .map(|a| a.id.clone())
                    .ok_or_else(|| ApiError::Internal("the job run was not scheduled".into()))?;
                let (key, effects, deadline) = commit_new(tx, &scope, stored)?;
                Ok((key, effects, deadline, job_run_id))
            })
            .await?;
        self.after_commit(&key, effects, deadline);
        Ok(job_run_id)
    }

    /// StopWorkflowRun (spec §4.5).
    pub async fn stop_workflow_run(&self, key: RunKey) -> Result<(), ApiError> {
        self.transition(key, |_, stored| {
            stored.run.handle_stop(clock::now_millis()).map_err(|e| {
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
        if !matches!(record.state.as_str(), "STARTING" | "RUNNING") {
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
        // A kill before the process is known is remembered by the runner and honoured
        // when the launch reaches it, so the attempt ends STOPPED either way.
        self.inner.runner.kill(&job_run_id);
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
                    WorkflowRun::resume(&previous.run, id, &node_ids, clock::now_millis())
                        .map_err(resume_error)?;
                let stored = StoredRun {
                    run: resumed.run,
                    properties: previous.properties.clone(),
                    triggers: previous.triggers.clone(),
                    standalone_job: None,
                    launches: previous.launches.clone(),
                };
                let (new_key, effects, deadline) = commit_new(tx, &key.scope, stored)?;
                Ok((new_key, effects, deadline, resumed.node_ids))
            })
            .await?;
        crate::metrics::workflow_run_started();
        self.after_commit(&new_key, effects, deadline);
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

    /// Crash recovery at start-up: re-attaches to job processes that were running,
    /// re-issues every effect the persisted runs may still need, re-arms timers.
    pub async fn recover(&self) -> Result<usize, ApiError> {
        let runs = self
            .inner
            .db
            .read(|tx| Ok(tx.all_runs_in_status(ACTIVE_STATUSES)?))
            .await?;
        let count = runs.len();
        for (scope, record) in runs {
            let stored = stored_run::decode(&record)?;
            let key = stored.key(&scope);
            for attempt in stored.attempts() {
                if matches!(attempt.state, JobRunState::Running | JobRunState::Stopping)
                    && let Some(launch) = stored.launches.get(&attempt.id)
                {
                    self.supervise(key.clone(), launch_of(&attempt.id, launch));
                }
            }
            if let Some(deadline) = stored.run.poll_timeout() {
                self.arm(&key, deadline);
            }
            for effect in stored.run.recover() {
                self.execute(key.clone(), effect);
            }
        }
        Ok(count)
    }

    /// Deletes workflow and job run history that started more than `retention_ms` ago
    /// and is finished (spec §4.9); returns how many runs and job runs went.
    pub async fn purge_history(&self, retention_ms: i64) -> Result<u64, ApiError> {
        let cutoff = clock::now_millis().saturating_sub(retention_ms);
        self.inner
            .db
            .write(
                move |tx| Ok(tx.purge_runs_before(cutoff, &["RUNNING", "STOPPING", "STARTING"])?),
            )
            .await
    }

    /// Loads the run, applies `step` to it, commits state + job-run rows, then
    /// executes the effects and arms the next timer.
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
                let before: Vec<JobAttempt> = stored.attempts().cloned().collect();
                let result = step(tx, &mut stored)?;
                let effects = drain(&mut stored.run);
                stored_run::save(tx, &tx_key.scope, &stored, &before)?;
                Ok((result, effects, stored.run.poll_timeout()))
            })
            .await?;
        self.after_commit(&key, effects, deadline);
        Ok(result)
    }

    fn after_commit(&self, key: &RunKey, effects: Vec<Effect>, deadline: Option<Millis>) {
        if let Some(deadline) = deadline {
            self.arm(key, deadline);
        }
        for effect in effects {
            self.execute(key.clone(), effect);
        }
    }

    fn execute(&self, key: RunKey, effect: Effect) {
        let me = self.clone();
        match effect {
            Effect::StartJob(start) => {
                tokio::spawn(async move { me.launch(key, start).await });
            }
            Effect::KillJob { job_run_id, .. } => {
                self.inner.runner.kill(&job_run_id);
            }
            Effect::StartCrawl {
                crawler_name,
                crawl_id,
            } => {
                tokio::spawn(async move { me.crawl(key, crawler_name, crawl_id).await });
            }
            Effect::KillCrawl { crawl_id, .. } => {
                crate::crawler::cancel(&crawl_id);
                tokio::spawn(async move {
                    let result = me
                        .transition(key, move |_, stored| {
                            let ended = CrawlEnded {
                                outcome: CrawlOutcome::Cancelled,
                                error_message: None,
                                ended_at: clock::now_millis(),
                            };
                            ignore_stale(stored.run.handle_crawl_ended(
                                clock::now_millis(),
                                &crawl_id,
                                ended,
                            ));
                            Ok(())
                        })
                        .await;
                    log_failure("stopping a crawl", result);
                });
            }
            Effect::RunFinished { status } => {
                tracing::info!(workflow = %key.workflow, run = %key.run_id, status = status.as_str(), "run finished");
                crate::metrics::run_finished(&key.workflow, status.as_str());
            }
        }
    }

    /// Confirms and launches one job attempt: the job must exist (else ERROR), its
    /// MaxConcurrentRuns must allow it (else FAILED), then it is marked RUNNING with the
    /// job's current facts and, after the commit, its process is started.
    async fn launch(self, key: RunKey, start: StartJob) {
        let scope = key.scope.clone();
        let is_workflow = !key.workflow.starts_with(STANDALONE_PREFIX);
        let run_id = key.run_id.clone();
        let workflow = key.workflow.clone();
        let minute_ms = self.inner.settings.timeout_minute_ms;
        let result = self
            .transition(key.clone(), move |tx, stored| {
                let now = clock::now_millis();
                let id = start.job_run_id.clone();
                if stored.run.job_run(&id).map(|a| a.state) != Some(JobRunState::Starting) {
                    return Ok(None);
                }
                let Some(job) = stored::load::<Job>(tx, &scope, Kind::Job, &start.job_name)? else {
                    ignore_stale(stored.run.handle_job_missing(
                        now,
                        &id,
                        format!("Job {} does not exist.", start.job_name),
                    ));
                    return Ok(None);
                };
                let job = job.value;
                let running = tx.count_job_runs_in_state(
                    &scope,
                    &start.job_name,
                    &["RUNNING", "STOPPING"],
                    Some(&id),
                )?;
                if running >= job_concurrency(&job) {
                    ignore_stale(stored.run.handle_job_rejected(
                        now,
                        &id,
                        format!("Concurrent runs exceeded for {}", start.job_name),
                    ));
                    return Ok(None);
                }
                let timeout = start
                    .timeout_minutes
                    .map(|t| t as i32)
                    .or(job.timeout)
                    .unwrap_or(DEFAULT_TIMEOUT_MINUTES)
                    .max(1);
                let facts = JobFacts {
                    max_retries: job.max_retries.unwrap_or(0).max(0) as u32,
                    timeout_minutes: Some(timeout as u32),
                    minute_ms,
                };
                ignore_stale(stored.run.handle_job_started(now, &id, facts));
                if stored.run.job_run(&id).map(|a| a.state) == Some(JobRunState::Stopping) {
                    let ended = JobEnded {
                        outcome: JobOutcome::Stopped,
                        error_message: Some("Job run was stopped before it started.".into()),
                        ended_at: now,
                    };
                    ignore_stale(stored.run.handle_job_ended(now, &id, ended));
                    return Ok(None);
                }
                let command = job.command.clone().unwrap_or_default();
                let mut arguments = job.default_arguments.clone().unwrap_or_default();
                arguments.extend(start.arguments.clone());
                arguments.extend(job.non_overridable_arguments.clone().unwrap_or_default());
                arguments.insert("--JOB_NAME".into(), start.job_name.clone());
                arguments.insert("--JOB_RUN_ID".into(), id.clone());
                if is_workflow {
                    arguments.insert("--WORKFLOW_NAME".into(), workflow.clone());
                    arguments.insert("--WORKFLOW_RUN_ID".into(), run_id.clone());
                }
                let record = LaunchRecord {
                    command: command.name.unwrap_or_default(),
                    script_location: command.script_location.unwrap_or_default(),
                    arguments,
                    max_capacity: job.max_capacity,
                    glue_version: job.glue_version.clone(),
                };
                stored.launches.insert(id.clone(), record.clone());
                Ok(Some(launch_of(&id, &record)))
            })
            .await;
        match result {
            Ok(Some(launch)) => {
                crate::metrics::job_run_started();
                self.supervise(key, launch);
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "could not launch a job run"),
        }
    }

    /// Runs (or re-attaches to) a launched attempt and reports its end to the engine.
    fn supervise(&self, key: RunKey, mut launch: Launch) {
        launch.env = self.script_env(&key.scope);
        let me = self.clone();
        tokio::spawn(async move {
            let ended = me.inner.runner.run(&launch).await;
            let id = launch.job_run_id.clone();
            let result = me
                .transition(key, move |_, stored| {
                    ignore_stale(stored.run.handle_job_ended(clock::now_millis(), &id, ended));
                    crate::metrics::job_attempt_ended(stored.run.job_run(&id));
                    Ok(())
                })
                .await;
            log_failure("recording the end of a job run", result);
        });
    }

    /// Runs the crawl of a crawler node with [`crate::crawler`] (spec §7): the crawl is
    /// claimed (a crawler already crawling makes this crawl FAILED with
    /// "Crawler with name <n> has already started"), run on a blocking thread, then
    /// confirmed and ended in one engine transition. While it runs, the run is watched:
    /// once the engine no longer wants it (KillCrawl of a stopped run), the crawl is
    /// cancelled. The confirmation comes last, so after a restart the engine re-issues
    /// the crawl and it runs again.
    async fn crawl(self, key: RunKey, crawler: String, crawl_id: String) {
        use crate::crawler::lifecycle::{self, Claim, Ended};

        /// Whether the run still waits for this crawl (true when unknown).
        async fn wanted(db: &Db, key: &RunKey, crawl_id: &str) -> bool {
            let (key, id) = (key.clone(), crawl_id.to_string());
            db.read(move |tx| {
                let stored = stored_run::load(tx, &key)?;
                Ok(stored
                    .run
                    .crawl(&id)
                    .is_some_and(|c| c.state == weir_engine::CrawlState::Running))
            })
            .await
            .unwrap_or(true)
        }

        let db = self.inner.db.clone();
        if !wanted(&db, &key, &crawl_id).await {
            return;
        }
        let claim =
            lifecycle::claim(&db, key.scope.clone(), crawler.clone(), crawl_id.clone()).await;
        let ended = match claim {
            Ok(Claim::Duplicate) => return,
            Ok(Claim::Missing) => None,
            Ok(Claim::Busy(message)) => Some(Ended::Failed(message)),
            Ok(Claim::Started(job)) => {
                let (watch_db, watch_key, id) = (db.clone(), key.clone(), crawl_id.clone());
                let watcher = tokio::spawn(async move {
                    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
                    loop {
                        tick.tick().await;
                        if !wanted(&watch_db, &watch_key, &id).await {
                            crate::crawler::cancel(&id);
                            break;
                        }
                    }
                });
                let s3_root = self.inner.runner.s3_root().to_path_buf();
                let ended = lifecycle::run(db.clone(), key.scope.clone(), *job, s3_root).await;
                watcher.abort();
                Some(ended)
            }
            Err(error) => Some(Ended::Failed(format!("The crawl could not start: {error}"))),
        };
        let result = self
            .transition(key, move |_, stored| {
                let now = clock::now_millis();
                let Some(ended) = ended else {
                    ignore_stale(stored.run.handle_crawler_missing(
                        now,
                        &crawl_id,
                        format!("Crawler {crawler} does not exist."),
                    ));
                    return Ok(());
                };
                ignore_stale(stored.run.handle_crawl_started(now, &crawl_id));
                let (outcome, error_message) = match ended {
                    Ended::Succeeded => (CrawlOutcome::Succeeded, None),
                    Ended::Failed(message) => (CrawlOutcome::Failed, Some(message)),
                    Ended::Cancelled => (CrawlOutcome::Cancelled, None),
                };
                let ended = CrawlEnded {
                    outcome,
                    error_message,
                    ended_at: now,
                };
                ignore_stale(stored.run.handle_crawl_ended(now, &crawl_id, ended));
                Ok(())
            })
            .await;
        log_failure("running a crawl", result);
    }

    /// Arms the run's timer for `deadline` unless an earlier one is armed.
    fn arm(&self, key: &RunKey, deadline: Millis) {
        {
            let Ok(mut timers) = self.inner.timers.lock() else {
                return;
            };
            if timers.get(key).is_some_and(|&armed| armed <= deadline) {
                return;
            }
            timers.insert(key.clone(), deadline);
        }
        let wait_ms = (deadline - clock::now_millis()).max(0) as u64;
        let me = self.clone();
        let key = key.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait_ms)).await;
            if let Ok(mut timers) = me.inner.timers.lock()
                && timers.get(&key) == Some(&deadline)
            {
                timers.remove(&key);
            }
            let result = me
                .transition(key, move |_, stored| {
                    stored.run.handle_timeout(clock::now_millis());
                    Ok(())
                })
                .await;
            log_failure("firing a timer", result);
        });
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

/// `ExecutionProperty.MaxConcurrentRuns` of a job (default 1, spec §4.7).
fn job_concurrency(job: &Job) -> u64 {
    job.execution_property
        .as_ref()
        .and_then(|e| e.max_concurrent_runs)
        .unwrap_or(1)
        .max(1) as u64
}

fn launch_of(job_run_id: &str, record: &LaunchRecord) -> Launch {
    Launch {
        job_run_id: job_run_id.to_string(),
        command: record.command.clone(),
        script_location: record.script_location.clone(),
        arguments: record.arguments.clone(),
        env: Vec::new(),
    }
}

/// Stores a new run and returns its key, effects and first deadline.
fn commit_new(
    tx: &mut dyn Transaction,
    scope: &Scope,
    mut stored: StoredRun,
) -> Result<(RunKey, Vec<Effect>, Option<Millis>), ApiError> {
    let effects = drain(&mut stored.run);
    stored_run::save(tx, scope, &stored, &[])?;
    Ok((stored.key(scope), effects, stored.run.poll_timeout()))
}

fn drain(run: &mut WorkflowRun) -> Vec<Effect> {
    std::iter::from_fn(|| run.poll_effect()).collect()
}

/// An event about an attempt that is already final (e.g. a kill confirmation racing
/// with a normal exit) changes nothing; it is logged, not an error.
fn ignore_stale<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(error) = result {
        tracing::debug!(%error, "ignored a stale engine event");
    }
}

fn log_failure<T>(what: &str, result: Result<T, ApiError>) {
    if let Err(error) = result {
        tracing::error!(%error, "failed {what}");
    }
}

fn resume_error(error: weir_engine::ResumeError) -> ApiError {
    use weir_engine::ResumeError;
    match error {
        ResumeError::IllegalState(_) => ApiError::IllegalWorkflowState(error.to_string()),
        _ => ApiError::InvalidInput(error.to_string()),
    }
}
