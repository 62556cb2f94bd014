//! The values that cross the store boundary.

use std::collections::BTreeMap;

/// The account and region that own a resource; nothing is ever visible across scopes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    /// Twelve-digit AWS account id.
    pub account: String,
    /// Region name, e.g. `us-east-1`.
    pub region: String,
}

/// The kinds of named resources Weir keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A workflow (container of triggers).
    Workflow,
    /// A trigger.
    Trigger,
    /// A job definition.
    Job,
    /// A crawler definition.
    Crawler,
    /// A registered blueprint.
    Blueprint,
    /// A blueprint run (named `<blueprint>/<run id>`).
    BlueprintRun,
    /// A catalog database.
    Database,
    /// A catalog table (named `<database>/<table>`).
    Table,
    /// The crawl in progress and the crawl history of a crawler (named after it).
    CrawlerRuntime,
    /// An EventBridge rule of the default event bus, with its targets.
    EventRule,
    /// The pending event batch of a workflow's EVENT trigger (named after the workflow).
    EventBatch,
    /// The job bookmark of a job (named after it).
    JobBookmark,
    /// A CloudWatch Logs log group (named after it).
    LogGroup,
    /// A CloudWatch Logs log stream (named `<group>:<stream>`, its group as parent).
    LogStream,
    /// A Data Catalog connection.
    Connection,
}

impl Kind {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::Trigger => "trigger",
            Kind::Job => "job",
            Kind::Crawler => "crawler",
            Kind::Blueprint => "blueprint",
            Kind::BlueprintRun => "blueprint-run",
            Kind::Database => "database",
            Kind::Table => "table",
            Kind::CrawlerRuntime => "crawler-runtime",
            Kind::EventRule => "event-rule",
            Kind::EventBatch => "event-batch",
            Kind::JobBookmark => "job-bookmark",
            Kind::LogGroup => "log-group",
            Kind::LogStream => "log-stream",
            Kind::Connection => "connection",
        }
    }
}

/// A stored resource: its name, its document and its tags.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Unique name within (scope, kind).
    pub name: String,
    /// The resource that contains this one, if any: the workflow of a trigger, the
    /// database of a table, the blueprint of a blueprint run. Indexed for listing.
    pub parent: Option<String>,
    /// The resource document (JSON text owned by the caller).
    pub doc: String,
    /// The version of the document's format (chosen by the caller).
    pub version: u32,
    /// The resource's tags.
    pub tags: BTreeMap<String, String>,
}

/// A stored workflow run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The workflow the run belongs to.
    pub workflow: String,
    /// The run id (`wr_...`).
    pub run_id: String,
    /// Start time in epoch milliseconds (orders the history).
    pub started_ms: i64,
    /// The run status (`RUNNING`, `COMPLETED`, ...), indexed for concurrency checks.
    pub status: String,
    /// The run document (JSON text owned by the caller).
    pub doc: String,
    /// The version of the document's format.
    pub version: u32,
}

/// A stored job run.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRunRecord {
    /// The job the run belongs to.
    pub job: String,
    /// The job run id (`jr_...`).
    pub run_id: String,
    /// Start time in epoch milliseconds (orders the history).
    pub started_ms: i64,
    /// The job run state (`RUNNING`, `SUCCEEDED`, ...).
    pub state: String,
    /// The workflow of the run that owns this job run (a reserved name for a direct
    /// StartJobRun, which runs as a single-action run).
    pub owner_workflow: String,
    /// The id of the run that owns this job run.
    pub owner_run_id: String,
    /// The job run document (JSON text owned by the caller).
    pub doc: String,
    /// The version of the document's format.
    pub version: u32,
}

/// A position in a newest-first run history: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCursor {
    /// Start time of the last run returned.
    pub started_ms: i64,
    /// Id of the last run returned (breaks ties between equal start times).
    pub run_id: String,
}

/// A stored partition of a catalog table.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionRecord {
    /// Identifies the partition within its table and orders the table's partitions
    /// (the caller derives it from the partition values).
    pub key: String,
    /// The partition document (JSON text owned by the caller).
    pub doc: String,
    /// The version of the document's format.
    pub version: u32,
}

/// A server-wide setting or document kept under a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The value (plain text or a JSON document owned by the caller).
    pub value: String,
    /// The version of the value's format.
    pub version: u32,
}

/// A stored log event of a log stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRecord {
    /// Position in its stream, increasing in the order events were appended.
    pub sequence: u64,
    /// The event's own time, in epoch milliseconds.
    pub timestamp_ms: i64,
    /// When the event was stored, in epoch milliseconds.
    pub ingestion_ms: i64,
    /// The event text.
    pub message: String,
}

/// Which events of one stream [`crate::Transaction::list_log_events`] reads: a
/// sequence range, optionally bounded in time, read from one end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogEventRange {
    /// Only events with a sequence at or above this.
    pub from_sequence: Option<u64>,
    /// Only events with a sequence strictly below this.
    pub below_sequence: Option<u64>,
    /// Only events at or after this time (epoch milliseconds).
    pub start_ms: Option<i64>,
    /// Only events strictly before this time (epoch milliseconds).
    pub end_ms: Option<i64>,
    /// Read from the highest sequence down instead of the lowest up.
    pub newest_first: bool,
}

/// A position in the events of a log group across its streams, ordered by
/// (timestamp, stream, sequence): the last event of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventCursor {
    /// Timestamp of the last event returned.
    pub timestamp_ms: i64,
    /// Stream of the last event returned.
    pub stream: String,
    /// Sequence of the last event returned.
    pub sequence: u64,
}
