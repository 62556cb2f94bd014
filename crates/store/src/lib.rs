//! Weir's durable store.
//!
//! The domain talks to storage only through [`Store`] and [`Transaction`]: named
//! resources of a [`Kind`] inside an account/region [`Scope`], workflow runs and job
//! runs. Documents are opaque strings to the store (the server keeps the AWS wire
//! form of each resource there), so no SQL and no schema knowledge leaks upwards. Two
//! implementations: [`SqliteStore`] (embedded, the default) and [`PostgresStore`] (a
//! database several processes can share).
//!
//! Every document carries the version of its format, chosen by the code that wrote it;
//! rows written before versions were recorded read as version 1. The store never
//! interprets a document: decoding each version, and upgrading older ones, is the
//! owner's.
//!
//! **Contract:** a [`Store::write`] returns only after its transaction is durably
//! committed (SQLite in WAL mode with `synchronous=FULL`; PostgreSQL with
//! `synchronous_commit=on`), so a caller that answers a
//! client after `write` returned never acknowledges a change that a crash could lose.
//! Concurrent writes may share one commit (group commit), each still returning only
//! after the commit that holds its changes.
//!
//! May depend on: nothing of Weir. Must not: know a service, a wire shape or a
//! document's format; SQL lives here and nowhere else.

#![warn(missing_docs)]

mod error;
mod group_commit;
mod migrations;
mod postgres;
mod postgres_migrations;
mod readers;
mod sqlite;
mod tags;
mod types;

pub use error::{StoreError, StoreResult};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use types::{
    JobRunRecord, Kind, LogEventCursor, LogEventRange, LogEventRecord, PartitionRecord, Record,
    RunCursor, RunRecord, Scope, Setting,
};

/// Reads and writes available inside one transaction.
///
/// Every method sees the effects of earlier calls in the same transaction. Errors are
/// storage failures only: "not found" and "already exists" are ordinary return values.
pub trait Transaction {
    /// The resource `name` of `kind` in `scope`, if it exists.
    fn get(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<Option<Record>>;
    /// Inserts a new resource; `false` (and no change) when the name is taken.
    fn insert(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool>;
    /// Replaces an existing resource; `false` (and no change) when it does not exist.
    fn update(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool>;
    /// Deletes a resource; `false` when it did not exist.
    fn delete(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<bool>;
    /// Up to `limit` resources of `kind` in name order, strictly after `after`.
    fn list(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>>;
    /// The names of up to `limit` resources of `kind` in name order, strictly after
    /// `after` (a listing that needs no more than names reads no documents).
    fn list_names(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    /// Every resource of `kind` whose parent is `parent`, in name order.
    fn list_children(
        &mut self,
        scope: &Scope,
        kind: Kind,
        parent: &str,
    ) -> StoreResult<Vec<Record>>;
    /// Every resource of `kind` in every scope (start-up scans, e.g. schedules).
    fn list_all(&mut self, kind: Kind) -> StoreResult<Vec<(Scope, Record)>>;
    /// Number of resources of `kind` in `scope`.
    fn count(&mut self, scope: &Scope, kind: Kind) -> StoreResult<u64>;

    /// Inserts or replaces a workflow run.
    fn put_run(&mut self, scope: &Scope, run: &RunRecord) -> StoreResult<()>;
    /// One workflow run of `workflow`.
    fn get_run(
        &mut self,
        scope: &Scope,
        workflow: &str,
        run_id: &str,
    ) -> StoreResult<Option<RunRecord>>;
    /// Up to `limit` runs of `workflow`, newest first, strictly older than `before`.
    fn list_runs(
        &mut self,
        scope: &Scope,
        workflow: &str,
        before: Option<&RunCursor>,
        limit: usize,
    ) -> StoreResult<Vec<RunRecord>>;
    /// Number of runs of `workflow` whose status is one of `statuses` (indexed: cost
    /// does not grow with the workflow's history).
    fn count_runs_in_status(
        &mut self,
        scope: &Scope,
        workflow: &str,
        statuses: &[&str],
    ) -> StoreResult<u64>;
    /// Every run, in any scope, whose status is one of `statuses` (crash recovery).
    fn all_runs_in_status(&mut self, statuses: &[&str]) -> StoreResult<Vec<(Scope, RunRecord)>>;
    /// Deletes every run of `workflow` (the workflow itself was deleted).
    fn delete_runs(&mut self, scope: &Scope, workflow: &str) -> StoreResult<u64>;

    /// Inserts or replaces a job run.
    fn put_job_run(&mut self, scope: &Scope, run: &JobRunRecord) -> StoreResult<()>;
    /// One job run of `job`.
    fn get_job_run(
        &mut self,
        scope: &Scope,
        job: &str,
        run_id: &str,
    ) -> StoreResult<Option<JobRunRecord>>;
    /// Up to `limit` job runs of `job`, newest first, strictly older than `before`.
    fn list_job_runs(
        &mut self,
        scope: &Scope,
        job: &str,
        before: Option<&RunCursor>,
        limit: usize,
    ) -> StoreResult<Vec<JobRunRecord>>;
    /// Number of job runs of `job` (of every job of the scope when `None`) whose state
    /// is one of `states`, not counting the job run `except` (indexed: cost does not
    /// grow with the history).
    fn count_job_runs_in_state(
        &mut self,
        scope: &Scope,
        job: Option<&str>,
        states: &[&str],
        except: Option<&str>,
    ) -> StoreResult<u64>;
    /// Every job run, in any scope, whose state is one of `states` (crash recovery).
    fn all_job_runs_in_state(&mut self, states: &[&str])
    -> StoreResult<Vec<(Scope, JobRunRecord)>>;

    /// Deletes workflow and job runs that started before `cutoff_ms` and are finished
    /// (status/state not in `live`); returns how many rows went.
    fn purge_runs_before(&mut self, cutoff_ms: i64, live: &[&str]) -> StoreResult<u64>;

    /// Inserts or replaces a partition of the catalog table `table` (its record name).
    fn put_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        partition: &PartitionRecord,
    ) -> StoreResult<()>;
    /// The partition `key` of `table`, if it exists.
    fn get_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        key: &str,
    ) -> StoreResult<Option<PartitionRecord>>;
    /// Deletes the partition `key` of `table`; `false` when it did not exist.
    fn delete_partition(&mut self, scope: &Scope, table: &str, key: &str) -> StoreResult<bool>;
    /// Up to `limit` partitions of `table` in key order, strictly after `after`.
    fn list_partitions(
        &mut self,
        scope: &Scope,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<PartitionRecord>>;
    /// The keys of every partition of `table`, in key order (no documents read).
    fn partition_keys(&mut self, scope: &Scope, table: &str) -> StoreResult<Vec<String>>;
    /// Deletes every partition of `table` (the table itself was deleted).
    fn delete_partitions(&mut self, scope: &Scope, table: &str) -> StoreResult<u64>;

    /// Appends `events` to the stream `stream` of log group `group`; their sequences
    /// are the caller's and must be new in the stream.
    fn put_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: &str,
        events: &[LogEventRecord],
    ) -> StoreResult<()>;
    /// Up to `limit` events of one stream within `range`, in sequence order (highest
    /// first when `range.newest_first`); an index range read, so the first and the last
    /// page cost the same whatever the stream's length.
    fn list_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: &str,
        range: &LogEventRange,
        limit: usize,
    ) -> StoreResult<Vec<LogEventRecord>>;
    /// Up to `limit` events of every stream of `group` (of `stream` only, when given),
    /// with their stream names, in (timestamp, stream, sequence) order, strictly after
    /// `after`, at or after `start_ms` and strictly before `end_ms`. Indexed both ways:
    /// the cost of reading one stream does not grow with the other streams of its group.
    #[allow(clippy::too_many_arguments)]
    fn scan_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: Option<&str>,
        after: Option<&LogEventCursor>,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<(String, LogEventRecord)>>;
    /// Deletes the events of `stream` in `group`, or of every stream of `group` when
    /// `stream` is `None`; returns how many went.
    fn delete_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: Option<&str>,
    ) -> StoreResult<u64>;
    /// Deletes the events of `group` older than `cutoff_ms` (retention); returns how
    /// many went.
    fn delete_log_events_before(
        &mut self,
        scope: &Scope,
        group: &str,
        cutoff_ms: i64,
    ) -> StoreResult<u64>;

    /// Every setting whose key starts with `prefix`, in key order (start-up upgrades).
    fn list_meta(&mut self, prefix: &str) -> StoreResult<Vec<(String, Setting)>>;
    /// A server-wide setting, e.g. the pagination-token key.
    fn get_meta(&mut self, key: &str) -> StoreResult<Option<Setting>>;
    /// Sets a server-wide setting.
    fn put_meta(&mut self, key: &str, setting: &Setting) -> StoreResult<()>;
    /// Removes a server-wide setting; `false` when it was not set.
    fn delete_meta(&mut self, key: &str) -> StoreResult<bool>;

    // Notices between the processes sharing the store
    /// Hands `message` to every listener of the store ([`Store::listen`]) once this
    /// transaction commits; nothing is sent if it rolls back. A store no other process
    /// can share (SQLite) has no one to tell and drops it.
    fn notify(&mut self, message: &str) -> StoreResult<()>;
}

/// The body of a write transaction handed over whole.
pub type WriteBody = Box<dyn FnOnce(&mut dyn Transaction) -> StoreResult<()> + Send>;

/// A write transaction handed to the store whole ([`Store::queue_write`]): its body,
/// and what to do with the outcome once the transaction committed (or failed).
pub struct QueuedWrite {
    /// The transaction's body; an `Err` rolls back what it did.
    pub body: WriteBody,
    /// Called once with the outcome: the body's error, else the commit's.
    pub done: Box<dyn FnOnce(StoreResult<()>) + Send>,
}

/// What a listener of the store's notices ([`Store::listen`]) is handed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A message some process's committed transaction sent ([`Transaction::notify`]).
    Message(String),
    /// The listening connection was (re)established: messages sent while it was down
    /// are lost, so the listener should look at the stored state again.
    Listening,
}

/// A durable store. Implementations are shared between threads behind an `Arc`.
///
/// Both methods block the calling thread (call them from a blocking context).
pub trait Store: Send + Sync + 'static {
    /// Runs `body` in a read transaction with a consistent snapshot.
    fn read_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// Runs `body` in a write transaction and commits it durably; if `body` fails,
    /// nothing it did is kept. If `body` panics, the transaction is rolled back, the
    /// store stays usable for later writes, and the panic continues in the caller.
    fn write_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// Moves every committed change into the main database file and empties the
    /// write-ahead log, so that the database file alone is a complete copy of the store
    /// (the server calls it on graceful shutdown, after requests drained). Waits for
    /// the writer; fails if readers keep the log from being emptied. A no-op for a
    /// store without a database file of its own (PostgreSQL).
    fn checkpoint(&self) -> StoreResult<()>;
    /// Whether a read is in-process and short enough to run on an async worker thread
    /// (SQLite's WAL readers); when `false` (a network round trip per statement), async
    /// callers run reads on the blocking pool like writes.
    fn reads_inline(&self) -> bool;
    /// Whether writes are best handed over with [`Store::queue_write`] (the store has a
    /// writer thread of its own) rather than run on a caller's blocking thread with
    /// [`Store::write_with`].
    fn queues_writes(&self) -> bool {
        false
    }
    /// Runs `write` as a durable write transaction and calls its `done` with the
    /// outcome: on the store's writer thread, which runs the bodies queued meanwhile in
    /// the same commit, when [`Store::queues_writes`]; else here and now. A body that
    /// panics is rolled back and its `done` told so.
    fn queue_write(&self, write: QueuedWrite) {
        let QueuedWrite { body, done } = write;
        let mut body = Some(body);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.write_with(&mut |tx| match body.take() {
                Some(body) => body(tx),
                None => Err(StoreError::Internal("transaction body ran twice".into())),
            })
        }));
        done(outcome.unwrap_or(Err(StoreError::Panicked)));
    }
    /// Whether several processes may serve this store at once (PostgreSQL); SQLite's
    /// store belongs to the one process that opened it.
    fn shared(&self) -> bool;
    /// Calls `listener` with every message committed transactions of any process send
    /// ([`Transaction::notify`]), from a thread of the store's, until the store is
    /// dropped; `false` when the store has no notices (it is not [`Store::shared`]).
    fn listen(&self, listener: Box<dyn Fn(Heard) + Send + Sync>) -> StoreResult<bool>;
}

/// Typed convenience over [`Store`]: closures that return values and domain errors.
///
/// A domain error returned by the closure rolls the transaction back and is handed
/// back unchanged; storage errors are converted with `From<StoreError>`.
pub trait StoreExt: Store {
    /// Read transaction returning a value.
    fn read<R, E: From<StoreError>>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, E>,
    ) -> Result<R, E> {
        run_typed(|f| self.read_with(f), body)
    }
    /// Durable write transaction returning a value.
    fn write<R, E: From<StoreError>>(
        &self,
        body: impl FnOnce(&mut dyn Transaction) -> Result<R, E>,
    ) -> Result<R, E> {
        run_typed(|f| self.write_with(f), body)
    }
}

impl<S: Store + ?Sized> StoreExt for S {}

fn run_typed<R, E: From<StoreError>>(
    run: impl FnOnce(&mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>) -> StoreResult<()>,
    body: impl FnOnce(&mut dyn Transaction) -> Result<R, E>,
) -> Result<R, E> {
    let mut body = Some(body);
    let mut outcome: Option<Result<R, E>> = None;
    let result = run(&mut |tx| {
        let Some(body) = body.take() else {
            return Err(StoreError::Internal("transaction body ran twice".into()));
        };
        match body(tx) {
            Ok(value) => {
                outcome = Some(Ok(value));
                Ok(())
            }
            Err(error) => {
                outcome = Some(Err(error));
                Err(StoreError::Aborted)
            }
        }
    });
    match (result, outcome) {
        (Ok(()), Some(outcome)) => outcome,
        (Err(StoreError::Aborted), Some(Err(error))) => Err(error),
        (Err(error), _) => Err(error.into()),
        (Ok(()), None) => Err(StoreError::Internal("transaction body did not run".into()).into()),
    }
}

#[cfg(test)]
mod tests;
