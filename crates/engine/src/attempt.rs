//! Job run attempts and crawls of one workflow run, with their state enums (glue-api.md §6.3, §7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Millis;

/// `JobRunState` (glue-api.md §6.3), restricted to the states the engine produces.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobRunState {
    /// Decided by the engine; the driver has not yet confirmed the process started.
    Starting,
    /// Queued (job run queuing): the job had no free run slot; the driver launches it
    /// again when one frees, until its waiting deadline passes.
    Waiting,
    /// The driver confirmed the job is running.
    Running,
    /// A stop was requested; waiting for the driver to confirm the kill.
    Stopping,
    /// Stopped (workflow stop or external stop).
    Stopped,
    /// Ended successfully.
    Succeeded,
    /// Ended with an error (or could not start: concurrency limit, §4.7).
    Failed,
    /// Exceeded its timeout.
    Timeout,
    /// The job no longer exists (glue-api.md §6.3).
    Error,
}

impl JobRunState {
    /// Whether the state is final for this attempt.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            JobRunState::Starting
                | JobRunState::Waiting
                | JobRunState::Running
                | JobRunState::Stopping
        )
    }

    /// The wire spelling (`SUCCEEDED`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            JobRunState::Starting => "STARTING",
            JobRunState::Waiting => "WAITING",
            JobRunState::Running => "RUNNING",
            JobRunState::Stopping => "STOPPING",
            JobRunState::Stopped => "STOPPED",
            JobRunState::Succeeded => "SUCCEEDED",
            JobRunState::Failed => "FAILED",
            JobRunState::Timeout => "TIMEOUT",
            JobRunState::Error => "ERROR",
        }
    }
}

/// `Crawl.State` in run graphs (glue-api.md §7).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CrawlState {
    /// Started (or being started) by the engine.
    Running,
    /// A stop was requested; waiting for the driver to confirm.
    Cancelling,
    /// Stopped.
    Cancelled,
    /// Ended successfully.
    Succeeded,
    /// Ended with an error.
    Failed,
    /// The crawler no longer exists.
    Error,
}

impl CrawlState {
    /// Whether the state is final for this crawl.
    pub fn is_terminal(self) -> bool {
        !matches!(self, CrawlState::Running | CrawlState::Cancelling)
    }

    /// The wire spelling (`SUCCEEDED`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CrawlState::Running => "RUNNING",
            CrawlState::Cancelling => "CANCELLING",
            CrawlState::Cancelled => "CANCELLED",
            CrawlState::Succeeded => "SUCCEEDED",
            CrawlState::Failed => "FAILED",
            CrawlState::Error => "ERROR",
        }
    }
}

/// How a job process ended, as reported by the driver.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobOutcome {
    /// Exit status 0.
    Succeeded,
    /// Non-zero or unknown exit, or the process could not be launched.
    Failed,
    /// Killed on request.
    Stopped,
    /// The driver itself enforced a timeout.
    Timeout,
}

impl JobOutcome {
    pub(crate) fn state(self) -> JobRunState {
        match self {
            JobOutcome::Succeeded => JobRunState::Succeeded,
            JobOutcome::Failed => JobRunState::Failed,
            JobOutcome::Stopped => JobRunState::Stopped,
            JobOutcome::Timeout => JobRunState::Timeout,
        }
    }
}

/// How a crawl ended, as reported by the driver.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrawlOutcome {
    /// Completed.
    Succeeded,
    /// Failed (including "crawler already running").
    Failed,
    /// Stopped.
    Cancelled,
}

impl CrawlOutcome {
    pub(crate) fn state(self) -> CrawlState {
        match self {
            CrawlOutcome::Succeeded => CrawlState::Succeeded,
            CrawlOutcome::Failed => CrawlState::Failed,
            CrawlOutcome::Cancelled => CrawlState::Cancelled,
        }
    }
}

/// Job facts the driver read from the job definition when it launched an attempt (jobs are not
/// frozen, glue-api.md §4.2, so each attempt reads them afresh).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobFacts {
    /// `Job.MaxRetries`: retries allowed after a FAILED attempt.
    pub max_retries: u32,
    /// Effective timeout in minutes (action timeout, else the job's, else the default);
    /// `None` = no deadline.
    pub timeout_minutes: Option<u32>,
}

/// Milliseconds in a minute of job timeout.
pub const MINUTE_MS: Millis = 60_000;

/// The end of a job attempt as reported by the driver.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct JobEnded {
    /// How it ended.
    pub outcome: JobOutcome,
    /// `ErrorMessage`, if any.
    pub error_message: Option<String>,
    /// When it ended (may be earlier than `now` if the driver was down).
    pub ended_at: Millis,
}

/// The end of a crawl as reported by the driver.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CrawlEnded {
    /// How it ended.
    pub outcome: CrawlOutcome,
    /// `ErrorMessage`, if any.
    pub error_message: Option<String>,
    /// When it ended.
    pub ended_at: Millis,
}

/// `Predecessor {JobName, RunId}`: a job run whose completion fired a trigger.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Predecessor {
    /// Job name.
    pub job_name: String,
    /// Job run id.
    pub run_id: String,
}

/// One job run attempt started by this workflow run (a `JobRun` in the run graph, §4.2/§6.3).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct JobAttempt {
    /// `jr_` id (see [`crate::job_run_id`]).
    pub id: String,
    /// Job name.
    pub job_name: String,
    /// How many times the node had been started by a trigger in this run before this start.
    pub sequence: u32,
    /// Retry number, 0 for the first attempt.
    pub attempt: u32,
    /// The failed attempt this one retries.
    pub previous_run_id: Option<String>,
    /// The trigger whose firing started this run (`None` never happens inside a workflow, but
    /// the wire member is optional).
    pub trigger_name: Option<String>,
    /// Job runs whose completion fired the trigger.
    pub predecessor_runs: Vec<Predecessor>,
    /// When the engine decided to start it.
    pub started_on: Millis,
    /// Last change.
    pub last_modified_on: Millis,
    /// When it reached a terminal state.
    pub completed_on: Option<Millis>,
    /// Current state.
    pub state: JobRunState,
    /// `ErrorMessage`.
    pub error_message: Option<String>,
    /// The action's arguments (the driver overlays job defaults, glue-api.md §6.2).
    pub arguments: BTreeMap<String, String>,
    /// The action's timeout (minutes), as passed in [`crate::StartJob`].
    pub action_timeout_minutes: Option<u32>,
    /// Effective timeout (minutes): the action's until the driver reports [`JobFacts`].
    pub timeout_minutes: Option<u32>,
    /// `MaxRetries` read when this attempt started (`None` until then).
    pub max_retries: Option<u32>,
    /// Deadline armed when the start was confirmed with a timeout, or, while WAITING,
    /// the end of the waiting limit.
    pub deadline: Option<Millis>,
    /// The deadline passed and a kill was requested: the attempt ends as TIMEOUT.
    pub timed_out: bool,
}

impl JobAttempt {
    /// Whether the driver confirmed the launch (read the job's facts); an attempt that
    /// was never confirmed never had a process.
    pub fn is_confirmed(&self) -> bool {
        self.max_retries.is_some()
    }

    /// Whether a kill has been requested and not yet confirmed.
    pub fn kill_pending(&self) -> bool {
        !self.state.is_terminal() && (self.state == JobRunState::Stopping || self.timed_out)
    }
}

/// One crawl started by this workflow run (`Crawl` in the run graph, glue-api.md §4.2).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CrawlAttempt {
    /// Deterministic crawl id (see [`crate::crawl_id`]).
    pub id: String,
    /// Crawler name.
    pub crawler_name: String,
    /// How many times the node had been started in this run before this start.
    pub sequence: u32,
    /// The trigger whose firing started it.
    pub trigger_name: Option<String>,
    /// When the engine decided to start it.
    pub started_on: Millis,
    /// When it reached a terminal state.
    pub completed_on: Option<Millis>,
    /// Current state.
    pub state: CrawlState,
    /// `ErrorMessage`.
    pub error_message: Option<String>,
    /// The driver confirmed the crawl started.
    pub confirmed: bool,
}
