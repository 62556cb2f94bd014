//! Applying the driver's events to a run: every event of one run that arrived while a
//! transition of that run was in flight is applied by the next one, in arrival order,
//! in one write transaction — one load and one save of the run document however many
//! of its jobs ended or launched at once; the document is decoded only when it changed
//! since the driver's previous transition of the run committed it ([`super::driven`]).
//! What an event asks for after the commit (start a process, look for a queued job run,
//! kill again) follows the commit.

use std::collections::BTreeSet;

use weir_engine::{JobOutcome, Millis};
use weir_resources::ApiError;
use weir_store::Transaction;

use super::driver::{Event, Queued};
use super::launch::{self, Decision, Launches};
use super::stored_run::{self, RunKey, StoredRun};
use super::{Orchestrator, crawl, drain, ignore_stale, save_bookmark};

/// What an applied event still asks for once its transaction committed.
enum Then {
    /// Start, take back or release the attempt `id` of `job` as its confirmation
    /// decided.
    Launch {
        id: String,
        job: String,
        decision: Box<Decision>,
    },
    /// A run slot of this job may have freed: launch its oldest waiting run.
    Dequeue(String),
    /// The attempt had started after all: pass the kill to the runner again.
    Kill(String),
    /// Nothing.
    Nothing,
}

/// Tells the driver that a run's transition ended, also if its task panicked, so the
/// events queued behind it are never stranded.
struct Ended {
    orchestrator: Orchestrator,
    key: Option<RunKey>,
}

impl Ended {
    fn now(&mut self) {
        if let Some(key) = self.key.take() {
            self.orchestrator.send(Event::Applied { key });
        }
    }
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.now();
    }
}

impl Orchestrator {
    /// Applies `events` (all of run `key`, in arrival order) in one transition, then
    /// does what each asks for after the commit. If the transaction fails, each event
    /// is handed back to the driver: a storage failure is retried after a backoff,
    /// anything else (the run is gone) drops it.
    pub(super) async fn apply(&self, key: RunKey, events: Vec<Queued>) {
        let mut ended = Ended {
            orchestrator: self.clone(),
            key: Some(key.clone()),
        };
        // A succeeded Spark run's committed bookmark is a file: read outside the writer.
        let bookmarks: Vec<Option<String>> = events
            .iter()
            .map(|(event, _)| match event {
                Event::JobEnded {
                    job_run_id, ended, ..
                } if ended.outcome == JobOutcome::Succeeded => {
                    self.inner.runner.committed_bookmark(job_run_id)
                }
                _ => None,
            })
            .collect();
        let steps: Vec<Event> = events.iter().map(|(event, _)| event.clone()).collect();
        let now = self.clock().now_millis();
        let account_limit = self.inner.settings.max_concurrent_job_runs;
        let tx_key = key.clone();
        let me = self.clone();
        let written = self
            .inner
            .db
            .write(move |tx| {
                let mut launches = Launches::new(me.inner.runner.clone(), now, account_limit);
                let mut stored = me.inner.driven.load(tx, &tx_key)?;
                if !stored.is_mine() {
                    // Another replica took the run over (this one was deemed dead): its
                    // events are that replica's to derive now.
                    return Ok(None);
                }
                let mut then = Vec::with_capacity(steps.len());
                for (event, bookmark) in steps.into_iter().zip(bookmarks) {
                    let context = Step {
                        key: &tx_key,
                        now,
                        account_limit,
                    };
                    then.push(context.apply(tx, &mut stored, event, bookmark)?);
                }
                let effects = drain(&mut stored.run);
                let effects = launches.confirm_starts(tx, &mut stored, &tx_key, effects)?;
                stored_run::save_job_runs(tx, &tx_key.scope, &mut stored)?;
                let doc = stored_run::save_document(tx, &tx_key.scope, &stored)?;
                let deadline = stored.run.poll_timeout();
                Ok(Some((then, effects, deadline, doc, stored, launches)))
            })
            .await;
        let written = written.map(|applied| {
            applied.map(|(mut then, effects, deadline, doc, stored, launches)| {
                self.inner.driven.keep(key.clone(), doc, stored);
                then.extend(launches.committed().into_iter().map(|(id, job, decision)| {
                    Then::Launch {
                        id,
                        job,
                        decision: Box::new(decision),
                    }
                }));
                (then, effects, deadline)
            })
        });
        // The run is free for its next transition as soon as this one committed (and
        // its committed state is kept for that one).
        ended.now();
        match written {
            Ok(None) => self.drop_events(events, "another replica drives its run"),
            Ok(Some((then, effects, deadline))) => {
                self.committed(key.clone(), effects, deadline);
                let mut dequeued = BTreeSet::new();
                for next in then {
                    match next {
                        Then::Launch { id, job, decision } => {
                            self.launched(key.clone(), id, job, *decision).await;
                        }
                        Then::Dequeue(job) => {
                            if dequeued.insert(job.clone()) {
                                self.dequeue(key.scope.clone(), job).await;
                            }
                        }
                        Then::Kill(id) => {
                            self.inner.runner.kill(&id);
                        }
                        Then::Nothing => {}
                    }
                }
            }
            // A storage failure (a locked or full disk, a failed commit) passes: retry.
            Err(error @ ApiError::Internal(_)) => {
                for (event, failures) in events {
                    tracing::error!(%error, failures, ?event, "a run transition failed; it will be retried");
                    self.send(Event::Retry {
                        event: Box::new(event),
                        failures: failures.saturating_add(1),
                    });
                }
            }
            // Anything else is final (the run was deleted with its workflow): the events
            // have nothing left to act on.
            Err(error) => {
                tracing::warn!(%error, "a run transition failed for good");
                self.drop_events(events, "its run is gone");
            }
        }
    }

    /// Drops events that have nothing left to act on (`why`), releasing the runner's
    /// reservations of the launches among them.
    fn drop_events(&self, events: Vec<Queued>, why: &str) {
        for (event, _) in events {
            tracing::warn!(why, ?event, "a run event was dropped");
            if let Event::Launch { start, .. } = &event {
                self.inner.runner.release(&start.job_run_id);
            }
        }
    }
}

/// What every step of one transition shares.
struct Step<'a> {
    key: &'a RunKey,
    now: Millis,
    account_limit: u64,
}

impl Step<'_> {
    /// Applies one event to the loaded run inside the transaction.
    fn apply(
        &self,
        tx: &mut dyn Transaction,
        stored: &mut StoredRun,
        event: Event,
        bookmark: Option<String>,
    ) -> Result<Then, ApiError> {
        let scope = &self.key.scope;
        Ok(match event {
            Event::Launch { start, .. } => {
                let id = start.job_run_id.clone();
                let job = start.job_name.clone();
                let decision =
                    launch::confirm(tx, stored, self.key, start, self.now, self.account_limit)?;
                Then::Launch {
                    id,
                    job,
                    decision: Box::new(decision),
                }
            }
            Event::JobEnded {
                job_run_id, ended, ..
            } => {
                ignore_stale(
                    stored
                        .run
                        .handle_job_ended(ended.ended_at, &job_run_id, ended),
                );
                crate::counters::job_attempt_ended(stored.run.job_run(&job_run_id));
                if let Some(text) = bookmark {
                    save_bookmark(tx, scope, stored, &job_run_id, text)?;
                }
                stored
                    .run
                    .job_run(&job_run_id)
                    .map_or(Then::Nothing, |a| Then::Dequeue(a.job_name.clone()))
            }
            Event::KillUnlaunched { job_run_id, .. } => {
                kill_unlaunched(stored, job_run_id, self.now)
            }
            Event::Timeout { .. } => {
                stored.run.handle_timeout(self.now);
                Then::Nothing
            }
            Event::CrawlEnded {
                crawl_id,
                crawler,
                result,
                ..
            } => {
                crawl::record_end(stored, &crawl_id, &crawler, result, self.now);
                Then::Nothing
            }
            Event::Committed { .. }
            | Event::Retry { .. }
            | Event::RetryDue { .. }
            | Event::Applied { .. } => Then::Nothing,
        })
    }
}

/// Answers a kill that reached no process: an attempt that never started ends STOPPED
/// now; one that did has a launch or an end under way (the kill is passed to the runner
/// again, which now knows it, or the end is already reported).
fn kill_unlaunched(stored: &mut StoredRun, job_run_id: String, now: Millis) -> Then {
    let Some(attempt) = stored.run.job_run(&job_run_id) else {
        return Then::Nothing;
    };
    if attempt.state.is_terminal() {
        return Then::Nothing;
    }
    if attempt.is_confirmed() {
        return Then::Kill(job_run_id);
    }
    let ended = weir_engine::JobEnded {
        outcome: JobOutcome::Stopped,
        error_message: Some("Job run was stopped before it started.".into()),
        ended_at: now,
    };
    ignore_stale(stored.run.handle_job_ended(now, &job_run_id, ended));
    crate::counters::job_attempt_ended(stored.run.job_run(&job_run_id));
    Then::Nothing
}
