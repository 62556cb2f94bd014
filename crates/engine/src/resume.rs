//! `ResumeWorkflowRun` (glue-api.md §4.6): a new run built from a COMPLETED one.

use std::collections::BTreeSet;

use crate::Millis;
use crate::error::ResumeError;
use crate::ids::{NodeKind, node_unique_id};
use crate::node::{Latest, NodeState};
use crate::run::{NodeStart, WorkflowRun};
use crate::snapshot::NodeRef;

/// A resumed run and the node ids actually restarted (the response's `NodeIds`).
#[derive(Clone, Debug, PartialEq)]
pub struct Resumed {
    /// The new run, RUNNING, with `StartJob`/`StartCrawl` effects queued.
    pub run: WorkflowRun,
    /// Restarted node ids, in request order, without redundant downstream selections.
    pub node_ids: Vec<String>,
}

impl WorkflowRun {
    /// Builds a new run `run_id` that resumes `previous` from the selected node ids
    /// (glue-api.md §4.6):
    ///
    /// 1. `previous` must be COMPLETED; every id must be a job/crawler node of its graph that
    ///    it attempted (errors: `IllegalState`, `UnknownNode`, `NotAJobOrCrawlerNode`,
    ///    `NotAttempted`, `NoNodes`).
    /// 2. A selected node downstream of another selected node is dropped (within a cycle the
    ///    first selected member is kept).
    /// 3. The *reset set* = restarted nodes + everything downstream of them through triggers.
    ///    Reset nodes start without run details (they get new ones if their trigger fires
    ///    again); every other node is copied with its run details (`copied = true`).
    /// 4. Triggers watching a reset node forget whether they fired; the others keep it.
    /// 5. Restarted nodes start now, as attempt 0, with the trigger name, arguments and
    ///    predecessors of their latest run in `previous`.
    /// 6. Then every un-fired trigger is evaluated once against the copied nodes: a reset
    ///    trigger already satisfied by copied nodes alone (e.g. `ANY` on an unchanged upstream
    ///    node) fires now and re-runs its actions. Afterwards triggers are evaluated as usual
    ///    when the re-run nodes finish.
    ///
    /// Same snapshot as `previous` (the definition frozen at the original start).
    pub fn resume(
        previous: &WorkflowRun,
        run_id: impl Into<String>,
        node_ids: &[String],
        now: Millis,
    ) -> Result<Resumed, ResumeError> {
        if previous.status != crate::RunStatus::Completed {
            return Err(ResumeError::IllegalState(previous.status));
        }
        if node_ids.is_empty() {
            return Err(ResumeError::NoNodes);
        }
        let snapshot = &previous.snapshot;
        let mut selected: Vec<(String, NodeRef)> = Vec::new();
        for id in node_ids {
            let Some(node) = previous.nodes.iter().find(|n| &n.unique_id == id) else {
                let is_trigger = snapshot.triggers.iter().any(|t| {
                    &node_unique_id(&snapshot.workflow_name, NodeKind::Trigger, &t.name) == id
                });
                return Err(if is_trigger {
                    ResumeError::NotAJobOrCrawlerNode(id.clone())
                } else {
                    ResumeError::UnknownNode(id.clone())
                });
            };
            if !node.attempted() {
                return Err(ResumeError::NotAttempted(id.clone()));
            }
            if !selected.iter().any(|(s, _)| s == id) {
                selected.push((id.clone(), node.node.clone()));
            }
        }

        let reach: Vec<BTreeSet<NodeRef>> = selected
            .iter()
            .map(|(_, n)| snapshot.downstream(n))
            .collect();
        let restarted: Vec<(String, NodeRef)> = selected
            .iter()
            .enumerate()
            .filter(|&(i, (_, x))| {
                !selected.iter().enumerate().any(|(j, (_, y))| {
                    j != i && reach[j].contains(x) && (!reach[i].contains(y) || j < i)
                })
            })
            .map(|(_, s)| s.clone())
            .collect();

        let mut reset: BTreeSet<NodeRef> = BTreeSet::new();
        for (_, n) in &restarted {
            reset.insert(n.clone());
            reset.extend(snapshot.downstream(n));
        }

        let mut run = WorkflowRun::empty(snapshot.clone(), run_id.into(), now);
        run.previous_run_id = Some(previous.run_id.clone());
        run.nodes = previous
            .nodes
            .iter()
            .map(|n| {
                if reset.contains(&n.node) {
                    NodeState::new(n.node.clone(), &snapshot.workflow_name)
                } else {
                    NodeState {
                        copied: n.attempted(),
                        ..n.clone()
                    }
                }
            })
            .collect();
        run.tracking.reset();
        run.fired = previous
            .fired
            .iter()
            .filter(|f| {
                snapshot
                    .trigger(&f.trigger_name)
                    .is_none_or(|t| !t.conditions.iter().any(|c| reset.contains(&c.node())))
            })
            .cloned()
            .collect();

        for (_, node) in &restarted {
            let Some(old) = previous.node(node) else {
                continue;
            };
            let start = restart_of(old);
            if let Some(ni) = run.positions().node(node) {
                run.start_node(ni, start, now);
            }
        }
        run.evaluate_all(now);
        Ok(Resumed {
            run,
            node_ids: restarted.into_iter().map(|(id, _)| id).collect(),
        })
    }
}

/// How a restarted node is started again: as its latest run in the previous run was.
fn restart_of(old: &NodeState) -> NodeStart {
    match old.latest() {
        Latest::Job(a) => NodeStart {
            trigger_name: a.trigger_name.clone(),
            predecessor_runs: a.predecessor_runs.clone(),
            arguments: a.arguments.clone(),
            timeout_minutes: a.action_timeout_minutes,
        },
        Latest::Crawl(c) => NodeStart {
            trigger_name: c.trigger_name.clone(),
            ..NodeStart::default()
        },
        Latest::None => NodeStart::default(),
    }
}
