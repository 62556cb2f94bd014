//! Rendering of stored runs into the wire shapes of GetWorkflowRun(s) and
//! Workflow.LastRun (spec §4.2 run view, §4.4 statistics).

use weir_engine::{NodeKind, NodeRef, node_unique_id};
use weir_model::Timestamp;
use weir_model::shapes::{
    Crawl, CrawlerNodeDetails, Edge, JobNodeDetails, Node, NodeType, StartingEventBatchCondition,
    TriggerNodeDetails, WorkflowGraph, WorkflowRun, WorkflowRunStatistics,
};

use super::states;
use super::stored_run::{StartingBatch, StoredRun, render_job_run};

/// The wire `WorkflowRun`, with its graph when `include_graph`.
pub fn workflow_run(stored: &StoredRun, include_graph: bool) -> WorkflowRun {
    let run = &stored.run;
    let stats = run.statistics();
    WorkflowRun {
        name: Some(run.workflow_name().to_string()),
        workflow_run_id: Some(run.run_id().to_string()),
        previous_run_id: run.previous_run_id().map(str::to_string),
        workflow_run_properties: Some(stored.properties.clone()),
        started_on: Some(Timestamp::from_millis(run.started_on())),
        completed_on: run.completed_on().map(Timestamp::from_millis),
        status: Some(states::run_status(run.status())),
        error_message: run.error_message().map(str::to_string),
        statistics: Some(WorkflowRunStatistics {
            total_actions: Some(stats.total as i32),
            timeout_actions: Some(stats.timeout as i32),
            failed_actions: Some(stats.failed as i32),
            stopped_actions: Some(stats.stopped as i32),
            succeeded_actions: Some(stats.succeeded as i32),
            running_actions: Some(stats.running as i32),
            errored_actions: Some(stats.errored as i32),
            waiting_actions: Some(stats.waiting as i32),
        }),
        graph: include_graph.then(|| graph(stored)),
        starting_event_batch_condition: stored.starting_batch.map(|batch| match batch {
            StartingBatch::Size(size) => StartingEventBatchCondition {
                batch_size: Some(size),
                batch_window: None,
            },
            StartingBatch::Window(seconds) => StartingEventBatchCondition {
                batch_size: None,
                batch_window: Some(seconds),
            },
        }),
    }
}

fn graph(stored: &StoredRun) -> WorkflowGraph {
    let run = &stored.run;
    let workflow = run.workflow_name();
    let mut nodes = Vec::new();
    for trigger in &stored.triggers {
        let name = trigger.name.clone().unwrap_or_default();
        nodes.push(Node {
            r#type: Some(NodeType::Trigger),
            name: Some(name.clone()),
            unique_id: Some(node_unique_id(workflow, NodeKind::Trigger, &name)),
            trigger_details: Some(TriggerNodeDetails {
                trigger: Some(trigger.clone()),
            }),
            ..Default::default()
        });
    }
    for state in run.nodes() {
        let mut node = Node {
            name: Some(state.node.name().to_string()),
            unique_id: Some(state.unique_id.clone()),
            ..Default::default()
        };
        match &state.node {
            NodeRef::Job(_) => {
                node.r#type = Some(NodeType::Job);
                node.job_details = (!state.job_runs.is_empty()).then(|| JobNodeDetails {
                    job_runs: Some(
                        state
                            .job_runs
                            .iter()
                            .map(|a| render_job_run(stored, a))
                            .collect(),
                    ),
                });
            }
            NodeRef::Crawler(_) => {
                node.r#type = Some(NodeType::Crawler);
                node.crawler_details = (!state.crawls.is_empty()).then(|| CrawlerNodeDetails {
                    crawls: Some(
                        state
                            .crawls
                            .iter()
                            .map(|c| Crawl {
                                state: Some(states::crawl_state(c.state)),
                                started_on: Some(Timestamp::from_millis(c.started_on)),
                                completed_on: c.completed_on.map(Timestamp::from_millis),
                                error_message: c.error_message.clone(),
                                ..Default::default()
                            })
                            .collect(),
                    ),
                });
            }
        }
        nodes.push(node);
    }
    let edges = run
        .snapshot()
        .edges()
        .into_iter()
        .map(|(source, destination)| Edge {
            source_id: Some(source),
            destination_id: Some(destination),
        })
        .collect();
    WorkflowGraph {
        nodes: Some(nodes),
        edges: Some(edges),
    }
}
