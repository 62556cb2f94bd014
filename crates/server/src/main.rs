//! The `weir` binary: parses the command line, sets up logging, opens the store,
//! binds the listener and runs the server until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use weir::app::App;
use weir::config::{Config, DEFAULT_ACCOUNT, DEFAULT_LISTEN, DEFAULT_REGION, EdgeLimits};
use weir::db::Db;
use weir::orchestrator::schedule::Scheduler;
use weir::orchestrator::{Orchestrator, OrchestratorSettings};
use weir_auth::{AuthMode, Authenticator, CredentialRegistry, CredentialSource};
use weir_clock::Clock;
use weir_runner::{Runner, RunnerConfig};

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

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, env = "WEIR_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// Directory for the database and job artefacts.
        #[arg(long, env = "WEIR_DATA_DIR", default_value = "weir-data")]
        data_dir: PathBuf,
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
        #[arg(long, env = "WEIR_MAX_IN_FLIGHT", default_value_t = weir::config::DEFAULT_MAX_IN_FLIGHT,
              value_parser = parse_max_in_flight)]
        max_in_flight: usize,
        /// Connections served at once; further ones wait in the listen backlog until one
        /// closes.
        #[arg(long, env = "WEIR_MAX_CONNECTIONS", default_value_t = weir::config::DEFAULT_MAX_CONNECTIONS,
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
        /// Python interpreter that runs `pythonshell` jobs.
        #[arg(long, env = "WEIR_PYTHON", default_value = "python3")]
        python: String,
        /// For tests only: run on a manual clock standing at this time (`now`, or
        /// milliseconds since the Unix epoch) that moves only when advanced with
        /// `POST /_weir/clock {"advanceMs": N}`. Loopback listeners only.
        #[arg(long, env = "WEIR_MANUAL_CLOCK", value_parser = parse_manual_clock)]
        manual_clock: Option<i64>,
        /// Days of finished workflow and job run history to keep.
        #[arg(long, env = "WEIR_RETENTION_DAYS", default_value_t = 90)]
        retention_days: u32,
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
        Command::Serve {
            listen,
            data_dir,
            account_id,
            region,
            s3_dir,
            python,
            manual_clock,
            retention_days,
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
            let config = Config {
                listen,
                s3_dir,
                data_dir,
                account: account_id,
                region,
                python,
                retention_days,
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
    let store = weir_store::SqliteStore::open(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let db = Db::new(Arc::new(store));
    let runner = Runner::new(
        RunnerConfig {
            data_dir: config.data_dir.clone(),
            s3_root: config.s3_dir.clone(),
            python: config.python.clone(),
        },
        clock.clone(),
    )
    .context("preparing the job runner")?;
    let (orchestrator, driver) = Orchestrator::new(
        db.clone(),
        runner,
        clock.clone(),
        OrchestratorSettings {
            script_credentials: config.auth.credentials().clone(),
        },
    );
    let (stop_driver, driver_stopped) = tokio::sync::oneshot::channel::<()>();
    let driver = tokio::spawn(driver.run(async {
        let _ = driver_stopped.await;
    }));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let local = listener.local_addr().context("reading the bound address")?;
    let callback = if local.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port())
    } else {
        local
    };
    orchestrator.set_endpoint(format!("http://{callback}"));
    let retention_ms = i64::from(config.retention_days) * 86_400_000;
    let scheduler = Scheduler::new(orchestrator.clone(), db.clone());
    let app = App::new(config, db.clone(), orchestrator.clone(), scheduler.clone())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let recovered = orchestrator
        .recover()
        .await
        .map_err(|e| anyhow::anyhow!("recovering runs: {e}"))?;
    if recovered > 0 {
        tracing::info!(runs = recovered, "resumed the runs that were active");
    }
    let crawls = weir::crawler::lifecycle::settle_interrupted(&db, &clock)
        .await
        .map_err(|e| anyhow::anyhow!("settling interrupted crawls: {e}"))?;
    if crawls > 0 {
        tracing::info!(crawls, "marked the crawls a stop interrupted as failed");
    }
    let blueprint_work = weir::blueprint::recovery::recover(&app)
        .await
        .map_err(|e| anyhow::anyhow!("recovering blueprint work: {e}"))?;
    if blueprint_work > 0 {
        tracing::info!(
            entries = blueprint_work,
            "handled the blueprint registrations and runs a stop interrupted"
        );
    }
    let schedules = scheduler
        .load()
        .await
        .map_err(|e| anyhow::anyhow!("loading trigger schedules: {e}"))?;
    if schedules > 0 {
        tracing::info!(schedules, "armed the schedules of activated triggers");
    }
    tokio::spawn(scheduler.run());
    purge_history(&orchestrator, retention_ms).await;
    tokio::spawn(purge_history_hourly(orchestrator.clone(), retention_ms));
    println!("listening on {local}");
    tracing::info!(%local, "weir is serving the AWS Glue API");
    weir::http::serve(listener, app, shutdown_signal())
        .await
        .context("serving")?;
    let _ = stop_driver.send(());
    let _ = driver.await;
    // Last, so that the database file alone holds every change (a copy is a backup).
    match db.checkpoint().await {
        Ok(()) => tracing::info!("checkpointed the store into its database file"),
        Err(error) => tracing::warn!(%error, "could not checkpoint the store at shutdown"),
    }
    tracing::info!("weir stopped");
    Ok(())
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

/// Purges finished run history past the retention every hour of the server's clock
/// (start-up purges once before serving).
async fn purge_history_hourly(orchestrator: Orchestrator, retention_ms: i64) {
    const HOUR_MS: i64 = 3_600_000;
    let clock = orchestrator.clock().clone();
    let mut next = clock.now_millis().saturating_add(HOUR_MS);
    loop {
        clock.sleep_until(next).await;
        purge_history(&orchestrator, retention_ms).await;
        next = next.saturating_add(HOUR_MS).max(clock.now_millis());
    }
}

/// Purges finished run history past the retention once, logging the outcome.
async fn purge_history(orchestrator: &Orchestrator, retention_ms: i64) {
    match orchestrator.purge_history(retention_ms).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged run history past the retention"),
        Err(error) => tracing::warn!(%error, "could not purge run history"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
