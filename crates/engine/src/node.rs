//! One job or crawler node of a run and the attempts made for it.

use serde::{Deserialize, Serialize};

use crate::attempt::{CrawlAttempt, JobAttempt};
use crate::snapshot::{Condition, NodeRef};

/// A job or crawler node in a run's graph with its run details (glue-api.md §4.2 run view).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct NodeState {
    /// The node.
    pub node: NodeRef,
    /// Graph `UniqueId` (see [`crate::node_unique_id`]).
    pub unique_id: String,
    /// `JobDetails.JobRuns`, oldest first (empty for crawler nodes).
    pub job_runs: Vec<JobAttempt>,
    /// `CrawlerDetails.Crawls`, oldest first (empty for job nodes).
    pub crawls: Vec<CrawlAttempt>,
    /// How many times a trigger started this node in this run (the next `sequence`).
    pub starts: u32,
    /// The run details were copied from the resumed run and not re-run (glue-api.md §4.6).
    pub copied: bool,
}

/// The latest attempt of a node, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latest<'a> {
    /// Never started in this run.
    None,
    /// Latest job run (the most recently created one).
    Job(&'a JobAttempt),
    /// Latest crawl.
    Crawl(&'a CrawlAttempt),
}

impl NodeState {
    pub(crate) fn new(node: NodeRef, workflow: &str) -> Self {
        NodeState {
            unique_id: node.unique_id(workflow),
            node,
            job_runs: Vec::new(),
            crawls: Vec::new(),
            starts: 0,
            copied: false,
        }
    }

    /// The most recently created attempt: the one predicates and statistics look at.
    pub fn latest(&self) -> Latest<'_> {
        match (&self.node, self.job_runs.last(), self.crawls.last()) {
            (NodeRef::Job(_), Some(a), _) => Latest::Job(a),
            (NodeRef::Crawler(_), _, Some(c)) => Latest::Crawl(c),
            _ => Latest::None,
        }
    }

    /// Whether the node ran (has at least one attempt) in this run.
    pub fn attempted(&self) -> bool {
        !self.job_runs.is_empty() || !self.crawls.is_empty()
    }

    /// Whether any attempt of the node is not terminal.
    pub fn busy(&self) -> bool {
        self.job_runs.iter().any(|a| !a.state.is_terminal())
            || self.crawls.iter().any(|c| !c.state.is_terminal())
    }

    /// Whether the latest attempt is terminal, i.e. the node has a final outcome (retries are
    /// created in the same step as the failure, so a retried node is never final in between).
    pub fn is_final(&self) -> bool {
        match self.latest() {
            Latest::None => false,
            Latest::Job(a) => a.state.is_terminal(),
            Latest::Crawl(c) => c.state.is_terminal(),
        }
    }

    /// glue-api.md §5.3: satisfied when the node's latest attempt ended in exactly that state.
    pub(crate) fn satisfies(&self, condition: &Condition) -> bool {
        match (condition, self.latest()) {
            (Condition::Job { state, .. }, Latest::Job(a)) => {
                a.state.is_terminal() && a.state == *state
            }
            (Condition::Crawler { state, .. }, Latest::Crawl(c)) => {
                c.state.is_terminal() && c.state == *state
            }
            _ => false,
        }
    }
}
