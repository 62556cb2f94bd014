//! Group commit on SQLite's one writer connection.
//!
//! A write's cost is dominated by the fsync of its commit, and SQLite has one writer,
//! so writers that arrive while a commit is in flight would each queue for a commit
//! (and an fsync) of their own. Here they share the next one instead:
//!
//! - A writer takes the connection, opens the *batch* transaction if none is open,
//!   runs its body inside a savepoint (released on success, rolled back on failure, so
//!   a failed body leaves nothing behind) and lets the connection go, still inside the
//!   open transaction.
//! - It then waits until its batch is committed. If no commit is in flight, it commits
//!   the batch itself (becoming the committer); otherwise it waits, and when that
//!   commit ends, its own batch (everyone who ran while that commit's fsync was in
//!   flight) is committed next, by one of its members.
//! - Every member is answered with its batch's commit outcome, so no caller returns
//!   before its own changes are durable, and if the commit fails, every member fails.
//!
//! Bodies run one at a time on the connection, so each sees the changes of the bodies
//! before it (check-then-act stays exact: names unique, concurrency limits), exactly as
//! with one transaction per call. A lone writer commits at once: grouping adds no
//! latency when there is no contention.
//!
//! Writers come in two ways: a blocking caller runs its own body ([`GroupCommitWriter::
//! write`]), and the store's writer thread runs every body queued by async callers since
//! its last turn in one hand-over of the connection ([`GroupCommitWriter::write_queued`]),
//! so a busy server's writes cost no thread hand-over each.
//!
//! Every commit is counted in the [`ReaderPool`] before its writers are answered, and
//! the idle readers' snapshots it made stale are ended after (see `readers.rs`).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use parking_lot::{FairMutex, FairMutexGuard};
use rusqlite::Connection;

use crate::readers::ReaderPool;
use crate::{StoreError, StoreResult};

/// A body for the writer connection, run once.
pub(crate) type ConnectionBody = Box<dyn FnOnce(&Connection) -> StoreResult<()> + Send>;

/// A body queued for the writer thread, and what to do with its outcome.
pub(crate) type QueuedBody = (ConnectionBody, Box<dyn FnOnce(StoreResult<()>) + Send>);

/// One batch transaction: the writers whose bodies ran in it wait for its outcome.
#[derive(Default)]
struct Batch {
    /// Set once, when the batch was committed (`Ok`) or lost (`Err`, the message).
    outcome: OnceLock<Result<(), String>>,
}

/// The writer connection and the batch open on it.
struct Open {
    conn: Connection,
    /// The batch that bodies join now.
    batch: Arc<Batch>,
    /// Whether `batch`'s transaction has begun on `conn`.
    in_transaction: bool,
}

/// SQLite's writer connection, shared by concurrent writers through group commit.
pub(crate) struct GroupCommitWriter {
    /// Holding this lock is holding the right to run SQL on the writer connection. It is
    /// handed over in arrival order: a committer queues behind the writers that were
    /// already waiting to run their bodies, so their bodies join the batch it commits
    /// (with a lock that lets the committer barge in, batches stay small under load).
    open: FairMutex<Open>,
    /// Whether a commit is in flight; waiters sleep on `committed`.
    committing: Mutex<bool>,
    /// Signalled after every commit.
    committed: Condvar,
    /// The readers, told of every commit.
    readers: Arc<ReaderPool>,
}

impl GroupCommitWriter {
    /// Wraps the (migrated) writer connection of the database `readers` read.
    pub(crate) fn new(conn: Connection, readers: Arc<ReaderPool>) -> Self {
        Self {
            open: FairMutex::new(Open {
                conn,
                batch: Arc::new(Batch::default()),
                in_transaction: false,
            }),
            committing: Mutex::new(false),
            committed: Condvar::new(),
            readers,
        }
    }

    /// Runs `body` in the current batch and returns once that batch is durably
    /// committed: `body`'s own error, else the commit's. If `body` panics, its changes
    /// are rolled back, the batch is still committed for the others, and the panic
    /// continues in the caller.
    pub(crate) fn write(
        &self,
        body: &mut dyn FnMut(&Connection) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let (batch, ran) = {
            let mut open = self.lock_open();
            self.begin_batch(&mut open)?;
            let batch = open.batch.clone();
            let ran = run_in_savepoint(&open.conn, body);
            if ran.is_err() {
                // The savepoint could not be closed: what the body did cannot be told
                // apart from the rest of the batch, so the whole batch is lost.
                self.abandon_batch(&mut open, "a write could not be rolled back");
            }
            (batch, ran)
        };
        let committed = self.wait_for_commit(&batch);
        match ran {
            Ok(Ok(outcome)) => outcome.and(committed),
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(error) => Err(error),
        }
    }

    /// Runs the `queued` bodies one after another in the current batch, waits until the
    /// batch is durably committed, then tells each its outcome: its own error, else the
    /// commit's. A body that panics is rolled back and told so; the others go on.
    pub(crate) fn write_queued(&self, queued: Vec<QueuedBody>) {
        let mut outcomes = Vec::with_capacity(queued.len());
        let batch = {
            let mut open = self.lock_open();
            if let Err(error) = self.begin_batch(&mut open) {
                let why = error.to_string();
                for (_, done) in queued {
                    done(Err(StoreError::Internal(why.clone())));
                }
                return;
            }
            let batch = open.batch.clone();
            let mut lost: Option<String> = None;
            for (body, done) in queued {
                if let Some(why) = &lost {
                    outcomes.push((done, Err(StoreError::Internal(why.clone()))));
                    continue;
                }
                let mut body = Some(body);
                let ran = run_in_savepoint(&open.conn, &mut |conn| match body.take() {
                    Some(body) => body(conn),
                    None => Err(StoreError::Internal("transaction body ran twice".into())),
                });
                match ran {
                    Ok(Ok(outcome)) => outcomes.push((done, outcome)),
                    Ok(Err(_panic)) => {
                        tracing::error!("a queued write panicked; its changes were rolled back");
                        outcomes.push((done, Err(StoreError::Panicked)));
                    }
                    Err(error) => {
                        // As in `write`: the whole batch is lost, and the bodies after
                        // this one are not run.
                        self.abandon_batch(&mut open, "a write could not be rolled back");
                        lost = Some(error.to_string());
                        outcomes.push((done, Err(error)));
                    }
                }
            }
            batch
        };
        let committed = self.wait_for_commit(&batch).map_err(|error| match error {
            StoreError::Internal(why) => why,
            other => other.to_string(),
        });
        for (done, outcome) in outcomes {
            done(outcome.and_then(|()| committed.clone().map_err(StoreError::Internal)));
        }
    }

    /// Commits whatever batch is open, then runs `action` on the connection outside any
    /// transaction (a checkpoint), with no writer able to start meanwhile.
    pub(crate) fn exclusive<R>(
        &self,
        action: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let mut committing = self.lock_committing();
        while *committing {
            committing = self
                .committed
                .wait(committing)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *committing = true;
        drop(committing);
        let result = {
            let mut open = self.lock_open();
            self.commit_open_batch(&mut open);
            // Counted as a commit, so that no idle reader keeps a snapshot the action
            // (a checkpoint) would wait for.
            self.readers.commit_starts();
            self.readers.commit_ended();
            self.readers.end_stale_snapshots();
            action(&open.conn)
        };
        self.finish_commit();
        result
    }

    /// Opens the batch's transaction if it is not open yet. A transaction that SQLite
    /// rolled back on its own (some I/O and disk-full errors do) loses its batch: its
    /// members are told so, and a new batch begins.
    fn begin_batch(&self, open: &mut Open) -> StoreResult<()> {
        if open.in_transaction && open.conn.is_autocommit() {
            self.abandon_batch(open, "the transaction was rolled back by the database");
        }
        if !open.in_transaction {
            open.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            open.in_transaction = true;
        }
        Ok(())
    }

    /// Waits until `batch` has an outcome, committing it if no commit is in flight.
    fn wait_for_commit(&self, batch: &Batch) -> StoreResult<()> {
        let mut committing = self.lock_committing();
        loop {
            if let Some(outcome) = batch.outcome.get() {
                return outcome.clone().map_err(StoreError::Internal);
            }
            if *committing {
                committing = self
                    .committed
                    .wait(committing)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                continue;
            }
            // Batches are committed in order, one at a time: an uncommitted batch with
            // no commit in flight is the open one, so committing the open batch
            // commits ours.
            *committing = true;
            drop(committing);
            {
                let mut open = self.lock_open();
                self.commit_open_batch(&mut open);
            }
            self.finish_commit();
            committing = self.lock_committing();
        }
    }

    /// Commits the open batch (if its transaction began) and starts a new one. The
    /// caller holds the committer role.
    fn commit_open_batch(&self, open: &mut Open) {
        let batch = std::mem::take(&mut open.batch);
        let outcome = if !open.in_transaction {
            Ok(())
        } else if open.conn.is_autocommit() {
            Err("the transaction was rolled back by the database".to_owned())
        } else {
            self.readers.commit_starts();
            let committed = open
                .conn
                .prepare_cached("COMMIT")
                .and_then(|mut commit| commit.execute([]));
            self.readers.commit_ended();
            match committed {
                Ok(_) => Ok(()),
                Err(error) => {
                    if !open.conn.is_autocommit()
                        && let Err(rollback) = open.conn.execute_batch("ROLLBACK")
                    {
                        tracing::error!(%rollback, "rolling back a failed commit failed");
                    }
                    tracing::error!(%error, "a group commit failed");
                    Err(format!("commit failed: {error}"))
                }
            }
        };
        open.in_transaction = false;
        self.settle(&batch, outcome);
        self.readers.end_stale_snapshots();
    }

    /// Rolls the open batch back and tells its members `why`; a new batch begins.
    fn abandon_batch(&self, open: &mut Open, why: &str) {
        if !open.conn.is_autocommit()
            && let Err(error) = open.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "rolling back an abandoned batch failed");
        }
        let lost = std::mem::take(&mut open.batch);
        open.in_transaction = false;
        tracing::error!(why, "a batch of writes was lost");
        self.settle(&lost, Err(why.to_owned()));
    }

    /// Gives up the committer role and wakes every waiter.
    fn finish_commit(&self) {
        *self.lock_committing() = false;
        self.committed.notify_all();
    }

    /// Records a batch's outcome and wakes its waiters.
    fn settle(&self, batch: &Batch, outcome: Result<(), String>) {
        let _ = batch.outcome.set(outcome);
        // Taking the lock orders this after any waiter's check of the outcome.
        drop(self.lock_committing());
        self.committed.notify_all();
    }

    /// The connection. Bodies' panics are caught while it is held, and nothing else
    /// done under it panics, so the batch state it guards is always consistent.
    fn lock_open(&self) -> FairMutexGuard<'_, Open> {
        self.open.lock()
    }

    fn lock_committing(&self) -> MutexGuard<'_, bool> {
        self.committing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A panic caught from a body, to be resumed once the batch is settled.
type Panic = Box<dyn std::any::Any + Send>;

/// Runs `body` inside a savepoint: kept on success, rolled back on error or panic.
/// The outer error means the savepoint could not be opened or closed, so the batch
/// transaction no longer says what the body did.
fn run_in_savepoint(
    conn: &Connection,
    body: &mut dyn FnMut(&Connection) -> StoreResult<()>,
) -> StoreResult<Result<StoreResult<()>, Panic>> {
    conn.prepare_cached("SAVEPOINT body")?.execute([])?;
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(conn)));
    if matches!(ran, Ok(Ok(()))) {
        conn.prepare_cached("RELEASE body")?.execute([])?;
    } else {
        conn.execute_batch("ROLLBACK TO body; RELEASE body")?;
    }
    Ok(ran)
}
