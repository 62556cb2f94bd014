//! Node-transition latency: how long Weir takes from one job run ending to the next one
//! being started, read from the run graph's StartedOn/CompletedOn.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use weir_model::shapes::JobRunState;

use super::Ctx;
use crate::client::Conn;
use crate::glue::{self, JobRunTimes, MAX_JOB_ACTIONS, quantile};
use crate::report::{Report, Table, ms};
use crate::servers::Server;

/// Jobs in the chain.
const CHAIN: usize = 40;
/// Jobs in the fan-out.
const FAN: usize = 100;
/// How often a run is polled for completion.
const POLL: Duration = Duration::from_millis(20);
/// Bound on one run.
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Node-transition latency");
    report.note(&format!(
        "Every job is a pythonshell job whose script is `pass`, run by `{}`. **Chain**: start \
         trigger → J01, then CONDITIONAL triggers J(i) SUCCEEDED → J(i+1) up to J{CHAIN}; gap = \
         StartedOn(J(i+1)) − CompletedOn(J(i)), 39 gaps per run. **Fan-out/join**: start \
         trigger → seed job; two CONDITIONAL triggers (seed SUCCEEDED) start 50 jobs each \
         (Weir, like AWS, allows at most 50 job actions per trigger); one AND trigger over the \
         100 jobs' SUCCEEDED starts the join job; gap = StartedOn(join) − the last of the 100 \
         CompletedOn. Times are the run graph's (GetWorkflowRun IncludeGraph), millisecond \
         precision. A job run's StartedOn is stamped in the transaction that records the \
         previous job's end and fires the trigger, so the gap is: process exit noticed → \
         CompletedOn stamped → write transaction begins; Python's start-up is not part of \
         it (it is in the job's own StartedOn→CompletedOn, shown as `job run`).",
        ctx.weir.python
    ));
    let data_dir = ctx.data_dir("transitions");
    let script = glue::noop_script(&ctx.work.join("scripts"))?;
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let mut conn = Conn::new(weir.addr);

    // The chain.
    let chain: Vec<String> = (1..=CHAIN).map(|i| format!("chain-{i:02}")).collect();
    for job in &chain {
        conn.call("CreateJob", glue::job_body(job, &script, None))
            .await?;
    }
    glue::create_workflow(&mut conn, "chain40").await?;
    glue::start_trigger(&mut conn, "chain40", "chain40-start", &chain[..1]).await?;
    for i in 1..CHAIN {
        let body = glue::conditional_body(
            "chain40",
            &format!("chain40-t{:02}", i + 1),
            &chain[i - 1..i],
            &chain[i..=i],
        );
        conn.call("CreateTrigger", body).await?;
    }

    // The fan-out and join.
    let seed = "fan-seed".to_string();
    let join = "fan-join".to_string();
    let fan: Vec<String> = (1..=FAN).map(|i| format!("fan-{i:03}")).collect();
    for job in fan.iter().chain([&seed, &join]) {
        conn.call("CreateJob", glue::job_body(job, &script, None))
            .await?;
    }
    glue::create_workflow(&mut conn, "fan100").await?;
    glue::start_trigger(
        &mut conn,
        "fan100",
        "fan100-start",
        std::slice::from_ref(&seed),
    )
    .await?;
    for (i, batch) in fan.chunks(MAX_JOB_ACTIONS).enumerate() {
        let body = glue::conditional_body(
            "fan100",
            &format!("fan100-out{}", i + 1),
            std::slice::from_ref(&seed),
            batch,
        );
        conn.call("CreateTrigger", body).await?;
    }
    let body = glue::conditional_body("fan100", "fan100-join", &fan, std::slice::from_ref(&join));
    conn.call("CreateTrigger", body).await?;

    let mut table = Table::new(&[
        "workflow",
        "runs",
        "run wall (server)",
        "run wall (client)",
        "gaps",
        "gap p50",
        "gap p99",
        "gap max",
        "job run p50",
    ]);

    let mut chain_gaps = Vec::new();
    let mut chain_walls = Vec::new();
    let mut chain_client = Vec::new();
    let mut chain_jobs = Vec::new();
    for _ in 0..ctx.sizes.chain_runs {
        let (run, client_wall) = run_once(&mut conn, "chain40").await?;
        let (server_wall, runs) = times(&run, CHAIN)?;
        for pair in chain.windows(2) {
            let before = find(&runs, &pair[0])?;
            let after = find(&runs, &pair[1])?;
            chain_gaps.push((after.started - before.completed) as f64);
        }
        chain_jobs.extend(runs.iter().map(|r| (r.completed - r.started) as f64));
        chain_walls.push(server_wall);
        chain_client.push(client_wall);
    }
    table.row(row(
        "chain of 40",
        &chain_walls,
        &chain_client,
        &chain_gaps,
        &chain_jobs,
    ));

    let mut join_gaps = Vec::new();
    let mut out_gaps = Vec::new();
    let mut fan_walls = Vec::new();
    let mut fan_client = Vec::new();
    let mut fan_jobs = Vec::new();
    let mut fan_spans = Vec::new();
    for _ in 0..ctx.sizes.fan_runs {
        let (run, client_wall) = run_once(&mut conn, "fan100").await?;
        let (server_wall, runs) = times(&run, FAN + 2)?;
        let seed_run = find(&runs, &seed)?;
        let join_run = find(&runs, &join)?;
        let fanned: Vec<&JobRunTimes> = runs.iter().filter(|r| fan.contains(&r.job)).collect();
        let last_done = fanned.iter().map(|r| r.completed).max().unwrap_or(0);
        let first_start = fanned.iter().map(|r| r.started).min().unwrap_or(0);
        join_gaps.push((join_run.started - last_done) as f64);
        out_gaps.extend(
            fanned
                .iter()
                .map(|r| (r.started - seed_run.completed) as f64),
        );
        fan_spans.push((last_done - first_start) as f64);
        fan_jobs.extend(fanned.iter().map(|r| (r.completed - r.started) as f64));
        fan_walls.push(server_wall);
        fan_client.push(client_wall);
    }
    table.row(row(
        "fan-out 100 → AND join: join gap",
        &fan_walls,
        &fan_client,
        &join_gaps,
        &fan_jobs,
    ));
    table.row(row(
        "fan-out 100: seed → each of the 100",
        &fan_walls,
        &fan_client,
        &out_gaps,
        &fan_jobs,
    ));
    report.table(&table);
    let each: Vec<String> = join_gaps.iter().map(|g| format!("{g:.0} ms")).collect();
    report.note(&format!(
        "\nJoin gap of each fan-out run: {}.",
        each.join(", ")
    ));
    report.note(&format!(
        "The 100 fanned-out jobs ran from the first StartedOn to the last CompletedOn in \
         {} (p50 over runs): 100 Python processes on {} cores.",
        ms(quantile(&fan_spans, 0.5)),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    let p50 = quantile(&chain_gaps, 0.5);
    let p99 = quantile(&chain_gaps, 0.99);
    report.check("chain transition gap p50", ms(p50), "< 5 ms", p50 < 5.0);
    report.check("chain transition gap p99", ms(p99), "< 20 ms", p99 < 20.0);
    let join_max = quantile(&join_gaps, 1.0);
    report.check(
        "fan-in (AND of 100) join gap, worst run",
        ms(join_max),
        "< 20 ms (p99 target)",
        join_max < 20.0,
    );
    ctx.observe_memory(&weir, "transitions: after the chain and fan-out runs");
    weir.stop()
}

/// A table row: wall times, gap quantiles and the job runs' own p50.
fn row(name: &str, walls: &[f64], client: &[f64], gaps: &[f64], jobs: &[f64]) -> Vec<String> {
    vec![
        name.to_string(),
        walls.len().to_string(),
        ms(quantile(walls, 0.5)),
        ms(quantile(client, 0.5)),
        gaps.len().to_string(),
        ms(quantile(gaps, 0.5)),
        ms(quantile(gaps, 0.99)),
        ms(quantile(gaps, 1.0)),
        ms(quantile(jobs, 0.5)),
    ]
}

/// Starts a run of `workflow`, waits for it and returns it with the client-side wall time.
async fn run_once(conn: &mut Conn, workflow: &str) -> Result<(serde_json::Value, f64)> {
    let started = Instant::now();
    let run_id = glue::start_run(conn, workflow).await?;
    let run = glue::wait_run(conn, workflow, &run_id, POLL, RUN_LIMIT).await?;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    eprintln!("  {workflow} run {run_id} completed in {}", ms(wall));
    Ok((run, wall))
}

/// The run's server-side wall time and its job runs, checked: `jobs` runs, all SUCCEEDED.
fn times(run: &serde_json::Value, jobs: usize) -> Result<(f64, Vec<JobRunTimes>)> {
    let runs = glue::job_runs(run)?;
    if runs.len() != jobs || runs.iter().any(|r| r.state != JobRunState::Succeeded) {
        let states: Vec<String> = runs
            .iter()
            .map(|r| format!("{} {}", r.job, r.state))
            .collect();
        bail!(
            "expected {jobs} SUCCEEDED job runs, found {}: {states:?}",
            runs.len()
        );
    }
    let started = glue::epoch_ms(&run["StartedOn"]).unwrap_or(0);
    let completed = glue::epoch_ms(&run["CompletedOn"]).unwrap_or(0);
    Ok(((completed - started) as f64, runs))
}

/// The job run of `job` in `runs`.
fn find<'a>(runs: &'a [JobRunTimes], job: &str) -> Result<&'a JobRunTimes> {
    runs.iter()
        .find(|r| r.job == job)
        .ok_or_else(|| anyhow::anyhow!("no job run of {job} in the run graph"))
}
