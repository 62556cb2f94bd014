//! Server configuration: one validated value built from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use weir_auth::Authenticator;
use weir_edge::EdgeLimits;
use weir_runner::spark::SparkSettings;

/// AWS Glue's default quota of concurrent job runs per account.
pub const DEFAULT_MAX_CONCURRENT_JOB_RUNS: u64 = 2000;
/// Default listen address: loopback only, a fixed documented port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5599";
/// Account of the development credentials `test`/`test` and of unsigned (`--no-auth`)
/// requests, unless `--account-id` says otherwise.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Region of unsigned (`--no-auth`) requests whose `Authorization` names none; signed
/// requests act in the region of their credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Where the durable store lives.
#[derive(Clone, Default)]
pub enum StoreLocation {
    /// SQLite, `weir.db` in the data directory (the default).
    #[default]
    Sqlite,
    /// A PostgreSQL database, by its connection URL (`postgres://…`), which may hold a
    /// password.
    Postgres(String),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may carry a password.
        match self {
            StoreLocation::Sqlite => f.write_str("Sqlite"),
            StoreLocation::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

/// How a server instance runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the database (with SQLite), logs and job artefacts.
    pub data_dir: PathBuf,
    /// Where the store lives (`--store`).
    pub store: StoreLocation,
    /// Default account: of the development credentials and of `--no-auth` requests.
    /// Signed requests act in the account of their access key.
    pub account: String,
    /// Default region: of `--no-auth` requests without a credential scope. Signed
    /// requests act in the region of their credential scope.
    pub region: String,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_dir>/bucket/key`).
    pub s3_dir: PathBuf,
    /// Python interpreter for `pythonshell` jobs (and to create Spark runtimes with).
    pub python: String,
    /// Where Spark runtimes are prepared (default `<data_dir>/runtimes`).
    pub runtime_dir: PathBuf,
    /// Where and how glueetl jobs run (`--spark-master`, `--spark-conf`).
    pub spark: SparkSettings,
    /// Job runs that may run at once in one account (`--max-concurrent-job-runs`).
    pub max_concurrent_job_runs: u64,
    /// Finished run history older than this many days is purged (spec §4.9).
    pub retention_days: u32,
    /// How requests are authenticated (credentials, `--no-auth`, clock skew).
    pub auth: Authenticator,
    /// Limits of the HTTP edge.
    pub limits: EdgeLimits,
    /// The address job scripts and blueprint layouts call Weir at (`--endpoint-url`);
    /// `None`: this server's own listening address.
    pub endpoint_url: Option<String>,
    /// This process's name among the replicas serving one store (`--replica-name`).
    pub replica_name: String,
    /// How long a replica's lease lasts without renewal (`--lease-timeout`): a replica
    /// that died has its work taken over this long after its last renewal, at most.
    pub lease_timeout: std::time::Duration,
}

/// The default `--lease-timeout`, in seconds.
pub const DEFAULT_LEASE_TIMEOUT: &str = "10";

/// The replica name a process gets without `--replica-name`: the host's name and the
/// data directory, so a restart of the same server takes over its own work at once.
pub fn default_replica_name(data_dir: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() { "localhost" } else { &host };
    format!("{host}:{}", data_dir.display())
}
