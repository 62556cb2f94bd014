//! What the orchestrator counts in the process-wide metrics registry (`weir-metrics`).

use weir_engine::JobAttempt;

use crate::stored_run::STANDALONE_PREFIX;

/// Counts a started job-run process.
pub(crate) fn job_run_started() {
    weir_metrics::job_run_started();
}

/// Publishes how many schedules the scheduler keeps armed.
pub(crate) fn schedules_armed(count: usize) {
    weir_metrics::set_schedules_armed(count);
}

/// Counts a started workflow run.
pub(crate) fn workflow_run_started() {
    weir_metrics::workflow_run_started();
}

/// Counts the end of a job attempt if it is final; called right after a process exit
/// was fed to the engine.
pub(crate) fn job_attempt_ended(attempt: Option<&JobAttempt>) {
    if let Some(attempt) = attempt.filter(|a| a.state.is_terminal()) {
        weir_metrics::job_run_finished(attempt.state.as_str());
    }
}

/// Counts the end of the run of `workflow` unless it is a direct StartJobRun (which
/// runs under a reserved name and is counted as a job run only).
pub(crate) fn run_finished(workflow: &str, status: &str) {
    if !is_standalone(workflow) {
        weir_metrics::workflow_run_finished(status);
    }
}

/// Whether `workflow` is the reserved name of a direct StartJobRun.
fn is_standalone(workflow: &str) -> bool {
    workflow.starts_with(STANDALONE_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_runs_are_not_workflow_runs() {
        assert!(is_standalone(&format!("{STANDALONE_PREFIX}job")));
        assert!(!is_standalone("wf"));
    }
}
