//! Taking runs over: at start-up every active run of an earlier process, and whenever
//! replica leases end, every active run of a replica that died (module
//! [`weir_resources::replica`]) is claimed — its owner becomes this process, in one
//! transaction, so two replicas never both take a run — and taken back. Attempts that
//! ended while no process watched them are settled first, in one transition per such run and before
//! any deadline is armed (so a job that finished in time is never recorded TIMEOUT
//! because its timer fired first); running processes are re-attached; then every
//! effect the persisted state may still need is re-issued (all are idempotent), and
//! each job with runs queued for a slot launches its oldest.

use weir_engine::{JobEnded, JobRunState};

use super::driver::Event;
use super::stored_run::{self, StoredRun};
use super::{ACTIVE_STATUSES, Orchestrator, ignore_stale};
use weir_resources::ApiError;
use weir_resources::replica;
use weir_runner::Found;
use weir_store::{Scope, Transaction};

impl Orchestrator {
    /// Claims and takes back every active run whose owner holds no replica lease (after
    /// a restart: every run the earlier process drove); returns how many there were.
    pub async fn take_over(&self) -> Result<usize, ApiError> {
        // Most calls find nothing: look before taking the writer.
        if self.inner.db.read(orphaned).await?.is_empty() {
            return Ok(0);
        }
        let runs = self
            .inner
            .db
            .write(|tx| {
                // Again under the writer: another replica may have claimed them since.
                let mut claimed = orphaned(tx)?;
                for (scope, stored) in &mut claimed {
                    stored.owner = Some(replica::epoch().to_string());
                    stored_run::save_document(tx, scope, stored)?;
                }
                Ok(claimed)
            })
            .await?;
        let count = runs.len();
        for (scope, stored) in runs {
            let key = stored.key(&scope);
            let mut settled: Vec<(String, JobEnded)> = Vec::new();
            for attempt in stored.attempts() {
                let in_flight =
                    matches!(attempt.state, JobRunState::Running | JobRunState::Stopping);
                if !in_flight || !attempt.is_confirmed() {
                    continue;
                }
                let launch = stored.launches.get(&attempt.id);
                let launched_on = launch.and_then(|launch| launch.boot_id.as_deref());
                let found = self.inner.runner.inspect(&attempt.id, launched_on);
                match launch {
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
                    // What the ends asked for is among what `recover` derives from the
                    // state: dropped here, so that each effect is executed once.
                    crate::drain(&mut stored.run);
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

/// The active runs whose owner holds no replica lease.
fn orphaned(tx: &mut dyn Transaction) -> Result<Vec<(Scope, StoredRun)>, ApiError> {
    let holders = replica::holders(tx)?;
    let mut found = Vec::new();
    for (scope, record) in tx.all_runs_in_status(ACTIVE_STATUSES)? {
        let stored = stored_run::decode(&record)?;
        if replica::is_orphan(stored.owner.as_deref(), &holders) {
            found.push((scope, stored));
        }
    }
    Ok(found)
}
