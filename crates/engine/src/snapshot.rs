//! The frozen definition a run executes: the workflow's triggers as they were when the run
//! started (glue-api.md §4.2 "Run view": trigger definitions are frozen for the run).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::attempt::{CrawlState, JobRunState};
use crate::error::SnapshotError;
use crate::ids::{NodeKind, node_unique_id};

/// A job or crawler node of the graph, named by its resource name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeRef {
    /// A job, by job name.
    Job(String),
    /// A crawler, by crawler name.
    Crawler(String),
}

impl NodeRef {
    /// The resource name (job or crawler name).
    pub fn name(&self) -> &str {
        match self {
            NodeRef::Job(n) | NodeRef::Crawler(n) => n,
        }
    }

    /// The graph node kind (`JOB` or `CRAWLER`).
    pub fn kind(&self) -> NodeKind {
        match self {
            NodeRef::Job(_) => NodeKind::Job,
            NodeRef::Crawler(_) => NodeKind::Crawler,
        }
    }

    /// The node's graph `UniqueId` within `workflow` (see [`node_unique_id`]).
    pub fn unique_id(&self, workflow: &str) -> String {
        node_unique_id(workflow, self.kind(), self.name())
    }
}

/// Whether a trigger starts the workflow run or waits for conditions (glue-api.md §5.1).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerKind {
    /// The single start trigger (ON_DEMAND, SCHEDULED or EVENT): fired when the run starts.
    Start,
    /// A CONDITIONAL trigger: fired when its predicate is satisfied (glue-api.md §5.3).
    Conditional,
}

/// `Predicate.Logical` (glue-api.md §5.3). With a single condition both mean the same.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Logical {
    /// Every condition must be satisfied.
    #[default]
    And,
    /// At least one condition must be satisfied.
    Any,
}

/// One predicate condition: a watched node and the final state it must have ended in.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `JobName` + `State` (Glue supports SUCCEEDED, STOPPED, FAILED, TIMEOUT).
    Job {
        /// Watched job.
        job_name: String,
        /// Awaited final state of the job's latest run.
        state: JobRunState,
    },
    /// `CrawlerName` + `CrawlState` (SUCCEEDED, FAILED, CANCELLED).
    Crawler {
        /// Watched crawler.
        crawler_name: String,
        /// Awaited final state of the crawler's latest crawl.
        state: CrawlState,
    },
}

impl Condition {
    /// The watched node.
    pub fn node(&self) -> NodeRef {
        match self {
            Condition::Job { job_name, .. } => NodeRef::Job(job_name.clone()),
            Condition::Crawler { crawler_name, .. } => NodeRef::Crawler(crawler_name.clone()),
        }
    }

    /// Whether the condition watches `node` (as `self.node() == *node`, without a copy).
    pub fn is_on(&self, node: &NodeRef) -> bool {
        match (self, node) {
            (Condition::Job { job_name, .. }, NodeRef::Job(name)) => job_name == name,
            (Condition::Crawler { crawler_name, .. }, NodeRef::Crawler(name)) => {
                crawler_name == name
            }
            _ => false,
        }
    }
}

/// One trigger action: start a job (with per-action arguments and timeout) or a crawler.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start a job run.
    Job {
        /// Job to start.
        job_name: String,
        /// `Action.Arguments`; the driver overlays them on the job's defaults (glue-api.md §6.2).
        arguments: BTreeMap<String, String>,
        /// `Action.Timeout` in minutes; overrides the job's timeout when set.
        timeout_minutes: Option<u32>,
    },
    /// Start a crawl.
    Crawler {
        /// Crawler to start.
        crawler_name: String,
    },
}

impl Action {
    /// The started node.
    pub fn node(&self) -> NodeRef {
        match self {
            Action::Job { job_name, .. } => NodeRef::Job(job_name.clone()),
            Action::Crawler { crawler_name } => NodeRef::Crawler(crawler_name.clone()),
        }
    }
}

/// A trigger as frozen at run start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TriggerSnapshot {
    /// Trigger name (unique in the workflow).
    pub name: String,
    /// Start trigger or conditional trigger.
    pub kind: TriggerKind,
    /// How conditions combine; ignored for the start trigger.
    pub logical: Logical,
    /// Predicate conditions; empty for the start trigger.
    pub conditions: Vec<Condition>,
    /// Actions started when the trigger fires.
    pub actions: Vec<Action>,
}

impl TriggerSnapshot {
    /// Whether any condition watches `node`.
    pub fn watches(&self, node: &NodeRef) -> bool {
        self.conditions.iter().any(|c| c.is_on(node))
    }
}

/// The workflow definition a run executes: name and triggers, frozen at run start.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WorkflowSnapshot {
    /// Workflow name.
    pub workflow_name: String,
    /// Member triggers, in a stable order (evaluation order follows it).
    pub triggers: Vec<TriggerSnapshot>,
}

impl WorkflowSnapshot {
    /// Checks the invariants the engine relies on: unique trigger names, at most one start
    /// trigger (glue-api.md §4.1), and every conditional trigger has at least one condition.
    pub fn validate(&self) -> Result<(), SnapshotError> {
        let mut names = BTreeSet::new();
        let mut starts = 0;
        for t in &self.triggers {
            if !names.insert(t.name.as_str()) {
                return Err(SnapshotError::DuplicateTrigger(t.name.clone()));
            }
            match t.kind {
                TriggerKind::Start => {
                    starts += 1;
                    if !t.conditions.is_empty() {
                        return Err(SnapshotError::StartTriggerWithConditions(t.name.clone()));
                    }
                }
                TriggerKind::Conditional if t.conditions.is_empty() => {
                    return Err(SnapshotError::NoConditions(t.name.clone()));
                }
                TriggerKind::Conditional => {}
            }
        }
        if starts > 1 {
            return Err(SnapshotError::SeveralStartTriggers);
        }
        Ok(())
    }

    /// The start trigger, if the workflow has one.
    pub fn start_trigger(&self) -> Option<&TriggerSnapshot> {
        self.triggers.iter().find(|t| t.kind == TriggerKind::Start)
    }

    /// A trigger by name.
    pub fn trigger(&self, name: &str) -> Option<&TriggerSnapshot> {
        self.triggers.iter().find(|t| t.name == name)
    }

    /// Every job and crawler node named by an action or a condition, each once, in order of
    /// first mention (glue-api.md §4.2). `TotalActions` is their count (§4.4).
    pub fn action_nodes(&self) -> Vec<NodeRef> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for t in &self.triggers {
            let nodes = t
                .conditions
                .iter()
                .map(Condition::node)
                .chain(t.actions.iter().map(Action::node));
            for n in nodes {
                if seen.insert(n.clone()) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Graph edges as `(SourceId, DestinationId)` unique-id pairs (glue-api.md §4.2): trigger →
    /// each action node, and each watched node → its trigger.
    pub fn edges(&self) -> Vec<(String, String)> {
        let wf = &self.workflow_name;
        let mut out = Vec::new();
        for t in &self.triggers {
            let tid = node_unique_id(wf, NodeKind::Trigger, &t.name);
            for c in &t.conditions {
                out.push((c.node().unique_id(wf), tid.clone()));
            }
            for a in &t.actions {
                out.push((tid.clone(), a.node().unique_id(wf)));
            }
        }
        out
    }

    /// Nodes reachable from `from` through trigger edges (node → trigger watching it → the
    /// trigger's actions, transitively). Contains `from` only if it lies on a cycle.
    pub fn downstream(&self, from: &NodeRef) -> BTreeSet<NodeRef> {
        let mut out = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for t in self.triggers.iter().filter(|t| t.watches(&n)) {
                for a in &t.actions {
                    let next = a.node();
                    if out.insert(next.clone()) {
                        stack.push(next);
                    }
                }
            }
        }
        out
    }
}
