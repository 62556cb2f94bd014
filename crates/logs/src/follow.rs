//! The follower of a job run's output: while the process lives it polls the run's
//! `stdout` and `stderr` files, appends each new complete line as one event stamped
//! with the server's clock when it was read, and stores the byte offset it reached
//! in the stream's document in the same transaction as the lines — so a follower
//! started again after a restart resumes exactly there. When the process has ended,
//! [`Follower::finish`] drains what is left, a last line without a newline included.
//! The job process itself keeps writing its files directly and never waits for Weir.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use weir_clock::Clock;
use weir_resources::ApiError;
use weir_resources::db::Db;
use weir_store::Scope;

use crate::job_groups::JobLogGroups;
use crate::streams::{self, JobRunSource};

/// How often the output files are polled while the process runs (real time).
const POLL_EVERY: Duration = Duration::from_millis(200);
/// Most bytes read from one file per poll; a longer line is cut into events of this
/// size (CloudWatch Logs' event limit is 256 KiB).
const MAX_READ_BYTES: usize = 256 * 1024 - crate::streams::EVENT_OVERHEAD_BYTES;
/// Attempts to store the rest of the output once the process ended, before giving up
/// (logged; a storage failure that lasts this long is the store's, not the job's).
const FINAL_ATTEMPTS: u32 = 50;

/// One output file of a run and the stream its lines go to.
#[derive(Debug)]
struct Source {
    /// `stdout` or `stderr`: the file's name in the run directory and its offset key.
    file: &'static str,
    /// The log group of its lines.
    group: String,
    /// How far the stored lines reach in the file, once read from the store (`None`:
    /// read it again, e.g. after a failed write whose outcome is unknown).
    offset: Option<u64>,
    /// The file, once it exists: polls check its size through the handle (no path
    /// look-up every poll).
    handle: Option<std::fs::File>,
}

/// What to follow: a job run's directory and where its lines go.
#[derive(Debug, Clone)]
pub struct FollowTarget {
    /// The account and region of the run.
    pub scope: Scope,
    /// The job's name.
    pub job_name: String,
    /// The job run id: the stream name in both groups.
    pub job_run_id: String,
    /// The run directory holding `stdout` and `stderr`.
    pub run_dir: PathBuf,
    /// The groups of the run's output.
    pub groups: JobLogGroups,
}

/// A running follower; [`Follower::finish`] once the process has ended.
pub struct Follower {
    /// Tells the task the process ended: drain and stop.
    finish: oneshot::Sender<()>,
    /// The polling task.
    task: JoinHandle<()>,
}

impl Follower {
    /// Starts following `target`'s output files.
    pub fn start(db: Db, clock: Clock, target: FollowTarget) -> Self {
        let (finish, finished) = oneshot::channel();
        let task = tokio::spawn(follow(db, clock, target, finished));
        Self { finish, task }
    }

    /// Drains what the ended process left in its files and stops; returns once every
    /// line is stored (or a storage failure was logged).
    pub async fn finish(self) {
        let _ = self.finish.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the job output follower failed");
        }
    }

    /// Drains the output of a run whose process ended while Weir was not running.
    pub async fn drain(db: Db, clock: Clock, target: FollowTarget) {
        Self::start(db, clock, target).finish().await;
    }
}

async fn follow(db: Db, clock: Clock, target: FollowTarget, mut finished: oneshot::Receiver<()>) {
    let mut sources = [
        Source {
            file: "stdout",
            group: target.groups.output.clone(),
            offset: None,
            handle: None,
        },
        Source {
            file: "stderr",
            group: target.groups.error.clone(),
            offset: None,
            handle: None,
        },
    ];
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            signal = &mut finished => match signal {
                Ok(()) => true,
                // The follower was dropped without `finish` (the server is stopping):
                // the process may still be writing, so its last line is not complete;
                // the next follower resumes from the stored offset.
                Err(_) => return,
            },
        };
        for source in &mut sources {
            // Drain fully at the end (retrying a failed write); while running, one
            // read per poll keeps a chatty job from monopolising the writer.
            let mut failures = 0;
            loop {
                match poll_once(&db, &clock, &target, source, last).await {
                    Ok(true) if last => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(%error, job_run_id = %target.job_run_id,
                            file = source.file, "could not store job output; retrying");
                        failures += 1;
                        if !last || failures >= FINAL_ATTEMPTS {
                            break;
                        }
                        tokio::time::sleep(POLL_EVERY).await;
                    }
                }
            }
        }
        if last {
            return;
        }
    }
}

/// Reads what follows the stored offset of `source` and stores its lines; `true`
/// when something was stored (there may be more).
async fn poll_once(
    db: &Db,
    clock: &Clock,
    target: &FollowTarget,
    source: &mut Source,
    at_end: bool,
) -> Result<bool, ApiError> {
    let key = source.file;
    let handle = match &source.handle {
        Some(handle) => handle,
        None => match std::fs::File::open(target.run_dir.join(source.file)) {
            Ok(opened) => source.handle.insert(opened),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(error) => return Err(ApiError::Internal(format!("reading job output: {error}"))),
        },
    };
    // A size check first: most polls of a quiet job end here, without a read (and an
    // empty file needs no stored offset).
    let length = handle
        .metadata()
        .map_err(|error| ApiError::Internal(format!("reading job output: {error}")))?
        .len();
    if length == 0 {
        return Ok(false);
    }
    let offset = match source.offset {
        Some(offset) => offset,
        None => {
            let scope = target.scope.clone();
            let group = source.group.clone();
            let stream = target.job_run_id.clone();
            let stored = db
                .read(move |tx| {
                    Ok(streams::load_stream(tx, &scope, &group, &stream)?
                        .and_then(|doc| doc.file_offsets.get(key).copied())
                        .unwrap_or(0))
                })
                .await?;
            source.offset = Some(stored);
            stored
        }
    };
    if length <= offset {
        return Ok(false);
    }
    let file = handle
        .try_clone()
        .map_err(|error| ApiError::Internal(format!("reading job output: {error}")))?;
    let read = tokio::task::spawn_blocking(move || read_from(&file, offset))
        .await
        .map_err(|e| ApiError::Internal(format!("reading job output failed: {e}")))?;
    let bytes = read.map_err(|error| ApiError::Internal(format!("reading job output: {error}")))?;
    let (lines, consumed) = split_lines(&bytes, at_end);
    if consumed == 0 {
        return Ok(false);
    }
    let now = clock.now_millis();
    let scope = target.scope.clone();
    let group = source.group.clone();
    let stream = target.job_run_id.clone();
    let job_run = JobRunSource {
        job_name: target.job_name.clone(),
        job_run_id: target.job_run_id.clone(),
    };
    let new_offset = offset.saturating_add(consumed as u64);
    source.offset = None;
    let reached = db
        .write(move |tx| {
            let mut doc = streams::open_stream(tx, &scope, &group, &stream, now)?;
            // Another follower of the same run (a launch retried) may have stored
            // these lines: take its offset and read on from there.
            let stored = doc.file_offsets.get(key).copied().unwrap_or(0);
            if stored != offset {
                return Ok(stored);
            }
            doc.job_run = Some(job_run);
            doc.file_offsets.insert(key.to_string(), new_offset);
            let events = lines.into_iter().map(|line| (now, line)).collect();
            streams::append(tx, &scope, &group, &stream, &mut doc, events, now)?;
            Ok(new_offset)
        })
        .await?;
    source.offset = Some(reached);
    Ok(true)
}

/// Up to [`MAX_READ_BYTES`] of `file` from `offset`.
fn read_from(mut file: &std::fs::File, offset: u64) -> std::io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(MAX_READ_BYTES as u64).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The complete lines at the start of `bytes` (without their `\n` or `\r\n`) and how
/// many bytes they span. A trailing piece without a newline is a line too when
/// `at_end` (the writer has ended) or when it fills a whole read (a line too long for
/// one event is cut).
pub fn split_lines(bytes: &[u8], at_end: bool) -> (Vec<String>, usize) {
    let mut lines = Vec::new();
    let mut consumed = 0;
    for piece in bytes.split_inclusive(|&b| b == b'\n') {
        let complete = piece.last() == Some(&b'\n');
        if !complete && !at_end && bytes.len() < MAX_READ_BYTES {
            break;
        }
        consumed += piece.len();
        let text = piece.strip_suffix(b"\n").unwrap_or(piece);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        lines.push(String::from_utf8_lossy(text).into_owned());
    }
    (lines, consumed)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use weir_store::StoreExt;

    use super::*;

    #[test]
    fn only_complete_lines_are_taken_while_the_writer_runs() {
        let (lines, consumed) = split_lines(b"one\ntwo\r\nthr", false);
        assert_eq!(lines, ["one", "two"]);
        assert_eq!(consumed, 9);
        let (lines, consumed) = split_lines(b"one\ntwo\r\nthr", true);
        assert_eq!(lines, ["one", "two", "thr"]);
        assert_eq!(consumed, 12);
        assert_eq!(split_lines(b"", true), (vec![], 0));
        assert_eq!(split_lines(b"\n", false), (vec![String::new()], 1));
    }

    /// The messages stored in `group` for the run `jr_1`.
    fn stored(db: &Db, group: &str) -> Vec<String> {
        let scope = test_scope();
        let group = group.to_string();
        db.store()
            .read(|tx| tx.list_log_events(&scope, &group, "jr_1", &Default::default(), 1_000))
            .map(|events| events.into_iter().map(|e| e.message).collect())
            .unwrap_or_default()
    }

    fn test_scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    async fn wait_stored(db: &Db, group: &str, count: usize) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while stored(db, group).len() < count {
            assert!(
                std::time::Instant::now() < deadline,
                "lines were not stored"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_restarted_follower_resumes_at_the_stored_offset_and_finish_drains() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = weir_store::SqliteStore::open(&dir.path().join("db")).expect("store");
        let db = Db::new(std::sync::Arc::new(store));
        let clock = Clock::manual(1_700_000_000_000);
        let run_dir = dir.path().join("jr_1");
        std::fs::create_dir_all(&run_dir).expect("run dir");
        let target = FollowTarget {
            scope: test_scope(),
            job_name: "job".into(),
            job_run_id: "jr_1".into(),
            run_dir: run_dir.clone(),
            groups: JobLogGroups::of("pythonshell", &Default::default()),
        };
        let output = "/aws-glue/python-jobs/output";
        let mut stdout = std::fs::File::create(run_dir.join("stdout")).expect("stdout");
        stdout.write_all(b"one\ntwo\nthr").expect("write");

        // The first follower stores the complete lines, then dies with the server.
        let first = Follower::start(db.clone(), clock.clone(), target.clone());
        wait_stored(&db, output, 2).await;
        first.task.abort();
        let _ = first.task.await;
        assert_eq!(stored(&db, output), ["one", "two"]);

        // The process goes on writing; the next server's follower resumes.
        stdout.write_all(b"ee\nfour").expect("write");
        let second = Follower::start(db.clone(), clock.clone(), target.clone());
        wait_stored(&db, output, 3).await;
        second.finish().await;
        assert_eq!(stored(&db, output), ["one", "two", "three", "four"]);
        Follower::drain(db.clone(), clock, target).await;
        assert_eq!(stored(&db, output).len(), 4, "nothing is stored twice");
    }

    #[test]
    fn a_line_longer_than_a_read_is_cut() {
        let long = vec![b'x'; MAX_READ_BYTES];
        let (lines, consumed) = split_lines(&long, false);
        assert_eq!(lines.len(), 1);
        assert_eq!(consumed, MAX_READ_BYTES);
    }
}
