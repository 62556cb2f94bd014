//! Crash recovery at start-up: every run that was active is taken back. Attempts that
//! ended while Weir was down are settled first, in one transition per such run and before
//! any deadline is armed (so a job that finished in time is never recorded TIMEOUT
//! because its timer fired first); running processes are re-attached; then every
//! effect the persisted state may still need is re-issued (all are idempotent), and
//! each job with runs queued for a slot launches its oldest.

use weir_engine::{JobEnded, JobRunState};

use super::driver::Event;
use super::stored_run;
use super::{ACTIVE_STATUSES, Orchestrator, ignore_stale};
use weir_resources::ApiError;
use weir_runner::Found;

impl Orchestrator {
    /// Takes back every active run after a restart; returns how many there were.
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
            let mut settled: Vec<(String, JobEnded)> = Vec::new();
            for attempt in stored.attempts() {
                let in_flight =
                    matches!(attempt.state, JobRunState::Running | JobRunState::Stopping);
                if !in_flight || !attempt.is_confirmed() {
                    continue;
                }
                let found = self.inner.runner.inspect(&attempt.id);
                match stored.launches.get(&attempt.id) {
                    Some(launch) if matches!(found, Found::Running(_) | Found::NeverStarted) => {
                        self.take_back(key.clone(), attempt.id.clone(), launch, found);
                    }
                    _ => {
                        let found = if matches!(found, Found::Exited(_)) {
                            found
                        } else {
                            Found::Lost
                        };
                        if let Some(ended) =
                            self.inner.runner.settled_while_down(&attempt.id, &found)
                        {
                            // What the process wrote after Weir stopped, before its end
                            // is recorded.
                            if let Some(launch) = stored.launches.get(&attempt.id) {
                                self.drain_output(&key, &attempt.id, launch).await;
                            }
                            settled.push((attempt.id.clone(), ended));
                        }
                    }
                }
            }
            if settled.is_empty() {
                // Nothing ended while Weir was down: no write, just re-issue.
                self.send(Event::Committed {
                    key,
                    effects: stored.run.recover(),
                    deadline: stored.run.poll_timeout(),
                });
                continue;
            }
            let outstanding = self
                .transition(key.clone(), move |_, stored| {
                    for (id, ended) in settled {
                        ignore_stale(stored.run.handle_job_ended(ended.ended_at, &id, ended));
                        crate::counters::job_attempt_ended(stored.run.job_run(&id));
                    }
                    Ok(stored.run.recover())
                })
                .await?;
            self.send(Event::Committed {
                key,
                effects: outstanding,
                deadline: None,
            });
        }
        // Runs queued for a slot that freed while Weir was down get it now.
        let waiting = self
            .inner
            .db
            .read(|tx| Ok(tx.all_job_runs_in_state(super::WAITING)?))
            .await?;
        let jobs: std::collections::BTreeSet<_> = waiting
            .into_iter()
            .map(|(scope, record)| (scope, record.job))
            .collect();
        for (scope, job) in jobs {
            self.dequeue(scope, job).await;
        }
        Ok(count)
    }
}
