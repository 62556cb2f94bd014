//! Versioned schema migrations. A migration is never edited once released: a change
//! to the schema is a new entry at the end of [`MIGRATIONS`].

use rusqlite::Connection;

use crate::{StoreError, StoreResult};

/// Every migration, in order; entry `i` moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: resources, workflow runs, job runs, settings.
    r#"
    CREATE TABLE resources (
        account TEXT NOT NULL,
        region  TEXT NOT NULL,
        kind    TEXT NOT NULL,
        name    TEXT NOT NULL,
        parent  TEXT,
        doc     TEXT NOT NULL,
        tags    TEXT NOT NULL,
        PRIMARY KEY (account, region, kind, name)
    ) WITHOUT ROWID;
    CREATE INDEX resources_by_parent ON resources (account, region, kind, parent, name);
    CREATE TABLE workflow_runs (
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        workflow   TEXT NOT NULL,
        run_id     TEXT NOT NULL,
        started_ms INTEGER NOT NULL,
        status     TEXT NOT NULL,
        doc        TEXT NOT NULL,
        PRIMARY KEY (account, region, workflow, run_id)
    );
    CREATE INDEX workflow_runs_history
        ON workflow_runs (account, region, workflow, started_ms DESC, run_id DESC);
    CREATE INDEX workflow_runs_status ON workflow_runs (status);
    CREATE TABLE job_runs (
        account         TEXT NOT NULL,
        region          TEXT NOT NULL,
        job             TEXT NOT NULL,
        run_id          TEXT NOT NULL,
        started_ms      INTEGER NOT NULL,
        state           TEXT NOT NULL,
        owner_workflow  TEXT NOT NULL,
        owner_run_id    TEXT NOT NULL,
        doc             TEXT NOT NULL,
        PRIMARY KEY (account, region, job, run_id)
    );
    CREATE INDEX job_runs_history
        ON job_runs (account, region, job, started_ms DESC, run_id DESC);
    CREATE INDEX job_runs_state ON job_runs (state);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    "#,
    // 2: indexes that keep concurrency checks independent of history size.
    r#"
    CREATE INDEX workflow_runs_by_status ON workflow_runs (account, region, workflow, status);
    CREATE INDEX job_runs_by_state ON job_runs (account, region, job, state);
    "#,
    // 3: a format version on every document; partitions as rows of their own.
    r#"
    ALTER TABLE resources ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE workflow_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE job_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE meta ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE partitions (
        account    TEXT NOT NULL,
        region     TEXT NOT NULL,
        table_name TEXT NOT NULL,
        key        TEXT NOT NULL,
        doc        TEXT NOT NULL,
        version    INTEGER NOT NULL,
        PRIMARY KEY (account, region, table_name, key)
    ) WITHOUT ROWID;
    "#,
    // 4: CloudWatch Logs events, keyed by stream and sequence; by time within a group and
    // within a stream.
    r#"
    CREATE TABLE log_events (
        account      TEXT NOT NULL,
        region       TEXT NOT NULL,
        log_group    TEXT NOT NULL,
        log_stream   TEXT NOT NULL,
        sequence     INTEGER NOT NULL,
        timestamp_ms INTEGER NOT NULL,
        ingestion_ms INTEGER NOT NULL,
        message      TEXT NOT NULL,
        PRIMARY KEY (account, region, log_group, log_stream, sequence)
    );
    CREATE INDEX log_events_by_time
        ON log_events (account, region, log_group, timestamp_ms, log_stream, sequence);
    CREATE INDEX log_events_by_stream_time
        ON log_events (account, region, log_group, log_stream, timestamp_ms, sequence);
    "#,
    // 5: an account's job runs in some states are counted from the state index alone
    // (each launch counts the account's running runs), not from a table row per run.
    r#"
    DROP INDEX job_runs_state;
    CREATE INDEX job_runs_state ON job_runs (state, account, region, run_id);
    "#,
];

/// Brings the database schema up to the newest version, one transaction per step.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let newest = MIGRATIONS.len() as i64;
    if current > newest {
        return Err(StoreError::Incompatible(format!(
            "the data directory has schema version {current}, this weir knows up to {newest}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied store migration");
    }
    Ok(())
}
