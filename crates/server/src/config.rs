//! Server configuration: one validated value built from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use weir_auth::Authenticator;

/// Default listen address: loopback only, a fixed documented port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5599";
/// Account of the development credentials `test`/`test` and of unsigned (`--no-auth`)
/// requests, unless `--account-id` says otherwise.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// Region of unsigned (`--no-auth`) requests whose `Authorization` names none; signed
/// requests act in the region of their credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Default bound on requests being served at once; beyond it requests are shed with
/// ThrottlingException.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default bound on open client connections; beyond it new connections wait in the
/// listen backlog until one closes.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default time a client has to send a complete request head once it started one.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Default time an open connection may stay idle between requests.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time a client has to send a whole request body.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Limits enforced at the HTTP edge (see [`crate::http`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeLimits {
    /// Requests served at once; more are answered ThrottlingException ("Rate exceeded").
    pub max_in_flight: usize,
    /// Connections served at once; more are not accepted (they wait in the kernel's
    /// listen backlog) until one closes.
    pub max_connections: usize,
    /// Time from the first byte of a request head to its end; the connection is closed
    /// when it is exceeded.
    pub header_read_timeout: Duration,
    /// Time a connection may sit without a request; then it is closed.
    pub idle_timeout: Duration,
    /// Time from the end of the head to the end of the body; then the request is
    /// answered RequestTimeoutException.
    pub body_read_timeout: Duration,
    /// Largest body accepted; larger ones are answered RequestEntityTooLargeException.
    pub max_body_bytes: usize,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// How a server instance runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory holding the database, logs and job artefacts.
    pub data_dir: PathBuf,
    /// Default account: of the development credentials and of `--no-auth` requests.
    /// Signed requests act in the account of their access key.
    pub account: String,
    /// Default region: of `--no-auth` requests without a credential scope. Signed
    /// requests act in the region of their credential scope.
    pub region: String,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_dir>/bucket/key`).
    pub s3_dir: PathBuf,
    /// Python interpreter for `pythonshell` jobs.
    pub python: String,
    /// Finished run history older than this many days is purged (spec §4.9).
    pub retention_days: u32,
    /// How requests are authenticated (credentials, `--no-auth`, clock skew).
    pub auth: Authenticator,
    /// Limits of the HTTP edge.
    pub limits: EdgeLimits,
}
