//! Replicas: API throughput and durable StartWorkflowRun/s of one Weir on SQLite, one on
//! PostgreSQL and three replicas on PostgreSQL side by side, and the failover time of a
//! SIGKILLed replica's runs.
//!
//! The PostgreSQL cluster is a throwaway one made by `scripts/postgres.sh` (a fresh
//! database per configuration) and removed at the end of the section.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::json;
use weir_model::shapes::{JobRunState, WorkflowRunStatus};

use super::Ctx;
use super::api::{self, Op};
use crate::client::Conn;
use crate::glue;
use crate::load::LoadResult;
use crate::procfs;
use crate::report::{Report, Table, ms, pct, rate};
use crate::servers::Server;

/// Connection counts each configuration is measured at.
const CONNECTIONS: [usize; 2] = [16, 64];
/// Replicas of the clustered configuration and of the failover measurement.
const REPLICAS: usize = 3;
/// Lease timeout of the failover measurement, seconds.
const LEASE_SECS: u64 = 2;
/// Runs started on the replica that is killed.
const FAILOVER_RUNS: usize = 6;
/// Failover measurements, each on a fresh data directory and database.
const FAILOVER_ROUNDS: usize = 3;
/// How often the survivors are asked about the runs after the kill.
const POLL: Duration = Duration::from_millis(20);
/// Bound on the job runs reaching RUNNING before the kill.
const RUNNING_LIMIT: Duration = Duration::from_secs(120);
/// Bound on the runs completing after the kill.
const FAILOVER_LIMIT: Duration = Duration::from_secs(60);

/// One measurement of the throughput table.
struct Measured {
    /// What the generator saw.
    result: LoadResult,
    /// The PostgreSQL cluster's CPU over the measurement, % of one core (`None` on
    /// SQLite).
    postgres_cpu_pct: Option<f64>,
}

/// One measured configuration of the throughput table.
struct Config {
    /// Column heading.
    label: &'static str,
    /// Database name on the PostgreSQL cluster (`None`: SQLite in the data directory).
    database: Option<&'static str>,
    /// `weir serve` processes sharing the store and the data directory.
    replicas: usize,
}

/// The configurations, in column order.
const CONFIGS: [Config; 3] = [
    Config {
        label: "1 × SQLite",
        database: None,
        replicas: 1,
    },
    Config {
        label: "1 × PostgreSQL",
        database: Some("bench_pg1"),
        replicas: 1,
    },
    Config {
        label: "3 × PostgreSQL",
        database: Some("bench_pg3"),
        replicas: REPLICAS,
    },
];

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Replicas: SQLite, PostgreSQL and three replicas on PostgreSQL; failover");
    if !initdb_installed() {
        report.note(
            "Skipped: PostgreSQL's `initdb` is not installed (neither on PATH nor in \
             /usr/lib/postgresql/*/bin); install Debian's `postgresql` package to run it.",
        );
        eprintln!("weir-bench: replicas skipped: initdb is not installed");
        return Ok(());
    }
    let cluster = Cluster::start(&ctx.postgres_script)?;
    throughput(ctx, report, &cluster).await?;
    failover(ctx, report, &cluster).await?;
    cluster.stop()
}

/// The throughput table: every configuration, GetWorkflow and StartWorkflowRun at 16
/// and 64 connections.
async fn throughput(ctx: &Ctx, report: &mut Report, cluster: &Cluster) -> Result<()> {
    report.note(&format!(
        "Closed loop as in the API section (pre-signed pools of 256 requests, HTTP/1.1 \
         keep-alive), {:.1} s per measurement after {:.1} s of warm-up. GetWorkflow reads 16 \
         workflows in turn; StartWorkflowRun starts a workflow with no start trigger, every \
         run committed durably before the answer (PostgreSQL: `fsync=on`, \
         `synchronous_commit` on). Configurations, one after another on this machine: one \
         Weir on SQLite; one Weir on PostgreSQL; {REPLICAS} `weir serve` processes on one \
         PostgreSQL database and one data directory, connection i sent to replica i mod \
         {REPLICAS}. Each PostgreSQL configuration has a fresh database of the same \
         throwaway cluster (`scripts/postgres.sh`) on the same machine. `Weir CPU` is the \
         sum over the replicas, `PG CPU` the PostgreSQL cluster's (postmaster and \
         backends), both in % of one core over the measurement; the machine's cores are \
         shared by the generator, Weir and PostgreSQL.",
        ctx.duration.as_secs_f64(),
        ctx.warmup.as_secs_f64()
    ));
    let measured = [Op::GetWorkflow, Op::StartWorkflowRun];
    // results[config][op × connections]
    let mut results: Vec<Vec<Measured>> = Vec::new();
    for config in &CONFIGS {
        let name = format!(
            "replicas-{}",
            config.database.unwrap_or("sqlite").replace('_', "-")
        );
        let data_dir = ctx.data_dir(&name);
        let store = match config.database {
            Some(database) => Some(cluster.database(database)?),
            None => None,
        };
        let servers = start_replicas(ctx, &data_dir, store.as_deref(), config.replicas, None)?;
        api::setup_at(servers[0].addr).await?;
        let mut column = Vec::new();
        for op in measured {
            for connections in CONNECTIONS {
                api::warm_up_spread(ctx, &servers, op, connections).await?;
                let postgres_before = store.as_ref().map(|_| cluster.cpu_time()).transpose()?;
                let started = Instant::now();
                let result = api::measure_only_spread(ctx, &servers, op, connections).await?;
                let postgres_cpu_pct = match postgres_before {
                    Some(before) => Some(
                        100.0 * cluster.cpu_time()?.saturating_sub(before).as_secs_f64()
                            / started.elapsed().as_secs_f64().max(1e-9),
                    ),
                    None => None,
                };
                column.push(Measured {
                    result,
                    postgres_cpu_pct,
                });
            }
        }
        for server in servers {
            server.stop()?;
        }
        results.push(column);
    }
    let mut header = vec!["operation", "conns"];
    for config in &CONFIGS {
        header.extend([config.label, "p50", "p99", "Weir CPU"]);
        if config.database.is_some() {
            header.push("PG CPU");
        }
    }
    header.push("3 × PG / 1 × PG");
    let mut table = Table::new(&header);
    let (pg1, pg3) = (1, 2);
    for (row, (op, connections)) in measured
        .iter()
        .flat_map(|op| CONNECTIONS.iter().map(move |c| (op, c)))
        .enumerate()
    {
        let mut cells = vec![op.name().to_string(), connections.to_string()];
        for column in &results {
            let Measured {
                result,
                postgres_cpu_pct,
            } = &column[row];
            cells.extend([
                format!("{}/s", rate(result.rate())),
                ms(result.quantile_ms(0.5)),
                ms(result.quantile_ms(0.99)),
                result.server_cpu_pct().map_or_else(|| "–".into(), pct),
            ]);
            cells.extend(postgres_cpu_pct.map(pct));
        }
        cells.push(format!(
            "{:.2}×",
            results[pg3][row].result.rate() / results[pg1][row].result.rate().max(1e-9)
        ));
        table.row(cells);
    }
    report.table(&table);
    Ok(())
}

/// The failover table: a replica SIGKILLed while its runs wait, the time until the
/// survivors have completed them.
async fn failover(ctx: &Ctx, report: &mut Report, cluster: &Cluster) -> Result<()> {
    let target = Duration::from_secs(2 * LEASE_SECS);
    report.note(&format!(
        "\nFailover: {REPLICAS} replicas with `--lease-timeout {LEASE_SECS}` on a fresh \
         database and data directory. A workflow whose start trigger starts one pythonshell \
         job that waits for a gate file (checked every 10 ms) and exits 0; {FAILOVER_RUNS} \
         runs started on replica 0; once all {FAILOVER_RUNS} job runs are RUNNING, replica 0 \
         is SIGKILLed and the gate file created at once; replicas 1 and 2 are asked in turn \
         (GetWorkflowRun every {} ms) until every run is COMPLETED, its job run SUCCEEDED. \
         Times from the SIGKILL to the first and the last run seen COMPLETED; target 2 × the \
         lease timeout = {} s.",
        POLL.as_millis(),
        target.as_secs()
    ));
    let mut table = Table::new(&[
        "round",
        "runs",
        "kill → first COMPLETED",
        "kill → last COMPLETED",
        "target",
    ]);
    // `None`: some run was not COMPLETED within FAILOVER_LIMIT.
    let mut worst = Some(Duration::ZERO);
    for round in 1..=FAILOVER_ROUNDS {
        let (first, last) = failover_round(ctx, cluster, round).await?;
        worst = worst.zip(last).map(|(worst, last)| worst.max(last));
        table.row(vec![
            round.to_string(),
            FAILOVER_RUNS.to_string(),
            shown(first),
            shown(last),
            format!("≤ {} s", target.as_secs()),
        ]);
    }
    report.table(&table);
    report.check(
        "Failover: SIGKILL → the dead replica's last run COMPLETED (worst round)",
        shown(worst),
        &format!("≤ {} ms (2 × lease)", target.as_millis()),
        worst.is_some_and(|worst| worst <= target),
    );
    Ok(())
}

/// A failover time, or how long was waited in vain.
fn shown(time: Option<Duration>) -> String {
    time.map_or_else(
        || format!("> {} s", FAILOVER_LIMIT.as_secs()),
        |time| ms(time.as_secs_f64() * 1000.0),
    )
}

/// One failover measurement; the times from the kill to the first and the last run
/// seen COMPLETED (`None`: not within [`FAILOVER_LIMIT`]).
async fn failover_round(
    ctx: &Ctx,
    cluster: &Cluster,
    round: usize,
) -> Result<(Option<Duration>, Option<Duration>)> {
    let data_dir = ctx.data_dir(&format!("replicas-failover-{round}"));
    let store = cluster.database(&format!("bench_failover_{round}"))?;
    let gate = Gate::new(ctx.work.join(format!("replicas-gate-{round}")))?;
    let script = gate.script(&ctx.work.join("scripts"), round)?;
    let lease = LEASE_SECS.to_string();
    let mut servers = start_replicas(ctx, &data_dir, Some(&store), REPLICAS, Some(&lease))?;

    let workflow = "failover";
    let job = "failover-gate";
    let mut conn = Conn::new(servers[0].addr);
    let limit = u32::try_from(FAILOVER_RUNS)?;
    conn.call("CreateJob", glue::job_body(job, &script, Some(limit)))
        .await?;
    glue::create_workflow(&mut conn, workflow).await?;
    glue::start_trigger(&mut conn, workflow, "failover-start", &[job.to_string()]).await?;
    let mut runs = Vec::with_capacity(FAILOVER_RUNS);
    for _ in 0..FAILOVER_RUNS {
        runs.push(glue::start_run(&mut conn, workflow).await?);
    }
    wait_job_runs_running(&mut conn, job).await?;

    let killed = Instant::now();
    servers[0].kill();
    gate.open()?;
    let mut survivors = [Conn::new(servers[1].addr), Conn::new(servers[2].addr)];
    let mut completed: Vec<Option<Duration>> = vec![None; runs.len()];
    let mut turn = 0usize;
    while completed.iter().any(Option::is_none) {
        if killed.elapsed() > FAILOVER_LIMIT {
            eprintln!(
                "weir-bench: failover round {round}: {} of {} runs still not COMPLETED \
                 {FAILOVER_LIMIT:?} after the kill (logs beside {})",
                completed.iter().filter(|c| c.is_none()).count(),
                runs.len(),
                data_dir.display()
            );
            break;
        }
        for (run_id, done) in runs.iter().zip(completed.iter_mut()) {
            if done.is_some() {
                continue;
            }
            let conn = &mut survivors[turn % survivors.len()];
            turn += 1;
            let answer = conn
                .call(
                    "GetWorkflowRun",
                    json!({ "Name": workflow, "RunId": run_id }),
                )
                .await?;
            match glue::wire_enum::<WorkflowRunStatus>(&answer["Run"]["Status"]) {
                WorkflowRunStatus::Completed => *done = Some(killed.elapsed()),
                WorkflowRunStatus::Running => {}
                other => bail!("failover round {round}: run {run_id} ended {other}"),
            }
        }
        tokio::time::sleep(POLL).await;
    }
    let first = completed.iter().flatten().min().copied();
    let last = completed.iter().copied().collect::<Option<Vec<_>>>();
    let last = last.and_then(|times| times.into_iter().max());
    if last.is_some() {
        ensure_job_runs_succeeded(&mut survivors[0], job, runs.len()).await?;
    }
    eprintln!(
        "  failover round {round}: kill → first COMPLETED {}, last {}",
        shown(first),
        shown(last)
    );
    for server in servers.drain(1..) {
        server.stop()?;
    }
    Ok((first, last))
}

/// Polls GetJobRuns of `job` until [`FAILOVER_RUNS`] of its runs are RUNNING.
async fn wait_job_runs_running(conn: &mut Conn, job: &str) -> Result<()> {
    let deadline = Instant::now() + RUNNING_LIMIT;
    loop {
        let states = job_run_states(conn, job).await?;
        let running = states
            .iter()
            .filter(|s| **s == JobRunState::Running)
            .count();
        if running == FAILOVER_RUNS {
            return Ok(());
        }
        if let Some(ended) = states.iter().find(|s| {
            !matches!(
                s,
                JobRunState::Starting | JobRunState::Running | JobRunState::Waiting
            )
        }) {
            bail!("a job run of {job} ended {ended} before the kill");
        }
        if Instant::now() >= deadline {
            bail!(
                "only {running} of {FAILOVER_RUNS} runs of {job} RUNNING after {RUNNING_LIMIT:?}"
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Fails unless `count` job runs of `job` exist and every one SUCCEEDED.
async fn ensure_job_runs_succeeded(conn: &mut Conn, job: &str, count: usize) -> Result<()> {
    let states = job_run_states(conn, job).await?;
    let succeeded = states
        .iter()
        .filter(|s| **s == JobRunState::Succeeded)
        .count();
    if states.len() != count || succeeded != count {
        bail!("after failover, {succeeded} of {count} job runs of {job} SUCCEEDED: {states:?}");
    }
    Ok(())
}

/// The states of every run of `job` (GetJobRuns, one page).
async fn job_run_states(conn: &mut Conn, job: &str) -> Result<Vec<JobRunState>> {
    let answer = conn
        .call("GetJobRuns", json!({ "JobName": job, "MaxResults": 200 }))
        .await?;
    Ok(answer["JobRuns"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|run| glue::wire_enum(&run["JobRunState"]))
        .collect())
}

/// The gate file the failover job runs wait for. Dropping it opens it, so no job
/// process is left waiting whatever happened to the measurement.
struct Gate {
    /// The file.
    path: PathBuf,
}

impl Gate {
    /// A closed gate at `path`.
    fn new(path: PathBuf) -> Result<Self> {
        match std::fs::remove_file(&path) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
            _ => Ok(Self { path }),
        }
    }

    /// Writes the job script of `round` into `dir`: it waits until the gate is open,
    /// checking every 10 ms, and exits 0. Returns its path.
    fn script(&self, dir: &Path, round: usize) -> Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let gate = self.path.to_str().context("the gate path is not UTF-8")?;
        // A JSON string is a Python string literal for a path of printable characters.
        let literal = serde_json::to_string(gate)?;
        let path = dir.join(format!("gate-{round}.py"));
        std::fs::write(
            &path,
            format!(
                "import os, time\nwhile not os.path.exists({literal}):\n    time.sleep(0.01)\n"
            ),
        )?;
        Ok(path)
    }

    /// Opens the gate (creates the file).
    fn open(&self) -> Result<()> {
        std::fs::write(&self.path, b"open\n")?;
        Ok(())
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = self.open();
    }
}

/// Starts `count` `weir serve` processes on `data_dir` and `store` (`None`: SQLite in the
/// data directory), each named `r<i>` with its own log, with `--lease-timeout` when
/// `lease_secs` is given.
fn start_replicas(
    ctx: &Ctx,
    data_dir: &Path,
    store: Option<&str>,
    count: usize,
    lease_secs: Option<&str>,
) -> Result<Vec<Server>> {
    (0..count)
        .map(|i| {
            let name = format!("r{i}");
            let mut options = Vec::new();
            if let Some(url) = store {
                options.extend(["--store", url, "--replica-name", name.as_str()]);
            }
            if let Some(lease) = lease_secs {
                options.extend(["--lease-timeout", lease]);
            }
            let log = data_dir.with_extension(format!("{name}.log"));
            Server::weir_logged(&ctx.weir, data_dir, &log, &options)
        })
        .collect()
}

/// Whether PostgreSQL's `initdb` is installed where `scripts/postgres.sh` looks for it
/// (PATH, or Debian's `/usr/lib/postgresql/<version>/bin`).
fn initdb_installed() -> bool {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("initdb").is_file()));
    let debian = std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
        versions
            .flatten()
            .any(|version| version.path().join("bin/initdb").is_file())
    });
    on_path || debian
}

/// A throwaway PostgreSQL cluster made by `scripts/postgres.sh`, removed when stopped or
/// dropped.
struct Cluster {
    /// The script that made it.
    script: PathBuf,
    /// Its directory.
    dir: PathBuf,
    /// URL of its `weir` database: `postgres://weir@127.0.0.1:<port>/weir`.
    url: String,
    /// Whether it is still to be stopped.
    running: bool,
}

impl Cluster {
    /// Starts a cluster in a new directory under the system's temporary directory (as
    /// root the script runs the cluster as `postgres`, which needs a path it can reach).
    fn start(script: &Path) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("weir-bench-postgres-{}", std::process::id()));
        let output = Command::new(script)
            .arg("start")
            .arg(&dir)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .with_context(|| format!("running {}", script.display()))?;
        let mut cluster = Self {
            script: script.to_path_buf(),
            dir,
            url: String::new(),
            running: true,
        };
        if !output.status.success() {
            let _ = cluster.remove();
            bail!("{} start failed ({})", script.display(), output.status);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        match stdout.lines().last() {
            Some(url) if url.starts_with("postgres://") && url.ends_with("/weir") => {
                cluster.url = url.to_string();
                Ok(cluster)
            }
            _ => {
                let _ = cluster.remove();
                bail!("{} start printed {stdout:?}, not a URL", script.display())
            }
        }
    }

    /// Creates database `name` (letters, digits and `_`) and returns its URL.
    fn database(&self, name: &str) -> Result<String> {
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            bail!("database name {name:?} is not a plain identifier");
        }
        let status = Command::new("psql")
            .args([
                "--no-psqlrc",
                "--quiet",
                "-v",
                "ON_ERROR_STOP=1",
                "--dbname",
            ])
            .arg(&self.url)
            .arg("--command")
            .arg(format!("CREATE DATABASE {name}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .context("running psql")?;
        if !status.success() {
            bail!("psql: CREATE DATABASE {name} failed ({status})");
        }
        let base = self.url.strip_suffix("/weir").unwrap_or(&self.url);
        Ok(format!("{base}/{name}"))
    }

    /// CPU time of the cluster's processes so far (the postmaster named in
    /// `postmaster.pid`, and its backends).
    fn cpu_time(&self) -> Result<Duration> {
        let pid_file = self.dir.join("data/postmaster.pid");
        let text = std::fs::read_to_string(&pid_file)
            .with_context(|| format!("reading {}", pid_file.display()))?;
        let pid = text
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .with_context(|| format!("no pid in {}", pid_file.display()))?;
        procfs::family_cpu_time(pid)
    }

    /// Stops the cluster and removes its directory.
    fn stop(mut self) -> Result<()> {
        let status = self.remove()?;
        if !status.success() {
            bail!("{} stop failed ({status})", self.script.display());
        }
        Ok(())
    }

    /// Runs `postgres.sh stop` once (later calls do nothing and report success).
    fn remove(&mut self) -> Result<ExitStatus> {
        if !std::mem::take(&mut self.running) {
            return Ok(ExitStatus::default());
        }
        Ok(Command::new(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()?)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.remove();
    }
}
