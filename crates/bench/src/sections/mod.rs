//! The sections of the suite and what they share.

pub mod api;
pub mod console;
pub mod durability;
pub mod events;
pub mod logs;
pub mod memory;
pub mod replicas;
pub mod s3;
pub mod scale;
pub mod spark;
pub mod transitions;

use std::path::PathBuf;
use std::time::Duration;

use crate::servers::{Server, WeirCommand};

/// Settings and observations shared by the sections of one run.
pub struct Ctx {
    /// How to start Weir.
    pub weir: WeirCommand,
    /// The peer's `moto_server`, when installed.
    pub moto: Option<PathBuf>,
    /// `scripts/postgres.sh`, which makes the throwaway PostgreSQL cluster.
    pub postgres_script: PathBuf,
    /// Root of the data directories and logs of this run.
    pub work: PathBuf,
    /// Length of one throughput measurement.
    pub duration: Duration,
    /// Warm-up before each throughput measurement (not recorded).
    pub warmup: Duration,
    /// Workload sizes.
    pub sizes: Sizes,
    /// Resident memory observed by the sections, for the memory section's table.
    pub memory: Vec<MemoryPoint>,
}

impl Ctx {
    /// A fresh data directory for `name` (any previous one is removed).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        let dir = self.work.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// Records the server's resident memory now, under `when`.
    pub fn observe_memory(&mut self, server: &Server, when: &str) {
        if let (Ok(rss), Ok(peak)) = (server.rss_kib(), server.peak_rss_kib()) {
            self.memory.push(MemoryPoint {
                when: when.to_string(),
                rss_kib: rss,
                peak_kib: peak,
            });
        }
    }
}

/// One resident-memory observation of a server.
#[derive(Debug, Clone)]
pub struct MemoryPoint {
    /// What the server had just done.
    pub when: String,
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// `VmHWM` (peak so far), KiB.
    pub peak_kib: u64,
}

/// Workload sizes of a run.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Stored-run counts at which GetWorkflowRuns pages are measured.
    pub history: Vec<u64>,
    /// Stored-workflow counts at which ListWorkflows, GetWorkflow and BatchGetWorkflows
    /// are measured.
    pub workflows: Vec<u64>,
    /// Concurrent runs of the short workflow.
    pub concurrent_runs: u64,
    /// Jobs of the large graphs (fan-out/fan-in and chain).
    pub graph_jobs: usize,
    /// Workflows stored for the memory-at-rest figure.
    pub memory_workflows: u64,
    /// Runs of the 40-job chain.
    pub chain_runs: usize,
    /// Runs of the 100-job fan-out.
    pub fan_runs: usize,
    /// Bytes of CSV the Spark conversion job reads.
    pub spark_csv_bytes: u64,
}

impl Sizes {
    /// The sizes the issue asks for.
    pub fn full() -> Self {
        Self {
            history: vec![1_000, 10_000, 100_000, 1_000_000],
            workflows: vec![100, 1_000, 10_000],
            concurrent_runs: 1_000,
            graph_jobs: 1_000,
            memory_workflows: 10_000,
            chain_runs: 3,
            fan_runs: 3,
            spark_csv_bytes: 1_000_000_000,
        }
    }

    /// Small sizes for a quick end-to-end check of the suite.
    pub fn quick() -> Self {
        Self {
            history: vec![1_000, 5_000],
            workflows: vec![100, 500],
            concurrent_runs: 100,
            graph_jobs: 200,
            memory_workflows: 1_000,
            chain_runs: 1,
            fan_runs: 1,
            spark_csv_bytes: 100_000_000,
        }
    }
}
