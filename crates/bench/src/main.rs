//! `weir-bench`: Weir's benchmark suite (not part of the test suite).
//!
//! `./scripts/bench.sh [SECTION…]` builds the release binaries, installs the peer
//! (moto_server) into `.venv-bench` and runs `weir-bench run`, which starts every server
//! it measures on 127.0.0.1, prints each figure beside its target and the peer's, and
//! writes the report as Markdown. Sections:
//!
//! - `api` — GetWorkflow, ListWorkflows, CreateWorkflow, StartWorkflowRun under 1, 16
//!   and 64 keep-alive connections, Weir, a trivial endpoint (the machine's ceiling with
//!   this generator) and moto side by side;
//! - `durability` — state-changing calls per second with every change committed
//!   (fsyncs counted per call when `perf` is available) and the disk's fsync latency;
//! - `transitions` — a chain of 40 pythonshell jobs and a fan-out of 100 joined by an
//!   AND trigger: gaps between a job's CompletedOn and the next job's StartedOn;
//! - `scale` — GetWorkflow(IncludeGraph) on 1,000-job graphs, GetWorkflowRuns first and
//!   last page at 1k/10k/100k stored runs, 1,000 concurrent runs of a one-job workflow;
//! - `events` — PutEvents entries/s at 1 and 16 connections with every event durably
//!   batched, and the latency from the PutEvents call that completes a batch to the
//!   StartedOn of the run it starts;
//! - `logs` — GetLogEvents latency of the first page (from the head) and the last page
//!   (from the tail) of a 100,000-line stream beside a 1,000-line stream;
//! - `s3` — PutObject and GetObject of 4 KiB and 64 MiB objects at 1 and 16
//!   connections against Weir and moto_server, beside the disk's `dd` throughput and
//!   fsync latency and the generator's own ceiling for 64 MiB bodies;
//! - `spark` — glueetl job runs (a trivial job, a CSV → Parquet conversion) through
//!   Weir beside the same scripts through a bare `spark-submit` of the same runtime;
//! - `console` — the console's pages for a workflow with 1,000 runs (signed in);
//! - `memory` — resident memory at rest with 10,000 workflows, after the loads, and
//!   after a restart on the same data;
//! - `replicas` — GetWorkflow and durable StartWorkflowRun at 16 and 64 connections on
//!   one Weir on SQLite, one on PostgreSQL and three replicas on PostgreSQL, and the
//!   time a SIGKILLed replica's runs take to complete on the survivors.

mod client;
mod glue;
mod load;
mod procfs;
mod report;
mod sections;
mod servers;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use crate::report::Report;
use crate::sections::{Ctx, Sizes};
use crate::servers::WeirCommand;

#[derive(Parser)]
#[command(
    name = "weir-bench",
    about = "Weir's benchmark suite: API throughput, node-transition latency and scale, side by side with moto_server"
)]
/// The command line.
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
/// The subcommands.
enum Command {
    /// Runs the suite (all sections, or the ones named) and prints the report.
    Run(RunArgs),
    /// Sends one operation's load to an already running server and prints the figures
    /// (for profiling the server under a known load, e.g. with `perf record -p`).
    Load {
        /// Address of the server (loopback).
        #[arg(long)]
        addr: SocketAddr,
        /// Operation to send.
        #[arg(long, value_enum)]
        op: LoadOp,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 16)]
        connections: usize,
        /// Seconds to send for.
        #[arg(long, default_value_t = 10.0)]
        duration_secs: f64,
        /// Create the workflows the operation uses first.
        #[arg(long)]
        setup: bool,
    },
    /// Runs the `scale` section's `wide` graph (built first unless the workflow exists)
    /// on an already running Weir and prints the server's CPU time per job of each run
    /// (for profiling the server over a run, e.g. with `perf record -p`).
    Wide {
        /// Address of the server (loopback).
        #[arg(long)]
        addr: SocketAddr,
        /// Process id of the server (its CPU time is read from `/proc`).
        #[arg(long)]
        pid: u32,
        /// Jobs of the graph.
        #[arg(long, default_value_t = 1_000)]
        jobs: usize,
        /// Runs, one after the other.
        #[arg(long, default_value_t = 1)]
        runs: usize,
        /// Where the jobs' script is written when the graph is built.
        #[arg(long, default_value = "/tmp/weir-bench-wide")]
        script_dir: PathBuf,
    },
    /// A trivial HTTP endpoint answering `200 {}` to everything, to measure the load
    /// generator's own ceiling. Prints `listening on <addr>`.
    EchoServer {
        /// Loopback address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Answer with this many bytes held in memory instead of `{}` (the ceiling for
        /// large bodies).
        #[arg(long)]
        body_bytes: Option<usize>,
    },
}

#[derive(clap::Args)]
/// Options of `weir-bench run`.
struct RunArgs {
    /// Sections to run, in the order given (default: all).
    #[arg(value_enum)]
    sections: Vec<Section>,
    /// The `weir` binary (release build).
    #[arg(long)]
    weir: PathBuf,
    /// The `moto_server` executable of the peer; without it the peer columns are empty.
    #[arg(long)]
    moto: Option<PathBuf>,
    /// Python interpreter for pythonshell jobs (passed to `weir serve --python`).
    #[arg(long, default_value = "python3")]
    python: String,
    /// Directory of the prepared Spark runtimes (passed to `weir serve --runtime-dir`).
    #[arg(long, default_value = "target/weir-runtimes")]
    runtime_dir: PathBuf,
    /// `scripts/postgres.sh` (the replicas section's throwaway PostgreSQL cluster).
    #[arg(long, default_value = "scripts/postgres.sh")]
    postgres_script: PathBuf,
    /// Directory for data directories and logs (kept); default: a temporary directory
    /// removed at the end.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Seconds each throughput measurement lasts (after a warm-up of a sixth of it).
    #[arg(long, default_value_t = 3.0)]
    duration_secs: f64,
    /// Worker threads of the load generator's runtime (1 keeps it to one core).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Smaller sizes and shorter runs, to check the suite end to end quickly.
    #[arg(long)]
    quick: bool,
    /// Also write the report as Markdown to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

/// Operations `weir-bench load` can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LoadOp {
    /// GetWorkflow of 16 workflows in turn.
    GetWorkflow,
    /// ListWorkflows.
    ListWorkflows,
    /// CreateWorkflow with new names.
    CreateWorkflow,
    /// StartWorkflowRun of a workflow without a start trigger.
    StartWorkflowRun,
    /// PutObject of 4 KiB objects over 64 keys of the bucket `bench` (`--setup` creates
    /// it), as the `s3` section sends them.
    PutObject,
}

/// The sections of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Section {
    /// API throughput and latency against the trivial endpoint and moto_server.
    Api,
    /// Durably committed state changes per second.
    Durability,
    /// Node-transition latency (chain of 40, fan-out of 100).
    Transitions,
    /// Large graphs, long run history, 1,000 concurrent runs.
    Scale,
    /// Resident memory.
    Memory,
    /// EventBridge: PutEvents throughput, batch-complete → run start latency.
    Events,
    /// CloudWatch Logs: GetLogEvents first and last page by stream length.
    Logs,
    /// S3: PutObject and GetObject throughput against Weir, moto and the disk.
    S3,
    /// Spark: glueetl job runs against bare spark-submit.
    Spark,
    /// Console: page latency for a workflow with 1,000 runs.
    Console,
    /// Replicas: SQLite, PostgreSQL and three replicas side by side; failover time.
    Replicas,
}

/// Every section, in the default order.
const ALL_SECTIONS: [Section; 11] = [
    Section::Api,
    Section::Durability,
    Section::Transitions,
    Section::Scale,
    Section::Events,
    Section::Logs,
    Section::S3,
    Section::Spark,
    Section::Console,
    Section::Memory,
    Section::Replicas,
];

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::EchoServer { listen, body_bytes } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(echo_server(listen, body_bytes)),
        Command::Load {
            addr,
            op,
            connections,
            duration_secs,
            setup,
        } => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?
            .block_on(load_only(addr, op, connections, duration_secs, setup)),
        Command::Wide {
            addr,
            pid,
            jobs,
            runs,
            script_dir,
        } => {
            anyhow::ensure!(
                addr.ip().is_loopback(),
                "weir-bench only sends load to loopback addresses, not {addr}"
            );
            anyhow::ensure!(jobs >= 3, "the wide graph needs at least 3 jobs");
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()?
                .block_on(sections::scale::wide_only(
                    addr,
                    pid,
                    jobs,
                    runs,
                    &script_dir,
                ))
        }
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.client_threads.max(1))
                .enable_all()
                .build()?;
            let all_met = runtime.block_on(run(args))?;
            if !all_met {
                eprintln!("weir-bench: some targets were missed (see the summary)");
            }
            Ok(())
        }
    }
}

/// `weir-bench run`: every section asked for; `true` when every target was met.
async fn run(args: RunArgs) -> Result<bool> {
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    let temp;
    let work = match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => {
            temp = tempfile::Builder::new().prefix("weir-bench-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let duration = Duration::from_secs_f64(args.duration_secs.max(0.2));
    let mut ctx = Ctx {
        weir: WeirCommand {
            bin: args.weir.clone(),
            python: args.python.clone(),
            runtime_dir: std::path::absolute(&args.runtime_dir)?,
        },
        moto: args.moto.clone(),
        postgres_script: std::path::absolute(&args.postgres_script)?,
        work,
        duration,
        warmup: duration / 6,
        sizes: if args.quick {
            Sizes::quick()
        } else {
            Sizes::full()
        },
        memory: Vec::new(),
    };
    let sections = if args.sections.is_empty() {
        ALL_SECTIONS.to_vec()
    } else {
        args.sections.clone()
    };
    let mut report = Report::new(&procfs::Machine::detect(), &command_line);
    for section in sections {
        let started = std::time::Instant::now();
        let result = match section {
            Section::Api => sections::api::run(&mut ctx, &mut report).await,
            Section::Durability => sections::durability::run(&mut ctx, &mut report).await,
            Section::Transitions => sections::transitions::run(&mut ctx, &mut report).await,
            Section::Scale => sections::scale::run(&mut ctx, &mut report).await,
            Section::Memory => sections::memory::run(&mut ctx, &mut report).await,
            Section::Events => sections::events::run(&mut ctx, &mut report).await,
            Section::Logs => sections::logs::run(&mut ctx, &mut report).await,
            Section::S3 => sections::s3::run(&mut ctx, &mut report).await,
            Section::Spark => sections::spark::run(&mut ctx, &mut report).await,
            Section::Console => sections::console::run(&mut ctx, &mut report).await,
            Section::Replicas => sections::replicas::run(&mut ctx, &mut report).await,
        };
        if let Err(error) = &result {
            eprintln!("weir-bench: section {section:?} failed: {error:#}");
        }
        result.with_context(|| format!("section {section:?}"))?;
        eprintln!(
            "weir-bench: section {section:?} took {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    let all_met = report.finish();
    if let Some(path) = &args.markdown {
        report.write(path)?;
        eprintln!("weir-bench: report written to {}", path.display());
    }
    Ok(all_met)
}

/// `weir-bench load`: one operation against a running server.
async fn load_only(
    addr: SocketAddr,
    op: LoadOp,
    connections: usize,
    duration_secs: f64,
    setup: bool,
) -> Result<()> {
    use sections::api::Op;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "weir-bench only sends load to loopback addresses, not {addr}"
    );
    let op = match op {
        LoadOp::PutObject => return put_objects(addr, connections, duration_secs, setup).await,
        LoadOp::GetWorkflow => Op::GetWorkflow,
        LoadOp::ListWorkflows => Op::ListWorkflows,
        LoadOp::CreateWorkflow => Op::CreateWorkflow,
        LoadOp::StartWorkflowRun => Op::StartWorkflowRun,
    };
    if setup {
        sections::api::setup_at(addr).await?;
    }
    // StartWorkflowRun starts `bench-start-load` (created when missing); CreateWorkflow
    // names are unique per invocation.
    let tag = if op == Op::StartWorkflowRun {
        let workflow = sections::api::start_workflow("load");
        glue::ensure_workflow(&mut client::Conn::new(addr), &workflow).await?;
        "load".to_string()
    } else {
        format!("load-{}", std::process::id())
    };
    let source = op.source(&client::Signer::new(addr), &tag, false)?;
    let plan = load::Plan::timed(connections, Duration::from_secs_f64(duration_secs));
    let result = load::run(addr, source, plan, None).await?;
    print_load(op.name(), connections, &result);
    Ok(())
}

/// `weir-bench load --op put-object`: the `s3` section's 4 KiB PutObjects.
async fn put_objects(
    addr: SocketAddr,
    connections: usize,
    duration_secs: f64,
    setup: bool,
) -> Result<()> {
    const SIZE: usize = 4 * 1024;
    if setup {
        sections::s3::create_bucket(addr).await?;
    }
    let pool = sections::s3::signed_pool(addr, &http::Method::PUT, SIZE)?;
    let plan = load::Plan::timed(connections, Duration::from_secs_f64(duration_secs));
    let result = load::run(addr, load::Source::Cycle(pool), plan, None).await?;
    print_load("PutObject", connections, &result);
    Ok(())
}

/// Prints the figures of one load.
fn print_load(name: &str, connections: usize, result: &load::LoadResult) {
    println!(
        "{name} x{connections}: {} ok, {} errors, {} req/s, p50 {}, p99 {}, generator CPU {}",
        result.ok,
        result.errors,
        report::rate(result.rate()),
        report::ms(result.quantile_ms(0.5)),
        report::ms(result.quantile_ms(0.99)),
        report::pct(result.client_cpu_pct())
    );
    if let Some(error) = &result.first_error {
        println!("first error: {error}");
    }
}

/// Serves `200 {}` (or `body_bytes` bytes from memory) on every connection until killed.
async fn echo_server(listen: SocketAddr, body_bytes: Option<usize>) -> Result<()> {
    anyhow::ensure!(
        listen.ip().is_loopback(),
        "the echo server listens on loopback addresses only, not {listen}"
    );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let answer = body_bytes.map_or(Bytes::from_static(b"{}"), |n| Bytes::from(vec![b'e'; n]));
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let answer = answer.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let answer = answer.clone();
                async move {
                    let mut body = request.into_body();
                    while let Some(Ok(_)) = body.frame().await {}
                    let mut response = hyper::Response::new(Full::new(answer));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static(client::JSON_CONTENT_TYPE),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
