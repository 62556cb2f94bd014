//! `WorkflowRunStatistics` (glue-api.md §4.4).

use serde::{Deserialize, Serialize};

use crate::attempt::{CrawlState, JobRunState};
use crate::node::{Latest, NodeState};

/// Counters of a run. `total` = JOB + CRAWLER nodes of the graph; the other counters bucket
/// each node once, by the state of its latest attempt; never-started nodes are only in `total`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RunStatistics {
    /// `TotalActions`.
    pub total: u32,
    /// `TimeoutActions`.
    pub timeout: u32,
    /// `FailedActions`.
    pub failed: u32,
    /// `StoppedActions` (job STOPPED, crawl CANCELLED).
    pub stopped: u32,
    /// `SucceededActions`.
    pub succeeded: u32,
    /// `RunningActions` (STARTING, RUNNING, STOPPING; crawl RUNNING, CANCELLING).
    pub running: u32,
    /// `ErroredActions`.
    pub errored: u32,
    /// `WaitingActions`: job runs queued for a free run slot.
    pub waiting: u32,
}

impl RunStatistics {
    /// Sum of every bucket except `total`: the number of nodes started in the run.
    pub fn attempted(&self) -> u32 {
        self.timeout
            + self.failed
            + self.stopped
            + self.succeeded
            + self.running
            + self.errored
            + self.waiting
    }

    pub(crate) fn of(nodes: &[NodeState]) -> Self {
        let mut s = RunStatistics {
            total: nodes.len() as u32,
            ..Default::default()
        };
        for n in nodes {
            let bucket = match n.latest() {
                Latest::None => continue,
                Latest::Job(a) => match a.state {
                    JobRunState::Starting | JobRunState::Running | JobRunState::Stopping => {
                        &mut s.running
                    }
                    JobRunState::Waiting => &mut s.waiting,
                    JobRunState::Stopped => &mut s.stopped,
                    JobRunState::Succeeded => &mut s.succeeded,
                    JobRunState::Failed => &mut s.failed,
                    JobRunState::Timeout => &mut s.timeout,
                    JobRunState::Error => &mut s.errored,
                },
                Latest::Crawl(c) => match c.state {
                    CrawlState::Running | CrawlState::Cancelling => &mut s.running,
                    CrawlState::Cancelled => &mut s.stopped,
                    CrawlState::Succeeded => &mut s.succeeded,
                    CrawlState::Failed => &mut s.failed,
                    CrawlState::Error => &mut s.errored,
                },
            };
            *bucket += 1;
        }
        s
    }
}
