//! What a run tracks beside its state, never persisted: where each node and job attempt
//! sits in its node list (the look-ups of every event — a job run by id, a condition's
//! node by name — in constant time instead of a walk over every node), and which job
//! attempts changed since the driver last wrote them.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use crate::node::NodeState;
use crate::snapshot::{Condition, NodeRef};

/// Positions in a run's `nodes`, derived from them alone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Positions {
    /// Job nodes by job name.
    jobs: HashMap<String, usize>,
    /// Crawler nodes by crawler name.
    crawlers: HashMap<String, usize>,
    /// Job attempts by `jr_` id: (node, attempt).
    job_runs: HashMap<String, (usize, usize)>,
}

impl Positions {
    fn of(nodes: &[NodeState]) -> Self {
        let mut positions = Positions::default();
        for (ni, node) in nodes.iter().enumerate() {
            match &node.node {
                NodeRef::Job(name) => positions.jobs.insert(name.clone(), ni),
                NodeRef::Crawler(name) => positions.crawlers.insert(name.clone(), ni),
            };
            for (ai, attempt) in node.job_runs.iter().enumerate() {
                positions.job_runs.insert(attempt.id.clone(), (ni, ai));
            }
        }
        positions
    }

    /// The node `node`.
    pub(crate) fn node(&self, node: &NodeRef) -> Option<usize> {
        match node {
            NodeRef::Job(name) => self.jobs.get(name),
            NodeRef::Crawler(name) => self.crawlers.get(name),
        }
        .copied()
    }

    /// The node `condition` watches.
    pub(crate) fn watched(&self, condition: &Condition) -> Option<usize> {
        match condition {
            Condition::Job { job_name, .. } => self.jobs.get(job_name),
            Condition::Crawler { crawler_name, .. } => self.crawlers.get(crawler_name),
        }
        .copied()
    }

    /// The job attempt `id`: (node, attempt).
    pub(crate) fn job_run(&self, id: &str) -> Option<(usize, usize)> {
        self.job_runs.get(id).copied()
    }
}

/// A run's [`Positions`], built at its first look-up (a run is decoded without them)
/// and kept up to date as attempts are added, and the job attempts changed or created
/// since the driver last took them. Equal to any other: it is not part of the run's
/// state (the positions mirror the nodes, which are compared; the changes are the
/// driver's bookkeeping).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tracking {
    positions: OnceLock<Positions>,
    /// (node, attempt) of each changed job attempt.
    changed: BTreeSet<(usize, usize)>,
}

impl PartialEq for Tracking {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Tracking {
    /// The positions of `nodes` (the run's, which this mirrors).
    pub(crate) fn positions(&self, nodes: &[NodeState]) -> &Positions {
        self.positions.get_or_init(|| Positions::of(nodes))
    }

    /// Job attempt `id` was appended at `(ni, ai)`.
    pub(crate) fn job_run_added(&mut self, id: &str, ni: usize, ai: usize) {
        if let Some(positions) = self.positions.get_mut() {
            positions.job_runs.insert(id.to_owned(), (ni, ai));
        }
        self.changed.insert((ni, ai));
    }

    /// Job attempt `(ni, ai)` changed.
    pub(crate) fn job_run_changed(&mut self, ni: usize, ai: usize) {
        self.changed.insert((ni, ai));
    }

    /// The attempts of node `ni` were removed: positions are rebuilt at the next look-up.
    pub(crate) fn job_runs_removed(&mut self, ni: usize) {
        self.positions = OnceLock::new();
        self.changed.retain(|&(n, _)| n != ni);
    }

    /// The nodes were replaced: nothing is known of them.
    pub(crate) fn reset(&mut self) {
        *self = Tracking::default();
    }

    /// Takes the changed attempts, in node order.
    pub(crate) fn take_changed(&mut self) -> BTreeSet<(usize, usize)> {
        std::mem::take(&mut self.changed)
    }
}
