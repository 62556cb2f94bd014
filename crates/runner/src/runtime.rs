//! Spark runtimes: which PySpark a Glue version runs on, and preparing it once per
//! machine as a Python virtual environment under the runtime directory.
//!
//! A runtime directory `<runtime dir>/spark-<version>/` is a virtual environment with
//! PySpark (which carries Spark's jars and `spark-submit`) and boto3. It is usable
//! only once its marker file [`READY_FILE`] exists, written last; a directory without
//! it is the remains of an interrupted install and is installed again. Installs take a
//! file lock, so several Weir processes sharing the directory install each runtime
//! once. `weir runtime install` prepares them ahead of time; otherwise the first
//! glueetl run that needs one does, and its progress goes to the server log and to
//! `<runtime dir>/spark-<version>.install.log`.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A Spark runtime Weir can prepare.
#[derive(Debug, PartialEq, Eq)]
pub struct SparkRuntime {
    /// The PySpark (and Spark) version.
    pub spark: &'static str,
    /// The Glue versions that run on it.
    pub glue_versions: &'static [&'static str],
}

/// Every runtime, oldest Spark first.
pub const RUNTIMES: &[SparkRuntime] = &[
    SparkRuntime {
        spark: "3.5.9",
        glue_versions: &["5.0", "5.1"],
    },
    SparkRuntime {
        spark: "4.1.4",
        glue_versions: &["6.0"],
    },
];

/// The Glue version of a glueetl job that names none (AWS's default for new jobs).
pub const DEFAULT_GLUE_VERSION: &str = "5.0";

/// The boto3 every runtime carries (job scripts and the Glue ETL library use it).
pub const BOTO3: &str = "boto3==1.44.8";

/// The file whose presence makes a runtime directory usable.
pub const READY_FILE: &str = ".weir-ready";

/// Shortest Java major version Spark runs on here.
pub const MIN_JAVA: u32 = 17;

impl SparkRuntime {
    /// The runtime of a job's `GlueVersion`, or why none runs it.
    pub fn for_glue_version(version: Option<&str>) -> Result<&'static SparkRuntime, String> {
        let version = version.unwrap_or(DEFAULT_GLUE_VERSION);
        RUNTIMES
            .iter()
            .find(|r| r.glue_versions.contains(&version))
            .ok_or_else(|| {
                let known: Vec<String> = RUNTIMES
                    .iter()
                    .map(|r| format!("{} (Spark {})", r.glue_versions.join(", "), r.spark))
                    .collect();
                format!(
                    "GlueVersion {version} is not supported by this Weir for Spark jobs; \
                     supported: {}.",
                    known.join("; ")
                )
            })
    }

    /// The directory name of this runtime.
    pub fn dir_name(&self) -> String {
        format!("spark-{}", self.spark)
    }

    /// What pip installs for it.
    fn requirements(&self) -> [String; 2] {
        [format!("pyspark=={}", self.spark), BOTO3.to_string()]
    }
}

/// A prepared runtime: where its programs are.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The virtual environment.
    pub dir: PathBuf,
}

impl Prepared {
    /// Its Python interpreter (driver and workers).
    pub fn python(&self) -> PathBuf {
        self.dir.join("bin").join("python")
    }
}

/// The runtime `runtime` under `root`, if it is prepared.
pub fn prepared(root: &Path, runtime: &SparkRuntime) -> Option<Prepared> {
    let dir = root.join(runtime.dir_name());
    let marker = std::fs::read_to_string(dir.join(READY_FILE)).ok()?;
    (marker.trim() == runtime.requirements().join(" ")).then_some(Prepared { dir })
}

/// Prepares `runtime` under `root` with the interpreter `python` unless it is ready:
/// creates the virtual environment and installs PySpark and boto3 into it. Blocking
/// (minutes on first use); call from a blocking thread. The error says what failed,
/// with pip's last lines.
pub fn prepare(root: &Path, runtime: &SparkRuntime, python: &str) -> Result<Prepared, String> {
    if let Some(ready) = prepared(root, runtime) {
        return Ok(ready);
    }
    std::fs::create_dir_all(root).map_err(|e| {
        format!(
            "Cannot create the runtime directory {}: {e}",
            root.display()
        )
    })?;
    let lock_path = root.join(format!("{}.lock", runtime.dir_name()));
    let _lock = FileLock::acquire(&lock_path)
        .map_err(|e| format!("Cannot lock {}: {e}", lock_path.display()))?;
    // Another process may have installed it while this one waited for the lock.
    if let Some(ready) = prepared(root, runtime) {
        return Ok(ready);
    }
    let dir = root.join(runtime.dir_name());
    let log_path = root.join(format!("{}.install.log", runtime.dir_name()));
    tracing::info!(runtime = %runtime.dir_name(), dir = %dir.display(), log = %log_path.display(),
        "preparing the Spark runtime (first use): python -m venv, pip install pyspark");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| format!("Cannot remove the partial runtime {}: {e}", dir.display()))?;
    }
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("Cannot create {}: {e}", log_path.display()))?;
    let venv = run_logged(
        std::process::Command::new(python)
            .arg("-m")
            .arg("venv")
            .arg(&dir),
        &log,
    );
    if let Err(error) = venv {
        return Err(format!(
            "Cannot create a Python virtual environment with {python} for Spark {}: {error} \
             (on Debian: apt-get install python3-venv). {}",
            runtime.spark,
            tail(&log_path)
        ));
    }
    let ready = Prepared { dir: dir.clone() };
    let install = run_logged(
        std::process::Command::new(ready.python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
            ])
            .args(runtime.requirements()),
        &log,
    );
    if let Err(error) = install {
        return Err(format!(
            "Installing PySpark {} failed ({error}); pip said: {}",
            runtime.spark,
            tail(&log_path)
        ));
    }
    std::fs::write(dir.join(READY_FILE), runtime.requirements().join(" "))
        .map_err(|e| format!("Cannot mark the runtime ready: {e}"))?;
    tracing::info!(runtime = %runtime.dir_name(), "the Spark runtime is ready");
    Ok(ready)
}

/// Runs `command` with its output appended to `log`; an error unless it exits 0.
fn run_logged(command: &mut std::process::Command, log: &std::fs::File) -> Result<(), String> {
    let out = log.try_clone().map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let status = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .status()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{:?} exited with {status}", command.get_program()))
    }
}

/// The last lines of a log file, joined (for an error message).
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(3);
    lines[start..].join(" | ")
}

/// An exclusive `flock` on a file, released when dropped (or when the process dies).
pub(crate) struct FileLock {
    file: std::fs::File,
}

impl FileLock {
    /// Waits for the lock on `path` (created if missing).
    pub(crate) fn acquire(path: &Path) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a descriptor this struct owns; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Self { file })
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: as above.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// The Java that runs Spark: `$JAVA_HOME/bin/java`, else `java` on the PATH, if its
/// major version is at least [`MIN_JAVA`]; otherwise what is missing and how to get it.
/// A Java found good is remembered (checking starts a JVM); a missing one is looked
/// for again next time, so installing it needs no restart.
pub fn java() -> Result<PathBuf, String> {
    static FOUND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(java) = FOUND.get() {
        return Ok(java.clone());
    }
    let java = find_java()?;
    Ok(FOUND.get_or_init(|| java).clone())
}

fn find_java() -> Result<PathBuf, String> {
    let candidate = std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin").join("java"))
        .filter(|p| p.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join("java"))
                    .find(|p| p.is_file())
            })
        });
    let install = "install Java 17 (on Debian: apt-get install openjdk-17-jre-headless) \
                   or set JAVA_HOME";
    let Some(java) = candidate else {
        return Err(format!(
            "Spark jobs need Java {MIN_JAVA} or newer and none was found (no JAVA_HOME, no \
             java on the PATH): {install}."
        ));
    };
    let output = std::process::Command::new(&java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("Cannot run {}: {e}: {install}.", java.display()))?;
    let text = String::from_utf8_lossy(&output.stderr);
    match java_major(&text) {
        Some(major) if major >= MIN_JAVA => Ok(java),
        Some(major) => Err(format!(
            "Spark jobs need Java {MIN_JAVA} or newer; {} is Java {major}: {install}.",
            java.display()
        )),
        None => Err(format!(
            "Cannot tell the version of {} (`java -version` printed no version): {install}.",
            java.display()
        )),
    }
}

/// The major version in `java -version` output: `"17.0.15"` → 17, `"1.8.0_402"` → 8.
fn java_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_versions_choose_their_spark() {
        let spark = |v| SparkRuntime::for_glue_version(v).map(|r| r.spark);
        assert_eq!(spark(Some("5.0")), Ok("3.5.9"));
        assert_eq!(spark(Some("5.1")), Ok("3.5.9"));
        assert_eq!(spark(Some("6.0")), Ok("4.1.4"));
        assert_eq!(spark(None), Ok("3.5.9"));
        let unknown = spark(Some("7.3")).expect_err("unknown version");
        assert!(unknown.contains("GlueVersion 7.3"), "{unknown}");
    }

    #[test]
    fn java_versions_are_read_from_both_numbering_schemes() {
        assert_eq!(
            java_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"),
            Some(17)
        );
        assert_eq!(java_major("java version \"1.8.0_402\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("no version here"), None);
    }

    #[test]
    fn a_runtime_without_its_marker_is_not_prepared() {
        let root = tempfile::tempdir().expect("tempdir");
        let runtime = &RUNTIMES[0];
        let dir = root.path().join(runtime.dir_name());
        std::fs::create_dir_all(&dir).expect("dir");
        assert!(
            prepared(root.path(), runtime).is_none(),
            "an interrupted install"
        );
        std::fs::write(dir.join(READY_FILE), "pyspark==0.0 boto3").expect("marker");
        assert!(
            prepared(root.path(), runtime).is_none(),
            "another requirement set"
        );
        std::fs::write(dir.join(READY_FILE), runtime.requirements().join(" ")).expect("marker");
        assert!(prepared(root.path(), runtime).is_some());
    }
}
