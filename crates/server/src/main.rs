//! The `weir` binary: parses the command line, sets up logging, binds the listener and
//! runs the [`Server`] until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use weir::config::{
    Config, DEFAULT_ACCOUNT, DEFAULT_LEASE_TIMEOUT, DEFAULT_LISTEN,
    DEFAULT_MAX_CONCURRENT_JOB_RUNS, DEFAULT_REGION, StoreLocation, default_replica_name,
};
use weir::server::Server;
use weir_auth::{AuthMode, Authenticator, CredentialRegistry, CredentialSource};
use weir_clock::Clock;
use weir_edge::EdgeLimits;
use weir_runner::runtime::{self, SparkRuntime};
use weir_runner::spark::SparkSettings;

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "A self-hosted AWS Glue Workflows service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// The serve options are most of the command line; it is parsed once.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, env = "WEIR_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Directory for the database (SQLite) and job artefacts.
        #[arg(long, env = "WEIR_DATA_DIR", default_value = "weir-data")]
        data_dir: PathBuf,
        /// Keep the store in PostgreSQL instead of SQLite in the data directory:
        /// `postgres://user:password@host:port/database` (the tables go to the first
        /// schema of the search path; job artefacts stay in the data directory).
        #[arg(long, env = "WEIR_STORE", value_parser = parse_store)]
        store: Option<StoreLocation>,
        /// Account of the development credentials test/test and of `--no-auth`
        /// requests (signed requests act in the account of their access key).
        #[arg(long, env = "WEIR_ACCOUNT_ID", default_value = DEFAULT_ACCOUNT,
              value_parser = parse_account_id)]
        account_id: String,
        /// Region of `--no-auth` requests that name none (signed requests act in the
        /// region of their credential scope).
        #[arg(long, env = "WEIR_REGION", default_value = DEFAULT_REGION,
              value_parser = parse_region)]
        region: String,
        /// Credentials file (TOML, or JSON if named *.json) mapping access keys to
        /// secrets, accounts and optional session tokens; see README "Authentication".
        /// Without it, only the development pair test/test is accepted, and only on a
        /// loopback address.
        #[arg(long, env = "WEIR_CREDENTIALS")]
        credentials: Option<PathBuf>,
        /// Turn signature verification off: every request is accepted and acts in the
        /// default account. For local experiments only.
        #[arg(long, env = "WEIR_NO_AUTH")]
        no_auth: bool,
        /// Allowed difference, in seconds, between a request's X-Amz-Date and the
        /// server clock, either way.
        #[arg(long, env = "WEIR_MAX_CLOCK_SKEW", default_value = "300", value_parser = parse_seconds)]
        max_clock_skew: Duration,
        /// Requests served at once; more are answered ThrottlingException.
        #[arg(long, env = "WEIR_MAX_IN_FLIGHT", default_value_t = weir_edge::DEFAULT_MAX_IN_FLIGHT,
              value_parser = parse_max_in_flight)]
        max_in_flight: usize,
        /// Connections served at once; further ones wait in the listen backlog until one
        /// closes.
        #[arg(long, env = "WEIR_MAX_CONNECTIONS", default_value_t = weir_edge::DEFAULT_MAX_CONNECTIONS,
              value_parser = parse_max_in_flight)]
        max_connections: usize,
        /// Seconds a client has to finish a request head once it started sending it.
        #[arg(long, env = "WEIR_HEADER_READ_TIMEOUT", default_value = "20", value_parser = parse_seconds)]
        header_read_timeout: Duration,
        /// Seconds a connection may stay open without a request.
        #[arg(long, env = "WEIR_IDLE_TIMEOUT", default_value = "60", value_parser = parse_seconds)]
        idle_timeout: Duration,
        /// Seconds a client has to send a whole request body.
        #[arg(long, env = "WEIR_BODY_READ_TIMEOUT", default_value = "60", value_parser = parse_seconds)]
        body_read_timeout: Duration,
        /// Local directory standing in for S3: `s3://bucket/key` is read from
        /// `<s3-dir>/bucket/key` (default: `<data-dir>/s3`).
        #[arg(long, env = "WEIR_S3_DIR")]
        s3_dir: Option<PathBuf>,
        /// Python interpreter that runs `pythonshell` jobs (and creates the virtual
        /// environments of Spark runtimes).
        #[arg(long, env = "WEIR_PYTHON", default_value = "python3")]
        python: String,
        /// Directory of the Spark runtimes glueetl jobs run on, prepared there on first
        /// use or by `weir runtime install` (default: `<data-dir>/runtimes`).
        #[arg(long, env = "WEIR_RUNTIME_DIR")]
        runtime_dir: Option<PathBuf>,
        /// Spark master URL for glueetl jobs (`spark://host:7077`, `k8s://…`); default
        /// `local[*]`, Spark inside the job's own process on this machine.
        #[arg(long, env = "WEIR_SPARK_MASTER")]
        spark_master: Option<String>,
        /// A Spark setting `key=value` every glueetl run gets (repeatable), before the
        /// job's own `--conf`.
        #[arg(long = "spark-conf", value_parser = parse_spark_conf)]
        spark_conf: Vec<(String, String)>,
        /// Keep a started Spark driver waiting for the next glueetl run of each
        /// prepared runtime (one JVM each, idle until used), so runs skip Spark's
        /// start-up; each driver runs one job.
        #[arg(long, env = "WEIR_SPARK_STANDBY")]
        spark_standby: bool,
        /// For tests only: run on a manual clock standing at this time (`now`, or
        /// milliseconds since the Unix epoch) that moves only when advanced with
        /// `POST /_weir/clock {"advanceMs": N}`. Loopback listeners only.
        #[arg(long, env = "WEIR_MANUAL_CLOCK", value_parser = parse_manual_clock)]
        manual_clock: Option<i64>,
        /// Job runs that may run at once in one account, as AWS's quota (default: AWS's
        /// default quota); more wait when their job queues runs, else fail.
        #[arg(long, env = "WEIR_MAX_CONCURRENT_JOB_RUNS",
              default_value_t = DEFAULT_MAX_CONCURRENT_JOB_RUNS)]
        max_concurrent_job_runs: u64,
        /// Days of finished workflow and job run history to keep.
        #[arg(long, env = "WEIR_RETENTION_DAYS", default_value_t = 90)]
        retention_days: u32,
        /// The address job scripts and blueprint layouts call Weir at (their
        /// `AWS_ENDPOINT_URL`); default: this server's own address. With replicas, the
        /// address of the load balancer in front of them, so a script outlives its
        /// replica.
        #[arg(long, env = "WEIR_ENDPOINT_URL", value_parser = parse_endpoint_url)]
        endpoint_url: Option<String>,
        /// This server's name among the replicas serving one PostgreSQL store (each
        /// replica its own; default: host name and data directory). A restarted
        /// replica of the same name takes over its own runs at once.
        #[arg(long, env = "WEIR_REPLICA_NAME")]
        replica_name: Option<String>,
        /// Seconds a replica's lease lasts unless renewed (renewed every third of it):
        /// the runs of a replica that died are taken over this long after its last
        /// renewal, at most.
        #[arg(long, env = "WEIR_LEASE_TIMEOUT", default_value = DEFAULT_LEASE_TIMEOUT,
              value_parser = parse_seconds)]
        lease_timeout: Duration,
    },
    /// Manage the Spark runtimes glueetl jobs run on.
    Runtime {
        #[command(subcommand)]
        command: RuntimeCommand,
    },
}

#[derive(Subcommand)]
enum RuntimeCommand {
    /// Prepare Spark runtimes now (a Python virtual environment with PySpark each),
    /// rather than on the first glueetl run that needs one.
    Install {
        /// Glue versions to prepare (repeatable); default: every supported version.
        #[arg(long = "glue-version")]
        glue_versions: Vec<String>,
        /// Directory of the runtimes (as `serve --runtime-dir`).
        #[arg(long, env = "WEIR_RUNTIME_DIR", default_value = "weir-data/runtimes")]
        runtime_dir: PathBuf,
        /// Python interpreter that creates the virtual environments.
        #[arg(long, env = "WEIR_PYTHON", default_value = "python3")]
        python: String,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "weir=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match cli.command {
        Command::Runtime {
            command:
                RuntimeCommand::Install {
                    glue_versions,
                    runtime_dir,
                    python,
                },
        } => install_runtimes(&glue_versions, &runtime_dir, &python),
        Command::Serve {
            listen,
            data_dir,
            store,
            account_id,
            region,
            s3_dir,
            python,
            runtime_dir,
            spark_master,
            spark_conf,
            spark_standby,
            manual_clock,
            retention_days,
            max_concurrent_job_runs,
            replica_name,
            lease_timeout,
            endpoint_url,
            credentials,
            no_auth,
            max_clock_skew,
            max_in_flight,
            max_connections,
            header_read_timeout,
            idle_timeout,
            body_read_timeout,
        } => {
            let file = match &credentials {
                Some(path) => {
                    warn_if_readable_by_others(path);
                    Some(CredentialRegistry::load(path)?)
                }
                None => None,
            };
            let auth = Authenticator::for_listener(
                listen,
                file,
                no_auth,
                max_clock_skew,
                &account_id,
                &region,
            )?;
            log_auth_policy(&auth);
            if manual_clock.is_some() && !listen.ip().is_loopback() {
                anyhow::bail!("--manual-clock is for tests and needs a loopback --listen address");
            }
            let clock = match manual_clock {
                Some(start) => {
                    tracing::warn!(
                        start,
                        "running on a MANUAL clock (--manual-clock): time moves only when advanced"
                    );
                    Clock::manual(start)
                }
                None => Clock::system(),
            };
            let limits = EdgeLimits {
                max_in_flight,
                max_connections,
                header_read_timeout,
                idle_timeout,
                body_read_timeout,
                ..EdgeLimits::default()
            };
            // Absolute paths: job processes run with their run directory as working
            // directory, so a relative data directory would not resolve for them.
            let data_dir = std::path::absolute(&data_dir)
                .with_context(|| format!("resolving {}", data_dir.display()))?;
            let s3_dir = match s3_dir {
                Some(dir) => std::path::absolute(&dir)
                    .with_context(|| format!("resolving {}", dir.display()))?,
                None => data_dir.join("s3"),
            };
            let runtime_dir = match runtime_dir {
                Some(dir) => std::path::absolute(&dir)
                    .with_context(|| format!("resolving {}", dir.display()))?,
                None => data_dir.join("runtimes"),
            };
            let replica_name = replica_name.unwrap_or_else(|| default_replica_name(&data_dir));
            let config = Config {
                listen,
                replica_name,
                lease_timeout,
                endpoint_url,
                s3_dir,
                data_dir,
                store: store.unwrap_or_default(),
                account: account_id,
                region,
                python,
                runtime_dir,
                spark: SparkSettings {
                    master: spark_master,
                    conf: spark_conf,
                    standby: spark_standby,
                },
                retention_days,
                max_concurrent_job_runs,
                auth,
                limits,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?
                .block_on(serve(config, clock))
        }
    }
}

async fn serve(config: Config, clock: Clock) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let server = Server::assemble(config, clock)?;
    server.run(listener, shutdown_signal()).await
}

/// Logs the authentication policy in force; `--no-auth` loudly, on every start.
fn log_auth_policy(auth: &Authenticator) {
    let account = auth.default_account();
    match (auth.mode(), auth.source()) {
        (AuthMode::Disabled, _) => tracing::warn!(
            "AUTHENTICATION IS DISABLED (--no-auth): requests are accepted without any \
             signature check and act in account {account}. Never expose this server."
        ),
        (AuthMode::Verify, CredentialSource::Development) => tracing::info!(
            "no --credentials file: accepting only the development credentials \
             {}/{} (account {account}) on this loopback address",
            weir_auth::DEV_ACCESS_KEY,
            weir_auth::DEV_SECRET_KEY
        ),
        (AuthMode::Verify, CredentialSource::File) => {
            let keys = auth.credentials().iter().count();
            tracing::info!(
                keys,
                "verifying SigV4 signatures against the credentials file"
            );
        }
    }
}

/// Warns when the credentials file can be read by other users.
fn warn_if_readable_by_others(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(
            path = %path.display(),
            "the credentials file is accessible to other users; consider chmod 600"
        );
    }
}

/// Parses a number of seconds (fractions allowed), greater than zero.
/// `weir runtime install`: prepares the runtimes of `glue_versions` (all if none).
fn install_runtimes(
    glue_versions: &[String],
    root: &std::path::Path,
    python: &str,
) -> anyhow::Result<()> {
    let root =
        std::path::absolute(root).with_context(|| format!("resolving {}", root.display()))?;
    let chosen: Vec<&SparkRuntime> = if glue_versions.is_empty() {
        runtime::RUNTIMES.iter().collect()
    } else {
        glue_versions
            .iter()
            .map(|v| SparkRuntime::for_glue_version(Some(v)).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?
    };
    if let Err(message) = runtime::java() {
        tracing::warn!("{message}");
    }
    for spark in chosen {
        let prepared = runtime::prepare(&root, spark, python).map_err(anyhow::Error::msg)?;
        println!("Spark {} ready in {}", spark.spark, prepared.dir.display());
    }
    Ok(())
}

/// A `--spark-conf` value: `key=value`.
fn parse_spark_conf(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("{text:?} is not key=value")),
    }
}

fn parse_endpoint_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| format!("{text:?} is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') || text.chars().any(char::is_whitespace) {
        return Err(format!("{text:?} names no host"));
    }
    Ok(text.trim_end_matches('/').to_string())
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0 * 365.0) {
        return Err(format!(
            "{text:?} must be more than 0 seconds and at most a year"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses `--manual-clock`: `now` or milliseconds since the Unix epoch.
fn parse_manual_clock(text: &str) -> Result<i64, String> {
    if text.trim() == "now" {
        return Ok(Clock::system().now_millis());
    }
    match text.trim().parse::<i64>() {
        Ok(ms) if ms >= 0 => Ok(ms),
        _ => Err(format!(
            "{text:?} is neither `now` nor milliseconds since the Unix epoch"
        )),
    }
}

/// Parses `--max-in-flight` and `--max-connections`: at least 1.
fn parse_max_in_flight(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} must be a whole number from 1 to 1000000")),
    }
}

/// Parses `--store`: a PostgreSQL URL.
fn parse_store(text: &str) -> Result<StoreLocation, String> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        Ok(StoreLocation::Postgres(text.to_owned()))
    } else {
        Err(
            "expected a PostgreSQL URL, postgres://user@host:port/database \
             (without --store, the store is SQLite in --data-dir)"
                .into(),
        )
    }
}

/// Parses `--account-id`: 12 digits.
fn parse_account_id(text: &str) -> Result<String, String> {
    if weir_auth::credentials::is_account_id(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not an account id (12 digits)"))
    }
}

/// Parses `--region`: a region name such as `us-east-1`.
fn parse_region(text: &str) -> Result<String, String> {
    if weir_auth::sigv4::is_region_name(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a region name (such as us-east-1)"))
    }
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called, not
/// when the future is first polled (which is only once the server serves), so a signal
/// that arrives right after start-up still stops the server gracefully.
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        let wait = |installed: std::io::Result<tokio::signal::unix::Signal>| async move {
            match installed {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(interrupt) => {},
            () = wait(terminate) => {},
        }
    }
}
