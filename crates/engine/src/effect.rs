//! Effects: what the driver must do, strictly after committing the state that produced them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::attempt::Predecessor;
use crate::run::RunStatus;

/// Start a job run attempt. Idempotent by `job_run_id`: starting an id that already exists
/// must not launch a second process (crash recovery re-issues it, see
/// [`crate::WorkflowRun::recover`]).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StartJob {
    /// `jr_` id of the attempt.
    pub job_run_id: String,
    /// Job to run; the driver reads the job definition now (MaxRetries, Timeout, defaults).
    pub job_name: String,
    /// Retry number, 0 first.
    pub attempt: u32,
    /// Failed attempt this one retries.
    pub previous_run_id: Option<String>,
    /// Action arguments; the driver overlays them on `DefaultArguments`, lets
    /// `NonOverridableArguments` win, and adds `--WORKFLOW_NAME`/`--WORKFLOW_RUN_ID` (§6.2, §4.8).
    pub arguments: BTreeMap<String, String>,
    /// Action timeout in minutes, overriding the job's when set.
    pub timeout_minutes: Option<u32>,
    /// Firing trigger.
    pub trigger_name: Option<String>,
    /// Job runs whose completion fired the trigger.
    pub predecessor_runs: Vec<Predecessor>,
}

/// An instruction to the driver. Drained with [`crate::WorkflowRun::poll_effect`].
#[must_use]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Launch a job attempt, then report [`crate::WorkflowRun::handle_job_started`] (or
    /// `handle_job_missing` / `handle_job_rejected`), and later `handle_job_ended`.
    StartJob(StartJob),
    /// Kill a job attempt (its whole process group). Always answered by exactly one
    /// `handle_job_ended`, also when the process never started or had already exited.
    KillJob {
        /// Attempt to kill.
        job_run_id: String,
        /// Its job.
        job_name: String,
    },
    /// Start a crawl (idempotent by `crawl_id`), then report `handle_crawl_started` and later
    /// `handle_crawl_ended` (or `handle_crawler_missing`).
    StartCrawl {
        /// Crawler to run.
        crawler_name: String,
        /// Deterministic crawl id.
        crawl_id: String,
    },
    /// Stop a crawl. Always answered by exactly one `handle_crawl_ended`.
    KillCrawl {
        /// Crawler.
        crawler_name: String,
        /// Crawl to stop.
        crawl_id: String,
    },
    /// The run reached a final status (COMPLETED or STOPPED): release its concurrency slot,
    /// update `Workflow.LastRun`, notify waiters. Idempotent.
    RunFinished {
        /// The final status.
        status: RunStatus,
    },
}
