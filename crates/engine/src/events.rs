//! Input handlers: what the driver reports about attempts, timers and stop requests.
//!
//! Every handler validates the event against the current state first and returns an
//! [`EventError`] (leaving the state untouched) instead of panicking on impossible input.

use crate::Millis;
use crate::attempt::{CrawlEnded, CrawlState, JobEnded, JobFacts, JobRunState, MINUTE_MS};
use crate::effect::Effect;
use crate::error::{EventError, StopError};
use crate::run::{RunStatus, WorkflowRun};

impl WorkflowRun {
    fn live_job(&self, id: &str, event: &'static str) -> Result<(usize, usize), EventError> {
        let (ni, ai) = self
            .find_job(id)
            .ok_or_else(|| EventError::UnknownJobRun(id.to_owned()))?;
        let a = &self.nodes[ni].job_runs[ai];
        if a.state.is_terminal() {
            return Err(EventError::AlreadyTerminal {
                id: id.to_owned(),
                state: a.state.as_str(),
            });
        }
        let _ = event;
        Ok((ni, ai))
    }

    fn live_crawl(&self, id: &str) -> Result<(usize, usize), EventError> {
        let (ni, ci) = self
            .find_crawl(id)
            .ok_or_else(|| EventError::UnknownCrawl(id.to_owned()))?;
        let c = &self.nodes[ni].crawls[ci];
        if c.state.is_terminal() {
            return Err(EventError::AlreadyTerminal {
                id: id.to_owned(),
                state: c.state.as_str(),
            });
        }
        Ok((ni, ci))
    }

    /// A job attempt whose start was not yet confirmed (`max_retries` unknown).
    fn unconfirmed_job(&self, id: &str, event: &'static str) -> Result<(usize, usize), EventError> {
        let (ni, ai) = self.live_job(id, event)?;
        let a = &self.nodes[ni].job_runs[ai];
        if a.max_retries.is_some() {
            return Err(EventError::UnexpectedEvent {
                id: id.to_owned(),
                state: a.state.as_str(),
                event,
            });
        }
        Ok((ni, ai))
    }

    /// After attempt `ai` of node `ni` became terminal: retry, fire triggers, finish.
    fn job_settled(&mut self, ni: usize, ai: usize, now: Millis) {
        self.maybe_retry(ni, ai, now);
        self.evaluate(ni, now);
        self.maybe_finish(now);
    }

    /// The driver launched the attempt (STARTING → RUNNING) with the job facts it read at
    /// launch time. With a timeout, arms the deadline `now + timeout` (§6.3 `TIMEOUT`).
    /// An attempt stopped before its start was confirmed stays STOPPING.
    pub fn handle_job_started(
        &mut self,
        now: Millis,
        job_run_id: &str,
        facts: JobFacts,
    ) -> Result<(), EventError> {
        let (ni, ai) = self.unconfirmed_job(job_run_id, "job started")?;
        let a = self.job_run_mut(ni, ai);
        a.max_retries = Some(facts.max_retries);
        a.timeout_minutes = facts.timeout_minutes;
        a.last_modified_on = now;
        if matches!(a.state, JobRunState::Starting | JobRunState::Waiting) {
            a.state = JobRunState::Running;
            a.deadline = facts
                .timeout_minutes
                .map(|m| now.saturating_add(Millis::from(m).saturating_mul(MINUTE_MS)));
        }
        Ok(())
    }

    /// The attempt ended (from STARTING, RUNNING or STOPPING). Records the outcome (TIMEOUT
    /// whatever was reported if the deadline already fired), then, while the run is RUNNING:
    /// retries a FAILED attempt with attempts left, evaluates the triggers watching the node
    /// once it is final, and completes the run when nothing is left (§4.3, §6.3).
    pub fn handle_job_ended(
        &mut self,
        now: Millis,
        job_run_id: &str,
        ended: JobEnded,
    ) -> Result<(), EventError> {
        let (ni, ai) = self.live_job(job_run_id, "job ended")?;
        let a = self.job_run_mut(ni, ai);
        if a.timed_out {
            a.state = JobRunState::Timeout;
            a.error_message = ended.error_message.or_else(|| {
                Some(format!(
                    "Job run timed out after {} minutes",
                    a.timeout_minutes.unwrap_or_default()
                ))
            });
        } else {
            a.state = ended.outcome.state();
            a.error_message = ended.error_message;
        }
        a.completed_on = Some(ended.ended_at);
        a.last_modified_on = now;
        self.job_settled(ni, ai, now);
        Ok(())
    }

    /// The job no longer exists (§6.3 `ERROR`): an attempt not yet confirmed started ends as
    /// ERROR with `message`. Not retried.
    pub fn handle_job_missing(
        &mut self,
        now: Millis,
        job_run_id: &str,
        message: impl Into<String>,
    ) -> Result<(), EventError> {
        self.refuse_job(
            now,
            job_run_id,
            JobRunState::Error,
            message.into(),
            "job missing",
        )
    }

    /// The job has no free run slot and queues its runs: the attempt waits (STARTING →
    /// WAITING) until the driver launches it again, at most `limit_minutes` after it was
    /// started (its timeout, which counts the wait); then it ends FAILED
    /// ([`WorkflowRun::handle_timeout`]). A WAITING attempt stays unconfirmed.
    pub fn handle_job_queued(
        &mut self,
        now: Millis,
        job_run_id: &str,
        limit_minutes: u32,
    ) -> Result<(), EventError> {
        let (ni, ai) = self.unconfirmed_job(job_run_id, "job queued")?;
        let a = self.job_run_mut(ni, ai);
        if matches!(a.state, JobRunState::Starting | JobRunState::Waiting) {
            a.state = JobRunState::Waiting;
            a.last_modified_on = now;
            a.timeout_minutes = Some(limit_minutes);
            a.deadline = Some(
                a.started_on
                    .saturating_add(Millis::from(limit_minutes).saturating_mul(MINUTE_MS)),
            );
        }
        Ok(())
    }

    /// The driver could not start the attempt because the job's `MaxConcurrentRuns` is
    /// reached (§4.7): the attempt ends FAILED with `message`. Not retried (its facts were
    /// never read), but a FAILED condition on the job is satisfied.
    pub fn handle_job_rejected(
        &mut self,
        now: Millis,
        job_run_id: &str,
        message: impl Into<String>,
    ) -> Result<(), EventError> {
        self.refuse_job(
            now,
            job_run_id,
            JobRunState::Failed,
            message.into(),
            "job rejected",
        )
    }

    fn refuse_job(
        &mut self,
        now: Millis,
        id: &str,
        state: JobRunState,
        message: String,
        event: &'static str,
    ) -> Result<(), EventError> {
        let (ni, ai) = self.unconfirmed_job(id, event)?;
        let a = self.job_run_mut(ni, ai);
        a.state = state;
        a.error_message = Some(message);
        a.completed_on = Some(now);
        a.last_modified_on = now;
        self.job_settled(ni, ai, now);
        Ok(())
    }

    /// The driver started the crawl (confirmation; crawls are RUNNING from the start).
    pub fn handle_crawl_started(&mut self, now: Millis, crawl_id: &str) -> Result<(), EventError> {
        let _ = now;
        let (ni, ci) = self.live_crawl(crawl_id)?;
        let c = &mut self.nodes[ni].crawls[ci];
        if c.confirmed {
            return Err(EventError::UnexpectedEvent {
                id: crawl_id.to_owned(),
                state: c.state.as_str(),
                event: "crawl started",
            });
        }
        c.confirmed = true;
        Ok(())
    }

    /// The crawl ended: record it, evaluate triggers while RUNNING, finish when idle.
    pub fn handle_crawl_ended(
        &mut self,
        now: Millis,
        crawl_id: &str,
        ended: CrawlEnded,
    ) -> Result<(), EventError> {
        let (ni, ci) = self.live_crawl(crawl_id)?;
        let c = &mut self.nodes[ni].crawls[ci];
        c.state = ended.outcome.state();
        c.error_message = ended.error_message;
        c.completed_on = Some(ended.ended_at);
        self.evaluate(ni, now);
        self.maybe_finish(now);
        Ok(())
    }

    /// The crawler no longer exists: a crawl not yet confirmed started ends as ERROR.
    pub fn handle_crawler_missing(
        &mut self,
        now: Millis,
        crawl_id: &str,
        message: impl Into<String>,
    ) -> Result<(), EventError> {
        let (ni, ci) = self.live_crawl(crawl_id)?;
        let c = &mut self.nodes[ni].crawls[ci];
        if c.confirmed {
            return Err(EventError::UnexpectedEvent {
                id: crawl_id.to_owned(),
                state: c.state.as_str(),
                event: "crawler missing",
            });
        }
        c.state = CrawlState::Error;
        c.error_message = Some(message.into());
        c.completed_on = Some(now);
        self.evaluate(ni, now);
        self.maybe_finish(now);
        Ok(())
    }

    /// Fires expired deadlines: each RUNNING attempt whose deadline is `<= now` gets a
    /// `KillJob` effect and is marked timed out; its TIMEOUT outcome is recorded when the
    /// driver confirms the kill with `handle_job_ended` (so nothing downstream starts while the
    /// process may still run). A WAITING attempt past its deadline has no process: it ends
    /// FAILED at once. Early or repeated calls are harmless.
    pub fn handle_timeout(&mut self, now: Millis) {
        let mut expired_waiting = Vec::new();
        for (ni, node) in self.nodes.iter_mut().enumerate() {
            for (ai, a) in node.job_runs.iter_mut().enumerate() {
                if a.state == JobRunState::Waiting && a.deadline.is_some_and(|d| d <= now) {
                    self.tracking.job_run_changed(ni, ai);
                    a.state = JobRunState::Failed;
                    a.error_message = Some(format!(
                        "Job run waited for a free run slot of job {} until its timeout of {} \
                         minutes passed.",
                        a.job_name,
                        a.timeout_minutes.unwrap_or_default()
                    ));
                    a.completed_on = Some(now);
                    a.last_modified_on = now;
                    expired_waiting.push((ni, ai));
                    continue;
                }
                let expired = a.state == JobRunState::Running
                    && !a.timed_out
                    && a.deadline.is_some_and(|d| d <= now);
                if expired {
                    self.tracking.job_run_changed(ni, ai);
                    a.timed_out = true;
                    a.last_modified_on = now;
                    self.effects.push_back(Effect::KillJob {
                        job_run_id: a.id.clone(),
                        job_name: a.job_name.clone(),
                    });
                }
            }
        }
        for (ni, ai) in expired_waiting {
            self.job_settled(ni, ai, now);
        }
    }

    /// `StopWorkflowRun` (§4.5): RUNNING → STOPPING; every attempt in flight goes STOPPING
    /// (crawls CANCELLING) with a kill effect; nothing new starts and no trigger fires any
    /// more; the run becomes STOPPED when the last kill is confirmed (at once if idle).
    pub fn handle_stop(&mut self, now: Millis) -> Result<(), StopError> {
        if self.status != RunStatus::Running {
            return Err(StopError {
                status: self.status,
            });
        }
        self.status = RunStatus::Stopping;
        for (ni, node) in self.nodes.iter_mut().enumerate() {
            for (ai, a) in node.job_runs.iter_mut().enumerate() {
                if !a.state.is_terminal() && !a.kill_pending() {
                    self.tracking.job_run_changed(ni, ai);
                    a.state = JobRunState::Stopping;
                    a.last_modified_on = now;
                    self.effects.push_back(Effect::KillJob {
                        job_run_id: a.id.clone(),
                        job_name: a.job_name.clone(),
                    });
                }
            }
            for c in &mut node.crawls {
                if c.state == CrawlState::Running {
                    c.state = CrawlState::Cancelling;
                    self.effects.push_back(Effect::KillCrawl {
                        crawler_name: c.crawler_name.clone(),
                        crawl_id: c.id.clone(),
                    });
                }
            }
        }
        self.maybe_finish(now);
        Ok(())
    }
}
