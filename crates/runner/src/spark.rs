//! The `spark-submit` command line of a glueetl run: the master, Weir's Spark settings,
//! the job's `--conf` and library arguments, the mapping of `s3://` paths onto the S3
//! directory, and the script with its arguments.
//!
//! **S3 paths.** Hadoop's `ViewFileSystemOverloadScheme` serves the `s3`, `s3a` and
//! `s3n` schemes: the mount table named after a bucket (the URI's authority) links it
//! to `file://<s3 root>/<bucket>`, so `s3://bucket/key` is the file the S3 API serves
//! as that object. Every bucket existing at launch is mounted; the Glue ETL library
//! mounts buckets it meets later. An unmounted bucket falls to the scheme's target
//! file system, `HarFileSystem`, which refuses every such URI: nothing outside the S3
//! directory can be named.

use std::collections::BTreeMap;
use std::path::Path;

use crate::locations;

/// The schemes mapped onto the S3 directory.
const S3_SCHEMES: [&str; 3] = ["s3", "s3a", "s3n"];

/// Job arguments Glue reads itself rather than passing on as they are.
const SPARK_ARGUMENTS: [&str; 3] = ["--conf", "--extra-py-files", "--extra-jars"];

/// Where and how Spark runs: `local[*]` on this machine unless a cluster is named.
#[derive(Debug, Clone, Default)]
pub struct SparkSettings {
    /// `--master` of every run (`None`: `local[*]`).
    pub master: Option<String>,
    /// `--conf` settings every run gets, before the job's own.
    pub conf: Vec<(String, String)>,
    /// Keep a started driver waiting for the next run of each runtime in use
    /// (`--spark-standby`).
    pub standby: bool,
}

/// Parses a Glue `--conf` argument value: `k=v`, optionally followed by
/// ` --conf k2=v2 …` (how Glue passes several settings in one argument).
pub fn parse_conf(value: &str) -> Result<Vec<(String, String)>, String> {
    value
        .split("--conf")
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("Invalid --conf value '{part}': expected key=value."))
        })
        .collect()
}

/// The buckets of the S3 directory: its subdirectories with bucket-like names.
pub fn buckets(s3_root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(s3_root) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| {
            !name.starts_with('.')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        })
        .collect();
    names.sort();
    names
}

/// How a glueetl script is started: `python -u <script> <script arguments>` with
/// `PYSPARK_SUBMIT_ARGS` set to [`Submit::pyspark_submit_args`], so the script's
/// `SparkContext()` starts Spark with these options, and its own output stays apart
/// from Spark's log (stdout and stderr of the script, as on AWS).
#[derive(Debug, Clone, PartialEq)]
pub struct Submit {
    /// spark-submit options: master, name, settings, files.
    pub options: Vec<String>,
    /// The script's own arguments (`--KEY value` pairs).
    pub script_arguments: Vec<String>,
}

impl Submit {
    /// On a cluster, executors are other processes, maybe on other machines: their
    /// Python workers get the run's `PYTHONPATH` (Weir's library, installed modules)
    /// as a setting, which is why the cluster needs the same paths. Local executors
    /// inherit it.
    pub fn executor_python_path(&mut self, settings: &SparkSettings, python_path: &str) {
        if !settings
            .master
            .as_deref()
            .unwrap_or(LOCAL)
            .starts_with("local")
        {
            self.options.push("--conf".into());
            self.options
                .push(format!("spark.executorEnv.PYTHONPATH={python_path}"));
        }
    }

    /// The value of `PYSPARK_SUBMIT_ARGS`: the options, shell-quoted, then
    /// `pyspark-shell` (the primary resource pyspark's launcher expects).
    pub fn pyspark_submit_args(&self) -> String {
        let mut words: Vec<String> = self.options.iter().map(|o| shell_quote(o)).collect();
        words.push("pyspark-shell".into());
        words.join(" ")
    }
}

/// `word` quoted for a POSIX shell (pyspark splits the variable with `shlex`).
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@%+".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The master of runs when none is configured.
const LOCAL: &str = "local[*]";

/// Weir's Spark settings of every run (the configured ones last): no UI, WARN logs,
/// files without checksum files, and the S3 schemes mapped onto the S3 directory.
fn base_conf(settings: &SparkSettings) -> Vec<(String, String)> {
    let master = settings.master.as_deref().unwrap_or(LOCAL);
    let mut conf: Vec<(String, String)> = vec![
        ("spark.ui.enabled".into(), "false".into()),
        ("spark.log.level".into(), "WARN".into()),
        (
            "spark.hadoop.fs.file.impl".into(),
            "org.apache.hadoop.fs.RawLocalFileSystem".into(),
        ),
    ];
    if master.starts_with("local") {
        conf.push(("spark.driver.host".into(), "127.0.0.1".into()));
        conf.push(("spark.driver.bindAddress".into(), "127.0.0.1".into()));
    }
    for scheme in S3_SCHEMES {
        conf.push((
            format!("spark.hadoop.fs.{scheme}.impl"),
            "org.apache.hadoop.fs.viewfs.ViewFileSystemOverloadScheme".into(),
        ));
        conf.push((
            format!("spark.hadoop.fs.viewfs.overload.scheme.target.{scheme}.impl"),
            "org.apache.hadoop.fs.HarFileSystem".into(),
        ));
        conf.push((
            format!("spark.hadoop.fs.{scheme}.impl.disable.cache"),
            "true".into(),
        ));
        // Hadoop names S3A's own committer for s3a://, which is not there: the
        // mapped paths are files, committed as files are.
        conf.push((
            format!("spark.hadoop.mapreduce.outputcommitter.factory.scheme.{scheme}"),
            "org.apache.hadoop.mapreduce.lib.output.FileOutputCommitterFactory".into(),
        ));
    }
    conf.extend(settings.conf.iter().cloned());
    conf
}

/// The Hadoop settings mounting every bucket of the S3 directory (see the module
/// documentation); a standby sets them when it is handed its job.
pub fn mounts(s3_root: &Path) -> Vec<(String, String)> {
    let root = s3_root.display();
    buckets(s3_root)
        .into_iter()
        .map(|bucket| {
            (
                format!("fs.viewfs.mounttable.{bucket}.linkFallback"),
                format!("file://{root}/{bucket}"),
            )
        })
        .collect()
}

/// The environment of a driver in local mode: Spark binds to loopback rather than
/// resolving the host's name (which may resolve to loopback anyway, and warns).
pub fn local_env(settings: &SparkSettings) -> Vec<(String, std::ffi::OsString)> {
    if settings
        .master
        .as_deref()
        .unwrap_or(LOCAL)
        .starts_with("local")
    {
        vec![("SPARK_LOCAL_IP".to_string(), "127.0.0.1".into())]
    } else {
        Vec::new()
    }
}

/// How a standby driver starts: Weir's settings only (no job, no mounts yet).
pub fn standby_submit(settings: &SparkSettings) -> Submit {
    let mut options = vec![
        "--master".to_string(),
        settings.master.as_deref().unwrap_or(LOCAL).to_string(),
        "--name".to_string(),
        "weir-standby".to_string(),
    ];
    for (key, value) in base_conf(settings) {
        options.push("--conf".into());
        options.push(format!("{key}={value}"));
    }
    Submit {
        options,
        script_arguments: Vec::new(),
    }
}

/// Whether a run with these job arguments can run on a standby driver: not when it
/// sets Spark settings, jars or modules to install, which only a new driver (and its
/// Python workers) can take.
pub fn standby_can_run(arguments: &BTreeMap<String, String>) -> bool {
    ["--conf", "--extra-jars", "--additional-python-modules"]
        .iter()
        .all(|key| !arguments.contains_key(*key))
}

/// How to start a glueetl script with the job `arguments` (`--KEY` → value, Weir's
/// own included).
pub fn submit(
    settings: &SparkSettings,
    s3_root: &Path,
    job_name: &str,
    arguments: &BTreeMap<String, String>,
) -> Result<Submit, String> {
    let mut conf = base_conf(settings);
    conf.extend(
        mounts(s3_root)
            .into_iter()
            .map(|(key, value)| (format!("spark.hadoop.{key}"), value)),
    );
    if let Some(value) = arguments.get("--conf") {
        conf.extend(parse_conf(value)?);
    }
    let master = settings.master.as_deref().unwrap_or(LOCAL);
    let mut args = vec![
        "--master".to_string(),
        master.to_string(),
        "--name".to_string(),
        job_name.to_string(),
    ];
    for (key, value) in conf {
        args.push("--conf".into());
        args.push(format!("{key}={value}"));
    }
    let py_files = match arguments.get("--extra-py-files") {
        Some(files) => local_list(files, s3_root)?,
        None => Vec::new(),
    };
    if !py_files.is_empty() {
        args.push("--py-files".into());
        args.push(py_files.join(","));
    }
    if let Some(jars) = arguments.get("--extra-jars") {
        args.push("--jars".into());
        args.push(local_list(jars, s3_root)?.join(","));
    }
    let script_arguments = arguments
        .iter()
        .filter(|(key, _)| !SPARK_ARGUMENTS.contains(&key.as_str()))
        .flat_map(|(key, value)| [key.clone(), value.clone()])
        .collect();
    Ok(Submit {
        options: args,
        script_arguments,
    })
}

/// A comma-separated list of locations (`s3://…`, paths) as local paths.
fn local_list(list: &str, s3_root: &Path) -> Result<Vec<String>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|location| {
            let path = locations::resolve(location, s3_root)?;
            if path.exists() {
                Ok(path.display().to_string())
            } else {
                Err(format!(
                    "{location} not found (resolved to {}).",
                    path.display()
                ))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glue_conf_arguments_split_into_settings() {
        assert_eq!(
            parse_conf("spark.sql.shuffle.partitions=4 --conf spark.x.y=a=b").expect("conf"),
            vec![
                ("spark.sql.shuffle.partitions".to_string(), "4".to_string()),
                ("spark.x.y".to_string(), "a=b".to_string()),
            ]
        );
        assert!(parse_conf("novalue").is_err());
    }

    #[test]
    fn the_command_line_mounts_buckets_and_passes_job_arguments() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("lake")).expect("bucket");
        std::fs::create_dir_all(root.path().join(".weir")).expect("internal");
        let arguments = BTreeMap::from([
            ("--JOB_NAME".to_string(), "etl".to_string()),
            (
                "--conf".to_string(),
                "spark.sql.shuffle.partitions=3".to_string(),
            ),
            ("--day".to_string(), "2026-12-07".to_string()),
        ]);
        let submit =
            submit(&SparkSettings::default(), root.path(), "etl", &arguments).expect("submit");
        let args = &submit.options;
        let joined = args.join(" ");
        assert!(
            joined.starts_with("--master local[*] --name etl "),
            "{joined}"
        );
        let mount = format!(
            "spark.hadoop.fs.viewfs.mounttable.lake.linkFallback=file://{}/lake",
            root.path().display()
        );
        assert!(args.contains(&mount), "{joined}");
        assert!(!joined.contains("mounttable..weir"), "{joined}");
        assert!(args.contains(&"spark.sql.shuffle.partitions=3".to_string()));
        assert_eq!(
            submit.script_arguments.join(" "),
            "--JOB_NAME etl --day 2026-12-07",
            "--conf is Spark's, the rest the script's"
        );
        let variable = submit.pyspark_submit_args();
        assert!(
            variable.starts_with("--master 'local[*]' --name etl "),
            "{variable}"
        );
        assert!(variable.ends_with(" pyspark-shell"), "{variable}");
    }
}
