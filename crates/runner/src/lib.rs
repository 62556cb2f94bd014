//! Job processes: launch, supervise, stop, and account for them across restarts.
//!
//! Each attempt gets a run directory `<data>/job-runs/<job run id>/` and runs through
//! the launcher in [`process`]: a supervisor in its own process group whose identity
//! is recorded durably before the script may run, and which records the exit status.
//!
//! Per attempt the runner keeps one [`Slot`], entered before anything is spawned and
//! changed under one lock: `Launching` (a kill that arrives now is remembered and the
//! script never runs) → `Running` (a kill signals the process group). So a kill is
//! never lost between the launch and the spawn.
//!
//! **Stopping:** a kill sends SIGTERM to the whole process group, then SIGKILL after
//! [`STOP_GRACE`] if anything of the group is still alive.
//!
//! May depend on: `weir-engine` (how an attempt ended), `weir-clock`. Must not depend on
//! the store, the server or anything that knows HTTP: it is told what to run.
//!
//! **Cancellation contract:** the futures returned here may be dropped at any time
//! without killing the process (it keeps running and is recovered later); only
//! [`Runner::kill`] stops a process.

#![warn(missing_docs)]

pub mod locations;
pub mod modules;
pub mod process;
pub mod runtime;
pub mod spark;
mod standby;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use weir_engine::{JobEnded, JobOutcome, Millis};

use process::{Identity, Record};
use weir_clock::Clock;

/// How much lower than the server's the CPU priority of job processes is.
const JOB_NICENESS: i32 = 5;

/// How long a stopped job's process group has between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// Longest bookmark accepted from a script, in bytes.
const MAX_BOOKMARK_BYTES: u64 = 4 * 1024 * 1024;

/// How often a re-attached process (not our child) is checked for completion.
const RECOVERED_POLL: Duration = Duration::from_millis(50);

/// The shipped Python helpers (the `awsglue` package: Weir's Glue ETL library and the
/// blueprint library; the standby driver), written to the data directory at start and
/// put on every script's `PYTHONPATH`.
const PYTHON_FILES: &[(&str, &str)] = &[
    ("weir_standby.py", include_str!("../python/weir_standby.py")),
    (
        "awsglue/__init__.py",
        include_str!("../python/awsglue/__init__.py"),
    ),
    (
        "awsglue/utils.py",
        include_str!("../python/awsglue/utils.py"),
    ),
    (
        "awsglue/_util.py",
        include_str!("../python/awsglue/_util.py"),
    ),
    (
        "awsglue/_weir.py",
        include_str!("../python/awsglue/_weir.py"),
    ),
    (
        "awsglue/context.py",
        include_str!("../python/awsglue/context.py"),
    ),
    (
        "awsglue/dynamicframe.py",
        include_str!("../python/awsglue/dynamicframe.py"),
    ),
    (
        "awsglue/gluetypes.py",
        include_str!("../python/awsglue/gluetypes.py"),
    ),
    ("awsglue/job.py", include_str!("../python/awsglue/job.py")),
    (
        "awsglue/transforms.py",
        include_str!("../python/awsglue/transforms.py"),
    ),
    (
        "awsglue/blueprint/__init__.py",
        include_str!("../python/awsglue/blueprint/__init__.py"),
    ),
    (
        "awsglue/blueprint/base_resource.py",
        include_str!("../python/awsglue/blueprint/base_resource.py"),
    ),
    (
        "awsglue/blueprint/workflow.py",
        include_str!("../python/awsglue/blueprint/workflow.py"),
    ),
    (
        "awsglue/blueprint/job.py",
        include_str!("../python/awsglue/blueprint/job.py"),
    ),
    (
        "awsglue/blueprint/crawler.py",
        include_str!("../python/awsglue/blueprint/crawler.py"),
    ),
    (
        "awsglue/blueprint/_driver.py",
        include_str!("../python/awsglue/blueprint/_driver.py"),
    ),
];

/// How jobs are run on this machine.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Root of all run directories and shipped files.
    pub data_dir: PathBuf,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_root>/bucket/key`).
    pub s3_root: PathBuf,
    /// Python interpreter for `pythonshell` jobs (and to create Spark runtimes with).
    pub python: String,
    /// Where Spark runtimes are prepared ([`runtime`]); may be shared by servers.
    pub runtime_dir: PathBuf,
    /// Where and how glueetl jobs run.
    pub spark: spark::SparkSettings,
}

/// The bookmark a run starts from, written into its run directory when it has one.
pub const BOOKMARK_IN: &str = "bookmark-in.json";
/// The bookmark a run's script committed (saved when the run succeeds).
pub const BOOKMARK_OUT: &str = "bookmark-out.json";

/// One attempt to launch.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Job run id; names the run directory.
    pub job_run_id: String,
    /// `Command.Name` of the job.
    pub command: String,
    /// `Command.ScriptLocation` of the job.
    pub script_location: String,
    /// Effective arguments (`--KEY` → value), already merged.
    pub arguments: BTreeMap<String, String>,
    /// Extra environment variables (endpoint, credentials, region).
    pub env: Vec<(String, String)>,
    /// `GlueVersion` of the job (chooses the Spark runtime of glueetl jobs).
    pub glue_version: Option<String>,
    /// The job's bookmark the run starts from (glueetl jobs), if it has one.
    pub bookmark: Option<String>,
}

/// How a launch runs its script.
enum Program {
    /// `python -u script args` (pythonshell).
    Python,
    /// `python -u script args` in a prepared runtime, its `SparkContext` started with
    /// Weir's spark-submit options, or a standby driver of that runtime (glueetl,
    /// gluestreaming).
    Spark(&'static runtime::SparkRuntime, runtime::Prepared),
}

/// What a restarted server finds in a run directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// No recorded start: the script never ran (the launch protocol guarantees it), so
    /// it may be started now.
    NeverStarted,
    /// The script ended with this status while the server was down.
    Exited(i32),
    /// The very process that was started is still running.
    Running(Identity),
    /// It started, left no exit status and is gone (or its pid now names a stranger).
    Lost,
}

/// The per-attempt state the runner keeps while it is responsible for an attempt.
#[derive(Debug, Clone)]
enum Slot {
    /// Reserved for a launch that has not spawned the script yet.
    Launching {
        /// A kill arrived: the script must not be started.
        kill_requested: bool,
    },
    /// The supervisor runs (as our child, or re-attached after a restart).
    Running {
        /// Who it is; its pid is the process group id.
        identity: Identity,
        /// A kill was sent: its end is reported STOPPED.
        killed: bool,
    },
}

/// What [`Runner::kill`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum KillOutcome {
    /// The process group was signalled; the attempt's end will be reported as usual.
    Signalled,
    /// A launch is under way; it will not start the script and reports STOPPED.
    Deferred,
    /// The runner is not responsible for this attempt: nothing was done.
    Unknown,
}

/// Launches and supervises job processes; cheap to clone.
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    config: RunnerConfig,
    clock: Clock,
    /// Every attempt this runner is responsible for, by job run id.
    slots: Mutex<HashMap<String, Slot>>,
    /// Started Spark drivers waiting for a run (`--spark-standby`).
    standbys: standby::Standbys,
}

impl Runner {
    /// Prepares the runner: writes the shipped Python helpers.
    pub fn new(config: RunnerConfig, clock: Clock) -> std::io::Result<Self> {
        let lib = config.data_dir.join("python");
        for (path, text) in PYTHON_FILES {
            let target = lib.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, text)?;
        }
        std::fs::create_dir_all(config.data_dir.join("job-runs"))?;
        standby::Standbys::clear_leftovers(&config.data_dir.join("job-runs"));
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                clock,
                slots: Mutex::new(HashMap::new()),
                standbys: standby::Standbys::default(),
            }),
        })
    }

    /// The local directory standing in for S3 (crawls read their targets there).
    pub fn s3_root(&self) -> &Path {
        &self.inner.config.s3_root
    }

    /// Directory of the shipped Python helpers.
    pub fn python_lib(&self) -> PathBuf {
        self.inner.config.data_dir.join("python")
    }

    /// The run directory of an attempt (holds `stdout`, `stderr`, `pid`, `exit`).
    pub fn run_dir(&self, job_run_id: &str) -> PathBuf {
        self.inner.config.data_dir.join("job-runs").join(job_run_id)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Slot>> {
        // The slot table is consistent after every statement, so a panic elsewhere
        // while it was held leaves nothing half-done: recover the guard.
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes responsibility for launching `job_run_id`. `false` if the runner already
    /// is responsible for it (a repeated start effect): then nothing must be launched.
    pub fn reserve(&self, job_run_id: &str) -> bool {
        let mut slots = self.slots();
        if slots.contains_key(job_run_id) {
            return false;
        }
        slots.insert(
            job_run_id.to_owned(),
            Slot::Launching {
                kill_requested: false,
            },
        );
        true
    }

    /// Gives up a reservation whose launch was decided against (the attempt ended
    /// before it started).
    pub fn release(&self, job_run_id: &str) {
        let mut slots = self.slots();
        if matches!(slots.get(job_run_id), Some(Slot::Launching { .. })) {
            slots.remove(job_run_id);
        }
    }

    /// What the run directory says about an attempt after a restart. `launched_on` is
    /// the boot id of the machine the attempt was launched on, from its durable launch
    /// record (`None` for records of releases that fsynced `pid`, which then proves a
    /// start on its own). Without a complete `pid` the command never ran if the machine
    /// has not restarted since the launch (see [`process`]'s launch protocol); after a
    /// restart of the machine, `pid` may have been lost with the command started, so
    /// the attempt is lost rather than started a second time.
    pub fn inspect(&self, job_run_id: &str, launched_on: Option<&str>) -> Found {
        let dir = self.run_dir(job_run_id);
        if let Some(status) = process::read_exit(&dir) {
            return Found::Exited(status);
        }
        let same_boot = launched_on.is_none_or(|boot| process::boot_id().as_deref() == Some(boot));
        match Record::read(&dir) {
            Record::Absent if same_boot => Found::NeverStarted,
            Record::Identity(identity) if process::abandoned(&dir, identity.pid) => {
                Found::NeverStarted
            }
            Record::Identity(identity) if identity.is_alive() => Found::Running(identity),
            // The exit file may have been renamed in between.
            _ => process::read_exit(&dir).map_or(Found::Lost, Found::Exited),
        }
    }

    /// Stops an attempt: signals its process group if it runs, or makes a launch under
    /// way end STOPPED without starting the script.
    pub fn kill(&self, job_run_id: &str) -> KillOutcome {
        let identity = {
            let mut slots = self.slots();
            match slots.get_mut(job_run_id) {
                Some(Slot::Launching { kill_requested }) => {
                    *kill_requested = true;
                    return KillOutcome::Deferred;
                }
                Some(Slot::Running { identity, killed }) => {
                    *killed = true;
                    identity.clone()
                }
                None => return KillOutcome::Unknown,
            }
        };
        process::signal_group(&identity, libc::SIGTERM);
        tokio::spawn(async move {
            tokio::time::sleep(STOP_GRACE).await;
            // A no-op when the group's leader is gone (checked by identity).
            process::signal_group(&identity, libc::SIGKILL);
        });
        KillOutcome::Signalled
    }

    /// Runs a reserved attempt to its end and reports how it ended. The script starts
    /// only if no kill arrived before the supervisor was released.
    pub async fn run(&self, launch: &Launch) -> JobEnded {
        let id = &launch.job_run_id;
        let ended = self.launch_and_wait(launch).await;
        self.slots().remove(id);
        ended
    }

    async fn launch_and_wait(&self, launch: &Launch) -> JobEnded {
        let id = &launch.job_run_id;
        let script = match locations::resolve(&launch.script_location, self.s3_root()) {
            Ok(path) if path.is_file() => path,
            Ok(path) => {
                return self.ended(
                    JobOutcome::Failed,
                    &format!(
                        "Script {} not found (resolved to {}).",
                        launch.script_location,
                        path.display()
                    ),
                );
            }
            Err(message) => return self.ended(JobOutcome::Failed, &message),
        };
        let program = match launch.command.as_str() {
            "pythonshell" => Program::Python,
            "glueetl" | "gluestreaming" => match self.spark_runtime(launch).await {
                Ok((chosen, prepared)) => Program::Spark(chosen, prepared),
                Err(message) => return self.ended(JobOutcome::Failed, &message),
            },
            other => {
                return self.ended(
                    JobOutcome::Failed,
                    &format!(
                        "Command '{other}' is not supported by this Weir: pythonshell, glueetl \
                         and gluestreaming jobs run here."
                    ),
                );
            }
        };
        let python_paths = match self.python_paths(launch, &program).await {
            Ok(paths) => paths,
            Err(message) => return self.ended(JobOutcome::Failed, &message),
        };
        let dir = self.run_dir(id);
        let spawned = self.spawn(launch, &program, &script, &dir, &python_paths);
        let (pending, handover) = match spawned {
            Ok(spawned) => spawned,
            Err(error) => {
                return self.ended(
                    JobOutcome::Failed,
                    &format!("Could not start the job process: {error}"),
                );
            }
        };
        // Decide under the slot lock: a kill that came first wins and the script never
        // runs; otherwise the slot becomes Running before any kill can look at it.
        let go = {
            let mut slots = self.slots();
            match slots.get(id) {
                Some(Slot::Launching {
                    kill_requested: false,
                }) => {
                    slots.insert(
                        id.clone(),
                        Slot::Running {
                            identity: pending.identity().clone(),
                            killed: false,
                        },
                    );
                    true
                }
                _ => false,
            }
        };
        if !go {
            pending.abandon().await;
            return self.ended(
                JobOutcome::Stopped,
                "Job run was stopped before it started.",
            );
        }
        let pgid = pending.identity().pid;
        let mut child = match pending.release(&dir, &handover) {
            Ok(child) => child,
            // A kill that came between the slot turning Running and the release may
            // have ended the supervisor already: then the pipe is closed.
            Err(_) if self.was_killed(id) => {
                process::signal_child_group(pgid, libc::SIGKILL);
                return self.ended(JobOutcome::Stopped, "Job run was stopped.");
            }
            Err(error) => {
                process::signal_child_group(pgid, libc::SIGKILL);
                return self.ended(
                    JobOutcome::Failed,
                    &format!("Could not start the job process: {error}"),
                );
            }
        };
        let status = child.wait().await;
        if self.was_killed(id) {
            return self.ended(JobOutcome::Stopped, "Job run was stopped.");
        }
        match status {
            Ok(status) => match status.code() {
                Some(code) => self.ended_with_status(id, code),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    let signal = status.signal().unwrap_or_default();
                    self.ended(
                        JobOutcome::Failed,
                        &format!("The job process was killed by signal {signal}."),
                    )
                }
            },
            Err(error) => self.ended(
                JobOutcome::Failed,
                &format!("Could not wait for the job process: {error}"),
            ),
        }
    }

    /// The prepared Spark runtime of a glueetl launch (preparing it on first use), or
    /// why the run cannot start: an unknown Glue version, no Java, a failed install.
    async fn spark_runtime(
        &self,
        launch: &Launch,
    ) -> Result<(&'static runtime::SparkRuntime, runtime::Prepared), String> {
        let chosen = runtime::SparkRuntime::for_glue_version(launch.glue_version.as_deref())?;
        let root = self.inner.config.runtime_dir.clone();
        let python = self.inner.config.python.clone();
        let prepared = tokio::task::spawn_blocking(move || {
            runtime::java()?;
            runtime::prepare(&root, chosen, &python)
        })
        .await
        .map_err(|e| format!("Preparing the Spark runtime failed: {e}"))??;
        Ok((chosen, prepared))
    }

    /// Starts a standby driver for every prepared runtime (with `--spark-standby`).
    pub fn start_standbys(&self) {
        if !self.inner.config.spark.standby {
            return;
        }
        for chosen in runtime::RUNTIMES {
            if let Some(prepared) = runtime::prepared(&self.inner.config.runtime_dir, chosen) {
                self.replenish_standby(chosen, &prepared);
            }
        }
    }

    fn replenish_standby(
        &self,
        chosen: &'static runtime::SparkRuntime,
        prepared: &runtime::Prepared,
    ) {
        let mut env = vec![
            ("PYTHONPATH".to_string(), self.python_lib().into_os_string()),
            ("WEIR_S3_ROOT".to_string(), self.s3_root().into()),
        ];
        env.extend(spark::local_env(&self.inner.config.spark));
        self.inner.standbys.replenish(
            &self.inner.config.data_dir.join("job-runs"),
            chosen,
            prepared,
            &self.python_lib(),
            env,
            &self.inner.config.spark,
        );
    }

    /// The `PYTHONPATH` entries a run adds before Weir's library: its installed
    /// `--additional-python-modules` (installed now unless cached) and its
    /// `--extra-py-files`; or why the run cannot start.
    async fn python_paths(
        &self,
        launch: &Launch,
        program: &Program,
    ) -> Result<Vec<PathBuf>, String> {
        let mut paths = Vec::new();
        if let Some(wanted) = modules::requirements(&launch.arguments, self.s3_root())? {
            let python = match program {
                Program::Python => PathBuf::from(&self.inner.config.python),
                Program::Spark(_, prepared) => prepared.python(),
            };
            let root = self.inner.config.data_dir.join("python-modules");
            let installed =
                tokio::task::spawn_blocking(move || modules::install(&root, &python, &wanted))
                    .await
                    .map_err(|e| format!("Installing --additional-python-modules failed: {e}"))??;
            paths.push(installed);
        }
        paths.extend(modules::extra_py_files(&launch.arguments, self.s3_root())?);
        Ok(paths)
    }

    fn spawn(
        &self,
        launch: &Launch,
        program: &Program,
        script: &Path,
        dir: &Path,
        python_paths: &[PathBuf],
    ) -> std::io::Result<(process::Pending, Vec<u8>)> {
        let mut python_path = std::ffi::OsString::new();
        for path in python_paths {
            python_path.push(path);
            python_path.push(":");
        }
        python_path.push(self.python_lib());
        if let Some(existing) = std::env::var_os("PYTHONPATH") {
            python_path.push(":");
            python_path.push(existing);
        }
        let mut env: Vec<(String, std::ffi::OsString)> = vec![
            ("PYTHONPATH".into(), python_path.clone()),
            ("WEIR_JOB_RUN_ID".into(), launch.job_run_id.clone().into()),
        ];
        env.extend(launch.env.iter().map(|(k, v)| (k.clone(), v.into())));
        // Jobs run at a lower CPU priority than the server: a busy job never delays
        // the orchestration of the others.
        match program {
            Program::Python => {
                let pending =
                    process::spawn(dir, JOB_NICENESS, &self.inner.config.python, |command| {
                        command.arg("-u").arg(script);
                        for (key, value) in &launch.arguments {
                            command.arg(key).arg(value);
                        }
                        command.envs(env);
                    })?;
                Ok((pending, process::GO.to_vec()))
            }
            Program::Spark(chosen, prepared) => {
                let job_name = launch
                    .arguments
                    .get("--JOB_NAME")
                    .map_or(launch.job_run_id.as_str(), String::as_str);
                let mut submit = spark::submit(
                    &self.inner.config.spark,
                    self.s3_root(),
                    job_name,
                    &launch.arguments,
                )
                .map_err(std::io::Error::other)?;
                submit
                    .executor_python_path(&self.inner.config.spark, &python_path.to_string_lossy());
                env.extend([
                    ("WEIR_BOOKMARK_IN".into(), dir.join(BOOKMARK_IN).into()),
                    ("WEIR_BOOKMARK_OUT".into(), dir.join(BOOKMARK_OUT).into()),
                ]);
                let standby = self.inner.config.spark.standby;
                let claimed = if standby && spark::standby_can_run(&launch.arguments) {
                    standby::handover(script, &submit, &env, python_paths, self.s3_root())
                        .and_then(|line| self.inner.standbys.claim(chosen, dir, line))
                } else {
                    None
                };
                if standby {
                    self.replenish_standby(chosen, prepared);
                }
                if let Some(bookmark) = &launch.bookmark {
                    std::fs::create_dir_all(dir)?;
                    std::fs::write(dir.join(BOOKMARK_IN), bookmark)?;
                }
                if let Some(claimed) = claimed {
                    return Ok(claimed);
                }
                let python = prepared.python().into_os_string();
                env.extend([
                    (
                        "PYSPARK_SUBMIT_ARGS".into(),
                        submit.pyspark_submit_args().into(),
                    ),
                    ("PYSPARK_PYTHON".into(), python.clone()),
                    ("PYSPARK_DRIVER_PYTHON".into(), python.clone()),
                    ("WEIR_S3_ROOT".into(), self.s3_root().into()),
                ]);
                env.extend(spark::local_env(&self.inner.config.spark));
                let pending =
                    process::spawn(dir, JOB_NICENESS, &python.to_string_lossy(), |command| {
                        command
                            .arg("-u")
                            .arg(script)
                            .args(&submit.script_arguments)
                            .envs(env);
                    })?;
                Ok((pending, process::GO.to_vec()))
            }
        }
    }

    /// The bookmark the script of a finished run committed, if it wrote one that is
    /// a JSON object of acceptable size.
    pub fn committed_bookmark(&self, job_run_id: &str) -> Option<String> {
        let path = self.run_dir(job_run_id).join(BOOKMARK_OUT);
        let metadata = std::fs::metadata(&path).ok()?;
        if metadata.len() > MAX_BOOKMARK_BYTES {
            tracing::warn!(
                job_run_id,
                bytes = metadata.len(),
                "a committed bookmark is too large; not saved"
            );
            return None;
        }
        let text = std::fs::read_to_string(&path).ok()?;
        let is_object = text.trim_start().starts_with('{') && text.trim_end().ends_with('}');
        is_object.then_some(text)
    }

    /// Takes responsibility for a process found running after a restart: from now on
    /// a kill signals it. Follow with [`Runner::wait_adopted`].
    pub fn adopt(&self, job_run_id: &str, identity: Identity) {
        self.slots().insert(
            job_run_id.to_owned(),
            Slot::Running {
                identity,
                killed: false,
            },
        );
    }

    /// Waits for the end of an adopted process (it is not our child: its run directory
    /// and identity are polled) and reports how it ended.
    pub async fn wait_adopted(&self, job_run_id: &str, identity: Identity) -> JobEnded {
        let dir = self.run_dir(job_run_id);
        let ended = loop {
            if let Some(status) = process::read_exit(&dir) {
                break if self.was_killed(job_run_id) {
                    self.ended(JobOutcome::Stopped, "Job run was stopped.")
                } else {
                    self.ended_with_status(job_run_id, status)
                };
            }
            if !identity.is_alive() {
                if let Some(status) = process::read_exit(&dir) {
                    break self.ended_with_status(job_run_id, status);
                }
                break if self.was_killed(job_run_id) {
                    self.ended(JobOutcome::Stopped, "Job run was stopped.")
                } else if process::abandoned(&dir, identity.pid) {
                    self.ended(
                        JobOutcome::Failed,
                        "Weir stopped while it was launching the job process; it never ran.",
                    )
                } else {
                    self.ended(
                        JobOutcome::Failed,
                        "The job process ended without leaving an exit status.",
                    )
                };
            }
            tokio::time::sleep(RECOVERED_POLL).await;
        };
        self.slots().remove(job_run_id);
        ended
    }

    /// How an attempt found [`Found::Exited`] or [`Found::Lost`] after a restart ended.
    pub fn settled_while_down(&self, job_run_id: &str, found: &Found) -> Option<JobEnded> {
        match found {
            Found::Exited(status) => Some(self.ended_with_status(job_run_id, *status)),
            Found::Lost => Some(self.ended(
                JobOutcome::Failed,
                "The job process ended while Weir was not running and left no exit status.",
            )),
            Found::NeverStarted | Found::Running(_) => None,
        }
    }

    fn was_killed(&self, job_run_id: &str) -> bool {
        matches!(
            self.slots().get(job_run_id),
            Some(Slot::Running { killed: true, .. })
        )
    }

    fn ended_with_status(&self, job_run_id: &str, status: i32) -> JobEnded {
        if status == 0 {
            return JobEnded {
                outcome: JobOutcome::Succeeded,
                error_message: None,
                ended_at: self.inner.clock.now_millis(),
            };
        }
        let stderr = std::fs::read_to_string(self.run_dir(job_run_id).join("stderr"));
        let tail = stderr.ok().as_deref().and_then(error_line);
        let message = match tail {
            Some(line) => format!("Command failed with exit code {status}: {line}"),
            None => format!("Command failed with exit code {status}"),
        };
        self.ended(JobOutcome::Failed, &message)
    }

    fn ended(&self, outcome: JobOutcome, message: &str) -> JobEnded {
        JobEnded {
            outcome,
            error_message: Some(message.to_string()),
            ended_at: self.inner.clock.now_millis() as Millis,
        }
    }
}

/// The message of a failed script from its stderr: the exception line of the last
/// Python traceback (Spark logs more lines after it while shutting down), else the
/// last non-empty line.
fn error_line(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().collect();
    let from_traceback = lines
        .iter()
        .rposition(|l| l.starts_with("Traceback (most recent call last):"))
        .and_then(|start| {
            let at = lines[start + 1..]
                .iter()
                .position(|l| !l.is_empty() && !l.starts_with([' ', '\t']))?;
            Some(start + 1 + at)
        });
    let Some(at) = from_traceback else {
        let last = lines.iter().rev().find(|l| !l.trim().is_empty())?;
        return Some(last.chars().take(1000).collect());
    };
    let mut message = lines[at].to_string();
    // py4j's line only names the JVM call; the Java exception is on the next line.
    if message.starts_with("py4j.protocol.Py4JJavaError")
        && let Some(java) = lines.get(at + 1)
    {
        message.push(' ');
        message.push_str(java.trim_start_matches(':').trim());
    }
    Some(message.chars().take(1000).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runner over a temporary data directory (kept alive by the first element), the
    /// run directory of attempt `jr_1` in it, created, and this machine's boot id.
    fn runner_with_run_dir() -> (tempfile::TempDir, Runner, PathBuf, String) {
        let data = tempfile::tempdir().expect("tempdir");
        let config = RunnerConfig {
            data_dir: data.path().to_path_buf(),
            s3_root: data.path().join("s3"),
            python: "python3".into(),
            runtime_dir: data.path().join("runtimes"),
            spark: spark::SparkSettings::default(),
        };
        let runner = Runner::new(config, Clock::manual(0)).expect("runner");
        let dir = runner.run_dir("jr_1");
        std::fs::create_dir_all(&dir).expect("run dir");
        let this_boot = process::boot_id().expect("boot id");
        (data, runner, dir, this_boot)
    }

    #[test]
    fn a_missing_or_cut_record_means_never_started_only_in_the_boot_of_the_launch() {
        let (_data, runner, dir, this_boot) = runner_with_run_dir();
        let cut = format!("{} 17 {this_boot}", std::process::id());
        for pid_file in [None, Some(""), Some(cut.as_str())] {
            if let Some(text) = pid_file {
                std::fs::write(dir.join(process::PID_FILE), text).expect("pid");
            }
            assert_eq!(
                runner.inspect("jr_1", Some(&this_boot)),
                Found::NeverStarted,
                "same boot, pid {pid_file:?}: go was never written"
            );
            assert_eq!(
                runner.inspect("jr_1", None),
                Found::NeverStarted,
                "a record of a release that fsynced pid, pid {pid_file:?}"
            );
            assert_eq!(
                runner.inspect("jr_1", Some("an-earlier-boot")),
                Found::Lost,
                "launched before the machine restarted, pid {pid_file:?}: it may have run"
            );
        }
        std::fs::write(dir.join(process::EXIT_FILE), "0\n").expect("exit");
        assert_eq!(
            runner.inspect("jr_1", Some("an-earlier-boot")),
            Found::Exited(0)
        );
    }

    #[test]
    fn a_complete_record_of_a_gone_process_is_lost_and_an_abandoned_one_never_started() {
        let (_data, runner, dir, this_boot) = runner_with_run_dir();
        // Our own pid with another start time: a process that is gone.
        let gone = format!("{} 1 {this_boot}\n", std::process::id());
        std::fs::write(dir.join(process::PID_FILE), gone).expect("pid");
        assert_eq!(runner.inspect("jr_1", Some(&this_boot)), Found::Lost);
        std::fs::write(dir.join(format!("abandoned.{}", std::process::id())), "")
            .expect("abandoned");
        assert_eq!(
            runner.inspect("jr_1", Some("an-earlier-boot")),
            Found::NeverStarted
        );
        std::fs::write(dir.join(process::PID_FILE), "4242\n").expect("bare pid");
        assert_eq!(
            runner.inspect("jr_1", None),
            Found::Lost,
            "cannot be verified"
        );
    }

    #[test]
    fn the_error_is_the_exception_line_not_the_shutdown_log() {
        let stderr = "Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    \
                      raise ValueError('bad row')\nValueError: bad row\n\
                      26/12/07 10:00:00 INFO ShutdownHookManager: Shutdown hook called\n";
        assert_eq!(error_line(stderr).as_deref(), Some("ValueError: bad row"));
        assert_eq!(error_line("just this\n\n").as_deref(), Some("just this"));
        let py4j = "Traceback (most recent call last):\n  File \"x.py\", line 1\n\
                    py4j.protocol.Py4JJavaError: An error occurred while calling o43.text.\n\
                    : java.io.IOException: no such bucket\n\tat org.Foo.bar(Foo.java:1)\n";
        assert_eq!(
            error_line(py4j).as_deref(),
            Some(
                "py4j.protocol.Py4JJavaError: An error occurred while calling o43.text. java.io.IOException: no such bucket"
            )
        );
        assert_eq!(error_line(""), None);
    }
}
