//! Durability cost: state-changing calls per second with every acknowledged change
//! committed to disk, the fsyncs each call costs, and the disk's own fsync latency.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;

use super::Ctx;
use super::api::{self, CONNECTIONS, Op};
use crate::glue::quantile;
use crate::report::{Report, Table, ms, pct, rate};
use crate::servers::Server;

/// Runs the section.
pub async fn run(ctx: &mut Ctx, report: &mut Report) -> Result<()> {
    report.section("Durability: committed state changes per second");
    report.note(
        "How Weir commits (crates/store/src/sqlite.rs, group_commit.rs): SQLite in WAL mode \
         with `synchronous=FULL`; one writer connection; **group commit**: each call's \
         changes run in a savepoint of the open batch transaction, and the calls that \
         arrived while a commit's fsync was in flight are committed together by the next \
         commit, each answered only after the commit that holds its changes (so \
         `fsyncs/call` falls below 1 as connections grow; plus, every 1,000 WAL pages, a \
         checkpoint that fsyncs the WAL and the database). StartWorkflowRun runs a \
         workflow with no start trigger (read workflow and triggers, count active runs, \
         insert the run). `fsyncs/call` counts the server's fsync+fdatasync system calls \
         with `perf stat` (tracepoints syscalls:sys_enter_fsync/fdatasync) over the \
         measurement.",
    );
    let data_dir = ctx.data_dir("durability");
    let weir = Server::weir(&ctx.weir, &data_dir)?;
    api::setup(&weir).await?;
    let fsync = fsync_latency(&data_dir.join("fsync-probe"), 500)?;
    report.note(&format!(
        "\nThe disk under the data directory: write 4 KiB + fdatasync p50 {}, p99 {} \
         (500 samples) — a ceiling of about {} serial commits/s if every commit waits for one \
         fsync.",
        ms(fsync.0),
        ms(fsync.1),
        rate(1000.0 / fsync.0.max(1e-3))
    ));
    let mut table = Table::new(&[
        "operation",
        "conns",
        "committed calls/s",
        "p50",
        "p99",
        "fsyncs/call",
        "Weir CPU",
        "gen CPU",
    ]);
    let ceiling = 1000.0 / fsync.0.max(1e-3);
    let mut start_peak = 0f64;
    let mut grouped = Vec::new();
    for op in [Op::CreateWorkflow, Op::StartWorkflowRun] {
        for connections in CONNECTIONS {
            api::warm_up(ctx, &weir, op, connections).await?;
            let counter = SyscallCounter::start(weir.pid());
            let result = api::measure_only(ctx, &weir, op, connections).await?;
            let fsyncs = counter.and_then(SyscallCounter::stop);
            if op == Op::StartWorkflowRun {
                start_peak = start_peak.max(result.rate());
            }
            if connections > 1 {
                grouped.push((op, connections, result.rate(), result.quantile_ms(0.99)));
            }
            table.row(vec![
                op.name().into(),
                connections.to_string(),
                rate(result.rate()),
                ms(result.quantile_ms(0.5)),
                ms(result.quantile_ms(0.99)),
                fsyncs.map_or_else(
                    || "n/a".into(),
                    |n| format!("{:.2}", n as f64 / (result.ok.max(1)) as f64),
                ),
                result.server_cpu_pct().map_or_else(|| "–".into(), pct),
                pct(result.client_cpu_pct()),
            ]);
        }
    }
    report.table(&table);
    report.check(
        "StartWorkflowRun durably committed, peak",
        format!("{}/s", rate(start_peak)),
        "≥ 2,000/s",
        start_peak >= 2_000.0,
    );
    for (op, connections, calls, p99) in grouped {
        report.check(
            &format!(
                "{} at {connections} connections vs the serial-commit ceiling",
                op.name()
            ),
            format!(
                "{:.2}× ({}/s vs {}/s)",
                calls / ceiling,
                rate(calls),
                rate(ceiling)
            ),
            "≥ 2×",
            calls >= 2.0 * ceiling,
        );
        if connections == 16 {
            report.check(
                &format!("{} p99 at 16 connections", op.name()),
                ms(p99),
                "≤ 10 ms",
                p99 <= 10.0,
            );
        }
    }
    ctx.observe_memory(&weir, "durability: after the write load");
    weir.stop()
}

/// p50 and p99 (ms) of `write(4 KiB) + fdatasync` on a file at `path`.
fn fsync_latency(path: &Path, samples: usize) -> Result<(f64, f64)> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(path)?;
    let block = [0x5au8; 4096];
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples {
        file.write_all_at(&block, (i * block.len()) as u64)?;
        let started = Instant::now();
        file.sync_data()?;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    file.flush()?;
    drop(file);
    std::fs::remove_file(path)?;
    Ok((quantile(&latencies, 0.5), quantile(&latencies, 0.99)))
}

/// `perf stat` counting a process's fsync and fdatasync calls; `None` without perf.
struct SyscallCounter {
    /// The `perf stat` process.
    child: Child,
    /// Where perf writes its counts (CSV).
    output: PathBuf,
}

impl SyscallCounter {
    /// Attaches perf to process `pid`.
    fn start(pid: u32) -> Option<Self> {
        let output = std::env::temp_dir().join(format!("weir-bench-perf-{pid}.csv"));
        let child = Command::new("perf")
            .args([
                "stat",
                "-x",
                ",",
                "-e",
                "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync",
                "-p",
                &pid.to_string(),
                "-o",
            ])
            .arg(&output)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        // Let perf attach before the load starts.
        std::thread::sleep(Duration::from_millis(300));
        Some(Self { child, output })
    }

    /// Stops perf and returns the number of calls it counted.
    fn stop(mut self) -> Option<u64> {
        // SAFETY: signals our own child; SIGINT makes perf print its counts and exit.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let _ = self.child.wait();
        let text = std::fs::read_to_string(&self.output).ok()?;
        let _ = std::fs::remove_file(&self.output);
        let counts: Vec<u64> = text
            .lines()
            .filter(|l| l.contains("syscalls:sys_enter_"))
            .filter_map(|l| l.split(',').next()?.trim().parse().ok())
            .collect();
        (counts.len() == 2).then(|| counts.iter().sum())
    }
}
