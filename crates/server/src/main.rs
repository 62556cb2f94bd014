//! The `weir` binary: parses the command line, sets up logging, opens the store,
//! binds the listener and runs the server until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use weir::app::App;
use weir::config::{Config, DEFAULT_ACCOUNT, DEFAULT_LISTEN, DEFAULT_REGION};
use weir::db::Db;
use weir::orchestrator::{Orchestrator, OrchestratorSettings};
use weir::runner::{Runner, RunnerConfig};

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
        /// Account id that owns the resources.
        #[arg(long, env = "WEIR_ACCOUNT_ID", default_value = DEFAULT_ACCOUNT)]
        account_id: String,
        /// Region that owns the resources.
        #[arg(long, env = "WEIR_REGION", default_value = DEFAULT_REGION)]
        region: String,
        /// Local directory standing in for S3: `s3://bucket/key` is read from
        /// `<s3-dir>/bucket/key` (default: `<data-dir>/s3`).
        #[arg(long, env = "WEIR_S3_DIR")]
        s3_dir: Option<PathBuf>,
        /// Python interpreter that runs `pythonshell` jobs.
        #[arg(long, env = "WEIR_PYTHON", default_value = "python3")]
        python: String,
        /// For tests only: how many real milliseconds a job-timeout minute lasts.
        #[arg(long, env = "WEIR_TIMEOUT_MINUTE_MS", default_value_t = 60_000,
              value_parser = clap::value_parser!(i64).range(1..=60_000))]
        timeout_minute_ms: i64,
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
            timeout_minute_ms,
            retention_days,
        } => {
            let config = Config {
                listen,
                s3_dir: s3_dir.unwrap_or_else(|| data_dir.join("s3")),
                data_dir,
                account: account_id,
                region,
                python,
                timeout_minute_ms,
                retention_days,
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?
                .block_on(serve(config))
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let store = weir_store::SqliteStore::open(&config.data_dir)
        .with_context(|| format!("opening the store in {}", config.data_dir.display()))?;
    let db = Db::new(Arc::new(store));
    let runner = Runner::new(RunnerConfig {
        data_dir: config.data_dir.clone(),
        s3_root: config.s3_dir.clone(),
        python: config.python.clone(),
    })
    .context("preparing the job runner")?;
    let orchestrator = Orchestrator::new(
        db.clone(),
        runner,
        OrchestratorSettings {
            timeout_minute_ms: config.timeout_minute_ms,
            script_credentials: ("test".into(), "test".into()),
        },
    );
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
    let app = App::new(config, db, orchestrator.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let recovered = orchestrator
        .recover()
        .await
        .map_err(|e| anyhow::anyhow!("recovering runs: {e}"))?;
    if recovered > 0 {
        tracing::info!(runs = recovered, "resumed the runs that were active");
    }
    tokio::spawn(purge_history_hourly(orchestrator.clone(), retention_ms));
    println!("listening on {local}");
    tracing::info!(%local, "weir is serving the AWS Glue API");
    weir::http::serve(listener, app, shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("weir stopped");
    Ok(())
}

/// Purges finished run history past the retention now and then every hour.
async fn purge_history_hourly(orchestrator: Orchestrator, retention_ms: i64) {
    let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match orchestrator.purge_history(retention_ms).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged run history past the retention"),
            Err(error) => tracing::warn!(%error, "could not purge run history"),
        }
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
