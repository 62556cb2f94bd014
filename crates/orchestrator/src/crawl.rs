//! Crawl nodes of runs: the crawl is claimed, run by [`weir_catalog`] on a blocking
//! thread, and its end reported to the driver, which confirms and ends it in one
//! engine transition.

use weir_engine::{CrawlEnded, CrawlOutcome, CrawlState, Millis};

use super::driver::Event;
use super::stored_run::{self, RunKey, StoredRun};
use super::{Orchestrator, ignore_stale};
use weir_catalog::lifecycle::{self, Claim, Ended};
use weir_resources::db::Db;

/// How often a running crawl checks whether its run still wants it.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// How a crawl of a run ended, as reported to the driver.
#[derive(Debug, Clone)]
pub(crate) enum CrawlResult {
    /// The crawler does not exist (the crawl never started).
    Missing,
    /// The crawl was started (or refused) and ended so.
    Ran(CrawlOutcome, Option<String>),
    /// A stop of the run cancelled it (KillCrawl).
    Cancelled,
}

impl Orchestrator {
    /// Runs the crawl of a crawler node (spec §7): a crawler already crawling makes
    /// this crawl FAILED with "Crawler with name <n> has already started". While it
    /// runs, the run is watched: once the engine no longer wants it (KillCrawl of a
    /// stopped run), the crawl is cancelled. The confirmation comes with the end, so
    /// after a restart the engine re-issues the crawl and it runs again.
    pub(super) async fn crawl(self, key: RunKey, crawler: String, crawl_id: String) {
        let db = self.inner.db.clone();
        if !wanted(&db, &key, &crawl_id).await {
            return;
        }
        let clock = self.clock().clone();
        let claim = lifecycle::claim(
            &db,
            &clock,
            key.scope.clone(),
            crawler.clone(),
            crawl_id.clone(),
        )
        .await;
        let result = match claim {
            Ok(Claim::Duplicate) => return,
            Ok(Claim::Missing) => CrawlResult::Missing,
            Ok(Claim::Busy(message)) => CrawlResult::Ran(CrawlOutcome::Failed, Some(message)),
            Ok(Claim::Started(job)) => {
                let (watch_db, watch_key, id) = (db.clone(), key.clone(), crawl_id.clone());
                let watcher = tokio::spawn(async move {
                    let mut tick = tokio::time::interval(WATCH_EVERY);
                    loop {
                        tick.tick().await;
                        if !wanted(&watch_db, &watch_key, &id).await {
                            weir_catalog::cancel(&id);
                            break;
                        }
                    }
                });
                let s3_root = self.inner.runner.s3_root().to_path_buf();
                let ended =
                    lifecycle::run(db.clone(), clock, key.scope.clone(), *job, s3_root).await;
                watcher.abort();
                match ended {
                    Ended::Succeeded => CrawlResult::Ran(CrawlOutcome::Succeeded, None),
                    Ended::Failed(message) => CrawlResult::Ran(CrawlOutcome::Failed, Some(message)),
                    Ended::Cancelled => CrawlResult::Ran(CrawlOutcome::Cancelled, None),
                }
            }
            Err(error) => CrawlResult::Ran(
                CrawlOutcome::Failed,
                Some(format!("The crawl could not start: {error}")),
            ),
        };
        self.send(Event::CrawlEnded {
            key,
            crawl_id,
            crawler,
            result,
        });
    }
}

/// Records the end of a crawl in its run ([`Event::CrawlEnded`]) at `now`.
pub(super) fn record_end(
    stored: &mut StoredRun,
    crawl_id: &str,
    crawler: &str,
    result: CrawlResult,
    now: Millis,
) {
    let run = &mut stored.run;
    let (outcome, error_message) = match result {
        CrawlResult::Missing => {
            let message = format!("Crawler {crawler} does not exist.");
            ignore_stale(run.handle_crawler_missing(now, crawl_id, message));
            return;
        }
        CrawlResult::Cancelled => (CrawlOutcome::Cancelled, None),
        CrawlResult::Ran(outcome, message) => {
            ignore_stale(run.handle_crawl_started(now, crawl_id));
            (outcome, message)
        }
    };
    let ended = CrawlEnded {
        outcome,
        error_message,
        ended_at: now,
    };
    ignore_stale(run.handle_crawl_ended(now, crawl_id, ended));
}

/// Whether the run still waits for this crawl (true when unknown).
async fn wanted(db: &Db, key: &RunKey, crawl_id: &str) -> bool {
    let (key, id) = (key.clone(), crawl_id.to_string());
    db.read(move |tx| {
        let stored = stored_run::load(tx, &key)?;
        Ok(stored
            .run
            .crawl(&id)
            .is_some_and(|c| c.state == CrawlState::Running))
    })
    .await
    .unwrap_or(true)
}
