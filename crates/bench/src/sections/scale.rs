//! Scale: GetWorkflow(IncludeGraph) on 1,000-job graphs, GetWorkflowRuns pages over a
//! growing history (to 1,000,000 runs), reads over a growing number of workflows (to
//! 10,000), 1,000 concurrent runs of a one-job workflow, memory around them.

mod workflows;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use weir_model::shapes::{JobRunState, WorkflowRunStatus};

use super::Ctx;
use crate::client::Conn;
use crate::glue::{self, MAX_JOB_ACTIONS, quantile};
use crate::load::{self, Plan, Source};
use crate::procfs::{self, mib};
use crate::report::{Report, Table, ms, rate, thousands};
use crate::servers::Server;

/// Most conditions in one trigger predicate (the botocore model's limit).
const MAX_CONDITIONS: usize = 500;
/// Samples per latency figure.
const SAMPLES: usize = 30;
/// Page size of the history walk.
const PAGE: u64 = 100;
/// Connections of bulk creation.
const BULK_CONNECTIONS: usize = 64;
/// Bound on the concurrent-runs phase.
const BURST_LIMIT: Duration = Duration::from_secs(240);
/// Runs of the wide graph whose median CPU per job is checked.
const WIDE_RUNS: usize = 3;
/// How often a run of the wide graph is polled for completion.
const WIDE_POLL: Duration = Duration::from_millis(500);
/// Bound on building the run history (all sizes together): 1,000,000 runs at the
/// ~2,000 runs/s of a loaded two-core machine.
const HISTORY_BUDGET: Duration = Duration::from_secs(900);
/// The workflow whose run history grows.
const HISTORY_WORKFLOW: &str = "history";
/// Target of the latency flatness checks (see [`latency_flat`]).
const LATENCY_FLAT: &str = "flat (worst ≤ 2× the smallest size's, or within 1 ms)";
/// Target of the memory flatness checks (see [`rss_flat`]).
const RSS_FLAT: &str = "flat (≤ 1.5× or within 16 MiB of the smallest size)";

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Scale");
    let data_dir = ctx.data_dir("scale");
    let script = glue::noop_script(&ctx.work.join("scripts"))?;
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    let mut conn = Conn::new(weir.addr);

    graphs(ctx, report, &weir, &mut conn, &script).await?;
    wide_run(ctx, report, &weir, &mut conn).await?;
    let stored = history(ctx, report, &weir, &mut conn, &data_dir).await?;
    let fleet = workflows::run(ctx, report, &weir, &mut conn).await?;
    concurrent_runs(ctx, report, &weir, &mut conn, &script).await?;

    // At rest on the same data after a restart: what the stored state alone costs.
    weir.stop()?;
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    ctx.observe_memory(
        &weir,
        &format!(
            "scale: restarted, at rest, {} stored runs + {} jobs + {} workflows",
            thousands(stored + fleet + ctx.sizes.concurrent_runs),
            thousands(ctx.sizes.graph_jobs as u64 + 1),
            thousands(fleet)
        ),
    );
    weir.stop()
}

/// The two large graphs and GetWorkflow(IncludeGraph) on them.
async fn graphs(
    ctx: &mut Ctx,
    report: &mut Report,
    weir: &Server,
    conn: &mut Conn,
    script: &std::path::Path,
) -> Result<()> {
    let n = ctx.sizes.graph_jobs;
    let jobs = create_jobs(weir.addr, weir.pid(), n, script).await?;
    let (wide_shape, wide_nodes) = build_wide(conn, &jobs).await?;

    // Chain: start → job-0001, then job(i) SUCCEEDED → job(i+1): n jobs, n triggers.
    glue::create_workflow(conn, "chain").await?;
    glue::start_trigger(conn, "chain", "chain-start", &jobs[..1]).await?;
    let mut create_latency = Vec::with_capacity(n);
    for i in 1..n {
        let body = glue::conditional_body(
            "chain",
            &format!("chain-t{:04}", i + 1),
            &jobs[i - 1..i],
            &jobs[i..=i],
        );
        let answer = conn.call_raw("CreateTrigger", &body).await?;
        answer.json()?;
        create_latency.push(answer.latency.as_secs_f64() * 1000.0);
    }
    let chain_nodes = 2 * n;

    let mut table = Table::new(&[
        "workflow",
        "shape",
        "nodes",
        "edges",
        "answer size",
        "GetWorkflow(IncludeGraph) p50",
        "p99",
    ]);
    for (workflow, shape, expected) in [
        ("wide", wide_shape, wide_nodes),
        (
            "chain",
            format!("start → job → trigger → job … ({n} jobs, {n} triggers)"),
            chain_nodes,
        ),
    ] {
        let body = json!({ "Name": workflow, "IncludeGraph": true });
        let mut latencies = Vec::with_capacity(SAMPLES);
        let mut size = 0;
        let mut counts = (0, 0);
        for _ in 0..SAMPLES {
            let answer = conn.call_raw("GetWorkflow", &body).await?;
            let value = answer.json()?;
            latencies.push(answer.latency.as_secs_f64() * 1000.0);
            size = answer.body.len();
            let graph = &value["Workflow"]["Graph"];
            counts = (
                graph["Nodes"].as_array().map_or(0, Vec::len),
                graph["Edges"].as_array().map_or(0, Vec::len),
            );
        }
        if counts.0 != expected {
            bail!(
                "{workflow}: the graph has {} nodes, expected {expected}",
                counts.0
            );
        }
        table.row(vec![
            workflow.into(),
            shape,
            counts.0.to_string(),
            counts.1.to_string(),
            format!("{:.0} KiB", size as f64 / 1024.0),
            ms(quantile(&latencies, 0.5)),
            ms(quantile(&latencies, 0.99)),
        ]);
    }
    report.note(&format!(
        "**Large graphs.** {} pythonshell jobs; two workflows over them (shapes below; Weir \
         allows at most 50 job actions per trigger, as AWS does, and the model at most 500 \
         conditions per predicate). GetWorkflow with \
         IncludeGraph=true, {SAMPLES} sequential calls on one connection.",
        thousands(n as u64)
    ));
    report.table(&table);
    let head = quantile(&create_latency[..create_latency.len().min(100)], 0.5);
    let tail = quantile(
        &create_latency[create_latency.len().saturating_sub(100)..],
        0.5,
    );
    report.note(&format!(
        "\nCreating the chain's triggers one by one: CreateTrigger p50 {} for the first 100, \
         {} for the last 100 (each CreateTrigger re-reads the workflow's triggers for the \
         one-start-trigger and cycle checks).",
        ms(head),
        ms(tail)
    ));
    ctx.observe_memory(
        weir,
        &format!(
            "scale: after building the {}-job graphs",
            thousands(n as u64)
        ),
    );
    Ok(())
}

/// Creates the large graphs' `n` pythonshell jobs running `script`; returns their names.
async fn create_jobs(
    addr: std::net::SocketAddr,
    server_pid: u32,
    n: usize,
    script: &Path,
) -> Result<Vec<String>> {
    let jobs: Vec<String> = (1..=n).map(|i| format!("job-{i:04}")).collect();
    let names = jobs.clone();
    let script = script.to_path_buf();
    let created = glue::bulk(
        addr,
        "CreateJob",
        n as u64,
        16,
        move |i| glue::job_body(&names[i as usize], &script, None),
        Some(server_pid),
    )
    .await?;
    eprintln!("  created {n} jobs at {} /s", rate(created.rate()));
    Ok(jobs)
}

/// Creates the `wide` workflow over `jobs`: start → seed; triggers on seed SUCCEEDED
/// start the middle jobs, 50 each; AND triggers (at most 500 conditions each, the
/// model's limit) join them into join jobs, and a last AND trigger starts the final job
/// (a middle of at most 500 jobs is joined into the final job directly). Returns its
/// shape in words and its node count.
async fn build_wide(conn: &mut Conn, jobs: &[String]) -> Result<(String, usize)> {
    let n = jobs.len();
    let joins = if n - 2 <= MAX_CONDITIONS {
        0
    } else {
        (n - 2).div_ceil(MAX_CONDITIONS + 1)
    };
    let middle_count = n - 2 - joins;
    let middle = &jobs[1..1 + middle_count];
    let join_jobs = &jobs[1 + middle_count..n - 1];
    glue::create_workflow(conn, "wide").await?;
    glue::start_trigger(conn, "wide", "wide-start", &jobs[..1]).await?;
    let mut triggers = 1;
    for (i, batch) in middle.chunks(MAX_JOB_ACTIONS).enumerate() {
        let body =
            glue::conditional_body("wide", &format!("wide-out{:02}", i + 1), &jobs[..1], batch);
        conn.call("CreateTrigger", body).await?;
        triggers += 1;
    }
    let fan_triggers = triggers - 1;
    if joins == 0 {
        let body = glue::conditional_body("wide", "wide-final", middle, &jobs[n - 1..]);
        conn.call("CreateTrigger", body).await?;
        triggers += 1;
    } else {
        for (k, chunk) in middle.chunks(middle_count.div_ceil(joins)).enumerate() {
            let body = glue::conditional_body(
                "wide",
                &format!("wide-join{}", k + 1),
                chunk,
                &join_jobs[k..=k],
            );
            conn.call("CreateTrigger", body).await?;
            triggers += 1;
        }
        let body = glue::conditional_body("wide", "wide-final", join_jobs, &jobs[n - 1..]);
        conn.call("CreateTrigger", body).await?;
        triggers += 1;
    }
    let wide_nodes = n + triggers;
    let wide_shape = if joins == 0 {
        format!(
            "start → 1 job → {fan_triggers} triggers → {middle_count} jobs → AND trigger → 1 job"
        )
    } else {
        format!(
            "start → 1 job → {fan_triggers} triggers → {middle_count} jobs → {joins} AND \
             triggers ({} conditions each) → {joins} jobs → AND trigger → 1 job",
            middle_count.div_ceil(joins)
        )
    };
    Ok((wide_shape, wide_nodes))
}

/// What one run of the `wide` graph measured.
struct WideRun {
    /// StartWorkflowRun → COMPLETED seen by the client.
    wall: Duration,
    /// The server's utime + stime over the run.
    server_cpu: Duration,
    /// The job processes' CPU time (reaped children of the server).
    jobs_cpu: Duration,
    /// Every job run of the run, all SUCCEEDED.
    runs: Vec<glue::JobRunTimes>,
}

impl WideRun {
    /// The server's CPU time per job, in milliseconds.
    fn per_job_ms(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1000.0 / self.runs.len().max(1) as f64
    }
}

/// Runs the `wide` graph of `n` jobs once to completion on the server `server_pid`,
/// polling GetWorkflowRun every [`WIDE_POLL`], and checks that every job succeeded.
async fn run_wide(conn: &mut Conn, server_pid: u32, n: usize) -> Result<WideRun> {
    let server_cpu_before = procfs::cpu_time(server_pid)?;
    let jobs_cpu_before = procfs::children_cpu_time(server_pid)?;
    let started = Instant::now();
    let run_id = glue::start_run(conn, "wide").await?;
    let run = glue::wait_run(conn, "wide", &run_id, WIDE_POLL, BURST_LIMIT).await?;
    let wall = started.elapsed();
    let server_cpu = procfs::cpu_time(server_pid)?.saturating_sub(server_cpu_before);
    let jobs_cpu = procfs::children_cpu_time(server_pid)?.saturating_sub(jobs_cpu_before);
    let runs = glue::job_runs(&run)?;
    if runs.len() != n || runs.iter().any(|r| r.state != JobRunState::Succeeded) {
        bail!(
            "wide: expected {n} SUCCEEDED job runs, found {}",
            runs.len()
        );
    }
    Ok(WideRun {
        wall,
        server_cpu,
        jobs_cpu,
        runs,
    })
}

/// `weir-bench wide`: on an already running Weir (`addr`, process `server_pid`), creates
/// the `wide` graph of `n` jobs unless the workflow exists, then runs it `runs` times and
/// prints the server's CPU time per job of each run (for profiling the server over a
/// run, e.g. with `perf record -p`).
pub async fn wide_only(
    addr: std::net::SocketAddr,
    server_pid: u32,
    n: usize,
    runs: usize,
    script_dir: &Path,
) -> Result<()> {
    let mut conn = Conn::new(addr);
    let exists = conn
        .call_raw("GetWorkflow", &json!({ "Name": "wide" }))
        .await?
        .status
        .is_success();
    if !exists {
        let script = glue::noop_script(script_dir)?;
        let jobs = create_jobs(addr, server_pid, n, &script).await?;
        let (shape, _) = build_wide(&mut conn, &jobs).await?;
        eprintln!("  wide: {shape}");
    }
    for i in 1..=runs {
        let run = run_wide(&mut conn, server_pid, n).await?;
        println!(
            "wide run {i}: {} jobs, wall {}, Weir CPU {} ({} per job), jobs' CPU {}",
            run.runs.len(),
            ms(run.wall.as_secs_f64() * 1000.0),
            ms(run.server_cpu.as_secs_f64() * 1000.0),
            ms(run.per_job_ms()),
            ms(run.jobs_cpu.as_secs_f64() * 1000.0)
        );
    }
    Ok(())
}

/// [`WIDE_RUNS`] runs of the `wide` graph ([`graphs`]) to completion, one after the
/// other: the server's own CPU time over each run, per job, and their median.
async fn wide_run(
    ctx: &mut Ctx,
    report: &mut Report,
    weir: &Server,
    conn: &mut Conn,
) -> Result<()> {
    let n = ctx.sizes.graph_jobs;
    let mut table = Table::new(&[
        "run",
        "wall (StartWorkflowRun → COMPLETED seen)",
        "Weir CPU / per job",
        "job processes' CPU (sh + Python)",
        "final job's StartedOn − last other CompletedOn",
    ]);
    let mut per_job = Vec::with_capacity(WIDE_RUNS);
    for i in 1..=WIDE_RUNS {
        let wide = run_wide(conn, weir.pid(), n).await?;
        let run_per_job = wide.per_job_ms();
        per_job.push(run_per_job);
        let WideRun {
            wall,
            server_cpu,
            jobs_cpu,
            runs,
        } = &wide;
        let last = runs
            .iter()
            .max_by_key(|r| r.started)
            .context("no job runs")?;
        let before_last = runs
            .iter()
            .filter(|r| r.job != last.job)
            .map(|r| r.completed)
            .max()
            .unwrap_or(last.started);
        table.row(vec![
            i.to_string(),
            ms(wall.as_secs_f64() * 1000.0),
            format!(
                "{} / {}",
                ms(server_cpu.as_secs_f64() * 1000.0),
                ms(run_per_job)
            ),
            ms(jobs_cpu.as_secs_f64() * 1000.0),
            ms((last.started - before_last) as f64),
        ]);
    }
    report.note(&format!(
        "\n**{WIDE_RUNS} runs of `wide`** ({} jobs that `pass`, the graph above), one after \
         the other on the same server: StartWorkflowRun, then GetWorkflowRun every {} ms \
         until COMPLETED (its CPU is counted too). Weir's CPU is utime + stime of its \
         process from `/proc/<pid>/stat` over each run; the check takes the median run.",
        thousands(n as u64),
        WIDE_POLL.as_millis()
    ));
    report.table(&table);
    let median = quantile(&per_job, 0.5);
    report.check(
        &format!("server CPU time per job, median of {WIDE_RUNS} runs of the wide graph"),
        ms(median),
        "≤ 1 ms",
        median <= 1.0,
    );
    Ok(())
}

/// GetWorkflowRuns first and last page and the database's size at each history size;
/// returns how many runs the history reached.
async fn history(
    ctx: &mut Ctx,
    report: &mut Report,
    weir: &Server,
    conn: &mut Conn,
    data_dir: &Path,
) -> Result<u64> {
    glue::create_workflow(conn, HISTORY_WORKFLOW).await?;
    let mut table = Table::new(&[
        "stored runs",
        "insert rate",
        "pages",
        "page 1 p50",
        "page 1 p99",
        "last page p50",
        "last page p99",
        "whole walk",
        "1,000-run page p50",
        "GetWorkflow p50",
        "server RSS",
        "weir.db",
        "weir.db-wal",
        "bytes/run",
    ]);
    let mut rss = Vec::new();
    let mut stored = 0u64;
    let mut db_before = store_file_bytes(data_dir, "weir.db")?;
    let mut first_pages = Vec::new();
    let mut last_pages = Vec::new();
    let budget_end = Instant::now() + HISTORY_BUDGET;
    let mut cut_short = None;
    for &size in &ctx.sizes.history.clone() {
        let left = budget_end.saturating_duration_since(Instant::now());
        let inserted = glue::bulk_within(
            weir.addr,
            "StartWorkflowRun",
            size - stored,
            BULK_CONNECTIONS,
            |_| json!({ "Name": HISTORY_WORKFLOW }),
            Some(weir.pid()),
            left,
        )
        .await?;
        stored += inserted.ok;
        eprintln!(
            "  history: {} runs stored ({} runs/s)",
            thousands(stored),
            rate(inserted.rate())
        );
        if stored < size {
            cut_short = Some((size, inserted.rate()));
        }
        let first = json!({ "Name": HISTORY_WORKFLOW, "MaxResults": PAGE });
        let page1 = repeat(conn, "GetWorkflowRuns", &first).await?;
        // Walk every page to the end.
        let walk_started = Instant::now();
        let mut token: Option<String> = None;
        let mut pages = 0;
        let mut seen = 0u64;
        let last_body = loop {
            let mut body = first.clone();
            if let Some(token) = &token {
                body["NextToken"] = json!(token);
            }
            let answer = conn.call("GetWorkflowRuns", body.clone()).await?;
            pages += 1;
            seen += answer["Runs"].as_array().map_or(0, |r| r.len() as u64);
            match answer["NextToken"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => break body,
            }
        };
        let walk = walk_started.elapsed().as_secs_f64() * 1000.0;
        if seen != stored {
            bail!("the walk over GetWorkflowRuns saw {seen} runs, {stored} are stored");
        }
        let last = repeat(conn, "GetWorkflowRuns", &last_body).await?;
        let whole = json!({ "Name": HISTORY_WORKFLOW });
        let big_page = repeat(conn, "GetWorkflowRuns", &whole).await?;
        let get = repeat(conn, "GetWorkflow", &whole).await?;
        let db = store_file_bytes(data_dir, "weir.db")?;
        let wal = store_file_bytes(data_dir, "weir.db-wal")?;
        // Until weir.db has grown by more than the WAL holds, the new runs may sit in
        // the WAL alone: no per-run figure then.
        let growth = db.saturating_sub(db_before);
        let per_run = if growth > wal && inserted.ok > 0 {
            thousands(growth / inserted.ok)
        } else {
            "–".into()
        };
        table.row(vec![
            thousands(stored),
            format!("{}/s", rate(inserted.rate())),
            pages.to_string(),
            ms(quantile(&page1, 0.5)),
            ms(quantile(&page1, 0.99)),
            ms(quantile(&last, 0.5)),
            ms(quantile(&last, 0.99)),
            ms(walk),
            ms(quantile(&big_page, 0.5)),
            ms(quantile(&get, 0.5)),
            mib(weir.rss_kib()?),
            mib(db / 1024),
            mib(wal / 1024),
            per_run,
        ]);
        db_before = db;
        rss.push(weir.rss_kib()?);
        first_pages.push(quantile(&page1, 0.5));
        last_pages.push(quantile(&last, 0.5));
        if cut_short.is_some() {
            break;
        }
    }
    report.note(&format!(
        "\n**Run history.** One workflow without a start trigger; its runs are created with \
         StartWorkflowRun on {BULK_CONNECTIONS} connections (each run completes at once; \
         `insert rate` is that phase's rate). Pages of GetWorkflowRuns with MaxResults={PAGE}: \
         page 1, then every page following NextToken to the end; page 1 and the last page are \
         then requested {SAMPLES} times each (a token may be redeemed again). `1,000-run page` \
         is GetWorkflowRuns without MaxResults (the default and maximum page, 1,000 runs); \
         `GetWorkflow` includes the LastRun lookup. `weir.db` and `weir.db-wal` are the \
         sizes of the store's files after the row's reads (the WAL is checkpointed into \
         `weir.db` as it fills); `bytes/run` is the growth of `weir.db` since the row \
         before divided by the runs added (each run's document, its primary key and its \
         three index entries; `–` while that growth is smaller than the WAL, where the new \
         runs may still be)."
    ));
    report.table(&table);
    if let Some((size, last_rate)) = cut_short {
        report.note(&format!(
            "\n**The history stopped at {} runs, short of {}:** building it has a budget of \
             {} s (to keep the suite bounded) and StartWorkflowRun had slowed to {} runs/s. \
             See BENCHMARKS.md for the profiled cause.",
            thousands(stored),
            thousands(size),
            HISTORY_BUDGET.as_secs(),
            rate(last_rate)
        ));
        report.check(
            "run history built to the largest size",
            format!(
                "{} runs in {} s",
                thousands(stored),
                HISTORY_BUDGET.as_secs()
            ),
            &format!("{} runs", thousands(size)),
            false,
        );
    }
    let base = first_pages.first().copied().unwrap_or(f64::NAN);
    let worst = first_pages
        .iter()
        .chain(&last_pages)
        .copied()
        .fold(0.0, f64::max);
    report.check(
        "GetWorkflowRuns page latency vs history size",
        format!(
            "page 1 at {}: {}; worst first/last page up to {}: {}",
            thousands(ctx.sizes.history[0]),
            ms(base),
            thousands(stored),
            ms(worst)
        ),
        LATENCY_FLAT,
        latency_flat(base, worst),
    );
    if let (Some(&small), Some(&large)) = (rss.first(), rss.last()) {
        report.check(
            "server RSS vs stored history",
            format!(
                "{} at {} runs, {} at {} runs",
                mib(small),
                thousands(ctx.sizes.history[0]),
                mib(large),
                thousands(stored)
            ),
            RSS_FLAT,
            rss_flat(small, large),
        );
    }
    ctx.observe_memory(
        weir,
        &format!("scale: after storing {} runs", thousands(stored)),
    );
    Ok(stored)
}

/// Whether a latency stayed flat as the stored data grew: `worst` within 2× `base` (the
/// figure at the smallest size) or within 1 ms of it.
fn latency_flat(base: f64, worst: f64) -> bool {
    worst <= (2.0 * base).max(base + 1.0)
}

/// Whether resident memory stayed flat as the stored data grew: `large_kib` within 1.5×
/// `small_kib` (the smallest size's) or within 16 MiB of it.
fn rss_flat(small_kib: u64, large_kib: u64) -> bool {
    large_kib as f64 <= (1.5 * small_kib as f64).max(small_kib as f64 + 16.0 * 1024.0)
}

/// Size in bytes of the store's file `name` in `data_dir` (0 when it does not exist).
fn store_file_bytes(data_dir: &Path, name: &str) -> Result<u64> {
    match std::fs::metadata(data_dir.join(name)) {
        Ok(meta) => Ok(meta.len()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error).with_context(|| format!("size of {name}")),
    }
}

/// Latencies (ms) of `SAMPLES` sequential calls.
async fn repeat(conn: &mut Conn, operation: &str, body: &Value) -> Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let answer = conn.call_raw(operation, body).await?;
        answer
            .json()
            .with_context(|| format!("{operation} {body}"))?;
        latencies.push(answer.latency.as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// Many concurrent runs of a one-job workflow, started at once, to all COMPLETED.
async fn concurrent_runs(
    ctx: &mut Ctx,
    report: &mut Report,
    weir: &Server,
    conn: &mut Conn,
    script: &std::path::Path,
) -> Result<()> {
    let n = ctx.sizes.concurrent_runs;
    conn.call(
        "CreateJob",
        glue::job_body("burst-job", script, Some(n as u32)),
    )
    .await?;
    glue::create_workflow(conn, "burst").await?;
    glue::start_trigger(conn, "burst", "burst-start", &["burst-job".to_string()]).await?;
    let rss_before = weir.rss_kib()?;
    let server_cpu_before = procfs::cpu_time(weir.pid())?;
    let jobs_cpu_before = procfs::children_cpu_time(weir.pid())?;
    let started = Instant::now();
    let signer = crate::client::Signer::new(weir.addr);
    let body = serde_json::to_vec(&json!({ "Name": "burst" }))?;
    let source = Source::presigned(&signer, "StartWorkflowRun", &[body], 256)?;
    let starts = load::run(
        weir.addr,
        source,
        Plan::counted(BULK_CONNECTIONS, n, BURST_LIMIT),
        Some(weir.pid()),
    )
    .await?;
    starts.ensure_clean("StartWorkflowRun (burst)")?;
    let all_started = started.elapsed();
    let mut peak_rss = rss_before;
    let runs = loop {
        peak_rss = peak_rss.max(weir.rss_kib().unwrap_or(0));
        let runs = all_runs(conn, "burst").await?;
        let done = runs
            .iter()
            .filter(|r| {
                glue::wire_enum::<WorkflowRunStatus>(&r["Status"]) != WorkflowRunStatus::Running
            })
            .count() as u64;
        if done >= n {
            break runs;
        }
        if started.elapsed() > BURST_LIMIT {
            bail!("{done} of {n} burst runs completed after {BURST_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let all_done = started.elapsed();
    let server_cpu = procfs::cpu_time(weir.pid())?.saturating_sub(server_cpu_before);
    let jobs_cpu = procfs::children_cpu_time(weir.pid())?.saturating_sub(jobs_cpu_before);
    let succeeded: i64 = runs
        .iter()
        .map(|r| r["Statistics"]["SucceededActions"].as_i64().unwrap_or(0))
        .sum();
    if succeeded != n as i64
        || runs.iter().any(|r| {
            glue::wire_enum::<WorkflowRunStatus>(&r["Status"]) != WorkflowRunStatus::Completed
        })
    {
        bail!("burst: {succeeded} of {n} job runs SUCCEEDED");
    }
    let first_start = runs
        .iter()
        .filter_map(|r| glue::epoch_ms(&r["StartedOn"]))
        .min();
    let last_done = runs
        .iter()
        .filter_map(|r| glue::epoch_ms(&r["CompletedOn"]))
        .max();
    let durations: Vec<f64> = runs
        .iter()
        .filter_map(|r| {
            Some((glue::epoch_ms(&r["CompletedOn"])? - glue::epoch_ms(&r["StartedOn"])?) as f64)
        })
        .collect();
    let mut table = Table::new(&["figure", "value"]);
    table.row(vec![
        format!(
            "{} StartWorkflowRun answered (64 connections)",
            thousands(n)
        ),
        format!(
            "{} ({} /s)",
            ms(all_started.as_secs_f64() * 1000.0),
            rate(starts.rate())
        ),
    ]);
    table.row(vec![
        "all runs COMPLETED, every job run SUCCEEDED (client, 250 ms polling)".into(),
        ms(all_done.as_secs_f64() * 1000.0),
    ]);
    table.row(vec![
        "first run StartedOn → last run CompletedOn (server)".into(),
        first_start
            .zip(last_done)
            .map_or_else(|| "–".into(), |(a, b)| ms((b - a) as f64)),
    ]);
    table.row(vec![
        "one run's StartedOn → CompletedOn p50 / p99 / max".into(),
        format!(
            "{} / {} / {}",
            ms(quantile(&durations, 0.5)),
            ms(quantile(&durations, 0.99)),
            ms(quantile(&durations, 1.0))
        ),
    ]);
    table.row(vec![
        "CPU time: Weir itself / its job processes (sh + Python), over that wall time".into(),
        format!(
            "{:.1} s / {:.1} s (the machine has {} cores: {:.1} core-s available)",
            server_cpu.as_secs_f64(),
            jobs_cpu.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            all_done.as_secs_f64()
                * std::thread::available_parallelism().map_or(0, |n| n.get()) as f64
        ),
    ]);
    table.row(vec![
        "server RSS before → peak seen while polling → after".into(),
        format!(
            "{} → {} → {}",
            mib(rss_before),
            mib(peak_rss),
            mib(weir.rss_kib()?)
        ),
    ]);
    report.note(&format!(
        "\n**{} concurrent runs.** Workflow `burst`: start trigger → one pythonshell job \
         (`pass`) whose ExecutionProperty.MaxConcurrentRuns is {n}. {} StartWorkflowRun calls \
         on {BULK_CONNECTIONS} connections at once, then GetWorkflowRuns until every run is \
         COMPLETED. Every run spawns one `sh` + Python process; on 2 cores this is bounded by \
         process start-up CPU.",
        thousands(n),
        thousands(n)
    ));
    report.table(&table);
    ctx.observe_memory(
        weir,
        &format!("scale: after {} concurrent runs completed", thousands(n)),
    );
    Ok(())
}

/// Every run of `workflow` (GetWorkflowRuns pages of 1,000, no graphs).
async fn all_runs(conn: &mut Conn, workflow: &str) -> Result<Vec<Value>> {
    let mut runs = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "Name": workflow });
        if let Some(token) = &token {
            body["NextToken"] = json!(token);
        }
        let answer = conn.call("GetWorkflowRuns", body).await?;
        runs.extend(answer["Runs"].as_array().cloned().unwrap_or_default());
        match answer["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => return Ok(runs),
        }
    }
}
