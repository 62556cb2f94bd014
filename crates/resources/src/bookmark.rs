//! Job bookmarks: what a job's runs have processed, as its ETL library recorded it.
//!
//! The bookmark itself (`JobBookmark`) is opaque here: a JSON text the job's script
//! wrote when it committed, saved only when the run succeeded. Around it Weir keeps
//! AWS's counters: `Version` grows with every change, `Run` with every run that
//! committed one, and `PreviousRunId`/`RunId` chain the runs. The bookmarks of the
//! last [`HISTORY`] committing runs are kept so ResetJobBookmark can rewind to one.
//!
//! Stored as one document of kind `job-bookmark`, named after its job, deleted with it.

use serde::{Deserialize, Serialize};
use weir_model::shapes::JobBookmarkEntry;
use weir_store::{Kind, Scope, Transaction};

use crate::stored::{self, Document};
use crate::{ApiError, OrApiError};

/// How many committed runs' bookmarks are kept for rewinding.
pub const HISTORY: usize = 20;

/// The stored bookmark of a job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobBookmarks {
    /// What GetJobBookmark answers; its `JobBookmark` is what the next run starts from.
    pub current: JobBookmarkEntry,
    /// The entries of the last committing runs, oldest first.
    pub runs: Vec<JobBookmarkEntry>,
}

impl Document for JobBookmarks {}

/// The message of GetJobBookmark/ResetJobBookmark for a job without a bookmark.
pub fn not_found(job: &str) -> String {
    format!("Continuation for job {job} not found")
}

/// The bookmark of `job`, if it has one.
pub fn load(
    tx: &mut dyn Transaction,
    scope: &Scope,
    job: &str,
) -> Result<Option<JobBookmarks>, ApiError> {
    Ok(stored::load::<JobBookmarks>(tx, scope, Kind::JobBookmark, job)?.map(|s| s.value))
}

fn save(
    tx: &mut dyn Transaction,
    scope: &Scope,
    job: &str,
    bookmarks: &JobBookmarks,
) -> Result<(), ApiError> {
    let record = stored::record(job, None, bookmarks, Default::default())?;
    if !tx.update(scope, Kind::JobBookmark, &record)? {
        tx.insert(scope, Kind::JobBookmark, &record)?;
    }
    Ok(())
}

/// The text a job's next run starts from (`None`: it starts from nothing).
pub fn state(
    tx: &mut dyn Transaction,
    scope: &Scope,
    job: &str,
) -> Result<Option<String>, ApiError> {
    Ok(load(tx, scope, job)?.and_then(|b| b.current.job_bookmark))
}

/// Records the bookmark `text` the successful run `run_id` (attempt `attempt`) of
/// `job` committed.
pub fn commit(
    tx: &mut dyn Transaction,
    scope: &Scope,
    job: &str,
    run_id: &str,
    attempt: i32,
    text: String,
) -> Result<(), ApiError> {
    let mut bookmarks = load(tx, scope, job)?.unwrap_or_default();
    let previous = &bookmarks.current;
    let entry = JobBookmarkEntry {
        job_name: Some(job.to_string()),
        version: Some(previous.version.unwrap_or(0) + 1),
        run: Some(previous.run.unwrap_or(0) + 1),
        attempt: Some(attempt),
        previous_run_id: previous.run_id.clone(),
        run_id: Some(run_id.to_string()),
        job_bookmark: Some(text),
    };
    bookmarks.runs.push(entry.clone());
    if bookmarks.runs.len() > HISTORY {
        bookmarks.runs.remove(0);
    }
    bookmarks.current = entry;
    save(tx, scope, job, &bookmarks)
}

/// ResetJobBookmark: back to nothing, or (with `run_id`) to the bookmark that run
/// committed, so the next run processes only what came after it. Returns the new entry.
pub fn reset(
    tx: &mut dyn Transaction,
    scope: &Scope,
    job: &str,
    run_id: Option<&str>,
) -> Result<JobBookmarkEntry, ApiError> {
    let mut bookmarks = load(tx, scope, job)?.or_not_found(|| not_found(job))?;
    let version = bookmarks.current.version.unwrap_or(0) + 1;
    let entry = match run_id {
        Some(run_id) => {
            let at = bookmarks
                .runs
                .iter()
                .find(|e| e.run_id.as_deref() == Some(run_id))
                .or_not_found(|| {
                    format!("Continuation for job {job} and run {run_id} not found")
                })?;
            JobBookmarkEntry {
                version: Some(version),
                ..at.clone()
            }
        }
        None => JobBookmarkEntry {
            job_name: Some(job.to_string()),
            version: Some(version),
            run: bookmarks.current.run,
            attempt: bookmarks.current.attempt,
            previous_run_id: bookmarks.current.run_id.clone(),
            run_id: None,
            job_bookmark: None,
        },
    };
    bookmarks.current = entry.clone();
    save(tx, scope, job, &bookmarks)?;
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_store::{SqliteStore, StoreExt};

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn commits_chain_runs_and_a_reset_rewinds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path()).expect("store");
        let scope = scope();
        store
            .write(|tx| {
                commit(tx, &scope, "etl", "jr_1", 0, "{\"a\":1}".into())?;
                commit(tx, &scope, "etl", "jr_2", 0, "{\"a\":2}".into())?;
                Ok::<_, ApiError>(())
            })
            .expect("commit");
        let current = store
            .read(|tx| load(tx, &scope, "etl"))
            .expect("load")
            .expect("bookmark")
            .current;
        assert_eq!(current.run, Some(2));
        assert_eq!(current.version, Some(2));
        assert_eq!(current.previous_run_id.as_deref(), Some("jr_1"));
        assert_eq!(current.job_bookmark.as_deref(), Some("{\"a\":2}"));

        let rewound = store
            .write(|tx| reset(tx, &scope, "etl", Some("jr_1")))
            .expect("rewind");
        assert_eq!(rewound.job_bookmark.as_deref(), Some("{\"a\":1}"));
        assert_eq!(rewound.version, Some(3));
        let cleared = store
            .write(|tx| reset(tx, &scope, "etl", None))
            .expect("reset");
        assert_eq!(cleared.job_bookmark, None);
        assert_eq!(
            store.read(|tx| state(tx, &scope, "etl")).expect("state"),
            None
        );
        let missing = store.write(|tx| reset(tx, &scope, "other", None));
        assert!(matches!(missing, Err(ApiError::EntityNotFound(_))));
    }
}
