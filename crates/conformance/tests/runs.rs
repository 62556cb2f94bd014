//! Workflow runs that really run, through aws-sdk-glue (spec §4.3–4.6, §5.3, §6.2–6.3):
//! a diamond with its run graph, an ANY join, run properties passed between job
//! scripts, argument merging, retries, StopWorkflowRun and ResumeWorkflowRun.
//!
//! Job scripts are real Python processes; they leave evidence in files that the tests
//! read after polling the run to its end (bounded deadlines, no timing assertions).
//! Scripts that call the API use boto3, so the server runs them with an interpreter
//! that has it: `$WEIR_TEST_PYTHON`, else the repository's `.venv/bin/python`
//! (created by `./scripts/test.sh`), else `python3`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_glue::Client;
use aws_sdk_glue::types::{
    Action, Condition, JobCommand, JobRun, JobRunState, Logical, LogicalOperator, Node, NodeType,
    Predicate, TriggerType, WorkflowRun, WorkflowRunStatus,
};
use weir_conformance::{WeirServer, expect_error, ok};

/// Bound on waiting for a run to finish.
const RUN_DEADLINE: Duration = Duration::from_secs(90);
const POLL: Duration = Duration::from_millis(50);

const PRELUDE: &str = r#"import json, os, sys, time
ARGS = dict(zip(sys.argv[1::2], sys.argv[2::2]))

def append(path, line):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)

def write_pid(path):
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)

def glue():
    import boto3
    return boto3.client("glue")
"#;

/// The interpreter the server runs job scripts with.
fn python() -> String {
    if let Ok(python) = std::env::var("WEIR_TEST_PYTHON") {
        return python;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if venv.is_file() {
        return venv.to_string_lossy().into_owned();
    }
    "python3".to_string()
}

/// Fails clearly when the interpreter cannot import boto3 (needed by property scripts).
fn require_boto3(python: &str) {
    let status = std::process::Command::new(python)
        .args(["-c", "import boto3"])
        .status()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        status.success(),
        "{python} cannot import boto3: run ./scripts/test.sh once (it creates .venv) or set \
         WEIR_TEST_PYTHON to an interpreter with boto3"
    );
}

/// A server that runs pythonshell jobs with [`python`],
/// plus a directory for scripts and the files they write.
struct Fixture {
    // Kept alive (and killed on drop) for the whole test.
    _server: WeirServer,
    glue: Client,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn start() -> Self {
        let python = python();
        let server = WeirServer::start_with_args(&["--python", &python]).unwrap();
        let glue = server.client();
        let dir = tempfile::Builder::new()
            .prefix("weir-runs-")
            .tempdir()
            .unwrap();
        Self {
            _server: server,
            glue,
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Path of a side file as a Python string literal.
    fn py_path(&self, name: &str) -> String {
        format!("{:?}", self.path(name).to_string_lossy())
    }

    fn lines(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(name))
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Writes `<name>.py` (prelude + body) and returns its path.
    fn script(&self, name: &str, body: &str) -> String {
        let path = self.path(&format!("{name}.py"));
        std::fs::write(&path, format!("{PRELUDE}\n{body}\n")).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// A script appending `<job> <workflow run id> <job run id>` to `<name>.log`.
    fn append_script(&self, name: &str) -> String {
        self.script(
            name,
            &format!(
                "append({}, ARGS['--JOB_NAME'] + ' ' + ARGS.get('--WORKFLOW_RUN_ID', '-') + ' ' + ARGS['--JOB_RUN_ID'])",
                self.py_path(&format!("{name}.log"))
            ),
        )
    }

    async fn job(&self, name: &str, script: &str) {
        ok(self
            .glue
            .create_job()
            .name(name)
            .role("local")
            .command(
                JobCommand::builder()
                    .name("pythonshell")
                    .script_location(script)
                    .python_version("3.9")
                    .build(),
            )
            .send()
            .await);
    }

    async fn start_trigger(&self, name: &str, workflow: &str, jobs: &[&str]) {
        let mut request = self
            .glue
            .create_trigger()
            .name(name)
            .workflow_name(workflow)
            .r#type(TriggerType::OnDemand);
        for job in jobs {
            request = request.actions(Action::builder().job_name(*job).build());
        }
        ok(request.send().await);
    }

    async fn conditional(
        &self,
        name: &str,
        workflow: &str,
        logical: Logical,
        watch: &[(&str, JobRunState)],
        jobs: &[&str],
    ) {
        let mut predicate = Predicate::builder().logical(logical);
        for (job, state) in watch {
            predicate = predicate.conditions(
                Condition::builder()
                    .logical_operator(LogicalOperator::Equals)
                    .job_name(*job)
                    .state(state.clone())
                    .build(),
            );
        }
        let mut request = self
            .glue
            .create_trigger()
            .name(name)
            .workflow_name(workflow)
            .r#type(TriggerType::Conditional)
            .start_on_creation(true)
            .predicate(predicate.build());
        for job in jobs {
            request = request.actions(Action::builder().job_name(*job).build());
        }
        ok(request.send().await);
    }

    /// Polls GetWorkflowRun (with graph) until the run is no longer RUNNING/STOPPING.
    async fn wait_run(&self, workflow: &str, run_id: &str) -> WorkflowRun {
        let deadline = Instant::now() + RUN_DEADLINE;
        loop {
            let run = ok(self
                .glue
                .get_workflow_run()
                .name(workflow)
                .run_id(run_id)
                .include_graph(true)
                .send()
                .await)
            .run
            .expect("Run member");
            if !matches!(
                run.status(),
                Some(WorkflowRunStatus::Running | WorkflowRunStatus::Stopping)
            ) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} of {workflow} still {:?} after {RUN_DEADLINE:?}: {run:?}",
                run.status()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls until the side file `name` exists and is non-empty; returns its text.
    async fn wait_file(&self, name: &str) -> String {
        let deadline = Instant::now() + RUN_DEADLINE;
        loop {
            if let Ok(text) = std::fs::read_to_string(self.path(name))
                && !text.is_empty()
            {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no file {name} after {RUN_DEADLINE:?}"
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

fn node<'a>(run: &'a WorkflowRun, kind: NodeType, name: &str) -> &'a Node {
    run.graph()
        .expect("Graph")
        .nodes()
        .iter()
        .find(|n| n.r#type() == Some(&kind) && n.name() == Some(name))
        .unwrap_or_else(|| panic!("no {kind:?} node {name} in {:?}", run.graph()))
}

fn node_runs<'a>(run: &'a WorkflowRun, job: &str) -> &'a [JobRun] {
    node(run, NodeType::Job, job)
        .job_details()
        .map(|d| d.job_runs())
        .unwrap_or_default()
}

fn node_id(run: &WorkflowRun, kind: NodeType, name: &str) -> String {
    node(run, kind, name)
        .unique_id()
        .expect("UniqueId")
        .to_string()
}

/// (Total, Succeeded, Failed, Stopped, Timeout, Errored, Running, Waiting)
fn stats(run: &WorkflowRun) -> [i32; 8] {
    let s = run.statistics().expect("Statistics");
    [
        s.total_actions(),
        s.succeeded_actions(),
        s.failed_actions(),
        s.stopped_actions(),
        s.timeout_actions(),
        s.errored_actions(),
        s.running_actions(),
        s.waiting_actions(),
    ]
}

fn process_gone(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return true;
    }
    // A zombie (killed, not yet reaped by whichever init adopted it) runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_string))
                .is_some_and(|state| state == "Z" || state == "X")
        })
        .unwrap_or(true)
}

#[tokio::test]
async fn diamond_runs_every_job_once_and_renders_the_run_graph() {
    let f = Fixture::start();
    for job in ["J1", "J2", "J3", "J4"] {
        f.job(job, &f.append_script(job)).await;
    }
    ok(f.glue.create_workflow().name("diamond").send().await);
    f.start_trigger("d-start", "diamond", &["J1"]).await;
    f.conditional(
        "d-fan",
        "diamond",
        Logical::And,
        &[("J1", JobRunState::Succeeded)],
        &["J2", "J3"],
    )
    .await;
    f.conditional(
        "d-join",
        "diamond",
        Logical::And,
        &[
            ("J2", JobRunState::Succeeded),
            ("J3", JobRunState::Succeeded),
        ],
        &["J4"],
    )
    .await;

    let run_id = ok(f.glue.start_workflow_run().name("diamond").send().await)
        .run_id
        .expect("RunId");
    assert!(run_id.starts_with("wr_"), "{run_id}");
    let run = f.wait_run("diamond", &run_id).await;

    assert_eq!(run.status(), Some(&WorkflowRunStatus::Completed), "{run:?}");
    assert_eq!(run.workflow_run_id(), Some(run_id.as_str()));
    assert_eq!(
        stats(&run),
        [4, 4, 0, 0, 0, 0, 0, 0],
        "{:?}",
        run.statistics()
    );

    let firing = [
        ("J1", "d-start"),
        ("J2", "d-fan"),
        ("J3", "d-fan"),
        ("J4", "d-join"),
    ];
    let mut ids = HashMap::new();
    for (job, trigger) in firing {
        let runs = node_runs(&run, job);
        assert_eq!(runs.len(), 1, "{job}: {runs:?}");
        let jr = &runs[0];
        assert_eq!(jr.job_run_state(), Some(&JobRunState::Succeeded), "{jr:?}");
        assert_eq!(jr.trigger_name(), Some(trigger), "{jr:?}");
        assert_eq!(jr.job_name(), Some(job));
        assert_eq!(jr.attempt(), 0);
        let id = jr.id().expect("Id").to_string();
        assert_eq!(
            f.lines(&format!("{job}.log")),
            vec![format!("{job} {run_id} {id}")]
        );
        ids.insert(job, id);
    }
    let predecessors: BTreeSet<(String, String)> = node_runs(&run, "J4")[0]
        .predecessor_runs()
        .iter()
        .map(|p| {
            (
                p.job_name().unwrap_or_default().to_string(),
                p.run_id().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        predecessors,
        BTreeSet::from([
            ("J2".to_string(), ids["J2"].clone()),
            ("J3".to_string(), ids["J3"].clone()),
        ])
    );

    // The run graph has the static graph's nodes and edges.
    let workflow = ok(f
        .glue
        .get_workflow()
        .name("diamond")
        .include_graph(true)
        .send()
        .await)
    .workflow
    .expect("Workflow");
    let static_graph = workflow.graph().expect("static Graph");
    let edge_set = |edges: &[aws_sdk_glue::types::Edge]| -> BTreeSet<(String, String)> {
        edges
            .iter()
            .map(|e| {
                (
                    e.source_id().unwrap_or_default().to_string(),
                    e.destination_id().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let run_graph = run.graph().expect("run Graph");
    assert_eq!(edge_set(run_graph.edges()), edge_set(static_graph.edges()));
    let names: HashMap<&str, &str> = static_graph
        .nodes()
        .iter()
        .map(|n| {
            (
                n.unique_id().unwrap_or_default(),
                n.name().unwrap_or_default(),
            )
        })
        .collect();
    let named: BTreeSet<(&str, &str)> = static_graph
        .edges()
        .iter()
        .map(|e| {
            (
                names[e.source_id().unwrap_or_default()],
                names[e.destination_id().unwrap_or_default()],
            )
        })
        .collect();
    assert_eq!(
        named,
        BTreeSet::from([
            ("d-start", "J1"),
            ("J1", "d-fan"),
            ("d-fan", "J2"),
            ("d-fan", "J3"),
            ("J2", "d-join"),
            ("J3", "d-join"),
            ("d-join", "J4"),
        ])
    );

    // GetJobRun agrees; Workflow.LastRun shows the run.
    for (job, trigger) in firing {
        let jr = ok(f
            .glue
            .get_job_run()
            .job_name(job)
            .run_id(&ids[job])
            .send()
            .await)
        .job_run
        .expect("JobRun");
        assert_eq!(jr.job_run_state(), Some(&JobRunState::Succeeded));
        assert_eq!(jr.trigger_name(), Some(trigger));
    }
    let last = workflow.last_run().expect("LastRun");
    assert_eq!(last.workflow_run_id(), Some(run_id.as_str()));
    assert_eq!(last.status(), Some(&WorkflowRunStatus::Completed));
}

#[tokio::test]
async fn any_join_fires_on_the_first_finisher_only() {
    let f = Fixture::start();
    f.job("a1", &f.append_script("a1")).await;
    f.job("fast", &f.append_script("fast")).await;
    // "slow" ends only after a4 ran, so an ANY join must not wait for it.
    let slow = f.script(
        "slow",
        &format!(
            "deadline = time.monotonic() + 120\n\
             while not os.path.exists({}):\n    \
                 assert time.monotonic() < deadline\n    \
                 time.sleep(0.05)\n",
            f.py_path("a4.log")
        ),
    );
    f.job("slow", &slow).await;
    f.job("a4", &f.append_script("a4")).await;
    ok(f.glue.create_workflow().name("any").send().await);
    f.start_trigger("any-start", "any", &["a1"]).await;
    f.conditional(
        "any-fan",
        "any",
        Logical::And,
        &[("a1", JobRunState::Succeeded)],
        &["fast", "slow"],
    )
    .await;
    f.conditional(
        "any-join",
        "any",
        Logical::Any,
        &[
            ("fast", JobRunState::Succeeded),
            ("slow", JobRunState::Succeeded),
        ],
        &["a4"],
    )
    .await;

    let run_id = ok(f.glue.start_workflow_run().name("any").send().await)
        .run_id
        .unwrap();
    let run = f.wait_run("any", &run_id).await;
    assert_eq!(run.status(), Some(&WorkflowRunStatus::Completed));
    assert_eq!(stats(&run), [4, 4, 0, 0, 0, 0, 0, 0]);
    let a4 = node_runs(&run, "a4");
    assert_eq!(a4.len(), 1, "{a4:?}");
    let predecessors: Vec<_> = a4[0]
        .predecessor_runs()
        .iter()
        .map(|p| p.job_name().unwrap_or_default())
        .collect();
    assert_eq!(predecessors, vec!["fast"]);
    assert_eq!(f.lines("a4.log").len(), 1);
}

#[tokio::test]
async fn run_properties_flow_between_job_scripts() {
    let f = Fixture::start();
    require_boto3(&python());
    let producer = f.script(
        "producer",
        &format!(
            r#"
name, run = ARGS["--WORKFLOW_NAME"], ARGS["--WORKFLOW_RUN_ID"]
client = glue()
seen = client.get_workflow_run_properties(Name=name, RunId=run)["RunProperties"]
with open({}, "w") as f:
    json.dump(seen, f)
client.put_workflow_run_properties(Name=name, RunId=run, RunProperties={{"from_producer": "hello " + run}})
"#,
            f.py_path("start-props.json")
        ),
    );
    let consumer = f.script(
        "consumer",
        &format!(
            r#"
props = glue().get_workflow_run_properties(Name=ARGS["--WORKFLOW_NAME"], RunId=ARGS["--WORKFLOW_RUN_ID"])["RunProperties"]
with open({}, "w") as f:
    f.write(props["from_producer"])
"#,
            f.py_path("consumer.out")
        ),
    );
    f.job("producer", &producer).await;
    f.job("consumer", &consumer).await;
    ok(f.glue
        .create_workflow()
        .name("props")
        .default_run_properties("a", "1")
        .default_run_properties("b", "1")
        .send()
        .await);
    f.start_trigger("props-start", "props", &["producer"]).await;
    f.conditional(
        "props-next",
        "props",
        Logical::And,
        &[("producer", JobRunState::Succeeded)],
        &["consumer"],
    )
    .await;

    let run_id = ok(f
        .glue
        .start_workflow_run()
        .name("props")
        .run_properties("b", "2")
        .send()
        .await)
    .run_id
    .unwrap();
    let run = f.wait_run("props", &run_id).await;
    assert_eq!(run.status(), Some(&WorkflowRunStatus::Completed), "{run:?}");
    assert_eq!(stats(&run), [2, 2, 0, 0, 0, 0, 0, 0], "{run:?}");

    // Request properties win over the defaults at start.
    let start: HashMap<String, String> =
        serde_json::from_str(&f.wait_file("start-props.json").await).unwrap();
    assert_eq!(
        start,
        HashMap::from([("a".into(), "1".into()), ("b".into(), "2".into())])
    );
    assert_eq!(f.wait_file("consumer.out").await, format!("hello {run_id}"));

    let mut expected: HashMap<String, String> = HashMap::from([
        ("a".into(), "1".into()),
        ("b".into(), "2".into()),
        ("from_producer".into(), format!("hello {run_id}")),
    ]);
    let props = ok(f
        .glue
        .get_workflow_run_properties()
        .name("props")
        .run_id(&run_id)
        .send()
        .await)
    .run_properties
    .unwrap_or_default();
    assert_eq!(props, expected);
    assert_eq!(run.workflow_run_properties(), Some(&expected));

    // PutWorkflowRunProperties upserts.
    ok(f.glue
        .put_workflow_run_properties()
        .name("props")
        .run_id(&run_id)
        .run_properties("b", "3")
        .run_properties("c", "4")
        .send()
        .await);
    expected.insert("b".into(), "3".into());
    expected.insert("c".into(), "4".into());
    let props = ok(f
        .glue
        .get_workflow_run_properties()
        .name("props")
        .run_id(&run_id)
        .send()
        .await)
    .run_properties
    .unwrap_or_default();
    assert_eq!(props, expected);

    let missing = f
        .glue
        .get_workflow_run_properties()
        .name("props")
        .run_id(format!("wr_{}", "0".repeat(64)))
        .send()
        .await;
    expect_error(missing, "EntityNotFoundException");
}

#[tokio::test]
async fn arguments_are_merged_and_passed_to_the_script() {
    let f = Fixture::start();
    let script = f.script(
        "argdump",
        &format!(
            "with open({}, 'w') as f:\n    json.dump(sys.argv[1:], f)\n",
            f.py_path("argv.json")
        ),
    );
    ok(f.glue
        .create_job()
        .name("argdump")
        .role("local")
        .command(
            JobCommand::builder()
                .name("pythonshell")
                .script_location(&script)
                .build(),
        )
        .default_arguments("--a", "job")
        .default_arguments("--b", "job")
        .default_arguments("--locked", "job-default")
        .non_overridable_arguments("--locked", "fixed")
        .send()
        .await);
    ok(f.glue.create_workflow().name("args").send().await);
    ok(f.glue
        .create_trigger()
        .name("args-start")
        .workflow_name("args")
        .r#type(TriggerType::OnDemand)
        .actions(
            Action::builder()
                .job_name("argdump")
                .arguments("--b", "action")
                .arguments("--c", "action")
                .arguments("--locked", "action")
                .build(),
        )
        .send()
        .await);
    let run_id = ok(f.glue.start_workflow_run().name("args").send().await)
        .run_id
        .unwrap();
    let run = f.wait_run("args", &run_id).await;
    let jr = &node_runs(&run, "argdump")[0];
    assert_eq!(jr.job_run_state(), Some(&JobRunState::Succeeded), "{jr:?}");

    let argv: Vec<String> = serde_json::from_str(&f.wait_file("argv.json").await).unwrap();
    let pairs: HashMap<&str, &str> = argv
        .chunks(2)
        .map(|p| (p[0].as_str(), p.get(1).map_or("", String::as_str)))
        .collect();
    assert_eq!(argv.len(), 2 * pairs.len(), "{argv:?}");
    let job_run_id = jr.id().unwrap();
    for (key, value) in [
        ("--a", "job"),
        ("--b", "action"),
        ("--c", "action"),
        ("--locked", "fixed"),
        ("--JOB_NAME", "argdump"),
        ("--JOB_RUN_ID", job_run_id),
        ("--WORKFLOW_NAME", "args"),
        ("--WORKFLOW_RUN_ID", run_id.as_str()),
    ] {
        assert_eq!(pairs.get(key), Some(&value), "{key} in {argv:?}");
    }
    let got = ok(f
        .glue
        .get_job_run()
        .job_name("argdump")
        .run_id(job_run_id)
        .send()
        .await)
    .job_run
    .unwrap();
    // The job run echoes what its caller (the trigger action) passed, not the merged
    // set the process got nor the arguments Weir adds.
    let arguments = got.arguments().expect("Arguments");
    let mut echoed: Vec<(&str, &str)> = arguments
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    echoed.sort();
    assert_eq!(
        echoed,
        [("--b", "action"), ("--c", "action"), ("--locked", "action")]
    );
}

#[tokio::test]
async fn retries_chain_attempts_until_max_retries() {
    let f = Fixture::start();
    let script = f.script("flaky", "raise RuntimeError('boom-from-the-script')");
    ok(f.glue
        .create_job()
        .name("flaky")
        .role("local")
        .command(
            JobCommand::builder()
                .name("pythonshell")
                .script_location(&script)
                .build(),
        )
        .max_retries(2)
        .send()
        .await);
    ok(f.glue.create_workflow().name("retries").send().await);
    f.start_trigger("retries-start", "retries", &["flaky"])
        .await;
    let run_id = ok(f.glue.start_workflow_run().name("retries").send().await)
        .run_id
        .unwrap();
    let run = f.wait_run("retries", &run_id).await;
    assert_eq!(run.status(), Some(&WorkflowRunStatus::Completed));
    assert_eq!(
        stats(&run),
        [1, 0, 1, 0, 0, 0, 0, 0],
        "{:?}",
        run.statistics()
    );

    let mut runs = ok(f.glue.get_job_runs().job_name("flaky").send().await)
        .job_runs
        .unwrap_or_default();
    runs.sort_by_key(|r| r.attempt());
    assert_eq!(
        runs.iter().map(|r| r.attempt()).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(runs[0].previous_run_id(), None);
    for pair in runs.windows(2) {
        assert_eq!(pair[1].previous_run_id(), pair[0].id(), "{pair:?}");
    }
    for r in &runs {
        assert_eq!(r.job_run_state(), Some(&JobRunState::Failed));
        assert!(
            r.error_message()
                .is_some_and(|m| m.contains("boom-from-the-script")),
            "{r:?}"
        );
    }
    let mut graph_runs: Vec<_> = node_runs(&run, "flaky")
        .iter()
        .map(|r| (r.attempt(), r.id().unwrap_or_default().to_string()))
        .collect();
    graph_runs.sort();
    assert_eq!(
        graph_runs,
        runs.iter()
            .map(|r| (r.attempt(), r.id().unwrap().to_string()))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn stop_then_resume_a_chain() {
    let f = Fixture::start();
    // s1 → s2 → s3; s2 blocks until released (so the run can be stopped while it runs)
    // and fails unless the marker exists.
    f.job("s1", &f.append_script("s1")).await;
    let s2 = f.script(
        "s2",
        &format!(
            "append({log}, ARGS['--WORKFLOW_RUN_ID'])\n\
             write_pid({pid})\n\
             if os.path.exists({hold}):\n    time.sleep(60)\n\
             if not os.path.exists({marker}):\n    raise RuntimeError('marker missing')\n",
            log = f.py_path("s2.log"),
            pid = f.py_path("s2.pid"),
            hold = f.py_path("hold"),
            marker = f.py_path("marker"),
        ),
    );
    f.job("s2", &s2).await;
    f.job("s3", &f.append_script("s3")).await;
    ok(f.glue.create_workflow().name("chain").send().await);
    f.start_trigger("chain-start", "chain", &["s1"]).await;
    f.conditional(
        "chain-2",
        "chain",
        Logical::And,
        &[("s1", JobRunState::Succeeded)],
        &["s2"],
    )
    .await;
    f.conditional(
        "chain-3",
        "chain",
        Logical::And,
        &[("s2", JobRunState::Succeeded)],
        &["s3"],
    )
    .await;

    // 1. Stop while s2 sleeps.
    std::fs::write(f.path("hold"), "").unwrap();
    let stopped_id = ok(f.glue.start_workflow_run().name("chain").send().await)
        .run_id
        .unwrap();
    let pid: i32 = f.wait_file("s2.pid").await.trim().parse().unwrap();
    ok(f.glue
        .stop_workflow_run()
        .name("chain")
        .run_id(&stopped_id)
        .send()
        .await);
    let stopped = f.wait_run("chain", &stopped_id).await;
    assert_eq!(
        stopped.status(),
        Some(&WorkflowRunStatus::Stopped),
        "{stopped:?}"
    );
    assert_eq!(stats(&stopped), [3, 1, 0, 1, 0, 0, 0, 0]);
    assert_eq!(
        node_runs(&stopped, "s2")[0].job_run_state(),
        Some(&JobRunState::Stopped)
    );
    assert!(node_runs(&stopped, "s3").is_empty());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !process_gone(pid) {
        assert!(
            Instant::now() < deadline,
            "s2's process {pid} survived the stop"
        );
        tokio::time::sleep(POLL).await;
    }
    let again = f
        .glue
        .stop_workflow_run()
        .name("chain")
        .run_id(&stopped_id)
        .send()
        .await;
    expect_error(again, "IllegalWorkflowStateException");
    let unknown = f
        .glue
        .stop_workflow_run()
        .name("chain")
        .run_id(format!("wr_{}", "0".repeat(64)))
        .send()
        .await;
    expect_error(unknown, "EntityNotFoundException");

    // 2. A run where s2 fails; resume it once fixed.
    std::fs::remove_file(f.path("hold")).unwrap();
    let first_id = ok(f.glue.start_workflow_run().name("chain").send().await)
        .run_id
        .unwrap();
    let first = f.wait_run("chain", &first_id).await;
    assert_eq!(first.status(), Some(&WorkflowRunStatus::Completed));
    assert_eq!(stats(&first), [3, 1, 1, 0, 0, 0, 0, 0]);
    let s2_id = node_id(&first, NodeType::Job, "s2");
    let s3_id = node_id(&first, NodeType::Job, "s3");
    let s1_run = node_runs(&first, "s1")[0].id().unwrap().to_string();

    let trigger = f
        .glue
        .resume_workflow_run()
        .name("chain")
        .run_id(&first_id)
        .node_ids(node_id(&first, NodeType::Trigger, "chain-2"))
        .send()
        .await;
    expect_error(trigger, "InvalidInputException");
    let unknown = f
        .glue
        .resume_workflow_run()
        .name("chain")
        .run_id(&first_id)
        .node_ids(format!("wnode_{}", "0".repeat(64)))
        .send()
        .await;
    expect_error(unknown, "InvalidInputException");

    std::fs::write(f.path("marker"), "").unwrap();
    let out = ok(f
        .glue
        .resume_workflow_run()
        .name("chain")
        .run_id(&first_id)
        .node_ids(&s2_id)
        .send()
        .await);
    assert_eq!(out.node_ids(), std::slice::from_ref(&s2_id));
    let second_id = out.run_id.expect("RunId");
    assert_ne!(second_id, first_id);
    let second = f.wait_run("chain", &second_id).await;
    assert_eq!(second.status(), Some(&WorkflowRunStatus::Completed));
    assert_eq!(second.previous_run_id(), Some(first_id.as_str()));
    assert_eq!(stats(&second), [3, 3, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        node_runs(&second, "s1")
            .iter()
            .map(|r| r.id().unwrap())
            .collect::<Vec<_>>(),
        vec![s1_run.as_str()],
        "s1's job run is copied, not re-run"
    );
    assert_eq!(
        f.lines("s1.log").len(),
        2,
        "s1 ran once per started run, never for the resume"
    );
    assert_eq!(
        f.lines("s3.log"),
        vec![format!(
            "s3 {second_id} {}",
            node_runs(&second, "s3")[0].id().unwrap()
        )]
    );

    // Resuming the resumed run with a redundant downstream selection.
    let out = ok(f
        .glue
        .resume_workflow_run()
        .name("chain")
        .run_id(&second_id)
        .node_ids(&s2_id)
        .node_ids(&s3_id)
        .send()
        .await);
    assert_eq!(out.node_ids(), std::slice::from_ref(&s2_id));
    let third = f.wait_run("chain", out.run_id().unwrap()).await;
    assert_eq!(third.status(), Some(&WorkflowRunStatus::Completed));
    assert_eq!(third.previous_run_id(), Some(second_id.as_str()));
    assert_eq!(f.lines("s3.log").len(), 2);
}
