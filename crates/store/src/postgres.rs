//! The PostgreSQL implementation of [`Store`], for a store shared by several processes
//! (`weir serve --store postgres://…`).
//!
//! **Connections.** `tokio-postgres` connections whose sockets are driven by a small
//! runtime the store owns (one thread); a transaction's statements are sent from the
//! calling thread and waited for with a plain executor, so the store blocks its caller
//! like SQLite's, never starts a runtime inside another one, and may be called from any
//! thread (async callers still move reads to the blocking pool: see
//! [`Store::reads_inline`]). A bounded pool keeps the connections with their prepared
//! statements.
//!
//! **Isolation.** A read is one `REPEATABLE READ, READ ONLY` transaction: one
//! consistent snapshot. A write is a `READ COMMITTED` transaction that first takes a
//! transaction-level advisory lock, `pg_advisory_xact_lock`, one per schema: writers
//! run one at a time across every process on the database, exactly as SQLite's single
//! writer does, and since every statement of a `READ COMMITTED` transaction reads the
//! data committed before it, a write's checks (a workflow's MaxConcurrentRuns, a job's
//! concurrency, a name being free) see every earlier write and stay true until it
//! commits. This was chosen over `SERIALIZABLE`: the same exactness without retrying
//! transactions on serialization failures (a transaction body is not safe to run
//! twice, it may have started a process), at the cost of one writer at a time, which
//! the SQLite store has too. Writers of one process also queue on a mutex first, so
//! only one connection per process waits on the lock.
//!
//! **Durability.** Every session sets `synchronous_commit = on` (PostgreSQL's default):
//! `COMMIT` returns after the commit record is flushed to the write-ahead log.
//! [`Store::checkpoint`] is a no-op: a committed change is already durable, and there
//! is no database file for a copy to be taken of.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Condvar, Mutex, MutexGuard};

use futures_executor::block_on;
use tokio_postgres::types::ToSql;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls, Row, SimpleQueryMessage, Statement};

use crate::postgres_migrations::migrate;
use crate::tags::{tags_from_text, tags_to_text};
use crate::{
    Heard, JobRunRecord, Kind, LogEventCursor, LogEventRange, LogEventRecord, PartitionRecord,
    Record, RunCursor, RunRecord, Scope, Setting, Store, StoreError, StoreResult, Transaction,
};

/// Most connections one store opens (reads and the writer together).
const MAX_CONNECTIONS: usize = 16;
/// The high half of the write lock's advisory-lock key ("WEIR"); the low half is the
/// schema's oid, so stores in different schemas of one database do not wait for each
/// other.
const WRITE_LOCK_CLASS: i64 = 0x5745_4952;
/// How long the listening connection waits before connecting again after it broke.
const RELISTEN_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// PostgreSQL-backed store: the tables live in the first schema of the connection's
/// `search_path` (normally `public`).
pub struct PostgresStore {
    /// Drives the connections' sockets; taken out only to be shut down on drop.
    runtime: Option<tokio::runtime::Runtime>,
    /// Where and how to connect.
    config: Config,
    /// Idle connections and the count of open ones.
    pool: Mutex<PoolState>,
    /// Signalled when a connection is returned or closed.
    freed: Condvar,
    /// Held by the one write transaction of this process at a time.
    writing: Mutex<()>,
    /// The statements that open a write transaction and take the write lock.
    begin_write: String,
    /// The channel of this schema's notices (`weir_<schema oid>`).
    channel: String,
}

/// The connections of the pool.
#[derive(Default)]
struct PoolState {
    /// Connections outside any transaction, ready for reuse.
    idle: Vec<Session>,
    /// Connections open, idle or in use.
    open: usize,
}

/// One connection and the statements prepared on it.
pub(crate) struct Session {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Session {
    /// Runs `sql` (one or more statements, no parameters) in the simple protocol.
    pub(crate) fn batch(&mut self, sql: &str) -> StoreResult<()> {
        Ok(block_on(self.client.batch_execute(sql))?)
    }

    /// The first column of every row `sql` returns, as text (simple protocol).
    pub(crate) fn simple_rows(&mut self, sql: &str) -> StoreResult<Vec<String>> {
        let messages = block_on(self.client.simple_query(sql))?;
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect())
    }

    /// `sql`, prepared once per connection.
    fn statement(&mut self, sql: &'static str) -> StoreResult<Statement> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = block_on(self.client.prepare(sql))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<Row>> {
        let statement = self.statement(sql)?;
        Ok(block_on(self.client.query(&statement, params))?)
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let statement = self.statement(sql)?;
        Ok(block_on(self.client.execute(&statement, params))?)
    }
}

/// A connection taken from the pool; it goes back when dropped if it was marked
/// `reusable` (its transaction ended cleanly), else it is closed, which makes the
/// server roll back whatever it had open.
struct Lease<'a> {
    store: &'a PostgresStore,
    session: Option<Session>,
    reusable: bool,
}

impl Lease<'_> {
    fn session(&mut self) -> StoreResult<&mut Session> {
        self.session
            .as_mut()
            .ok_or_else(|| StoreError::Internal("a leased connection is gone".into()))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.store.pool_state();
        match self.session.take() {
            Some(session) if self.reusable && !session.client.is_closed() => {
                pool.idle.push(session)
            }
            _ => pool.open = pool.open.saturating_sub(1),
        }
        drop(pool);
        self.store.freed.notify_one();
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or
    /// a libpq key=value string; connections are not encrypted) and migrates its schema.
    pub fn open(url: &str) -> StoreResult<Self> {
        let config = Config::from_str(url).map_err(|error| {
            StoreError::InvalidUrl(format!("not a PostgreSQL connection URL ({error})"))
        })?;
        Self::open_config(config)
    }

    /// Connects with `config` and migrates the schema.
    pub(crate) fn open_config(config: Config) -> StoreResult<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weir-postgres")
            .enable_all()
            .build()?;
        let mut store = Self {
            runtime: Some(runtime),
            config,
            pool: Mutex::new(PoolState::default()),
            freed: Condvar::new(),
            writing: Mutex::new(()),
            begin_write: String::new(),
            channel: String::new(),
        };
        let mut lease = store.lease()?;
        let session = lease.session()?;
        let schema =
            session.simple_rows("SELECT oid FROM pg_namespace WHERE nspname = current_schema()")?;
        let oid = match schema.as_slice() {
            [oid] => oid.parse::<u32>().map_err(|_| {
                StoreError::Internal(format!("the schema's oid {oid:?} is not a number"))
            })?,
            _ => {
                return Err(StoreError::Incompatible(
                    "no schema to keep the tables in: the search_path names no existing schema"
                        .into(),
                ));
            }
        };
        let key = (WRITE_LOCK_CLASS << 32) | i64::from(oid);
        let begin_write = format!("BEGIN; SELECT pg_advisory_xact_lock({key})");
        migrate(session, &begin_write)?;
        lease.reusable = true;
        drop(lease);
        store.begin_write = begin_write;
        store.channel = format!("weir_{oid}");
        Ok(store)
    }

    fn pool_state(&self) -> MutexGuard<'_, PoolState> {
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An idle connection, a new one while fewer than [`MAX_CONNECTIONS`] are open, or
    /// the next one returned.
    fn lease(&self) -> StoreResult<Lease<'_>> {
        let mut pool = self.pool_state();
        loop {
            if let Some(session) = pool.idle.pop() {
                return Ok(Lease {
                    store: self,
                    session: Some(session),
                    reusable: false,
                });
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                // From here the lease owns the slot: dropped without a session, it
                // gives the slot back.
                let mut lease = Lease {
                    store: self,
                    session: None,
                    reusable: false,
                };
                lease.session = Some(self.connect()?);
                return Ok(lease);
            }
            pool = self
                .freed
                .wait(pool)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Opens a connection; its socket is driven on the store's runtime.
    fn connect(&self) -> StoreResult<Session> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| StoreError::Internal("the store is shut down".into()))?;
        let config = self.config.clone();
        let connecting = runtime.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::warn!(%error, "a PostgreSQL connection failed");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        });
        let client = block_on(connecting)
            .map_err(|error| StoreError::Internal(format!("connecting failed: {error}")))??;
        let mut session = Session {
            client,
            statements: HashMap::new(),
        };
        session.batch("SET synchronous_commit = on")?;
        Ok(session)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Without waiting: a store may be dropped on an async worker, where a blocking
        // shutdown is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Store for PostgresStore {
    fn read_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut lease = self.lease()?;
        let session = lease.session()?;
        session.batch("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        let mut handle = PgTx {
            session,
            channel: &self.channel,
            failed: false,
        };
        let outcome = body(&mut handle);
        session.batch(if outcome.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        })?;
        lease.reusable = true;
        outcome
    }

    fn write_with(
        &self,
        body: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let writing = self
            .writing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut lease = self.lease()?;
        let session = lease.session()?;
        session.batch(&self.begin_write)?;
        let mut handle = PgTx {
            session,
            channel: &self.channel,
            failed: false,
        };
        // A panicking body (a bug in the caller) must not leave its changes or the lock
        // behind: roll back, release the connection and the writer, then let the panic
        // go on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut handle)));
        let failed = handle.failed;
        match outcome {
            Ok(Ok(())) if !failed => {
                session.batch("COMMIT")?;
                lease.reusable = true;
                Ok(())
            }
            Ok(outcome) => {
                session.batch("ROLLBACK")?;
                lease.reusable = true;
                // A statement failed and the body went on: PostgreSQL has aborted the
                // transaction, so nothing of it may be reported as committed.
                outcome.and(Err(StoreError::Internal(
                    "a statement of the transaction failed; it was rolled back".into(),
                )))
            }
            Err(panic) => {
                if let Err(error) = session.batch("ROLLBACK") {
                    tracing::error!(%error, "rolling back a panicked write failed");
                } else {
                    lease.reusable = true;
                }
                drop(lease);
                drop(writing);
                std::panic::resume_unwind(panic);
            }
        }
    }

    fn checkpoint(&self) -> StoreResult<()> {
        Ok(())
    }

    fn reads_inline(&self) -> bool {
        false
    }

    fn shared(&self) -> bool {
        true
    }

    fn listen(&self, listener: Box<dyn Fn(Heard) + Send + Sync>) -> StoreResult<bool> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| StoreError::Internal("the store is shut down".into()))?;
        let config = self.config.clone();
        let listen = format!("LISTEN {}", self.channel);
        runtime.spawn(async move {
            loop {
                if let Err(error) = listen_once(&config, &listen, &*listener).await {
                    tracing::warn!(%error, "the PostgreSQL notice connection broke; reconnecting");
                }
                tokio::time::sleep(RELISTEN_AFTER).await;
            }
        });
        Ok(true)
    }
}

/// One listening connection: `LISTEN`s, tells the listener, then hands it every
/// notification until the connection ends.
async fn listen_once(
    config: &Config,
    listen: &str,
    listener: &(dyn Fn(Heard) + Send + Sync),
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (messages, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let driving = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(notice))) => {
                    if messages.send(notice.payload().to_string()).is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            }
        }
    });
    let subscribed = client.batch_execute(listen).await;
    if let Err(error) = subscribed {
        driving.abort();
        return Err(error);
    }
    listener(Heard::Listening);
    while let Some(message) = heard.recv().await {
        listener(Heard::Message(message));
    }
    drop(client);
    match driving.await {
        Ok(outcome) => outcome,
        Err(_) => Ok(()),
    }
}

/// A transaction on one connection.
struct PgTx<'a> {
    session: &'a mut Session,
    /// The channel of the schema's notices.
    channel: &'a str,
    /// A statement failed: PostgreSQL aborted the transaction, it must not commit.
    failed: bool,
}

/// The rest of a statement reading the first resources in name order: `$1` account,
/// `$2` region, `$3` kind, `$4` the limit (see [`PgTx::name_range`]).
macro_rules! first_names_sql {
    () => {
        " FROM resources WHERE account = $1 AND region = $2 AND kind = $3
         ORDER BY name LIMIT $4"
    };
}

/// As [`first_names_sql`], after a name: `$4` the name, `$5` the limit. (Two statements,
/// so that each is a plain index range.)
macro_rules! names_after_sql {
    () => {
        " FROM resources WHERE account = $1 AND region = $2 AND kind = $3 AND name > $4
         ORDER BY name LIMIT $5"
    };
}

impl PgTx<'_> {
    /// One page of a name-ordered listing: `first` (columns + [`first_names_sql`]) from
    /// the start, `after_name` (columns + [`names_after_sql`]) after a cursor.
    fn name_range(
        &mut self,
        [first, after_name]: [&'static str; 2],
        (scope, kind, after, limit): (&Scope, Kind, Option<&str>, usize),
    ) -> StoreResult<Vec<Row>> {
        let (account, region, kind) = (
            scope.account.as_bytes(),
            scope.region.as_bytes(),
            kind.as_str().as_bytes(),
        );
        match after {
            None => self.query(first, &[&account, &region, &kind, &limit_to_sql(limit)]),
            Some(after) => self.query(
                after_name,
                &[
                    &account,
                    &region,
                    &kind,
                    &after.as_bytes(),
                    &limit_to_sql(limit),
                ],
            ),
        }
    }

    fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<Row>> {
        let result = self.session.query(sql, params);
        self.failed |= result.is_err();
        result
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        let result = self.session.execute(sql, params);
        self.failed |= result.is_err();
        result
    }

    fn count_rows(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<u64> {
        let rows = self.query(sql, params)?;
        let count: i64 = match rows.first() {
            Some(row) => row.try_get(0)?,
            None => 0,
        };
        Ok(u64::try_from(count).unwrap_or_default())
    }
}

/// A text column (stored as bytes: PostgreSQL's text cannot hold NUL, which Weir's
/// reserved names and clients' log messages may contain).
fn text(row: &Row, index: usize) -> StoreResult<String> {
    let bytes: Vec<u8> = row.try_get(index)?;
    String::from_utf8(bytes)
        .map_err(|_| StoreError::Internal(format!("column {index} is not UTF-8 text")))
}

fn optional_text(row: &Row, index: usize) -> StoreResult<Option<String>> {
    let bytes: Option<Vec<u8>> = row.try_get(index)?;
    bytes
        .map(|bytes| {
            String::from_utf8(bytes)
                .map_err(|_| StoreError::Internal(format!("column {index} is not UTF-8 text")))
        })
        .transpose()
}

/// A list of strings as a `bytea[]` parameter.
fn byte_strings<'a>(strings: &[&'a str]) -> Vec<&'a [u8]> {
    strings.iter().map(|s| s.as_bytes()).collect()
}

fn version(row: &Row, index: usize) -> StoreResult<u32> {
    let version: i64 = row.try_get(index)?;
    u32::try_from(version)
        .map_err(|_| StoreError::Internal(format!("document version {version} is out of range")))
}

fn record_from_row(row: &Row) -> StoreResult<Record> {
    let tags = text(row, 3)?;
    Ok(Record {
        name: text(row, 0)?,
        parent: optional_text(row, 1)?,
        doc: text(row, 2)?,
        tags: tags_from_text(&tags),
        version: version(row, 4)?,
    })
}

fn run_from_row(row: &Row) -> StoreResult<RunRecord> {
    Ok(RunRecord {
        workflow: text(row, 0)?,
        run_id: text(row, 1)?,
        started_ms: row.try_get(2)?,
        status: text(row, 3)?,
        doc: text(row, 4)?,
        version: version(row, 5)?,
    })
}

fn job_run_from_row(row: &Row) -> StoreResult<JobRunRecord> {
    Ok(JobRunRecord {
        job: text(row, 0)?,
        run_id: text(row, 1)?,
        started_ms: row.try_get(2)?,
        state: text(row, 3)?,
        owner_workflow: text(row, 4)?,
        owner_run_id: text(row, 5)?,
        doc: text(row, 6)?,
        version: version(row, 7)?,
    })
}

fn partition_from_row(row: &Row) -> StoreResult<PartitionRecord> {
    Ok(PartitionRecord {
        key: text(row, 0)?,
        doc: text(row, 1)?,
        version: version(row, 2)?,
    })
}

fn log_event_from_row(row: &Row) -> StoreResult<LogEventRecord> {
    let sequence: i64 = row.try_get(0)?;
    Ok(LogEventRecord {
        sequence: u64::try_from(sequence).unwrap_or_default(),
        timestamp_ms: row.try_get(1)?,
        ingestion_ms: row.try_get(2)?,
        message: text(row, 3)?,
    })
}

fn scope_from_row(row: &Row, index: usize) -> StoreResult<Scope> {
    Ok(Scope {
        account: text(row, index)?,
        region: text(row, index + 1)?,
    })
}

/// A sequence as PostgreSQL's signed integer (sequences beyond `i64::MAX` are refused).
fn sequence_to_sql(sequence: u64) -> StoreResult<i64> {
    i64::try_from(sequence)
        .map_err(|_| StoreError::Internal(format!("log sequence {sequence} is out of range")))
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

impl Transaction for PgTx<'_> {
    fn get(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<Option<Record>> {
        let rows = self.query(
            "SELECT name, parent, doc, tags, version FROM resources
             WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
                &name.as_bytes(),
            ],
        )?;
        rows.first().map(record_from_row).transpose()
    }

    fn insert(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool> {
        let changed = self.execute(
            "INSERT INTO resources (account, region, kind, name, doc, tags, parent, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
                &record.name.as_bytes(),
                &record.doc.as_bytes(),
                &tags_to_text(&record.tags).as_bytes(),
                &record.parent.as_deref().map(str::as_bytes),
                &i64::from(record.version),
            ],
        )?;
        Ok(changed == 1)
    }

    fn update(&mut self, scope: &Scope, kind: Kind, record: &Record) -> StoreResult<bool> {
        let changed = self.execute(
            "UPDATE resources SET doc = $5, tags = $6, parent = $7, version = $8
             WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
                &record.name.as_bytes(),
                &record.doc.as_bytes(),
                &tags_to_text(&record.tags).as_bytes(),
                &record.parent.as_deref().map(str::as_bytes),
                &i64::from(record.version),
            ],
        )?;
        Ok(changed == 1)
    }

    fn delete(&mut self, scope: &Scope, kind: Kind, name: &str) -> StoreResult<bool> {
        let deleted = self.execute(
            "DELETE FROM resources WHERE account = $1 AND region = $2 AND kind = $3 AND name = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
                &name.as_bytes(),
            ],
        )?;
        Ok(deleted == 1)
    }

    fn list(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        let rows = self.name_range(
            [
                concat!(
                    "SELECT name, parent, doc, tags, version",
                    first_names_sql!()
                ),
                concat!(
                    "SELECT name, parent, doc, tags, version",
                    names_after_sql!()
                ),
            ],
            (scope, kind, after, limit),
        )?;
        rows.iter().map(record_from_row).collect()
    }

    fn list_names(
        &mut self,
        scope: &Scope,
        kind: Kind,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>> {
        let rows = self.name_range(
            [
                concat!("SELECT name", first_names_sql!()),
                concat!("SELECT name", names_after_sql!()),
            ],
            (scope, kind, after, limit),
        )?;
        rows.iter().map(|row| text(row, 0)).collect()
    }

    fn list_children(
        &mut self,
        scope: &Scope,
        kind: Kind,
        parent: &str,
    ) -> StoreResult<Vec<Record>> {
        let rows = self.query(
            "SELECT name, parent, doc, tags, version FROM resources
             WHERE account = $1 AND region = $2 AND kind = $3 AND parent = $4 ORDER BY name",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
                &parent.as_bytes(),
            ],
        )?;
        rows.iter().map(record_from_row).collect()
    }

    fn list_all(&mut self, kind: Kind) -> StoreResult<Vec<(Scope, Record)>> {
        let rows = self.query(
            "SELECT name, parent, doc, tags, version, account, region FROM resources
             WHERE kind = $1",
            &[&kind.as_str().as_bytes()],
        )?;
        rows.iter()
            .map(|row| Ok((scope_from_row(row, 5)?, record_from_row(row)?)))
            .collect()
    }

    fn count(&mut self, scope: &Scope, kind: Kind) -> StoreResult<u64> {
        self.count_rows(
            "SELECT COUNT(*) FROM resources WHERE account = $1 AND region = $2 AND kind = $3",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &kind.as_str().as_bytes(),
            ],
        )
    }

    fn put_run(&mut self, scope: &Scope, run: &RunRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO workflow_runs
                 (account, region, workflow, run_id, started_ms, status, doc, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (account, region, workflow, run_id)
             DO UPDATE SET status = excluded.status, doc = excluded.doc,
                           version = excluded.version",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &run.workflow.as_bytes(),
                &run.run_id.as_bytes(),
                &run.started_ms,
                &run.status.as_bytes(),
                &run.doc.as_bytes(),
                &i64::from(run.version),
            ],
        )?;
        Ok(())
    }

    fn get_run(
        &mut self,
        scope: &Scope,
        workflow: &str,
        run_id: &str,
    ) -> StoreResult<Option<RunRecord>> {
        let rows = self.query(
            "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
             WHERE account = $1 AND region = $2 AND workflow = $3 AND run_id = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &workflow.as_bytes(),
                &run_id.as_bytes(),
            ],
        )?;
        rows.first().map(run_from_row).transpose()
    }

    fn list_runs(
        &mut self,
        scope: &Scope,
        workflow: &str,
        before: Option<&RunCursor>,
        limit: usize,
    ) -> StoreResult<Vec<RunRecord>> {
        // Two statements, so that each is a plain range of the history index: the first
        // page has no cursor, later pages bound the range with a row value.
        let rows = match before {
            None => self.query(
                "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
                 WHERE account = $1 AND region = $2 AND workflow = $3
                 ORDER BY started_ms DESC, run_id DESC LIMIT $4",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &workflow.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
            Some(cursor) => self.query(
                "SELECT workflow, run_id, started_ms, status, doc, version FROM workflow_runs
                 WHERE account = $1 AND region = $2 AND workflow = $3
                   AND (started_ms, run_id) < ($4, $5)
                 ORDER BY started_ms DESC, run_id DESC LIMIT $6",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &workflow.as_bytes(),
                    &cursor.started_ms,
                    &cursor.run_id.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
        };
        rows.iter().map(run_from_row).collect()
    }

    fn count_runs_in_status(
        &mut self,
        scope: &Scope,
        workflow: &str,
        statuses: &[&str],
    ) -> StoreResult<u64> {
        self.count_rows(
            "SELECT COUNT(*) FROM workflow_runs
             WHERE account = $1 AND region = $2 AND workflow = $3 AND status = ANY($4)",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &workflow.as_bytes(),
                &byte_strings(statuses),
            ],
        )
    }

    fn all_runs_in_status(&mut self, statuses: &[&str]) -> StoreResult<Vec<(Scope, RunRecord)>> {
        let rows = self.query(
            "SELECT workflow, run_id, started_ms, status, doc, version, account, region
             FROM workflow_runs WHERE status = ANY($1)",
            &[&byte_strings(statuses)],
        )?;
        rows.iter()
            .map(|row| Ok((scope_from_row(row, 6)?, run_from_row(row)?)))
            .collect()
    }

    fn delete_runs(&mut self, scope: &Scope, workflow: &str) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM workflow_runs WHERE account = $1 AND region = $2 AND workflow = $3",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &workflow.as_bytes(),
            ],
        )
    }

    fn put_job_run(&mut self, scope: &Scope, run: &JobRunRecord) -> StoreResult<()> {
        self.execute(
            "INSERT INTO job_runs
                 (account, region, job, run_id, started_ms, state, owner_workflow, owner_run_id,
                  doc, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (account, region, job, run_id)
             DO UPDATE SET state = excluded.state, doc = excluded.doc,
                           version = excluded.version",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &run.job.as_bytes(),
                &run.run_id.as_bytes(),
                &run.started_ms,
                &run.state.as_bytes(),
                &run.owner_workflow.as_bytes(),
                &run.owner_run_id.as_bytes(),
                &run.doc.as_bytes(),
                &i64::from(run.version),
            ],
        )?;
        Ok(())
    }

    fn get_job_run(
        &mut self,
        scope: &Scope,
        job: &str,
        run_id: &str,
    ) -> StoreResult<Option<JobRunRecord>> {
        let rows = self.query(
            "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version
             FROM job_runs
             WHERE account = $1 AND region = $2 AND job = $3 AND run_id = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &job.as_bytes(),
                &run_id.as_bytes(),
            ],
        )?;
        rows.first().map(job_run_from_row).transpose()
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
            None => self.query(
                "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version
                 FROM job_runs WHERE account = $1 AND region = $2 AND job = $3
                 ORDER BY started_ms DESC, run_id DESC LIMIT $4",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &job.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
            Some(cursor) => self.query(
                "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version
                 FROM job_runs WHERE account = $1 AND region = $2 AND job = $3
                   AND (started_ms, run_id) < ($4, $5)
                 ORDER BY started_ms DESC, run_id DESC LIMIT $6",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &job.as_bytes(),
                    &cursor.started_ms,
                    &cursor.run_id.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
        };
        rows.iter().map(job_run_from_row).collect()
    }

    fn count_job_runs_in_state(
        &mut self,
        scope: &Scope,
        job: Option<&str>,
        states: &[&str],
        except: Option<&str>,
    ) -> StoreResult<u64> {
        match job {
            Some(job) => self.count_rows(
                "SELECT COUNT(*) FROM job_runs
                 WHERE account = $1 AND region = $2 AND job = $3 AND state = ANY($4)
                   AND run_id IS DISTINCT FROM $5",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &job.as_bytes(),
                    &byte_strings(states),
                    &except.map(str::as_bytes),
                ],
            ),
            None => self.count_rows(
                "SELECT COUNT(*) FROM job_runs
                 WHERE account = $1 AND region = $2 AND state = ANY($3)
                   AND run_id IS DISTINCT FROM $4",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &byte_strings(states),
                    &except.map(str::as_bytes),
                ],
            ),
        }
    }

    fn all_job_runs_in_state(
        &mut self,
        states: &[&str],
    ) -> StoreResult<Vec<(Scope, JobRunRecord)>> {
        let rows = self.query(
            "SELECT job, run_id, started_ms, state, owner_workflow, owner_run_id, doc, version,
                    account, region
             FROM job_runs WHERE state = ANY($1)",
            &[&byte_strings(states)],
        )?;
        rows.iter()
            .map(|row| Ok((scope_from_row(row, 8)?, job_run_from_row(row)?)))
            .collect()
    }

    fn purge_runs_before(&mut self, cutoff_ms: i64, live: &[&str]) -> StoreResult<u64> {
        let runs = self.execute(
            "DELETE FROM workflow_runs WHERE started_ms < $1 AND status <> ALL($2)",
            &[&cutoff_ms, &byte_strings(live)],
        )?;
        let job_runs = self.execute(
            "DELETE FROM job_runs WHERE started_ms < $1 AND state <> ALL($2)",
            &[&cutoff_ms, &byte_strings(live)],
        )?;
        Ok(runs + job_runs)
    }

    fn put_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        partition: &PartitionRecord,
    ) -> StoreResult<()> {
        self.execute(
            "INSERT INTO partitions (account, region, table_name, key, doc, version)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account, region, table_name, key)
             DO UPDATE SET doc = excluded.doc, version = excluded.version",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &table.as_bytes(),
                &partition.key.as_bytes(),
                &partition.doc.as_bytes(),
                &i64::from(partition.version),
            ],
        )?;
        Ok(())
    }

    fn get_partition(
        &mut self,
        scope: &Scope,
        table: &str,
        key: &str,
    ) -> StoreResult<Option<PartitionRecord>> {
        let rows = self.query(
            "SELECT key, doc, version FROM partitions
             WHERE account = $1 AND region = $2 AND table_name = $3 AND key = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &table.as_bytes(),
                &key.as_bytes(),
            ],
        )?;
        rows.first().map(partition_from_row).transpose()
    }

    fn delete_partition(&mut self, scope: &Scope, table: &str, key: &str) -> StoreResult<bool> {
        let deleted = self.execute(
            "DELETE FROM partitions
             WHERE account = $1 AND region = $2 AND table_name = $3 AND key = $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &table.as_bytes(),
                &key.as_bytes(),
            ],
        )?;
        Ok(deleted == 1)
    }

    fn list_partitions(
        &mut self,
        scope: &Scope,
        table: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<PartitionRecord>> {
        let rows = match after {
            None => self.query(
                "SELECT key, doc, version FROM partitions
                 WHERE account = $1 AND region = $2 AND table_name = $3 ORDER BY key LIMIT $4",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &table.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
            Some(after) => self.query(
                "SELECT key, doc, version FROM partitions
                 WHERE account = $1 AND region = $2 AND table_name = $3 AND key > $4
                 ORDER BY key LIMIT $5",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &table.as_bytes(),
                    &after.as_bytes(),
                    &limit_to_sql(limit),
                ],
            )?,
        };
        rows.iter().map(partition_from_row).collect()
    }

    fn partition_keys(&mut self, scope: &Scope, table: &str) -> StoreResult<Vec<String>> {
        let rows = self.query(
            "SELECT key FROM partitions
             WHERE account = $1 AND region = $2 AND table_name = $3 ORDER BY key",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &table.as_bytes(),
            ],
        )?;
        rows.iter().map(|row| text(row, 0)).collect()
    }

    fn delete_partitions(&mut self, scope: &Scope, table: &str) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM partitions WHERE account = $1 AND region = $2 AND table_name = $3",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &table.as_bytes(),
            ],
        )
    }

    fn put_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: &str,
        events: &[LogEventRecord],
    ) -> StoreResult<()> {
        for event in events {
            self.execute(
                "INSERT INTO log_events (account, region, log_group, log_stream, sequence,
                                         timestamp_ms, ingestion_ms, message)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &group.as_bytes(),
                    &stream.as_bytes(),
                    &sequence_to_sql(event.sequence)?,
                    &event.timestamp_ms,
                    &event.ingestion_ms,
                    &event.message.as_bytes(),
                ],
            )?;
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
        // Bounds are always given (open ends as the extreme values): a range of the
        // primary key, whichever end is read.
        let sql = if range.newest_first {
            "SELECT sequence, timestamp_ms, ingestion_ms, message FROM log_events
             WHERE account = $1 AND region = $2 AND log_group = $3 AND log_stream = $4
               AND sequence >= $5 AND sequence < $6 AND timestamp_ms >= $7 AND timestamp_ms < $8
             ORDER BY sequence DESC LIMIT $9"
        } else {
            "SELECT sequence, timestamp_ms, ingestion_ms, message FROM log_events
             WHERE account = $1 AND region = $2 AND log_group = $3 AND log_stream = $4
               AND sequence >= $5 AND sequence < $6 AND timestamp_ms >= $7 AND timestamp_ms < $8
             ORDER BY sequence ASC LIMIT $9"
        };
        let from = range.from_sequence.map(sequence_to_sql).transpose()?;
        let below = range.below_sequence.map(sequence_to_sql).transpose()?;
        let rows = self.query(
            sql,
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &group.as_bytes(),
                &stream.as_bytes(),
                &from.unwrap_or(0),
                &below.unwrap_or(i64::MAX),
                &range.start_ms.unwrap_or(i64::MIN),
                &range.end_ms.unwrap_or(i64::MAX),
                &limit_to_sql(limit),
            ],
        )?;
        rows.iter().map(log_event_from_row).collect()
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
        let (after_ms, after_stream, after_sequence) = match after {
            Some(cursor) => (
                cursor.timestamp_ms,
                cursor.stream.as_str(),
                sequence_to_sql(cursor.sequence)?,
            ),
            None => (i64::MIN, "", -1),
        };
        let (start_ms, end_ms, limit) = (
            start_ms.unwrap_or(i64::MIN),
            end_ms.unwrap_or(i64::MAX),
            limit_to_sql(limit),
        );
        // Two statements, each a range of its own index; with one stream,
        // `timestamp_ms >= $4` is the part of the cursor that index can range over.
        let rows = match stream {
            Some(stream) => self.query(
                "SELECT sequence, timestamp_ms, ingestion_ms, message, log_stream FROM log_events
                 WHERE account = $1 AND region = $2 AND log_group = $3 AND log_stream = $10
                   AND timestamp_ms >= $4
                   AND (timestamp_ms, log_stream, sequence) > ($4, $5, $6)
                   AND timestamp_ms >= $7 AND timestamp_ms < $8
                 ORDER BY timestamp_ms, sequence LIMIT $9",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &group.as_bytes(),
                    &after_ms,
                    &after_stream.as_bytes(),
                    &after_sequence,
                    &start_ms,
                    &end_ms,
                    &limit,
                    &stream.as_bytes(),
                ],
            )?,
            None => self.query(
                "SELECT sequence, timestamp_ms, ingestion_ms, message, log_stream FROM log_events
                 WHERE account = $1 AND region = $2 AND log_group = $3
                   AND (timestamp_ms, log_stream, sequence) > ($4, $5, $6)
                   AND timestamp_ms >= $7 AND timestamp_ms < $8
                 ORDER BY timestamp_ms, log_stream, sequence LIMIT $9",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &group.as_bytes(),
                    &after_ms,
                    &after_stream.as_bytes(),
                    &after_sequence,
                    &start_ms,
                    &end_ms,
                    &limit,
                ],
            )?,
        };
        rows.iter()
            .map(|row| Ok((text(row, 4)?, log_event_from_row(row)?)))
            .collect()
    }

    fn delete_log_events(
        &mut self,
        scope: &Scope,
        group: &str,
        stream: Option<&str>,
    ) -> StoreResult<u64> {
        match stream {
            Some(stream) => self.execute(
                "DELETE FROM log_events WHERE account = $1 AND region = $2 AND log_group = $3
                   AND log_stream = $4",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &group.as_bytes(),
                    &stream.as_bytes(),
                ],
            ),
            None => self.execute(
                "DELETE FROM log_events WHERE account = $1 AND region = $2 AND log_group = $3",
                &[
                    &scope.account.as_bytes(),
                    &scope.region.as_bytes(),
                    &group.as_bytes(),
                ],
            ),
        }
    }

    fn delete_log_events_before(
        &mut self,
        scope: &Scope,
        group: &str,
        cutoff_ms: i64,
    ) -> StoreResult<u64> {
        self.execute(
            "DELETE FROM log_events WHERE account = $1 AND region = $2 AND log_group = $3
               AND timestamp_ms < $4",
            &[
                &scope.account.as_bytes(),
                &scope.region.as_bytes(),
                &group.as_bytes(),
                &cutoff_ms,
            ],
        )
    }

    fn list_meta(&mut self, prefix: &str) -> StoreResult<Vec<(String, Setting)>> {
        // A range on the primary key: every key that starts with `prefix` sorts at or
        // after it and before it followed by 0xFF, a byte UTF-8 never uses.
        let end = [prefix.as_bytes(), &[0xFF]].concat();
        let rows = self.query(
            "SELECT key, value, version FROM meta WHERE key >= $1 AND key < $2 ORDER BY key",
            &[&prefix.as_bytes(), &end],
        )?;
        rows.iter()
            .map(|row| {
                Ok((
                    text(row, 0)?,
                    Setting {
                        value: text(row, 1)?,
                        version: version(row, 2)?,
                    },
                ))
            })
            .collect()
    }

    fn get_meta(&mut self, key: &str) -> StoreResult<Option<Setting>> {
        let rows = self.query(
            "SELECT value, version FROM meta WHERE key = $1",
            &[&key.as_bytes()],
        )?;
        rows.first()
            .map(|row| {
                Ok(Setting {
                    value: text(row, 0)?,
                    version: version(row, 1)?,
                })
            })
            .transpose()
    }

    fn put_meta(&mut self, key: &str, setting: &Setting) -> StoreResult<()> {
        self.execute(
            "INSERT INTO meta (key, value, version) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = excluded.version",
            &[
                &key.as_bytes(),
                &setting.value.as_bytes(),
                &i64::from(setting.version),
            ],
        )?;
        Ok(())
    }

    fn notify(&mut self, message: &str) -> StoreResult<()> {
        let channel = self.channel;
        self.execute("SELECT pg_notify($1, $2)", &[&channel, &message])?;
        Ok(())
    }

    fn delete_meta(&mut self, key: &str) -> StoreResult<bool> {
        let deleted = self.execute("DELETE FROM meta WHERE key = $1", &[&key.as_bytes()])?;
        Ok(deleted == 1)
    }
}
