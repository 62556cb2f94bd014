//! The assembled server and its start-up and shutdown order: the one place that wires
//! the store, the runner, the orchestrator and its driver, the scheduler, the Glue
//! service, the console and the edge (the binary only parses its command line and
//! calls [`Server::assemble`] and [`Server::run`]; tests assemble the same way).

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use weir_clock::Clock;
use weir_runner::{Runner, RunnerConfig};

use weir_console::ConsoleSettings;
use weir_edge::{Edge, Routes};
use weir_events::{EventBus, EventsService};
use weir_glue::{App, GlueService, GlueSettings};
use weir_logs::{Logs, LogsService};
use weir_orchestrator::schedule::Scheduler;
use weir_orchestrator::{DriverTask, Orchestrator, OrchestratorSettings};
use weir_resources::db::Db;
use weir_s3::notify::Notifier;
use weir_s3::{S3Service, S3Settings};
use weir_store::{Scope, Store, StoreExt};

use crate::config::{Config, StoreLocation};
use crate::replicas::{self, Replica};

/// Milliseconds in a day, the unit of `--retention-days`.
const DAY_MS: i64 = 86_400_000;
/// How often finished run history past the retention is purged, on the server's clock.
const PURGE_EVERY_MS: i64 = 3_600_000;

/// Everything a running server is made of, wired but not started.
pub struct Server {
    /// How the server was configured.
    config: Config,
    /// The state every Glue request handler uses.
    pub app: App,
    /// The orchestrator's driver, spawned by [`Server::run`].
    driver: DriverTask,
    /// The scheduler of SCHEDULED triggers, loaded and spawned by [`Server::run`].
    scheduler: Scheduler,
    /// EventBridge: rules, delivery of events to workflows, batch windows (loaded and
    /// spawned by [`Server::run`]).
    events: EventBus,
    /// CloudWatch Logs: job and crawler output (its retention purge is spawned by
    /// [`Server::run`]).
    logs: Logs,
}

impl Server {
    /// Opens the store (SQLite in the data directory, or PostgreSQL) and wires the
    /// parts over it.
    pub fn assemble(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let store: Arc<dyn Store> = match &config.store {
            StoreLocation::Sqlite => Arc::new(
                weir_store::SqliteStore::open(&config.data_dir).with_context(|| {
                    format!("opening the store in {}", config.data_dir.display())
                })?,
            ),
            StoreLocation::Postgres(url) => Arc::new(
                weir_store::PostgresStore::open(url)
                    .context("opening the PostgreSQL store (--store)")?,
            ),
        };
        replicas::check_shared_files(&*store, &config.data_dir, &config.s3_dir)?;
        // Documents of earlier releases are brought to today's formats before anything
        // reads them.
        let upgraded = store
            .write(weir_catalog::upgrade_stored)
            .map_err(|e| anyhow::anyhow!("upgrading stored documents: {e}"))?;
        if upgraded > 0 {
            tracing::info!(
                documents = upgraded,
                "upgraded documents of an earlier release"
            );
        }
        let db = Db::new(store);
        let runner = Runner::new(
            RunnerConfig {
                data_dir: config.data_dir.clone(),
                s3_root: config.s3_dir.clone(),
                python: config.python.clone(),
                runtime_dir: config.runtime_dir.clone(),
                spark: config.spark.clone(),
            },
            clock.clone(),
        )
        .context("preparing the job runner")?;
        runner.start_standbys();
        let (orchestrator, driver) = Orchestrator::new(
            db.clone(),
            runner,
            clock.clone(),
            OrchestratorSettings {
                script_credentials: config.auth.credentials().clone(),
                max_concurrent_job_runs: config.max_concurrent_job_runs,
            },
        );
        let scheduler = Scheduler::new(orchestrator.clone(), db.clone());
        let settings = GlueSettings {
            data_dir: config.data_dir.clone(),
            s3_dir: config.s3_dir.clone(),
            python: config.python.clone(),
        };
        let events =
            EventBus::new(db.clone(), orchestrator.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let logs = Logs::new(db.clone(), clock.clone()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let app = App::new(settings, db, orchestrator, scheduler.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(Self {
            config,
            app,
            driver,
            scheduler,
            events,
            logs,
        })
    }

    /// The edge this server serves (for in-process tests: `edge().into_router()`).
    pub fn edge(&self) -> Edge {
        edge(
            &self.config,
            self.app.clone(),
            self.events.clone(),
            self.logs.clone(),
        )
    }

    /// Starts the driver, takes back what a previous process left (runs, crawls,
    /// blueprint work), arms the schedules, the pending event batches' windows and the
    /// retention purge, prints
    /// `listening on ADDR` and serves `listener` until `shutdown` completes; then lets
    /// requests finish, stops the driver and checkpoints the store.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            config,
            app,
            driver,
            scheduler,
            events,
            logs,
        } = self;
        let orchestrator = app.orchestrator().clone();
        let db = app.db().clone();
        let local = listener.local_addr().context("reading the bound address")?;
        let callback = if local.ip().is_unspecified() {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), local.port())
        } else {
            local
        };
        orchestrator.set_endpoint(
            config
                .endpoint_url
                .clone()
                .unwrap_or_else(|| format!("http://{callback}")),
        );
        let (stop_driver, driver_stopped) = oneshot::channel::<()>();
        let driver = tokio::spawn(driver.run(async {
            let _ = driver_stopped.await;
        }));
        let lease_ms = i64::try_from(config.lease_timeout.as_millis()).unwrap_or(i64::MAX);
        let replica = Replica::new(
            config.replica_name.clone(),
            lease_ms,
            app.clone(),
            scheduler.clone(),
            events.clone(),
        );
        replica.start().await?;
        let schedules = scheduler
            .load()
            .await
            .map_err(|e| anyhow::anyhow!("loading trigger schedules: {e}"))?;
        if schedules > 0 {
            tracing::info!(schedules, "armed the schedules of activated triggers");
        }
        tokio::spawn(scheduler.run());
        let windows = events
            .windows()
            .load()
            .await
            .map_err(|e| anyhow::anyhow!("loading pending event batches: {e}"))?;
        if windows > 0 {
            tracing::info!(windows, "armed the windows of pending event batches");
        }
        tokio::spawn(events.windows().clone().run());
        let (lost_lease, lease_lost) = oneshot::channel::<String>();
        replica.keep(lost_lease)?;
        let retention_ms = i64::from(config.retention_days).saturating_mul(DAY_MS);
        purge_history(&orchestrator, retention_ms).await;
        tokio::spawn(purge_history_hourly(orchestrator, retention_ms));
        purge_expired_logs(&logs).await;
        tokio::spawn(purge_expired_logs_hourly(logs.clone()));
        println!("listening on {local}");
        tracing::info!(%local, "weir is serving the AWS Glue API");
        let serving = weir_edge::serve(listener, edge(&config, app, events, logs), shutdown);
        tokio::select! {
            served = serving => served.context("serving")?,
            Ok(why) = lease_lost => {
                // Another replica may be taking this one's work over: not one more
                // step, not even a graceful drain.
                tracing::error!(%why, "fenced");
                anyhow::bail!(why);
            }
        }
        let _ = stop_driver.send(());
        let _ = driver.await;
        // Only once this process acts on no run any more may another take them over.
        replica.release().await;
        // Last, so that the database file alone holds every change (a copy is a backup).
        match db.checkpoint().await {
            Ok(()) => tracing::info!("checkpointed the store into its database file"),
            Err(error) => tracing::warn!(%error, "could not checkpoint the store at shutdown"),
        }
        tracing::info!("weir stopped");
        Ok(())
    }
}

/// The edge in front of the services: Glue (also for every API request that names no
/// other service), EventBridge for `AWSEvents.` targets and `events` signatures, S3
/// for requests signed for `s3`, CloudWatch Logs for `Logs_20140328.` targets and
/// `logs` signatures, and the pages — the console, `/metrics`, and the
/// clock control when the clock is manual.
fn edge(config: &Config, app: App, events: EventBus, logs: Logs) -> Edge {
    let console = ConsoleSettings {
        credentials: config.auth.credentials().clone(),
        open: config.auth.mode() == weir_auth::AuthMode::Disabled,
        scope: Scope {
            account: config.account.clone(),
            region: config.region.clone(),
        },
        data_dir: config.data_dir.clone(),
    };
    let mut pages =
        weir_console::routes(app.clone(), console).merge(weir_edge::metrics_page::routes());
    if app.clock().is_manual() {
        pages = pages.merge(weir_edge::clock_control::routes(app.clock().clone()));
    }
    // S3 hands the object events of buckets configured for EventBridge to the bus.
    let notifier = Notifier::new(
        app.db().clone(),
        Arc::new(events.clone()),
        app.clock().clone(),
    );
    let glue = Arc::new(GlueService::new(app));
    let s3 = Arc::new(
        S3Service::new(S3Settings {
            root: config.s3_dir.clone(),
            default_account: config.account.clone(),
            default_region: config.region.clone(),
            max_object_bytes: weir_s3::DEFAULT_MAX_OBJECT_BYTES,
        })
        .with_events(notifier),
    );
    Edge {
        routes: Routes::new(glue.clone())
            .json("AWSGlue.", glue)
            .json("AWSEvents.", Arc::new(EventsService::new(events)))
            .json(
                weir_logs::protocol::TARGET_PREFIX,
                Arc::new(LogsService::new(logs)),
            )
            .rest(s3),
        pages,
        auth: config.auth.clone(),
        limits: config.limits.clone(),
    }
}

/// Purges finished run history past the retention every hour of the server's clock
/// (start-up purges once before serving).
async fn purge_history_hourly(orchestrator: Orchestrator, retention_ms: i64) {
    let clock = orchestrator.clock().clone();
    let mut next = clock.now_millis().saturating_add(PURGE_EVERY_MS);
    loop {
        clock.sleep_until(next).await;
        purge_history(&orchestrator, retention_ms).await;
        next = next.saturating_add(PURGE_EVERY_MS).max(clock.now_millis());
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

/// Purges log events past their group's retention every hour of the server's clock
/// (start-up purges once before serving).
async fn purge_expired_logs_hourly(logs: Logs) {
    let clock = logs.clock().clone();
    let mut next = clock.now_millis().saturating_add(PURGE_EVERY_MS);
    loop {
        clock.sleep_until(next).await;
        purge_expired_logs(&logs).await;
        next = next.saturating_add(PURGE_EVERY_MS).max(clock.now_millis());
    }
}

/// Purges log events past their group's retention once, logging the outcome.
async fn purge_expired_logs(logs: &Logs) {
    match logs.purge_expired().await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "purged log events past their retention"),
        Err(error) => tracing::warn!(%error, "could not purge expired log events"),
    }
}
