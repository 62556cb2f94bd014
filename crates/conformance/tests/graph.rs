//! The static workflow graph through aws-sdk-glue (spec §4.2): the diamond
//! (start → J1; J1 → T2 → J2, J3; J2 AND J3 → T3 → J4 — 7 nodes, 7 edges) with
//! GetWorkflow and BatchGetWorkflows `IncludeGraph=true`, plus a crawler node and a
//! trigger watching FAILED; TriggerDetails equal to GetTrigger's answer, edges by UniqueId,
//! UniqueIds `wnode_` + 64 hex, stable across calls and across SIGKILL + restart.
//! The full matrix is in tests/python/test_graph.py.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_glue::types::{
    Action, Condition, CrawlState, CrawlerTargets, JobCommand, JobRunState, Logical,
    LogicalOperator, NodeType, Predicate, S3Target, TriggerType, WorkflowGraph,
};
use weir_conformance::{WeirServer, expect_error, ok};

const ROLE: &str = "arn:aws:iam::123456789012:role/Glue";

type Key = (NodeType, String);

fn key(kind: NodeType, name: &str) -> Key {
    (kind, name.to_string())
}

fn t(name: &str) -> Key {
    key(NodeType::Trigger, name)
}

fn j(name: &str) -> Key {
    key(NodeType::Job, name)
}

fn c(name: &str) -> Key {
    key(NodeType::Crawler, name)
}

fn on_job(job: &str, state: JobRunState) -> Condition {
    Condition::builder()
        .logical_operator(LogicalOperator::Equals)
        .job_name(job)
        .state(state)
        .build()
}

async fn make_jobs(glue: &aws_sdk_glue::Client, names: &[&str]) {
    for name in names {
        ok(glue
            .create_job()
            .name(*name)
            .role(ROLE)
            .command(
                JobCommand::builder()
                    .name("pythonshell")
                    .script_location(format!("s3://b/{name}.py"))
                    .build(),
            )
            .send()
            .await);
    }
}

async fn conditional(
    glue: &aws_sdk_glue::Client,
    name: &str,
    workflow: &str,
    conditions: Vec<Condition>,
    logical: Option<Logical>,
    actions: Vec<Action>,
) {
    ok(glue
        .create_trigger()
        .name(name)
        .workflow_name(workflow)
        .r#type(TriggerType::Conditional)
        .predicate(
            Predicate::builder()
                .set_conditions(Some(conditions))
                .set_logical(logical)
                .build(),
        )
        .set_actions(Some(actions))
        .start_on_creation(true)
        .send()
        .await);
}

fn run(job: &str) -> Action {
    Action::builder().job_name(job).build()
}

async fn build_diamond(glue: &aws_sdk_glue::Client) {
    ok(glue.create_workflow().name("diamond").send().await);
    make_jobs(glue, &["J1", "J2", "J3", "J4"]).await;
    ok(glue
        .create_trigger()
        .name("start")
        .workflow_name("diamond")
        .r#type(TriggerType::OnDemand)
        .actions(run("J1"))
        .send()
        .await);
    conditional(
        glue,
        "T2",
        "diamond",
        vec![on_job("J1", JobRunState::Succeeded)],
        None,
        vec![run("J2"), run("J3")],
    )
    .await;
    conditional(
        glue,
        "T3",
        "diamond",
        vec![
            on_job("J2", JobRunState::Succeeded),
            on_job("J3", JobRunState::Succeeded),
        ],
        Some(Logical::And),
        vec![run("J4")],
    )
    .await;
}

fn diamond_edges() -> BTreeSet<(Key, Key)> {
    [
        (t("start"), j("J1")),
        (j("J1"), t("T2")),
        (t("T2"), j("J2")),
        (t("T2"), j("J3")),
        (j("J2"), t("T3")),
        (j("J3"), t("T3")),
        (t("T3"), j("J4")),
    ]
    .into_iter()
    .collect()
}

fn is_unique_id(id: &str) -> bool {
    id.strip_prefix("wnode_").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// (type, name) → UniqueId, after checking every node's shape.
fn ids(graph: &WorkflowGraph) -> HashMap<Key, String> {
    let mut out = HashMap::new();
    for node in graph.nodes() {
        let kind = node.r#type().expect("Node.Type").clone();
        let name = node.name().expect("Node.Name");
        let id = node.unique_id().expect("Node.UniqueId");
        assert!(is_unique_id(id), "UniqueId {id}");
        match kind {
            NodeType::Trigger => {
                let details = node.trigger_details().and_then(|d| d.trigger());
                assert_eq!(details.and_then(|t| t.name()), Some(name));
            }
            _ => assert!(node.trigger_details().is_none(), "{name}"),
        }
        assert!(node.job_details().is_none() && node.crawler_details().is_none());
        assert!(
            out.insert((kind, name.to_string()), id.to_string())
                .is_none(),
            "node {name} listed twice"
        );
    }
    let distinct: BTreeSet<&String> = out.values().collect();
    assert_eq!(distinct.len(), out.len(), "UniqueIds are distinct");
    out
}

fn named_edges(graph: &WorkflowGraph) -> BTreeSet<(Key, Key)> {
    let by_id: HashMap<String, Key> = ids(graph).into_iter().map(|(k, v)| (v, k)).collect();
    let edges: BTreeSet<(Key, Key)> = graph
        .edges()
        .iter()
        .map(|e| {
            let source = e.source_id().expect("SourceId");
            let destination = e.destination_id().expect("DestinationId");
            (
                by_id.get(source).expect("edge source is a node").clone(),
                by_id
                    .get(destination)
                    .expect("edge destination is a node")
                    .clone(),
            )
        })
        .collect();
    assert_eq!(edges.len(), graph.edges().len(), "no duplicate edges");
    edges
}

async fn graph(glue: &aws_sdk_glue::Client, workflow: &str) -> WorkflowGraph {
    ok(glue
        .get_workflow()
        .name(workflow)
        .include_graph(true)
        .send()
        .await)
    .workflow
    .expect("Workflow")
    .graph
    .expect("Graph with IncludeGraph=true")
}

async fn assert_trigger_details_match(glue: &aws_sdk_glue::Client, graph: &WorkflowGraph) {
    for node in graph.nodes() {
        if node.r#type() == Some(&NodeType::Trigger) {
            let name = node.name().unwrap();
            let got = ok(glue.get_trigger().name(name).send().await).trigger;
            assert_eq!(
                node.trigger_details().and_then(|d| d.trigger()),
                got.as_ref(),
                "TriggerDetails of {name}"
            );
        }
    }
}

#[tokio::test]
async fn diamond_graph_has_seven_edges() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    build_diamond(&glue).await;
    let g = graph(&glue, "diamond").await;
    assert_eq!(g.nodes().len(), 7);
    assert_eq!(g.edges().len(), 7);
    let keys: BTreeSet<Key> = ids(&g).into_keys().collect();
    let expected: BTreeSet<Key> = [
        t("start"),
        t("T2"),
        t("T3"),
        j("J1"),
        j("J2"),
        j("J3"),
        j("J4"),
    ]
    .into_iter()
    .collect();
    assert_eq!(keys, expected);
    assert_eq!(named_edges(&g), diamond_edges());
    assert_trigger_details_match(&glue, &g).await;

    // Without IncludeGraph there is no graph.
    let plain = ok(glue.get_workflow().name("diamond").send().await)
        .workflow
        .unwrap();
    assert!(plain.graph().is_none());

    // BatchGetWorkflows answers the same graph.
    let batch = ok(glue
        .batch_get_workflows()
        .names("diamond")
        .names("ghost")
        .include_graph(true)
        .send()
        .await);
    assert_eq!(batch.missing_workflows(), ["ghost"]);
    assert_eq!(batch.workflows().len(), 1);
    assert_eq!(batch.workflows()[0].graph(), Some(&g));
}

#[tokio::test]
async fn crawler_node_and_failure_watcher() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    ok(glue.create_workflow().name("wf").send().await);
    make_jobs(&glue, &["load", "cleanup"]).await;
    ok(glue
        .create_crawler()
        .name("raw")
        .role(ROLE)
        .targets(
            CrawlerTargets::builder()
                .s3_targets(S3Target::builder().path("s3://b/raw/").build())
                .build(),
        )
        .send()
        .await);
    ok(glue
        .create_trigger()
        .name("start")
        .workflow_name("wf")
        .r#type(TriggerType::OnDemand)
        .actions(Action::builder().crawler_name("raw").build())
        .send()
        .await);
    conditional(
        &glue,
        "after-crawl",
        "wf",
        vec![
            Condition::builder()
                .logical_operator(LogicalOperator::Equals)
                .crawler_name("raw")
                .crawl_state(CrawlState::Succeeded)
                .build(),
        ],
        None,
        vec![run("load")],
    )
    .await;
    conditional(
        &glue,
        "on-failure",
        "wf",
        vec![on_job("load", JobRunState::Failed)],
        None,
        vec![run("cleanup")],
    )
    .await;
    let g = graph(&glue, "wf").await;
    let edges: BTreeSet<(Key, Key)> = [
        (t("start"), c("raw")),
        (c("raw"), t("after-crawl")),
        (t("after-crawl"), j("load")),
        (j("load"), t("on-failure")),
        (t("on-failure"), j("cleanup")),
    ]
    .into_iter()
    .collect();
    assert_eq!(named_edges(&g), edges);
    assert_eq!(g.nodes().len(), 6);
    assert_trigger_details_match(&glue, &g).await;
}

#[tokio::test]
async fn unique_ids_are_stable_across_calls_and_a_kill9_restart() {
    let mut server = WeirServer::start().unwrap();
    let glue = server.client();
    build_diamond(&glue).await;
    let first = graph(&glue, "diamond").await;
    let second = graph(&glue, "diamond").await;
    assert_eq!(first, second);

    server.kill9().unwrap();
    server.restart().unwrap();
    let glue = server.client();
    let after = graph(&glue, "diamond").await;
    assert_eq!(ids(&after), ids(&first));
    assert_eq!(named_edges(&after), diamond_edges());
    assert_eq!(after, first);
    let batch = ok(glue
        .batch_get_workflows()
        .names("diamond")
        .include_graph(true)
        .send()
        .await);
    assert_eq!(batch.workflows()[0].graph(), Some(&first));

    let err = expect_error(
        glue.get_workflow()
            .name("ghost")
            .include_graph(true)
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}
