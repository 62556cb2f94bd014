//! The engine's state enums in the model's terms: every conversion between a
//! `weir_engine` state and the wire enum of the same name is written here, once.

use weir_engine::{CrawlState, JobRunState, RunStatus};
use weir_model::shapes;

/// `WorkflowRun.Status` of a run in `status`.
pub fn run_status(status: RunStatus) -> shapes::WorkflowRunStatus {
    match status {
        RunStatus::Running => shapes::WorkflowRunStatus::Running,
        RunStatus::Completed => shapes::WorkflowRunStatus::Completed,
        RunStatus::Stopping => shapes::WorkflowRunStatus::Stopping,
        RunStatus::Stopped => shapes::WorkflowRunStatus::Stopped,
        RunStatus::Error => shapes::WorkflowRunStatus::Error,
    }
}

/// `JobRun.JobRunState` of an attempt in `state`.
pub fn job_run_state(state: JobRunState) -> shapes::JobRunState {
    match state {
        JobRunState::Starting => shapes::JobRunState::Starting,
        JobRunState::Waiting => shapes::JobRunState::Waiting,
        JobRunState::Running => shapes::JobRunState::Running,
        JobRunState::Stopping => shapes::JobRunState::Stopping,
        JobRunState::Stopped => shapes::JobRunState::Stopped,
        JobRunState::Succeeded => shapes::JobRunState::Succeeded,
        JobRunState::Failed => shapes::JobRunState::Failed,
        JobRunState::Timeout => shapes::JobRunState::Timeout,
        JobRunState::Error => shapes::JobRunState::Error,
    }
}

/// `Crawl.State` of a crawl in `state`.
pub fn crawl_state(state: CrawlState) -> shapes::CrawlState {
    match state {
        CrawlState::Running => shapes::CrawlState::Running,
        CrawlState::Cancelling => shapes::CrawlState::Cancelling,
        CrawlState::Cancelled => shapes::CrawlState::Cancelled,
        CrawlState::Succeeded => shapes::CrawlState::Succeeded,
        CrawlState::Failed => shapes::CrawlState::Failed,
        CrawlState::Error => shapes::CrawlState::Error,
    }
}

/// The final job state a trigger condition waits for: `SUCCEEDED` when the
/// condition names no state or one that is not final.
pub fn condition_job_state(state: Option<&shapes::JobRunState>) -> JobRunState {
    match state {
        Some(shapes::JobRunState::Failed) => JobRunState::Failed,
        Some(shapes::JobRunState::Stopped) => JobRunState::Stopped,
        Some(shapes::JobRunState::Timeout) => JobRunState::Timeout,
        Some(shapes::JobRunState::Error) => JobRunState::Error,
        _ => JobRunState::Succeeded,
    }
}

/// The final crawl state a trigger condition waits for: `SUCCEEDED` when the
/// condition names no state or one that is not final.
pub fn condition_crawl_state(state: Option<&shapes::CrawlState>) -> CrawlState {
    match state {
        Some(shapes::CrawlState::Failed) => CrawlState::Failed,
        Some(shapes::CrawlState::Cancelled) => CrawlState::Cancelled,
        Some(shapes::CrawlState::Error) => CrawlState::Error,
        _ => CrawlState::Succeeded,
    }
}
