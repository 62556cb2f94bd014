//! Versioned schema migrations of the PostgreSQL store. As for SQLite
//! (`migrations.rs`), a migration is never edited once released: a change to the schema
//! is a new entry at the end of [`MIGRATIONS`] (and, for the same logical change, one at
//! the end of SQLite's list). The version is kept in the table `weir_schema`.

use crate::postgres::Session;
use crate::{StoreError, StoreResult};

/// Every migration, in order; entry `i` moves the schema from version `i` to `i + 1`.
///
/// Text is stored as `BYTEA` (UTF-8): it sorts by its bytes, as in SQLite, whatever the
/// database's locale, and may hold NUL, which PostgreSQL's `TEXT` cannot (Weir's
/// reserved run owners and clients' log messages contain it).
const MIGRATIONS: &[&str] = &[
    // 1: the tables of SQLite's schema version 4, with the same indexes: resources,
    // workflow and job runs (history pages and concurrency counts are index ranges),
    // settings, partitions, CloudWatch Logs events.
    r#"
    CREATE TABLE resources (
        account BYTEA NOT NULL,
        region  BYTEA NOT NULL,
        kind    BYTEA NOT NULL,
        name    BYTEA NOT NULL,
        parent  BYTEA,
        doc     BYTEA NOT NULL,
        tags    BYTEA NOT NULL,
        version BIGINT NOT NULL,
        PRIMARY KEY (account, region, kind, name)
    );
    CREATE INDEX resources_by_parent ON resources (account, region, kind, parent, name);
    CREATE TABLE workflow_runs (
        account    BYTEA NOT NULL,
        region     BYTEA NOT NULL,
        workflow   BYTEA NOT NULL,
        run_id     BYTEA NOT NULL,
        started_ms BIGINT NOT NULL,
        status     BYTEA NOT NULL,
        doc        BYTEA NOT NULL,
        version    BIGINT NOT NULL,
        PRIMARY KEY (account, region, workflow, run_id)
    );
    CREATE INDEX workflow_runs_history
        ON workflow_runs (account, region, workflow, started_ms DESC, run_id DESC);
    CREATE INDEX workflow_runs_by_status ON workflow_runs (account, region, workflow, status);
    CREATE INDEX workflow_runs_status ON workflow_runs (status);
    CREATE TABLE job_runs (
        account        BYTEA NOT NULL,
        region         BYTEA NOT NULL,
        job            BYTEA NOT NULL,
        run_id         BYTEA NOT NULL,
        started_ms     BIGINT NOT NULL,
        state          BYTEA NOT NULL,
        owner_workflow BYTEA NOT NULL,
        owner_run_id   BYTEA NOT NULL,
        doc            BYTEA NOT NULL,
        version        BIGINT NOT NULL,
        PRIMARY KEY (account, region, job, run_id)
    );
    CREATE INDEX job_runs_history ON job_runs (account, region, job, started_ms DESC, run_id DESC);
    CREATE INDEX job_runs_by_state ON job_runs (account, region, job, state);
    CREATE INDEX job_runs_state ON job_runs (state);
    CREATE TABLE meta (
        key     BYTEA PRIMARY KEY,
        value   BYTEA NOT NULL,
        version BIGINT NOT NULL
    );
    CREATE TABLE partitions (
        account    BYTEA NOT NULL,
        region     BYTEA NOT NULL,
        table_name BYTEA NOT NULL,
        key        BYTEA NOT NULL,
        doc        BYTEA NOT NULL,
        version    BIGINT NOT NULL,
        PRIMARY KEY (account, region, table_name, key)
    );
    CREATE TABLE log_events (
        account      BYTEA NOT NULL,
        region       BYTEA NOT NULL,
        log_group    BYTEA NOT NULL,
        log_stream   BYTEA NOT NULL,
        sequence     BIGINT NOT NULL,
        timestamp_ms BIGINT NOT NULL,
        ingestion_ms BIGINT NOT NULL,
        message      BYTEA NOT NULL,
        PRIMARY KEY (account, region, log_group, log_stream, sequence)
    );
    CREATE INDEX log_events_by_time
        ON log_events (account, region, log_group, timestamp_ms, log_stream, sequence);
    CREATE INDEX log_events_by_stream_time
        ON log_events (account, region, log_group, log_stream, timestamp_ms, sequence);
    "#,
    // 2: as SQLite's 5: an account's job runs in some states are counted from the state
    // index alone.
    r#"
    DROP INDEX job_runs_state;
    CREATE INDEX job_runs_state ON job_runs (state, account, region, run_id);
    "#,
];

/// Brings the schema up to the newest version, one transaction per step. Every step
/// holds the store's write lock (`begin_write`), so processes starting at the same time
/// on one database migrate it once, in order.
pub(crate) fn migrate(session: &mut Session, begin_write: &str) -> StoreResult<()> {
    let newest = MIGRATIONS.len() as i64;
    loop {
        session.batch(begin_write)?;
        let step = apply_next(session, newest);
        let end = if matches!(step, Ok(Some(_))) {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        session.batch(end)?;
        match step? {
            Some(version) => tracing::info!(version, "applied store migration"),
            None => return Ok(()),
        }
    }
}

/// Applies the migration after the current version, inside the caller's transaction;
/// `None` when the schema is already the newest.
fn apply_next(session: &mut Session, newest: i64) -> StoreResult<Option<i64>> {
    session.batch("CREATE TABLE IF NOT EXISTS weir_schema (version BIGINT NOT NULL)")?;
    let rows = session.simple_rows("SELECT version FROM weir_schema")?;
    let current = match rows.as_slice() {
        [] => 0,
        [version] => version.parse::<i64>().map_err(|_| {
            StoreError::Incompatible(format!("the schema version {version:?} is not a number"))
        })?,
        _ => {
            return Err(StoreError::Incompatible(
                "the table weir_schema holds more than one version".into(),
            ));
        }
    };
    if current > newest {
        return Err(StoreError::Incompatible(format!(
            "the database has schema version {current}, this weir knows up to {newest}"
        )));
    }
    let Some(sql) = usize::try_from(current)
        .ok()
        .and_then(|index| MIGRATIONS.get(index))
    else {
        return Ok(None);
    };
    session.batch(sql)?;
    let next = current + 1;
    session.batch(&format!(
        "DELETE FROM weir_schema; INSERT INTO weir_schema (version) VALUES ({next})"
    ))?;
    Ok(Some(next))
}
