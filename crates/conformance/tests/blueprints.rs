//! Blueprints through aws-sdk-glue (spec §9, Appendix A.2): registration, parameter
//! checks, layout generation, entity creation with rollback, and running the result.
//!
//! Archives are built with the `zip` crate and "uploaded" by writing them into the
//! server's S3 directory (`<data-dir>/s3/<bucket>/<key>`). The layout scripts use only
//! the shipped `awsglue.blueprint` library (no boto3), so any `python3` runs them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::time::{Duration, Instant};

use aws_sdk_glue::Client;
use aws_sdk_glue::types::{
    Blueprint, BlueprintRun, BlueprintRunState, BlueprintStatus, WorkflowRun, WorkflowRunStatus,
};
use weir_conformance::{WeirServer, expect_error, ok};
use zip::write::SimpleFileOptions;

const DEADLINE: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(50);
const ROLE: &str = "arn:aws:iam::123456789012:role/blueprints";

const SPEC: &str = r#"{
    "WorkflowName": {"type": "String", "description": "Name of the workflow"},
    "Retries": {"type": "Integer", "defaultValue": 1},
    "Verbose": {"type": "Boolean", "defaultValue": false},
    "Mode": {"type": "String", "defaultValue": "fast", "allowedValues": ["fast", "slow"]},
    "Tables": {"type": "String", "collection": true, "defaultValue": []}
}"#;

/// A chain: a → b, a → crawler c, (b SUCCEEDED and c FAILED) → d. Crawler c names no
/// database and its bucket does not exist, so its crawl FAILS, d runs and the workflow
/// completes.
const CHAIN: &str = r#"
from awsglue.blueprint.crawler import Crawler
from awsglue.blueprint.job import Job
from awsglue.blueprint.workflow import Entities, Workflow

def generate_layout(user_params, system_params):
    if user_params["Mode"] == "slow":
        raise RuntimeError("slow mode is not supported")
    command = {"Name": "pythonshell", "ScriptLocation": "s3://scripts/ok.py"}
    a = Job(Name="a", Role="r", Command=command, MaxRetries=user_params["Retries"])
    b = Job(Name="b", Role="r", Command=command, DependsOn={a: "SUCCEEDED"})
    c = Crawler(Name="c", Role="r", Targets={"S3Targets": [{"Path": "s3://data/in"}]},
                DependsOn={a: "SUCCEEDED"})
    d = Job(Name="d", Role="r", Command=command, DependsOn={b: "SUCCEEDED", c: "FAILED"},
            WaitForDependencies="AND")
    return Workflow(Name=user_params["WorkflowName"], Description=system_params["region"],
                    Entities=Entities(Jobs=[a, b, d], Crawlers=[c]))
"#;

fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn chain_archive(layout: &str) -> Vec<u8> {
    let cfg = format!(
        r#"{{"layoutGenerator": "chain.layout.generate_layout", "parameterSpec": {SPEC}}}"#
    );
    archive(&[
        ("chain/blueprint.cfg", cfg.as_bytes()),
        ("chain/layout.py", layout.as_bytes()),
    ])
}

fn put_s3(server: &WeirServer, bucket: &str, key: &str, bytes: &[u8]) -> String {
    let path = server.data_dir().join("s3").join(bucket).join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    format!("s3://{bucket}/{key}")
}

async fn wait_blueprint(glue: &Client, name: &str) -> Blueprint {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let blueprint = ok(glue
            .get_blueprint()
            .name(name)
            .include_blueprint(true)
            .include_parameter_spec(true)
            .send()
            .await)
        .blueprint
        .expect("Blueprint member");
        if !matches!(
            blueprint.status(),
            Some(BlueprintStatus::Creating | BlueprintStatus::Updating)
        ) {
            return blueprint;
        }
        assert!(
            Instant::now() < deadline,
            "{name} still registering: {blueprint:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn register(glue: &Client, name: &str, location: &str) -> Blueprint {
    ok(glue
        .create_blueprint()
        .name(name)
        .blueprint_location(location)
        .send()
        .await);
    wait_blueprint(glue, name).await
}

async fn run(glue: &Client, blueprint: &str, parameters: &str) -> BlueprintRun {
    let run_id = ok(glue
        .start_blueprint_run()
        .blueprint_name(blueprint)
        .parameters(parameters)
        .role_arn(ROLE)
        .send()
        .await)
    .run_id
    .expect("RunId");
    let deadline = Instant::now() + DEADLINE;
    loop {
        let run = ok(glue
            .get_blueprint_run()
            .blueprint_name(blueprint)
            .run_id(&run_id)
            .send()
            .await)
        .blueprint_run
        .expect("BlueprintRun member");
        if matches!(
            run.state(),
            Some(BlueprintRunState::Succeeded | BlueprintRunState::Failed)
        ) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} did not end: {run:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

async fn wait_workflow_run(glue: &Client, workflow: &str, run_id: &str) -> WorkflowRun {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let run = ok(glue
            .get_workflow_run()
            .name(workflow)
            .run_id(run_id)
            .send()
            .await)
        .run
        .expect("Run member");
        if run.status() != Some(&WorkflowRunStatus::Running) {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "workflow run did not end: {run:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn a_blueprint_run_lays_out_a_workflow_that_completes() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let location = put_s3(&server, "blueprints", "chain.zip", &chain_archive(CHAIN));
    let blueprint = register(&glue, "chain", &location).await;
    assert_eq!(
        blueprint.status(),
        Some(&BlueprintStatus::Active),
        "{blueprint:?}"
    );
    let spec: serde_json::Value =
        serde_json::from_str(blueprint.parameter_spec().expect("ParameterSpec")).unwrap();
    assert_eq!(
        spec["WorkflowName"],
        serde_json::json!({"type": "String", "collection": false,
            "description": "Name of the workflow", "defaultValue": null, "allowedValues": null})
    );

    let done = run(&glue, "chain", r#"{"WorkflowName": "flow", "Retries": 3}"#).await;
    assert_eq!(
        done.state(),
        Some(&BlueprintRunState::Succeeded),
        "{done:?}"
    );
    assert_eq!(done.workflow_name(), Some("flow"));
    assert!(done.completed_on().is_some());

    let workflow = ok(glue
        .get_workflow()
        .name("flow")
        .include_graph(true)
        .send()
        .await)
    .workflow
    .expect("Workflow");
    assert_eq!(workflow.description(), Some("us-east-1"));
    let details = workflow.blueprint_details().expect("BlueprintDetails");
    assert_eq!(details.blueprint_name(), Some("chain"));
    assert_eq!(details.run_id(), done.run_id());

    let jobs = ok(glue.list_jobs().send().await)
        .job_names
        .unwrap_or_default();
    let suffix = jobs[0].rsplit('_').next().unwrap().to_string();
    assert!(
        suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
        "{jobs:?}"
    );
    let named = |n: &str| format!("{n}_{suffix}");
    let expected: BTreeSet<String> = ["a", "b", "d"].iter().map(|n| named(n)).collect();
    assert_eq!(jobs.iter().cloned().collect::<BTreeSet<_>>(), expected);
    let job = ok(glue.get_job().job_name(named("a")).send().await)
        .job
        .unwrap();
    assert_eq!(job.max_retries(), 3);

    let graph = workflow.graph().expect("Graph");
    let names: BTreeMap<&str, &str> = graph
        .nodes()
        .iter()
        .map(|n| (n.unique_id().unwrap(), n.name().unwrap()))
        .collect();
    let edges: BTreeSet<(String, String)> = graph
        .edges()
        .iter()
        .map(|e| {
            (
                names[e.source_id().unwrap()].to_string(),
                names[e.destination_id().unwrap()].to_string(),
            )
        })
        .collect();
    let trigger = |n: &str| format!("flow_{}_trigger", named(n));
    let want: BTreeSet<(String, String)> = [
        ("flow_starting_trigger".to_string(), named("a")),
        (named("a"), trigger("b")),
        (trigger("b"), named("b")),
        (named("a"), trigger("c")),
        (trigger("c"), named("c")),
        (named("b"), trigger("d")),
        (named("c"), trigger("d")),
        (trigger("d"), named("d")),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want);
    assert_eq!(graph.nodes().len(), 8);

    put_s3(&server, "scripts", "ok.py", b"print('ok')\n");
    let run_id = ok(glue.start_workflow_run().name("flow").send().await)
        .run_id
        .unwrap();
    let finished = wait_workflow_run(&glue, "flow", &run_id).await;
    assert_eq!(
        finished.status(),
        Some(&WorkflowRunStatus::Completed),
        "{finished:?}"
    );
    let stats = finished.statistics().expect("Statistics");
    assert_eq!(
        (
            stats.total_actions(),
            stats.succeeded_actions(),
            stats.failed_actions()
        ),
        (4, 3, 1)
    );
}

#[tokio::test]
async fn bad_parameters_are_invalid_input() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let location = put_s3(&server, "blueprints", "chain.zip", &chain_archive(CHAIN));
    register(&glue, "chain", &location).await;
    for (parameters, named) in [
        (r#"{"WorkflowName": "w", "Retries": "x"}"#, "Retries"),
        (r#"{"Retries": 2}"#, "WorkflowName"),
        (r#"{"WorkflowName": "w", "Mode": "turbo"}"#, "Mode"),
        (r#"{"WorkflowName": "w", "Tables": "t"}"#, "Tables"),
        (r#"["WorkflowName"]"#, "JSON object"),
    ] {
        let err = expect_error(
            glue.start_blueprint_run()
                .blueprint_name("chain")
                .parameters(parameters)
                .role_arn(ROLE)
                .send()
                .await,
            "InvalidInputException",
        );
        let message = err.meta().message().unwrap_or_default().to_string();
        assert!(message.contains(named), "{parameters}: {message}");
    }
    let err = expect_error(
        glue.start_blueprint_run()
            .blueprint_name("missing")
            .role_arn(ROLE)
            .send()
            .await,
        "EntityNotFoundException",
    );
    assert!(err.is_entity_not_found_exception());
}

#[tokio::test]
async fn failures_roll_back_what_the_run_created() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let location = put_s3(&server, "blueprints", "chain.zip", &chain_archive(CHAIN));
    register(&glue, "chain", &location).await;

    let failed = run(&glue, "chain", r#"{"WorkflowName": "w", "Mode": "slow"}"#).await;
    assert_eq!(failed.state(), Some(&BlueprintRunState::Failed));
    let message = failed.error_message().unwrap_or_default();
    assert!(
        message.contains("RuntimeError: slow mode is not supported"),
        "{message}"
    );

    // A trigger named like the generated starting trigger already exists: the run
    // creates the workflow, crawler, jobs and conditional triggers, then fails.
    ok(glue.create_workflow().name("other").send().await);
    ok(glue
        .create_job()
        .name("pre")
        .role("r")
        .command(
            aws_sdk_glue::types::JobCommand::builder()
                .name("pythonshell")
                .script_location("s3://b/p.py")
                .build(),
        )
        .send()
        .await);
    ok(glue
        .create_trigger()
        .name("w_starting_trigger")
        .workflow_name("other")
        .r#type(aws_sdk_glue::types::TriggerType::OnDemand)
        .actions(
            aws_sdk_glue::types::Action::builder()
                .job_name("pre")
                .build(),
        )
        .send()
        .await);
    let failed = run(&glue, "chain", r#"{"WorkflowName": "w"}"#).await;
    assert_eq!(
        failed.state(),
        Some(&BlueprintRunState::Failed),
        "{failed:?}"
    );
    let message = failed.error_message().unwrap_or_default();
    assert!(
        message.contains("w_starting_trigger") && message.contains("AlreadyExists"),
        "{message}"
    );
    assert_eq!(failed.rollback_error_message(), None);
    expect_error(
        glue.get_workflow().name("w").send().await,
        "EntityNotFoundException",
    );
    let jobs = ok(glue.list_jobs().send().await)
        .job_names
        .unwrap_or_default();
    assert_eq!(jobs, ["pre"]);
    let crawlers = ok(glue.list_crawlers().send().await)
        .crawler_names
        .unwrap_or_default();
    assert!(crawlers.is_empty(), "{crawlers:?}");
    let trigger = ok(glue.get_trigger().name("w_starting_trigger").send().await)
        .trigger
        .unwrap();
    assert_eq!(
        trigger.workflow_name(),
        Some("other"),
        "the namesake is untouched"
    );
}

#[tokio::test]
async fn a_failed_update_keeps_the_last_active_definition() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let good = put_s3(&server, "blueprints", "good.zip", &chain_archive(CHAIN));
    let first = register(&glue, "bp", &good).await;
    let broken_cfg: &[u8] =
        br#"{"layoutGenerator": "chain.nowhere.generate_layout", "parameterSpec": {}}"#;
    let broken = archive(&[("chain/blueprint.cfg", broken_cfg)]);
    let broken = put_s3(&server, "blueprints", "broken.zip", &broken);
    ok(glue
        .update_blueprint()
        .name("bp")
        .blueprint_location(&broken)
        .send()
        .await);
    let failed = wait_blueprint(&glue, "bp").await;
    assert_eq!(failed.status(), Some(&BlueprintStatus::Failed));
    assert!(
        failed
            .error_message()
            .unwrap_or_default()
            .contains("chain/nowhere.py")
    );
    let last = failed
        .last_active_definition()
        .expect("LastActiveDefinition");
    assert_eq!(last.blueprint_location(), Some(good.as_str()));
    assert_eq!(last.parameter_spec(), first.parameter_spec());

    let done = run(&glue, "bp", r#"{"WorkflowName": "still-works"}"#).await;
    assert_eq!(
        done.state(),
        Some(&BlueprintRunState::Succeeded),
        "{done:?}"
    );
    ok(glue.get_workflow().name("still-works").send().await);
}

#[tokio::test]
async fn hostile_archives_are_rejected() {
    let server = WeirServer::start().unwrap();
    let glue = server.client();
    let cfg: &[u8] = br#"{"layoutGenerator": "bp.layout.generate_layout", "parameterSpec": {}}"#;
    let zeros = vec![0u8; 32 * 1024 * 1024];
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "traversal",
            archive(&[
                ("bp/blueprint.cfg", cfg),
                ("bp/layout.py", b"def generate_layout(u, s): pass\n"),
                ("bp/../../../escaped.py", b"print('out')"),
            ]),
            "outside the extraction folder",
        ),
        (
            "bomb",
            archive(&[("bp/blueprint.cfg", cfg), ("bp/bomb.bin", &zeros)]),
            "5 MB",
        ),
        (
            "junk",
            b"PK but not really a zip".to_vec(),
            "not a valid ZIP",
        ),
    ];
    for (name, bytes, expected) in cases {
        let location = put_s3(&server, "hostile", &format!("{name}.zip"), &bytes);
        let blueprint = register(&glue, name, &location).await;
        assert_eq!(blueprint.status(), Some(&BlueprintStatus::Failed), "{name}");
        let message = blueprint.error_message().unwrap_or_default();
        assert!(message.contains(expected), "{name}: {message}");
        let err = expect_error(
            glue.start_blueprint_run()
                .blueprint_name(name)
                .role_arn(ROLE)
                .send()
                .await,
            "IllegalBlueprintStateException",
        );
        assert!(err.is_illegal_blueprint_state_exception());
    }
    let parent = server.data_dir().parent().unwrap().join("escaped.py");
    assert!(!parent.exists() && !server.data_dir().join("escaped.py").exists());
}
