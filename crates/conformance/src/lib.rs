//! Conformance harness: runs the real `weir` binary on an ephemeral loopback port and
//! hands out real AWS clients pointed at it.
//!
//! * [`WeirServer`] spawns `weir serve --listen 127.0.0.1:0 --data-dir <dir>`, reads the
//!   `listening on 127.0.0.1:<port>` line, and kills the child on drop.
//! * [`WeirServer::client`] is an `aws_sdk_glue::Client` (static credentials `test`/`test`,
//!   region `us-east-1`, retries off) so every test exercises the same code path a user's
//!   program would.
//! * [`WeirServer::raw`] sends hand-built, SigV4-signed requests for the cases no SDK can
//!   produce (malformed JSON, unknown targets, oversized bodies).
//!
//! The binary is `target/<profile>/weir` next to the test executable, or `$WEIR_BIN`.
//!
//! Depends on no Weir crate: it tests the server only from the outside, as a user's
//! program would.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use aws_credential_types::Credentials;
use aws_sdk_glue::config::retry::RetryConfig;
use aws_sdk_glue::config::timeout::TimeoutConfig;
use aws_sdk_glue::config::{BehaviorVersion, Region};

mod raw;
pub use raw::{RawRequest, RawResponse, is_complete_response, parse_response};

/// Access key the server accepts (see the project README).
pub const ACCESS_KEY: &str = "test";
/// Secret key the server accepts.
pub const SECRET_KEY: &str = "test";
/// Region the server answers for.
pub const REGION: &str = "us-east-1";
/// Account id used in the ARNs the server issues.
pub const ACCOUNT_ID: &str = "123456789012";

/// How long the server may take to print its `listening on` line.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);
/// How long a SIGTERM'd server may take to exit.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(15);

/// ARN of the workflow `name` in the server's region and account.
pub fn workflow_arn(name: &str) -> String {
    format!("arn:aws:glue:{REGION}:{ACCOUNT_ID}:workflow/{name}")
}

/// A running `weir serve` child process with its own data directory.
pub struct WeirServer {
    child: Option<Child>,
    addr: SocketAddr,
    data_dir: PathBuf,
    // Extra `weir serve` options passed on every start (see `start_with_args`).
    extra_args: Vec<String>,
    // Keeps a temporary data dir alive for as long as the server (and its restarts) need it.
    _temp: Option<tempfile::TempDir>,
}

impl WeirServer {
    /// Starts a server on a fresh temporary data directory.
    pub fn start() -> Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix("weir-conformance-")
            .tempdir()?;
        let mut server = Self::start_in(temp.path())?;
        server._temp = Some(temp);
        Ok(server)
    }

    /// Starts a server on an existing data directory (which is not deleted afterwards).
    pub fn start_in(dir: impl AsRef<Path>) -> Result<Self> {
        Self::start_in_with_args(dir, &[])
    }

    /// Starts a server on a fresh temporary data directory with extra `weir serve`
    /// options (e.g. `["--python", "/path/to/python3"]`), also used by [`Self::restart`].
    pub fn start_with_args(args: &[&str]) -> Result<Self> {
        let temp = tempfile::Builder::new()
            .prefix("weir-conformance-")
            .tempdir()?;
        let mut server = Self::start_in_with_args(temp.path(), args)?;
        server._temp = Some(temp);
        Ok(server)
    }

    /// [`Self::start_in`] with extra `weir serve` options.
    pub fn start_in_with_args(dir: impl AsRef<Path>, args: &[&str]) -> Result<Self> {
        let data_dir = dir.as_ref().to_path_buf();
        let extra_args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (child, addr) = spawn(&data_dir, "127.0.0.1:0", &extra_args)?;
        Ok(Self {
            child: Some(child),
            addr,
            data_dir,
            extra_args,
            _temp: None,
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A Glue client for this server: static credentials, `us-east-1`, no retries, a
    /// generous operation timeout so that a hung server fails the test instead of the CI run.
    pub fn client(&self) -> aws_sdk_glue::Client {
        self.client_with(ACCESS_KEY, SECRET_KEY, None, REGION)
    }

    /// [`Self::client`] with other credentials (and session token) and region.
    pub fn client_with(
        &self,
        access_key: &str,
        secret_key: &str,
        session_token: Option<&str>,
        region: &str,
    ) -> aws_sdk_glue::Client {
        let http = aws_smithy_http_client::Builder::new().build_http();
        let config = aws_sdk_glue::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new(region.to_owned()))
            .credentials_provider(Credentials::new(
                access_key,
                secret_key,
                session_token.map(str::to_owned),
                None,
                "weir-conformance",
            ))
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            )
            .http_client(http)
            .build();
        aws_sdk_glue::Client::from_conf(config)
    }

    /// Sends SIGKILL and reaps the process: nothing is flushed, nothing shut down.
    pub fn kill9(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("SIGKILL weir")?;
            child.wait().context("reap weir")?;
        }
        Ok(())
    }

    /// Sends SIGTERM and waits (bounded) for the process to exit; returns its exit status.
    pub fn terminate(&mut self) -> Result<ExitStatus> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| anyhow!("server is not running"))?;
        let pid = i32::try_from(child.id())?;
        // SAFETY: plain kill(2) on our own child's pid, which has not been reaped yet.
        if unsafe { libc::kill(pid, libc::SIGTERM) } != 0 {
            bail!("kill(SIGTERM): {}", std::io::Error::last_os_error());
        }
        let deadline = Instant::now() + SHUTDOWN_DEADLINE;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!("weir did not exit within {SHUTDOWN_DEADLINE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same data directory, on the same port when it is
    /// still free (so clients built before keep working), otherwise on a new one.
    /// A server that is still running is stopped with SIGTERM first.
    pub fn restart(&mut self) -> Result<()> {
        if self.child.is_some() {
            let status = self.terminate()?;
            if !status.success() {
                bail!("weir exited with {status} on SIGTERM");
            }
        }
        let (child, addr) = match spawn(&self.data_dir, &self.addr.to_string(), &self.extra_args) {
            Ok(ok) => ok,
            Err(same_port) => spawn(&self.data_dir, "127.0.0.1:0", &self.extra_args)
                .with_context(|| format!("restart on the old port failed first: {same_port:#}"))?,
        };
        self.child = Some(child);
        self.addr = addr;
        Ok(())
    }

    /// Sends one SigV4-signed HTTP/1.1 request with the given `X-Amz-Target` (none when
    /// `None`) and raw body bytes, and returns the raw response.
    pub async fn raw(&self, target: Option<&str>, body: &[u8]) -> Result<RawResponse> {
        raw::send(self.addr, target, body).await
    }

    /// Sends a [`RawRequest`]: custom signer (or none), extra headers, tampering.
    pub async fn raw_request(&self, request: &RawRequest) -> Result<RawResponse> {
        raw::send_request(self.addr, request).await
    }
}

impl Drop for WeirServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Path of the `weir` binary under test.
pub fn weir_bin() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("WEIR_BIN") {
        return Ok(PathBuf::from(bin));
    }
    // Test executables live in target/<profile>/deps/; the binary in target/<profile>/.
    let mut candidates = Vec::new();
    if let Ok(exe) = std::env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.join("weir"));
    }
    candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/weir"));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "weir binary not found (looked at {candidates:?}); build it with \
             `cargo build -p weir-server` or point WEIR_BIN at it"
            )
        })
}

fn spawn(data_dir: &Path, listen: &str, extra_args: &[String]) -> Result<(Child, SocketAddr)> {
    let bin = weir_bin()?;
    let mut child = Command::new(&bin)
        .arg("serve")
        .arg("--listen")
        .arg(listen)
        .arg("--data-dir")
        .arg(data_dir)
        .args(extra_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))?;

    // Forward the server's stderr through the test harness so it shows up on failure.
    let stderr = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("[weir] {line}");
        }
    });

    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        let read = reader.read_line(&mut first).map(|_| first);
        let _ = tx.send(read);
        // Keep draining so the server never blocks on a full pipe.
        let mut sink = Vec::new();
        let _ = reader.read_to_end(&mut sink);
    });

    let line = match rx.recv_timeout(STARTUP_DEADLINE) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e).context("reading weir's stdout");
        }
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("weir printed no `listening on` line within {STARTUP_DEADLINE:?}");
        }
    };
    let addr = line
        .trim_end()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse::<SocketAddr>().ok());
    match addr {
        Some(addr) => Ok((child, addr)),
        None => {
            let _ = child.kill();
            let status = child.wait()?;
            bail!(
                "weir (exit {status}) printed {line:?} instead of `listening on 127.0.0.1:<port>`"
            )
        }
    }
}

/// How a raw request is signed. The default signs like [`WeirServer::client`]: the
/// development pair, `us-east-1`, service `glue`, now.
#[derive(Debug, Clone)]
pub struct Signer {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Session token, sent (and signed) as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
    /// Region of the credential scope.
    pub region: String,
    /// Service of the credential scope.
    pub service: String,
    /// Signing time (`X-Amz-Date`).
    pub time: SystemTime,
}

impl Default for Signer {
    fn default() -> Self {
        Self {
            access_key: ACCESS_KEY.into(),
            secret_key: SECRET_KEY.into(),
            session_token: None,
            region: REGION.into(),
            service: "glue".into(),
            time: SystemTime::now(),
        }
    }
}

impl Signer {
    /// A signer for the key pair `access_key`/`secret_key`, otherwise the defaults.
    pub fn with_keys(access_key: &str, secret_key: &str) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            ..Self::default()
        }
    }

    /// The headers (`x-amz-date`, `authorization`, maybe `x-amz-security-token`) that
    /// sign `POST http://<host>/` with `headers` and `body`, as aws-sdk-rust signs.
    pub fn sign(
        &self,
        host: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Vec<(String, String)>> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        use aws_sigv4::sign::v4;

        let identity = Credentials::new(
            &self.access_key,
            &self.secret_key,
            self.session_token.clone(),
            None,
            "raw",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()?
            .into();
        let uri = format!("http://{host}/");
        let request = SignableRequest::new(
            "POST",
            uri,
            headers.iter().map(|(k, v)| (*k, v.as_str())),
            SignableBody::Bytes(body),
        )?;
        let (instructions, _signature) = sign(request, &params)?.into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }
}

/// The error type every SDK operation returns.
pub type SdkError<E> = aws_sdk_glue::error::SdkError<E, aws_sdk_glue::config::http::HttpResponse>;

/// Asserts that `result` is a modeled service error with code `code` sent with HTTP 400
/// and returns the typed error. Panics with the full error context otherwise.
#[track_caller]
pub fn expect_error<O, E>(result: Result<O, SdkError<E>>, code: &str) -> E
where
    O: std::fmt::Debug,
    E: aws_sdk_glue::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_glue::error::DisplayErrorContext;
    match result {
        Ok(out) => panic!("expected {code}, but the call succeeded: {out:?}"),
        Err(aws_sdk_glue::error::SdkError::ServiceError(ctx)) => {
            let status = ctx.raw().status().as_u16();
            let body =
                String::from_utf8_lossy(ctx.raw().body().bytes().unwrap_or_default()).into_owned();
            let err = ctx.into_err();
            assert_eq!(
                err.code(),
                Some(code),
                "error code (status {status}, body {body})"
            );
            assert_eq!(status, 400, "HTTP status of {code} (body {body})");
            err
        }
        Err(other) => panic!(
            "expected service error {code}, got: {}",
            DisplayErrorContext(&other)
        ),
    }
}

/// Unwraps an SDK result, panicking with the full error chain (code, message, cause).
#[track_caller]
pub fn ok<O, E>(result: Result<O, SdkError<E>>) -> O
where
    E: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(out) => out,
        Err(err) => panic!(
            "call failed: {}",
            aws_sdk_glue::error::DisplayErrorContext(&err)
        ),
    }
}

/// Converts a wire timestamp to `SystemTime`.
pub fn to_system_time(t: &aws_smithy_types::DateTime) -> SystemTime {
    SystemTime::try_from(*t).expect("timestamp within SystemTime range")
}

/// Blocks until the local clock is at least 10 ms past `t` (bounded by 2 s), so that a
/// later write cannot share a millisecond timestamp with the one that produced `t`.
pub fn wait_for_clock_past(t: &aws_smithy_types::DateTime) {
    let target = to_system_time(t) + Duration::from_millis(10);
    let deadline = Instant::now() + Duration::from_secs(2);
    while SystemTime::now() < target {
        assert!(
            Instant::now() < deadline,
            "server timestamp {t} is more than 2 s in the future"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
