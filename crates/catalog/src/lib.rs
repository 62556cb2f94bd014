//! The Data Catalog and the crawls that fill it (glue-api.md §7): how databases,
//! tables and partitions are stored, the crawl lifecycle over `weir-crawler`'s scans,
//! crawl history, and the GetTables/GetPartitions filters.
//!
//! May depend on: `weir-resources`, `weir-crawler`, `weir-store`, `weir-model`,
//! `weir-clock`. Must not: know HTTP, the orchestrator (which calls in here to run a
//! workflow's crawl) or the Glue dispatch.
//!
//! # Layout
//! - `weir_crawler::scan` (blocking, its own crate): targets → files → classified and
//!   sampled tables.
//! - [`sync`]: found tables → catalog changes under the SchemaChangePolicy.
//! - [`tables`]: how databases, tables and partitions are stored; [`expression`]:
//!   the GetTables and GetPartitions filters.
//! - [`runtime`]: the crawl in progress and the history (ListCrawls, metrics).
//! - [`lifecycle`]: claim → crawl → finish, StartCrawler/StopCrawler, shared by the
//!   API and the orchestrator's crawl effect.
//!
//! # States (spec §7, one internal state mapped per view)
//! A claimed crawl makes the crawler `RUNNING` and adds a `RUNNING` history entry;
//! StopCrawler makes it `STOPPING`. The crawl ends in one transaction that writes the
//! catalog changes (success only) and sets the crawler `READY` with `LastCrawl`
//! `SUCCEEDED|FAILED|CANCELLED` and the entry `COMPLETED|FAILED|STOPPED`.
//! A crawl runs on a blocking thread and checks its cancellation flag between files
//! and folders, so a stop takes effect promptly and writes nothing to the catalog.
//!
//! # Decisions where AWS is silent or differs
//! - A crawler without `DatabaseName`, or with targets other than S3 (JDBC, DynamoDB,
//!   catalog, Delta, ...), starts but its crawl FAILS with a message saying so.
//! - A missing bucket directory FAILS the crawl (`S3 bucket <b> does not exist.`); a
//!   missing or empty prefix SUCCEEDS with no tables.
//! - A crawl interrupted by a Weir restart is reported FAILED (ListCrawls at once;
//!   the crawler record when it is next started or stopped). A workflow's crawl is
//!   re-run after a restart (the engine re-issues unconfirmed crawls).
//! - Parquet schemas come from the footer; compressed text files are not classified.
//!
//! **Test hook:** `WEIR_CRAWL_FILE_DELAY_MS` (environment, read once) makes every crawl
//! sleep that long before each file it samples, so tests can observe a running crawl
//! without racing it. Unset in normal use.

#![warn(missing_docs)]

pub mod expression;
pub mod lifecycle;
pub mod runtime;
pub mod sync;
pub mod tables;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// The setting that records that the catalog's documents are in today's formats, so
/// that later starts skip the scan (nothing writes the older formats any more).
const UPGRADED_SETTING: &str = "catalog/formats-upgraded";

/// Brings the catalog's documents written by earlier releases to today's formats —
/// tables that held their partitions, crawl histories kept among the server-wide
/// settings — in one write transaction; returns how many documents it rewrote. Run
/// before anything reads the catalog; idempotent, and a no-op once it has run.
pub fn upgrade_stored(
    tx: &mut dyn weir_store::Transaction,
) -> Result<usize, weir_resources::ApiError> {
    if tx.get_meta(UPGRADED_SETTING)?.is_some() {
        return Ok(0);
    }
    let upgraded = tables::upgrade_tables(tx)? + runtime::upgrade_settings(tx)?;
    let done = weir_store::Setting {
        value: "tables 2, crawl histories in their scope".into(),
        version: 1,
    };
    tx.put_meta(UPGRADED_SETTING, &done)?;
    Ok(upgraded)
}

/// The test hook's per-file delay (module docs).
static FILE_DELAY: LazyLock<Duration> = LazyLock::new(|| {
    std::env::var("WEIR_CRAWL_FILE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_millis)
});

/// Cancellation flags of the crawls of this process, by crawl id.
static CANCELS: LazyLock<Mutex<HashMap<String, Arc<AtomicBool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The cancellation flag of a crawl (created unset on first use).
pub fn cancel_flag(crawl_id: &str) -> Arc<AtomicBool> {
    match CANCELS.lock() {
        Ok(mut flags) => flags.entry(crawl_id.to_string()).or_default().clone(),
        Err(_) => Arc::new(AtomicBool::new(false)),
    }
}

/// Asks the crawl `crawl_id` to stop (it ends CANCELLED at its next check).
pub fn cancel(crawl_id: &str) {
    cancel_flag(crawl_id).store(true, Ordering::SeqCst);
}

/// Forgets the flag of a finished crawl.
fn release(crawl_id: &str) {
    if let Ok(mut flags) = CANCELS.lock() {
        flags.remove(crawl_id);
    }
}

/// Sleeps the test hook's delay in small steps, returning early when `flag` is set.
fn pause(flag: &AtomicBool) {
    let mut left = *FILE_DELAY;
    let step = Duration::from_millis(20);
    while !left.is_zero() && !flag.load(Ordering::SeqCst) {
        let now = left.min(step);
        std::thread::sleep(now);
        left -= now;
    }
}
