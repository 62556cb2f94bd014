//! SQLite's reader connections, each keeping its read transaction open between uses
//! for as long as nothing was committed.
//!
//! Starting a WAL read transaction costs two statements (`BEGIN`, `COMMIT`) and two
//! file-lock system calls (SQLite takes and drops a shared lock on a read-mark slot of
//! the `-shm` file), which was about a tenth of the server's CPU per read. A reader
//! therefore keeps its transaction — its snapshot — when it goes back to the pool, and
//! the next read on it reuses the snapshot if no commit happened since:
//!
//! - The writer counts its commits, seqlock-style ([`ReaderPool::commit_starts`] makes
//!   the count odd just before `COMMIT`, [`ReaderPool::commit_ended`] even again once
//!   it returned, before the writers of that commit are answered). A read loads the
//!   count before its transaction begins and labels the snapshot with it; a snapshot
//!   is kept only under an even label and reused only while the count still equals it.
//!   No commit started since the label was loaded, so the snapshot holds every commit
//!   there is: a read never sees less than an earlier read saw (a read during a commit
//!   takes a snapshot of its own and keeps none), and a read that starts after a write
//!   was acknowledged sees that write, as without kept snapshots.
//! - A kept snapshot pins the log frames it reads, so the log could neither be
//!   checkpointed past it nor restarted. None is kept stale: after every commit the
//!   writer ends the snapshots of the idle readers, and a reader coming back to the pool
//!   ends its own if a commit happened meanwhile. Both checks run under the pool's lock,
//!   so no stale snapshot slips in between them. A checkpoint counts as a commit, so
//!   that it never waits for an idle reader.
//! - Only this process writes the database: the store holds an exclusive lock on the
//!   data directory's `weir.lock` (see [`crate::sqlite`]), so no commit goes uncounted.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::StoreResult;

/// Prepared statements cached per connection (every statement the store uses fits).
pub(crate) const STATEMENT_CACHE: usize = 64;
/// Reader connections opened at start.
const READERS: usize = 4;
/// Most idle reader connections kept for reuse (each keeps its prepared statements, so
/// a reader is never opened and dropped per request under load).
const MAX_IDLE_READERS: usize = 64;

/// The reader connections of one database and the writer's commit count.
pub(crate) struct ReaderPool {
    /// Commits (and checkpoints) the writer made since the pool was opened.
    commits: AtomicU64,
    /// Idle readers; a reader is taken for one read and put back.
    idle: Mutex<Vec<Reader>>,
    /// Path of the database file, for opening more readers when all are busy.
    path: PathBuf,
}

/// A read-only connection and the read transaction it keeps open.
pub(crate) struct Reader {
    conn: Connection,
    /// The commit count loaded before the open transaction began (`None`: none open).
    snapshot: Option<u64>,
}

impl ReaderPool {
    /// Opens the first readers of the database at `path`.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let mut idle = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            idle.push(Reader::open(path)?);
        }
        Ok(Self {
            commits: AtomicU64::new(0),
            idle: Mutex::new(idle),
            path: path.to_path_buf(),
        })
    }

    /// Runs `body` in a read transaction: the reader's kept snapshot if no commit
    /// happened since it began, else a new one.
    pub(crate) fn read<R>(
        &self,
        body: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let mut reader = self.take()?;
        let result = reader.read(self.commits.load(Ordering::SeqCst), body);
        self.put_back(reader);
        result
    }

    /// The writer is about to commit: no snapshot is reused or kept until
    /// [`ReaderPool::commit_ended`].
    pub(crate) fn commit_starts(&self) {
        self.commits.fetch_add(1, Ordering::SeqCst);
    }

    /// The commit announced by [`ReaderPool::commit_starts`] returned (committed or
    /// failed). Called before its writers are answered; [`ReaderPool::
    /// end_stale_snapshots`] follows once they are.
    pub(crate) fn commit_ended(&self) {
        self.commits.fetch_add(1, Ordering::SeqCst);
    }

    /// Ends the kept snapshots of the idle readers that a commit made stale.
    pub(crate) fn end_stale_snapshots(&self) {
        let commits = self.commits.load(Ordering::SeqCst);
        let mut idle = self.lock_idle();
        for reader in idle.iter_mut() {
            if reader.snapshot.is_some_and(|label| label != commits) {
                reader.end_snapshot();
            }
        }
    }

    fn take(&self) -> StoreResult<Reader> {
        match self.lock_idle().pop() {
            Some(reader) => Ok(reader),
            None => Reader::open(&self.path),
        }
    }

    /// Returns `reader` to the pool, ending its snapshot if a commit happened since it
    /// began (checked under the lock [`ReaderPool::end_stale_snapshots`] takes).
    fn put_back(&self, mut reader: Reader) {
        let mut idle = self.lock_idle();
        if reader
            .snapshot
            .is_some_and(|label| label != self.commits.load(Ordering::SeqCst))
        {
            reader.end_snapshot();
        }
        // A transaction that could not be ended is ended by closing the connection.
        let stuck = reader.snapshot.is_none() && !reader.conn.is_autocommit();
        if !stuck && idle.len() < MAX_IDLE_READERS {
            idle.push(reader);
        }
    }

    /// The idle readers. A panic never happens while the lock is held (statements'
    /// errors are handled), so a poisoned lock's list is still consistent.
    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<Reader>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A read-only connection to the database at `path`, set up as every reader is.
pub(crate) fn open_reader(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans that never depend on bound values: otherwise SQLite marks a statement
    // whose plan looked at a parameter (every `LIMIT ?`) as expired whenever that
    // parameter is bound again, and re-parses and re-plans it on every execution.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

impl Reader {
    fn open(path: &Path) -> StoreResult<Self> {
        Ok(Self {
            conn: open_reader(path)?,
            snapshot: None,
        })
    }

    /// Runs `body` on the kept snapshot if it is labelled `commits` (and still open),
    /// else on a new one labelled so. A failed read ends its snapshot, and so does a
    /// read during a commit (an odd count).
    fn read<R>(
        &mut self,
        commits: u64,
        body: impl FnOnce(&Connection) -> StoreResult<R>,
    ) -> StoreResult<R> {
        let current = self.snapshot == Some(commits) && !self.conn.is_autocommit();
        if !current {
            self.end_snapshot();
            // A cached statement: a new snapshot costs no SQL parsing.
            self.conn.prepare_cached("BEGIN")?.execute([])?;
            self.snapshot = Some(commits);
        }
        let result = body(&self.conn);
        if result.is_err() || commits % 2 == 1 {
            self.end_snapshot();
        }
        result
    }

    /// Ends the open read transaction, if any.
    fn end_snapshot(&mut self) {
        self.snapshot = None;
        if self.conn.is_autocommit() {
            return;
        }
        let ended = self
            .conn
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]));
        if let Err(error) = ended
            && !self.conn.is_autocommit()
            && let Err(rollback) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, %rollback, "a reader could not end its transaction");
        }
    }
}
