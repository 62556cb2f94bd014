//! Error values returned for impossible or illegal driver input (the engine never panics on it).

use thiserror::Error;

use crate::run::RunStatus;

/// The snapshot handed to [`crate::WorkflowRun::start`] breaks an engine invariant.
#[derive(Error, Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Two triggers share a name.
    #[error("duplicate trigger name {0}")]
    DuplicateTrigger(String),
    /// More than one start trigger (glue-api.md §4.1).
    #[error("a workflow has at most one start trigger")]
    SeveralStartTriggers,
    /// A start trigger carries predicate conditions.
    #[error("start trigger {0} must not have conditions")]
    StartTriggerWithConditions(String),
    /// A conditional trigger has no condition.
    #[error("conditional trigger {0} has no condition")]
    NoConditions(String),
}

/// A driver event that cannot apply to the run's current state. The state is left unchanged.
#[derive(Error, Clone, Debug, PartialEq, Eq)]
pub enum EventError {
    /// No job attempt of this run has that id.
    #[error("unknown job run {0}")]
    UnknownJobRun(String),
    /// No crawl of this run has that id.
    #[error("unknown crawl {0}")]
    UnknownCrawl(String),
    /// The attempt or crawl already reached a terminal state.
    #[error("{id} is already terminal ({state})")]
    AlreadyTerminal {
        /// Attempt or crawl id.
        id: String,
        /// Its terminal state.
        state: &'static str,
    },
    /// The event does not fit the attempt's state (e.g. a second "started").
    #[error("{event} is not valid for {id} in state {state}")]
    UnexpectedEvent {
        /// Attempt or crawl id.
        id: String,
        /// Its state.
        state: &'static str,
        /// The rejected event.
        event: &'static str,
    },
}

/// `StopWorkflowRun` on a run that is not RUNNING (→ `IllegalWorkflowStateException`, §4.5).
#[derive(Error, Clone, Debug, PartialEq, Eq)]
#[error("workflow run is {} and cannot be stopped", status.as_str())]
pub struct StopError {
    /// The run's status.
    pub status: RunStatus,
}

/// Why `ResumeWorkflowRun` was refused (glue-api.md §4.6).
#[derive(Error, Clone, Debug, PartialEq, Eq)]
pub enum ResumeError {
    /// The previous run is not COMPLETED (→ `IllegalWorkflowStateException`).
    #[error("workflow run is {} and cannot be resumed; only COMPLETED runs can", .0.as_str())]
    IllegalState(RunStatus),
    /// No node id was given (→ `InvalidInputException`).
    #[error("no node ids to resume")]
    NoNodes,
    /// The id is not a node of the run's graph (→ `InvalidInputException`).
    #[error("unknown node id {0}")]
    UnknownNode(String),
    /// The id names a trigger node (→ `InvalidInputException`).
    #[error("node {0} is a trigger; only job and crawler nodes can be resumed")]
    NotAJobOrCrawlerNode(String),
    /// The previous run never ran that node (→ `InvalidInputException`).
    #[error("node {0} was not run in the workflow run")]
    NotAttempted(String),
}
