//! The static workflow graph (glue-api.md §4.2) that GetWorkflow and BatchGetWorkflows
//! answer with `IncludeGraph=true`, and the cycle check on a workflow's triggers.
//!
//! # Graph
//! Nodes: one `TRIGGER` node per member trigger (`TriggerDetails.Trigger` = the full
//! trigger), one `JOB` node per distinct job and one `CRAWLER` node per distinct crawler
//! named by any member trigger's actions or conditions — also when that job or crawler
//! has been deleted since (a dangling reference stays visible; a run then records an
//! ERROR job run for it). Order: triggers, then jobs, then crawlers, each by name.
//! Edges: trigger → each node it starts, and each watched node → the trigger watching
//! it; deduplicated and sorted by (SourceId, DestinationId). `UniqueId`s come from
//! [`weir_engine::node_unique_id`], the function the engine uses for run graphs, so a
//! node has the same id in the static graph and in every run. Derivation is
//! O(n log n) in the number of triggers, references and edges.
//!
//! # Cycles
//! AWS does not document whether a workflow's trigger graph may contain a cycle
//! (J1 → T2 → J2 → T3 → J1). Weir rejects a CreateTrigger or UpdateTrigger that would
//! close one, with InvalidInputException naming the cycle: every trigger fires at most
//! once per run, so a cycle can never run around, and refusing it keeps run graphs
//! acyclic for the engine and for ResumeWorkflowRun's "downstream" rule. The one-trigger
//! case (a job both watched and started) is AWS's own observed rule, checked in
//! [`crate::trigger::check`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use weir_engine::{NodeKind, node_unique_id};
use weir_model::shapes::{Edge, Node, NodeType, Trigger, TriggerNodeDetails, WorkflowGraph};
use weir_store::{Kind, Scope, Transaction};

use crate::ApiError;
use crate::{stored, trigger};

/// The member triggers of `workflow`, in name order.
pub fn member_triggers(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
) -> Result<Vec<Trigger>, ApiError> {
    stored::decode_values(tx.list_children(scope, Kind::Trigger, workflow)?)
}

/// Reads the member triggers of `workflow` and derives its graph.
pub fn load(
    tx: &mut dyn Transaction,
    scope: &Scope,
    workflow: &str,
) -> Result<WorkflowGraph, ApiError> {
    Ok(workflow_graph(
        workflow,
        &member_triggers(tx, scope, workflow)?,
    ))
}

/// The wire `Node.Type` of a node of kind `kind`.
fn node_type(kind: NodeKind) -> NodeType {
    match kind {
        NodeKind::Trigger => NodeType::Trigger,
        NodeKind::Job => NodeType::Job,
        NodeKind::Crawler => NodeType::Crawler,
    }
}

/// The graph of `workflow` whose member triggers are `triggers` (see the module docs).
pub fn workflow_graph(workflow: &str, triggers: &[Trigger]) -> WorkflowGraph {
    let mut ordered: Vec<&Trigger> = triggers.iter().collect();
    ordered.sort_by(|a, b| a.name.cmp(&b.name));
    let mut jobs = BTreeMap::new();
    let mut crawlers = BTreeMap::new();
    for t in &ordered {
        for name in trigger::action_jobs(t).chain(trigger::condition_jobs(t)) {
            jobs.entry(name)
                .or_insert_with(|| node_unique_id(workflow, NodeKind::Job, name));
        }
        for name in trigger::action_crawlers(t).chain(trigger::condition_crawlers(t)) {
            crawlers
                .entry(name)
                .or_insert_with(|| node_unique_id(workflow, NodeKind::Crawler, name));
        }
    }
    let mut nodes = Vec::with_capacity(ordered.len() + jobs.len() + crawlers.len());
    let mut edges = BTreeSet::new();
    // Every referenced name was entered above; the fallback only avoids a panic path.
    let job_id = |name: &str| {
        jobs.get(name)
            .cloned()
            .unwrap_or_else(|| node_unique_id(workflow, NodeKind::Job, name))
    };
    let crawler_id = |name: &str| {
        crawlers
            .get(name)
            .cloned()
            .unwrap_or_else(|| node_unique_id(workflow, NodeKind::Crawler, name))
    };
    for t in &ordered {
        let name = t.name.clone().unwrap_or_default();
        let id = node_unique_id(workflow, NodeKind::Trigger, &name);
        for job in trigger::action_jobs(t) {
            edges.insert((id.clone(), job_id(job)));
        }
        for crawler in trigger::action_crawlers(t) {
            edges.insert((id.clone(), crawler_id(crawler)));
        }
        for job in trigger::condition_jobs(t) {
            edges.insert((job_id(job), id.clone()));
        }
        for crawler in trigger::condition_crawlers(t) {
            edges.insert((crawler_id(crawler), id.clone()));
        }
        nodes.push(Node {
            r#type: Some(node_type(NodeKind::Trigger)),
            name: Some(name),
            unique_id: Some(id),
            trigger_details: Some(TriggerNodeDetails {
                trigger: Some((*t).clone()),
            }),
            ..Default::default()
        });
    }
    for (kind, members) in [(NodeKind::Job, jobs), (NodeKind::Crawler, crawlers)] {
        for (name, id) in members {
            nodes.push(Node {
                r#type: Some(node_type(kind)),
                name: Some(name.to_string()),
                unique_id: Some(id),
                ..Default::default()
            });
        }
    }
    WorkflowGraph {
        nodes: Some(nodes),
        edges: Some(
            edges
                .into_iter()
                .map(|(source, destination)| Edge {
                    source_id: Some(source),
                    destination_id: Some(destination),
                })
                .collect(),
        ),
    }
}

/// A directed cycle through `triggers` (watched node → trigger → started node …), as
/// node labels from its first node around to that node again, if there is one.
///
/// Iterative depth-first search with three colours: linear in nodes plus edges and
/// safe for arbitrarily deep graphs.
pub fn find_cycle(triggers: &[Trigger]) -> Option<Vec<String>> {
    let mut nodes = Interner::default();
    let mut intern = |key| nodes.intern(key);
    let mut edges: Vec<(usize, usize)> = Vec::new();
    for t in triggers {
        let me = intern((NodeKind::Trigger, t.name.as_deref().unwrap_or_default()));
        for job in trigger::action_jobs(t) {
            edges.push((me, intern((NodeKind::Job, job))));
        }
        for crawler in trigger::action_crawlers(t) {
            edges.push((me, intern((NodeKind::Crawler, crawler))));
        }
        for job in trigger::condition_jobs(t) {
            edges.push((intern((NodeKind::Job, job)), me));
        }
        for crawler in trigger::condition_crawlers(t) {
            edges.push((intern((NodeKind::Crawler, crawler)), me));
        }
    }
    let labels = nodes.labels;
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); labels.len()];
    for (from, to) in edges {
        adjacency[from].push(to);
    }
    // 0 = unvisited, 1 = on the current path, 2 = finished.
    let mut colour = vec![0u8; labels.len()];
    for root in 0..labels.len() {
        if colour[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        colour[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = adjacency[node].get(*next) {
                *next += 1;
                match colour[to] {
                    0 => {
                        colour[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let start = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        let mut path: Vec<String> = stack[start..]
                            .iter()
                            .map(|&(n, _)| label(labels[n]))
                            .collect();
                        path.push(label(labels[to]));
                        return Some(path);
                    }
                    _ => {}
                }
            } else {
                colour[node] = 2;
                stack.pop();
            }
        }
    }
    None
}

/// Dense indices for graph nodes, in order of first mention.
#[derive(Default)]
struct Interner<'a> {
    index: HashMap<(NodeKind, &'a str), usize>,
    labels: Vec<(NodeKind, &'a str)>,
}

impl<'a> Interner<'a> {
    fn intern(&mut self, key: (NodeKind, &'a str)) -> usize {
        *self.index.entry(key).or_insert_with(|| {
            self.labels.push(key);
            self.labels.len() - 1
        })
    }
}

fn label((kind, name): (NodeKind, &str)) -> String {
    let kind = match kind {
        NodeKind::Trigger => "trigger",
        NodeKind::Job => "job",
        NodeKind::Crawler => "crawler",
    };
    format!("{kind} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::{
        Action, Condition, CrawlState, JobRunState, Logical, LogicalOperator, Predicate,
        TriggerType,
    };

    fn start(name: &str, jobs: &[&str]) -> Trigger {
        Trigger {
            name: Some(name.into()),
            workflow_name: Some("wf".into()),
            r#type: Some(TriggerType::OnDemand),
            actions: Some(
                jobs.iter()
                    .map(|j| Action {
                        job_name: Some(j.to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn conditional(name: &str, watched: &[(&str, JobRunState)], jobs: &[&str]) -> Trigger {
        Trigger {
            r#type: Some(TriggerType::Conditional),
            predicate: Some(Predicate {
                logical: Some(Logical::And),
                conditions: Some(
                    watched
                        .iter()
                        .map(|(j, s)| Condition {
                            logical_operator: Some(LogicalOperator::Equals),
                            job_name: Some(j.to_string()),
                            state: Some(s.clone()),
                            ..Default::default()
                        })
                        .collect(),
                ),
            }),
            ..start(name, jobs)
        }
    }

    fn id(kind: NodeKind, name: &str) -> String {
        node_unique_id("wf", kind, name)
    }

    fn edge_set(graph: &WorkflowGraph) -> Vec<(String, String)> {
        graph
            .edges
            .iter()
            .flatten()
            .map(|e| {
                (
                    e.source_id.clone().unwrap_or_default(),
                    e.destination_id.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    fn node_names(graph: &WorkflowGraph) -> Vec<(NodeType, String)> {
        graph
            .nodes
            .iter()
            .flatten()
            .map(|n| {
                (
                    n.r#type.clone().expect("node type"),
                    n.name.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn chain() {
        let graph = workflow_graph(
            "wf",
            &[conditional("T", &[("J1", JobRunState::Succeeded)], &["J2"])],
        );
        assert_eq!(
            node_names(&graph),
            [
                (NodeType::Trigger, "T"),
                (NodeType::Job, "J1"),
                (NodeType::Job, "J2")
            ]
            .map(|(kind, name)| (kind, name.to_string()))
        );
        let mut expected = vec![
            (id(NodeKind::Job, "J1"), id(NodeKind::Trigger, "T")),
            (id(NodeKind::Trigger, "T"), id(NodeKind::Job, "J2")),
        ];
        expected.sort();
        assert_eq!(edge_set(&graph), expected);
        let nodes = graph.nodes.as_ref().expect("nodes");
        let details = nodes[0]
            .trigger_details
            .as_ref()
            .and_then(|d| d.trigger.as_ref());
        assert_eq!(details.and_then(|t| t.name.as_deref()), Some("T"));
        assert!(nodes[1].trigger_details.is_none());
        assert!(nodes.iter().all(|n| {
            n.unique_id
                .as_ref()
                .is_some_and(|u| u.starts_with("wnode_") && u.len() == 70)
        }));
    }

    #[test]
    fn diamond() {
        let triggers = [
            conditional(
                "T3",
                &[
                    ("J2", JobRunState::Succeeded),
                    ("J3", JobRunState::Succeeded),
                ],
                &["J4"],
            ),
            start("T1", &["J1"]),
            conditional("T2", &[("J1", JobRunState::Succeeded)], &["J2", "J3"]),
        ];
        let graph = workflow_graph("wf", &triggers);
        let names: Vec<String> = node_names(&graph).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["T1", "T2", "T3", "J1", "J2", "J3", "J4"]);
        let edges = edge_set(&graph);
        assert_eq!(edges.len(), 7);
        let mut sorted = edges.clone();
        sorted.sort();
        assert_eq!(edges, sorted, "edges sorted");
        for (s, d) in [
            (id(NodeKind::Trigger, "T1"), id(NodeKind::Job, "J1")),
            (id(NodeKind::Job, "J1"), id(NodeKind::Trigger, "T2")),
            (id(NodeKind::Trigger, "T2"), id(NodeKind::Job, "J2")),
            (id(NodeKind::Trigger, "T2"), id(NodeKind::Job, "J3")),
            (id(NodeKind::Job, "J2"), id(NodeKind::Trigger, "T3")),
            (id(NodeKind::Job, "J3"), id(NodeKind::Trigger, "T3")),
            (id(NodeKind::Trigger, "T3"), id(NodeKind::Job, "J4")),
        ] {
            assert!(edges.contains(&(s, d)));
        }
        assert_eq!(find_cycle(&triggers), None);
    }

    #[test]
    fn crawler_nodes_and_failure_watchers() {
        let mut crawl = start("T1", &[]);
        crawl.actions = Some(vec![Action {
            crawler_name: Some("C1".into()),
            ..Default::default()
        }]);
        let mut after_crawl = conditional("T2", &[], &["J1"]);
        after_crawl.predicate = Some(Predicate {
            logical: None,
            conditions: Some(vec![Condition {
                logical_operator: Some(LogicalOperator::Equals),
                crawler_name: Some("C1".into()),
                crawl_state: Some(CrawlState::Succeeded),
                ..Default::default()
            }]),
        });
        // Watching J1 twice (FAILED, TIMEOUT) yields one edge.
        let on_failure = conditional(
            "T3",
            &[("J1", JobRunState::Failed), ("J1", JobRunState::Timeout)],
            &["J2"],
        );
        let graph = workflow_graph("wf", &[crawl, after_crawl, on_failure]);
        let names = node_names(&graph);
        assert_eq!(names.last(), Some(&(NodeType::Crawler, "C1".to_string())));
        let edges = edge_set(&graph);
        assert!(edges.contains(&(id(NodeKind::Trigger, "T1"), id(NodeKind::Crawler, "C1"))));
        assert!(edges.contains(&(id(NodeKind::Crawler, "C1"), id(NodeKind::Trigger, "T2"))));
        assert!(edges.contains(&(id(NodeKind::Job, "J1"), id(NodeKind::Trigger, "T3"))));
        assert_eq!(edges.len(), 5);
    }

    #[test]
    fn ids_are_stable_and_scoped_by_workflow() {
        let triggers = [start("T1", &["J1"])];
        assert_eq!(
            workflow_graph("wf", &triggers),
            workflow_graph("wf", &triggers)
        );
        let other = workflow_graph("other", &triggers);
        assert_ne!(other, workflow_graph("wf", &triggers));
        let empty = workflow_graph("wf", &[]);
        assert_eq!(empty.nodes, Some(vec![]));
        assert_eq!(empty.edges, Some(vec![]));
    }

    #[test]
    fn cycles_are_found_and_named() {
        let triggers = [
            start("T1", &["J1"]),
            conditional("T2", &[("J1", JobRunState::Succeeded)], &["J2"]),
            conditional("T3", &[("J2", JobRunState::Succeeded)], &["J1"]),
        ];
        let cycle = find_cycle(&triggers).expect("cycle");
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 5);
        for part in ["trigger T2", "job J2", "trigger T3", "job J1"] {
            assert!(cycle.contains(&part.to_string()), "{cycle:?}");
        }
        // A long chain is fine and does not overflow the stack.
        let chain: Vec<Trigger> = (0..20_000)
            .map(|i| {
                conditional(
                    &format!("T{i}"),
                    &[(&format!("J{i}"), JobRunState::Succeeded)],
                    &[&format!("J{}", i + 1)],
                )
            })
            .collect();
        assert_eq!(find_cycle(&chain), None);
    }
}
