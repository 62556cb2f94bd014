//! Standby Spark drivers (`--spark-standby`): for each runtime in use, one driver
//! started ahead of time (Python, the JVM, a SparkContext and a warm-up query; see
//! `python/weir_standby.py`) waits in `<data>/job-runs/.standby-<spark>-<n>/` for the
//! next run it can take, so that run skips Spark's start-up.
//!
//! **Handing over.** The standby directory is renamed to the run's directory (the
//! process's open `stdout`/`stderr` and working directory move with it), the
//! supervisor's identity is recorded there, and only then is the job written to the
//! standby's pipe: the launch protocol of [`crate::process`], with the job as its `go`.
//! A replacement starts at once. Each standby runs exactly one job and ends with it,
//! so runs share nothing but the files they read.
//!
//! **Which runs.** A run whose job sets Spark settings or jars (`--conf`,
//! `--extra-jars`) needs a driver started with them and gets a new one, as does a run
//! that finds its standby still warming up. If Weir stops, each standby reads end of
//! file on its pipe and exits without running anything; leftover directories are
//! removed at the next start.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::process::{self, Pending};
use crate::runtime::{Prepared, SparkRuntime};
use crate::{JOB_NICENESS, spark};

/// Prefix of standby directories under `job-runs`.
const STANDBY_PREFIX: &str = ".standby-";
/// The file a standby writes once it is warm.
const READY_FILE: &str = "ready";

/// One waiting driver.
struct Standby {
    dir: PathBuf,
    pending: Pending,
}

/// The standby drivers of a runner, one per runtime at most.
#[derive(Default)]
pub(crate) struct Standbys {
    waiting: std::sync::Mutex<HashMap<&'static str, Standby>>,
    started: AtomicU64,
}

/// What a standby is told to run: the job, one JSON line.
#[derive(serde::Serialize)]
struct Handover<'a> {
    script: &'a Path,
    argv: &'a [String],
    env: BTreeMap<&'a str, String>,
    mounts: BTreeMap<String, String>,
    py_files: Vec<String>,
}

impl Standbys {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Standby>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Removes the directories of standbys a previous server left (they exit on their
    /// own once they find their pipe closed).
    pub(crate) fn clear_leftovers(runs_dir: &Path) {
        let Ok(entries) = std::fs::read_dir(runs_dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STANDBY_PREFIX)
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Starts a standby for `runtime` unless one is waiting or warming up.
    pub(crate) fn replenish(
        &self,
        runs_dir: &Path,
        runtime: &'static SparkRuntime,
        prepared: &Prepared,
        python_lib: &Path,
        env: Vec<(String, std::ffi::OsString)>,
        settings: &spark::SparkSettings,
    ) {
        let mut waiting = self.waiting();
        if waiting.contains_key(runtime.spark) {
            return;
        }
        let n = self.started.fetch_add(1, Ordering::Relaxed);
        let dir = runs_dir.join(format!(
            "{STANDBY_PREFIX}{}-{}-{n}",
            runtime.spark,
            std::process::id()
        ));
        let submit = spark::standby_submit(settings);
        let python = prepared.python().into_os_string();
        let spawned =
            process::spawn_standby(&dir, JOB_NICENESS, &python.to_string_lossy(), |command| {
                command
                    .arg("-u")
                    .arg(python_lib.join("weir_standby.py"))
                    .envs(env)
                    .env("PYSPARK_SUBMIT_ARGS", submit.pyspark_submit_args())
                    .env("PYSPARK_PYTHON", &python)
                    .env("PYSPARK_DRIVER_PYTHON", &python);
            });
        match spawned {
            Ok(pending) => {
                tracing::info!(runtime = runtime.spark, dir = %dir.display(), "a standby Spark driver is starting");
                waiting.insert(runtime.spark, Standby { dir, pending });
            }
            Err(error) => tracing::warn!(%error, "cannot start a standby Spark driver"),
        }
    }

    /// Takes the warm standby of `runtime`, moved to `run_dir`, with `handover` (see
    /// [`handover`]) as its go; `None` when there is none ready (the caller starts a
    /// driver).
    pub(crate) fn claim(
        &self,
        runtime: &'static SparkRuntime,
        run_dir: &Path,
        handover: Vec<u8>,
    ) -> Option<(Pending, Vec<u8>)> {
        let standby = {
            let mut waiting = self.waiting();
            let standby = waiting.get(runtime.spark)?;
            if !standby.dir.join(READY_FILE).exists() {
                return None;
            }
            waiting.remove(runtime.spark)?
        };
        if !standby.pending.identity().is_alive() || run_dir.exists() {
            // Dead while waiting, or the run already has a directory (a launch retried
            // after a restart): this standby cannot be used; it is let go.
            drop(standby.pending);
            return None;
        }
        if let Err(error) = std::fs::rename(&standby.dir, run_dir) {
            tracing::warn!(%error, "cannot hand a standby Spark driver its run directory");
            return None;
        }
        Some((standby.pending, handover))
    }
}

/// The line that hands a standby its job: the script, its arguments, its environment,
/// the buckets to mount and the paths to put first on `sys.path`.
pub(crate) fn handover(
    script: &Path,
    submit: &spark::Submit,
    env: &[(String, std::ffi::OsString)],
    python_paths: &[PathBuf],
    s3_root: &Path,
) -> Option<Vec<u8>> {
    let handover = Handover {
        script,
        argv: &submit.script_arguments,
        env: env
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_string_lossy().into_owned()))
            .collect(),
        mounts: spark::mounts(s3_root).into_iter().collect(),
        py_files: python_paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    let mut line = serde_json::to_vec(&handover).ok()?;
    line.push(b'\n');
    Some(line)
}
