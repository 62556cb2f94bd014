//! Job definitions (glue-api.md §6.1): building the stored `Job` from CreateJob and
//! UpdateJob, the defaults AWS fills in, and the checks beyond the model constraints.
//!
//! # Defaults (what GetJob shows for members the caller left out)
//! - `JobMode` `SCRIPT`; `ExecutionProperty.MaxConcurrentRuns` 1; `MaxRetries` 0.
//! - `Command.Name` `glueetl` when the command has no name.
//! - `GlueVersion`: the vendored model documents that jobs created without one get the
//!   newest version, "6.0"; that applies to `glueetl` and `gluestreaming`. Python shell
//!   jobs only exist on 1.0 and 3.0: `3.0` when `PythonVersion` is `3.9`, else `1.0`.
//!   Ray jobs need 4.0 or later: `4.0`.
//! - `Command.PythonVersion` `3` for `pythonshell`.
//! - `Timeout` 2880 minutes for Glue 4.0 and earlier, 480 for 5.0 and later (and `auto`);
//!   none for `gluestreaming`, whose runs have no timeout unless one is set.
//! - `CreatedOn` at creation, `LastModifiedOn` at every change.
//!
//! Capacity members (`MaxCapacity`, `AllocatedCapacity`, `WorkerType`,
//! `NumberOfWorkers`) are kept as given; Weir fills no capacity defaults because nothing
//! it runs depends on them.

use std::collections::BTreeMap;

use weir_model::Timestamp;
use weir_model::shapes::{
    CreateJobRequest, ExecutionClass, ExecutionProperty, Job, JobCommand, JobMode, JobUpdate,
    NotificationProperty, WorkerType,
};

use crate::ApiError;

/// The message of AllocatedCapacity set together with MaxCapacity (CreateJob, StartJobRun).
pub const BOTH_CAPACITIES: &str = "Please set only Allocated Capacity or Max Capacity.";
/// The message of MaxCapacity set together with WorkerType/NumberOfWorkers.
pub const CAPACITY_WITH_WORKERS: &str =
    "Please do not set Max Capacity if using Worker Type and Number of Workers.";
/// Longest allowed job timeout in minutes (7 days).
pub const MAX_TIMEOUT_MINUTES: i32 = 10_080;

/// Timeout of a run whose job and action set none (spec §6.1), in minutes.
pub const DEFAULT_RUN_TIMEOUT_MINUTES: u32 = 2880;

/// A job as the orchestrator runs it: the stored wire form read once, with AWS's
/// defaults applied, so every member a run depends on is present (the wire form keeps
/// them optional because the API does).
#[derive(Debug, Clone, PartialEq)]
pub struct JobDefinition {
    /// `Command.Name` (`pythonshell`, `glueetl`, …).
    pub command_name: String,
    /// `Command.ScriptLocation`: the script to run (empty when the job names none).
    pub script_location: String,
    /// `DefaultArguments`, overridden by a run's arguments.
    pub default_arguments: BTreeMap<String, String>,
    /// `NonOverridableArguments`, which override a run's arguments.
    pub non_overridable_arguments: BTreeMap<String, String>,
    /// `MaxRetries` (0 when unset).
    pub max_retries: u32,
    /// `Timeout` in minutes, when the job sets one.
    pub timeout_minutes: Option<u32>,
    /// `ExecutionProperty.MaxConcurrentRuns` (1 when unset, at least 1).
    pub max_concurrent_runs: u64,
    /// `MaxCapacity`, echoed on job runs.
    pub max_capacity: Option<f64>,
    /// `GlueVersion`, echoed on job runs.
    pub glue_version: Option<String>,
    /// `AllocatedCapacity`, echoed on job runs.
    pub allocated_capacity: Option<i32>,
    /// `WorkerType`, echoed on job runs.
    pub worker_type: Option<WorkerType>,
    /// `NumberOfWorkers`, echoed on job runs.
    pub number_of_workers: Option<i32>,
    /// `SecurityConfiguration`, echoed on job runs.
    pub security_configuration: Option<String>,
    /// `ExecutionClass`, echoed on job runs.
    pub execution_class: Option<ExecutionClass>,
    /// `NotificationProperty`, echoed on job runs.
    pub notification_property: Option<NotificationProperty>,
    /// `Connections.Connections`: the connections a run needs (checked at its start).
    pub connections: Vec<String>,
    /// `JobRunQueuingEnabled`: a run over `MaxConcurrentRuns` waits instead of failing.
    pub run_queuing: bool,
}

impl JobDefinition {
    /// Reads a stored job.
    pub fn of(job: Job) -> Self {
        let command = job.command.unwrap_or_default();
        Self {
            command_name: command.name.unwrap_or_default(),
            script_location: command.script_location.unwrap_or_default(),
            default_arguments: job.default_arguments.unwrap_or_default(),
            non_overridable_arguments: job.non_overridable_arguments.unwrap_or_default(),
            max_retries: job.max_retries.map_or(0, |n| u32::try_from(n).unwrap_or(0)),
            timeout_minutes: job.timeout.and_then(|t| u32::try_from(t).ok()),
            max_concurrent_runs: job
                .execution_property
                .and_then(|e| e.max_concurrent_runs)
                .map_or(1, |n| u64::try_from(n).unwrap_or(1).max(1)),
            max_capacity: job.max_capacity,
            glue_version: job.glue_version,
            allocated_capacity: job.allocated_capacity,
            worker_type: job.worker_type,
            number_of_workers: job.number_of_workers,
            security_configuration: job.security_configuration,
            execution_class: job.execution_class,
            notification_property: job.notification_property,
            connections: job
                .connections
                .and_then(|c| c.connections)
                .unwrap_or_default(),
            run_queuing: job.job_run_queuing_enabled.unwrap_or(false),
        }
    }

    /// The timeout of a run: the action's, else the job's, else the default; at least
    /// one minute.
    pub fn run_timeout_minutes(&self, action_timeout: Option<u32>) -> u32 {
        action_timeout
            .or(self.timeout_minutes)
            .unwrap_or(DEFAULT_RUN_TIMEOUT_MINUTES)
            .max(1)
    }

    /// The arguments a run's script gets: the defaults, then the run's own, then the
    /// non-overridable ones.
    pub fn run_arguments(&self, run: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut arguments = self.default_arguments.clone();
        arguments.extend(run.clone());
        arguments.extend(self.non_overridable_arguments.clone());
        arguments
    }
}

/// The EntityNotFoundException message for a missing job.
pub fn not_found(name: &str) -> String {
    format!("Job {name} not found.")
}

/// The AlreadyExistsException message for a taken job name.
pub fn already_exists(name: &str) -> String {
    format!("Job with name {name} already exists.")
}

/// Builds the stored job of a CreateJob request (defaults filled, rules checked) and
/// returns it with the request's tags.
pub fn create(
    request: CreateJobRequest,
    now: Timestamp,
) -> Result<(Job, BTreeMap<String, String>), ApiError> {
    let mut job = Job {
        name: request.name,
        job_mode: request.job_mode,
        job_run_queuing_enabled: request.job_run_queuing_enabled,
        description: request.description,
        log_uri: request.log_uri,
        role: request.role,
        created_on: Some(now),
        last_modified_on: Some(now),
        execution_property: request.execution_property,
        command: request.command,
        default_arguments: request.default_arguments,
        non_overridable_arguments: request.non_overridable_arguments,
        connections: request.connections,
        max_retries: request.max_retries,
        allocated_capacity: request.allocated_capacity,
        timeout: request.timeout,
        max_capacity: request.max_capacity,
        worker_type: request.worker_type,
        number_of_workers: request.number_of_workers,
        security_configuration: request.security_configuration,
        notification_property: request.notification_property,
        glue_version: request.glue_version,
        code_gen_configuration_nodes: request.code_gen_configuration_nodes,
        execution_class: request.execution_class,
        source_control_details: request.source_control_details,
        maintenance_window: request.maintenance_window,
        ..Default::default()
    };
    complete(&mut job)?;
    Ok((job, request.tags.unwrap_or_default()))
}

/// The job that UpdateJob leaves: `update` replaces the whole definition (AWS: "the
/// previous job definition is completely overwritten"); name and `CreatedOn` stay, and
/// defaults are filled again for members the update leaves out. `Role` and `Command`
/// are required, since a job without them could not run.
pub fn update(current: &Job, update: JobUpdate, now: Timestamp) -> Result<Job, ApiError> {
    if update.role.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::InvalidInput(
            "JobUpdate.Role cannot be null or empty.".into(),
        ));
    }
    if update.command.is_none() {
        return Err(ApiError::InvalidInput(
            "JobUpdate.Command cannot be null.".into(),
        ));
    }
    let mut job = Job {
        name: current.name.clone(),
        job_mode: update.job_mode,
        job_run_queuing_enabled: update.job_run_queuing_enabled,
        description: update.description,
        log_uri: update.log_uri,
        role: update.role,
        created_on: current.created_on,
        last_modified_on: Some(now),
        execution_property: update.execution_property,
        command: update.command,
        default_arguments: update.default_arguments,
        non_overridable_arguments: update.non_overridable_arguments,
        connections: update.connections,
        max_retries: update.max_retries,
        allocated_capacity: update.allocated_capacity,
        timeout: update.timeout,
        max_capacity: update.max_capacity,
        worker_type: update.worker_type,
        number_of_workers: update.number_of_workers,
        security_configuration: update.security_configuration,
        notification_property: update.notification_property,
        glue_version: update.glue_version,
        code_gen_configuration_nodes: update.code_gen_configuration_nodes,
        execution_class: update.execution_class,
        source_control_details: update.source_control_details,
        maintenance_window: update.maintenance_window,
        profile_name: current.profile_name.clone(),
        auto_upgrade_metadata: current.auto_upgrade_metadata.clone(),
    };
    complete(&mut job)?;
    Ok(job)
}

/// Checks the rules the model cannot express and fills AWS's defaults.
fn complete(job: &mut Job) -> Result<(), ApiError> {
    let invalid = |m: &str| Err(ApiError::InvalidInput(m.to_string()));
    if job.role.as_deref().is_none_or(str::is_empty) {
        return invalid("Role cannot be null or empty.");
    }
    let command = job.command.get_or_insert_with(JobCommand::default);
    // Any command name is stored, as AWS stores it; a run of one Weir cannot run
    // fails at its start, naming the command.
    let command_name = command.name.get_or_insert_with(|| "glueetl".to_string());
    let kind = command_name.clone();
    if kind == "pythonshell" {
        command
            .python_version
            .get_or_insert_with(|| "3".to_string());
    }
    let python = command.python_version.clone();
    if let Some(timeout) = job.timeout
        && timeout > MAX_TIMEOUT_MINUTES
    {
        return Err(ApiError::InvalidInput(format!(
            "Timeout must be at most {MAX_TIMEOUT_MINUTES} minutes (7 days), got {timeout}."
        )));
    }
    if job.max_retries.is_some_and(|n| n < 0) {
        return invalid("MaxRetries cannot be negative.");
    }
    let execution = job
        .execution_property
        .get_or_insert_with(ExecutionProperty::default);
    let max_runs = *execution.max_concurrent_runs.get_or_insert(1);
    if max_runs < 1 {
        return invalid("ExecutionProperty.MaxConcurrentRuns must be at least 1.");
    }
    if job.number_of_workers.is_some_and(|n| n < 1) {
        return invalid("NumberOfWorkers must be at least 1.");
    }
    if job.worker_type.is_some() != job.number_of_workers.is_some() {
        return invalid("WorkerType and NumberOfWorkers must be set together.");
    }
    check_capacities(
        job.allocated_capacity,
        job.max_capacity,
        job.worker_type.is_some(),
    )?;
    if job.max_capacity.is_some_and(|c| !c.is_finite() || c <= 0.0) {
        return invalid("MaxCapacity must be a positive number.");
    }
    job.job_mode.get_or_insert(JobMode::Script);
    job.max_retries.get_or_insert(0);
    let version = job
        .glue_version
        .get_or_insert_with(|| default_glue_version(&kind, python.as_deref()).to_string());
    if job.timeout.is_none() && kind != "gluestreaming" {
        job.timeout = Some(default_timeout(version));
    }
    Ok(())
}

/// The capacity rules CreateJob, UpdateJob and StartJobRun share: AllocatedCapacity
/// or MaxCapacity, not both; no MaxCapacity with WorkerType/NumberOfWorkers.
pub fn check_capacities(
    allocated_capacity: Option<i32>,
    max_capacity: Option<f64>,
    workers: bool,
) -> Result<(), ApiError> {
    if allocated_capacity.is_some() && max_capacity.is_some() {
        return Err(ApiError::InvalidInput(BOTH_CAPACITIES.into()));
    }
    if workers && max_capacity.is_some() {
        return Err(ApiError::InvalidInput(CAPACITY_WITH_WORKERS.into()));
    }
    Ok(())
}

/// The Glue version a job of command `kind` gets when none is given.
fn default_glue_version(kind: &str, python: Option<&str>) -> &'static str {
    match (kind, python) {
        ("pythonshell", Some("3.9")) => "3.0",
        ("pythonshell", _) => "1.0",
        ("glueray", _) => "4.0",
        _ => "6.0",
    }
}

/// The default timeout in minutes: 2880 up to Glue 4.0, 480 from 5.0 (and for `auto`).
fn default_timeout(glue_version: &str) -> i32 {
    if glue_version == "auto" {
        return 480;
    }
    let major = glue_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major >= 5 { 480 } else { 2880 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_model::shapes::WorkerType;

    #[test]
    fn a_job_definition_resolves_what_runs_depend_on() {
        let bare = JobDefinition::of(Job::default());
        assert_eq!(bare.max_concurrent_runs, 1);
        assert_eq!(bare.max_retries, 0);
        assert_eq!(bare.run_timeout_minutes(None), DEFAULT_RUN_TIMEOUT_MINUTES);
        assert_eq!(bare.run_timeout_minutes(Some(0)), 1, "at least a minute");
        let job = JobDefinition::of(Job {
            command: Some(JobCommand {
                name: Some("pythonshell".into()),
                script_location: Some("s3://b/run.py".into()),
                ..Default::default()
            }),
            default_arguments: Some(BTreeMap::from([
                ("--a".to_string(), "default".to_string()),
                ("--b".to_string(), "default".to_string()),
            ])),
            non_overridable_arguments: Some(BTreeMap::from([(
                "--c".to_string(),
                "fixed".to_string(),
            )])),
            max_retries: Some(2),
            timeout: Some(30),
            execution_property: Some(ExecutionProperty {
                max_concurrent_runs: Some(4),
            }),
            ..Default::default()
        });
        assert_eq!(
            (job.command_name.as_str(), job.script_location.as_str()),
            ("pythonshell", "s3://b/run.py")
        );
        assert_eq!((job.max_retries, job.max_concurrent_runs), (2, 4));
        assert_eq!(job.run_timeout_minutes(None), 30);
        assert_eq!(
            job.run_timeout_minutes(Some(5)),
            5,
            "the action's timeout wins"
        );
        let run = BTreeMap::from([
            ("--b".to_string(), "run".to_string()),
            ("--c".to_string(), "run".to_string()),
        ]);
        let arguments = job.run_arguments(&run);
        let get = |k: &str| arguments.get(k).map(String::as_str);
        assert_eq!(
            (get("--a"), get("--b"), get("--c")),
            (Some("default"), Some("run"), Some("fixed"))
        );
    }

    fn request(command: &str) -> CreateJobRequest {
        CreateJobRequest {
            name: Some("j1".into()),
            role: Some("arn:aws:iam::123456789012:role/glue".into()),
            command: Some(JobCommand {
                name: Some(command.into()),
                script_location: Some("s3://bucket/script.py".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn now() -> Timestamp {
        Timestamp::from_millis(1_700_000_000_000)
    }

    #[test]
    fn create_fills_aws_defaults() {
        let (job, tags) = create(request("glueetl"), now()).expect("valid");
        assert!(tags.is_empty());
        assert_eq!(job.job_mode, Some(JobMode::Script));
        assert_eq!(job.max_retries, Some(0));
        assert_eq!(
            job.execution_property.and_then(|e| e.max_concurrent_runs),
            Some(1)
        );
        assert_eq!(job.glue_version.as_deref(), Some("6.0"));
        assert_eq!(job.timeout, Some(480));
        assert_eq!(job.created_on, Some(now()));
        assert_eq!(job.last_modified_on, Some(now()));

        let (shell, _) = create(request("pythonshell"), now()).expect("valid");
        let command = shell.command.expect("command");
        assert_eq!(command.python_version.as_deref(), Some("3"));
        assert_eq!(shell.glue_version.as_deref(), Some("1.0"));
        assert_eq!(shell.timeout, Some(2880));

        let (stream, _) = create(request("gluestreaming"), now()).expect("valid");
        assert_eq!(stream.timeout, None);

        let mut old = request("glueetl");
        old.glue_version = Some("4.0".into());
        assert_eq!(create(old, now()).expect("valid").0.timeout, Some(2880));
    }

    #[test]
    fn create_keeps_given_members() {
        let mut req = request("glueetl");
        req.timeout = Some(60);
        req.max_retries = Some(2);
        req.glue_version = Some("5.0".into());
        req.job_mode = Some(JobMode::Visual);
        req.default_arguments = Some([("--k".to_string(), "v".to_string())].into());
        let (job, _) = create(req, now()).expect("valid");
        assert_eq!(job.timeout, Some(60));
        assert_eq!(job.max_retries, Some(2));
        assert_eq!(job.glue_version.as_deref(), Some("5.0"));
        assert_eq!(job.job_mode, Some(JobMode::Visual));
        assert_eq!(
            job.default_arguments.and_then(|a| a.get("--k").cloned()),
            Some("v".into())
        );
    }

    #[test]
    fn create_rejects_invalid_definitions() {
        type Mutation = Box<dyn Fn(&mut CreateJobRequest)>;
        let cases: Vec<Mutation> = vec![
            Box::new(|r| {
                r.allocated_capacity = Some(2);
                r.max_capacity = Some(2.0);
            }),
            Box::new(|r| r.timeout = Some(MAX_TIMEOUT_MINUTES + 1)),
            Box::new(|r| r.max_retries = Some(-1)),
            Box::new(|r| {
                r.execution_property = Some(ExecutionProperty {
                    max_concurrent_runs: Some(0),
                })
            }),
            Box::new(|r| r.worker_type = Some(WorkerType::G1X)),
            Box::new(|r| {
                r.worker_type = Some(WorkerType::G1X);
                r.number_of_workers = Some(2);
                r.max_capacity = Some(2.0);
            }),
            Box::new(|r| r.role = Some(String::new())),
        ];
        for (i, mutate) in cases.iter().enumerate() {
            let mut req = request("glueetl");
            mutate(&mut req);
            let err = create(req, now()).expect_err("rejected");
            assert_eq!(err.code(), "InvalidInputException", "case {i}");
        }
    }

    #[test]
    fn any_command_name_is_stored() {
        let (job, _) = create(request("gluefuture"), now()).expect("stored as AWS stores it");
        let command = job.command.expect("command");
        assert_eq!(command.name.as_deref(), Some("gluefuture"));
    }

    #[test]
    fn update_replaces_the_definition() {
        let mut req = request("glueetl");
        req.description = Some("first".into());
        req.max_retries = Some(3);
        let (job, _) = create(req, now()).expect("valid");
        let later = Timestamp::from_millis(1_700_000_100_000);
        let changed = update(
            &job,
            JobUpdate {
                role: Some("arn:aws:iam::123456789012:role/other".into()),
                command: Some(JobCommand {
                    name: Some("pythonshell".into()),
                    script_location: Some("s3://b/s.py".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            later,
        )
        .expect("valid");
        assert_eq!(changed.name.as_deref(), Some("j1"));
        assert_eq!(changed.description, None, "not carried over");
        assert_eq!(changed.max_retries, Some(0), "default again");
        assert_eq!(changed.created_on, Some(now()));
        assert_eq!(changed.last_modified_on, Some(later));
        assert_eq!(changed.glue_version.as_deref(), Some("1.0"));

        let err = update(&job, JobUpdate::default(), later).expect_err("no role");
        assert_eq!(err.code(), "InvalidInputException");
    }
}
