//! The limits the edge enforces on connections and requests.

use std::time::Duration;

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

/// Limits enforced at the HTTP edge (see [`crate::serve`]).
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
