//! Job processes: launch, supervise, kill, and account for them across restarts.
//!
//! Each attempt gets a run directory `<data>/job-runs/<job run id>/`. The process is
//! started through a tiny `sh` supervisor in its own process group; the supervisor
//! writes `pid` before starting the script and `exit` (atomically, by rename) after
//! it ends, so a restarted server can tell an attempt that never started (no `pid`)
//! from one that finished while it was down (`exit`) or is still running (live pid).
//!
//! **Cancellation contract:** [`Runner::run`] may be dropped at any time without
//! killing the process (it keeps running and is recovered later); only
//! [`Runner::kill`] stops a process, always its whole process group.

pub mod locations;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use weir_engine::{JobEnded, JobOutcome, Millis};

use crate::resources::clock;

/// The `sh` supervisor: `$0` is the run directory, the rest the command to run.
const SUPERVISOR: &str = r#"echo $$ > "$0/pid.tmp" && mv "$0/pid.tmp" "$0/pid"
"$@"
status=$?
echo $status > "$0/exit.tmp" && mv "$0/exit.tmp" "$0/exit"
exit $status"#;

/// How much lower than the server's the CPU priority of job processes is.
const JOB_NICENESS: &str = "5";

/// Marker written just before a spawn; see [`Runner::recover_settled`].
const LAUNCHING: &str = "launching";

/// How long a started supervisor may take to write its `pid` file.
const LAUNCH_GRACE: Duration = Duration::from_secs(2);

/// How often a recovered (not our child) process is checked for completion.
const RECOVERED_POLL: Duration = Duration::from_millis(50);

/// The shipped Python helpers (the `awsglue` package subset), written to the data
/// directory at start and put on every script's `PYTHONPATH`.
const PYTHON_FILES: &[(&str, &str)] = &[
    (
        "awsglue/__init__.py",
        include_str!("../../python/awsglue/__init__.py"),
    ),
    (
        "awsglue/utils.py",
        include_str!("../../python/awsglue/utils.py"),
    ),
    (
        "awsglue/blueprint/__init__.py",
        include_str!("../../python/awsglue/blueprint/__init__.py"),
    ),
    (
        "awsglue/blueprint/base_resource.py",
        include_str!("../../python/awsglue/blueprint/base_resource.py"),
    ),
    (
        "awsglue/blueprint/workflow.py",
        include_str!("../../python/awsglue/blueprint/workflow.py"),
    ),
    (
        "awsglue/blueprint/job.py",
        include_str!("../../python/awsglue/blueprint/job.py"),
    ),
    (
        "awsglue/blueprint/crawler.py",
        include_str!("../../python/awsglue/blueprint/crawler.py"),
    ),
    (
        "awsglue/blueprint/_driver.py",
        include_str!("../../python/awsglue/blueprint/_driver.py"),
    ),
];

/// How jobs are run on this machine.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Root of all run directories and shipped files.
    pub data_dir: PathBuf,
    /// Local directory standing in for S3 (`s3://bucket/key` → `<s3_root>/bucket/key`).
    pub s3_root: PathBuf,
    /// Python interpreter for `pythonshell` jobs.
    pub python: String,
}

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
}

/// What a restarted server finds in a run directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Recovered {
    /// The process was never started: start it now.
    NeverStarted,
    /// The process ended with this status while the server was down.
    Exited(i32),
    /// The process is still running with this pid (its process group id).
    Running(i32),
    /// The process started but left no exit status and is gone.
    Lost,
}

/// Launches and supervises job processes.
pub struct Runner {
    config: RunnerConfig,
    /// Live processes by job run id: process group id and whether a kill was sent.
    live: Mutex<HashMap<String, LiveProcess>>,
    /// Kills that arrived before the process was known (not yet spawned or not yet
    /// re-attached after a restart); [`Runner::run`] honours them instead of starting.
    early_kills: Mutex<HashSet<String>>,
}

#[derive(Debug, Clone, Copy)]
struct LiveProcess {
    pgid: i32,
    killed: bool,
}

impl Runner {
    /// Prepares the runner: writes the shipped Python helpers.
    pub fn new(config: RunnerConfig) -> std::io::Result<Self> {
        let lib = config.data_dir.join("python");
        for (path, text) in PYTHON_FILES {
            let target = lib.join(path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(target, text)?;
        }
        std::fs::create_dir_all(config.data_dir.join("job-runs"))?;
        Ok(Self {
            config,
            live: Mutex::new(HashMap::new()),
            early_kills: Mutex::new(HashSet::new()),
        })
    }

    /// The local directory standing in for S3 (crawls read their targets there).
    pub fn s3_root(&self) -> &Path {
        &self.config.s3_root
    }

    /// Directory of the shipped Python helpers.
    pub fn python_lib(&self) -> PathBuf {
        self.config.data_dir.join("python")
    }

    /// The run directory of an attempt (holds `stdout`, `stderr`, `pid`, `exit`).
    pub fn run_dir(&self, job_run_id: &str) -> PathBuf {
        self.config.data_dir.join("job-runs").join(job_run_id)
    }

    /// What the run directory says about an attempt after a restart.
    pub fn recover(&self, job_run_id: &str) -> Recovered {
        let dir = self.run_dir(job_run_id);
        if let Some(status) = read_int(&dir.join("exit")) {
            return Recovered::Exited(status);
        }
        match read_int(&dir.join("pid")) {
            None => Recovered::NeverStarted,
            Some(pid) if process_alive(pid) => Recovered::Running(pid),
            Some(_) => {
                // The exit file may have been renamed in between.
                read_int(&dir.join("exit")).map_or(Recovered::Lost, Recovered::Exited)
            }
        }
    }

    /// Runs an attempt to its end and reports how it ended. Idempotent by job run id:
    /// an attempt whose directory shows it already started is re-attached, not
    /// started again.
    pub async fn run(&self, launch: &Launch) -> JobEnded {
        let killed_early = self
            .early_kills
            .lock()
            .is_ok_and(|mut kills| kills.remove(&launch.job_run_id));
        if killed_early {
            if let Recovered::Running(pid) = self.recover(&launch.job_run_id) {
                kill_group(pid);
            }
            return ended(JobOutcome::Stopped, "Job run was stopped.");
        }
        match self.recover_settled(&launch.job_run_id).await {
            Recovered::NeverStarted => self.spawn_and_wait(launch).await,
            Recovered::Exited(status) => self.ended_with_status(&launch.job_run_id, status),
            Recovered::Running(pid) => self.wait_recovered(&launch.job_run_id, pid).await,
            Recovered::Lost => ended(
                JobOutcome::Failed,
                "The job process ended while Weir was not running and left no exit status.",
            ),
        }
    }

    /// Like [`Runner::recover`], but when a spawn was begun (`launching` marker) and no
    /// `pid` is there yet, waits briefly for the supervisor's first act before
    /// concluding the process never started — so a crash between spawn and `pid`
    /// cannot lead to a second launch.
    async fn recover_settled(&self, job_run_id: &str) -> Recovered {
        let dir = self.run_dir(job_run_id);
        let mut waited = Duration::ZERO;
        loop {
            let found = self.recover(job_run_id);
            if found != Recovered::NeverStarted
                || !dir.join(LAUNCHING).exists()
                || waited >= LAUNCH_GRACE
            {
                return found;
            }
            tokio::time::sleep(RECOVERED_POLL).await;
            waited += RECOVERED_POLL;
        }
    }

    /// Kills the attempt's whole process group. A kill for a process not known yet
    /// (not spawned, or not re-attached after a restart) is remembered and honoured by
    /// [`Runner::run`], which then reports the attempt STOPPED.
    pub fn kill(&self, job_run_id: &str) {
        let pgid = {
            let Ok(mut live) = self.live.lock() else {
                return;
            };
            match live.get_mut(job_run_id) {
                Some(process) => {
                    process.killed = true;
                    process.pgid
                }
                None => {
                    if let Ok(mut kills) = self.early_kills.lock() {
                        kills.insert(job_run_id.to_string());
                    }
                    return;
                }
            }
        };
        kill_group(pgid);
    }

    async fn spawn_and_wait(&self, launch: &Launch) -> JobEnded {
        if launch.command != "pythonshell" {
            return ended(
                JobOutcome::Failed,
                &format!(
                    "Command '{}' is not supported by this Weir: only pythonshell jobs run locally.",
                    launch.command
                ),
            );
        }
        let script = match locations::resolve(&launch.script_location, &self.config.s3_root) {
            Ok(path) => path,
            Err(message) => return ended(JobOutcome::Failed, &message),
        };
        if !script.is_file() {
            return ended(
                JobOutcome::Failed,
                &format!(
                    "Script {} not found (resolved to {}).",
                    launch.script_location,
                    script.display()
                ),
            );
        }
        let dir = self.run_dir(&launch.job_run_id);
        let child = match self.spawn(launch, &script, &dir) {
            Ok(child) => child,
            Err(error) => {
                return ended(
                    JobOutcome::Failed,
                    &format!("Could not start the job process: {error}"),
                );
            }
        };
        self.supervise_child(&launch.job_run_id, child).await
    }

    fn spawn(
        &self,
        launch: &Launch,
        script: &Path,
        dir: &Path,
    ) -> std::io::Result<tokio::process::Child> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(LAUNCHING), b"")?;
        let stdout = std::fs::File::create(dir.join("stdout"))?;
        let stderr = std::fs::File::create(dir.join("stderr"))?;
        // Jobs run at a lower CPU priority than the server (`nice` execs `sh`, so the
        // process group id is still the supervisor's pid): a busy job never delays the
        // orchestration of the others.
        let mut command = tokio::process::Command::new("nice");
        command
            .args(["-n", JOB_NICENESS, "sh"])
            .arg("-c")
            .arg(SUPERVISOR)
            .arg(dir)
            .arg(&self.config.python)
            .arg("-u")
            .arg(script);
        for (key, value) in &launch.arguments {
            command.arg(key).arg(value);
        }
        let mut python_path = self.python_lib().into_os_string();
        if let Some(existing) = std::env::var_os("PYTHONPATH") {
            python_path.push(":");
            python_path.push(existing);
        }
        command
            .env("PYTHONPATH", python_path)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .process_group(0)
            .kill_on_drop(false);
        command.spawn()
    }

    async fn supervise_child(
        &self,
        job_run_id: &str,
        mut child: tokio::process::Child,
    ) -> JobEnded {
        let pgid = child.id().map_or(0, |id| id as i32);
        if let Ok(mut live) = self.live.lock() {
            live.insert(
                job_run_id.to_string(),
                LiveProcess {
                    pgid,
                    killed: false,
                },
            );
        }
        let status = child.wait().await;
        let killed = self.forget(job_run_id);
        if killed {
            return ended(JobOutcome::Stopped, "Job run was stopped.");
        }
        match status {
            Ok(status) => match status.code() {
                Some(code) => self.ended_with_status(job_run_id, code),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    let signal = status.signal().unwrap_or_default();
                    ended(
                        JobOutcome::Failed,
                        &format!("The job process was killed by signal {signal}."),
                    )
                }
            },
            Err(error) => ended(
                JobOutcome::Failed,
                &format!("Could not wait for the job process: {error}"),
            ),
        }
    }

    async fn wait_recovered(&self, job_run_id: &str, pid: i32) -> JobEnded {
        if let Ok(mut live) = self.live.lock() {
            live.insert(
                job_run_id.to_string(),
                LiveProcess {
                    pgid: pid,
                    killed: false,
                },
            );
        }
        let dir = self.run_dir(job_run_id);
        loop {
            if let Some(status) = read_int(&dir.join("exit")) {
                let killed = self.forget(job_run_id);
                if killed {
                    return ended(JobOutcome::Stopped, "Job run was stopped.");
                }
                return self.ended_with_status(job_run_id, status);
            }
            if !process_alive(pid) {
                let killed = self.forget(job_run_id);
                if let Some(status) = read_int(&dir.join("exit")) {
                    return self.ended_with_status(job_run_id, status);
                }
                if killed {
                    return ended(JobOutcome::Stopped, "Job run was stopped.");
                }
                return ended(
                    JobOutcome::Failed,
                    "The job process ended without leaving an exit status.",
                );
            }
            tokio::time::sleep(RECOVERED_POLL).await;
        }
    }

    /// Removes a process from the live table; `true` if it had been killed on request.
    fn forget(&self, job_run_id: &str) -> bool {
        self.live
            .lock()
            .ok()
            .and_then(|mut live| live.remove(job_run_id))
            .is_some_and(|p| p.killed)
    }

    fn ended_with_status(&self, job_run_id: &str, status: i32) -> JobEnded {
        if status == 0 {
            return JobEnded {
                outcome: JobOutcome::Succeeded,
                error_message: None,
                ended_at: clock::now_millis(),
            };
        }
        let tail = last_line(&self.run_dir(job_run_id).join("stderr"));
        let message = match tail {
            Some(line) => format!("Command failed with exit code {status}: {line}"),
            None => format!("Command failed with exit code {status}"),
        };
        ended(JobOutcome::Failed, &message)
    }
}

fn ended(outcome: JobOutcome, message: &str) -> JobEnded {
    JobEnded {
        outcome,
        error_message: Some(message.to_string()),
        ended_at: clock::now_millis() as Millis,
    }
}

fn read_int(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The last non-empty line of a log file (the exception line of a traceback).
fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    Some(line.chars().take(1000).collect())
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

fn kill_group(pgid: i32) {
    if pgid > 0 {
        // SAFETY: sends SIGKILL to a process group we started; no memory is involved.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}
