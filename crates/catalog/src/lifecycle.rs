//! One crawl from start to end, for StartCrawler and for workflow crawl effects:
//! [`claim`] (crawler READY → RUNNING, history entry), [`run`] (scan and plan the
//! catalog changes on a blocking thread, then one transaction applying them with the
//! crawl's end), and
//! [`stop`] (RUNNING → STOPPING, then the crawl's flag is raised).
//!
//! A crawler marked RUNNING/STOPPING by a server process that holds no replica lease
//! (an earlier Weir that stopped mid-crawl, or a replica that died; see
//! [`weir_resources::replica`]) is not running: claiming or stopping it first settles
//! that crawl as FAILED ([`runtime::INTERRUPTED`]). A stop reaches the crawl on the
//! replica running it through a notice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use weir_model::Timestamp;
use weir_model::shapes::{Crawler, CrawlerState};
use weir_store::{Kind, Scope, Store, StoreExt, Transaction};

use super::runtime::{self, CrawlState, Current, Entry, Runtime};
use super::sync::{self, Plan, Writer};
use super::{cancel, cancel_flag, pause, release, tables};
use weir_clock::Clock;
use weir_crawler::scan::{self, FoundTable, ScanError};
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_resources::replica::{self, Notice};
use weir_resources::stored::{self, Stored};

/// How often a running crawl refreshes the crawler's `CrawlElapsedTime`.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// EntityNotFoundException text of StartCrawler/StopCrawler/ListCrawls (as observed).
pub fn missing_message(name: &str) -> String {
    format!("Crawler with name {name} does not exist")
}

/// CrawlerRunningException text, also the ErrorMessage of a workflow crawl whose
/// crawler was busy.
pub fn busy_message(name: &str) -> String {
    format!("Crawler with name {name} has already started")
}

/// The result of trying to start a crawl.
#[derive(Debug)]
pub enum Claim {
    /// The crawl is claimed: run it with [`run`].
    Started(Box<CrawlJob>),
    /// The crawler is crawling already (message: [`busy_message`]).
    Busy(String),
    /// No such crawler.
    Missing,
    /// This very crawl is already running in this process (a re-issued effect).
    Duplicate,
}

/// A claimed crawl.
#[derive(Debug, Clone)]
pub struct CrawlJob {
    /// The crawler's definition when the crawl started (it cannot change while
    /// running).
    pub crawler: Crawler,
    /// The crawl id.
    pub crawl_id: String,
}

/// How a crawl ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The catalog was updated.
    Succeeded,
    /// The crawl failed with this message.
    Failed(String),
    /// The crawl was stopped.
    Cancelled,
}

fn load(
    tx: &mut dyn Transaction,
    scope: &Scope,
    name: &str,
) -> Result<Option<Stored<Crawler>>, ApiError> {
    stored::load::<Crawler>(tx, scope, Kind::Crawler, name)
}

fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    crawler: &Stored<Crawler>,
) -> Result<(), ApiError> {
    let name = crawler.value.name.clone().unwrap_or_default();
    let record = stored::record(&name, None, &crawler.value, crawler.tags.clone())?;
    tx.update(scope, Kind::Crawler, &record)?;
    Ok(())
}

/// Whether the crawler's crawl is running in a live server process: one whose epoch is
/// among `holders` (the epochs holding a replica lease, [`replica::holders`]).
fn live(crawler: &Crawler, runtime: &Runtime, holders: &BTreeSet<String>) -> bool {
    let marked = crawler
        .state
        .as_ref()
        .is_some_and(|s| *s != CrawlerState::Ready);
    runtime
        .current
        .as_ref()
        .is_some_and(|current| marked && !replica::is_orphan(Some(&current.epoch), holders))
}

/// Settles a crawl left running by an earlier process as FAILED; the crawler is READY.
fn settle_stale(crawler: &mut Crawler, runtime: &mut Runtime, now_ms: i64) {
    let name = crawler.name.clone().unwrap_or_default();
    let current = runtime.current.take();
    for entry in runtime.history.iter_mut() {
        if entry.state == CrawlState::Running {
            entry.state = CrawlState::Failed;
            entry.ended_ms = Some(now_ms);
            entry.error = Some(runtime::INTERRUPTED.into());
            if current
                .as_ref()
                .is_some_and(|c| c.crawl_id == entry.crawl_id)
            {
                crawler.last_crawl = Some(runtime::last_crawl(entry, &name));
            }
        }
    }
    crawler.state = Some(CrawlerState::Ready);
    crawler.crawl_elapsed_time = Some(0);
}

/// Claims a crawl of `name` with id `crawl_id` (module docs).
pub async fn claim(
    store: &Db,
    clock: &Clock,
    scope: Scope,
    name: String,
    crawl_id: String,
) -> Result<Claim, ApiError> {
    let now = clock.now_millis();
    store
        .write(move |tx| {
            let Some(mut stored) = load(tx, &scope, &name)? else {
                return Ok(Claim::Missing);
            };
            let mut runtime = runtime::load(tx, &scope, &stored.value)?;
            if live(&stored.value, &runtime, &replica::holders(tx)?) {
                let same = runtime
                    .current
                    .as_ref()
                    .is_some_and(|c| c.crawl_id == crawl_id);
                return Ok(if same {
                    Claim::Duplicate
                } else {
                    Claim::Busy(busy_message(&name))
                });
            }
            settle_stale(&mut stored.value, &mut runtime, now);
            runtime.history.retain(|e| e.crawl_id != crawl_id);
            runtime.history.push(Entry {
                crawl_id: crawl_id.clone(),
                state: CrawlState::Running,
                started_ms: now,
                ended_ms: None,
                error: None,
                changes: None,
            });
            runtime.current = Some(Current {
                crawl_id: crawl_id.clone(),
                epoch: replica::epoch().to_string(),
                started_ms: now,
            });
            stored.value.state = Some(CrawlerState::Running);
            save(tx, &scope, &stored)?;
            runtime::save(tx, &scope, &stored.value, &mut runtime, now)?;
            let started =
                format!("[{crawl_id}] BENCHMARK : Running Start Crawl for Crawler {name}");
            log_lines(tx, &scope, &name, &[started], now)?;
            Ok(Claim::Started(Box::new(CrawlJob {
                crawler: stored.value,
                crawl_id,
            })))
        })
        .await
}

/// Runs a claimed crawl to its end and records the end; returns how it ended.
/// `s3_root` is the local directory standing in for S3.
pub async fn run(store: Db, clock: Clock, scope: Scope, job: CrawlJob, s3_root: PathBuf) -> Ended {
    let flag = cancel_flag(&job.crawl_id);
    let heartbeat = tokio::spawn(heartbeat(
        store.clone(),
        clock.clone(),
        scope.clone(),
        job.clone(),
    ));
    let (crawl_job, crawl_store, crawl_scope) = (job.clone(), store.clone(), scope.clone());
    let now = clock.now();
    let scan_flag = flag.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let store = crawl_store.store();
        let units = crawl(
            store,
            &crawl_scope,
            &crawl_job.crawler,
            &s3_root,
            &scan_flag,
        )?;
        prepare(store, &crawl_scope, &crawl_job, units, now)
    })
    .await
    .unwrap_or_else(|e| Err(ScanError::Failed(format!("The crawl task failed: {e}"))));
    heartbeat.abort();
    let ended = match finish(&store, &clock, &scope, &job, outcome, flag.clone()).await {
        Ok(ended) => ended,
        Err(error) => {
            tracing::error!(%error, crawl = %job.crawl_id, "could not record a crawl's result");
            let failed = Err(ScanError::Failed(format!(
                "The crawl could not be recorded: {error}"
            )));
            finish(&store, &clock, &scope, &job, failed, flag)
                .await
                .unwrap_or_else(|e| Ended::Failed(e.to_string()))
        }
    };
    release(&job.crawl_id);
    tracing::info!(crawler = ?job.crawler.name, crawl = %job.crawl_id, ?ended, "crawl ended");
    ended
}

/// What a crawl found for one database: the crawler as it writes that database, and
/// the tables found for it.
struct Unit {
    /// The crawler, or for catalog targets a copy naming the target's database (and no
    /// table prefix), so that the catalog is written as for that database.
    crawler: Crawler,
    /// The tables found.
    found: Vec<FoundTable>,
}

/// The blocking crawl: preconditions, then the scan of the S3 targets (written to the
/// crawler's database) and of the locations of the tables its catalog targets name
/// (each written back to its table, in place).
fn crawl(
    store: &dyn Store,
    scope: &Scope,
    crawler: &Crawler,
    s3_root: &std::path::Path,
    flag: &Arc<AtomicBool>,
) -> Result<Vec<Unit>, ScanError> {
    let name = crawler.name.as_deref().unwrap_or_default();
    let targets = crawler.targets.clone().unwrap_or_default();
    let others = [
        ("JDBC", targets.jdbc_targets.as_ref().map_or(0, Vec::len)),
        (
            "MongoDB",
            targets.mongo_db_targets.as_ref().map_or(0, Vec::len),
        ),
        (
            "DynamoDB",
            targets.dynamo_db_targets.as_ref().map_or(0, Vec::len),
        ),
        ("Delta", targets.delta_targets.as_ref().map_or(0, Vec::len)),
        (
            "Iceberg",
            targets.iceberg_targets.as_ref().map_or(0, Vec::len),
        ),
        ("Hudi", targets.hudi_targets.as_ref().map_or(0, Vec::len)),
    ];
    if let Some((kind, _)) = others.iter().find(|(_, n)| *n > 0) {
        return Err(ScanError::Failed(format!(
            "Weir crawls S3 and catalog targets only; this crawler has {kind} targets."
        )));
    }
    let stopped = || flag.load(Ordering::SeqCst);
    let mut units = Vec::new();
    let s3 = targets.s3_targets.unwrap_or_default();
    if !s3.is_empty() {
        let database = crawler.database_name.as_deref().unwrap_or_default();
        if database.is_empty() {
            return Err(ScanError::Failed(format!(
                "Crawler {name} has no DatabaseName: set one with UpdateCrawler to crawl."
            )));
        }
        tables::check_database_name(database).map_err(|e| ScanError::Failed(e.to_string()))?;
        let found = scan::scan(&s3, s3_root, &stopped, &|| pause(flag))?;
        units.push(Unit {
            crawler: crawler.clone(),
            found,
        });
    }
    let catalog_targets = targets.catalog_targets.unwrap_or_default();
    if !catalog_targets.is_empty() && !units.is_empty() {
        return Err(ScanError::Failed(
            "A crawler with catalog targets cannot crawl S3 targets too.".into(),
        ));
    }
    // The tables to crawl by database: one unit per database, so that a table one
    // target names is never taken for one this crawl did not find.
    let mut by_database: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for target in catalog_targets {
        let database = tables::fold(target.database_name.as_deref().unwrap_or_default());
        by_database
            .entry(database)
            .or_default()
            .extend(target.tables.unwrap_or_default());
    }
    for (database, wanted) in by_database {
        let located = store
            .read(|tx| catalog_locations(tx, scope, &database, &wanted))
            .map_err(|e: ApiError| {
                ScanError::Failed(format!("The catalog could not be read: {e}"))
            })?;
        let mut found = Vec::new();
        for (table, location) in located {
            let path = weir_model::shapes::S3Target {
                path: Some(location.clone()),
                ..Default::default()
            };
            let root = format!("{}/", location.trim_end_matches('/'));
            let at_root = scan::scan(&[path], s3_root, &stopped, &|| pause(flag))?
                .into_iter()
                .find(|t| t.location == root);
            match at_root {
                Some(mut fresh) => {
                    fresh.name = table;
                    fresh.location = location;
                    found.push(fresh);
                }
                None => tracing::warn!(
                    crawler = %name, %database, %table, %location,
                    "crawl: no data found at a catalog target table's location"
                ),
            }
        }
        if found.is_empty() {
            continue;
        }
        let mut writer = crawler.clone();
        writer.database_name = Some(database);
        writer.table_prefix = None;
        units.push(Unit {
            crawler: writer,
            found,
        });
    }
    Ok(units)
}

/// The (folded) names and locations of the tables `wanted` of `database` that exist
/// and have a location; the others are skipped with a warning, as the crawl cannot
/// read them.
fn catalog_locations(
    tx: &mut dyn Transaction,
    scope: &Scope,
    database: &str,
    wanted: &[String],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut located = Vec::new();
    for table in wanted {
        let table = tables::fold(table);
        let location = tables::load_table(tx, scope, database, &table)?.and_then(|t| {
            t.value
                .table
                .storage_descriptor
                .and_then(|d| d.location)
                .filter(|l| !l.is_empty())
        });
        match location {
            Some(location) => located.push((table, location)),
            None => tracing::warn!(
                %database, %table,
                "crawl: a catalog target table is missing or has no location"
            ),
        }
    }
    Ok(located)
}

/// One database's share of a crawl: its unit and the catalog changes planned for it.
struct Part {
    /// What was found, and for which database.
    unit: Unit,
    /// The planned changes.
    plan: Plan,
}

/// What a successful scan found, with the catalog changes planned from it.
struct Findings {
    /// One part per database written.
    parts: Vec<Part>,
    /// The time the catalog changes carry.
    now: Timestamp,
}

/// Plans the catalog changes of `units` (blocking: a read transaction, then decoding,
/// merging and encoding on the crawl's thread), so that the final write transaction
/// only applies them.
fn prepare(
    store: &dyn Store,
    scope: &Scope,
    job: &CrawlJob,
    units: Vec<Unit>,
    now: Timestamp,
) -> Result<Findings, ScanError> {
    let failed = |e: ApiError| ScanError::Failed(format!("The catalog could not be read: {e}"));
    let mut parts = Vec::new();
    for unit in units {
        let writer = Writer {
            crawler: &unit.crawler,
            crawl_id: &job.crawl_id,
            account: &scope.account,
            now,
        };
        let basis = store
            .read(|tx| sync::Basis::read(tx, scope, &unit.crawler))
            .map_err(failed)?;
        let plan = sync::plan(&writer, basis, &unit.found).map_err(failed)?;
        parts.push(Part { unit, plan });
    }
    Ok(Findings { parts, now })
}

/// Records the end of `job` in one transaction: catalog changes on success (planned
/// beforehand), crawler READY with LastCrawl, history entry final. A stop requested
/// meanwhile (STOPPING or the flag) wins over success.
async fn finish(
    store: &Db,
    clock: &Clock,
    scope: &Scope,
    job: &CrawlJob,
    outcome: Result<Findings, ScanError>,
    flag: Arc<AtomicBool>,
) -> Result<Ended, ApiError> {
    let now = clock.now();
    let scope = scope.clone();
    let job = job.clone();
    store
        .write(move |tx| {
            let name = job.crawler.name.clone().unwrap_or_default();
            let Some(mut stored) = load(tx, &scope, &name)? else {
                return Ok(Ended::Failed(format!(
                    "Crawler {name} was deleted while crawling."
                )));
            };
            let mut runtime = runtime::load(tx, &scope, &stored.value)?;
            if runtime.current.as_ref().map(|c| c.crawl_id.as_str()) != Some(job.crawl_id.as_str())
            {
                return Ok(Ended::Failed(
                    "The crawl was superseded by another one.".into(),
                ));
            }
            let stopping =
                stored.value.state == Some(CrawlerState::Stopping) || flag.load(Ordering::SeqCst);
            let (state, ended, changes) = match outcome {
                _ if stopping => (CrawlState::Stopped, Ended::Cancelled, None),
                Err(ScanError::Cancelled) => (CrawlState::Stopped, Ended::Cancelled, None),
                Err(ScanError::Failed(message)) => {
                    (CrawlState::Failed, Ended::Failed(message), None)
                }
                Ok(findings) => {
                    let mut changes = sync::Changes::default();
                    for part in findings.parts {
                        let writer = Writer {
                            crawler: &part.unit.crawler,
                            crawl_id: &job.crawl_id,
                            account: &scope.account,
                            now: findings.now,
                        };
                        changes.add(part.plan.write(tx, &scope, &writer, &part.unit.found)?);
                    }
                    (
                        CrawlState::Completed,
                        Ended::Succeeded,
                        Some(changes.into()),
                    )
                }
            };
            let lines = crawl_end_lines(&job.crawl_id, &ended, changes.as_ref());
            log_lines(tx, &scope, &name, &lines, now.as_millis())?;
            if let Some(entry) = runtime.entry_mut(&job.crawl_id) {
                entry.state = state;
                entry.ended_ms = Some(now.as_millis());
                entry.error = match &ended {
                    Ended::Failed(message) => Some(message.clone()),
                    _ => None,
                };
                entry.changes = changes;
                stored.value.last_crawl = Some(runtime::last_crawl(entry, &name));
            }
            runtime.current = None;
            stored.value.state = Some(CrawlerState::Ready);
            stored.value.crawl_elapsed_time = Some(0);
            save(tx, &scope, &stored)?;
            runtime::save(tx, &scope, &stored.value, &mut runtime, now.as_millis())?;
            Ok(ended)
        })
        .await
}

/// Appends `lines` to the crawler's stream of `/aws-glue/crawlers` (named after it).
fn log_lines(
    tx: &mut dyn Transaction,
    scope: &Scope,
    crawler: &str,
    lines: &[String],
    now: i64,
) -> Result<(), ApiError> {
    weir_logs::streams::log_lines(tx, scope, runtime::LOG_GROUP, crawler, lines, now)
}

/// What a crawl logs when it ends: the tables it changed and how it ended.
fn crawl_end_lines(
    crawl_id: &str,
    ended: &Ended,
    changes: Option<&runtime::ChangeCounts>,
) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(changes) = changes {
        lines.push(format!(
            "[{crawl_id}] INFO : Tables created: {}, tables updated: {}, tables deleted: {}",
            changes.tables_created, changes.tables_updated, changes.tables_deleted
        ));
    }
    lines.push(match ended {
        Ended::Succeeded => {
            format!("[{crawl_id}] BENCHMARK : Crawler has finished running and is in state READY")
        }
        Ended::Failed(message) => format!("[{crawl_id}] ERROR : Crawl failed: {message}"),
        Ended::Cancelled => format!("[{crawl_id}] INFO : The crawl was stopped"),
    });
    lines
}

/// Refreshes `CrawlElapsedTime` while the crawl runs.
async fn heartbeat(store: Db, clock: Clock, scope: Scope, job: CrawlJob) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.tick().await;
    loop {
        tick.tick().await;
        let scope = scope.clone();
        let job = job.clone();
        let now = clock.now_millis();
        let result = store
            .write(move |tx| {
                let name = job.crawler.name.clone().unwrap_or_default();
                let Some(mut stored) = load(tx, &scope, &name)? else {
                    return Ok(());
                };
                let runtime = runtime::load(tx, &scope, &stored.value)?;
                if let Some(current) = runtime.current.filter(|c| c.crawl_id == job.crawl_id) {
                    let elapsed = (now - current.started_ms).max(0);
                    stored.value.crawl_elapsed_time = Some(elapsed);
                    save(tx, &scope, &stored)?;
                }
                Ok(())
            })
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, "could not refresh a crawl's elapsed time");
        }
    }
}

/// StartCrawler: claims a crawl with a new id and runs it in the background.
pub async fn start(
    store: Db,
    clock: Clock,
    scope: Scope,
    name: String,
    s3_root: PathBuf,
) -> Result<(), ApiError> {
    let crawl_id = uuid::Uuid::new_v4().to_string();
    match claim(&store, &clock, scope.clone(), name.clone(), crawl_id).await? {
        Claim::Missing => Err(ApiError::EntityNotFound(missing_message(&name))),
        Claim::Busy(message) => Err(ApiError::CrawlerRunning(message)),
        Claim::Duplicate => Err(ApiError::CrawlerRunning(busy_message(&name))),
        Claim::Started(job) => {
            tokio::spawn(run(store, clock, scope, *job, s3_root));
            Ok(())
        }
    }
}

/// StopCrawler: READY → CrawlerNotRunningException, STOPPING → CrawlerStoppingException,
/// RUNNING → STOPPING and the crawl is told to stop. A crawl interrupted by a restart
/// is settled (FAILED) instead.
pub async fn stop(store: &Db, clock: &Clock, scope: Scope, name: String) -> Result<(), ApiError> {
    let now = clock.now_millis();
    let stopped = store
        .write(move |tx| {
            let mut stored = load(tx, &scope, &name)?
                .ok_or_else(|| ApiError::EntityNotFound(missing_message(&name)))?;
            let state = stored.value.state.clone().unwrap_or(CrawlerState::Ready);
            if state == CrawlerState::Ready {
                return Err(ApiError::CrawlerNotRunning(format!(
                    "Crawler with name {name} is not running."
                )));
            }
            let mut runtime = runtime::load(tx, &scope, &stored.value)?;
            if !live(&stored.value, &runtime, &replica::holders(tx)?) {
                settle_stale(&mut stored.value, &mut runtime, now);
                save(tx, &scope, &stored)?;
                runtime::save(tx, &scope, &stored.value, &mut runtime, now)?;
                return Ok(None);
            }
            if state == CrawlerState::Stopping {
                return Err(ApiError::CrawlerStopping(format!(
                    "Crawler with name {name} is stopping."
                )));
            }
            stored.value.state = Some(CrawlerState::Stopping);
            save(tx, &scope, &stored)?;
            let crawl_id = runtime.current.map(|c| c.crawl_id);
            if let Some(crawl_id) = &crawl_id {
                // The crawl may run on another replica.
                let crawl_id = crawl_id.clone();
                replica::send(tx, &Notice::CancelCrawl { crawl_id })?;
            }
            Ok(crawl_id)
        })
        .await?;
    if let Some(crawl_id) = stopped {
        cancel(&crawl_id);
    }
    Ok(())
}

/// Settles every crawl a process that holds no replica lease left running (an earlier
/// process of this server, or a replica that died): call at start-up and whenever
/// leases ended, after the orchestrator took over the runs (which re-issued their
/// crawls); returns how many it settled.
pub async fn settle_interrupted(store: &Db, clock: &Clock) -> Result<usize, ApiError> {
    let now = clock.now_millis();
    store
        .write(move |tx| {
            let mut settled = 0;
            let holders = replica::holders(tx)?;
            for (scope, record) in tx.list_all(Kind::Crawler)? {
                let mut stored = stored::decode::<Crawler>(record)?;
                if stored
                    .value
                    .state
                    .as_ref()
                    .is_none_or(|s| *s == CrawlerState::Ready)
                {
                    continue;
                }
                let mut runtime = runtime::load(tx, &scope, &stored.value)?;
                if live(&stored.value, &runtime, &holders) {
                    continue;
                }
                settle_stale(&mut stored.value, &mut runtime, now);
                save(tx, &scope, &stored)?;
                runtime::save(tx, &scope, &stored.value, &mut runtime, now)?;
                settled += 1;
            }
            Ok(settled)
        })
        .await
}
