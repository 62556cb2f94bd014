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
/// Job starts measured, and as many direct runs of the same script.
const STARTS: usize = 40;
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
    job_starts(ctx, report, &mut conn, &data_dir).await?;
    ctx.observe_memory(&weir, "transitions: after the chain and fan-out runs");
    weir.stop()
}

/// Job starts: a pythonshell job run's StartedOn → its script's first line, beside the
/// same script run directly by this process, alternated in one run; and where Weir's
/// part goes, from the run directory in `data_dir`.
async fn job_starts(
    ctx: &Ctx,
    report: &mut Report,
    conn: &mut Conn,
    data_dir: &std::path::Path,
) -> Result<()> {
    let dir = ctx.work.join("scripts");
    let stamps = dir.join("first-line.txt");
    let script = dir.join("first_line.py");
    let _ = std::fs::remove_file(&stamps);
    std::fs::write(
        &script,
        format!(
            "import time; first_line = time.time_ns()\nwith open({:?}, 'a') as out:\n    \
             out.write(f'{{first_line}}\\n')\n",
            stamps.display().to_string()
        ),
    )?;
    conn.call("CreateJob", glue::job_body("first-line", &script, None))
        .await?;
    let mut weir_ms = Vec::with_capacity(STARTS);
    let mut bare_ms = Vec::with_capacity(STARTS);
    let mut to_spawn_ms = Vec::with_capacity(STARTS);
    let mut to_identity_ms = Vec::with_capacity(STARTS);
    let mut to_first_line_ms = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let answer = conn
            .call(
                "StartJobRun",
                serde_json::json!({ "JobName": "first-line" }),
            )
            .await?;
        let run_id = answer["JobRunId"].as_str().unwrap_or_default().to_string();
        let started = job_run_started(conn, &run_id).await?;
        let first_line = last_stamp(&stamps)?;
        weir_ms.push(first_line as f64 / 1e6 - started as f64);
        let run_dir = data_dir.join("job-runs").join(&run_id);
        let spawned = changed_ns(&run_dir.join("stderr"))?;
        let identity = changed_ns(&run_dir.join("pid"))?;
        to_spawn_ms.push(spawned as f64 / 1e6 - started as f64);
        to_identity_ms.push((identity - spawned) as f64 / 1e6);
        to_first_line_ms.push((first_line - identity) as f64 / 1e6);

        // The same interpreter flag as Weir's command (`-u`, unbuffered output).
        let spawned = epoch_ns();
        let status = tokio::process::Command::new(&ctx.weir.python)
            .arg("-u")
            .arg(&script)
            .status()
            .await?;
        if !status.success() {
            bail!("{} {} failed: {status}", ctx.weir.python, script.display());
        }
        bare_ms.push((last_stamp(&stamps)? - spawned) as f64 / 1e6);
    }
    let mut table = Table::new(&["start", "runs", "p50", "p90", "min", "max"]);
    for (name, values) in [
        ("Weir: job run StartedOn → first line", &weir_ms),
        ("bare `python3 -u script.py`: spawn → first line", &bare_ms),
    ] {
        table.row(vec![
            name.to_string(),
            values.len().to_string(),
            ms(quantile(values, 0.5)),
            ms(quantile(values, 0.9)),
            ms(quantile(values, 0.0)),
            ms(quantile(values, 1.0)),
        ]);
    }
    report.note(&format!(
        "\n**Job starts.** A pythonshell job whose script's first line is \
         `first_line = time.time_ns()` (then written to a file), started {STARTS} times with \
         StartJobRun, one at a time, each followed by the same script run directly \
         (`{} -u script.py`, Weir's interpreter flag, spawned by the bench: spawn time → \
         first line; Weir's command also has the job's arguments and its helpers on \
         `PYTHONPATH`). Weir's figure is \
         StartedOn (millisecond precision) → first line, so it includes the launch \
         transition, the `sh` supervisor, the record of its identity and Python's \
         own start-up.",
        ctx.weir.python
    ));
    report.table(&table);
    let mut steps = Table::new(&["Weir's start, step", "p50", "p90", "min", "max"]);
    for (name, values) in [
        (
            "StartedOn → output files created (launch commit, task, run directory)",
            &to_spawn_ms,
        ),
        (
            "→ identity recorded (`sh` spawned, `pid` written)",
            &to_identity_ms,
        ),
        (
            "→ first line (`go`, `sh` forks Python, Python's start-up)",
            &to_first_line_ms,
        ),
    ] {
        steps.row(vec![
            name.to_string(),
            ms(quantile(values, 0.5)),
            ms(quantile(values, 0.9)),
            ms(quantile(values, 0.0)),
            ms(quantile(values, 1.0)),
        ]);
    }
    report.note(
        "\nWhere Weir's start goes, from the run directory: the status-change time of \
         `stderr` (created just before the supervisor is spawned) and of `pid` (written \
         just before `go`). StartedOn has millisecond precision, the file times \
         the file system's (the kernel's coarse clock, one tick).",
    );
    report.table(&steps);
    let added = quantile(&weir_ms, 0.5) - quantile(&bare_ms, 0.5);
    report.check(
        "job start: Weir's added time (p50 Weir − p50 bare)",
        ms(added),
        "≤ 5 ms",
        added <= 5.0,
    );
    Ok(())
}

/// Polls GetJobRun of the `first-line` job until run `run_id` SUCCEEDED; its StartedOn, ms.
async fn job_run_started(conn: &mut Conn, run_id: &str) -> Result<i64> {
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        let answer = conn
            .call(
                "GetJobRun",
                serde_json::json!({ "JobName": "first-line", "RunId": run_id }),
            )
            .await?;
        let run = &answer["JobRun"];
        match glue::wire_enum::<JobRunState>(&run["JobRunState"]) {
            JobRunState::Succeeded => {
                return glue::epoch_ms(&run["StartedOn"])
                    .ok_or_else(|| anyhow::anyhow!("job run {run_id} has no StartedOn"));
            }
            JobRunState::Starting | JobRunState::Running | JobRunState::Waiting => {}
            state => bail!("job run {run_id} ended {state}"),
        }
        if Instant::now() >= deadline {
            bail!("job run {run_id} still running after {RUN_LIMIT:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The last time stamp (ns) the first-line script wrote to `path`.
fn last_stamp(path: &std::path::Path) -> Result<i64> {
    let text = std::fs::read_to_string(path)?;
    text.lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no time stamp in {}", path.display()))
}

/// When the inode of `path` last changed (its ctime: creation, write or rename), in
/// nanoseconds since the epoch.
fn changed_ns(path: &std::path::Path) -> Result<i64> {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::metadata(path)?;
    Ok(metadata.ctime() * 1_000_000_000 + metadata.ctime_nsec())
}

/// Now, in nanoseconds since the epoch.
fn epoch_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
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
