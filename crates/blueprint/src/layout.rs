//! Runs a blueprint's layout generator (spec §9.4 step 2–3) in Python.
//!
//! The shipped driver `awsglue/blueprint/_driver.py` is started as
//! `python -u -m awsglue.blueprint._driver <request.json>` in its own process group, with
//! the extracted archive as working directory (so it is `sys.path[0]`), the shipped
//! `awsglue` package on `PYTHONPATH`, and the environment job scripts get (endpoint,
//! credentials, region), so boto3 inside reaches this server. The driver imports the
//! generator, calls `generate_layout(user_params, system_params)` and writes
//! `Workflow.to_json(name_suffix)` to the output file named in the request.
//!
//! A generator that raises fails the run with the last lines of its traceback (files of
//! the archive named relative to its root, the shipped library's relative to its folder,
//! so the stored message names no path of the data directory); one that outlives the
//! time limit has its whole process group killed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use weir_runner::process;

/// Largest layout output read back, in bytes.
const MAX_OUTPUT_BYTES: u64 = 16 * 1024 * 1024;
/// How many trailing lines of the generator's stderr go into the error message.
const TRACEBACK_LINES: usize = 6;
/// Longest error message taken from the generator's stderr, in characters.
const MAX_MESSAGE_CHARS: usize = 4000;

/// How to run the generator on this server.
#[derive(Debug, Clone)]
pub struct LayoutSettings {
    /// The Python interpreter.
    pub python: String,
    /// Directory of the shipped `awsglue` package.
    pub python_lib: PathBuf,
    /// Extra environment (endpoint, credentials, region).
    pub env: Vec<(String, String)>,
    /// Time after which the process group is killed.
    pub time_limit: Duration,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct LayoutRequest {
    /// `package.module.function`.
    pub generator: String,
    /// The checked user parameters.
    pub user_params: Map<String, Value>,
    /// `region` of the run.
    pub region: String,
    /// `accountId` of the run.
    pub account_id: String,
    /// Suffix appended to job and crawler names.
    pub name_suffix: String,
}

/// The output of `Workflow.to_json(name_suffix)`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Layout {
    /// CreateWorkflow members (`Name`, `Description`, `DefaultRunProperties`, `Tags`).
    #[serde(rename = "Workflow")]
    pub workflow: Map<String, Value>,
    /// CreateCrawler requests.
    #[serde(rename = "Crawlers", default)]
    pub crawlers: Vec<Map<String, Value>>,
    /// CreateJob requests.
    #[serde(rename = "Jobs", default)]
    pub jobs: Vec<Map<String, Value>>,
    /// CreateTrigger requests.
    #[serde(rename = "Triggers", default)]
    pub triggers: Vec<Map<String, Value>>,
}

/// Runs the generator in `root` (the extracted archive), keeping its files in `work`.
pub async fn generate(
    settings: &LayoutSettings,
    root: &Path,
    work: &Path,
    request: &LayoutRequest,
) -> Result<Layout, String> {
    let output = work.join("layout.json");
    let request_path = work.join("layout-request.json");
    let document = json!({
        "generator": request.generator,
        "user_params": request.user_params,
        "system_params": {"region": request.region, "accountId": request.account_id},
        "name_suffix": request.name_suffix,
        "output": output,
        // The driver also stops itself then, should this server be gone by that time.
        "time_limit_seconds": settings.time_limit.as_secs().max(1) + 5,
    });
    let io = |e: std::io::Error| format!("Could not prepare the layout generator: {e}");
    std::fs::create_dir_all(work).map_err(io)?;
    std::fs::write(&request_path, document.to_string()).map_err(io)?;
    let stderr_path = work.join("stderr");
    let mut python_path = settings.python_lib.clone().into_os_string();
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        python_path.push(":");
        python_path.push(existing);
    }
    // The same launcher as job runs: own process group, identity recorded first.
    let launch_error = |e: std::io::Error| {
        format!(
            "Could not start the layout generator ({}): {e}",
            settings.python
        )
    };
    let pending = process::spawn(work, 0, &settings.python, |command| {
        command
            .arg("-u")
            .arg("-m")
            .arg("awsglue.blueprint._driver")
            .arg(&request_path)
            .env("PYTHONPATH", python_path)
            .envs(settings.env.iter().map(|(k, v)| (k, v)))
            .current_dir(root);
    })
    .map_err(launch_error)?;
    let pgid = pending.identity().pid;
    let mut child = pending.release(work, process::GO).map_err(launch_error)?;
    let status = match tokio::time::timeout(settings.time_limit, child.wait()).await {
        Ok(status) => {
            status.map_err(|e| format!("Could not wait for the layout generator: {e}"))?
        }
        Err(_) => {
            process::signal_child_group(pgid, libc::SIGKILL);
            let _ = child.wait().await;
            return Err(format!(
                "The layout generator did not finish within {} seconds and was stopped.",
                settings.time_limit.as_secs()
            ));
        }
    };
    // Whatever the generator left running in its group goes with it.
    process::signal_child_group(pgid, libc::SIGKILL);
    if !status.success() {
        let tail = traceback_tail(&stderr_path, &[root, &settings.python_lib]);
        let how = status.code().map_or_else(
            || "was killed".to_string(),
            |c| format!("exited with status {c}"),
        );
        return Err(match tail {
            Some(tail) => format!("The layout generator failed: {tail}"),
            None => format!("The layout generator {how} without an error message."),
        });
    }
    read_layout(&output)
}

fn read_layout(path: &Path) -> Result<Layout, String> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| format!("The layout generator wrote no layout: {e}"))?;
    let mut text = String::new();
    file.take(MAX_OUTPUT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("Could not read the layout: {e}"))?;
    if text.len() as u64 > MAX_OUTPUT_BYTES {
        return Err("The layout is larger than 16 MB.".into());
    }
    serde_json::from_str(&text).map_err(|e| format!("The layout is not usable: {e}"))
}

/// The last lines of a traceback: the exception and where it was raised, with the
/// folders `roots` taken off the paths of files in them.
fn traceback_tail(path: &Path, roots: &[&Path]) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return None;
    }
    let start = lines.len().saturating_sub(TRACEBACK_LINES);
    let mut tail = lines[start..].join("\n");
    for root in roots {
        tail = tail.replace(&format!("\"{}/", root.display()), "\"");
    }
    let count = tail.chars().count();
    Some(if count > MAX_MESSAGE_CHARS {
        tail.chars().skip(count - MAX_MESSAGE_CHARS).collect()
    } else {
        tail
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceback_tail_keeps_the_last_lines() {
        let temp = tempfile::tempdir().expect("temp");
        let path = temp.path().join("stderr");
        let lines: Vec<String> = (0..20).map(|i| format!("line {i}")).collect();
        std::fs::write(&path, lines.join("\n\n")).expect("write");
        let tail = traceback_tail(&path, &[]).expect("tail");
        assert!(
            tail.starts_with("line 14") && tail.ends_with("line 19"),
            "{tail}"
        );
        std::fs::write(&path, "").expect("write");
        assert!(traceback_tail(&path, &[]).is_none());
    }

    #[test]
    fn traceback_paths_are_relative_to_their_roots() {
        let temp = tempfile::tempdir().expect("temp");
        let path = temp.path().join("stderr");
        let traceback = "Traceback (most recent call last):\n\
            \x20 File \"/data/python/awsglue/blueprint/_driver.py\", line 40, in main\n\
            \x20 File \"/data/blueprint-runs/r/archive/bp/layout.py\", line 7, in generate_layout\n\
            \x20 File \"/usr/lib/python3/json/__init__.py\", line 1, in dumps\n\
            ValueError: no /data/python/ here";
        std::fs::write(&path, traceback).expect("write");
        let roots = [
            Path::new("/data/blueprint-runs/r/archive"),
            Path::new("/data/python"),
        ];
        let tail = traceback_tail(&path, &roots).expect("tail");
        assert_eq!(
            tail,
            "Traceback (most recent call last):\n\
             \x20 File \"awsglue/blueprint/_driver.py\", line 40, in main\n\
             \x20 File \"bp/layout.py\", line 7, in generate_layout\n\
             \x20 File \"/usr/lib/python3/json/__init__.py\", line 1, in dumps\n\
             ValueError: no /data/python/ here"
        );
    }

    #[tokio::test]
    async fn a_generator_past_the_time_limit_is_killed() {
        let temp = tempfile::tempdir().expect("temp");
        let lib = temp.path().join("lib");
        let driver = lib.join("awsglue/blueprint");
        std::fs::create_dir_all(&driver).expect("mkdir");
        std::fs::write(lib.join("awsglue/__init__.py"), "").expect("write");
        std::fs::write(driver.join("__init__.py"), "").expect("write");
        std::fs::write(driver.join("_driver.py"), "import time\ntime.sleep(30)\n").expect("write");
        let settings = LayoutSettings {
            python: "python3".into(),
            python_lib: lib,
            env: Vec::new(),
            time_limit: Duration::from_millis(500),
        };
        let request = LayoutRequest {
            generator: "x.f".into(),
            user_params: Map::new(),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            name_suffix: "abc".into(),
        };
        let error = generate(&settings, temp.path(), &temp.path().join("work"), &request)
            .await
            .expect_err("killed");
        assert!(error.contains("did not finish"), "{error}");
    }
}
