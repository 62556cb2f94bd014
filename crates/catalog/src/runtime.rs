//! The durable runtime state of a crawler beyond its `Crawler` record: the crawl in
//! progress and the crawl history (ListCrawls, GetCrawlerMetrics).
//!
//! It is kept as one document per crawler, a `Kind::CrawlerRuntime` record of the
//! crawler's scope named after it, written in the same transactions as the crawler
//! record. (Releases before it kept the document among the server-wide settings, under
//! `crawler-runtime/<account>/<region>/<crawler>`; [`upgrade_settings`] moves those at
//! start-up.) The document remembers the crawler's `CreationTime`, so the
//! history of a deleted crawler is not inherited by a new one of the same name.
//! History keeps the crawls of the last 12 months (spec §7), at most
//! [`MAX_HISTORY`] of them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use weir_model::Timestamp;
use weir_model::shapes::{
    Crawler, CrawlerHistory, CrawlerHistoryState, CrawlerMetrics, LastCrawlInfo, LastCrawlStatus,
};
use weir_store::{Kind, Record, Scope, Transaction};

use super::sync::Changes;
use weir_resources::ApiError;
use weir_resources::stored::{self, Document};

/// Most crawls kept per crawler.
pub const MAX_HISTORY: usize = 1000;
/// Crawls older than this are forgotten (12 months).
const RETENTION_MS: i64 = 366 * 86_400_000;
/// `LogGroup` of every crawl, as on AWS.
pub const LOG_GROUP: &str = weir_logs::CRAWLER_LOG_GROUP;
/// ErrorMessage of a crawl that was running when Weir stopped.
pub const INTERRUPTED: &str = "The crawl was interrupted: Weir stopped while it was running.";

/// A crawl's final (or current) state in `CrawlerHistory.State` terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CrawlState {
    /// In progress.
    Running,
    /// Succeeded.
    Completed,
    /// Failed.
    Failed,
    /// Stopped by StopCrawler or a workflow stop.
    Stopped,
}

impl CrawlState {
    /// `CrawlerHistory.State` of a crawl in this state.
    pub fn history_state(self) -> CrawlerHistoryState {
        match self {
            CrawlState::Running => CrawlerHistoryState::Running,
            CrawlState::Completed => CrawlerHistoryState::Completed,
            CrawlState::Failed => CrawlerHistoryState::Failed,
            CrawlState::Stopped => CrawlerHistoryState::Stopped,
        }
    }

    /// `LastCrawlInfo.Status` of a finished crawl.
    pub fn last_crawl_status(self) -> LastCrawlStatus {
        match self {
            CrawlState::Completed => LastCrawlStatus::Succeeded,
            CrawlState::Stopped => LastCrawlStatus::Cancelled,
            CrawlState::Running | CrawlState::Failed => LastCrawlStatus::Failed,
        }
    }
}

/// One crawl of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The crawl id (UUID form).
    pub crawl_id: String,
    /// Its state.
    pub state: CrawlState,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// End, epoch milliseconds, once finished.
    #[serde(default)]
    pub ended_ms: Option<i64>,
    /// ErrorMessage of a failed crawl.
    #[serde(default)]
    pub error: Option<String>,
    /// What it changed.
    #[serde(default)]
    pub changes: Option<ChangeCounts>,
}

/// Serializable [`Changes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCounts {
    /// Tables created.
    pub tables_created: u32,
    /// Tables updated.
    pub tables_updated: u32,
    /// Tables deleted or deprecated.
    pub tables_deleted: u32,
    /// Partitions added.
    pub partitions_added: u32,
    /// Partitions removed.
    pub partitions_deleted: u32,
}

impl From<Changes> for ChangeCounts {
    fn from(c: Changes) -> Self {
        ChangeCounts {
            tables_created: c.tables_created,
            tables_updated: c.tables_updated,
            tables_deleted: c.tables_deleted,
            partitions_added: c.partitions_added,
            partitions_deleted: c.partitions_deleted,
        }
    }
}

impl ChangeCounts {
    /// `CrawlerHistory.Summary`: `{"TABLE":{"ADD":{"Count":n},...},"PARTITION":{...}}`
    /// with the non-zero counts (`{}` when nothing changed).
    pub fn summary(&self) -> String {
        let mut root = serde_json::Map::new();
        let mut group = |kind: &str, counts: &[(&str, u32)]| {
            let mut actions = serde_json::Map::new();
            for (action, n) in counts {
                if *n > 0 {
                    actions.insert(action.to_string(), serde_json::json!({ "Count": n }));
                }
            }
            if !actions.is_empty() {
                root.insert(kind.to_string(), serde_json::Value::Object(actions));
            }
        };
        group(
            "TABLE",
            &[
                ("ADD", self.tables_created),
                ("UPDATE", self.tables_updated),
                ("DELETE", self.tables_deleted),
            ],
        );
        group(
            "PARTITION",
            &[
                ("ADD", self.partitions_added),
                ("DELETE", self.partitions_deleted),
            ],
        );
        serde_json::Value::Object(root).to_string()
    }
}

/// The crawl in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Current {
    /// Its id.
    pub crawl_id: String,
    /// The epoch of the server process running it
    /// ([`weir_resources::replica::epoch`]); an epoch that holds no lease means the
    /// crawl was interrupted (its process stopped or died).
    pub epoch: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
}

/// The runtime document of one crawler.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Runtime {
    /// `CreationTime` (ms) of the crawler this document belongs to.
    #[serde(default)]
    pub crawler_created_ms: Option<i64>,
    /// The crawl in progress.
    #[serde(default)]
    pub current: Option<Current>,
    /// Crawls, oldest first.
    #[serde(default)]
    pub history: Vec<Entry>,
}

impl Document for Runtime {}

/// Prefix of the settings keys under which earlier releases kept runtime documents.
const SETTINGS_PREFIX: &str = "crawler-runtime/";

/// Moves the runtime documents earlier releases kept among the server-wide settings
/// into records of their crawler's scope; returns how many it moved. Run at start-up;
/// idempotent.
pub fn upgrade_settings(tx: &mut dyn Transaction) -> Result<usize, ApiError> {
    let mut moved = 0;
    for (key, setting) in tx.list_meta(SETTINGS_PREFIX)? {
        // `crawler-runtime/<account>/<region>/<crawler>`: account and region hold no
        // `/`, a crawler name may.
        let parts = key
            .strip_prefix(SETTINGS_PREFIX)
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(account, rest)| Some((account, rest.split_once('/')?)));
        let Some((account, (region, crawler))) = parts else {
            tracing::warn!(key, "left a crawler runtime setting with an unreadable key");
            continue;
        };
        let scope = Scope {
            account: account.to_string(),
            region: region.to_string(),
        };
        let record = Record {
            name: crawler.to_string(),
            parent: None,
            doc: setting.value,
            version: setting.version,
            tags: Default::default(),
        };
        if !tx.insert(&scope, Kind::CrawlerRuntime, &record)? {
            tx.update(&scope, Kind::CrawlerRuntime, &record)?;
        }
        tx.delete_meta(&key)?;
        moved += 1;
    }
    Ok(moved)
}

/// The runtime document of `crawler` (empty when missing or left by a deleted
/// crawler of the same name).
pub fn load(
    tx: &mut dyn Transaction,
    scope: &Scope,
    crawler: &Crawler,
) -> Result<Runtime, ApiError> {
    let name = crawler.name.as_deref().unwrap_or_default();
    let created = crawler.creation_time.map(Timestamp::as_millis);
    let runtime = stored::load::<Runtime>(tx, scope, Kind::CrawlerRuntime, name)?
        .map(|stored| stored.value)
        .unwrap_or_default();
    if runtime.crawler_created_ms == created {
        Ok(runtime)
    } else {
        Ok(Runtime {
            crawler_created_ms: created,
            ..Runtime::default()
        })
    }
}

/// Stores the runtime document, dropping history past retention.
pub fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    crawler: &Crawler,
    runtime: &mut Runtime,
    now_ms: i64,
) -> Result<(), ApiError> {
    runtime
        .history
        .retain(|e| e.state == CrawlState::Running || e.started_ms >= now_ms - RETENTION_MS);
    if runtime.history.len() > MAX_HISTORY {
        let excess = runtime.history.len() - MAX_HISTORY;
        runtime.history.drain(..excess);
    }
    let name = crawler.name.as_deref().unwrap_or_default();
    let record = stored::record(name, None, runtime, Default::default())?;
    if !tx.update(scope, Kind::CrawlerRuntime, &record)? {
        tx.insert(scope, Kind::CrawlerRuntime, &record)?;
    }
    Ok(())
}

impl Runtime {
    /// The history entry of `crawl_id`.
    pub fn entry_mut(&mut self, crawl_id: &str) -> Option<&mut Entry> {
        self.history.iter_mut().find(|e| e.crawl_id == crawl_id)
    }

    /// The history as ListCrawls shows it, newest first. A crawl still marked running
    /// by a process none of whose epoch is among `holders` (the epochs holding a
    /// replica lease, [`weir_resources::replica::holders`]) shows as failed: it was
    /// interrupted.
    pub fn view(&self, holders: &BTreeSet<String>) -> Vec<Entry> {
        let stale = self
            .current
            .as_ref()
            .filter(|c| !holders.contains(&c.epoch))
            .map(|c| c.crawl_id.as_str());
        self.history
            .iter()
            .rev()
            .map(|entry| {
                let mut entry = entry.clone();
                let orphan = entry.state == CrawlState::Running
                    && (stale == Some(entry.crawl_id.as_str())
                        || self.current.as_ref().map(|c| c.crawl_id.as_str())
                            != Some(entry.crawl_id.as_str()));
                if orphan {
                    entry.state = CrawlState::Failed;
                    entry.error = Some(INTERRUPTED.into());
                }
                entry
            })
            .collect()
    }
}

/// The wire form of a history entry.
pub fn render(entry: &Entry, crawler: &str) -> CrawlerHistory {
    CrawlerHistory {
        crawl_id: Some(entry.crawl_id.clone()),
        state: Some(entry.state.history_state()),
        start_time: Some(Timestamp::from_millis(entry.started_ms)),
        end_time: entry.ended_ms.map(Timestamp::from_millis),
        summary: entry.changes.map(|c| c.summary()),
        error_message: entry.error.clone(),
        log_group: Some(LOG_GROUP.into()),
        log_stream: Some(crawler.to_string()),
        message_prefix: Some(entry.crawl_id.clone()),
        dpu_hour: None,
    }
}

/// `Crawler.LastCrawl` for a finished entry.
pub fn last_crawl(entry: &Entry, crawler: &str) -> LastCrawlInfo {
    LastCrawlInfo {
        status: Some(entry.state.last_crawl_status()),
        error_message: entry.error.clone(),
        log_group: Some(LOG_GROUP.into()),
        log_stream: Some(crawler.to_string()),
        message_prefix: Some(entry.crawl_id.clone()),
        start_time: Some(Timestamp::from_millis(entry.started_ms)),
    }
}

/// GetCrawlerMetrics for one crawler: the last finished crawl's runtime and table
/// counts, the median runtime of finished crawls, and for a running crawl the time
/// left estimated from that median (`StillEstimating` until a crawl has finished).
pub fn metrics(name: &str, entries_newest_first: &[Entry], now_ms: i64) -> CrawlerMetrics {
    let finished: Vec<&Entry> = entries_newest_first
        .iter()
        .filter(|e| e.state != CrawlState::Running && e.ended_ms.is_some())
        .collect();
    let seconds =
        |e: &Entry| (e.ended_ms.unwrap_or(e.started_ms) - e.started_ms).max(0) as f64 / 1000.0;
    let mut runtimes: Vec<f64> = finished.iter().map(|e| seconds(e)).collect();
    runtimes.sort_by(f64::total_cmp);
    let median = match runtimes.len() {
        0 => 0.0,
        n if n % 2 == 1 => runtimes[n / 2],
        n => (runtimes[n / 2 - 1] + runtimes[n / 2]) / 2.0,
    };
    let last = finished.first();
    let counts = last.and_then(|e| e.changes).unwrap_or_default();
    let running = entries_newest_first
        .iter()
        .find(|e| e.state == CrawlState::Running);
    let time_left = running.map_or(0.0, |e| {
        (median - (now_ms - e.started_ms).max(0) as f64 / 1000.0).max(0.0)
    });
    CrawlerMetrics {
        crawler_name: Some(name.to_string()),
        time_left_seconds: Some(time_left),
        still_estimating: Some(running.is_some() && finished.is_empty()),
        last_runtime_seconds: Some(last.map_or(0.0, |e| seconds(e))),
        median_runtime_seconds: Some(median),
        tables_created: Some(counts.tables_created as i32),
        tables_updated: Some(counts.tables_updated as i32),
        tables_deleted: Some(counts.tables_deleted as i32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, state: CrawlState, start: i64, end: Option<i64>) -> Entry {
        Entry {
            crawl_id: id.into(),
            state,
            started_ms: start,
            ended_ms: end,
            error: None,
            changes: None,
        }
    }

    #[test]
    fn summary_lists_non_zero_counts() {
        let counts = ChangeCounts {
            tables_created: 3,
            partitions_added: 2,
            ..Default::default()
        };
        assert_eq!(
            counts.summary(),
            r#"{"PARTITION":{"ADD":{"Count":2}},"TABLE":{"ADD":{"Count":3}}}"#
        );
        assert_eq!(ChangeCounts::default().summary(), "{}");
    }

    #[test]
    fn metrics_use_the_last_finished_crawl_and_the_median() {
        let mut last = entry("c3", CrawlState::Completed, 10_000, Some(13_000));
        last.changes = Some(ChangeCounts {
            tables_created: 1,
            tables_updated: 2,
            ..Default::default()
        });
        let newest_first = vec![
            entry("c4", CrawlState::Running, 20_000, None),
            last,
            entry("c2", CrawlState::Failed, 5_000, Some(6_000)),
            entry("c1", CrawlState::Completed, 0, Some(2_000)),
        ];
        let m = metrics("c", &newest_first, 21_000);
        assert_eq!(m.last_runtime_seconds, Some(3.0));
        assert_eq!(m.median_runtime_seconds, Some(2.0));
        assert_eq!(m.time_left_seconds, Some(1.0));
        assert_eq!(m.still_estimating, Some(false));
        assert_eq!((m.tables_created, m.tables_updated), (Some(1), Some(2)));
        let first = metrics("c", &newest_first[..1], 21_000);
        assert_eq!(first.still_estimating, Some(true));
    }

    #[test]
    fn interrupted_crawls_show_as_failed() {
        let runtime = Runtime {
            crawler_created_ms: Some(1),
            current: Some(Current {
                crawl_id: "c2".into(),
                epoch: "old".into(),
                started_ms: 5,
            }),
            history: vec![
                entry("c1", CrawlState::Completed, 1, Some(2)),
                entry("c2", CrawlState::Running, 5, None),
            ],
        };
        let view = runtime.view(&BTreeSet::from(["new".to_string()]));
        assert_eq!(view[0].state, CrawlState::Failed);
        assert_eq!(view[0].error.as_deref(), Some(INTERRUPTED));
        let holders = BTreeSet::from(["new".to_string(), "old".to_string()]);
        assert_eq!(runtime.view(&holders)[0].state, CrawlState::Running);
    }
}
