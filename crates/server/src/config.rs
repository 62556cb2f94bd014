//! Server configuration: one validated value built from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address: loopback only, a fixed documented port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5599";
/// Account id of resources when no credentials configuration says otherwise.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Region of resources when the request does not say otherwise.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How a server instance runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the database, logs and job artefacts.
    pub data_dir: PathBuf,
    /// Account that owns resources created through this server.
    pub account: String,
    /// Region that owns resources created through this server.
    pub region: String,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_dir>/bucket/key`).
    pub s3_dir: PathBuf,
    /// Python interpreter for `pythonshell` jobs.
    pub python: String,
    /// Real milliseconds per job-timeout minute (60000; tests may shorten it).
    pub timeout_minute_ms: i64,
    /// Finished run history older than this many days is purged (spec §4.9).
    pub retention_days: u32,
}
