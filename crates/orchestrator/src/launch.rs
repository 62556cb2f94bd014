//! Launching job attempts: the confirming step (job exists? concurrency? → RUNNING
//! with the job's facts and a launch record), then the process, supervised until it
//! ends; and taking an already confirmed attempt back after a restart.
//!
//! An attempt is confirmed in the very transition that created it ([`Launches`]), so
//! its process starts right after that one commit. A launch event (and its own
//! confirming transition) remains for the attempts that could not be confirmed there:
//! the first ones of a new workflow run (started inside callers' transactions),
//! recovery, a queued run let out of the queue, and a launch retried after a failure.

use std::collections::VecDeque;

use weir_engine::{Effect, JobEnded, JobFacts, JobOutcome, JobRunState, Millis, StartJob};
use weir_model::shapes::Job;
use weir_store::{Kind, Transaction};

use super::driver::Event;
use super::stored_run::{self, LaunchRecord, RunKey, STANDALONE_PREFIX, StoredRun};
use super::{Orchestrator, drain, ignore_stale};
use weir_resources::ApiError;
use weir_resources::job::JobDefinition;
use weir_resources::stored;
use weir_resources::{bookmark, connection};
use weir_runner::{Found, Launch, Runner};

/// What the confirming transition decided.
pub(super) enum Decision {
    /// Confirmed now: start the process.
    Start(LaunchRecord),
    /// Confirmed earlier (the launch is being retried): take the attempt back as
    /// recovery does.
    Resume(LaunchRecord),
    /// The attempt ended without a process (missing job, concurrency, stopped first)
    /// or is no longer this launch's business.
    Nothing,
    /// The job has no free run slot and queues runs: the attempt is WAITING.
    Queued,
}

/// The attempts a transition confirmed, each reserved in the runner, waiting for the
/// transition's commit. Dropped without [`Launches::committed`] (the body or its commit
/// failed), it gives the reservations back, so the attempts are launched later as after
/// any failed transition (recovery, or the retried event).
pub(super) struct Launches {
    runner: Runner,
    now: Millis,
    account_limit: u64,
    confirmed: Vec<(String, String, Decision)>,
}

impl Launches {
    /// Nothing confirmed yet; confirmations happen at `now` under the account's limit
    /// of `account_limit` running job runs.
    pub(super) fn new(runner: Runner, now: Millis, account_limit: u64) -> Self {
        Self {
            runner,
            now,
            account_limit,
            confirmed: Vec::new(),
        }
    }

    /// Confirms, inside the transition, every attempt that `effects` (drained from
    /// `stored`'s run) start, as a launch event's transition would; returns the effects
    /// left for the driver, including those of attempts a confirmation ended (a missing
    /// job fails its attempt, which may fire further triggers: those starts are
    /// confirmed too).
    pub(super) fn confirm_starts(
        &mut self,
        tx: &mut dyn Transaction,
        stored: &mut StoredRun,
        key: &RunKey,
        effects: Vec<Effect>,
    ) -> Result<Vec<Effect>, ApiError> {
        let mut pending = VecDeque::from(effects);
        let mut left = Vec::new();
        while let Some(effect) = pending.pop_front() {
            match effect {
                Effect::StartJob(start) if self.runner.reserve(&start.job_run_id) => {
                    let id = start.job_run_id.clone();
                    let job = start.job_name.clone();
                    match confirm(tx, stored, key, start, self.now, self.account_limit) {
                        Ok(decision) => self.confirmed.push((id, job, decision)),
                        Err(error) => {
                            self.runner.release(&id);
                            return Err(error);
                        }
                    }
                    pending.extend(drain(&mut stored.run));
                }
                other => left.push(other),
            }
        }
        Ok(left)
    }

    /// The confirmations, once the transition committed: each reservation passes to
    /// [`Orchestrator::launched`].
    pub(super) fn committed(mut self) -> Vec<(String, String, Decision)> {
        std::mem::take(&mut self.confirmed)
    }
}

impl Drop for Launches {
    fn drop(&mut self) {
        for (id, _, _) in &self.confirmed {
            self.runner.release(id);
        }
    }
}

impl Orchestrator {
    /// Acts on the confirmation of an attempt the runner has reserved (confirmed by
    /// [`confirm`] in a committed transition, see [`Launches`]): starts
    /// its process, takes it back when it was confirmed earlier, or releases the
    /// reservation when there is nothing to run.
    pub(super) async fn launched(&self, key: RunKey, id: String, job: String, decision: Decision) {
        match decision {
            Decision::Start(record) => {
                crate::counters::job_run_started();
                let scope = key.scope.clone();
                self.supervise(key, id, &record, Found::NeverStarted);
                if record.dequeued {
                    // More slots may be free (several runs ended at once): the next one.
                    self.dequeue(scope, job).await;
                }
            }
            Decision::Resume(record) => {
                let found = self.inner.runner.inspect(&id, record.boot_id.as_deref());
                self.take_back(key, id, &record, found);
            }
            Decision::Nothing | Decision::Queued => self.inner.runner.release(&id),
        }
    }

    /// Takes responsibility for a confirmed attempt whose run directory says `found`:
    /// a process still running is re-attached, one that never started is started, and
    /// one that ended (or was lost) has its end reported.
    pub(super) fn take_back(&self, key: RunKey, id: String, record: &LaunchRecord, found: Found) {
        match self.inner.runner.settled_while_down(&id, &found) {
            Some(ended) => {
                self.inner.runner.release(&id);
                let me = self.clone();
                let record = record.clone();
                tokio::spawn(async move {
                    me.drain_output(&key, &id, &record).await;
                    me.send(Event::JobEnded {
                        key,
                        job_run_id: id,
                        ended,
                    });
                });
            }
            None => {
                self.inner.runner.reserve(&id);
                self.supervise(key, id, record, found);
            }
        }
    }

    /// Runs the process of a reserved attempt (or waits for the re-attached one) and
    /// reports its end to the driver. The runner's slot for `id` is entered before
    /// this returns, so a kill issued afterwards always finds it.
    fn supervise(&self, key: RunKey, id: String, record: &LaunchRecord, found: Found) {
        let mut launch = Launch {
            job_run_id: id.clone(),
            command: record.command.clone(),
            script_location: record.script_location.clone(),
            arguments: record.arguments.clone(),
            env: self.script_env(&key.scope),
            glue_version: record.glue_version.clone(),
            bookmark: None,
        };
        let runner = self.inner.runner.clone();
        if let Found::Running(identity) = &found {
            runner.adopt(&id, identity.clone());
        }
        let me = self.clone();
        let output = self.follow_output(&key, &id, record);
        tokio::spawn(async move {
            let ended = match found {
                Found::Running(identity) => runner.wait_adopted(&id, identity).await,
                _ => {
                    launch.bookmark = me.bookmark_of(&key, &launch).await;
                    runner.run(&launch).await
                }
            };
            output.finish().await;
            me.send(Event::JobEnded {
                key,
                job_run_id: id,
                ended,
            });
        });
    }
}

impl Orchestrator {
    /// The bookmark a Spark run of `launch` starts from (a read failure is logged and
    /// the run starts from none, as with bookmarks disabled).
    async fn bookmark_of(&self, key: &RunKey, launch: &Launch) -> Option<String> {
        if launch.command == "pythonshell" {
            return None;
        }
        let job = launch.arguments.get("--JOB_NAME")?.clone();
        let scope = key.scope.clone();
        let read = self
            .inner
            .db
            .read(move |tx| bookmark::state(tx, &scope, &job))
            .await;
        read.unwrap_or_else(|error| {
            tracing::error!(%error, job_run_id = %launch.job_run_id, "cannot read the job's bookmark");
            None
        })
    }
}

/// The confirming step of a launch, in the run's transition: the job must exist (else
/// ERROR), its connections too (else FAILED), its MaxConcurrentRuns must allow it (else
/// FAILED, or WAITING when it queues runs); an attempt stopped before this point ends
/// STOPPED; otherwise it is marked RUNNING with the job's current facts and a launch
/// record, and [`Orchestrator::launched`] starts its process after the commit.
pub(super) fn confirm(
    tx: &mut dyn Transaction,
    stored: &mut StoredRun,
    key: &RunKey,
    start: StartJob,
    now: Millis,
    account_limit: u64,
) -> Result<Decision, ApiError> {
    let scope = &key.scope;
    // The counts below read `job_runs`: the attempts this transition started before
    // this one must be there.
    stored_run::save_job_runs(tx, scope, stored)?;
    let id = start.job_run_id.clone();
    let Some(attempt) = stored.run.job_run(&id) else {
        return Ok(Decision::Nothing);
    };
    if attempt.state.is_terminal() {
        return Ok(Decision::Nothing);
    }
    if attempt.is_confirmed() {
        return Ok(stored
            .launches
            .get(&id)
            .cloned()
            .map_or(Decision::Nothing, Decision::Resume));
    }
    if attempt.state == JobRunState::Stopping {
        let ended = JobEnded {
            outcome: JobOutcome::Stopped,
            error_message: Some("Job run was stopped before it started.".into()),
            ended_at: now,
        };
        ignore_stale(stored.run.handle_job_ended(now, &id, ended));
        crate::counters::job_attempt_ended(stored.run.job_run(&id));
        return Ok(Decision::Nothing);
    }
    let Some(stored_job) = stored::load::<Job>(tx, scope, Kind::Job, &start.job_name)? else {
        ignore_stale(stored.run.handle_job_missing(
            now,
            &id,
            format!("Job {} does not exist.", start.job_name),
        ));
        return Ok(Decision::Nothing);
    };
    let job = JobDefinition::of(stored_job.value);
    if let Some(missing) = first_missing_connection(tx, scope, &job.connections)? {
        // FAILED (not ERROR): the job exists, the run could not get what it needs.
        ignore_stale(stored.run.handle_job_rejected(
            now,
            &id,
            connection::missing_for_run(&missing),
        ));
        return Ok(Decision::Nothing);
    }
    let occupying = [
        JobRunState::Running.as_str(),
        JobRunState::Stopping.as_str(),
    ];
    let running =
        tx.count_job_runs_in_state(scope, Some(&start.job_name), &occupying, Some(&id))?;
    let account_full =
        tx.count_job_runs_in_state(scope, None, &occupying, Some(&id))? >= account_limit;
    let full = running >= job.max_concurrent_runs || account_full;
    let queuing = stored.queuing.unwrap_or(job.run_queuing);
    let dequeued = attempt.state == JobRunState::Waiting;
    // Runs that wait keep their order: a new run queues behind them even if a slot is
    // free now (the oldest waiting run is launched next).
    let behind_waiting = queuing
        && !dequeued
        && tx.count_job_runs_in_state(
            scope,
            Some(&start.job_name),
            &[JobRunState::Waiting.as_str()],
            Some(&id),
        )? > 0;
    if queuing && (full || behind_waiting) {
        let limit = job.run_timeout_minutes(start.timeout_minutes);
        ignore_stale(stored.run.handle_job_queued(now, &id, limit));
        return Ok(Decision::Queued);
    }
    if full {
        let message = if running >= job.max_concurrent_runs {
            format!("Concurrent runs exceeded for {}", start.job_name)
        } else {
            format!(
                "Concurrent runs exceeded for the account: at most {account_limit} job runs run at once"
            )
        };
        ignore_stale(stored.run.handle_job_rejected(now, &id, message));
        return Ok(Decision::Nothing);
    }
    let facts = JobFacts {
        max_retries: job.max_retries,
        timeout_minutes: Some(job.run_timeout_minutes(start.timeout_minutes)),
    };
    ignore_stale(stored.run.handle_job_started(now, &id, facts));
    let request = stored.request.clone().unwrap_or_default();
    let from_call = request.sets_capacity();
    let mut arguments = job.run_arguments(&start.arguments);
    arguments.insert("--JOB_NAME".into(), start.job_name.clone());
    arguments.insert("--JOB_RUN_ID".into(), id.clone());
    // A direct job run (StartJobRun) names no workflow.
    if !key.workflow.starts_with(STANDALONE_PREFIX) {
        arguments.insert("--WORKFLOW_NAME".into(), key.workflow.clone());
        arguments.insert("--WORKFLOW_RUN_ID".into(), key.run_id.clone());
    }
    let record = LaunchRecord {
        command: job.command_name,
        script_location: job.script_location,
        arguments,
        max_capacity: if from_call {
            request.max_capacity
        } else {
            job.max_capacity
        },
        glue_version: job.glue_version,
        caller_arguments: Some(start.arguments.clone()),
        allocated_capacity: if from_call {
            request.allocated_capacity
        } else {
            job.allocated_capacity
        },
        worker_type: if from_call {
            request.worker_type
        } else {
            job.worker_type
        },
        number_of_workers: if from_call {
            request.number_of_workers
        } else {
            job.number_of_workers
        },
        security_configuration: request
            .security_configuration
            .or(job.security_configuration),
        execution_class: request.execution_class.or(job.execution_class),
        notification_property: request.notification_property.or(job.notification_property),
        dequeued,
        boot_id: weir_runner::process::boot_id(),
    };
    stored.launches.insert(id, record.clone());
    Ok(Decision::Start(record))
}

/// The first of a job's `connections` that does not exist in `scope`, if any.
fn first_missing_connection(
    tx: &mut dyn Transaction,
    scope: &weir_store::Scope,
    connections: &[String],
) -> Result<Option<String>, ApiError> {
    for name in connections {
        if tx.get(scope, Kind::Connection, name)?.is_none() {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_runner::RunnerConfig;

    /// A runner over the temporary data directory `data`.
    fn runner(data: &std::path::Path) -> Runner {
        let config = RunnerConfig {
            data_dir: data.to_path_buf(),
            s3_root: data.join("s3"),
            python: "python3".into(),
            runtime_dir: data.join("runtimes"),
            spark: weir_runner::spark::SparkSettings::default(),
        };
        Runner::new(config, weir_clock::Clock::manual(0)).expect("runner")
    }

    /// A runner over `data` and a transition's launches holding one confirmation, of
    /// attempt `id`, reserved in it.
    fn one_confirmed(data: &std::path::Path, id: &str) -> (Runner, Launches) {
        let runner = runner(data);
        let mut launches = Launches::new(runner.clone(), 0, 10);
        assert!(runner.reserve(id));
        launches
            .confirmed
            .push((id.into(), "job".into(), Decision::Nothing));
        (runner, launches)
    }

    #[test]
    fn confirmations_of_a_transition_that_did_not_commit_give_their_reservations_back() {
        let data = tempfile::tempdir().expect("tempdir");
        let (runner, launches) = one_confirmed(data.path(), "jr_1");
        drop(launches);
        assert!(
            runner.reserve("jr_1"),
            "a later transition can launch the attempt again"
        );
    }

    #[test]
    fn confirmations_of_a_committed_transition_keep_their_reservations_for_the_launch() {
        let data = tempfile::tempdir().expect("tempdir");
        let (runner, launches) = one_confirmed(data.path(), "jr_2");
        let handed_on = launches.committed();
        assert_eq!(handed_on.len(), 1);
        assert!(
            !runner.reserve("jr_2"),
            "the reservation passes to the launch, not back to the runner"
        );
    }
}
