//! The embedded SQLite implementation of [`Store`].
//!
//! One writer connection (SQLite allows one writer at a time anyway) whose commits are
//! grouped (`group_commit.rs`), and a small pool of reader connections that read
//! concurrently thanks to WAL.

use std::fs::File;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::group_commit::{ConnectionBody, GroupCommitWriter, QueuedBody};
use crate::migrations::migrate;
use crate::readers::{ReaderPool, STATEMENT_CACHE};
use crate::tags::{tags_from_text, tags_to_text};
use crate::{
    Heard, JobRunRecord, Kind, LogEventCursor, LogEventRange, LogEventRecord, PartitionRecord,
    QueuedWrite, Record, RunCursor, RunRecord, Scope, Setting, Store, StoreError, StoreResult,
    Transaction,
};

/// How long opening the store waits for another process to let go of the data
/// directory (a server that was just killed, still exiting).
const DATA_DIR_LOCK_WAIT: Duration = Duration::from_secs(30);
/// Most queued writes the writer thread runs in one turn (then it commits them).
const MAX_QUEUED_TURN: usize = 256;

/// SQLite-backed store living in one file inside the data directory.
pub struct SqliteStore {
    /// The only connection that writes, shared by writers through group commit.
    writer: Arc<GroupCommitWriter>,
    /// The queue of the writer thread ([`Store::queue_write`]); taken out on drop, which
    /// ends the thread.
    queue: Option<mpsc::Sender<QueuedWrite>>,
    /// The writer thread, joined on drop.
    writer_thread: Option<std::thread::JoinHandle<()>>,
    /// The reader connections, shared with the writer (which counts its commits there).
    readers: Arc<ReaderPool>,
    /// The exclusive lock on `weir.lock`: this process is the database's only writer.
    _only_writer: File,
}

impl SqliteStore {
    /// Opens (creating if needed) `weir.db` in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> StoreResult<Self> {
        configure_sqlite_once();
        std::fs::create_dir_all(data_dir)?;
        let only_writer = lock_data_dir(data_dir, DATA_DIR_LOCK_WAIT)?;
        let path = data_dir.join("weir.db");
        let mut writer = Connection::open(&path)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.busy_timeout(std::time::Duration::from_secs(10))?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // As for the readers (see `open_reader`): cached statements stay prepared.
        writer.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        migrate(&mut writer)?;
        let readers = Arc::new(ReaderPool::open(&path)?);
        let writer = Arc::new(GroupCommitWriter::new(writer, readers.clone()));
        let (queue, queued) = mpsc::channel();
        let thread_writer = writer.clone();
        let writer_thread = std::thread::Builder::new()
            .name("weir-writer".into())
            .spawn(move || write_queued_until_closed(&thread_writer, &queued))?;
        Ok(Self {
            writer,
            queue: Some(queue),
            writer_thread: Some(writer_thread),
            readers,
            _only_writer: only_writer,
        })
    }
}

/// Takes the exclusive lock on `<data_dir>/weir.lock`, waiting up to `wait` for a process
/// that is still exiting: two servers on one SQLite database would each drive the
/// same runs, and the readers' kept snapshots rely on every commit being this
/// process's own (`readers.rs`). The lock goes with the file, when the store is
/// dropped or the process dies.
fn lock_data_dir(data_dir: &Path, wait: Duration) -> StoreResult<File> {
    let path = data_dir.join("weir.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    let give_up = Instant::now() + wait;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < give_up => {
                if !told {
                    tracing::warn!(
                        path = %path.display(),
                        "another process uses this data directory; waiting for it to exit"
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Internal(format!(
                    "another process uses the data directory {} (it holds {}); \
                     stop it first: one server per SQLite data directory",
                    data_dir.display(),
                    path.display()
                )));
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(error.into()),
        }
    }
}

/// Turns off SQLite's process-wide allocation statistics: with them on, every
/// allocation of every connection takes one global mutex, which serialises concurrent
/// readers. Must run before SQLite initialises; once per process.
fn configure_sqlite_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_MEMSTATUS takes one int argument, as passed. Called before
        // any connection of this process is opened; if SQLite were already initialised
        // the call would return SQLITE_MISUSE and change nothing.
        let code = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::os::raw::c_int,
            )
        };
        if code != rusqlite::ffi::SQLITE_OK {
            tracing::debug!(code, "SQLite allocation statistics stay on");
        }
    });
}

impl Store for SqliteStore {
    fn read_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        // One consistent snapshot, kept between reads while nothing is committed.
        self.readers.read(|conn| body(&mut SqliteTx { conn }))
    }

    fn write_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.writer.write(&mut |conn| body(&mut SqliteTx { conn }))
    }

    fn checkpoint(&self) -> StoreResult<()> {
        self.writer.exclusive(|conn| {
            // TRUNCATE waits (busy timeout) for readers, copies the whole log into the
            // database file, syncs it and truncates the log to zero bytes.
            let (busy, log_frames, checkpointed): (i64, i64, i64) =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
            if busy != 0 {
                return Err(StoreError::Internal(format!(
                    "checkpoint incomplete: {checkpointed} of {log_frames} log frames copied"
                )));
            }
            Ok(())
        })
    }

    fn reads_inline(&self) -> bool {
        true
    }

    fn queues_writes(&self) -> bool {
        true
    }

    fn queue_write(&self, write: QueuedWrite) {
        let refused = match &self.queue {
            Some(queue) => queue.send(write).err().map(|returned| returned.0),
            None => Some(write),
        };
        if let Some(write) = refused {
            (write.done)(Err(StoreError::Internal(
                "the writer thread has stopped".into(),
            )));
        }
    }

    fn shared(&self) -> bool {
        false
    }

    fn listen(&self, _listener: Box<dyn Fn(Heard) + Send + Sync>) -> StoreResult<bool> {
        Ok(false)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue ends the writer thread once it ran what was queued.
        drop(self.queue.take());
        if let Some(thread) = self.writer_thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread panicked");
        }
    }
}

/// The writer thread: runs the writes queued since its last turn (at most
/// [`MAX_QUEUED_TURN`]) in one batch of the group commit, until the queue closes.
fn write_queued_until_closed(writer: &GroupCommitWriter, queued: &mpsc::Receiver<QueuedWrite>) {
    while let Ok(first) = queued.recv() {
        let mut turn = vec![first];
        while turn.len() < MAX_QUEUED_TURN {
            match queued.try_recv() {
                Ok(next) => turn.push(next),
                Err(_) => break,
            }
        }
        let bodies: Vec<QueuedBody> = turn
            .into_iter()
            .map(|QueuedWrite { body, done }| {
                let on_connection: ConnectionBody =
                    Box::new(move |conn| body(&mut SqliteTx { conn }));
                (on_connection, done)
            })
            .collect();
        writer.write_queued(bodies);
    }
}

/// A transaction on one connection.
struct SqliteTx<'a> {
    /// The connection, inside an open transaction.
    conn: &'a Connection,
}

/// The rest of a statement reading resources in name order after a cursor: parameters
/// `?1` account, `?2` region, `?3` kind, `?4` the name to start after (or NULL), `?5`
/// the limit (see [`SqliteTx::name_range`]).
macro_rules! name_range_sql {
    () => {
        " FROM resources
         WHERE account = ?1 AND region = ?2 AND kind = ?3 AND (?4 IS NULL OR name > ?4)
         ORDER BY name LIMIT ?5"
    };
}

impl SqliteTx<'_> {
    /// Runs `sql` (columns + [`name_range_sql`]) for one page of a name-ordered
    /// listing, each row mapped by `map`.
    fn name_range<T>(
        &self,
        sql: &str,
        (scope, kind, after, limit): (&Scope, Kind, Option<&str>, usize),
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(
            params![
                scope.account,
                scope.region,
                kind.as_str(),
                after,
                limit as i64
            ],
            map,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<Record> {
    let tags: String = row.get(3)?;
    Ok(Record {
        name: row.get(0)?,
        parent: row.get(1)?,
        doc: row.get(2)?,
        tags: tags_from_text(&tags),
        version: row.get(4)?,
    })
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        workflow: row.get(0)?,
        run_id: row.get(1)?,
        started_ms: row.get(2)?,
        status: row.get(3)?,
        doc: row.get(4)?,
        version: row.get(5)?,
    })
}

fn job_run_from_row(row: &Row<'_>) -> rusqlite::Result<JobRunRecord> {
    Ok(JobRunRecord {
        job: row.get(0)?,
        run_id: row.get(1)?,
        started_ms: row.get(2)?,
        state: row.get(3)?,
        owner_workflow: row.get(4)?,
        owner_run_id: row.get(5)?,
        doc: row.get(6)?,
        version: row.get(7)?,
    })
}

fn status_list(statuses: &[&str]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

impl Transaction for SqliteTx<'_> {
    fn get(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<Option<Record>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, parent, doc, tags, version FROM resources
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4",
        )?;
        Ok(stmt
            .query_row(
                params![scope.account, scope.region, kind.as_str(), name],
                record_from_row,
            )
            .optional()?)
    }

    fn insert(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO resources (account, region, kind, name, doc, tags, parent, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        )?;
        let changed = stmt.execute(params![
            scope.account,
            scope.region,
            kind.as_str(),
            record.name,
            record.doc,
            tags_to_text(&record.tags),
            record.parent,
            record.version
        ])?;
        Ok(changed == 1)
    }

    fn update(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE resources SET doc = ?5, tags = ?6, parent = ?7, version = ?8
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4",
        )?;
        let changed = stmt.execute(params![
            scope.account,
            scope.region,
            kind.as_str(),
            record.name,
            record.doc,
            tags_to_text(&record.tags),
            record.parent,
            record.version
        ])?;
        Ok(changed == 1)
    }

    fn delete(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND name = ?4",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, kind.as_str(), name])? == 1)
    }

    fn list(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        self.name_range(
            concat!("SELECT name, parent, doc, tags, version", name_range_sql!()),
            (scope, kind, after, limit),
            record_from_row,
        )
    }

    fn list_names(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        self.name_range(
            concat!("SELECT name", name_range_sql!()),
            (scope, kind, after, limit),
            |row| row.get(0),
        )
    }

    fn list_children(
        &mut self,
        scope: &Scope,
        kind: Kind,
        parent: &str,
    ) -> StoreResult<Vec<Record>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, parent, doc, tags, version FROM resources INDEXED BY resources_by_parent
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4 ORDER BY name",
        )?;
        let rows = stmt.query_map(
            params![scope.account, scope.region, kind.as_str(), parent],
            record_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn list_all(&mut self, kind: Kind) -> StoreResult<Vec<(Scope, Record)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, parent, doc, tags, version, account, region FROM resources WHERE kind = ?1",
        )?;
        let rows = stmt.query_map(params![kind.as_str()], |row| {
            Ok((
                Scope {
                    account: row.get(5)?,
                    region: row.get(6)?,
                },
                record_from_row(row)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn count(&mut self, scope: &Scope, kind: Kind) -> StoreResult<u64> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT COUNT(*) FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3",
        )?;
        let n: i64 = stmt.query_row(params![scope.account, scope.region, kind.as_str()], |r| {
            r.get(0)
        })?;
        Ok(n as u64)
    }

    fn put_run(&mut self, scope: &Scope, run: &RunRecord) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO workflow_runs
                 (account, region, workflow, run_id, started_ms, status, doc, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (account, region, workflow, run_id)
             DO UPDATE SET status = excluded.status, doc = excluded.doc,
                           version = excluded.version",
        )?;
        stmt.execute(params![
            scope.account,
            scope.region,
            run.workflow,
            run.run_id,
            run.started_ms,
            run.status,
            run.doc,
            run.version
        ])?;
        Ok(())
    }

    fn get_run(
        &mut self,
        scope: &Scope,
        workflow: &str,
        run_id: &str,
    ) -> StoreResult<Option<RunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
             WHERE account = ?1 AND region = ?2 AND workflow = ?3 AND run_id = ?4",
        )?;
        Ok(stmt
            .query_row(
                params![scope.account, scope.region, workflow, run_id],
                run_from_row,
            )
            .optional()?)
    }

    fn list_runs(
        &mut self,
        scope: &Scope,
        workflow: &str,
        before: Option<&RunCursor>,
        limit: usize,
    ) -> StoreResult<Vec<RunRecord>> {
        // Two statements, so that each is a plain index range: the first page has no
        // cursor parameter, later pages bound the range with a row value (an `OR` of
        // the two would make SQLite walk from the newest run down to the cursor).
        let rows = match before {
            None => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
                     WHERE account = ?1 AND region = ?2 AND workflow = ?3
                     ORDER BY started_ms DESC, run_id DESC LIMIT ?4",
                )?;
                stmt.query_map(
                    params![scope.account, scope.region, workflow, limit as i64],
                    run_from_row,
                )?
                .collect::<Result<_, _>>()?
            }
            Some(cursor) => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
                     WHERE account = ?1 AND region = ?2 AND workflow = ?3
                       AND (started_ms, run_id) < (?4, ?5)
                     ORDER BY started_ms DESC, run_id DESC LIMIT ?6",
                )?;
                stmt.query_map(
                    params![
                        scope.account,
                        scope.region,
                        workflow,
                        cursor.started_ms,
                        cursor.run_id,
                        limit as i64
                    ],
                    run_from_row,
                )?
                .collect::<Result<_, _>>()?
            }
        };
        Ok(rows)
    }

    fn count_runs_in_status(
        &mut self,
        scope: &Scope,
        workflow: &str,
        statuses: &[&str],
    ) -> StoreResult<u64> {
        let sql = format!(
            "SELECT COUNT(*) FROM workflow_runs INDEXED BY workflow_runs_by_status
             WHERE account = ?1 AND region = ?2 AND workflow = ?3 AND status IN ({})",
            status_list(statuses)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let n: i64 =
            stmt.query_row(params![scope.account, scope.region, workflow], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn all_runs_in_status(&mut self, statuses: &[&str]) -> StoreResult<Vec<(Scope, RunRecord)>> {
        let sql = format!(
            "SELECT workflow, run_id, started_ms, status, doc, version, account, region FROM workflow_runs
             WHERE status IN ({})",
            status_list(statuses)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |row| {
            Ok((
                Scope {
                    account: row.get(6)?,
                    region: row.get(7)?,
                },
                run_from_row(row)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_runs(&mut self, scope: &Scope, workflow: &str) -> StoreResult<u64> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM workflow_runs WHERE account = ?1 AND region = ?2 AND workflow = ?3",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, workflow])? as u64)
    }

    fn put_job_run(&mut self, scope: &Scope, run: &JobRunRecord) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO job_runs
                 (account, region, job, run_id, started_ms, state, owner_workflow, owner_run_id,
                  doc, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (account, region, job, run_id)
             DO UPDATE SET state = excluded.state, doc = excluded.doc,
                           version = excluded.version",
        )?;
        stmt.execute(params![
            scope.account,
            scope.region,
            run.job,
            run.run_id,
            run.started_ms,
            run.state,
            run.owner_workflow,
            run.owner_run_id,
            run.doc,
            run.version
        ])?;
        Ok(())
    }

    fn get_job_run(
        &mut self,
        scope: &Scope,
        job: &str,
        run_id: &str,
    ) -> StoreResult<Option<JobRunRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version
             FROM job_runs
             WHERE account = ?1 AND region = ?2 AND job = ?3 AND run_id = ?4",
        )?;
        Ok(stmt
            .query_row(
                params![scope.account, scope.region, job, run_id],
                job_run_from_row,
            )
            .optional()?)
    }

    fn list_job_runs(
        &mut self,
        scope: &Scope,
        job: &str,
        before: Option<&RunCursor>,
        limit: usize,
    ) -> StoreResult<Vec<JobRunRecord>> {
        // Two statements, for the same reason as `list_runs`.
        let rows = match before {
            None => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc,
                            version
                     FROM job_runs WHERE account = ?1 AND region = ?2 AND job = ?3
                     ORDER BY started_ms DESC, run_id DESC LIMIT ?4",
                )?;
                stmt.query_map(
                    params![scope.account, scope.region, job, limit as i64],
                    job_run_from_row,
                )?
                .collect::<Result<_, _>>()?
            }
            Some(cursor) => {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc,
                            version
                     FROM job_runs WHERE account = ?1 AND region = ?2 AND job = ?3
                       AND (started_ms, run_id) < (?4, ?5)
                     ORDER BY started_ms DESC, run_id DESC LIMIT ?6",
                )?;
                stmt.query_map(
                    params![
                        scope.account,
                        scope.region,
                        job,
                        cursor.started_ms,
                        cursor.run_id,
                        limit as i64
                    ],
                    job_run_from_row,
                )?
                .collect::<Result<_, _>>()?
            }
        };
        Ok(rows)
    }

    fn count_job_runs_in_state(
        &mut self,
        scope: &Scope,
        job: Option<&str>,
        states: &[&str],
        except: Option<&str>,
    ) -> StoreResult<u64> {
        // Two statements, each an index range: a job's runs in these states, or the
        // account's among all runs in these states (an optional `job` in one statement
        // would make every count scan the account's whole job-run history).
        let n: i64 = match job {
            Some(job) => {
                let sql = format!(
                    "SELECT COUNT(*) FROM job_runs INDEXED BY job_runs_by_state
                     WHERE account = ?1 AND region = ?2 AND job = ?3
                       AND state IN ({}) AND (?4 IS NULL OR run_id <> ?4)",
                    status_list(states)
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                stmt.query_row(params![scope.account, scope.region, job, except], |r| {
                    r.get(0)
                })?
            }
            None => {
                let sql = format!(
                    "SELECT COUNT(*) FROM job_runs INDEXED BY job_runs_state
                     WHERE state IN ({}) AND account = ?1 AND region = ?2
                       AND (?3 IS NULL OR run_id <> ?3)",
                    status_list(states)
                );
                let mut stmt = self.conn.prepare_cached(&sql)?;
                stmt.query_row(params![scope.account, scope.region, except], |r| r.get(0))?
            }
        };
        Ok(n as u64)
    }

    fn all_job_runs_in_state(
        &mut self,
        states: &[&str],
    ) -> StoreResult<Vec<(Scope, JobRunRecord)>> {
        let sql = format!(
            "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version,
                    account, region
             FROM job_runs WHERE state IN ({})",
            status_list(states)
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |row| {
            Ok((
                Scope {
                    account: row.get(8)?,
                    region: row.get(9)?,
                },
                job_run_from_row(row)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn purge_runs_before(&mut self, cutoff_ms: i64, live: &[&str]) -> StoreResult<u64> {
        let live = status_list(live);
        let runs = self.conn.execute(
            &format!("DELETE FROM workflow_runs WHERE started_ms < ?1 AND status NOT IN ({live})"),
            params![cutoff_ms],
        )?;
        let job_runs = self.conn.execute(
            &format!("DELETE FROM job_runs WHERE started_ms < ?1 AND state NOT IN ({live})"),
            params![cutoff_ms],
        )?;
        Ok((runs + job_runs) as u64)
    }

    fn put_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        partition: &PartitionRecord,
    ) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO partitions (account, region, table_name, key, doc, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (account, region, table_name, key)
             DO UPDATE SET doc = excluded.doc, version = excluded.version",
        )?;
        stmt.execute(params![
            scope.account,
            scope.region,
            table,
            partition.key,
            partition.doc,
            partition.version
        ])?;
        Ok(())
    }

    fn get_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        key: &str,
    ) -> StoreResult<Option<PartitionRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, doc, version FROM partitions
             WHERE account = ?1 AND region = ?2 AND table_name = ?3 AND key = ?4",
        )?;
        Ok(stmt
            .query_row(
                params![scope.account, scope.region, table, key],
                partition_from_row,
            )
            .optional()?)
    }

    fn delete_partition(&mut self, scope: &Scope, table: &str, key: &str) -> StoreResult<bool> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM partitions
             WHERE account = ?1 AND region = ?2 AND table_name = ?3 AND key = ?4",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, table, key])? == 1)
    }

    fn list_partitions(
        &mut self,
        scope: &Scope,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<PartitionRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, doc, version FROM partitions
             WHERE account = ?1 AND region = ?2 AND table_name = ?3
               AND (?4 IS NULL OR key > ?4)
             ORDER BY key LIMIT ?5",
        )?;
        let rows = stmt.query_map(
            params![scope.account, scope.region, table, after, limit as i64],
            partition_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn partition_keys(&mut self, scope: &Scope, table: &str) -> StoreResult<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT key FROM partitions
             WHERE account = ?1 AND region = ?2 AND table_name = ?3 ORDER BY key",
        )?;
        let rows = stmt.query_map(params![scope.account, scope.region, table], |row| {
            row.get(0)
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_partitions(&mut self, scope: &Scope, table: &str) -> StoreResult<u64> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM partitions WHERE account = ?1 AND region = ?2 AND table_name = ?3",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, table])? as u64)
    }

    fn put_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: &str,
        events: &[LogEventRecord],
    ) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO log_events (account, region, log_group, log_stream, sequence,
                                     timestamp_ms, ingestion_ms, message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for event in events {
            stmt.execute(params![
                scope.account,
                scope.region,
                group,
                stream,
                sequence_to_sql(event.sequence)?,
                event.timestamp_ms,
                event.ingestion_ms,
                event.message
            ])?;
        }
        Ok(())
    }

    fn list_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: &str,
        range: &LogEventRange,
        limit: usize,
    ) -> StoreResult<Vec<LogEventRecord>> {
        // Bounds are always given (open ends as the extreme values) so that SQLite
        // plans them as a range of the primary key, whichever end is read.
        let sql = if range.newest_first {
            "SELECT sequence, timestamp_ms, ingestion_ms, message FROM log_events
             WHERE account = ?1 AND region = ?2 AND log_group = ?3 AND log_stream = ?4
               AND sequence >= ?5 AND sequence < ?6 AND timestamp_ms >= ?7 AND timestamp_ms < ?8
             ORDER BY sequence DESC LIMIT ?9"
        } else {
            "SELECT sequence, timestamp_ms, ingestion_ms, message FROM log_events
             WHERE account = ?1 AND region = ?2 AND log_group = ?3 AND log_stream = ?4
               AND sequence >= ?5 AND sequence < ?6 AND timestamp_ms >= ?7 AND timestamp_ms < ?8
             ORDER BY sequence ASC LIMIT ?9"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let from = range.from_sequence.map(sequence_to_sql).transpose()?;
        let below = range.below_sequence.map(sequence_to_sql).transpose()?;
        let rows = stmt.query_map(
            params![
                scope.account,
                scope.region,
                group,
                stream,
                from.unwrap_or(0),
                below.unwrap_or(i64::MAX),
                range.start_ms.unwrap_or(i64::MIN),
                range.end_ms.unwrap_or(i64::MAX),
                limit as i64
            ],
            log_event_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn scan_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: Option<&str>,
        after: Option<&LogEventCursor>,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<(String, LogEventRecord)>> {
        // Two statements, each a range of its own index (open ends as extreme values);
        // with one stream, `timestamp_ms >= ?4` is the part of the cursor that index
        // can range over.
        let sql = if stream.is_some() {
            "SELECT sequence, timestamp_ms, ingestion_ms, message, log_stream FROM log_events
             WHERE account = ?1 AND region = ?2 AND log_group = ?3 AND log_stream = ?10
               AND timestamp_ms >= ?4 AND (timestamp_ms, log_stream, sequence) > (?4, ?5, ?6)
               AND timestamp_ms >= ?7 AND timestamp_ms < ?8
             ORDER BY timestamp_ms, sequence LIMIT ?9"
        } else {
            "SELECT sequence, timestamp_ms, ingestion_ms, message, log_stream FROM log_events
             WHERE account = ?1 AND region = ?2 AND log_group = ?3 AND ?10 IS NULL
               AND (timestamp_ms, log_stream, sequence) > (?4, ?5, ?6)
               AND timestamp_ms >= ?7 AND timestamp_ms < ?8
             ORDER BY timestamp_ms, log_stream, sequence LIMIT ?9"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let (after_ms, after_stream, after_sequence) = match after {
            Some(cursor) => (
                cursor.timestamp_ms,
                cursor.stream.as_str(),
                sequence_to_sql(cursor.sequence)?,
            ),
            None => (i64::MIN, "", -1),
        };
        let rows = stmt.query_map(
            params![
                scope.account,
                scope.region,
                group,
                after_ms,
                after_stream,
                after_sequence,
                start_ms.unwrap_or(i64::MIN),
                end_ms.unwrap_or(i64::MAX),
                limit as i64,
                stream
            ],
            |row| Ok((row.get(4)?, log_event_from_row(row)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: Option<&str>,
    ) -> StoreResult<u64> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM log_events WHERE account = ?1 AND region = ?2 AND log_group = ?3
               AND (?4 IS NULL OR log_stream = ?4)",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, group, stream])? as u64)
    }

    fn delete_log_events_before(
        &mut self,
        scope: &Scope,
        group: &str,
        cutoff_ms: i64,
    ) -> StoreResult<u64> {
        let mut stmt = self.conn.prepare_cached(
            "DELETE FROM log_events WHERE account = ?1 AND region = ?2 AND log_group = ?3
               AND timestamp_ms < ?4",
        )?;
        Ok(stmt.execute(params![scope.account, scope.region, group, cutoff_ms])? as u64)
    }

    fn list_meta(&mut self, prefix: &str) -> StoreResult<Vec<(String, Setting)>> {
        // A range on the primary key: every key that starts with `prefix` sorts at or
        // after it and before it followed by the highest character.
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value, version FROM meta
             WHERE key >= ?1 AND key < ?1 || char(1114111) ORDER BY key",
        )?;
        let rows = stmt.query_map(params![prefix], |row| {
            Ok((
                row.get(0)?,
                Setting {
                    value: row.get(1)?,
                    version: row.get(2)?,
                },
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn get_meta(&mut self, key: &str) -> StoreResult<Option<Setting>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value, version FROM meta WHERE key = ?1")?;
        Ok(stmt
            .query_row(params![key], |r| {
                Ok(Setting {
                    value: r.get(0)?,
                    version: r.get(1)?,
                })
            })
            .optional()?)
    }

    fn put_meta(&mut self, key: &str, setting: &Setting) -> StoreResult<()> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO meta (key, value, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
        )?;
        stmt.execute(params![key, setting.value, setting.version])?;
        Ok(())
    }

    fn delete_meta(&mut self, key: &str) -> StoreResult<bool> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM meta WHERE key = ?1")?;
        Ok(stmt.execute(params![key])? == 1)
    }

    fn notify(&mut self, _message: &str) -> StoreResult<()> {
        // The one process serving this store is the only one there is to tell, and it
        // acts on what it commits itself.
        Ok(())
    }
}

fn partition_from_row(row: &Row<'_>) -> rusqlite::Result<PartitionRecord> {
    Ok(PartitionRecord {
        key: row.get(0)?,
        doc: row.get(1)?,
        version: row.get(2)?,
    })
}

fn log_event_from_row(row: &Row<'_>) -> rusqlite::Result<LogEventRecord> {
    let sequence: i64 = row.get(0)?;
    Ok(LogEventRecord {
        sequence: u64::try_from(sequence).unwrap_or_default(),
        timestamp_ms: row.get(1)?,
        ingestion_ms: row.get(2)?,
        message: row.get(3)?,
    })
}

/// A sequence as SQLite's signed integer (sequences beyond `i64::MAX` are refused).
fn sequence_to_sql(sequence: u64) -> StoreResult<i64> {
    i64::try_from(sequence)
        .map_err(|_| StoreError::Internal(format!("log sequence {sequence} is out of range")))
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    use super::*;

    #[test]
    fn a_reader_runs_a_cached_statement_with_new_bindings_without_re_preparing_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let _store = SqliteStore::open(dir.path()).expect("store");
        let reader = crate::readers::open_reader(&dir.path().join("weir.db")).expect("reader");
        let sql = "SELECT run_id FROM workflow_runs
                   WHERE account = ?1 AND region = ?2 AND workflow = ?3
                   ORDER BY started_ms DESC, run_id DESC LIMIT ?4";
        for limit in [1i64, 25, 1, 100] {
            let mut stmt = reader.prepare_cached(sql).expect("prepare");
            let rows = stmt
                .query_map(params!["123456789012", "us-east-1", "wf", limit], |r| {
                    r.get::<_, String>(0)
                })
                .expect("query")
                .count();
            assert_eq!(rows, 0);
            assert_eq!(
                stmt.get_status(StatementStatus::RePrepare),
                0,
                "LIMIT {limit}"
            );
        }
    }

    #[test]
    fn a_second_store_on_one_data_directory_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = SqliteStore::open(dir.path()).expect("store");
        let refused = lock_data_dir(dir.path(), Duration::ZERO)
            .err()
            .map(|error| error.to_string());
        assert!(
            refused
                .as_deref()
                .is_some_and(|message| message.contains("another process uses the data directory")),
            "{refused:?}"
        );
        drop(first);
        SqliteStore::open(dir.path()).expect("the data directory is free again");
    }
}
