//! Glue workloads the sections build: workflows, pythonshell jobs, start and
//! conditional triggers, runs and their graphs, and bulk creation through the load
//! generator.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use weir_model::shapes::{
    JobRunState, Logical, LogicalOperator, NodeType, TriggerType, WorkflowRunStatus,
};

use crate::client::{Conn, Signer};
use crate::load::{self, LoadResult, Plan, Source};

/// Most job actions one trigger may have (AWS's default quota, enforced by Weir).
pub const MAX_JOB_ACTIONS: usize = 50;

/// CreateWorkflow `name` (no start trigger: a run of it completes at once).
pub async fn create_workflow(conn: &mut Conn, name: &str) -> Result<()> {
    conn.call("CreateWorkflow", json!({ "Name": name })).await?;
    Ok(())
}

/// CreateWorkflow `name` unless it exists.
pub async fn ensure_workflow(conn: &mut Conn, name: &str) -> Result<()> {
    let answer = conn
        .call_raw("CreateWorkflow", &json!({ "Name": name }))
        .await?;
    if answer.status.is_success() || answer.json_type().as_deref() == Some("AlreadyExistsException")
    {
        return Ok(());
    }
    answer.json().map(drop)
}

/// The CreateJob body of a pythonshell job running `script`.
pub fn job_body(name: &str, script: &Path, max_concurrent_runs: Option<u32>) -> Value {
    let mut body = json!({
        "Name": name,
        "Role": "weir-bench",
        "Command": {
            "Name": "pythonshell",
            "ScriptLocation": script.display().to_string(),
            "PythonVersion": "3"
        }
    });
    if let Some(limit) = max_concurrent_runs {
        body["ExecutionProperty"] = json!({ "MaxConcurrentRuns": limit });
    }
    body
}

/// CreateTrigger: the ON_DEMAND start trigger of `workflow` starting `jobs`.
pub async fn start_trigger(
    conn: &mut Conn,
    workflow: &str,
    name: &str,
    jobs: &[String],
) -> Result<()> {
    conn.call(
        "CreateTrigger",
        json!({
            "Name": name,
            "WorkflowName": workflow,
            "Type": TriggerType::OnDemand,
            "Actions": actions(jobs),
        }),
    )
    .await?;
    Ok(())
}

/// The CreateTrigger body of a CONDITIONAL trigger of `workflow` that starts `jobs` once
/// every job of `after` SUCCEEDED (AND; a single condition needs no operator).
pub fn conditional_body(workflow: &str, name: &str, after: &[String], jobs: &[String]) -> Value {
    let conditions: Vec<Value> = after
        .iter()
        .map(|job| {
            json!({
                "LogicalOperator": LogicalOperator::Equals,
                "JobName": job,
                "State": JobRunState::Succeeded,
            })
        })
        .collect();
    let mut predicate = json!({ "Conditions": conditions });
    if after.len() > 1 {
        predicate["Logical"] = json!(Logical::And);
    }
    json!({
        "Name": name,
        "WorkflowName": workflow,
        "Type": TriggerType::Conditional,
        "StartOnCreation": true,
        "Predicate": predicate,
        "Actions": actions(jobs),
    })
}

/// Trigger actions starting `jobs`.
fn actions(jobs: &[String]) -> Vec<Value> {
    jobs.iter().map(|job| json!({ "JobName": job })).collect()
}

/// Writes the trivial job script (`pass`) into `dir` and returns its path.
pub fn noop_script(dir: &Path) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("noop.py");
    std::fs::write(&path, "pass\n")?;
    Ok(path)
}

/// Sends `count` requests of `operation` with bodies `body(i)`, signed as they are sent,
/// on `connections` connections, and fails if any failed or time ran out.
pub async fn bulk(
    addr: SocketAddr,
    operation: &'static str,
    count: u64,
    connections: usize,
    body: impl Fn(u64) -> Value + Send + Sync + 'static,
    server_pid: Option<u32>,
) -> Result<LoadResult> {
    let limit = Duration::from_secs(600);
    let result = bulk_within(addr, operation, count, connections, body, server_pid, limit).await?;
    if result.ok < count {
        bail!(
            "{operation}: only {} of {count} done in {limit:?}",
            result.ok
        );
    }
    Ok(result)
}

/// Like [`bulk`], but stops when `limit` has passed, whatever was done by then (failed
/// requests are still an error).
pub async fn bulk_within(
    addr: SocketAddr,
    operation: &'static str,
    count: u64,
    connections: usize,
    body: impl Fn(u64) -> Value + Send + Sync + 'static,
    server_pid: Option<u32>,
    limit: Duration,
) -> Result<LoadResult> {
    let source = Source::Generate {
        signer: Signer::new(addr),
        operation,
        body: Box::new(move |i| serde_json::to_vec(&body(i)).unwrap_or_default()),
    };
    let result = load::run(
        addr,
        source,
        Plan::counted(connections, count, limit),
        server_pid,
    )
    .await?;
    result.ensure_clean(operation)?;
    Ok(result)
}

/// StartWorkflowRun and the new run id.
pub async fn start_run(conn: &mut Conn, workflow: &str) -> Result<String> {
    let answer = conn
        .call("StartWorkflowRun", json!({ "Name": workflow }))
        .await?;
    answer["RunId"]
        .as_str()
        .map(str::to_string)
        .context("StartWorkflowRun answered no RunId")
}

/// Polls GetWorkflowRun every `every` until the run is no longer RUNNING (or `limit`
/// passes); returns the final run with its graph.
pub async fn wait_run(
    conn: &mut Conn,
    workflow: &str,
    run_id: &str,
    every: Duration,
    limit: Duration,
) -> Result<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let answer = conn
            .call(
                "GetWorkflowRun",
                json!({ "Name": workflow, "RunId": run_id }),
            )
            .await?;
        let status: WorkflowRunStatus = wire_enum(&answer["Run"]["Status"]);
        if !matches!(
            status,
            WorkflowRunStatus::Running | WorkflowRunStatus::Stopping
        ) {
            if status != WorkflowRunStatus::Completed {
                bail!("run {run_id} of {workflow} ended {status}: {answer}");
            }
            let full = conn
                .call(
                    "GetWorkflowRun",
                    json!({ "Name": workflow, "RunId": run_id, "IncludeGraph": true }),
                )
                .await?;
            return Ok(full["Run"].clone());
        }
        if Instant::now() >= deadline {
            bail!("run {run_id} of {workflow} still {status} after {limit:?}");
        }
        tokio::time::sleep(every).await;
    }
}

/// The wire enum `T` of a JSON member; a missing or non-string member reads as
/// the unknown empty value.
pub fn wire_enum<T: for<'a> From<&'a str>>(value: &Value) -> T {
    T::from(value.as_str().unwrap_or(""))
}

/// A Glue timestamp (epoch seconds, fractional) in milliseconds.
pub fn epoch_ms(value: &Value) -> Option<i64> {
    value.as_f64().map(|secs| (secs * 1000.0).round() as i64)
}

/// One job run as read from a run graph.
#[derive(Debug, Clone)]
pub struct JobRunTimes {
    /// Job name.
    pub job: String,
    /// `StartedOn`, ms.
    pub started: i64,
    /// `CompletedOn`, ms.
    pub completed: i64,
    /// `JobRunState`.
    pub state: JobRunState,
}

/// Every job run in a run's graph (`GetWorkflowRun IncludeGraph=true`).
pub fn job_runs(run: &Value) -> Result<Vec<JobRunTimes>> {
    let mut out = Vec::new();
    for node in run["Graph"]["Nodes"].as_array().into_iter().flatten() {
        if wire_enum::<NodeType>(&node["Type"]) != NodeType::Job {
            continue;
        }
        for job_run in node["JobDetails"]["JobRuns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push(JobRunTimes {
                job: job_run["JobName"].as_str().unwrap_or("").to_string(),
                started: epoch_ms(&job_run["StartedOn"]).context("a job run has no StartedOn")?,
                completed: epoch_ms(&job_run["CompletedOn"])
                    .context("a job run has no CompletedOn")?,
                state: wire_enum(&job_run["JobRunState"]),
            });
        }
    }
    Ok(out)
}

/// Quantile `q` of `values` (nearest rank; values need not be sorted).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
